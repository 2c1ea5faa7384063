"""How the new interface types lower to wasm values (docs/abi-compound.md, "flat level")."""

from __future__ import annotations

import pytest
from compound_model import (
    CHAR,
    COUNTER,
    F64,
    GEO,
    STR,
    STRING,
    U32,
    borrow,
    func,
    named,
    option,
    tuple_of,
    vec,
)

from wasmbridge.interface import Kind, Type, abi
from wasmbridge.interface.abi import Signature


@pytest.mark.parametrize(
    ("t", "wire"),
    [
        (CHAR, ("i32",)),
        (named("Point"), ("i32",)),
        (named("Shape"), ("i32",)),
        (borrow("Counter"), ("i32",)),
        (tuple_of(F64, F64), ("i32",)),
        (vec(STRING), ("i32",)),
        (Type(Kind.SLICE, STR), ("i32",)),
        (vec(F64), ("i32", "i32")),
        (option(named("Point")), ("i32", "i32")),
        (option(CHAR), ("i32", "i32")),
    ],
    ids=str,
)
def test_each_new_type_is_one_i32_parameter(t: Type, wire: tuple[str, ...]) -> None:
    assert abi.param_wire(t) == wire


@pytest.mark.parametrize(
    ("t", "retptr", "size"),
    [
        (CHAR, False, 8),
        (named("Point"), True, 8),
        (tuple_of(F64, F64), True, 8),
        (vec(STRING), True, 8),
        (option(named("Point")), True, 16),
        (option(CHAR), True, 16),
        (Type(Kind.RESULT_VALUE, U32, name="Shape"), True, 16),
        (Type(Kind.RESULT_VALUE, option(STRING), name="Shape"), True, 24),
    ],
    ids=str,
)
def test_results_use_the_return_area_except_char(t: Type, retptr: bool, size: int) -> None:
    assert abi.uses_retptr(t) is retptr
    assert abi.retarea_size(t) == size


def test_a_char_result_is_the_plain_i32_result() -> None:
    assert abi.signature(func("f", {"c": CHAR}, CHAR)) == Signature(("i32",), ("i32",))


def test_method_signatures_put_retptr_then_the_handle_then_the_parameters() -> None:
    found = {m.member: abi.method_signature(m) for m in COUNTER.methods}
    assert found == {
        "new": Signature(("i32", "i32", "i32", "i32"), ()),  # retptr, label ptr/len, start
        "incr": Signature(("i32", "i32"), ("i32",)),  # handle, by
        "label": Signature(("i32", "i32"), ()),  # retptr, handle
        "check": Signature(("i32", "i32"), ()),
        "named": Signature(("i32", "i32", "i32"), ()),  # static: no handle
        "merge": Signature(("i32", "i32", "i32"), ()),  # retptr, self, other
    }
    assert abi.class_exports(COUNTER)[-1] == ("Counter#drop", Signature(("i32",), ()))


def test_memory_is_needed_for_records_lists_and_tuples_not_for_enums_or_classes() -> None:
    uses = {f.name: abi.needs_memory(f, GEO) for f in GEO.exports}
    assert uses == {
        "mid": True,
        "centroid": True,
        "words": True,
        "join": True,
        "minmax": True,
        "area": False,
        "count_to": False,
        "parse_point": True,
    }
    assert not abi.needs_memory(func("f", {"c": borrow("Counter")}, U32), GEO)
    assert abi.needs_memory(func("f", {"c": borrow("Counter")}, U32))  # unknown: assume so
    assert abi.needs_memory(func("f", {"t": tuple_of(U32)}, U32))
