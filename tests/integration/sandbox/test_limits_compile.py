"""Compiling a module loaded with limits is bounded in CPU time and memory (compile_guard.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import wasmbridge
from sandbox_helpers import wat
from wasmbridge import Limits
from wasmbridge.interface.binary import uleb
from wasmbridge.runtime.engine import EngineSettings
from wasmbridge.runtime.engine.cache import CompileCache
from wasmbridge.runtime.sandbox.compile_guard import code_stats
from wasmbridge.runtime.sandbox.limits import fmt_seconds

# Far above the few CPU seconds the default budget allows, far below the 52 s
# (idle machine) the 40,000 loops took to compile before.
PROMPT_S = 25.0


def section(section_id: int, payload: bytes) -> bytes:
    return bytes([section_id]) + uleb(len(payload)) + payload


def module(bodies: list[bytes], export: str = "f", tag: str = "") -> bytes:
    """A module of ``() -> ()`` functions with these bodies (locals included), the first
    exported; ``tag`` goes into a custom section, making each test's module its own."""
    count = uleb(len(bodies))
    code = b"".join(uleb(len(body)) + body for body in bodies)
    name = export.encode()
    return b"".join(
        [
            b"\0asm\x01\0\0\0",
            section(1, b"\x01\x60\x00\x00"),
            section(3, count + b"\x00" * len(bodies)),
            section(7, b"\x01" + uleb(len(name)) + name + b"\x00\x00"),
            section(10, count + code),
            section(0, b"\x03tag" + tag.encode()),
        ]
    )


def nested_loops(depth: int, export: str = "f", tag: str = "") -> bytes:
    """One function: ``depth`` loops, each inside the one before (120 KB for 40,000)."""
    return module([b"\x00" + b"\x03\x40" * depth + b"\x0b" * depth + b"\x0b"], export, tag)


def many_locals(functions: int, locals_each: int, tag: str = "") -> bytes:
    """``functions`` empty functions declaring ``locals_each`` i64 locals (8 KB for 1,000)."""
    body = b"\x01" + uleb(locals_each) + b"\x7e\x0b"
    return module([body] * functions, tag=tag)


def over_time(name: str, data: bytes, limits: Limits) -> str:
    """The message for ``data`` stopped at its compile-time limit, from the budget rule."""
    code_bytes, _ = code_stats(data)
    seconds, _ = limits.compile_budget(code_bytes)
    return (
        f"compiling {name} took more than its {fmt_seconds(round(seconds, 2))} compile-time "
        f"limit (CPU time, for {code_bytes:,} bytes of code): the compiler was stopped"
    )


@pytest.mark.parametrize(
    "limits", [Limits.untrusted(), Limits(timeout_s=1)], ids=["untrusted", "timeout-1s"]
)
def test_forty_thousand_nested_loops_stop_compiling_within_seconds(
    limits: Limits, tmp_path: Path
) -> None:
    data = nested_loops(40_000, tag=f"loops-{limits.memory_mb}")
    start = time.monotonic()
    with pytest.raises(wasmbridge.TimeLimitExceeded) as caught:
        wasmbridge.load(data, name="loops.wasm", limits=limits, cache=CompileCache(tmp_path))
    assert time.monotonic() - start < PROMPT_S
    assert str(caught.value) == over_time("loops.wasm", data, limits)
    assert caught.value.hint is not None and "Limits(compile_s=...)" in caught.value.hint
    # The same module again is refused at once, without compiling it again.
    start = time.monotonic()
    with pytest.raises(wasmbridge.TimeLimitExceeded):
        wasmbridge.load(data, name="loops.wasm", limits=limits, cache=CompileCache(tmp_path))
    assert time.monotonic() - start < 1.0


def test_thousands_of_locals_in_a_small_module_stop_compiling(tmp_path: Path) -> None:
    data = many_locals(1000, 50_000, tag="locals")  # 8 KB, 5 CPU s to compile
    with pytest.raises(wasmbridge.TimeLimitExceeded) as caught:
        wasmbridge.load(data, name="locals.wasm", limits=Limits(), cache=CompileCache(tmp_path))
    assert str(caught.value) == over_time("locals.wasm", data, Limits())


