"""One call per fresh instance in C (runtime/store/oneshot.py), against Python's own answer.

The fixture crate tests/fixtures/crates/oneshot exports record-in, record-out
functions: an echo checked against a Python reference over long random
sequences (sizes across every boundary, from several threads), and functions
that panic, trap, loop, exhaust memory or the stack: those give None (the
caller then runs the general path, which says why), except the time limit,
raised as the general path raises it.
"""

from __future__ import annotations

import dataclasses
import os
import random
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
import wasmtime

import wasmbridge
from wasmbridge import Limits, TimeLimitExceeded
from wasmbridge.runtime.bridge import native
from wasmbridge.runtime.store.oneshot import OneShot

pytestmark = [
    pytest.mark.toolchain,
    pytest.mark.skipif(native.NATIVE is None, reason=f"no compiled call path: {native.WHY_NOT}"),
]

SIZES = (0, 1, 2, 4095, 4096, 4097, 65535, 65536, 65537, 1 << 20)
LIMITS = dataclasses.replace(Limits.untrusted(), timeout_s=2.0, memory_mb=32)


@pytest.fixture(scope="module")
def module(build_fixture: Any) -> Any:
    return wasmbridge.compile(build_fixture("oneshot"))


def shot(module: Any, export: str, limits: Limits | None = LIMITS) -> OneShot:
    made = OneShot.make(module, export, limits)
    assert made is not None, f"{export} should run in one shot"
    return made


def expected(name: str, data: bytes, n: int) -> tuple[str, bytes, int]:
    reverse = data[::-1]
    return name.upper(), reverse * (1 + n % 4), sum(data)


def check_echo(echo: OneShot, module: Any, rng: random.Random, size: int) -> None:
    name = "".join(rng.choice("abcxyzäß ") for _ in range(rng.randrange(0, 40)))
    data, n = rng.randbytes(size), rng.randrange(0, 1 << 32)
    reply = echo(module.Message(name, data, n))
    assert reply is not None, (size, n)
    want_name, want_data, want_sum = expected(name, data, n)
    assert (reply.name, bytes(reply.data), reply.sum) == (want_name, want_data, want_sum)
    assert reply.calls == 1  # a fresh instance every time: no state survives


def test_echo_equals_the_reference_over_a_long_random_sequence(module: Any) -> None:
    echo, rng = shot(module, "echo"), random.Random(1234)
    for size in (*SIZES, *(rng.choice(SIZES) + rng.randrange(-3, 4) for _ in range(300))):
        check_echo(echo, module, rng, max(0, size))


def test_without_limits_too(module: Any) -> None:
    check_echo(shot(module, "echo", None), module, random.Random(5), 70_000)


def test_the_general_path_gives_the_same_reply(module: Any) -> None:
    message = module.Message("Mixed Case", bytes(range(256)) * 3, 6)
    fresh = module.instantiate(limits=LIMITS)
    try:
        general = fresh.echo(message)
    finally:
        fresh.close()
    assert shot(module, "echo")(message) == general


def test_failures_give_none_and_the_instance_goes_on(module: Any) -> None:
    message = module.Message
    assert shot(module, "boom")(message("x", b"", 0)) is None  # a panic
    assert shot(module, "divide")(message("x", b"", 0)) is None  # unreachable
    assert shot(module, "divide")(message("x", b"", 8)).sum == 125
    assert shot(module, "hoard")(message("x", b"", 64)) is None  # over memory_mb=32
    assert shot(module, "hoard")(message("x", b"", 4)).sum == 4 << 20
    assert shot(module, "recurse")(message("x", b"", 10_000_000)) is None  # the wasm stack
    assert shot(module, "recurse")(message("x", b"", 500)).sum == 500
    check_echo(shot(module, "echo"), module, random.Random(9), 4096)


