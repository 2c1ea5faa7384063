"""The compile cache: compiled modules in memory and on disk.

A second ``load`` of the same bytes in one process reuses the compiled
module from memory; in another process it deserializes the engine's
artifact from disk instead of compiling. Entries are content-addressed by
the wasm bytes' SHA-256 and the engine fingerprint (wasmtime version and
settings), written atomically (safe under concurrent processes) and
bounded in size (least recently used first out).

wasmtime's deserialize runs machine code from the file, so nothing on disk
is trusted:

- Each entry carries an HMAC under a per-cache secret key, computed over
  the entry's key (module hash + engine fingerprint) and the artifact: a
  valid entry of another module, engine or wasmtime copied under this
  module's name fails its MAC and is rebuilt.
- The cache directory must belong to this user and not be writable by
  others; the key file must be a regular file of this user readable by
  nobody else. A directory that fails is not used (one ``CacheWarning``,
  the process runs uncached); a key file that fails is replaced by a
  fresh private one (one ``CacheWarning``; its entries are then rebuilt).
- Entries and the key are opened with ``O_NOFOLLOW | O_NONBLOCK`` and
  checked with ``fstat`` before reading: symlinks, FIFOs, devices and
  sockets are refused without blocking.
- A full or read-only disk, or a directory that cannot be created, turns
  the disk cache off with one ``CacheWarning`` per directory and process;
  loading never fails because of the cache.

Hardening, each tested under tests/integration/sandbox/test_cache*.py:
truncated, garbage, foreign-key and swapped entries are rejected and
rebuilt; a damaged key file is replaced (every old entry then fails its
MAC and is rebuilt); entries larger than the whole cache are not even read;
writers that died mid-write leave ``.tmp-*`` files that eviction removes
after an hour; processes racing to write one entry each rename a complete
file, so readers see the old entry, the new one, or none.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import os
import secrets
import stat
import sys
import tempfile
import threading
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import wasmtime

from ...errors import CacheWarning
from .settings import EngineSettings, get_engine

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
MAX_BYTES_ENV = "WASMBRIDGE_CACHE_MAX_MB"
MEMORY_ENTRIES = 128
STALE_TMP_S = 3600.0
KEY_FILE = "secret.key"
# Bumped when the entry format or what the MAC covers changes: old entries fail their MAC.
ENTRY_MAGIC = b"wbcache\x02"
_MAC_SIZE = 32
_KEY_SIZE = 32
_HEADER_SIZE = len(ENTRY_MAGIC) + _MAC_SIZE
# open() flags for every file read from the cache: never follow a planted symlink,
# never block on a planted FIFO (fstat then refuses anything but a regular file).
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
# Errors that mean "this disk will not take our files": stop writing, warn once.
_UNWRITABLE = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR}
)


def default_max_bytes() -> int:
    """``$WASMBRIDGE_CACHE_MAX_MB`` (MiB) when set to a positive number, else 512 MiB."""
    try:
        mib = float(os.environ.get(MAX_BYTES_ENV, ""))
    except ValueError:
        return DEFAULT_MAX_BYTES
    return int(mib * 1024 * 1024) if mib > 0 else DEFAULT_MAX_BYTES


def default_directory() -> Path:
    """``$WASMBRIDGE_CACHE_DIR``, else ``$XDG_CACHE_HOME/wasmbridge``, else ~/.cache/wasmbridge."""
    explicit = os.environ.get("WASMBRIDGE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "wasmbridge"


@dataclass
class CacheStats:
    memory_hits: int = 0
    disk_hits: int = 0
    compiles: int = 0
    rejected: int = 0  # entries refused (MAC, size, not a regular file), rebuilt


class CompileCache:
    """Compiled modules keyed by content hash and engine fingerprint."""

    def __init__(
        self,
        directory: Path | str | None = None,
        *,
        max_bytes: int | None = None,
        disk: bool = True,
    ) -> None:
        self.directory = Path(directory) if directory is not None else default_directory()
        self.max_bytes = max_bytes if max_bytes is not None else default_max_bytes()
        self.disk = disk
        self.stats = CacheStats()
        self._memory: OrderedDict[str, wasmtime.Module] = OrderedDict()
        self._lock = threading.Lock()
        self._key: bytes | None = None
        self._opened = False  # the directory and key were checked (self._key None: unusable)
        self._writable = True  # cleared on a full or read-only disk

    def module(self, wasm: bytes, settings: EngineSettings) -> wasmtime.Module:
        """The compiled module for ``wasm``, from memory, disk, or a fresh compile."""
        key = self.key(wasm, settings)
        with self._lock:
            cached = self._memory.get(key)
            if cached is not None:
                self._memory.move_to_end(key)
                self.stats.memory_hits += 1
                return cached
        engine = get_engine(settings)
        secret = self._secret() if self.disk else None
        compiled = self._from_disk(engine, key, secret) if secret is not None else None
        if compiled is None:
            compiled = wasmtime.Module(engine, wasm)
            self.stats.compiles += 1
            if secret is not None:
                self._store(key, compiled, secret)
        with self._lock:
            self._memory[key] = compiled
            while len(self._memory) > MEMORY_ENTRIES:
                self._memory.popitem(last=False)
        return compiled

    @staticmethod
    def key(wasm: bytes, settings: EngineSettings) -> str:
        digest = hashlib.sha256(wasm).hexdigest()
        return hashlib.sha256(f"{settings.fingerprint()};{digest}".encode()).hexdigest()

    def path(self, key: str) -> Path:
        return self.directory / "modules" / key[:2] / f"{key}.cwasm"

    # -- entries --------------------------------------------------------------

    def _from_disk(
        self, engine: wasmtime.Engine, key: str, secret: bytes
    ) -> wasmtime.Module | None:
        path = self.path(key)
        try:
            blob = _read_entry(path, self.max_bytes)
        except _Refused:
            self._reject(path)
            return None
        if blob is None:
            return None
        artifact = _verified(blob, secret, key)
        if artifact is None:
            self._reject(path)
            return None
        try:
            module = wasmtime.Module.deserialize(engine, artifact)
        except wasmtime.WasmtimeError:
            self._reject(path)
            return None
        self.stats.disk_hits += 1
        _touch(path)
        return module

    def _reject(self, path: Path) -> None:
        self.stats.rejected += 1
        _unlink(path)

    def _store(self, key: str, module: wasmtime.Module, secret: bytes) -> None:
        if not self._writable:
            return
        artifact = bytes(module.serialize())
        try:
            _atomic_write(self.path(key), _sealed(secret, key, artifact))
        except OSError as exc:
            if exc.errno in _UNWRITABLE:
                self._writable = False
                self._warn_unwritable(exc)
            return  # anything else (a directory planted at the entry's path): skip this one
        self._evict()

    # -- the directory and its key ----------------------------------------------

    def _secret(self) -> bytes | None:
        """The MAC key, or None when the disk cache cannot be used safely."""
        if self._opened:
            return self._key
        with self._lock:
            if not self._opened:
                self._key = self._open()
                self._opened = True
        return self._key

    def _open(self) -> bytes | None:
        try:
            info = _directory(self.directory)
        except OSError as exc:
            self._warn_unwritable(exc)
            return None
        problem = _unsafe(info, "directory", private=False)
        if problem is not None:
            _warn_once(
                self.directory,
                "directory",
                f"the compile cache {self.directory} {problem}: not used, modules are "
                "compiled in memory (fix: make it a directory only you can write, "
                f"`chmod 700 {self.directory}`, or set WASMBRIDGE_CACHE_DIR to one)",
            )
            return None
        modules = self.directory / "modules"
        try:
            inner = os.lstat(modules)  # not followed: a symlink here could redirect writes
        except FileNotFoundError:
            inner = None
        except OSError as exc:
            self._warn_unwritable(exc)
            return None
        problem = _unsafe(inner, "directory", private=False) if inner is not None else None
        if problem is not None:
            _warn_once(
                modules,
                "directory",
                f"the compile cache's {modules} {problem}: not used, modules are compiled in "
                f"memory (fix: remove it, or `chmod 700 {modules}`)",
            )
            return None
        return self._load_key()

    def _load_key(self) -> bytes | None:
        path = self.directory / KEY_FILE
        try:
            key, problem = _read_key(path)
        except FileNotFoundError:
            return self._new_key(path, replace=False)
        except OSError as exc:
            key, problem = None, f"cannot be read ({exc.strerror})"
        if key is not None:
            return key
        key = self._new_key(path, replace=True)
        if key is not None and problem is not None:  # not merely damaged: may be known to others
            _warn_once(
                path,
                "key",
                f"the compile cache key {path} {problem}: refused and replaced by a fresh "
                "private key; cached modules are compiled again",
            )
        return key

    def _new_key(self, path: Path, *, replace: bool) -> bytes | None:
        """Create the key (0600; the first of racing processes wins) and read it back."""
        try:
            _atomic_write(path, secrets.token_bytes(_KEY_SIZE), replace=replace)
            key, problem = _read_key(path)
        except OSError as exc:
            if exc.errno in _UNWRITABLE:
                self._warn_unwritable(exc)
                return None
            key, problem = None, f"cannot be replaced ({exc.strerror})"
        if key is None:  # replaced again under us, or in the way: nothing we can trust
            _warn_once(path, "key", f"the compile cache key {path} {problem}: cache not used")
        return key

    def _warn_unwritable(self, exc: OSError) -> None:
        _warn_once(
            self.directory,
            "unwritable",
            f"the compile cache {self.directory} cannot be written ({exc.strerror}): "
            "modules are compiled without it from now on (fix: free space, or set "
            "WASMBRIDGE_CACHE_DIR to a writable directory, or load with cache=False)",
        )

    def _evict(self) -> None:
        """Drop the least recently used entries until the cache fits ``max_bytes``."""
        modules = self.directory / "modules"
        now = time.time()
        for tmp in modules.glob("*/.tmp-*"):
            try:
                if now - tmp.lstat().st_mtime > STALE_TMP_S:
                    tmp.unlink()
            except OSError:
                continue
        entries = []
        total = 0
        for path in modules.glob("*/*.cwasm"):
            try:
                st = path.lstat()
            except OSError:
                continue
            entries.append((st.st_mtime, st.st_size, path))
            total += st.st_size
        entries.sort()
        for _, size, path in entries:
            if total <= self.max_bytes:
                break
            _unlink(path)
            total -= size


# -- the entry format: magic, MAC over (key, artifact), artifact ----------------------------


def _mac(secret: bytes, key: str, artifact: bytes) -> bytes:
    mac = hmac.new(secret, ENTRY_MAGIC + key.encode("ascii") + b"\0", "sha256")
    mac.update(artifact)
    return mac.digest()


def _sealed(secret: bytes, key: str, artifact: bytes) -> bytes:
    return ENTRY_MAGIC + _mac(secret, key, artifact) + artifact


def _verified(blob: bytes, secret: bytes, key: str) -> bytes | None:
    """The artifact of an entry written for ``key`` under ``secret``, else None."""
    if len(blob) <= _HEADER_SIZE or not blob.startswith(ENTRY_MAGIC):
        return None
    mac, artifact = blob[len(ENTRY_MAGIC) : _HEADER_SIZE], blob[_HEADER_SIZE:]
    return artifact if hmac.compare_digest(mac, _mac(secret, key, artifact)) else None


# -- files: never follow, never block, regular files only -------------------------------------


def _unsafe(info: os.stat_result, what: str, *, private: bool) -> str | None:
    """Why a cache directory or key file with ``info`` must not be trusted, or None."""
    expected = stat.S_ISDIR if what == "directory" else stat.S_ISREG
    if not expected(info.st_mode):
        return f"is not a {'directory' if what == 'directory' else 'regular file'}"
    if info.st_uid != os.geteuid():
        return f"is owned by uid {info.st_uid}, not by this user (uid {os.geteuid()})"
    mode = stat.S_IMODE(info.st_mode)
    if mode & (0o077 if private else 0o022):
        kind = "accessible" if private else "writable"
        return f"is {kind} by other users (mode {mode:04o})"
    return None


def _directory(path: Path) -> os.stat_result:
    """The cache directory's stat, creating it (0700) when missing."""
    try:
        return os.stat(path)  # followed: ~/.cache may well be a symlink
    except FileNotFoundError:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        return os.stat(path)


