"""``HostServices``: one request's ``serve_*`` host imports (docs/serve-abi.md).

Built for every request, so it is a plain object whose bound methods are the
import table; stores are opened once per process by the ``StoreSet`` and
only handed out (as small integer handles) for the stores the route lists.

    >>> services = HostServices(app, route, "3f9c", stores)   # stores: the app's StoreSet
    >>> instance = module.instantiate(imports=services.imports(module.imports))

A KV backend failure raises (``StoreError``): the guest traps and the
request fails with the error chained. Outbound HTTP failures and refusals
are values the guest sees (``http::send`` returns ``Err``).
"""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Callable, Iterable
from typing import Any

from ...errors import ProtocolError
from ..config import AppConfig, Route
from .kv import KeyValueStore, StoreSet
from .log import LOGGER, guest_log
from .outbound import (
    MAX_REPLY_BYTES,
    OutboundError,
    OutboundFailure,
    OutboundPolicy,
    OutboundReply,
)

__all__ = ["IMPORT_NAMES", "NAMESPACE", "HostServices", "decode_list", "encode_list"]

NAMESPACE = "env"  # the SDK's #[wasmbridge::import] default module
_U32 = struct.Struct("<I")
# Left for the guest to handle an outbound timeout before its own deadline.
OUTBOUND_MARGIN_S = 0.05
_REPLY_HEAD = struct.Struct("<BHI")  # tag 0, status, header count

# Import name -> the HostServices method that serves it.
_METHODS = {
    "serve_kv_open": "kv_open",
    "serve_kv_get": "kv_get",
    "serve_kv_set": "kv_set",
    "serve_kv_delete": "kv_delete",
    "serve_kv_exists": "kv_exists",
    "serve_kv_keys": "kv_keys",
    "serve_kv_increment": "kv_increment",
    "serve_kv_cas": "kv_cas",
    "serve_http_send": "http_send",
    "serve_log": "log",
}
IMPORT_NAMES = frozenset(_METHODS)


def encode_list(items: Iterable[str]) -> bytes:
    """Items as u32-LE byte lengths, each followed by its UTF-8 bytes."""
    out = bytearray()
    for item in items:
        data = item.encode("utf-8", "surrogatepass")
        out += _U32.pack(len(data))
        out += data
    return bytes(out)


def decode_list(data: bytes, what: str) -> list[str]:
    """The items of ``encode_list``; ProtocolError if ``data`` is malformed."""
    items: list[str] = []
    at = 0
    while at < len(data):
        if at + 4 > len(data):
            raise ProtocolError(f"{what}: a string list ends inside a length")
        (length,) = _U32.unpack_from(data, at)
        at += 4
        if at + length > len(data):
            raise ProtocolError(f"{what}: a string list item runs past its end")
        try:
            items.append(data[at : at + length].decode())
        except UnicodeDecodeError:
            raise ProtocolError(f"{what}: a string list item is not UTF-8") from None
        at += length
    return items


def encode_reply(reply: OutboundReply) -> bytes:
    """The guest's view of a reply: tag 0, status, header count, headers, body."""
    flat = [part for header in reply.headers for part in header]
    return _REPLY_HEAD.pack(0, reply.status, len(reply.headers)) + encode_list(flat) + reply.body


def encode_error(error: OutboundError) -> bytes:
    """The guest's view of a failure: tag 1, kind, UTF-8 message."""
    return bytes((1, int(error.kind))) + error.message.encode()


