"""From bytes to compiled code, once per process and per engine configuration.

- ``settings.py``: ``EngineSettings`` (what changes generated code) and the
  process-wide wasmtime engine of each.
- ``cache.py``: ``CompileCache``, compiled code in memory and on disk,
  every entry checked before wasmtime deserializes it.
- ``source.py``: reading a path or bytes, checking them (header, size,
  structure, interface), compiling through the cache.
"""

from __future__ import annotations

from .settings import EngineSettings, all_engines, epoch_engines, get_engine, reservation_for

__all__ = ["EngineSettings", "all_engines", "epoch_engines", "get_engine", "reservation_for"]
