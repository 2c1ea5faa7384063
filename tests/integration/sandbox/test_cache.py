"""The compile cache never trusts its files, survives racing processes, stays bounded."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sandbox_corpus import LOOP

import wasmbridge
from wasmbridge.runtime.engine.cache import (
    STALE_TMP_S,
    CompileCache,
    default_directory,
    default_max_bytes,
)


def _entry(cache_dir: Path) -> Path:
    (entry,) = (cache_dir / "modules").glob("*/*.cwasm")
    return entry


def _fresh_load(cache_dir: Path) -> CompileCache:
    """Load LOOP as another process would (only the disk is shared); returns its cache."""
    cache = CompileCache(cache_dir)
    assert wasmbridge.load(LOOP, cache=cache).add(20, 22) == 42
    return cache


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "cache"
    _fresh_load(directory)
    assert _entry(directory).is_file()
    return directory


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: blob[: len(blob) // 2],  # truncated
        lambda blob: blob[:10],  # shorter than its MAC
        lambda blob: b"",  # empty
        lambda blob: os.urandom(len(blob)),  # garbage
        lambda blob: blob[:40] + bytes([blob[40] ^ 0xFF]) + blob[41:],  # one artifact byte
    ],
    ids=["truncated", "shorter-than-mac", "empty", "garbage", "one-byte"],
)
def test_damaged_entry_is_rejected_and_rebuilt(
    cache_dir: Path, damage: Callable[[bytes], bytes]
) -> None:
    entry = _entry(cache_dir)
    entry.write_bytes(damage(entry.read_bytes()))
    cache = _fresh_load(cache_dir)
    assert (cache.stats.disk_hits, cache.stats.compiles) == (0, 1)
    assert _fresh_load(cache_dir).stats.disk_hits == 1  # the rebuilt entry is good again


def test_entry_made_under_another_key_is_rejected(cache_dir: Path) -> None:
    (cache_dir / "secret.key").write_bytes(os.urandom(32))  # a foreign or rotated key
    cache = _fresh_load(cache_dir)
    assert (cache.stats.rejected, cache.stats.compiles) == (1, 1)


def test_damaged_key_file_is_replaced(cache_dir: Path) -> None:
    (cache_dir / "secret.key").write_bytes(b"short")
    cache = _fresh_load(cache_dir)
    assert len((cache_dir / "secret.key").read_bytes()) == 32
    assert (cache.stats.rejected, cache.stats.compiles) == (1, 1)
    assert _fresh_load(cache_dir).stats.disk_hits == 1


def test_entry_larger_than_the_cache_is_not_read(cache_dir: Path) -> None:
    entry = _entry(cache_dir)
    cache = CompileCache(cache_dir, max_bytes=entry.stat().st_size - 1)
    wasmbridge.load(LOOP, cache=cache)
    assert cache.stats.rejected == 1


def test_eviction_keeps_the_cache_under_its_size_and_drops_stale_temp_files(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    one = _fresh_load(directory)
    size = _entry(directory).stat().st_size
    stale = _entry(directory).parent / ".tmp-crashed-writer"
    stale.write_bytes(b"x")
    old = time.time() - STALE_TMP_S - 10
    os.utime(stale, (old, old))
    cache = CompileCache(directory, max_bytes=int(size * 2.5))
    for n in range(5):  # five modules, room for two
        module = LOOP + bytes([0, 4, 1, ord("x"), n, 0])  # a custom section makes it distinct
        wasmbridge.load(module, cache=cache)
        time.sleep(0.01)  # distinct mtimes: least recently used goes first
    entries = list((directory / "modules").glob("*/*.cwasm"))
    assert len(entries) == 2 and sum(e.stat().st_size for e in entries) <= cache.max_bytes
    assert not stale.exists()
    assert one.stats.compiles == 1


def test_directory_and_size_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WASMBRIDGE_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_directory() == tmp_path / "xdg" / "wasmbridge"
    monkeypatch.setenv("WASMBRIDGE_CACHE_DIR", str(tmp_path / "explicit"))
    assert default_directory() == tmp_path / "explicit"
    monkeypatch.setenv("WASMBRIDGE_CACHE_MAX_MB", "2")
    assert default_max_bytes() == 2 * 1024 * 1024 == CompileCache().max_bytes
    monkeypatch.setenv("WASMBRIDGE_CACHE_MAX_MB", "lots")
    assert default_max_bytes() == 512 * 1024 * 1024


def test_processes_loading_one_module_at_once_agree(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    module = tmp_path / "loop.wasm"
    module.write_bytes(LOOP)
    start_at = time.time() + 2.0  # all of them compile and write at the same moment
    script = (
        "import sys, time, wasmbridge\n"
        "from wasmbridge.runtime.engine.cache import CompileCache\n"
        "time.sleep(max(0, float(sys.argv[3]) - time.time()))\n"
        "cache = CompileCache(sys.argv[2])\n"
        "print(wasmbridge.load(sys.argv[1], cache=cache).add(40, 2), cache.stats.compiles,\n"
        "      cache.stats.disk_hits)\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(module), str(directory), str(start_at)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(6)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, [err for _, err in outputs]
    assert all(out.split()[0] == b"42" for out, _ in outputs)
    assert len(list((directory / "modules").glob("*/*.cwasm"))) == 1
    assert not list((directory / "modules").glob("*/.tmp-*"))
    assert len((directory / "secret.key").read_bytes()) == 32
    later = _fresh_load(directory)
    assert (later.stats.disk_hits, later.stats.rejected) == (1, 0)
