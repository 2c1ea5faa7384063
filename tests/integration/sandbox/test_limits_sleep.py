"""Fuel bounds WASI sleeps too: a sleep costs fuel in proportion to its length."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sandbox_corpus import SLEEP_FOREVER, WASI

import wasmbridge
from sandbox_helpers import wat
from wasmbridge import Limits
from wasmbridge.runtime.sandbox.wasi_poll import FUEL_PER_SLEEP_NS

NAP_NS = 1_000_000


def napper(nap_ns: int) -> bytes:
    """A WASI library: ``nap_forever()`` sleeps ``nap_ns`` at a time (a relative monotonic
    clock subscription at 0) and counts its naps in a global that ``naps()`` returns."""
    timeout = "".join(f"\\{byte:02x}" for byte in nap_ns.to_bytes(8, "little"))
    return wat(
        f'(module (import "{WASI}" "poll_oneoff"'
        " (func $poll (param i32 i32 i32 i32) (result i32)))"
        ' (memory (export "memory") 1)'
        f' (data (i32.const 16) "\\01\\00\\00\\00\\00\\00\\00\\00{timeout}")'
        " (global $naps (mut i32) (i32.const 0))"
        ' (func (export "nap_forever") (loop'
        " (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 96)))"
        " (global.set $naps (i32.add (global.get $naps) (i32.const 1))) (br 0)))"
        ' (func (export "naps") (result i32) global.get $naps))'
    )


@pytest.mark.parametrize("isolation", ["inline", "process"])
def test_fuel_alone_stops_a_guest_sleeping_forever(isolation: str) -> None:
    start = time.monotonic()
    with pytest.raises(
        wasmbridge.FuelExhausted,
        match=r"(?m)^`_start\(\)` in sleep\.wasm ran out of fuel \(1,000,000 units\) while sleeping "
        r"in WASI poll_oneoff$",
    ) as caught:
        wasmbridge.run(
            SLEEP_FOREVER,
            name="sleep.wasm",
            limits=Limits(fuel=1_000_000),
            isolation=isolation,  # type: ignore[arg-type]
        )
    assert time.monotonic() - start < 10  # it does not sleep at all: the sleep costs too much
    assert caught.value.hint == "raise Limits(fuel=...)"


def test_sleeps_cost_fuel_by_their_length_deterministically() -> None:
    fuel = 10 * NAP_NS * FUEL_PER_SLEEP_NS + 500_000  # ten naps, and fuel for the loop
    counts = []
    for _ in range(3):
        m = wasmbridge.load(napper(NAP_NS), name="napper.wasm", limits=Limits(fuel=fuel))
        with pytest.raises(
            wasmbridge.FuelExhausted, match="(?m)while sleeping in WASI poll_oneoff$"
        ):
            m.nap_forever()
        counts.append(m.naps())
    assert counts == [10, 10, 10]


def test_the_time_limit_still_cuts_a_sleep_that_fuel_could_pay_for() -> None:
    m = wasmbridge.load(
        napper(60 * 10**9),  # one minute at a time
        name="napper.wasm",
        limits=Limits(fuel=10**15, timeout_s=0.2),  # fuel for 11 days of sleep
    )
    with pytest.raises(
        wasmbridge.TimeLimitExceeded,
        match=r"(?m)^`nap_forever\(\)` in napper\.wasm ran past its 0.2 s time limit while sleeping "
        r"in WASI poll_oneoff$",
    ):
        m.nap_forever()
    assert m.naps() == 0


@pytest.mark.toolchain
def test_a_rust_sleep_under_fuel_only(wasi_lib: Path) -> None:
    m = wasmbridge.load(wasi_lib, limits=Limits(fuel=10**9))  # one second of sleep per call
    m.sleep_ms(20)
    start = time.monotonic()
    with pytest.raises(
        wasmbridge.FuelExhausted,
        match=r"(?m)^`sleep_ms\(100000\)` in wasi_lib\.wasm ran out of fuel \(1,000,000,000 units\) "
        r"while sleeping in WASI poll_oneoff$",
    ):
        m.sleep_ms(100_000)
    assert time.monotonic() - start < 10
    m.sleep_ms(20)  # the fuel is refilled for the next call


def test_wasmbridge_run_with_fuel_and_no_timeout_still_ends(tmp_path: Path) -> None:
    (tmp_path / "sleep.wasm").write_bytes(SLEEP_FOREVER)
    proc = subprocess.run(
        [sys.executable, "-m", "wasmbridge", "run", "sleep.wasm", "--timeout", "none"]
        + ["--fuel", "1000000"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "error: `_start()` in sleep.wasm ran out of fuel (1,000,000 units) while sleeping in "
        "WASI poll_oneoff",
        "  hint:  raise Limits(fuel=...)",
    ]


def test_an_output_cap_hit_in_one_call_is_not_the_next_calls(wasi_lib: Path) -> None:
    """A write refused at the cap, the error ignored, the call returned: the next call
    on the instance runs to its end (it was stopped at its first tick)."""
    from wasmbridge.runtime.sandbox.grants import Grants

    module = wasmbridge.compile(wasi_lib, limits=Limits(timeout_s=5, max_output_bytes=1024))
    with module.instantiate(wasi=Grants.build("wasi_lib.wasm", stdout="capture")) as m:
        expected = m.churn(20_000_000)
        for _ in range(5):
            assert m.blurt(4096) == 0  # over the 1 KiB cap: refused; the guest returns
            assert m.churn(20_000_000) == expected
