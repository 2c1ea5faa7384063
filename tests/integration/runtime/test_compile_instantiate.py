"""``compile()`` once, ``Module.instantiate()`` many times; ``Instance.close()``."""

from __future__ import annotations

import gc
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import pytest

import wasmbridge
from sandbox_helpers import wat
from wasmbridge import FuelExhausted, Limits, LinkError, ModuleError
from wasmbridge.runtime.engine import EngineSettings
from wasmbridge.runtime.engine.cache import CompileCache

COUNTER = wat(
    """(module
      (import "env" "report" (func $report (param i32) (result i32)))
      (memory (export "memory") 1)
      (global $n (mut i32) (i32.const 0))
      (func (export "incr") (result i32)
        (global.set $n (i32.add (global.get $n) (i32.const 1)))
        (global.get $n))
      (func (export "report_count") (result i32) (call $report (global.get $n)))
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
      (func (export "spin") (param i32) (result i32)
        (local $i i32)
        (loop $l
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get 0))))
        (local.get $i)))"""
)


def _echo(value: int) -> int:
    return value


class CountingCache(CompileCache):
    """The compile cache, counting how often code is asked for."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.asked: list[EngineSettings] = []

    def module(self, wasm: bytes, settings: EngineSettings) -> Any:
        self.asked.append(settings)
        return super().module(wasm, settings)


# -- compile -------------------------------------------------------------------------


def test_compile_from_bytes_and_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "counter.wasm"
    path.write_bytes(COUNTER)
    from_path = wasmbridge.compile(path)
    from_bytes = wasmbridge.compile(COUNTER, name="counter")
    assert (from_path.name, from_bytes.name) == ("counter.wasm", "counter")
    assert isinstance(from_path, wasmbridge.Module)
    assert repr(from_path) == "<wasmbridge.Module counter.wasm: grow, incr, report_count, spin>"
    path.unlink()  # instances need the compiled module only, never the file again
    instance = from_path.instantiate({"report": _echo})
    assert isinstance(instance, wasmbridge.Instance)
    assert instance.module is from_path
    assert instance.incr() == 1


def test_module_lists_its_exports_and_the_imports_a_caller_supplies() -> None:
    module = wasmbridge.compile(COUNTER, name="counter")
    assert sorted(module.exports) == ["grow", "incr", "report_count", "spin"]
    assert module.exports["grow"].signature() == "grow(p0: i32) -> i32"
    assert list(module.imports) == ["env.report"]
    assert module.imports["env.report"].module == "env"
    assert module.interface is None


def test_code_is_compiled_once_for_every_instance(tmp_path: Path) -> None:
    cache = CountingCache(tmp_path / "cache")
    module = wasmbridge.compile(COUNTER, cache=cache)
    for _ in range(20):
        assert module.instantiate({"report": _echo}).incr() == 1
    assert len(cache.asked) == 1
    # Fuel changes the compiled code: one more compile for its engine, then shared too.
    for _ in range(3):
        module.instantiate({"report": _echo}, limits=Limits(fuel=10_000)).incr()
    assert len(cache.asked) == 2
    assert cache.asked[1].fuel


def test_load_is_compile_then_instantiate() -> None:
    m = wasmbridge.load(COUNTER, imports={"report": _echo}, name="counter")
    assert isinstance(m, wasmbridge.Instance)
    assert isinstance(m.module, wasmbridge.Module)
    assert repr(m) == "<wasmbridge.Instance counter: grow, incr, report_count, spin>"
    fresh = m.module.instantiate({"report": _echo})
    assert (m.incr(), m.incr(), fresh.incr()) == (1, 2, 1)


# -- instances ----------------------------------------------------------------------


def test_each_instance_starts_with_fresh_state() -> None:
    module = wasmbridge.compile(COUNTER)
    first = module.instantiate({"report": _echo})
    first.incr()
    first.memory_view()[100:104] = b"abcd"
    second = module.instantiate({"report": _echo})
    assert second.incr() == 1
    assert bytes(second.memory_view()[100:104]) == b"\0\0\0\0"
    assert first.incr() == 2
    assert bytes(first.memory_view()[100:104]) == b"abcd"


def test_imports_belong_to_each_instance() -> None:
    module = wasmbridge.compile(COUNTER)
    seen: list[tuple[str, int]] = []

    def reporter(tag: str, offset: int) -> Any:
        def report(n: int) -> int:
            seen.append((tag, n))
            return n + offset

        return report

    a = module.instantiate({"report": reporter("a", 100)})
    b = module.instantiate({"env": {"report": reporter("b", 200)}})
    a.incr()
    assert (a.report_count(), b.report_count(), a.report_count()) == (101, 200, 101)
    assert seen == [("a", 1), ("b", 0), ("a", 1)]


def test_missing_imports_are_refused_at_instantiate_not_compile() -> None:
    module = wasmbridge.compile(COUNTER, name="counter")
    with pytest.raises(LinkError) as caught:
        module.instantiate()
    assert caught.value.message == (
        "counter needs host function `env.report` (i32) -> (i32) (imports supplied: nothing)"
    )
    assert module.instantiate({"report": _echo}).incr() == 1


def test_limits_apply_per_instance() -> None:
    module = wasmbridge.compile(COUNTER, name="counter")
    free = module.instantiate({"report": _echo})
    fueled = module.instantiate({"report": _echo}, limits=Limits(fuel=5_000))
    small = module.instantiate({"report": _echo}, limits=Limits(memory_mb=1))
    with pytest.raises(FuelExhausted, match=r"`spin\(1000000\)` in counter"):
        fueled.spin(1_000_000)
    assert free.spin(1_000_000) == 1_000_000
    assert small.grow(100) == -1  # 1 MiB is 16 pages: the cap refuses the growth
    assert free.grow(100) == 1
    assert fueled.spin(10) == 10  # fuel is per call


def test_limits_given_to_compile_are_the_default_of_its_instances() -> None:
    module = wasmbridge.compile(COUNTER, name="counter", limits=Limits(fuel=5_000))
    assert module.limits == Limits(fuel=5_000)
    with pytest.raises(FuelExhausted):
        module.instantiate({"report": _echo}).spin(1_000_000)
    wide = module.instantiate({"report": _echo}, limits=Limits(fuel=10**9))
    assert wide.spin(1_000_000) == 1_000_000


def test_threads_instantiate_one_module_concurrently() -> None:
    module = wasmbridge.compile(COUNTER)
    failures: list[BaseException] = []

    def work(seed: int) -> None:
        try:
            for round_ in range(40):
                instance = module.instantiate({"report": lambda n: n * seed})
                for expected in range(1, 4):
                    assert instance.incr() == expected
                assert instance.report_count() == 3 * seed, (seed, round_)
                instance.close()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert failures == []


# -- close ----------------------------------------------------------------------------


def test_calls_after_close_raise_a_clear_error() -> None:
    m = wasmbridge.load(COUNTER, imports={"report": _echo}, name="counter")
    incr = m.incr
    assert incr() == 1
    m.close()
    m.close()  # twice is fine
    with pytest.raises(ModuleError) as caught:
        m.incr()
    assert caught.value.message == "counter: `incr()` cannot run: this instance was closed"
    with pytest.raises(ModuleError) as caught:
        incr()  # a callable taken before close() never enters the freed store
    assert caught.value.message == "counter: this instance was closed"
    assert caught.value.hint == "make a new one with module.instantiate() (or wasmbridge.load())"
    with pytest.raises(ModuleError, match="this instance was closed"):
        m.memory_view()
    assert repr(m) == "<wasmbridge.Instance counter (closed)>"


def test_with_block_closes_the_instance() -> None:
    module = wasmbridge.compile(COUNTER)
    with module.instantiate({"report": _echo}) as m:
        assert m.incr() == 1
    with pytest.raises(ModuleError, match="this instance was closed"):
        m.incr()


def test_close_frees_the_store_at_once() -> None:
    m = wasmbridge.load(COUNTER, imports={"report": _echo})
    m.incr()
    store = weakref.ref(m._instance.store)
    gc.disable()  # freed by reference counting, not by a later collection
    try:
        m.close()
        assert store() is None
    finally:
        gc.enable()


def test_views_taken_before_close_never_reach_freed_memory() -> None:
    m = wasmbridge.load(COUNTER, imports={"report": _echo})
    view = m.memory_view()
    view[0:4] = b"keep"
    part = view[0:4]  # a view made from it keeps the memory mapped while it lives
    m.close()
    with pytest.raises(ValueError, match="released memoryview"):
        view[0]
    assert bytes(part) == b"keep"


@pytest.mark.toolchain
def test_arrays_of_a_closed_instance_refuse_their_view(types_wasm: Path) -> None:
    m = wasmbridge.load(types_wasm, name="types.wasm")
    samples = m.array("f32", 4)
    m.close()
    with pytest.raises(ValueError, match=r"^this GuestArray's instance of types.wasm was closed"):
        _ = samples.view
    samples.free()  # nothing left to free: no error


def test_close_waits_for_a_call_running_on_another_thread() -> None:
    started = threading.Event()

    def slow_report(n: int) -> int:
        started.set()
        time.sleep(0.3)
        return n + 7

    m = wasmbridge.load(COUNTER, imports={"report": slow_report})
    results: list[int] = []
    caller = threading.Thread(target=lambda: results.append(m.report_count()))
    caller.start()
    assert started.wait(10)
    m.close()  # returns once the call is done
    caller.join(10)
    assert results == [7]
    with pytest.raises(ModuleError, match="this instance was closed"):
        m.report_count()


def test_close_from_inside_a_host_function_is_refused() -> None:
    holder: dict[str, Any] = {}

    def report(n: int) -> int:
        holder["m"].close()
        return n

    holder["m"] = m = wasmbridge.load(COUNTER, imports={"report": report}, name="counter")
    with pytest.raises(
        ModuleError, match=r"^counter: close\(\) was called from inside one of its own host"
    ):
        m.report_count()
    assert m.incr() == 1  # still open


def test_one_import_named_twice_is_one_host_function() -> None:
    twice = wat(
        """(module
          (import "env" "f" (func $f (param i32) (result i32)))
          (import "env" "f" (func $g (param i32) (result i32)))
          (func (export "both") (result i32)
            (i32.add (call $f (i32.const 1)) (call $g (i32.const 2)))))"""
    )
    assert wasmbridge.load(twice, imports={"f": lambda n: n * 10}).both() == 30


def test_one_import_named_twice_with_two_types_is_refused_at_compile() -> None:
    clash = wat(
        """(module
          (import "env" "f" (func $f))
          (import "env" "f" (func $g (param i32))))"""
    )
    with pytest.raises(LinkError) as caught:
        wasmbridge.compile(clash, name="clash.wasm")
    assert caught.value.message == (
        "clash.wasm imports env.f twice, as () -> () and as (i32) -> (); "
        "one host function cannot be both"
    )
