"""build/validate.py with records, enums and classes: method exports
(`Class.member`) and destructors (`Class#drop`) pass when the ABI agrees,
their wasm types are checked, and an interface breaking the rules of
docs/abi-compound.md is refused before pkg/ is written."""

from __future__ import annotations

import pytest

from build_helpers import Func, wasm_module
from wasmbridge.build.validate import validate_module
from wasmbridge.errors import BuildFailed
from wasmbridge.interface import Function, Interface, Param, Type
from wasmbridge.interface.section import encode
from wasmbridge.interface.types import ClassDef, Field, Kind, Method, Receiver, RecordDef

U32 = Type(Kind.U32)
COUNTER = Type(Kind.NAMED, name="Counter")
POINT = RecordDef("Point", (Field("x", Type(Kind.F64)), Field("y", Type(Kind.F64))))
NEW = Method("new", Receiver.CONSTRUCTOR, Function("Counter.new", (Param("start", U32),), COUNTER))
INCR = Method("incr", Receiver.MUT, Function("Counter.incr", (Param("by", U32),), U32))
CLASS = ClassDef("Counter", "A counter.", (NEW, INCR))
MID = Function(
    "mid",
    (Param("a", Type(Kind.NAMED, name="Point")), Param("b", Type(Kind.NAMED, name="Point"))),
    Type(Kind.NAMED, name="Point"),
)
FUNCS = [
    Func("Counter.new", ("i32", "i32")),
    Func("Counter.incr", ("i32", "i32"), ("i32",)),
    Func("Counter#drop", ("i32",)),
    Func("mid", ("i32", "i32", "i32")),
]


def _module(interface: Interface, funcs: list[Func]) -> bytes:
    return wasm_module(funcs, custom={"wasmbridge": encode(interface)})


def test_methods_and_destructors_pass_when_their_wasm_types_agree() -> None:
    interface = Interface(1, exports=(MID,), records=(POINT,), classes=(CLASS,))
    assert validate_module(_module(interface, FUNCS), "geo.wasm") == interface


def test_a_method_or_destructor_of_another_wasm_type_is_named() -> None:
    interface = Interface(1, classes=(CLASS,))
    funcs = [FUNCS[0], Func("Counter.incr", ("i32",), ("i32",)), Func("Counter#drop", ())]
    with pytest.raises(BuildFailed) as info:
        validate_module(_module(interface, funcs), "geo.wasm")
    assert str(info.value) == (
        "geo.wasm: method `Counter.incr(by: u32) -> u32` has wasm type (i32) -> (i32), "
        "the ABI says (i32, i32) -> (i32)\n"
        "destructor `Counter#drop(handle)` has wasm type () -> (), the ABI says (i32) -> ()"
    )


def test_a_missing_destructor_is_named() -> None:
    interface = Interface(1, classes=(CLASS,))
    with pytest.raises(BuildFailed, match=r"destructor `Counter#drop` is in the interface but"):
        validate_module(_module(interface, FUNCS[:2]), "geo.wasm")


def test_a_class_inside_an_option_is_refused_with_the_rules() -> None:
    find = Function("find", (), Type(Kind.OPTION, COUNTER))
    interface = Interface(1, exports=(find,), classes=(CLASS,))
    funcs = [*FUNCS[:3], Func("find", ("i32",))]
    with pytest.raises(BuildFailed) as info:
        validate_module(_module(interface, funcs), "geo.wasm")
    assert str(info.value) == (
        "geo.wasm has an interface no host can use:\n"
        "export `find`, result: the class `Counter` cannot be inside `Option<Counter>`; "
        "a class crosses only as a whole parameter or result"
    )
    assert info.value.hint is not None
    assert "docs/abi-compound.md" in info.value.hint


def test_function_names_still_follow_the_host_rules_beside_classes() -> None:
    then = Function("then", (Param("x", U32),), U32)
    interface = Interface(1, exports=(then,), classes=(CLASS,))
    with pytest.raises(BuildFailed, match=r"has exports that some host cannot reach by name:\n"):
        validate_module(_module(interface, [*FUNCS[:3], Func("then", ("i32",), ("i32",))]), "x")
