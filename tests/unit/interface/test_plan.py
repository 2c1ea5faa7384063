"""The call plan: one description per function of how values cross (interface/plan.py)."""

from __future__ import annotations

import struct

import pytest
from compound_model import COUNTER, GEO, POINT, SHAPE, borrow, func, named, option, tuple_of, vec

from wasmbridge.interface import (
    ClassDef,
    Function,
    Interface,
    Kind,
    Method,
    Param,
    Receiver,
    Type,
    abi,
)
from wasmbridge.interface.plan import (
    SCALAR_FACTS,
    VALTYPE_FACTS,
    Lifting,
    Lowering,
    ParamPlan,
    plan_call,
)
from wasmbridge.interface.types import ELEMENT_SIZE, INT_RANGE, NUMBERS

I8, U8, I32, U32 = Type(Kind.I8), Type(Kind.U8), Type(Kind.I32), Type(Kind.U32)
I64, U64, F32, F64 = Type(Kind.I64), Type(Kind.U64), Type(Kind.F32), Type(Kind.F64)
BOOL, CHAR, STR, STRING = Type(Kind.BOOL), Type(Kind.CHAR), Type(Kind.STR), Type(Kind.STRING)


def only_param(t: Type, iface: Interface | None = None) -> ParamPlan:
    return plan_call(func("f", {"x": t}), iface).params[0]


def test_scalar_facts_cover_every_number_bool_and_char() -> None:
    assert set(SCALAR_FACTS) == set(NUMBERS) | {Kind.BOOL, Kind.CHAR}


@pytest.mark.parametrize("kind", sorted(NUMBERS), ids=lambda k: k.name)
def test_scalar_facts_agree_with_the_abi_and_the_struct_module(kind: Kind) -> None:
    facts = SCALAR_FACTS[kind]
    assert facts.size == ELEMENT_SIZE[kind] == struct.calcsize(facts.struct_code)
    assert facts.valtype == abi.valtype(kind)
    assert facts.range == INT_RANGE.get(kind)
    assert struct.calcsize("<" + facts.slot_code) == {"i32": 4, "f32": 4}.get(facts.valtype, 8)
    assert facts.slot_step * struct.calcsize("<" + facts.slot_code) == 16
    if facts.range is not None:
        low, high = facts.range
        struct.pack(facts.struct_code, low)
        struct.pack(facts.struct_code, high)
        with pytest.raises(struct.error):
            struct.pack(facts.struct_code, high + 1)


@pytest.mark.parametrize(
    ("kind", "python", "js_array", "js_view", "ts", "wit"),
    [
        (Kind.BOOL, "bool", "Uint8Array", "Uint8", "boolean", "bool"),
        (Kind.I8, "int", "Int8Array", "Int8", "number", "s8"),
        (Kind.U16, "int", "Uint16Array", "Uint16", "number", "u16"),
        (Kind.I32, "int", "Int32Array", "Int32", "number", "s32"),
        (Kind.U32, "int", "Uint32Array", "Uint32", "number", "u32"),
        (Kind.I64, "int", "BigInt64Array", "BigInt64", "bigint", "s64"),
        (Kind.U64, "int", "BigUint64Array", "BigUint64", "bigint", "u64"),
        (Kind.F32, "float", "Float32Array", "Float32", "number", "f32"),
        (Kind.F64, "float", "Float64Array", "Float64", "number", "f64"),
        (Kind.CHAR, "str", "Uint32Array", "Uint32", "string", "char"),
    ],
    ids=lambda v: v.name if isinstance(v, Kind) else None,
)
def test_scalar_facts_spell_each_kind_for_every_host(
    kind: Kind, python: str, js_array: str, js_view: str, ts: str, wit: str
) -> None:
    facts = SCALAR_FACTS[kind]
    assert (facts.python_type, facts.js_array, facts.js_view) == (python, js_array, js_view)
    assert (facts.ts_type, facts.wit_name) == (ts, wit)


def test_narrow_integers_are_marked_and_u32_reads_unsigned_from_its_slot() -> None:
    narrow = {k for k, f in SCALAR_FACTS.items() if f.is_narrow}
    assert narrow == {Kind.I8, Kind.U8, Kind.I16, Kind.U16}
    assert SCALAR_FACTS[Kind.U32].slot_code == "I"
    assert SCALAR_FACTS[Kind.U8].slot_code == "i"


