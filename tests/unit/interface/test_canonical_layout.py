"""Sizes, alignments and offsets inside an encoded buffer (docs/abi-compound.md)."""

from __future__ import annotations

import pytest
from compound_model import CHAR, F64, GEO, STR, STRING, U32, named, option, tuple_of, vec

from wasmbridge.interface import (
    Case,
    EnumDef,
    Field,
    Interface,
    Kind,
    Layout,
    RecordDef,
    Type,
    enum_tag_size,
    field_offsets,
    is_compound,
    is_list,
    layout,
    option_payload_offset,
)

U8, U16, I64, BOOL = Type(Kind.U8), Type(Kind.U16), Type(Kind.I64), Type(Kind.BOOL)
ODD = RecordDef("Odd", (Field("a", U8), Field("b", U16), Field("c", U8)))
IFACE = Interface(1, records=(*GEO.records, ODD), enums=GEO.enums, classes=GEO.classes)


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (BOOL, Layout(1, 1)),
        (U16, Layout(2, 2)),
        (I64, Layout(8, 8)),
        (Type(Kind.F32), Layout(4, 4)),
        (CHAR, Layout(4, 4)),
        (STR, Layout(8, 4)),
        (STRING, Layout(8, 4)),
        (vec(F64), Layout(8, 4)),
        (Type(Kind.SLICE, STRING), Layout(8, 4)),
        (named("Point"), Layout(16, 8)),
        (named("Shape"), Layout(1, 1)),
        (named("Odd"), Layout(6, 2)),
        (tuple_of(U8, F64), Layout(16, 8)),
        (tuple_of(CHAR, BOOL), Layout(8, 4)),
        (option(U8), Layout(2, 1)),
        (option(F64), Layout(16, 8)),
        (option(STRING), Layout(12, 4)),
        (option(named("Odd")), Layout(8, 2)),
        (tuple_of(option(U16), U8), Layout(6, 2)),
    ],
    ids=str,
)
def test_layouts_follow_the_canonical_abi(t: Type, expected: Layout) -> None:
    assert layout(t, IFACE) == expected


def test_field_offsets_align_each_field() -> None:
    assert field_offsets([f.type for f in ODD.fields], IFACE) == (0, 2, 4)
    assert field_offsets([U8, F64, STRING, CHAR], IFACE) == (0, 8, 16, 24)
    assert field_offsets([named("Shape"), option(U32)], IFACE) == (0, 4)


def test_option_payloads_sit_at_the_payloads_alignment() -> None:
    assert option_payload_offset(option(U8), IFACE) == 1
    assert option_payload_offset(option(named("Point")), IFACE) == 8
    assert option_payload_offset(option(STR), IFACE) == 4
    with pytest.raises(ValueError, match="is not an option"):
        option_payload_offset(U8, IFACE)


@pytest.mark.parametrize(
    ("cases", "size"), [(1, 1), (256, 1), (257, 2), (65_536, 2), (65_537, 4)], ids=str
)
def test_enum_tags_grow_with_the_number_of_cases(cases: int, size: int) -> None:
    assert enum_tag_size(cases) == size


def test_a_large_enum_lays_out_as_its_tag() -> None:
    big = EnumDef("Big", tuple(Case(f"C{i}", i) for i in range(300)))
    assert layout(named("Big"), Interface(1, enums=(big,))) == Layout(2, 2)


@pytest.mark.parametrize(
    ("t", "message"),
    [
        (Type(Kind.UNIT), r"^`\(\)` has no layout inside an encoded value$"),
        (named("Counter"), r"^the class `Counter` cannot be part of an encoded value$"),
        (named("Nope"), r"^no record or enum named `Nope` is defined$"),
        (Type(Kind.RESULT, U32), r"has no layout"),
    ],
    ids=["unit", "class", "undefined", "result"],
)
def test_types_without_a_layout_raise_value_error(t: Type, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        layout(t, IFACE)


def test_a_record_that_contains_itself_raises_instead_of_recursing() -> None:
    node = RecordDef("Node", (Field("next", option(named("Node"))),))
    with pytest.raises(ValueError, match="nests deeper than 32 levels"):
        layout(named("Node"), Interface(1, records=(node,)))


def test_layouts_are_remembered_per_interface() -> None:
    iface = Interface(1, records=GEO.records)
    layout(named("Point"), iface)
    assert iface.memo["layout"] == {
        named("Point"): Layout(16, 8),
        F64: Layout(8, 8),
    }
    assert Interface(1, records=GEO.records).memo == {}


def test_compounds_are_tuples_lists_and_records() -> None:
    assert is_list(vec(STRING)) and is_list(Type(Kind.SLICE, STR))
    assert not is_list(vec(F64)) and not is_list(STRING)
    compound = [tuple_of(U8), vec(named("Point")), named("Point"), Type(Kind.BORROW, name="Point")]
    plain = [vec(U8), named("Shape"), named("Counter"), option(named("Point")), CHAR, STRING]
    assert all(is_compound(t, GEO) for t in compound)
    assert not any(is_compound(t, GEO) for t in plain)