def _open_regular(path: Path) -> tuple[int, os.stat_result] | None:
    """A descriptor of ``path`` and its fstat, or None when it is not a regular file."""
    if not stat.S_ISREG(os.lstat(path).st_mode):  # not even opened: devices react to open
        return None
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # swapped for a symlink since the lstat
            return None
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        return None
    return fd, info


def _read_fd(fd: int, size: int) -> bytes:
    with os.fdopen(fd, "rb") as f:
        return f.read(size)


def _read_key(path: Path) -> tuple[bytes | None, str | None]:
    """(key, None) or (None, why it is refused); (None, None): damaged, ours to replace."""
    opened = _open_regular(path)
    if opened is None:
        return None, "is not a regular file"
    fd, info = opened
    problem = _unsafe(info, "key", private=True)
    data = _read_fd(fd, _KEY_SIZE + 1)
    if problem is not None:
        return None, problem
    return (data, None) if len(data) == _KEY_SIZE else (None, None)


class _Refused(Exception):
    """An entry that must not be read: not a regular file, or larger than the cache."""


def _read_entry(path: Path, max_bytes: int) -> bytes | None:
    """An entry's bytes, or None when it is missing or unreadable; _Refused when planted."""
    try:
        opened = _open_regular(path)
    except OSError:
        return None  # missing (the common miss) or unreadable: rebuilt and rewritten
    if opened is None:
        raise _Refused
    fd, info = opened
    if info.st_size > max_bytes:  # planted or stale: not worth reading
        os.close(fd)
        raise _Refused
    return _read_fd(fd, info.st_size)


