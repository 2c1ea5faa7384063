"""Dropping unused exports and running wasm-opt (build/optimize.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from build_helpers import Func, require, wasm_module
from wasmbridge.build.optimize import (
    allocator_needed,
    exports_to_strip,
    run_wasm_opt,
    sets_global,
    strip_exports,
)
from wasmbridge.interface import Function, Interface, Param, Type, parse
from wasmbridge.interface.section import encode
from wasmbridge.interface.types import ClassDef, Kind, Method, Receiver

I32 = Type(Kind.I32)
STR = Type(Kind.STR)
ADD = Function("add", (Param("a", I32), Param("b", I32)), I32)
GREET = Function("greet", (Param("name", STR),))
ALERT = Function("alert", (Param("msg", STR),), module="env")
READ = Function("read", (), Type(Kind.STRING), module="env")
BAG = Type(Kind.NAMED, name="Bag")
BAG_NEW = Method("new", Receiver.CONSTRUCTOR, Function("Bag.new", (Param("n", I32),), BAG))
BAG_ITEMS = Method("items", Receiver.REF, Function("Bag.items", (), Type(Kind.VEC, Type(Kind.F32))))
BAG_SIZE = Method("size", Receiver.REF, Function("Bag.size", (), I32))
TAKE = Function(
    "take", (Param("v", Type(Kind.OPTION, Type(Kind.VEC, Type(Kind.U8)))),), module="env"
)


@pytest.mark.parametrize(
    ("interface", "needed"),
    [
        (None, True),
        (Interface(1, exports=(ADD,)), False),
        (Interface(1, exports=(ADD, GREET)), True),
        (Interface(1, exports=(ADD,), imports=(ALERT,)), False),
        (Interface(1, exports=(ADD,), imports=(READ,)), True),
        (Interface(1, exports=(ADD,), imports=(TAKE,)), True),
        (Interface(1, classes=(ClassDef("Bag", "", (BAG_SIZE,)),)), False),
        (Interface(1, classes=(ClassDef("Bag", "", (BAG_NEW, BAG_SIZE)),)), True),
        (Interface(1, classes=(ClassDef("Bag", "", (BAG_NEW, BAG_ITEMS)),)), True),
    ],
    ids=[
        "no-interface",
        "numbers-only",
        "borrowed-str-param",
        "import-borrows",
        "import-returns-string",
        "import-takes-owned-vec",
        "class-numbers-only",
        "class-constructor-returns-a-handle",
        "class-method-returns-vec",
    ],
)
def test_allocator_needed(interface: Interface | None, needed: bool) -> None:
    assert allocator_needed(interface) is needed


def _module_with_allocator(interface: Interface) -> bytes:
    funcs = [
        Func("add", ("i32", "i32"), ("i32",)),
        Func("__wb_alloc", ("i32", "i32"), ("i32",)),
        Func("__wb_free", ("i32", "i32", "i32")),
    ]
    return wasm_module(funcs, custom={"wasmbridge": encode(interface)})


def test_numbers_only_module_loses_allocator_and_rustc_globals() -> None:
    interface = Interface(1, exports=(ADD,))
    data = _module_with_allocator(interface)
    assert exports_to_strip(data, interface) == {
        "__data_end",
        "__heap_base",
        "__wb_alloc",
        "__wb_free",
    }
    stripped = parse(strip_exports(data, interface))
    assert [e.name for e in stripped.exports] == ["memory", "add"]
    assert stripped.custom_section("wasmbridge") == encode(interface)


def test_module_passing_text_keeps_its_allocator() -> None:
    interface = Interface(1, exports=(ADD, GREET))
    stripped = parse(strip_exports(_module_with_allocator(interface), interface))
    assert [e.name for e in stripped.exports] == ["memory", "add", "__wb_alloc", "__wb_free"]


def test_nothing_to_strip_returns_the_same_bytes() -> None:
    data = wasm_module([Func("add", ("i32", "i32"), ("i32",))], rust_globals=False)
    assert strip_exports(data, None) is data


def _wasm_opt() -> Path:
    found = shutil.which("wasm-opt")
    require(None if found else "wasm-opt (binaryen) is not installed")
    assert found is not None
    return Path(found)


def test_wasm_opt_keeps_the_interface_section_byte_for_byte() -> None:
    interface = Interface(1, exports=(ADD,))
    data = strip_exports(_module_with_allocator(interface), interface)
    optimized = run_wasm_opt(_wasm_opt(), data)
    assert len(optimized) <= len(data)
    assert parse(optimized).custom_section("wasmbridge") == encode(interface)


@pytest.mark.parametrize(
    ("code", "index", "found"),
    [
        (b"\x41\x00\x24\x00\x0b", 0, True),  # global.set 0
        (b"\x41\x00\x24\x80\x80\x80\x80\x00\x0b", 0, True),  # wasm-ld's padded LEB128
        (b"\x24\x81\x80\x00", 1, True),
        (b"\x24\x01", 0, False),
        (b"\x23\x00\x1a", 0, False),  # global.get only
        (b"\x24", 0, False),  # cut short
    ],
)
def test_a_stack_pointer_write_is_found_in_any_leb128_spelling(
    code: bytes, index: int, found: bool
) -> None:
    assert sets_global(code, index) is found
