"""The compile cache never runs code it did not write, and never stops a load.

wasmtime deserializes machine code from cache entries, so each test here
plants what another user (or a broken disk) could put in the cache and
checks that the module still runs its own code with correct results.
"""

from __future__ import annotations

import errno
import gc
import os
import stat
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import wasmtime
from sandbox_corpus import LOOP, W

import wasmbridge
from wasmbridge.errors import CacheWarning
from wasmbridge.interface.binary import uleb
from wasmbridge.runtime.engine import EngineSettings, get_engine
from wasmbridge.runtime.engine.cache import KEY_FILE, CompileCache, _sealed

# Same export as LOOP's `add`, other code: a swapped or forged entry shows in the result.
EVIL = W('(module (func (export "add") (param i32 i32) (result i32) i32.const 1337))')
OTHER = W(
    '(module (memory (export "memory") 1) (func (export "mul") (param i32 i32) (result i32)'
    " local.get 0 local.get 1 i32.mul))"
)
NOBODY = 65534


def _entry(cache_dir: Path, wasm: bytes) -> Path:
    return CompileCache(cache_dir).path(CompileCache.key(wasm, EngineSettings()))


def _load_loop(cache_dir: Path) -> CompileCache:
    """Load LOOP as a new process would (only the disk is shared); returns its cache."""
    cache = CompileCache(cache_dir)
    assert wasmbridge.load(LOOP, cache=cache).add(20, 22) == 42
    return cache


def _with_variant(n: int) -> bytes:
    """LOOP made distinct by a custom section (another cache entry, same code)."""
    body = uleb(1) + b"v" + n.to_bytes(4, "little")
    return LOOP + b"\0" + uleb(len(body)) + body


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "cache"
    _load_loop(directory)
    assert _entry(directory, LOOP).is_file()
    return directory


def _give_away(path: Path) -> None:
    """Make ``path`` belong to another user (needs root, as on the project's machines)."""
    if os.geteuid() != 0:
        pytest.skip("making a file that belongs to another user needs root")
    os.chown(path, NOBODY, NOBODY, follow_symlinks=False)


# -- entries bound to their key -------------------------------------------------------------