class HostServices:
    """The ``serve_*`` imports for one request of ``route`` in ``app``."""

    __slots__ = ("app", "route", "request_id", "deadline", "stores", "outbound", "logger",
                 "timeout", "max_reply", "_handles", "_by_name")  # fmt: skip

    def __init__(
        self,
        app: AppConfig,
        route: Route,
        request_id: str,
        stores: StoreSet,
        outbound: OutboundPolicy | None = None,
        logger: logging.Logger = LOGGER,
        *,
        max_reply: int = MAX_REPLY_BYTES,
    ) -> None:
        self.app = app
        self.route = route
        self.request_id = request_id
        self.stores = stores
        # None: the route's own allowed_outbound_hosts, parsed once per process.
        self.outbound = (
            outbound
            if outbound is not None
            else OutboundPolicy.for_entries(route.allowed_outbound_hosts)
        )
        self.logger = logger
        self.timeout = route.limits.timeout_ms / 1000
        # time.monotonic() the request must end by (set when the instance serves one):
        # an outbound call gets only the time left, never the route's whole timeout again.
        self.deadline: float | None = None
        self.max_reply = max_reply
        self._handles: list[KeyValueStore] = []
        self._by_name: dict[str, int] = {}

    def imports(self, wanted: Iterable[str]) -> dict[str, Callable[..., Any]]:
        """The callables for the ``serve_*`` names among ``wanted``, keyed as given.

        ``wanted`` holds import names, plain (``serve_log``) or namespaced
        (``env.serve_log``, as ``Module.imports`` lists them); other names are
        left out, for the caller to supply or refuse.
        """
        table: dict[str, Callable[..., Any]] = {}
        for key in wanted:
            namespace, _, name = key.rpartition(".")
            method = _METHODS.get(name)
            if method is not None and namespace in ("", NAMESPACE):
                table[key] = getattr(self, method)
        return table

    # -- key-value ----------------------------------------------------------------------

    def kv_open(self, name: str) -> int:
        """A handle for store ``name``, or -1 when the route does not list it."""
        handle = self._by_name.get(name)
        if handle is not None:
            return handle
        store = self.stores.for_route(self.route, name)
        if store is None:
            return -1
        self._handles.append(store)
        handle = self._by_name[name] = len(self._handles) - 1
        return handle

    def kv_get(self, handle: int, key: str) -> bytes | None:
        return self._store(handle).get(key)

    def kv_set(self, handle: int, key: str, value: bytes) -> None:
        self._store(handle).set(key, value)

    def kv_delete(self, handle: int, key: str) -> bool:
        return self._store(handle).delete(key)

    def kv_exists(self, handle: int, key: str) -> bool:
        return self._store(handle).exists(key)

    def kv_keys(self, handle: int, prefix: str) -> bytes:
        return encode_list(self._store(handle).keys(prefix))

    def kv_increment(self, handle: int, key: str, delta: int) -> int:
        return self._store(handle).increment(key, delta)

    def kv_cas(self, handle: int, key: str, expected: bytes | None, new: bytes) -> bool:
        return self._store(handle).compare_and_swap(key, expected, new)

    def _store(self, handle: int) -> KeyValueStore:
        if not 0 <= handle < len(self._handles):
            raise ProtocolError(
                f"route {self.route.path} (request {self.request_id}) used key-value store "
                f"handle {handle}, which serve_kv_open did not return",
                hint="open stores with wasmbridge::serve::kv::Store::open",
            )
        return self._handles[handle]

    # -- outbound HTTP and log --------------------------------------------------------

    def http_send(self, method: str, url: str, headers: bytes, body: bytes) -> bytes:
        """Send one request; the encoded reply, or the encoded refusal or failure."""
        names_values = decode_list(headers, "serve_http_send headers")
        if len(names_values) % 2:
            raise ProtocolError("serve_http_send headers: an odd number of strings")
        pairs = list(zip(names_values[::2], names_values[1::2], strict=True))
        timeout = self.timeout
        if self.deadline is not None:
            timeout = min(timeout, self.deadline - time.monotonic() - OUTBOUND_MARGIN_S)
        if timeout <= 0:
            late = OutboundError(
                OutboundFailure.TIMEOUT,
                f"outbound {method} {url[:200]}: no time left in the request's timeout_ms",
            )
            return encode_error(late)
        try:
            reply = self.outbound.send(
                method, url, pairs, body, timeout=timeout, max_bytes=self.max_reply
            )
        except OutboundError as exc:
            self.logger.info(
                "route %s (request %s): outbound %s %s refused or failed: %s",
                self.route.path, self.request_id, method, url[:200], exc,
            )  # fmt: skip
            return encode_error(exc)
        return encode_reply(reply)

    def log(self, level: int, message: str) -> None:
        guest_log(self.logger, self.route.path, self.request_id, level, message)
