"""The section codec for records, enums, classes, methods and the new type tags."""

from __future__ import annotations

import pytest
from compound_model import CHAR, F64, GEO, STR, STRING, U32, borrow, named, option, tuple_of, vec

from wasmbridge.interface import (
    Case,
    ClassDef,
    EnumDef,
    Field,
    Function,
    Interface,
    Kind,
    Method,
    Param,
    Receiver,
    RecordDef,
    Type,
)
from wasmbridge.interface.binary import sleb, uleb
from wasmbridge.interface.section import SectionFormatError, decode, encode


def record(kind: int, body: bytes) -> bytes:
    return bytes([1, kind]) + uleb(len(body)) + body


def text(value: str) -> bytes:
    raw = value.encode()
    return uleb(len(raw)) + raw


def test_hand_written_type_records_decode() -> None:
    point = record(
        3, text("Point") + text("") + b"\x02" + text("x") + b"\x0b" + text("y") + b"\x0b"
    )
    shape = record(
        4, text("Shape") + text("") + b"\x02" + text("A") + b"\x00" + text("B") + b"\x7f"
    )
    counter = record(5, text("Counter") + text("doc"))
    incr = record(6, text("Counter") + b"\x02" + text("incr") + text("Counter.incr") + text("")
                  + b"\x01" + text("by") + b"\x07" + b"\x07")  # fmt: skip
    mid = record(1, text("mid") + text("") + b"\x01" + text("p") + b"\x1a" + text("Point")
                 + b"\x1b\x18\x02\x0b\x17" + text("Shape"))  # fmt: skip
    assert decode(incr + point + shape + counter + mid) == Interface(
        1,
        (
            Function(
                "mid",
                (Param("p", borrow("Point")),),
                Type(Kind.RESULT_VALUE, tuple_of(F64, CHAR), name="Shape"),
            ),
        ),
        records=(RecordDef("Point", (Field("x", F64), Field("y", F64))),),
        enums=(EnumDef("Shape", (Case("A", 0), Case("B", -1))),),
        classes=(
            ClassDef(
                "Counter",
                "doc",
                (Method("incr", Receiver.MUT, Function("Counter.incr", (Param("by", U32),), U32)),),
            ),
        ),
    )


def test_the_geo_interface_round_trips() -> None:
    data = encode(GEO)
    assert decode(data) == GEO
    assert encode(decode(data)) == data


@pytest.mark.parametrize("value", [0, 1, -1, 63, 64, -64, -65, 2**63 - 1, -(2**63)])
def test_discriminants_round_trip_as_sleb128(value: int) -> None:
    enum = EnumDef("E", (Case("A", value),))
    assert decode(encode(Interface(1, enums=(enum,)))).enums == (enum,)


@pytest.mark.parametrize(
    ("t", "spelled"),
    [
        (CHAR, "char"),
        (tuple_of(F64, F64), "(f64, f64)"),
        (tuple_of(U32), "(u32,)"),
        (named("Point"), "Point"),
        (borrow("Point"), "&Point"),
        (Type(Kind.RESULT_VALUE, U32, name="Point"), "Result<u32, Point>"),
        (vec(STRING), "Vec<String>"),
        (Type(Kind.SLICE, STR), "&[&str]"),
        (vec(option(tuple_of(U32, STRING))), "Vec<Option<(u32, String)>>"),
    ],
    ids=str,
)
def test_types_spell_themselves_in_rust(t: Type, spelled: str) -> None:
    assert t.rust() == spelled == str(t)


def _export(param: bytes, result: bytes = b"\x00") -> bytes:
    return record(1, text("f") + text("") + b"\x01" + text("a") + param + result)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            _export(b"\x18\x00"),
            "a tuple of 0 items is not an interface type (1 to 12; type at byte 9)",
        ),
        (
            _export(b"\x18\x0d" + b"\x06" * 13),
            "a tuple of 13 items is not an interface type (1 to 12; type at byte 9)",
        ),
        (_export(b"\x18\x01\x00"), "`()` cannot be a tuple item (type at byte 9)"),
        (_export(b"\x13\x1a\x01P"), "`&P` cannot be a list element (type at byte 9)"),
        (_export(b"\x15\x1a\x01P"), "Option<&P> is not an interface type (type at byte 9)"),
        (
            _export(b"\x15\x1b\x06\x01E"),
            "Option<Result<i32, E>> is not an interface type (type at byte 9)",
        ),
        (
            _export(b"\x14\x11"),
            "`&mut [T]` elements must be numbers, not `String` (type at byte 9)",
        ),
        (
            _export(b"\x1b\x06\x01E"),
            "export `f`, parameter `a`: `Result<i32, E>` cannot be a parameter",
        ),
        (_export(b"\x06", b"\x1a\x01P"), "export `f`: the borrowed `&P` cannot be returned"),
        (_export(b"\x19\x00"), "NAMED needs type name (type at byte 9)"),
        (
            record(3, text("R") + text("") + b"\x00"),
            "record `R` has no fields",
        ),
        (record(4, text("E") + text("") + b"\x00"), "enum `E` has no cases"),
        (
            record(4, text("E") + text("") + uleb(2**32) + text("A") + b"\x00"),
            "enum `E` claims 4,294,967,296 cases, more than its record can hold",
        ),
        (
            record(4, text("E") + text("") + b"\x01" + text("A") + sleb(2**63)),
            "discriminant at byte 9 does not fit an i64",
        ),
        (
            record(6, text("C") + b"\x05" + text("m") + text("C.m") + text("") + b"\x00\x00"),
            "method of class `C` has an unknown receiver kind at byte 5",
        ),
        (
            record(
                6, text("Ghost") + b"\x01" + text("m") + text("Ghost.m") + text("") + b"\x00\x00"
            ),
            "method `Ghost.m` belongs to class `Ghost`, which no class record defines",
        ),
    ],
    ids=[
        "tuple-0",
        "tuple-13",
        "tuple-of-unit",
        "list-of-borrow",
        "option-of-borrow",
        "option-of-result-value",
        "mut-slice-of-string",
        "result-value-param",
        "borrow-result",
        "named-without-name",
        "record-without-fields",
        "enum-without-cases",
        "enum-count-past-record",
        "discriminant-past-i64",
        "unknown-receiver",
        "method-without-class",
    ],
)
def test_sections_the_sdk_cannot_write_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(SectionFormatError) as caught:
        decode(data)
    assert str(caught.value) == message


def test_names_in_refusals_are_escaped() -> None:
    with pytest.raises(SectionFormatError) as caught:
        decode(_export(b"\x06", b"\x1a\x03P\x1b\n"))
    assert str(caught.value) == "export `f`: the borrowed `&P\\x1b\\n` cannot be returned"


def test_more_type_definitions_than_any_interface_needs_are_refused() -> None:
    one = record(5, text("C") + text(""))
    assert len(decode(one * 10_000).classes) == 10_000
    with pytest.raises(SectionFormatError) as caught:
        decode(one * 10_001)
    assert str(caught.value) == "more than 10,000 records, enums and classes (at byte 60003)"