def test_scalar_function_takes_and_returns_wasm_values_directly() -> None:
    plan = plan_call(func("add", {"a": I32, "b": I64}, F64), None)
    assert [p.lowering for p in plan.params] == [Lowering.SCALAR, Lowering.SCALAR]
    assert [p.slot for p in plan.params] == [0, 1]
    assert plan.params[1].facts is SCALAR_FACTS[Kind.I64]
    assert plan.result.lifting is Lifting.SCALAR
    assert not plan.retptr and plan.retarea_size == 0
    assert plan.signature == abi.Signature(("i32", "i64"), ("f64",))


def test_unit_result_has_no_wasm_result() -> None:
    plan = plan_call(func("f", {"b": BOOL}), None)
    assert plan.result.lifting is Lifting.NONE
    assert plan.signature == abi.Signature(("i32",), ())
    assert not plan.needs_memory


def test_char_crosses_as_one_i32_both_ways() -> None:
    plan = plan_call(func("next", {"c": CHAR}, CHAR), None)
    assert plan.params[0].lowering is Lowering.CHAR
    assert plan.result.lifting is Lifting.CHAR
    assert plan.signature == abi.Signature(("i32",), ("i32",))


@pytest.mark.parametrize(
    ("t", "lowering", "size", "owned"),
    [
        (STR, Lowering.TEXT, 0, False),
        (STRING, Lowering.TEXT, 0, True),
        (Type(Kind.SLICE, U8), Lowering.BYTES, 1, False),
        (Type(Kind.VEC, U8), Lowering.BYTES, 1, True),
        (Type(Kind.SLICE, F64), Lowering.ELEMENTS, 8, False),
        (Type(Kind.VEC, I32), Lowering.ELEMENTS, 4, True),
        (Type(Kind.MUT_SLICE, U8), Lowering.MUT_ELEMENTS, 1, False),
        (Type(Kind.MUT_SLICE, F32), Lowering.MUT_ELEMENTS, 4, False),
    ],
    ids=str,
)
def test_buffers_cross_as_pointer_and_length(
    t: Type, lowering: Lowering, size: int, owned: bool
) -> None:
    param = only_param(t)
    assert (param.lowering, param.wire, param.size, param.owned) == (
        lowering,
        ("i32", "i32"),
        size,
        owned,
    )
    assert param.align == max(size, 1)
    if t.inner is not None:
        assert param.facts is SCALAR_FACTS[t.inner.kind]


def test_every_buffer_of_an_import_is_lent() -> None:
    imported = Function("log", (Param("s", STRING), Param("v", Type(Kind.VEC, U8))), module="env")
    plan = plan_call(imported, None)
    assert plan.imported
    assert [p.owned for p in plan.params] == [False, False]


def test_option_parameter_takes_its_flag_then_the_inner_values() -> None:
    plan = plan_call(func("f", {"a": option(STR), "b": option(F32)}), None)
    text, number = plan.params
    assert text.lowering is Lowering.OPTION and text.wire == ("i32", "i32", "i32")
    assert text.inner is not None and text.inner.lowering is Lowering.TEXT
    assert text.inner.slot == 1
    assert number.slot == 3 and number.wire == ("i32", "f32")
    assert number.inner is not None and number.inner.slot == 4


@pytest.mark.parametrize(
    ("t", "lifting", "size"),
    [
        (STRING, Lifting.TEXT, 8),
        (STR, Lifting.TEXT, 8),
        (Type(Kind.VEC, U8), Lifting.BYTES, 8),
        (Type(Kind.VEC, F64), Lifting.ELEMENTS, 8),
        (I64, Lifting.SCALAR, 0),
        (option(U32), Lifting.OPTION, 16),
        (option(Type(Kind.VEC, U8)), Lifting.OPTION, 16),
        (Type(Kind.RESULT, STRING), Lifting.RESULT, 16),
        (Type(Kind.RESULT, option(STRING)), Lifting.RESULT, 24),
    ],
    ids=str,
)
def test_results_through_the_return_area(t: Type, lifting: Lifting, size: int) -> None:
    plan = plan_call(func("f", {}, t), None)
    assert plan.result.lifting is lifting
    assert plan.retarea_size == size == (abi.retarea_size(t) if plan.retptr else 0)
    assert plan.signature == abi.signature(plan.function)


