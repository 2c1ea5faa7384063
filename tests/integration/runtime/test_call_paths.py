"""The compiled call path (runtime/_native.c) against the generated Python callers.

Every compiled caller keeps the Python caller of the same export as its
``fallback``: the tests here call both on twin instances with long seeded
sequences of good and bad arguments (sizes across the arena's edges,
every integer boundary, wrong types, subclasses, lone surrogates) and
require the same result or the same exception, word for word, plus
references (hashlib, zlib, base64) where one exists. The whole suite also
runs once per path in CI (``WASMBRIDGE_NATIVE=0`` for the ctypes one).
"""

from __future__ import annotations

import array
import base64
import functools
import hashlib
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy
import pytest
import wasmtime

import wasmbridge
from wasmbridge.runtime.bridge import native

BuildFixture = Callable[..., Path]
FIXTURE_CRATES = Path(__file__).resolve().parents[2] / "fixtures" / "crates"
KIB, MIB = 1024, 1024 * 1024
ARENA = 64 * KIB  # memory.Arena.INITIAL_SIZE: buffers around it take both paths
SIZES = (0, 1, 2, 31, 32, 33, 4 * KIB, ARENA - 64, ARENA - 33, ARENA - 32, ARENA, ARENA + 1, MIB)

pytestmark = pytest.mark.toolchain

compiled_only = pytest.mark.skipif(native.NATIVE is None, reason=f"C call path: {native.WHY_NOT}")


@pytest.fixture(scope="module")
def diff_wasm(build_fixture: BuildFixture) -> Path:
    return build_fixture("diffcrate")


def test_ci_runs_the_path_it_claims() -> None:
    """Under CI the compiled path must really be built, unless switched off on purpose."""
    switched_off = os.environ.get(native.SWITCH) == "0"
    if switched_off:
        assert native.NATIVE is None and native.PATH == "ctypes"
    elif os.environ.get("WASMBRIDGE_REQUIRE_ALL") == "1":
        assert native.NATIVE is not None, native.WHY_NOT
        assert native.PATH == "compiled"


