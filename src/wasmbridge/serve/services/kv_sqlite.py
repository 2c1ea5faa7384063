"""SQLite key-value stores: one file per app configuration, WAL mode.

Every store of every app may share one file: rows are keyed by (app,
store, key), so stores stay apart. Each thread gets its own connection;
several server processes may use the same file. Reads and plain writes are
single statements; ``increment`` and ``compare_and_swap`` read and write in
one ``BEGIN IMMEDIATE`` transaction, which takes the file's write lock
first, so concurrent updates from any process never interleave. A busy
file is waited for (``BUSY_TIMEOUT``), not failed.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from .kv import StoreError, checked_sum, parse_integer

__all__ = ["BUSY_TIMEOUT", "SqliteStore"]

BUSY_TIMEOUT = 30.0  # seconds a statement waits for another writer's lock
_T = TypeVar("_T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    app TEXT NOT NULL,
    store TEXT NOT NULL,
    key BLOB NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (app, store, key)
) WITHOUT ROWID
"""
_UPSERT = (
    "INSERT INTO kv (app, store, key, value) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (app, store, key) DO UPDATE SET value = excluded.value"
)
_SELECT = "SELECT value FROM kv WHERE app = ? AND store = ? AND key = ?"
_DELETE = "DELETE FROM kv WHERE app = ? AND store = ? AND key = ?"
# Keys are UTF-8 BLOBs: byte order is code point order, a prefix is a byte
# prefix, and the keys starting with it form one range of the primary key.
_KEYS = "SELECT key FROM kv WHERE app = ? AND store = ? AND key >= ? ORDER BY key"
_KEYS_BELOW = "SELECT key FROM kv WHERE app = ? AND store = ? AND key >= ? AND key < ? ORDER BY key"


class SqliteStore:
    """Store ``store`` of app ``app`` in the SQLite file ``path`` (made on first use)."""

    def __init__(self, path: Path, *, app: str, store: str) -> None:
        self.path = path
        self.app = app
        self.store = store
        self.where = f"key-value store {store!r} of app {app!r} (SQLite {path})"
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def get(self, key: str) -> bytes | None:
        row = self._run(lambda db: db.execute(_SELECT, self._key(key)).fetchone())
        return None if row is None else bytes(row[0])

    def set(self, key: str, value: bytes) -> None:
        self._run(lambda db: db.execute(_UPSERT, (*self._key(key), bytes(value))))

    def delete(self, key: str) -> bool:
        return bool(self._run(lambda db: db.execute(_DELETE, self._key(key)).rowcount))

    def exists(self, key: str) -> bool:
        return self.get(key) is not None

    def keys(self, prefix: str = "") -> list[str]:
        low = prefix.encode()
        # The first byte string after every one that starts with ``low``: UTF-8 has
        # no 0xff byte, so bumping the last byte is enough.
        query, args = (
            (_KEYS_BELOW, (self.app, self.store, low, low[:-1] + bytes((low[-1] + 1,))))
            if low
            else (_KEYS, (self.app, self.store, low))
        )
        rows = self._run(lambda db: db.execute(query, args).fetchall())
        return [bytes(row[0]).decode() for row in rows]

    def increment(self, key: str, delta: int) -> int:
        def update(db: sqlite3.Connection) -> int:
            row = db.execute(_SELECT, self._key(key)).fetchone()
            current = 0 if row is None else parse_integer(bytes(row[0]), key=key, where=self.where)
            total = checked_sum(current, delta, key=key, where=self.where)
            db.execute(_UPSERT, (*self._key(key), str(total).encode()))
            return total

        return self._transaction(update)

    def compare_and_swap(self, key: str, expected: bytes | None, new: bytes) -> bool:
        def swap(db: sqlite3.Connection) -> bool:
            row = db.execute(_SELECT, self._key(key)).fetchone()
            current = None if row is None else bytes(row[0])
            if current != (None if expected is None else bytes(expected)):
                return False
            db.execute(_UPSERT, (*self._key(key), bytes(new)))
            return True

        return self._transaction(swap)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            connections, self._all = self._all, []
        for db in connections:
            db.close()

    # -- connections ----------------------------------------------------------------

    def _key(self, key: str) -> tuple[str, str, bytes]:
        return (self.app, self.store, key.encode())

    def _run(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        try:
            return work(self._connection())
        except (sqlite3.Error, OSError) as exc:
            raise self._failure(exc) from exc

    def _transaction(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        def locked(db: sqlite3.Connection) -> _T:
            db.execute("BEGIN IMMEDIATE")
            try:
                result = work(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return result

        return self._run(locked)

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is not None:
            return db
        with self._lock:
            if self._closed:
                raise StoreError(f"{self.where} is closed", hint="the server is shutting down")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit (isolation_level=None): single statements commit at once, and
        # the read-modify-write methods open their own BEGIN IMMEDIATE.
        db = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
        )
        try:
            _use_wal(db)
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(_SCHEMA)
        except BaseException:
            db.close()
            raise
        with self._lock:
            self._all.append(db)
        self._local.db = db
        return db

    def _failure(self, exc: sqlite3.Error | OSError) -> StoreError:
        return StoreError(
            f"{self.where} failed: {exc}",
            hint="check that the file's folder is writable and the disk is not full; "
            "set path = ... in [kv." + self.store + "] to move it",
        )


def _use_wal(db: sqlite3.Connection) -> None:
    """Put the file in WAL mode (it stays so). Switching needs the file to itself and
    does not wait for it as statements do, so connections opened at once on a new
    file retry for up to BUSY_TIMEOUT; once a file is in WAL mode there is no switch."""
    deadline = time.monotonic() + BUSY_TIMEOUT
    while True:
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)