def test_an_unchecked_argument_is_checked_as_it_crosses(module: Any) -> None:
    echo = shot(module, "echo")
    assert echo(echo.argument("ab", b"\x01\x02", 1)).data == b"\x02\x01\x02\x01"
    assert echo(echo.argument("ab", b"", 2**32)) is None  # n is a u32
    assert echo(echo.argument("\ud800", b"", 1)) is None  # a lone surrogate is no UTF-8
    assert echo(echo.argument(7, b"", 1)) is None


def test_a_value_that_cannot_cross_gives_none(module: Any) -> None:
    echo = shot(module, "echo")
    assert echo({"name": "x", "data": b"", "n": -1}) is None  # n is a u32
    assert echo({"name": "x"}) is None  # fields missing
    assert echo({"name": "x", "data": b"ab", "n": 1}).data == b"baba"  # a mapping crosses


@pytest.mark.parametrize("timeout", [0.02, 0.1, 0.5])
def test_time_limits_hold_at_many_values(module: Any, timeout: float) -> None:
    spin = shot(module, "spin", dataclasses.replace(LIMITS, timeout_s=timeout))
    started = time.monotonic()
    with pytest.raises(TimeLimitExceeded, match="ran past its .* time limit"):
        spin(module.Message("x", b"", 1))
    took = time.monotonic() - started
    assert timeout <= took < timeout + 0.5


def test_a_deadline_passed_before_the_store_exists_still_stops_the_call(module: Any) -> None:
    # With 1 ms, the ticker's one tick after the deadline can come before the C side
    # makes the store: the call must still end at once, not at the ticker's next kick.
    spin = shot(module, "spin", dataclasses.replace(LIMITS, timeout_s=0.001))
    slowest = 0.0
    for _ in range(150):
        started = time.monotonic()
        with pytest.raises(TimeLimitExceeded):
            spin(module.Message("x", b"", 1))
        slowest = max(slowest, time.monotonic() - started)
    assert slowest < 0.3


def test_a_start_function_trap_on_the_general_path_is_a_trap() -> None:
    # What a one-shot call falls back to: instantiation must report the trap itself.
    wasm = wasmtime.wat2wasm(
        """(module
          (import "wasmbridge" "panic" (func (param i32 i32 i32 i32 i32 i32)))
          (memory (export "memory") 1)
          (func $start unreachable)
          (start $start))"""
    )
    with pytest.raises(wasmbridge.Trap, match="the start function"):
        wasmbridge.compile(wasm).instantiate(limits=LIMITS)


def test_time_limit_with_a_busy_neighbour(module: Any) -> None:
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        spin = shot(module, "spin", dataclasses.replace(LIMITS, timeout_s=0.15))
        for _ in range(3):
            started = time.monotonic()
            with pytest.raises(TimeLimitExceeded):
                spin(module.Message("x", b"", 1))
            assert time.monotonic() - started < 1.0
    finally:
        burner.kill()
        burner.wait()


def test_threads_share_one_shot(module: Any) -> None:
    echo, errors = shot(module, "echo"), []

    def hammer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(150):
                check_echo(echo, module, rng, rng.choice(SIZES[:8]))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_a_module_with_host_imports_does_not_qualify(build_fixture: Any) -> None:
    imports = wasmbridge.compile(build_fixture("imports"))
    assert all(OneShot.make(imports, name, LIMITS) is None for name in imports.exports)


def test_exports_not_record_to_record_do_not_qualify(module: Any) -> None:
    for export in ("size", "pair", "no_such_export"):
        assert OneShot.make(module, export, LIMITS) is None, export


def test_fuel_limits_do_not_qualify(module: Any) -> None:
    assert OneShot.make(module, "echo", dataclasses.replace(LIMITS, fuel=10**9)) is None


def test_the_ctypes_call_path_has_none(build_fixture: Any) -> None:
    wasm = build_fixture("oneshot")
    code = (
        "import wasmbridge; from wasmbridge.runtime.store.oneshot import OneShot; "
        f"m = wasmbridge.compile({str(wasm)!r}); print(OneShot.make(m, 'echo', None))"
    )
    env = {**os.environ, "WASMBRIDGE_NATIVE": "0"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None"