def test_nested_results_sit_eight_bytes_after_their_tag() -> None:
    plan = plan_call(func("f", {}, Type(Kind.RESULT, option(Type(Kind.VEC, F32)))), None)
    ok = plan.result.inner
    assert ok is not None and ok.lifting is Lifting.OPTION and ok.offset == 8
    assert ok.inner is not None and ok.inner.lifting is Lifting.ELEMENTS
    assert ok.inner.offset == 16
    assert ok.inner.facts is SCALAR_FACTS[Kind.F32]
    assert not plan.result.error_values


def test_record_parameters_and_results_are_encoded_with_their_layout() -> None:
    plan = plan_call(GEO.exports[0], GEO)  # mid(a: Point, b: Point) -> Point
    assert [p.lowering for p in plan.params] == [Lowering.ENCODED, Lowering.ENCODED]
    assert [(p.size, p.align) for p in plan.params] == [(16, 8), (16, 8)]
    assert plan.params[0].definition == POINT
    assert plan.params[0].slot == 1  # after the return area address
    assert plan.result.lifting is Lifting.ENCODED and plan.result.definition == POINT
    assert plan.result.layout is not None and plan.result.layout.size == 16
    assert plan.retptr and plan.retarea_size == 8 and plan.needs_memory


def test_lists_and_tuples_are_encoded() -> None:
    plan = plan_call(func("f", {"w": vec(STRING), "t": tuple_of(F64, U8)}, vec(STRING)), None)
    assert [p.lowering for p in plan.params] == [Lowering.ENCODED, Lowering.ENCODED]
    assert [(p.size, p.align) for p in plan.params] == [(8, 4), (16, 8)]
    assert plan.result.lifting is Lifting.ENCODED


def test_option_of_a_record_result_lifts_the_record_after_the_tag() -> None:
    plan = plan_call(GEO.exports[1], GEO)  # centroid(points: Vec<Point>) -> Option<Point>
    assert plan.result.lifting is Lifting.OPTION and plan.retarea_size == 16
    inner = plan.result.inner
    assert inner is not None and inner.lifting is Lifting.ENCODED and inner.offset == 8


def test_enums_cross_as_their_case_index() -> None:
    iface = Interface(1, (func("g", {"s": named("Shape")}, named("Shape")),), enums=(SHAPE,))
    plan = plan_call(iface.exports[0], iface)
    assert plan.params[0].lowering is Lowering.ENUM and plan.params[0].definition == SHAPE
    assert plan.result.lifting is Lifting.ENUM and plan.retarea_size == 8
    assert only_param(borrow("Shape"), iface).lowering is Lowering.ENUM
    assert not plan.params[0].owned


def test_borrowed_record_is_encoded_like_the_record() -> None:
    iface = Interface(1, records=(POINT,))
    param = only_param(borrow("Point"), iface)
    assert (param.lowering, param.size, param.definition) == (Lowering.ENCODED, 16, POINT)


def test_class_objects_move_or_are_lent_by_handle() -> None:
    iface = Interface(1, classes=(COUNTER,))
    assert only_param(named("Counter"), iface).lowering is Lowering.HANDLE
    assert only_param(borrow("Counter"), iface).lowering is Lowering.BORROW
    result = plan_call(func("make", {}, named("Counter")), iface).result
    assert result.lifting is Lifting.HANDLE and result.definition == COUNTER


def test_methods_take_the_receiver_handle_after_the_return_area() -> None:
    methods = {m.member: m for m in COUNTER.methods}
    new = plan_call(methods["new"].function, GEO, methods["new"])
    assert new.receiver is Receiver.CONSTRUCTOR and not new.handle
    assert new.result.lifting is Lifting.HANDLE
    assert [p.slot for p in new.params] == [1, 3]
    incr = plan_call(methods["incr"].function, GEO, methods["incr"])
    assert incr.handle and not incr.retptr and incr.first_param_slot == 1
    assert incr.signature == abi.method_signature(methods["incr"])
    merge = plan_call(methods["merge"].function, GEO, methods["merge"])
    assert merge.receiver is Receiver.OWNED and merge.first_param_slot == 2
    assert merge.params[0].lowering is Lowering.BORROW