def test_compiling_past_its_memory_limit_is_stopped(tmp_path: Path) -> None:
    data = nested_loops(40_000, tag="memory")
    limits = Limits(compile_s=300, compile_mb=100)
    with pytest.raises(
        wasmbridge.MemoryLimitExceeded,
        match=r"(?m)^compiling loops\.wasm needed more than its 100 MiB compile-memory limit "
        r"\(for 120,006 bytes of code\): the compiler was stopped$",
    ) as caught:
        wasmbridge.load(data, name="loops.wasm", limits=limits, cache=CompileCache(tmp_path))
    assert caught.value.hint == (
        "raise Limits(compile_mb=...) or --compile-memory if the module is trusted"
    )


@pytest.mark.parametrize("isolation", ["inline", "process"])
def test_run_bounds_compiling_too(isolation: str, tmp_path: Path) -> None:
    data = nested_loops(40_000, export="_start", tag=f"run-{isolation}")
    limits = Limits(timeout_s=1)
    start = time.monotonic()
    with pytest.raises(wasmbridge.TimeLimitExceeded) as caught:
        wasmbridge.run(
            data,
            limits=limits,
            name="loops.wasm",
            cache=CompileCache(tmp_path),
            isolation=isolation,  # type: ignore[arg-type]
        )
    assert time.monotonic() - start < PROMPT_S
    assert str(caught.value) == over_time("loops.wasm", data, limits)


def test_wasmbridge_run_bounds_compiling_by_default(tmp_path: Path) -> None:
    data = nested_loops(40_000, export="_start", tag="cli")
    (tmp_path / "loops.wasm").write_bytes(data)
    proc = subprocess.run(
        [sys.executable, "-m", "wasmbridge", "run", "--color", "never", "loops.wasm"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "WASMBRIDGE_CACHE_DIR": str(tmp_path / "cache")},
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[0] == (
        f"error: {over_time('loops.wasm', data, Limits.untrusted())}"
    )


@pytest.mark.toolchain
def test_an_ordinary_module_compiles_in_the_child_and_works(
    types_wasm: Path, tmp_path: Path
) -> None:
    cache = CompileCache(tmp_path)
    limits = Limits.untrusted()
    m = wasmbridge.load(types_wasm, limits=limits, cache=cache)
    assert m.echo_str("é" * 100) == "é" * 100
    assert cache.stats.compiles == 0  # compiled by the child, which wrote the disk cache
    key = cache.key(types_wasm.read_bytes(), EngineSettings.for_limits(limits))
    assert cache.path(key).is_file()
    again = wasmbridge.load(types_wasm, limits=limits, cache=CompileCache(tmp_path))
    assert again.echo_str("b") == "b"


def test_a_module_without_a_disk_cache_comes_back_from_the_child() -> None:
    data = many_locals(1000, 1, tag="no-disk")  # over the small-module size: a child compiles
    assert len(data) > 4096
    m = wasmbridge.load(data, name="plain.wasm", limits=Limits(timeout_s=1), cache=False)
    assert m.f() is None


def test_a_tiny_module_compiles_in_process(tmp_path: Path) -> None:
    cache = CompileCache(tmp_path)
    tiny = wat('(module (func (export "f") (result i32) i32.const 7))') + section(0, b"\x03tag")
    m = wasmbridge.load(tiny, name="tiny.wasm", limits=Limits(timeout_s=1), cache=cache)
    assert m.f() == 7
    assert cache.stats.compiles == 1


def test_an_invalid_module_is_refused_before_any_child_starts() -> None:
    broken = wat('(module (func (export "f") (result i32) i32.const 7))').replace(
        b"\x41\x07", b"\x42\x07"
    )  # i64.const where the type says i32
    with pytest.raises(wasmbridge.InvalidModule) as limited:
        wasmbridge.load(broken, name="bad.wasm", limits=Limits(timeout_s=1), cache=False)
    with pytest.raises(wasmbridge.InvalidModule) as trusted:
        wasmbridge.load(broken, name="bad.wasm", cache=False)
    for error in (limited.value, trusted.value):
        assert str(error).startswith("bad.wasm is not a valid WebAssembly module: ")
        assert "type mismatch: expected i32, found i64" in str(error)


def test_code_stats_count_bodies_and_declared_locals() -> None:
    # The code section: its function count, then each body after its size.
    assert code_stats(many_locals(3, 1000)) == (1 + 3 * (1 + 5), 3000)
    ref_locals = module([b"\x02\x05\x63\x70\x07\x7f\x0b"])  # 5 (ref null func), 7 i32
    assert code_stats(ref_locals) == (1 + 1 + 7, 12)
    assert code_stats(b"\0asm\x01\0\0\0") == (0, 0)
    assert code_stats(b"\0asm\x01\0\0\0\x0a\xff") == (10, sys.maxsize)  # unreadable: not small
