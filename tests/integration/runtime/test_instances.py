"""Fresh instances: each its own memory and state, from a pool, lazily bound.

``Module.instantiate()`` takes a slot of its engine's instance pool
(engine/settings.py) and binds memory, allocator and stack pointer on first
use (store/live.py). These tests check that nothing of that shows: every
instance starts from the module's initial memory whatever the instance
before it in the slot wrote, many live at once without seeing each other,
the pool's cap is an error that says what to do, and limits, WASI and
modules that fit no slot work as before.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from typing import Any

import pytest

import wasmbridge
from sandbox_helpers import wat
from wasmbridge import Limits
from wasmbridge.runtime.engine.settings import POOL_TABLE_ELEMENTS, pool_fits, pool_slots
from wasmbridge.runtime.engine.source import inspect_bytes
from wasmbridge.runtime.sandbox.grants import Grants

# put(addr, value) stores an i32 and tells the host; get(addr) loads one; grow(n)
# grows the memory. Address 16 starts as 42 (a data segment).
CELLS = wat(
    '(module (import "env" "note" (func $note (param i32)))'
    ' (memory (export "memory") 1) (data (i32.const 16) "\\2a")'
    " (table 2 2 funcref)"
    ' (func (export "put") (param i32 i32) (i32.store (local.get 0) (local.get 1))'
    "  (call $note (local.get 1)))"
    ' (func (export "get") (param i32) (result i32) (i32.load (local.get 0)))'
    ' (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))'
    ' (func (export "spin") (loop br 0)))'
)
PAGE = 65536


def _notes() -> tuple[list[int], dict[str, Any]]:
    seen: list[int] = []
    return seen, {"note": seen.append}


def _settings(instance: wasmbridge.Instance) -> Any:
    return instance._instance.settings


@pytest.fixture(scope="module")
def cells() -> wasmbridge.Module:
    return wasmbridge.compile(CELLS, name="cells.wasm")


def _check_fresh(m: wasmbridge.Instance, value: int) -> None:
    """The instance starts from the module's initial memory, then holds ``value``."""
    assert m.get(16) == 42 and m.get(0) == 0 and m.get(PAGE - 4) == 0
    assert len(m.memory_view()) == PAGE
    m.put(0, value)
    m.put(PAGE - 4, value)
    assert m.get(0) == value


def test_instances_come_from_the_pool_and_each_starts_from_the_initial_memory(
    cells: wasmbridge.Module,
) -> None:
    for value in range(1, 3001):
        seen, imports = _notes()
        with cells.instantiate(imports) as m:
            _check_fresh(m, value)
            assert m.grow(2) == 1  # the slot's next user must not see these pages
            m.put(2 * PAGE, value)
            assert seen == [value, value, value]
    assert _settings(cells.instantiate({"note": print})).pooled
    assert pool_slots[_settings(cells.instantiate({"note": print}))] > 0


def test_live_instances_never_see_each_other_s_memory(cells: wasmbridge.Module) -> None:
    live = []
    for value in range(1, 501):
        m = cells.instantiate({"note": lambda v: None})
        _check_fresh(m, value)
        live.append(m)
    assert [m.get(0) for m in live] == list(range(1, 501))
    assert [bytes(m.memory_view()[16:17]) for m in live] == [b"\x2a"] * 500
    for m in live[::2]:
        m.close()
    for value, m in enumerate(live[1::2], start=1):
        assert m.get(0) == 2 * value
        m.close()


def test_instances_made_on_several_threads_each_have_their_own_memory(
    cells: wasmbridge.Module,
) -> None:
    failures: list[BaseException] = []

    def work(thread: int) -> None:
        try:
            for i in range(400):
                value = thread * 100_000 + i + 1
                seen, imports = _notes()
                m = cells.instantiate(imports)
                _check_fresh(m, value)
                assert seen == [value, value]
                if i % 2:
                    m.close()  # the others wait for the collector
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_a_closed_instance_raises_the_closed_error(cells: wasmbridge.Module) -> None:
    m = cells.instantiate({"note": print})
    m.close()
    with pytest.raises(wasmbridge.ModuleError, match=r"^cells\.wasm: `get\(\)` cannot run: "):
        m.get(0)
    unused = cells.instantiate({"note": print})
    unused.close()  # closed before anything was bound
    with pytest.raises(wasmbridge.ModuleError, match=r"this instance was closed"):
        unused.put(0, 1)
    with pytest.raises(wasmbridge.ModuleError, match=r"this instance was closed"):
        unused.memory_view()


POOL_CAP = textwrap.dedent(
    """
    import gc, sys
    import wasmbridge
    module = wasmbridge.compile(bytes.fromhex(sys.argv[1]), name="cells.wasm")
    imports = {"note": lambda v: None}
    live = [module.instantiate(imports) for _ in range(20)]
    try:
        module.instantiate(imports)
    except wasmbridge.ModuleError as exc:
        print(exc)
        print(exc.hint)
    for m in live[:5]:
        m.close()
    more = [module.instantiate(imports) for _ in range(5)]
    print(sum(m.get(16) for m in live[5:] + more))
    for m in live[5:] + more:
        m.close()
    # Dropped without close(): the pool waits for the collector, which runs when it is full.
    gc.disable()
    for value in range(200):
        m = module.instantiate(imports)
        m.put(0, value)
        assert m.get(0) == value and m.get(16) == 42
        del m
    print("dropped ok")
    """
)


