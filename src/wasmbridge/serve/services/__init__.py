"""Host services of ``wasmbridge serve``: key-value stores, outbound HTTP, logging.

A handler reaches them through ``serve_*`` host imports (docs/serve-abi.md);
``HostServices`` builds the import table for one request.
"""

from __future__ import annotations

from .host import HostServices
from .kv import KeyValueStore, StoreError, StoreSet, open_store
from .outbound import OutboundError, OutboundPolicy, OutboundReply, parse_allowed

__all__ = [
    "HostServices",
    "KeyValueStore",
    "OutboundError",
    "OutboundPolicy",
    "OutboundReply",
    "StoreError",
    "StoreSet",
    "open_store",
    "parse_allowed",
]
