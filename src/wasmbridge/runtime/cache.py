"""The compile cache: compiled modules in memory and on disk.

A second ``load`` of the same bytes in one process reuses the compiled
module from memory; in another process it deserializes the engine's
artifact from disk instead of compiling. Entries are content-addressed by
the wasm bytes' SHA-256 and the engine fingerprint (wasmtime version and
settings), written atomically (safe under concurrent processes), bounded in
size (least recently used first out), and never trusted blindly: wasmtime's
deserialize trusts its input, so each artifact is stored with an HMAC under
a per-cache secret key and rebuilt when the MAC does not match.

Hardening, each tested under tests/integration/sandbox/test_cache.py:
truncated, garbage and foreign-key entries are rejected and rebuilt; a
damaged key file is replaced (every old entry then fails its MAC and is
rebuilt); entries larger than the whole cache are not even read; writers
that died mid-write leave ``.tmp-*`` files that eviction removes after an
hour; processes racing to write one entry each rename a complete file, so
readers see the old entry, the new one, or none.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import wasmtime

from ..errors import CacheError
from .engine import EngineSettings, get_engine

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
MAX_BYTES_ENV = "WASMBRIDGE_CACHE_MAX_MB"
MEMORY_ENTRIES = 128
STALE_TMP_S = 3600.0
_MAC_SIZE = 32
_KEY_SIZE = 32


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
    rejected: int = 0  # entries whose MAC did not verify, rebuilt


class CompileCache:
    """Compiled modules keyed by content hash and engine fingerprint."""

    def __init__(
        self,
        directory: Path | str | None = None,
        *,
        max_bytes: int | None = None,
        disk: bool = True,
    ) -> None:
        self.explicit = directory is not None
        self.directory = Path(directory) if directory is not None else default_directory()
        self.max_bytes = max_bytes if max_bytes is not None else default_max_bytes()
        self.disk = disk
        self.stats = CacheStats()
        self._memory: OrderedDict[str, wasmtime.Module] = OrderedDict()
        self._lock = threading.Lock()
        self._key: bytes | None = None

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
        compiled = self._from_disk(engine, key) if self.disk else None
        if compiled is None:
            compiled = wasmtime.Module(engine, wasm)
            self.stats.compiles += 1
            if self.disk:
                self._store(key, compiled)
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

    # -- disk -----------------------------------------------------------------

    def _from_disk(self, engine: wasmtime.Engine, key: str) -> wasmtime.Module | None:
        path = self.path(key)
        try:
            if path.stat().st_size > self.max_bytes:  # planted or stale: not worth reading
                self.stats.rejected += 1
                _unlink(path)
                return None
            blob = path.read_bytes()
        except OSError:
            return None
        secret = self._secret()
        if secret is None or len(blob) <= _MAC_SIZE:
            return None
        mac, artifact = blob[:_MAC_SIZE], blob[_MAC_SIZE:]
        if not hmac.compare_digest(mac, hmac.new(secret, artifact, "sha256").digest()):
            self.stats.rejected += 1
            _unlink(path)
            return None
        try:
            module = wasmtime.Module.deserialize(engine, artifact)
        except wasmtime.WasmtimeError:
            self.stats.rejected += 1
            _unlink(path)
            return None
        self.stats.disk_hits += 1
        _touch(path)
        return module

    def _store(self, key: str, module: wasmtime.Module) -> None:
        secret = self._secret()
        if secret is None:
            return
        artifact = bytes(module.serialize())
        mac = hmac.new(secret, artifact, "sha256").digest()
        path = self.path(key)
        try:
            _atomic_write(path, mac + artifact)
        except OSError as exc:
            if self.explicit:
                raise CacheError(
                    f"cannot write the compile cache at {self.directory}: {exc.strerror}",
                    hint="pass a writable directory (cache_dir=... or WASMBRIDGE_CACHE_DIR) "
                    "or disable the disk cache with cache=False",
                ) from None
            return
        self._evict()

    def _secret(self) -> bytes | None:
        if self._key is not None:
            return self._key
        path = self.directory / "secret.key"
        damaged = False
        try:
            key = path.read_bytes()
            if len(key) == _KEY_SIZE:
                self._key = key
                return key
            damaged = True  # replaced below: its entries then fail their MACs
        except OSError:
            pass
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(path, secrets.token_bytes(_KEY_SIZE), mode=0o600, replace=damaged)
            key = path.read_bytes()
        except OSError as exc:
            if self.explicit:
                raise CacheError(
                    f"cannot use the compile cache at {self.directory}: {exc.strerror}",
                    hint="pass a writable directory or disable the disk cache with cache=False",
                ) from None
            return None
        self._key = key if len(key) == _KEY_SIZE else None
        return self._key

    def _evict(self) -> None:
        """Drop the least recently used entries until the cache fits ``max_bytes``."""
        modules = self.directory / "modules"
        now = time.time()
        for tmp in modules.glob("*/.tmp-*"):
            try:
                if now - tmp.stat().st_mtime > STALE_TMP_S:
                    tmp.unlink()
            except OSError:
                continue
        entries = []
        total = 0
        for path in modules.glob("*/*.cwasm"):
            try:
                st = path.stat()
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


def _atomic_write(path: Path, data: bytes, *, mode: int = 0o644, replace: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        if replace:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # first writer wins; others read its key
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
        os.utime(path)
    except OSError:
        pass


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