def test_entries_swapped_between_modules_are_rebuilt_not_run(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    script = (
        "import sys, wasmbridge\n"
        "from wasmbridge.runtime.engine.cache import CompileCache\n"
        "cache = CompileCache(sys.argv[1])\n"
        "a = wasmbridge.load(open(sys.argv[2], 'rb').read(), cache=cache).add(20, 22)\n"
        "b = wasmbridge.load(open(sys.argv[3], 'rb').read(), cache=cache).mul(6, 7)\n"
        "print(a, b, cache.stats.compiles, cache.stats.disk_hits, cache.stats.rejected)\n"
    )
    (tmp_path / "a.wasm").write_bytes(LOOP)
    (tmp_path / "b.wasm").write_bytes(OTHER)
    argv = [
        sys.executable,
        "-c",
        script,
        str(directory),
        *(str(tmp_path / f"{n}.wasm") for n in "ab"),
    ]

    def run() -> list[int]:
        # A child process: a foreign artifact that got deserialized would crash it (SIGILL).
        done = subprocess.run(argv, capture_output=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        return [int(word) for word in done.stdout.split()]

    assert run() == [42, 42, 2, 0, 0]
    assert run() == [42, 42, 0, 2, 0]  # both entries are valid where they are
    one, two = _entry(directory, LOOP), _entry(directory, OTHER)
    blob_one, blob_two = one.read_bytes(), two.read_bytes()
    one.write_bytes(blob_two)
    two.write_bytes(blob_one)
    assert run() == [42, 42, 2, 0, 2]  # both refused and rebuilt
    assert run() == [42, 42, 0, 2, 0]


def test_entries_of_another_engine_configuration_are_rebuilt(cache_dir: Path) -> None:
    limits = wasmbridge.Limits(fuel=10_000)
    foreign = _entry(cache_dir, LOOP).read_bytes()  # built without fuel checks
    target = CompileCache(cache_dir).path(CompileCache.key(LOOP, EngineSettings.for_limits(limits)))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(foreign)
    cache = CompileCache(cache_dir)
    module = wasmbridge.load(LOOP, cache=cache, limits=limits)
    assert module.add(1, 2) == 3
    assert (cache.stats.rejected, cache.stats.compiles) == (1, 1)


# -- the key file --------------------------------------------------------------------------


def _forge(cache_dir: Path, secret: bytes) -> None:
    """Write what an attacker knowing ``secret`` would: EVIL's code under LOOP's name."""
    key = CompileCache.key(LOOP, EngineSettings())
    evil = wasmtime.Module(get_engine(), EVIL)
    _entry(cache_dir, LOOP).write_bytes(_sealed(secret, key, bytes(evil.serialize())))


def test_forged_entry_runs_under_a_trusted_key(cache_dir: Path) -> None:
    """The control for the test below: the forgery is valid for whoever holds the key."""
    _forge(cache_dir, (cache_dir / KEY_FILE).read_bytes())
    assert wasmbridge.load(LOOP, cache=CompileCache(cache_dir)).add(1, 1) == 1337


def test_key_planted_with_mode_0666_is_refused_and_replaced(cache_dir: Path) -> None:
    planted = cache_dir / KEY_FILE
    planted.unlink()
    attacker_key = os.urandom(32)
    planted.write_bytes(attacker_key)
    planted.chmod(0o666)
    _forge(cache_dir, attacker_key)
    with pytest.warns(
        CacheWarning, match=r"secret\.key is accessible by other users \(mode 0666\)"
    ):
        cache = _load_loop(cache_dir)  # 42, not 1337
    assert (cache.stats.rejected, cache.stats.compiles) == (1, 1)
    fresh = planted.stat()
    assert stat.S_IMODE(fresh.st_mode) == 0o600 and planted.read_bytes() != attacker_key
    assert _load_loop(cache_dir).stats.disk_hits == 1  # private again, usable again


def test_key_owned_by_another_user_is_refused_and_replaced(cache_dir: Path) -> None:
    key = cache_dir / KEY_FILE
    _forge(cache_dir, key.read_bytes())  # as if that user had written the key and the entry
    _give_away(key)
    with pytest.warns(CacheWarning, match=f"is owned by uid {NOBODY}, not by this user"):
        cache = _load_loop(cache_dir)
    assert (cache.stats.rejected, cache.stats.compiles) == (1, 1)
    assert key.stat().st_uid == os.geteuid()


@pytest.mark.parametrize("kind", ["fifo", "symlink", "device", "directory"])
def test_key_that_is_not_a_regular_file_is_refused_without_blocking(
    cache_dir: Path, kind: str
) -> None:
    key = cache_dir / KEY_FILE
    secret = key.read_bytes()
    key.unlink()
    if kind == "directory":
        key.mkdir()
    else:
        _plant(key, kind, target_bytes=secret)
    expected = "cannot be replaced.*cache not used" if kind == "directory" else "regular file"
    with pytest.warns(CacheWarning, match=expected):
        cache = _within(10.0, lambda: _load_loop(cache_dir))
    if kind == "directory":  # nothing can replace it: the process runs uncached
        assert (cache.stats.disk_hits, cache.stats.compiles) == (0, 1)
    else:
        assert stat.S_ISREG(key.lstat().st_mode) and stat.S_IMODE(key.stat().st_mode) == 0o600
        assert (cache.stats.rejected, cache.stats.compiles) == (1, 1)


# -- entries that are not regular files ------------------------------------------------------


@pytest.mark.parametrize("kind", ["fifo", "symlink", "device"])
def test_entry_that_is_not_a_regular_file_is_refused_without_blocking(
    cache_dir: Path, kind: str
) -> None:
    entry = _entry(cache_dir, LOOP)
    valid = entry.read_bytes()
    entry.unlink()
    _plant(entry, kind, target_bytes=valid)  # the symlink points at a valid entry even
    cache = _within(10.0, lambda: _load_loop(cache_dir))
    assert (cache.stats.rejected, cache.stats.compiles) == (1, 1)
    assert stat.S_ISREG(entry.lstat().st_mode)
    assert _load_loop(cache_dir).stats.disk_hits == 1


def _plant(path: Path, kind: str, *, target_bytes: bytes) -> None:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink":
        target = path.parent.parent / "elsewhere"
        target.write_bytes(target_bytes)
        path.symlink_to(target)
    else:
        if os.geteuid() != 0:
            pytest.skip("making a device node needs root")
        os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # /dev/zero: never ends


def _within(seconds: float, work: Callable[[], CompileCache]) -> CompileCache:
    """Run ``work`` in a thread; fail (and unblock it) if it hangs, say on a FIFO."""
    result: list[CompileCache] = []
    error: list[BaseException] = []
    caught: list[warnings.WarningMessage] = []

    def target() -> None:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            try:
                result.append(work())
            except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
                error.append(exc)
            caught.extend(seen)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"loading hung for {seconds} s"
    for message in caught:  # re-emitted where pytest.warns can see them
        warnings.warn_explicit(message.message, message.category, message.filename, message.lineno)
    if error:
        raise error[0]
    return result[0]


# -- the directory -------------------------------------------------------------------------


def test_group_writable_directory_is_not_used(cache_dir: Path) -> None:
    cache_dir.chmod(0o775)
    _forge(cache_dir, (cache_dir / KEY_FILE).read_bytes())  # as a group member could
    with pytest.warns(CacheWarning, match=r"is writable by other users \(mode 0775\)"):
        cache = _load_loop(cache_dir)
    assert (cache.stats.disk_hits, cache.stats.compiles) == (0, 1)
    wasmbridge.load(OTHER, cache=cache)
    assert not _entry(cache_dir, OTHER).exists()  # nothing written there either


def test_world_writable_modules_directory_is_not_used(cache_dir: Path) -> None:
    """The top directory is private, but its modules/ was opened up: entries there
    (and symlinks in it) could be planted, so the cache is not used."""
    (cache_dir / "modules").mkdir(exist_ok=True)
    (cache_dir / "modules").chmod(0o777)
    with pytest.warns(CacheWarning, match=r"modules is writable by other users \(mode 0777\)"):
        cache = _load_loop(cache_dir)
    assert (cache.stats.disk_hits, cache.stats.compiles) == (0, 1)


def test_symlinked_modules_directory_is_not_used(cache_dir: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    modules = cache_dir / "modules"
    if modules.exists():
        import shutil

        shutil.rmtree(modules)
    modules.symlink_to(elsewhere)
    with pytest.warns(CacheWarning, match="modules is not a directory"):
        cache = _load_loop(cache_dir)
    assert not any(elsewhere.iterdir())
    assert cache.stats.compiles == 1


def test_directory_owned_by_another_user_is_not_used(cache_dir: Path) -> None:
    _give_away(cache_dir)
    with pytest.warns(CacheWarning, match=f"is owned by uid {NOBODY}"):
        cache = _load_loop(cache_dir)
    assert (cache.stats.disk_hits, cache.stats.compiles) == (0, 1)


def test_new_directory_and_key_are_private(tmp_path: Path) -> None:
    directory = tmp_path / "fresh"
    _load_loop(directory)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((directory / KEY_FILE).stat().st_mode) == 0o600
    assert stat.S_IMODE(_entry(directory, LOOP).stat().st_mode) == 0o600


# -- disks that refuse writes -----------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path | None]:
    """A real 256 KiB tmpfs (root only), or None where mounting is not allowed."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        yield None
        return
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def _fill(disk: Path) -> None:
    """Take every free block of ``disk``."""
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(fd, bytes(4096)):
            pass
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)


def _regular_file_instead(tmp_path: Path) -> Path:
    """Where no disk can be mounted: a file where the cache directory should be."""
    path = tmp_path / "not-a-dir"
    path.write_bytes(b"")
    return path / "cache"


def _load_many(directory: Path, count: int, match: str) -> CompileCache:
    cache = CompileCache(directory)
    with pytest.warns(CacheWarning, match=match) as seen:
        for n in range(count):
            assert wasmbridge.load(_with_variant(n), cache=cache).add(n, 1) == n + 1
        assert wasmbridge.load(OTHER, cache=CompileCache(directory)).mul(6, 7) == 42
    assert len(seen) == 1, [str(w.message) for w in seen]
    assert cache.stats.compiles == count
    return cache


def test_full_disk_runs_uncached_with_one_warning(tmp_path: Path, small_disk: Path | None) -> None:
    if small_disk is None:
        _load_many(_regular_file_instead(tmp_path), 5, "cannot be written")
        return
    directory = small_disk / "cache"
    _load_loop(directory)
    _fill(small_disk)
    _load_many(directory, 5, r"cannot be written \(No space left on device\)")
    assert not list((directory / "modules").glob("*/.tmp-*"))  # no half-written files left
    assert _load_loop(directory).stats.disk_hits == 1  # what was cached still serves


def test_read_only_disk_runs_uncached_with_one_warning(
    tmp_path: Path, small_disk: Path | None
) -> None:
    if small_disk is None:
        _load_many(_regular_file_instead(tmp_path), 5, "cannot be written")
        return
    directory = small_disk / "cache"
    _load_loop(directory)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    _load_many(directory, 5, r"cannot be written \(Read-only file system\)")
    assert _load_loop(directory).stats.disk_hits == 1


def test_read_only_disk_without_a_key_runs_uncached(small_disk: Path | None) -> None:
    if small_disk is None:
        pytest.skip("mounting a read-only disk needs root")
    (small_disk / "cache").mkdir(mode=0o700)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    _load_many(small_disk / "cache", 3, r"cannot be written \(Read-only file system\)")


# -- memory ----------------------------------------------------------------------------------


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_parsed_modules_kept_in_memory_drop_their_custom_sections() -> None:
    def large(n: int) -> bytes:  # LOOP with a distinct 1 MiB custom section
        body = uleb(4) + b"blob" + n.to_bytes(4, "little") + bytes(1 << 20)
        return LOOP + b"\0" + uleb(len(body)) + body

    wasmbridge.load(large(10_000), cache=False)  # warm up allocator and engine
    gc.collect()
    before = _rss()
    for n in range(50):
        assert wasmbridge.load(large(n), cache=False).add(n, 1) == n + 1
    gc.collect()
    grown = _rss() - before
    assert grown < 16 << 20, f"RSS grew {grown / (1 << 20):.1f} MiB over 50 loads of 1 MiB"