def test_result_with_value_names_its_error_type() -> None:
    plan = plan_call(GEO.exports[-1], GEO)  # parse_point(s: &str) -> Result<Point, Shape>
    result = plan.result
    assert result.lifting is Lifting.RESULT and result.error == "Shape"
    assert result.error_values and result.error_definition == SHAPE
    assert result.inner is not None and result.inner.lifting is Lifting.ENCODED
    assert plan.retarea_size == 16


def test_result_with_a_display_error_type_crosses_messages() -> None:
    t = Type(Kind.RESULT_VALUE, U32, name="ParseIntError")
    result = plan_call(func("f", {}, t), GEO).result
    assert result.error == "ParseIntError" and not result.error_values


def test_callback_parameter_is_one_id_with_its_arguments_layout() -> None:
    callback = Type(Kind.CALLBACK, U32, items=(STR, F64))
    param = only_param(callback)
    assert (param.lowering, param.wire, param.size, param.align) == (
        Lowering.CALLBACK,
        ("i32",),
        16,
        8,
    )


def test_python_names_come_from_the_one_naming_rule() -> None:
    plan = plan_call(func("scale", {"scale": F32, "from": F32, "by": F32}), None)
    assert plan.names == ("scale", "p1", "by")


def test_plans_are_memoized_per_interface_and_function() -> None:
    mid = GEO.exports[0]
    assert plan_call(mid, GEO) is plan_call(mid, GEO)
    add = func("add", {"a": I32}, I32)
    assert plan_call(add, None) is plan_call(add, None)


def test_undefined_named_type_is_refused() -> None:
    with pytest.raises(ValueError, match="no record, enum or class named `Nope` is defined"):
        only_param(named("Nope"), GEO)


def test_method_must_match_its_function() -> None:
    method = COUNTER.methods[0]
    with pytest.raises(ValueError, match="is not the function of method `new`"):
        plan_call(GEO.exports[0], GEO, method)


def test_signature_is_the_abi_signature_for_every_function_of_the_geo_interface() -> None:
    for function in GEO.exports:
        assert plan_call(function, GEO).signature == abi.signature(function)
    for method in COUNTER.methods:
        assert plan_call(method.function, GEO, method).signature == abi.method_signature(method)


def test_i8_parameter_is_marked_narrow() -> None:
    facts = only_param(I8).facts
    assert facts is not None and facts.is_narrow and facts.is_signed
    assert SCALAR_FACTS[Kind.U64].is_big and not SCALAR_FACTS[Kind.U64].is_signed


def test_a_method_receiver_is_its_first_input_borrowed_or_moved() -> None:
    methods = {m.member: m for m in COUNTER.methods}
    incr = plan_call(methods["incr"].function, GEO, methods["incr"])
    assert incr.receiver_param is not None
    assert (incr.receiver_param.name, incr.receiver_param.lowering) == ("self", Lowering.BORROW)
    assert incr.receiver_param.slot == 0 and incr.receiver_param.definition == COUNTER
    assert [p.name for p in incr.inputs] == ["self", "by"]
    merge = plan_call(methods["merge"].function, GEO, methods["merge"])
    assert merge.receiver_param is not None and merge.receiver_param.slot == 1
    assert merge.receiver_param.lowering is Lowering.HANDLE
    named = plan_call(methods["named"].function, GEO, methods["named"])
    assert named.receiver_param is None and named.inputs == named.params


def test_wasm_value_types_carry_their_own_kinds() -> None:
    assert {v: f.kind for v, f in VALTYPE_FACTS.items()} == {
        "i32": Kind.I32,
        "i64": Kind.I64,
        "f32": Kind.F32,
        "f64": Kind.F64,
    }


def test_a_method_keeps_its_parameter_names_and_renames_its_receiver_around_them() -> None:
    method = Method("m", Receiver.REF, func("C.m", {"self": U32, "from": U32}))
    plan = plan_call(
        method.function, Interface(1, classes=(ClassDef("C", methods=(method,)),)), method
    )
    assert [p.name for p in plan.inputs] == ["self_", "self", "p1"]