def test_the_switch_forces_the_ctypes_path(diff_wasm: Path) -> None:
    script = (
        "import sys, wasmbridge\n"
        "from wasmbridge.runtime.bridge import native\n"
        "m = wasmbridge.load(sys.argv[1])\n"
        "print(native.PATH, type(m.crc32).__name__, m.crc32(b'abc'))\n"
    )
    env = {**os.environ, native.SWITCH: "0"}
    done = subprocess.run(
        [sys.executable, "-c", script, str(diff_wasm)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ctypes", "function", str(zlib.crc32(b"abc"))]
    doctor = subprocess.run(
        [sys.executable, "-m", "wasmbridge", "doctor"], env=env, capture_output=True, text=True
    )
    assert re.search(
        rf"^– calls +ctypes: the C extension is switched off \({native.SWITCH}=0\)$",
        doctor.stdout,
        re.MULTILINE,
    ), doctor.stdout


@compiled_only
def test_compiled_callers_look_like_the_python_ones(diff_wasm: Path) -> None:
    m = wasmbridge.load(diff_wasm)
    for name in (
        *("crc32", "b64_encode", "sha256", "upper", "repeat", "is_ascii", "version"),
        *("sum_i32", "sum_f64", "dot", "reverse_bytes", "xor_into", "concat3"),
    ):
        export = getattr(m, name)
        assert type(export) is native.NATIVE.Caller, name
        python = export.fallback
        assert export.__name__ == python.__name__ == name
        assert export.__doc__ == python.__doc__
        assert export.__signature__ == python.__signature__
        assert export.__wasmbridge_source__ == python.__wasmbridge_source__
    # Plans the C code does not run keep the Python caller.
    for name in ("reverse_chars", "greet", "b64_decode", "sum_u32", "zip_add", "take"):
        assert type(getattr(m, name)).__name__ == "function", name


def _outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", call()
    except Exception as exc:  # noqa: BLE001 - compared, type and words
        return type(exc).__name__, str(exc)


class StrSub(str):
    pass


class IntSub(int):
    pass


def _blob(rng: random.Random) -> bytes:
    return rng.randbytes(rng.choice(SIZES) + rng.choice((0, 0, 1, 7)))


def _arg(rng: random.Random, kind: str) -> Any:
    """A good argument most of the time, else one of the ways to get it wrong."""
    roll = rng.random()
    if kind == "bytes":
        if roll < 0.7:
            return _blob(rng)
        return rng.choice(
            [bytearray(_blob(rng)), memoryview(_blob(rng)), "text", None, 5, [1, 2, 3]]
        )
    if kind == "str":
        if roll < 0.6:
            return "".join(rng.choice("aé€😀 \n\0Z") for _ in range(rng.choice(SIZES) // 4))
        return rng.choice(["", StrSub("sub"), "\ud800 lone", b"bytes", 3, None, "x" * (2 * MIB)])
    if kind == "u32":
        return rng.choice(
            [0, 1, 2**31, 2**32 - 1, 2**32, -1, IntSub(7), True, 1.5, "1", None, 10**30]
        )
    if kind == "u8":
        return rng.choice([0, 1, 6, 9, 255, 256, -1, True, 2.0])
    if kind in ("i32s", "f64s"):
        code = "i" if kind == "i32s" else "d"
        count = rng.choice(SIZES) // 8 + rng.choice((0, 1))
        values = [rng.randrange(-(2**31), 2**31) for _ in range(count)]
        good = array.array(code, values if code == "i" else [v / 7 for v in values])
        if roll < 0.5:
            return good
        if roll < 0.6:
            return memoryview(good)
        if roll < 0.7:
            return numpy.frombuffer(good.tobytes(), dtype=good.typecode)
        if roll < 0.8:
            return list(good)[:50]
        return rng.choice(
            [
                array.array("h", [1, 2]),  # the wrong element format
                memoryview(good)[::2],  # not contiguous
                numpy.zeros((3, 4), dtype="i4" if code == "i" else "f8"),  # 2-D, contiguous
                numpy.zeros(8, dtype=">i4" if code == "i" else ">f8"),  # big-endian
                b"12345678",
                "text",
            ]
        )
    if kind == "mut_u8":
        if roll < 0.6:
            return bytearray(_blob(rng))
        if roll < 0.75:
            return numpy.frombuffer(bytearray(_blob(rng)), dtype="u1")
        return rng.choice([bytes(4), memoryview(bytes(8)), array.array("B", [1, 2, 3]), [1, 2]])
    raise AssertionError(kind)


# (export, argument kinds, reference or None)
CASES: list[tuple[str, tuple[str, ...], Callable[..., Any] | None]] = [
    ("crc32", ("bytes",), lambda d: zlib.crc32(d)),
    ("adler32", ("bytes",), lambda d: zlib.adler32(d)),
    ("sha256", ("bytes",), lambda d: hashlib.sha256(d).digest()),
    ("b64_encode", ("bytes",), lambda d: base64.b64encode(d).decode()),
    ("zlib_compress", ("bytes", "u8"), None),
    ("starts_with", ("bytes", "bytes"), lambda d, p: d.startswith(p)),
    ("sum_bytes", ("bytes",), lambda d: sum(d)),
    ("upper", ("str",), None),
    ("is_ascii", ("str",), lambda s: s.isascii()),
    ("repeat", ("str", "u32"), None),
    ("version", (), None),
    ("sum_i32", ("i32s",), None),
    ("sum_f64", ("f64s",), None),
    ("dot", ("f64s", "f64s"), None),
    ("concat3", ("bytes", "str", "bytes"), None),
    ("reverse_bytes", ("mut_u8",), None),
    ("xor_into", ("mut_u8", "bytes"), None),
]


@compiled_only
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_both_paths_agree_over_long_random_sequences(diff_wasm: Path, seed: int) -> None:
    rng = random.Random(seed)
    compiled = wasmbridge.load(diff_wasm)
    python = wasmbridge.load(diff_wasm)
    for step in range(600):
        name, kinds, reference = rng.choice(CASES)
        args = [_arg(rng, k) for k in kinds]
        if name == "repeat" and isinstance(args[1], int) and args[1] > 64:
            args[1] = 64 if rng.random() < 0.5 else args[1]  # 4 GiB of output is its own test
            if isinstance(args[0], str) and len(args[0]) * args[1] > 4 * MIB:
                args[1] = 1
        twins = [_twin(a) for a in args]  # &mut buffers: each path gets its own copy
        fast_call, slow_call = getattr(compiled, name), getattr(python, name).fallback
        if rng.random() < 0.1:  # keywords go straight to the Python caller
            params = list(fast_call.__signature__.parameters)
            fast = _outcome(functools.partial(fast_call, **dict(zip(params, args, strict=True))))
        else:
            fast = _outcome(functools.partial(fast_call, *args))
        slow = _outcome(functools.partial(slow_call, *twins))
        assert list(map(_snapshot, args)) == list(map(_snapshot, twins)), f"{name}: buffers"
        where = f"seed {seed} step {step}: {name}{tuple(_short(a) for a in args)}"
        assert fast == slow, where
        if fast[0] == "ok" and reference is not None:
            assert fast[1] == reference(*map(_plain, args)), where
        if name == "zlib_compress" and fast[0] == "ok":
            assert zlib.decompress(fast[1]) == bytes(args[0]), where


def _plain(value: Any) -> Any:
    """A bytes-like or list argument as the bytes the guest received."""
    return bytes(value) if isinstance(value, (bytearray, memoryview, list)) else value


def _snapshot(value: Any) -> Any:
    """What an argument holds now, comparable across copies."""
    if isinstance(value, (bytearray, memoryview, array.array, numpy.ndarray)):
        return memoryview(value).tobytes()
    return tuple(value) if isinstance(value, list) else value


def _twin(value: Any) -> Any:
    """A copy of a writable buffer (so each path mutates its own), else the value."""
    if isinstance(value, bytearray):
        return bytearray(value)
    if isinstance(value, numpy.ndarray) and value.flags.writeable:
        return value.copy()
    return value


def _short(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview, str)) and len(value) > 16:
        return f"<{type(value).__name__} of {len(value):,}>"
    return value


@compiled_only
def test_the_arena_is_left_as_found_after_every_kind_of_call(diff_wasm: Path) -> None:
    m = wasmbridge.load(diff_wasm)
    m.crc32(b"open the arena")
    live_arena = _arena_of(m)
    rng = random.Random(7)
    for _ in range(300):
        data = _blob(rng)
        m.starts_with(data, data[: rng.randrange(len(data) + 1)])
        with pytest.raises(TypeError):
            m.starts_with(data, "not bytes")
        m.upper("é" * rng.choice((0, 1, 100, ARENA)))
        # Idle: only the return area is held (a large buffer may have regrown it).
        assert live_arena.top == live_arena.start + live_arena.RETAREA
        assert live_arena.end - live_arena.start <= live_arena.MAX_SIZE


def _arena_of(instance: Any) -> Any:
    return instance._instance.marshal.arena


@compiled_only
def test_guest_calls_release_the_gil(diff_wasm: Path) -> None:
    """While one thread hashes 64 MiB in the guest, another thread runs Python."""
    m = wasmbridge.load(diff_wasm)
    data = random.Random(1).randbytes(64 * MIB)
    running = threading.Event()
    counts: list[int] = []

    def spin() -> None:
        n = 0
        running.wait()
        while running.is_set():
            n += 1
        counts.append(n)

    spinner = threading.Thread(target=spin)
    spinner.start()
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(10.0)  # the GIL changes hands only when released
    try:
        running.set()
        time.sleep(0.01)
        digest = m.sha256(data)
        running.clear()
    finally:
        sys.setswitchinterval(old_interval)
        running.clear()
        spinner.join()
    assert digest == hashlib.sha256(data).digest()
    assert counts[0] > 10_000, counts


@compiled_only
def test_many_threads_on_one_instance_and_on_their_own(diff_wasm: Path) -> None:
    shared = wasmbridge.load(diff_wasm)
    errors: list[str] = []

    def work(seed: int, own: bool) -> None:
        rng = random.Random(seed)
        m = wasmbridge.load(diff_wasm) if own else shared
        for step in range(300):
            data = _blob(rng) if rng.random() < 0.3 else rng.randbytes(rng.randrange(256))
            if m.sha256(data) != hashlib.sha256(data).digest():
                errors.append(f"thread {seed} step {step}: sha256 of {len(data):,} bytes")
            if m.crc32(data) != zlib.crc32(data):
                errors.append(f"thread {seed} step {step}: crc32 of {len(data):,} bytes")

    threads = [threading.Thread(target=work, args=(s, s % 2 == 0)) for s in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


@compiled_only
def test_a_closed_instance_refuses_compiled_calls(diff_wasm: Path) -> None:
    m = wasmbridge.load(diff_wasm)
    crc32 = m.crc32
    assert crc32(b"x") == zlib.crc32(b"x")
    m.close()
    with pytest.raises(wasmbridge.ModuleError, match="this instance was closed"):
        crc32(b"x")


def test_numeric_slices_from_numpy_arrays_and_buffers(diff_wasm: Path) -> None:
    m = wasmbridge.load(diff_wasm)
    rng = numpy.random.default_rng(5)
    for n in (0, 1, 7, 8191, 8192, 8193, 100_000, 600_000):  # across the arena's edges
        ints = rng.integers(-(2**31), 2**31, n, dtype="i4")
        expected = int(ints.astype("i8").sum())
        assert m.sum_i32(ints) == m.sum_i32(array.array("i", ints.tobytes())) == expected
        floats = rng.random(n)
        assert m.dot(floats, memoryview(floats)) == pytest.approx(float(floats @ floats))
        data = bytearray(rng.bytes(n))
        flipped = data[::-1]
        m.reverse_bytes(data)
        assert data == flipped
        frame = numpy.frombuffer(bytearray(rng.bytes(n)), dtype="u1")
        before = frame.copy()
        m.reverse_bytes(frame)
        assert (frame == before[::-1]).all()


SPIN_THEN_TRAP = """(module
  (memory (export "memory") 2)
  (global $sp (export "__stack_pointer") (mut i32) (i32.const 65536))
  (func (export "get_sp") (result i32) global.get $sp)
  (func (export "slow_trap") (param $n i32) (result i32) (local $i i32)
    (global.set $sp (i32.sub (global.get $sp) (i32.const 4096)))
    (block $done (loop $more
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $more)))
    unreachable))"""


@pytest.mark.parametrize("path", ["compiled", "ctypes"])
def test_ctrl_c_during_a_call_that_traps_still_restores_the_guest_stack(path: str) -> None:
    """The failure report runs whole (the stack pointer put back) before KeyboardInterrupt."""
    m = wasmbridge.load(wasmtime.wat2wasm(SPIN_THEN_TRAP), name="spin.wasm")
    slow_trap = m.slow_trap if path == "compiled" else python_caller(m.slow_trap)
    started = time.monotonic()
    with pytest.raises(wasmbridge.Trap):
        slow_trap(20_000_000)
    spins = int(20_000_000 * 0.5 / max(time.monotonic() - started, 1e-3))  # ~0.5 s of work
    for _ in range(3):
        timer = threading.Timer(0.15, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        with pytest.raises((KeyboardInterrupt, wasmbridge.Trap)):
            try:
                slow_trap(spins)
            finally:
                timer.join()
        try:
            time.sleep(0.05)  # a deferred interrupt arrives here
        except KeyboardInterrupt:
            pass
        assert m.get_sp() == 65536


def python_caller(export: Any) -> Any:
    return getattr(export, "fallback", export)


@pytest.mark.parametrize("path", ["compiled", "ctypes"])
def test_a_memory_past_2_gib_passes_buffers_on_both_paths(types_wasm: Path, path: str) -> None:
    """Arena and buffers at addresses >= 2**31: addresses cross as unsigned."""
    m = wasmbridge.load(types_wasm)
    m.grow_memory(33_000)  # pages: ~2.06 GiB, so the arena opens above 2 GiB
    call: Callable[[str], Callable[..., Any]] = (
        (lambda name: getattr(m, name))
        if path == "compiled"
        else (lambda name: python_caller(getattr(m, name)))
    )
    assert call("upper")("abc") == "ABC"
    assert call("echo_bytes")(b"xyz" * 1000) == b"xyz" * 1000
    assert call("len_str")("héllo") == 6
