"""Redis key-value stores: keys under ``wasmbridge:{app}:{store}:``.

One client (and its thread-safe connection pool) per store. ``increment``
is INCRBY, ``compare_and_swap`` a Lua script, ``keys`` a SCAN with the
namespace's glob characters escaped (never KEYS, which blocks the server).
Any number of server processes and machines may share a store.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
import redis.exceptions

from .kv import StoreError, checked_sum, parse_integer

__all__ = ["RedisStore", "namespace"]

_T = TypeVar("_T")
_GLOB = re.compile(rb"([*?\[\]\\])")
_SCAN_COUNT = 1000

# KEYS[1] the key; ARGV[1] "1" if a value is expected, ARGV[2] that value, ARGV[3] the new.
_CAS = """
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current == false or current ~= ARGV[2] then return 0 end
elseif current ~= false then
  return 0
end
redis.call('SET', KEYS[1], ARGV[3])
return 1
"""


def namespace(app: str, store: str) -> bytes:
    """The prefix of every Redis key of ``store`` in ``app``."""
    return f"wasmbridge:{app}:{store}:".encode()


def redacted(url: str) -> str:
    """``url`` without its password (``user:pass@`` or ``?password=``), for messages."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "(a URL that cannot be read)"
    if parts.password is not None:
        host = parts.hostname or ""
        netloc = f"{parts.username or ''}:***@{host}" + (f":{port}" if port else "")
        parts = parts._replace(netloc=netloc)
    if parts.query:
        query = [
            (key, "***" if key.lower() == "password" else value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
        ]
        parts = parts._replace(query=urlencode(query, safe="*"))
    return urlunsplit(parts)


class RedisStore:
    """Store ``store`` of app ``app`` in the Redis database at ``url``."""

    def __init__(self, url: str, *, app: str, store: str) -> None:
        self.url = url
        self.app = app
        self.store = store
        self.where = f"key-value store {store!r} of app {app!r} (Redis {redacted(url)})"
        self._prefix = namespace(app, store)
        try:
            self._client = redis.Redis.from_url(
                url, socket_timeout=10.0, socket_connect_timeout=5.0, health_check_interval=30
            )
        except ValueError as exc:
            raise StoreError(
                f"{self.where}: bad url: {exc}",
                hint=f'write url = "redis://HOST:PORT/DB" in [kv.{store}]',
            ) from None
        self._cas = self._client.register_script(_CAS)

    def get(self, key: str) -> bytes | None:
        value = self._run(lambda: self._client.get(self._key(key)))
        return None if value is None else _raw(value)

    def set(self, key: str, value: bytes) -> None:
        self._run(lambda: self._client.set(self._key(key), bytes(value)))

    def delete(self, key: str) -> bool:
        return bool(self._run(lambda: self._client.delete(self._key(key))))

    def exists(self, key: str) -> bool:
        return bool(self._run(lambda: self._client.exists(self._key(key))))

    def keys(self, prefix: str = "") -> list[str]:
        pattern = _GLOB.sub(rb"\\\1", self._prefix + prefix.encode()) + b"*"
        start = len(self._prefix)

        def scan() -> list[str]:
            found = self._client.scan_iter(match=pattern, count=_SCAN_COUNT)
            return sorted({_raw(key)[start:].decode() for key in found})

        return self._run(scan)

    def increment(self, key: str, delta: int) -> int:
        def incrby() -> int:
            try:
                return int(self._client.incrby(self._key(key), delta))
            except redis.exceptions.ResponseError as exc:
                # Say which: not an integer, or out of range (Redis words both alike).
                current = self._client.get(self._key(key))
                value = parse_integer(
                    b"0" if current is None else _raw(current), key=key, where=self.where
                )
                checked_sum(value, delta, key=key, where=self.where)
                raise StoreError(
                    f"increment of key {key!r} in {self.where} failed: {exc}",
                    hint="increment only keys that hold integers (or none)",
                ) from exc

        return self._run(incrby)

    def compare_and_swap(self, key: str, expected: bytes | None, new: bytes) -> bool:
        has = b"1" if expected is not None else b"0"
        args = [has, bytes(expected or b""), bytes(new)]
        return bool(self._run(lambda: self._cas(keys=[self._key(key)], args=args)))

    def close(self) -> None:
        self._client.close()

    def _key(self, key: str) -> bytes:
        return self._prefix + key.encode()

    def _run(self, work: Callable[[], _T]) -> _T:
        try:
            return work()
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            raise StoreError(
                f"{self.where} is unreachable: {exc}",
                hint="start the Redis server, or fix url in the manifest's [kv."
                f"{self.store}] table",
            ) from exc
        except redis.exceptions.RedisError as exc:
            raise StoreError(
                f"{self.where} failed: {exc}", hint="see the Redis server's log"
            ) from exc


def _raw(value: bytes | str) -> bytes:
    """Replies are bytes (the client does not decode them); typed as either."""
    return value if isinstance(value, bytes) else value.encode()