def test_past_the_pool_cap_instantiating_says_so_and_closing_some_makes_room() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", POOL_CAP, CELLS.hex()],
        capture_output=True,
        text=True,
        timeout=120,
        env={"WASMBRIDGE_MAX_INSTANCES": "20", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    message, hint, total, dropped = proc.stdout.splitlines()
    assert message == (
        "cells.wasm cannot be instantiated: 20 instances of its engine are live, as many as "
        "its instance pool holds"
    )
    assert hint == (
        "close instances you no longer need (instance.close(), or `with module.instantiate() "
        "as m:`), or set WASMBRIDGE_MAX_INSTANCES to a larger number before the first "
        'instance is made (docs/sandbox.md, "Instances")'
    )
    assert (total, dropped) == (str(20 * 42), "dropped ok")


BIG_TABLE = wat(
    '(module (memory (export "memory") 1) (table 20000 funcref)'
    ' (func (export "size") (result i32) table.size)'
    ' (func (export "grow") (result i32) (table.grow (ref.null func) (i32.const 100000))))'
)
TWO_MEMORIES = wat(
    '(module (memory (export "memory") 1) (memory $b 2)'
    ' (func (export "put") (param i32 i32) (i32.store $b (local.get 0) (local.get 1)))'
    ' (func (export "get") (param i32) (result i32) (i32.load $b (local.get 0)))'
    ' (func (export "pages") (result i32) (memory.size $b)))'
)


def test_modules_that_fit_no_pool_slot_are_instantiated_on_demand() -> None:
    for data in (BIG_TABLE, TWO_MEMORIES):
        assert not pool_fits(inspect_bytes(data, "x.wasm", 1 << 20)[0])
    assert pool_fits(inspect_bytes(CELLS, "x.wasm", 1 << 20)[0])
    tables = wasmbridge.compile(BIG_TABLE, name="table.wasm")
    for _ in range(3):
        with tables.instantiate() as m:
            assert not _settings(m).pooled
            assert m.size() == 20_000 > POOL_TABLE_ELEMENTS
            assert m.grow() == 20_000 and m.size() == 120_000  # no slot caps it
    memories = wasmbridge.compile(TWO_MEMORIES, name="two.wasm")
    live = [memories.instantiate() for _ in range(3)]
    for i, m in enumerate(live):
        assert m.get(PAGE) == 0
        m.put(PAGE, i + 7)
    assert [m.get(PAGE) for m in live] == [7, 8, 9] and live[0].pages() == 2


def test_pooled_instances_enforce_their_limits(cells: wasmbridge.Module) -> None:
    imports = {"note": lambda v: None}
    capped = cells.instantiate(imports, limits=Limits(memory_mb=1))
    assert _settings(capped).pooled
    assert capped.grow(15) == 1 and capped.grow(1) == -1  # 16 pages: 1 MiB
    timed = cells.instantiate(imports, limits=Limits(timeout_s=0.1))
    with pytest.raises(wasmbridge.TimeLimitExceeded):
        timed.spin()
    assert timed.get(16) == 42
    fueled = cells.instantiate(imports, limits=Limits(fuel=10_000))
    with pytest.raises(wasmbridge.FuelExhausted):
        fueled.spin()
    assert fueled.get(16) == 42


def test_a_module_compiled_without_limits_stops_when_instantiated_with_a_time_limit() -> None:
    module = wasmbridge.compile(CELLS, name="cells.wasm")
    assert module.limits is None
    free = module.instantiate({"note": print})
    assert not _settings(free).epoch  # no epoch checks: native speed
    timed = module.instantiate({"note": print}, limits=Limits(timeout_s=0.1))
    assert _settings(timed).epoch
    with pytest.raises(wasmbridge.TimeLimitExceeded, match=r"`spin\(\)` in cells\.wasm"):
        timed.spin()
    assert free.get(16) == timed.get(16) == 42


def test_a_time_limited_module_runs_without_checks_when_instantiated_without_one() -> None:
    module = wasmbridge.compile(CELLS, name="cells.wasm", limits=Limits(timeout_s=5))
    assert _settings(module.instantiate({"note": print})).epoch
    free = module.instantiate({"note": print}, limits=Limits(memory_mb=64))
    assert not _settings(free).epoch and free.get(16) == 42


# A WASI reactor: argc from args_sizes_get (the module's name only, by default).
WASI = wat(
    '(module (import "wasi_snapshot_preview1" "args_sizes_get"'
    " (func $sizes (param i32 i32) (result i32)))"
    ' (memory (export "memory") 1)'
    ' (func (export "argc") (result i32)'
    "  (drop (call $sizes (i32.const 0) (i32.const 4))) (i32.load (i32.const 0))))"
)


def test_wasi_modules_still_get_wasi_per_instance() -> None:
    module = wasmbridge.compile(WASI, name="wasi.wasm")
    for _ in range(50):
        with module.instantiate() as m:
            assert m.argc() == 1
    with module.instantiate(wasi=Grants(argv=("a", "b", "c"))) as m:
        assert m.argc() == 3


def test_threads_making_the_first_calls_of_one_instance_all_find_it_bound(
    cells: wasmbridge.Module,
) -> None:
    # Memory, allocator and stack pointer are bound by whichever thread comes first;
    # the others must never see them half bound.
    for _ in range(50):
        m = cells.instantiate({"note": lambda v: None})
        start = threading.Barrier(4)
        seen: list[object] = []

        def first_call(
            m: wasmbridge.Instance, start: threading.Barrier, seen: list[object]
        ) -> None:
            start.wait()
            seen.append((m.get(16), len(m.memory_view()), m._instance.marshal is None))

        threads = [threading.Thread(target=first_call, args=(m, start, seen)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert seen == [(42, PAGE, True)] * 4  # CELLS exports no allocator
        m.close()
