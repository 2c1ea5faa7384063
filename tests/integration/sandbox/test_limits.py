"""Limits on every instance and every call: arming, re-arming, determinism, the call path."""

from __future__ import annotations

import importlib.util
import threading
import time
from pathlib import Path

import pytest
from sandbox_corpus import LOOP, RECURSE

import wasmbridge
from sandbox_helpers import wat
from wasmbridge import Limits
from wasmbridge.runtime.engine import EngineSettings
from wasmbridge.runtime.sandbox.ticker import BUSY_MARGIN_S, TICK_S, get_ticker

COUNTER = wat(
    "(module (global $n (mut i32) (i32.const 0))"
    ' (func (export "count") (loop (global.set $n (i32.add (global.get $n) (i32.const 1))) (br 0)))'
    ' (func (export "counted") (result i32) global.get $n)'
    ' (func (export "reset") (global.set $n (i32.const 0))))'
)
NAP = wat(
    '(module (import "env" "nap" (func $nap))'
    ' (func (export "nap_then_add") (param i32 i32) (result i32)'
    " call $nap local.get 0 local.get 1 i32.add))"
)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timeout_s": 0}, r"^Limits\(timeout_s=0\): expected a positive number$"),
        ({"timeout_s": float("inf")}, r"^Limits\(timeout_s=inf\): expected a positive number$"),
        ({"memory_mb": -1}, r"^Limits\(memory_mb=-1\): expected a positive number$"),
        ({"fuel": 1.5}, r"^Limits\(fuel=1.5\): expected a non-negative int$"),
        ({"table_elements": True}, r"^Limits\(table_elements=True\): expected a non-negative int$"),
        ({"stack_kb": 8}, r"^Limits\(stack_kb=8\): expected an int from 16 to 65536$"),
        ({"compile_s": 0}, r"^Limits\(compile_s=0\): expected a positive number$"),
        ({"compile_mb": -1.5}, r"^Limits\(compile_mb=-1.5\): expected a positive number$"),
    ],
    ids=[
        "zero-timeout",
        "infinite-timeout",
        "negative-memory",
        "float-fuel",
        "bool-table",
        "tiny-stack",
        "zero-compile-time",
        "negative-compile-memory",
    ],
)
def test_invalid_limits_name_the_field(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Limits(**kwargs)  # type: ignore[arg-type]


def test_limits_repr_shows_only_what_is_set() -> None:
    assert repr(Limits(memory_mb=64, timeout_s=1.0)) == "Limits(memory_mb=64, timeout_s=1.0)"


def test_module_keeps_working_after_each_limit() -> None:
    timed = wasmbridge.load(LOOP, name="loop.wasm", limits=Limits(timeout_s=0.1))
    with pytest.raises(wasmbridge.TimeLimitExceeded):
        timed.spin()
    assert timed.add(2, 3) == 5
    fueled = wasmbridge.load(LOOP, name="loop.wasm", limits=Limits(fuel=10_000))
    with pytest.raises(wasmbridge.FuelExhausted):
        fueled.spin()
    assert fueled.add(2, 3) == 5  # refilled for each call
    deep = wasmbridge.load(RECURSE, name="rec.wasm", limits=Limits(stack_kb=64))
    with pytest.raises(wasmbridge.StackLimitExceeded):
        deep.recurse(0)
    assert deep.add(2, 3) == 5


def test_fuel_is_deterministic() -> None:
    counts = []
    for _ in range(3):
        m = wasmbridge.load(COUNTER, name="counter.wasm", limits=Limits(fuel=50_000))
        with pytest.raises(wasmbridge.FuelExhausted, match=r"(?m)\(50,000 units\)$"):
            m.count()
        counts.append(m.counted())
    assert counts[0] > 1000 and counts == [counts[0]] * 3


def test_fuel_gets_its_own_engine_and_cache_entry() -> None:
    plain, fueled = EngineSettings.for_limits(None), EngineSettings.for_limits(Limits(fuel=1))
    assert (plain.fuel, fueled.fuel) == (False, True)
    assert plain.fingerprint() != fueled.fingerprint()
    assert EngineSettings.for_limits(Limits(stack_kb=64)).max_wasm_stack == 64 * 1024


def test_time_limit_is_per_call_not_per_module() -> None:
    m = wasmbridge.load(
        NAP,
        name="nap.wasm",
        imports={"nap": lambda: time.sleep(0.05)},
        limits=Limits(timeout_s=0.2),
    )
    for i in range(6):  # 0.3 s in all, each call well inside its own 0.2 s
        assert m.nap_then_add(i, 1) == i + 1


def test_time_limit_fires_within_a_tick_or_two() -> None:
    m = wasmbridge.load(LOOP, name="loop.wasm", limits=Limits(timeout_s=0.15))
    start = time.monotonic()
    with pytest.raises(wasmbridge.TimeLimitExceeded, match=r"(?m)ran past its 0.15 s time limit$"):
        m.spin()
    assert 0.15 <= time.monotonic() - start < 0.15 + 0.5


def test_time_limit_from_another_thread() -> None:
    m = wasmbridge.load(LOOP, name="loop.wasm", limits=Limits(timeout_s=0.1))
    errors: list[BaseException] = []

    def spin() -> None:
        try:
            m.spin()
        except wasmbridge.TimeLimitExceeded as exc:
            errors.append(exc)

    threads = [threading.Thread(target=spin) for _ in range(3)]  # serialised by the instance
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(errors) == 3


def test_ticker_parks_when_no_limited_call_runs() -> None:
    m = wasmbridge.load(LOOP, name="loop.wasm", limits=Limits(timeout_s=0.05))
    with pytest.raises(wasmbridge.TimeLimitExceeded):
        m.spin()
    ticker = get_ticker()
    time.sleep(BUSY_MARGIN_S + 5 * TICK_S)
    ticks = ticker.ticks
    time.sleep(10 * TICK_S)
    assert ticker.parked and ticker.ticks == ticks


def test_calls_without_limits_keep_the_plain_call_path() -> None:
    plain = wasmbridge.load(LOOP, name="loop.wasm")
    limited = wasmbridge.load(LOOP, name="loop.wasm", limits=Limits(timeout_s=1))
    assert "_wb_before" not in plain.add.__wasmbridge_source__
    assert "        _wb_before()\n" in limited.add.__wasmbridge_source__


@pytest.mark.toolchain
def test_buffers_still_move_after_a_deadline_passed_or_the_fuel_ran_out(types_wasm: Path) -> None:
    # The allocator runs while arguments are lowered, before the call is armed.
    timed = wasmbridge.load(types_wasm, limits=Limits(timeout_s=0.1))
    assert timed.echo_str("a") == "a"
    time.sleep(0.3)  # the previous call's deadline is long gone
    assert timed.echo_str("é" * 100) == "é" * 100
    with pytest.raises(wasmbridge.StackLimitExceeded):
        timed.stack_overflow(1)
    assert timed.echo_str("b") == "b"
    fueled = wasmbridge.load(types_wasm, limits=Limits(fuel=2_000_000))
    with pytest.raises(wasmbridge.StackLimitExceeded):
        fueled.stack_overflow(1)
    assert fueled.echo_str("c") == "c"


@pytest.mark.toolchain
def test_nested_call_from_an_import_runs_under_the_outer_limits(imports_wasm: Path) -> None:
    holder: dict[str, wasmbridge.Instance] = {}

    def host_add(a: int, b: int) -> int:
        assert holder["m"].call_upper("x") == "X"
        return a + b

    holder["m"] = wasmbridge.load(
        imports_wasm,
        imports=dict(_runtime_host_imports(), host_add=host_add),
        limits=Limits(timeout_s=1, fuel=10**7),
    )
    assert holder["m"].call_add(20, 22) == 42


def _runtime_host_imports() -> dict[str, object]:
    """The host functions of tests/integration/runtime/test_imports.py."""
    path = Path(__file__).parents[1] / "runtime" / "test_imports.py"
    spec = importlib.util.spec_from_file_location("runtime_test_imports", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    host: dict[str, object] = module.HOST
    return host
