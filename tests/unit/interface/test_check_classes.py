"""``validate`` checks the exports of classes and of functions with compound types."""

from __future__ import annotations

import wasmtime
from compound_model import COUNTER, GEO, POINT, U32, func, named

from wasmbridge.interface import ClassDef, Interface, WasmModule, parse, validate

ALLOCATOR = """
  (memory (export "memory") 1)
  (func (export "__wb_alloc") (param i32 i32) (result i32) i32.const 8)
  (func (export "__wb_free") (param i32 i32 i32))"""

# The wasm types docs/abi-compound.md gives each export of compound_model.GEO.
GEO_WAT = """
  (func (export "mid") (param i32 i32 i32))
  (func (export "centroid") (param i32 i32))
  (func (export "words") (param i32 i32 i32))
  (func (export "join") (param i32 i32 i32))
  (func (export "minmax") (param i32 i32 i32))
  (func (export "area") (param i32 f64) (result f64) f64.const 0)
  (func (export "count_to") (param i32) (result i32) i32.const 0)
  (func (export "parse_point") (param i32 i32 i32))
  (func (export "Counter.new") (param i32 i32 i32 i32))
  (func (export "Counter.incr") (param i32 i32) (result i32) i32.const 0)
  (func (export "Counter.label") (param i32 i32))
  (func (export "Counter.check") (param i32 i32))
  (func (export "Counter.named") (param i32 i32 i32))
  (func (export "Counter.merge") (param i32 i32 i32))
  (func (export "Counter#drop") (param i32))"""


def wasm(*funcs: str, allocator: str = ALLOCATOR) -> WasmModule:
    return parse(wasmtime.wat2wasm(f"(module {allocator} {' '.join(funcs)})"))


def test_the_geo_module_matches_its_interface() -> None:
    assert validate(wasm(GEO_WAT), GEO) == []


def test_a_method_with_the_wrong_wasm_type_or_missing_is_named() -> None:
    module = wasm(
        '(func (export "Counter.new") (param i32 i32 i32 i32))',
        '(func (export "Counter.incr") (param i32) (result i32) i32.const 0)',  # no handle
        '(global (export "Counter.label") i32 (i32.const 0))',
        '(func (export "Counter.check") (param i32 i32))',
        '(func (export "Counter.named") (param i32 i32 i32))',
        '(func (export "Counter#drop") (param i32))',
    )
    assert validate(module, Interface(1, classes=(COUNTER,))) == [
        "method `Counter.incr`: its interface types lower to (i32, i32) -> (i32), "
        "but the wasm function has type (i32) -> (i32)",
        "method `Counter.label` is described as a function, but the module exports a global",
        "method `Counter.merge` is described, but the module does not export it",
    ]


def test_a_class_without_its_destructor_or_with_a_wrong_one_is_named() -> None:
    iface = Interface(1, classes=(ClassDef("A"), ClassDef("B")))
    module = wasm('(func (export "B#drop") (param i32 i32))', allocator="")
    assert validate(module, iface) == [
        "class `A` has no destructor: the module does not export the function `A#drop`",
        "class `B`: its destructor `B#drop` has type (i32, i32) -> (), not (i32) -> ()",
    ]


def test_functions_passing_records_need_memory_and_enums_and_classes_do_not() -> None:
    iface = Interface(
        1,
        (
            func("by_record", {"p": named("Point")}),
            func("by_class", {"c": named("Counter")}),
        ),
        records=(POINT,),
        classes=(ClassDef("Counter"),),
    )
    module = wasm(
        '(func (export "by_record") (param i32))',
        '(func (export "by_class") (param i32))',
        '(func (export "Counter#drop") (param i32))',
        allocator="",
    )
    assert validate(module, iface) == [
        "export `by_record` passes data through memory, but the module exports no memory "
        "named `memory`"
    ]


def test_a_method_export_described_twice_is_named() -> None:
    iface = Interface(1, (func("Counter.incr", {"by": U32}, U32),), classes=(COUNTER,))
    found = validate(wasm(GEO_WAT), iface)
    assert "export `Counter.incr` is described 2 times" in found
