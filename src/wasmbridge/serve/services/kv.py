"""Key-value stores: the ``KeyValueStore`` protocol, opening stores, ``StoreSet``.

Keys are text, values bytes. ``increment`` keeps an integer as its decimal
ASCII text (``get`` then reads ``b"42"``); ``increment`` and
``compare_and_swap`` are atomic across threads, processes and (with Redis)
machines. Each store belongs to one app and has one name; two apps or two
stores never see each other's keys, even in one SQLite file or Redis
database.

    >>> stores = StoreSet(app)                       # once per process
    >>> stores.for_route(route, "default").increment("hits", 1)
    1
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Protocol

from ...errors import StoreError
from ..config import AppConfig, KvStoreConfig, Route

__all__ = [
    "INTEGER",
    "KeyValueStore",
    "StoreError",
    "StoreSet",
    "default_sqlite_path",
    "open_store",
    "parse_integer",
]

# The integers ``increment`` accepts: Redis's own rule (no sign but "-", no
# leading zeros, no spaces) so both backends agree; 64-bit signed.
INTEGER = re.compile(rb"0|-?[1-9][0-9]{0,18}")
I64_MIN, I64_MAX = -(2**63), 2**63 - 1


class KeyValueStore(Protocol):
    """One app's store of one name; every method is safe to call from any thread."""

    def get(self, key: str) -> bytes | None:
        """The value of ``key``, or None."""
        ...

    def set(self, key: str, value: bytes) -> None:
        """Set ``key`` to ``value``."""
        ...

    def delete(self, key: str) -> bool:
        """Delete ``key``; True if it existed."""
        ...

    def exists(self, key: str) -> bool:
        """True if ``key`` has a value."""
        ...

    def keys(self, prefix: str = "") -> list[str]:
        """Every key that starts with ``prefix``, sorted by code point."""
        ...

    def increment(self, key: str, delta: int) -> int:
        """Add ``delta`` to the integer at ``key`` (0 if absent), atomically; the new value."""
        ...

    def compare_and_swap(self, key: str, expected: bytes | None, new: bytes) -> bool:
        """Set ``key`` to ``new`` if its value is ``expected`` (None: absent), atomically."""
        ...

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""
        ...


def parse_integer(value: bytes, *, key: str, where: str) -> int:
    """The integer a stored value holds, or StoreError naming the key and store."""
    if INTEGER.fullmatch(value) is None or not I64_MIN <= int(value) <= I64_MAX:
        raise StoreError(
            f"increment of key {key!r} in {where}: the stored value {value[:40]!r} is not "
            "a 64-bit decimal integer",
            hint="increment only keys that hold integers (or none); set() such keys to "
            'decimal text like b"42"',
        )
    return int(value)


def checked_sum(current: int, delta: int, *, key: str, where: str) -> int:
    """``current + delta``, or StoreError if it leaves the 64-bit range."""
    total = current + delta
    if not I64_MIN <= total <= I64_MAX:
        raise StoreError(
            f"increment of key {key!r} in {where} by {delta} overflows a 64-bit integer",
            hint="keep counters within -2**63 .. 2**63-1",
        )
    return total


def default_sqlite_path(app: AppConfig) -> Path:
    """``<manifest folder>/.wasmbridge/kv.sqlite``: where SQLite stores live by default."""
    return app.manifest.parent / ".wasmbridge" / "kv.sqlite"


def open_store(app: AppConfig, config: KvStoreConfig) -> KeyValueStore:
    """Open ``config`` for ``app`` (connections are made lazily, per thread for SQLite)."""
    if config.backend == "redis":
        from .kv_redis import RedisStore  # the redis package only when it is used

        if not config.url:
            raise StoreError(
                f"key-value store {config.name!r} of app {app.name!r} uses Redis but has no url",
                hint=f'set url = "redis://127.0.0.1:6379/0" in [kv.{config.name}]',
            )
        return RedisStore(config.url, app=app.name, store=config.name)
    from .kv_sqlite import SqliteStore

    return SqliteStore(config.path or default_sqlite_path(app), app=app.name, store=config.name)


class StoreSet:
    """The stores of one app in one process: each opened once, on first use.

    ``for_route`` hands a route only the stores its ``key_value_stores``
    lists; thread-safe.
    """

    def __init__(self, app: AppConfig) -> None:
        self.app = app
        self._configs = {store.name: store for store in app.kv}
        self._open: dict[str, KeyValueStore] = {}
        self._lock = threading.Lock()
        self._closed = False

    def config(self, name: str) -> KvStoreConfig:
        """The configuration of store ``name`` (an undeclared store is SQLite by default)."""
        return self._configs.get(name) or KvStoreConfig(name)

    def open(self, name: str) -> KeyValueStore:
        """Store ``name``, opened on first use."""
        store = self._open.get(name)
        if store is not None:
            return store
        with self._lock:
            if self._closed:
                raise StoreError(
                    f"the key-value stores of app {self.app.name!r} are closed",
                    hint="this server is shutting down; retry the request",
                )
            store = self._open.get(name)
            if store is None:
                store = self._open[name] = open_store(self.app, self.config(name))
            return store

    def for_route(self, route: Route, name: str) -> KeyValueStore | None:
        """Store ``name`` if ``route`` may use it, else None."""
        return self.open(name) if name in route.key_value_stores else None

    def close(self) -> None:
        """Close every opened store."""
        with self._lock:
            self._closed = True
            stores, self._open = list(self._open.values()), {}
        for store in stores:
            store.close()
