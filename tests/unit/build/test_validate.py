"""Checks before pkg/ is written (build/validate.py), with the real wasmtime."""

from __future__ import annotations

import pytest

from build_helpers import Func, wasm_module
from wasmbridge.build.validate import signature_problems, validate_module, wasmtime_problem
from wasmbridge.errors import BuildFailed
from wasmbridge.interface import Function, Interface, Param, Type, parse
from wasmbridge.interface.section import encode
from wasmbridge.interface.types import Kind

I32 = Type(Kind.I32)
ADD = Function("add", (Param("a", I32), Param("b", I32)), I32)
GREET = Function("greet", (Param("name", Type(Kind.STR)),))
ALERT = Function("alert", (Param("msg", Type(Kind.STR)),), module="env")


def test_a_matching_module_passes_and_returns_its_interface() -> None:
    interface = Interface(1, exports=(ADD,))
    data = wasm_module(
        [Func("add", ("i32", "i32"), ("i32",))], custom={"wasmbridge": encode(interface)}
    )
    assert validate_module(data, "add.wasm") == interface


def test_a_module_without_interface_passes() -> None:
    assert validate_module(wasm_module([Func("f", ("i64",), ("f64",))]), "x.wasm") is None


def test_wasmtime_rejects_a_broken_body() -> None:
    data = bytearray(wasm_module([Func("f", (), ("i32",))]))
    data[data.rindex(b"\x41\x00\x0b")] = 0x42  # i32 result now produced by i64.const
    assert wasmtime_problem(bytes(data)) is not None
    with pytest.raises(BuildFailed, match=r"^x\.wasm is not a valid module: "):
        validate_module(bytes(data), "x.wasm")


def test_an_export_with_the_wrong_wasm_type_is_named() -> None:
    interface = Interface(1, exports=(ADD, GREET))
    data = wasm_module([Func("add", ("i32",), ("i32",))], custom={"wasmbridge": encode(interface)})
    assert signature_problems(parse(data), interface) == [
        "export `add(a: i32, b: i32) -> i32` has wasm type (i32) -> (i32), "
        "the ABI says (i32, i32) -> (i32)",
        "export `greet` is in the interface but not exported",
    ]


def test_an_import_with_the_wrong_wasm_type_is_named_and_a_dropped_one_is_fine() -> None:
    other = Function("gone", (), module="env")
    interface = Interface(1, imports=(ALERT, other))
    data = wasm_module([], imports=[("env", "alert", ("i32",), ())])
    assert signature_problems(parse(data), interface) == [
        "import `env.alert(msg: &str)` has wasm type (i32) -> (), the ABI says (i32, i32) -> ()"
    ]
