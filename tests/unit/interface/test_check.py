"""``interface.validate``: every way an interface section disagrees with its module."""

from __future__ import annotations

import wasmtime

from wasmbridge.interface import Function, Interface, Param, Type, parse, validate
from wasmbridge.interface.types import Kind

I32, STR, STRING = Type(Kind.I32), Type(Kind.STR), Type(Kind.STRING)
ALLOCATOR = """
  (memory (export "memory") 1)
  (func (export "__wb_alloc") (param i32 i32) (result i32) i32.const 8)
  (func (export "__wb_free") (param i32 i32 i32))"""


def wasm(*funcs: str, allocator: str = ALLOCATOR) -> object:
    return parse(wasmtime.wat2wasm(f"(module {allocator} {' '.join(funcs)})"))


def test_a_module_that_matches_its_interface_has_no_problems() -> None:
    module = wasm(
        '(func (export "add") (param i32 i32) (result i32) local.get 0)',
        '(func (export "greet") (param i32 i32 i32))',
    )
    interface = Interface(
        1,
        (
            Function("add", (Param("a", I32), Param("b", I32)), I32),
            Function("greet", (Param("name", STR),), STRING),
        ),
    )
    assert validate(module, interface) == []


def test_a_str_export_whose_wasm_type_is_i32_to_i32_is_named() -> None:
    module = wasm('(func (export "shout") (param i32) (result i32) local.get 0)')
    interface = Interface(1, (Function("shout", (Param("text", STR),), I32),))
    assert validate(module, interface) == [
        "export `shout`: its interface types lower to (i32, i32) -> (i32), "
        "but the wasm function has type (i32) -> (i32)"
    ]


def test_described_functions_the_module_does_not_export_are_named() -> None:
    module = wasm()
    interface = Interface(
        1, (Function("gone", ()), Function("memory", ()), Function("add", (), I32))
    )
    assert validate(module, interface) == [
        "export `gone` is described, but the module does not export it",
        "export `memory` is described as a function, but the module exports a memory",
        "export `add` is described, but the module does not export it",
    ]


def test_names_described_twice_are_named() -> None:
    module = wasm('(import "env" "g" (func))', '(func (export "f"))', allocator="")
    f = Function("f", ())
    g = Function("g", (), module="env")
    twice = Function("h", (Param("x", I32), Param("x", I32)), module="env")
    assert validate(module, Interface(1, (f, f, f), (g, g, twice))) == [
        "export `f` is described 3 times",
        "import `env.g` is described 2 times",
        "import `env.h` has 2 parameters named `x`",
    ]


def test_an_export_passing_text_needs_memory_and_the_allocator() -> None:
    take = '(func (export "take") (param i32 i32))'
    interface = Interface(1, (Function("take", (Param("s", STR),)),))
    assert validate(wasm(take, allocator=""), interface) == [
        "export `take` passes data through memory, but the module exports no memory named `memory`"
    ]
    odd_alloc = """(memory (export "memory") 1)
      (func (export "__wb_alloc") (param i32) (result i32) i32.const 8)
      (func (export "__wb_free") (param i32 i32 i32))"""
    assert validate(wasm(take, allocator=odd_alloc), interface) == [
        "export `take` passes data through memory, but its allocator `__wb_alloc` has type "
        "(i32) -> (i32), not (i32, i32) -> (i32)"
    ]


def test_imports_are_checked_when_the_module_still_imports_them() -> None:
    module = wasm(
        '(import "env" "log" (func (param i32)))',
        '(import "env" "table" (table 1 funcref))',
        allocator="",
    )
    interface = Interface(
        1,
        (),
        (
            Function("log", (Param("msg", STR),), module="env"),
            Function("table", (), module="env"),
            Function("dropped", (Param("msg", STR),), module="env"),  # gone after LTO: fine
        ),
    )
    assert validate(module, interface) == [
        "import `env.log`: its interface types lower to (i32, i32) -> (), "
        "but the wasm function has type (i32) -> ()",
        "import `env.table` is described as a function, but the module imports a table",
    ]


def test_types_without_a_lowering_are_reported_not_raised() -> None:
    module = wasm('(func (export "f") (param i32))', allocator="")
    interface = Interface(1, (Function("f", (Param("u", Type(Kind.UNIT)),)),))
    assert validate(module, interface) == ["export `f`, parameter `u`: `()` cannot be a parameter"]


def test_the_panic_import_must_have_the_abi_type_with_or_without_an_interface() -> None:
    # Before, a v128 or funcref panic import made load() raise KeyError.
    for odd, found in (("(param v128)", "(v128) -> ()"), ("(result funcref)", "() -> (funcref)")):
        module = parse(wasmtime.wat2wasm(f'(module (import "wasmbridge" "panic" (func {odd})))'))
        message = f"import `wasmbridge.panic` has type {found}, the ABI's is " + (
            "(i32, i32, i32, i32, i32, i32) -> ()"
        )
        assert validate(module, None) == [message]
        assert validate(module, Interface(1)) == [message]
    table = parse(wasmtime.wat2wasm('(module (import "wasmbridge" "panic" (table 1 funcref)))'))
    assert validate(table, None) == ["import `wasmbridge.panic` is a table, not a function"]
    fine = "(param i32 i32 i32 i32 i32 i32)"
    sdk = parse(wasmtime.wat2wasm(f'(module (import "wasmbridge" "panic" (func {fine})))'))
    assert validate(sdk, None) == []