def _atomic_write(path: Path, data: bytes, *, replace: bool = True) -> None:
    """Write ``data`` to ``path`` (mode 0600) through a temporary file and a rename.

    ``replace=False`` links instead: the first of racing writers wins.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")  # 0600, O_EXCL
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        if replace:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            os.unlink(tmp)
    except BaseException:
        _unlink(Path(tmp))
        raise


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def _touch(path: Path) -> None:
    try:
        os.utime(path, follow_symlinks=False)
    except OSError:
        pass


_warned: set[tuple[str, str]] = set()
_warned_lock = threading.Lock()


def _warn_once(where: Path, kind: str, message: str) -> None:
    """One ``CacheWarning`` per (place, kind) and process: loads go on regardless."""
    with _warned_lock:
        if (str(where), kind) in _warned:
            return
        _warned.add((str(where), kind))
    warnings.warn(message, CacheWarning, stacklevel=_outside_package())


_PACKAGE = str(Path(__file__).resolve().parents[1])


def _outside_package() -> int:
    """The stacklevel of the first caller outside wasmbridge: the warning shows its line."""
    level, frame = 1, sys._getframe(1)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


_default: CompileCache | None = None


def default_cache() -> CompileCache:
    """The process-wide cache in the default directory."""
    global _default
    if _default is None:
        _default = CompileCache()
    return _default


def resolve_cache(cache: CompileCache | bool) -> CompileCache:
    """``load(cache=...)``: a cache as given, the default one (True), or memory only (False)."""
    if isinstance(cache, CompileCache):
        return cache
    return default_cache() if cache else CompileCache(disk=False)
