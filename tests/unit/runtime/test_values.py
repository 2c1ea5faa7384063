"""Encoded values (runtime/bridge/values.py) against hand-built buffers and a reference codec.

The reference below is written from the tables of docs/abi-compound.md
alone (its own sizes, alignments and offsets, plain ``struct``), so the
codecs and ``interface/layout.py`` are checked against an independent
reading of the spec; hypothesis draws the types and values.
"""

from __future__ import annotations

import array
import dataclasses
import enum
import math
import struct
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wasmbridge.interface import Case, EnumDef, Field, Interface, Kind, RecordDef, Type
from wasmbridge.interface.names import python_case_names as case_names
from wasmbridge.interface.names import python_field_names as field_attributes
from wasmbridge.runtime.bridge import values
from wasmbridge.runtime.bridge.records import TypeSpace
from wasmbridge.runtime.bridge.values import LiftError, LowerError

F64, F32, U8, U16, U32 = (Type(k) for k in (Kind.F64, Kind.F32, Kind.U8, Kind.U16, Kind.U32))
I8, I16, I32, I64, U64 = (Type(k) for k in (Kind.I8, Kind.I16, Kind.I32, Kind.I64, Kind.U64))
BOOL, CHAR, STRING, STR = (Type(k) for k in (Kind.BOOL, Kind.CHAR, Kind.STRING, Kind.STR))


def named(name: str) -> Type:
    return Type(Kind.NAMED, name=name)


def vec(t: Type) -> Type:
    return Type(Kind.VEC, t)


def option(t: Type) -> Type:
    return Type(Kind.OPTION, t)


def tuple_of(*items: Type) -> Type:
    return Type(Kind.TUPLE, items=items)


POINT = RecordDef("Point", (Field("x", F64), Field("y", F64)))
ODD = RecordDef("Odd", (Field("a", U8), Field("b", U16), Field("c", U8)))
TAGGED = RecordDef(
    "Tagged",
    (
        Field("at", named("Point")),
        Field("tags", vec(STRING)),
        Field("flag", BOOL),
        Field("mark", CHAR),
        Field("shape", option(named("Shape"))),
    ),
)
SHAPE = EnumDef("Shape", (Case("Circle", 0), Case("Square", 5), Case("Triangle", -3)))
IFACE = Interface(1, records=(POINT, ODD, TAGGED), enums=(SHAPE,))


@pytest.fixture(scope="module")
def space() -> TypeSpace:
    return TypeSpace(IFACE, "geo")


# -- an independent reference codec ------------------------------------------------

_CODES = {Kind.I8: "b", Kind.U8: "B", Kind.I16: "h", Kind.U16: "H", Kind.I32: "i"}
_CODES |= {Kind.U32: "I", Kind.I64: "q", Kind.U64: "Q", Kind.F32: "f", Kind.F64: "d"}


def ref_layout(t: Type, iface: Interface) -> tuple[int, int]:
    kind = t.kind
    if kind in _CODES:
        size = struct.calcsize(_CODES[kind])
        return size, size
    if kind is Kind.BOOL:
        return 1, 1
    if kind is Kind.CHAR:
        return 4, 4
    if kind in (Kind.STRING, Kind.STR, Kind.VEC, Kind.SLICE):
        return 8, 4
    if kind is Kind.OPTION:
        assert t.inner is not None
        size, align = ref_layout(t.inner, iface)
        return _up(_up(1, align) + size, align), align
    found = iface.type_def(t.name) if kind is Kind.NAMED else None
    if isinstance(found, EnumDef):
        n = len(found.cases)
        size = 1 if n <= 256 else 2 if n <= 65536 else 4
        return size, size
    items = [f.type for f in found.fields] if isinstance(found, RecordDef) else list(t.items)
    offset, align = 0, 1
    for item in items:
        size, item_align = ref_layout(item, iface)
        offset = _up(offset, item_align) + size
        align = max(align, item_align)
    return _up(offset, align), align


def _up(n: int, align: int) -> int:
    return (n + align - 1) // align * align


class Ref:
    """Encodes plain Python data (dicts for records, ints for enum indexes)."""

    def __init__(self, iface: Interface) -> None:
        self.iface = iface

    def encode(self, t: Type, value: Any) -> bytes:
        size, _ = ref_layout(t, self.iface)
        out = bytearray(size)
        self.put(out, 0, t, value)
        return bytes(out)

    def put(self, out: bytearray, at: int, t: Type, value: Any) -> None:
        kind = t.kind
        if kind in _CODES:
            struct.pack_into("<" + _CODES[kind], out, at, value)
        elif kind is Kind.BOOL:
            out[at] = int(value)
        elif kind is Kind.CHAR:
            struct.pack_into("<I", out, at, ord(value))
        elif kind in (Kind.STRING, Kind.STR):
            data = value.encode()
            struct.pack_into("<II", out, at, len(out), len(data))
            out += data
        elif kind in (Kind.VEC, Kind.SLICE):
            assert t.inner is not None
            size, align = ref_layout(t.inner, self.iface)
            out += bytes(-len(out) % align)
            start = len(out)
            out += bytes(size * len(value))
            struct.pack_into("<II", out, at, start, len(value))
            for i, item in enumerate(value):
                self.put(out, start + i * size, t.inner, item)
        elif kind is Kind.OPTION:
            assert t.inner is not None
            if value is not None:
                out[at] = 1
                _, align = ref_layout(t.inner, self.iface)
                self.put(out, at + _up(1, align), t.inner, value)
        else:
            found = self.iface.type_def(t.name) if kind is Kind.NAMED else None
            if isinstance(found, EnumDef):
                size, _ = ref_layout(t, self.iface)
                struct.pack_into("<" + {1: "B", 2: "H", 4: "I"}[size], out, at, value)
                return
            if isinstance(found, RecordDef):
                items = [(f.type, value[f.name]) for f in found.fields]
            else:
                items = list(zip(t.items, value, strict=True))
            offset = 0
            for item_type, item in items:
                size, align = ref_layout(item_type, self.iface)
                offset = _up(offset, align)
                self.put(out, at + offset, item_type, item)
                offset += size


def to_python(space: TypeSpace, t: Type, plain: Any) -> Any:
    """The runtime's Python value for reference data."""
    kind = t.kind
    if kind in (Kind.VEC, Kind.SLICE):
        assert t.inner is not None
        if t.inner.kind is Kind.U8:
            return bytes(plain)  # list<u8> is bytes in Python
        return [to_python(space, t.inner, v) for v in plain]
    if kind is Kind.OPTION:
        assert t.inner is not None
        return None if plain is None else to_python(space, t.inner, plain)
    if kind is Kind.TUPLE:
        return tuple(to_python(space, i, v) for i, v in zip(t.items, plain, strict=True))
    if kind is Kind.NAMED:
        found = space.interface.type_def(t.name)
        cls = space.get(t.name)
        assert cls is not None
        if isinstance(found, EnumDef):
            return list(cls)[plain]  # type: ignore[call-overload]
        assert isinstance(found, RecordDef)
        return cls(*(to_python(space, f.type, plain[f.name]) for f in found.fields))
    return plain


# -- hypothesis: random types and values --------------------------------------------

_NUMBERS = [I8, U8, I16, U16, I32, U32, I64, U64, F32, F64]
_LEAVES = st.sampled_from([*_NUMBERS, BOOL, CHAR, STRING, named("Point"), named("Odd")])


def _types() -> st.SearchStrategy[Type]:
    return st.recursive(
        _LEAVES | st.just(named("Shape")) | st.just(named("Tagged")),
        lambda inner: st.one_of(
            inner.map(vec),
            inner.filter(lambda t: t.kind is not Kind.OPTION).map(option),
            st.lists(inner, min_size=1, max_size=4).map(lambda items: tuple_of(*items)),
        ),
        max_leaves=6,
    )


def _value(t: Type, iface: Interface) -> st.SearchStrategy[Any]:
    kind = t.kind
    if kind in (Kind.F32, Kind.F64):
        return st.floats(width=32 if kind is Kind.F32 else 64, allow_nan=False)
    if kind in _CODES:
        bits = struct.calcsize(_CODES[kind]) * 8
        signed = _CODES[kind].islower()
        low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
        return st.integers(low, high)
    if kind is Kind.BOOL:
        return st.booleans()
    if kind is Kind.CHAR:
        return st.characters(exclude_categories=["Cs"])
    if kind in (Kind.STRING, Kind.STR):
        return st.text(max_size=12)
    assert kind is not None
    if kind is Kind.VEC:
        assert t.inner is not None
        return st.lists(_value(t.inner, iface), max_size=4)
    if kind is Kind.OPTION:
        assert t.inner is not None
        return st.none() | _value(t.inner, iface)
    if kind is Kind.TUPLE:
        return st.tuples(*(_value(i, iface) for i in t.items))
    found = iface.type_def(t.name)
    if isinstance(found, EnumDef):
        return st.integers(0, len(found.cases) - 1)
    assert isinstance(found, RecordDef)
    return st.fixed_dictionaries({f.name: _value(f.type, iface) for f in found.fields})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_codecs_agree_with_the_reference_both_ways(data: st.DataObject) -> None:
    space = TypeSpace(IFACE, "geo")
    t = data.draw(_types())
    plain = data.draw(_value(t, IFACE))
    expected = Ref(IFACE).encode(t, plain)
    value = to_python(space, t, plain)
    codec = space.codec(t)
    assert (codec.size, codec.align) == ref_layout(t, IFACE)
    assert bytes(values.encode(codec, value)) == expected
    assert _same(values.decode(codec, expected), value)
    assert _same(values.decode(codec, memoryview(expected)), value)


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, float):
        return isinstance(actual, float) and (
            actual == expected and math.copysign(1, actual) == math.copysign(1, expected)
        )
    if isinstance(expected, (list, tuple)):
        return (
            type(actual) is type(expected)
            and len(actual) == len(expected)
            and all(_same(a, e) for a, e in zip(actual, expected, strict=True))
        )
    if dataclasses.is_dataclass(expected):
        return type(actual) is type(expected) and _same(
            dataclasses.astuple(actual), dataclasses.astuple(expected)
        )
    return type(actual) is type(expected) and bool(actual == expected)


# -- hand-built buffers --------------------------------------------------------------


def test_point_is_two_f64(space: TypeSpace) -> None:
    point = space.get("Point")
    assert point is not None
    buf = struct.pack("<dd", 1.5, -2.0)
    assert bytes(values.encode(space.named("Point"), point(1.5, -2.0))) == buf
    assert values.decode(space.named("Point"), buf) == point(1.5, -2.0)


def test_odd_record_pads_between_and_after_fields(space: TypeSpace) -> None:
    odd = space.get("Odd")
    assert odd is not None
    buf = bytes([7, 0]) + struct.pack("<H", 513) + bytes([9, 0])
    assert bytes(values.encode(space.named("Odd"), odd(7, 513, 9))) == buf
    assert values.decode(space.named("Odd"), buf) == odd(7, 513, 9)


def test_tuple_of_u8_and_f64_aligns_the_float_to_8(space: TypeSpace) -> None:
    codec = space.codec(tuple_of(U8, F64))
    buf = bytes([3]) + bytes(7) + struct.pack("<d", 0.5)
    assert bytes(values.encode(codec, [3, 0.5])) == buf
    assert values.decode(codec, buf) == (3, 0.5)


def test_list_of_strings_header_then_text(space: TypeSpace) -> None:
    codec = space.codec(vec(STRING))
    buf = struct.pack("<II", 8, 3) + struct.pack("<6I", 32, 1, 33, 0, 33, 3) + b"a" + b"\xc3\xa9z"
    assert bytes(values.encode(codec, ["a", "", "éz"])) == buf
    assert values.decode(codec, buf) == ["a", "", "éz"]


def test_list_of_strings_at_any_offsets_inside_the_buffer(space: TypeSpace) -> None:
    codec = space.codec(vec(STRING))
    # Pieces out of order, sharing bytes, and one inside the header itself.
    buf = struct.pack("<II", 8, 3) + struct.pack("<6I", 33, 2, 32, 3, 0, 0) + b"xyz"
    assert values.decode(codec, buf) == ["yz", "xyz", ""]


def test_option_u16_payload_at_2(space: TypeSpace) -> None:
    codec = space.codec(option(U16))
    assert bytes(values.encode(codec, 258)) == bytes([1, 0, 2, 1])
    assert bytes(values.encode(codec, None)) == bytes(4)
    assert values.decode(codec, bytes([1, 0, 2, 1])) == 258
    assert values.decode(codec, bytes([0, 0, 9, 9])) is None


def test_enum_crosses_as_its_case_index_not_its_value(space: TypeSpace) -> None:
    shape = space.get("Shape")
    assert isinstance(shape, type) and issubclass(shape, enum.IntEnum)
    codec = space.named("Shape")
    assert bytes(values.encode(codec, shape.Triangle)) == bytes([2])  # type: ignore[attr-defined]
    assert bytes(values.encode(codec, 5)) == bytes([1])
    assert values.decode(codec, bytes([0])) is shape.Circle  # type: ignore[attr-defined]
    assert [int(m) for m in shape] == [0, 5, -3]


def test_tagged_record_nests_point_list_bool_char_and_option(space: TypeSpace) -> None:
    tagged, point, shape = space.get("Tagged"), space.get("Point"), space.get("Shape")
    assert tagged is not None and point is not None and shape is not None
    value = tagged(point(1, 2), ["ab"], True, "é", shape.Square)  # type: ignore[attr-defined]
    fixed = struct.pack("<dd", 1.0, 2.0) + struct.pack("<II", 40, 1) + bytes([1, 0, 0, 0])
    fixed += struct.pack("<I", 0xE9) + bytes([1, 1]) + bytes(6)  # 34 bytes, rounded up to 8
    buf = fixed + struct.pack("<II", 48, 2) + b"ab"
    assert bytes(values.encode(space.named("Tagged"), value)) == buf
    assert values.decode(space.named("Tagged"), buf) == value


def test_a_thousand_words_round_trip(space: TypeSpace) -> None:
    codec = space.codec(vec(STRING))
    words = [f"w{i}" * (i % 5) for i in range(1000)] + ["é" * 3, "", "x" * 70_000]
    assert values.decode(codec, values.encode(codec, words)) == words


def test_list_of_points_round_trips_through_one_struct_each(space: TypeSpace) -> None:
    point = space.get("Point")
    assert point is not None
    codec = space.codec(vec(named("Point")))
    points = [point(i, -i) for i in range(100)]
    buf = values.encode(codec, points)
    assert bytes(buf) == struct.pack("<II", 8, 100) + b"".join(
        struct.pack("<dd", i, -i) for i in range(100)
    )
    assert values.decode(codec, buf) == points
    mixed = [{"x": 1, "y": 2}, point(3, 4)]
    assert values.decode(codec, values.encode(codec, mixed)) == [point(1, 2), point(3, 4)]


# -- what a guest can get wrong --------------------------------------------------------


@pytest.mark.parametrize(
    ("t", "buf", "message"),
    [
        (STRING, struct.pack("<II", 8, 4) + b"ab", "text of 4 bytes at offset 8 ends outside"),
        (STRING, struct.pack("<II", 8, 2) + b"\xff\xfe", "text at offset 8 is not UTF-8 (byte 0)"),
        (vec(STRING), struct.pack("<II", 8, 1) + struct.pack("<II", 16, 9), "[0]: text of 9"),
        (vec(STRING), struct.pack("<II", 8, 1) + struct.pack("<II", 16, 1) + b"\x80", "[0]: text"),
        (vec(U32), struct.pack("<II", 8, 10**6), "a list of 1,000,000 elements (4 bytes each)"),
        (BOOL, bytes([2]), "a bool is 2, not 0 or 1"),
        (named("Shape"), bytes([3]), "enum Shape index 3 names no case (it has 3)"),
        (CHAR, struct.pack("<I", 0xD800), "char 0xd800 is not a Unicode scalar value"),
        (CHAR, struct.pack("<I", 0x110000), "char 0x110000 is not a Unicode scalar value"),
        (option(U8), bytes([7, 0]), "an option tag is 7, not 0 or 1"),
        (named("Point"), bytes(15), "the buffer has 15 bytes, fewer than the 16"),
        (named("Tagged"), bytes(28) + struct.pack("<I", 0xD800) + bytes(8), ".mark: char 0xd800"),
        (tuple_of(U8, BOOL), bytes([0, 9]), "[1]: a bool is 9"),
    ],
)
def test_bad_buffers_are_refused_with_where(
    space: TypeSpace, t: Type, buf: bytes, message: str
) -> None:
    with pytest.raises(LiftError) as info:
        values.decode(space.codec(t), buf)
    assert message in info.value.describe("result")


def _aliasing(outer: int, inner: int, text: int) -> bytes:
    """A Vec<Vec<String>> whose list headers all point at the same bytes."""
    inner_at = 8 + 8 * outer
    text_at = inner_at + 8 * inner
    return (
        struct.pack("<II", 8, outer)
        + struct.pack("<II", inner_at, inner) * outer
        + struct.pack("<II", text_at, text) * inner
        + b"A" * text
    )


@pytest.mark.parametrize(("outer", "inner", "text"), [(2, 1, 1), (1, 20, 1), (100, 1000, 1 << 20)])
def test_pieces_claiming_more_than_the_buffer_are_refused_before_decoding(
    space: TypeSpace, outer: int, inner: int, text: int
) -> None:
    # The last case would decode to 97 GiB of text.
    with pytest.raises(LiftError) as info:
        values.decode(space.codec(vec(vec(STRING))), _aliasing(outer, inner, text))
    assert "claim more than the" in str(info.value)
    assert "their pieces overlap" in str(info.value)


def test_pieces_that_fill_the_buffer_exactly_decode(space: TypeSpace) -> None:
    assert values.decode(space.codec(vec(vec(STRING))), _aliasing(1, 1, 5)) == [["AAAAA"]]
    words = ["", "a", "été", "x" * 4096]
    assert (
        values.decode(space.codec(vec(STRING)), values.encode(space.codec(vec(STRING)), words))
        == words
    )


# -- what a caller can get wrong -------------------------------------------------------


@pytest.mark.parametrize(
    ("t", "value", "error", "message"),
    [
        (CHAR, "ab", ValueError, "expected a one-character str (char), got a str of 2"),
        (CHAR, "\ud800", ValueError, "'\\ud800' is a lone surrogate"),
        (CHAR, 65, TypeError, "expected a one-character str (char), got int"),
        (vec(STRING), ["a", 1], TypeError, "at v[1]: expected str, got int"),
        (vec(STRING), ["\udc80"], ValueError, "at v[0]: text is not encodable as UTF-8"),
        (vec(STRING), "ab", TypeError, "expected an iterable of str, got str"),
        (vec(U8), [1, 256], OverflowError, "at v[1]: 256 is out of range for u8"),
        (tuple_of(U8, F64), (1,), ValueError, "expected a sequence of 2 items, got 1"),
        (tuple_of(U8, F64), (1, "x"), TypeError, "at v[1]: expected float (f64), got str"),
        (named("Shape"), 4, ValueError, "4 is not a value of Shape (0, 5, -3)"),
        (named("Shape"), True, TypeError, "expected Shape (a member or its int value), got bool"),
        (named("Point"), {"x": 1}, TypeError, "a mapping for Point needs exactly its fields"),
        (named("Point"), {"x": 1, "y": "a"}, TypeError, "at v.y: expected float (f64), got str"),
        (vec(named("Point")), [{"x": 1, "y": 2}, 3], TypeError, "at v[1]: expected Point (or"),
        (option(I8), 200, OverflowError, "200 is out of range for i8 (-128..127)"),
    ],
)
def test_bad_values_name_where(
    space: TypeSpace, t: Type, value: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(LowerError) as info:
        values.encode(space.codec(t), value)
    built = info.value.build("f() argument 'v'", "v")
    assert isinstance(built, error)
    assert message in str(built)


def test_list_of_char_accepts_a_string(space: TypeSpace) -> None:
    codec = space.codec(vec(CHAR))
    assert values.decode(codec, values.encode(codec, "hé")) == ["h", "é"]


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 65535, 65536, 65537, 2 << 20])
def test_list_of_u8_is_bytes_both_ways(space: TypeSpace, size: int) -> None:
    codec = space.codec(vec(U8))
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    encoded = bytes(values.encode(codec, data))
    assert encoded == struct.pack("<II", 8, size) + data
    assert bytes(values.encode(codec, bytearray(data))) == encoded
    decoded = values.decode(codec, encoded)
    assert type(decoded) is bytes and decoded == data
    assert codec.check(bytearray(data)) == data and type(codec.check(bytearray(data))) is bytes


def test_list_of_u8_inside_a_list_and_a_checked_list_are_bytes(space: TypeSpace) -> None:
    codec = space.codec(vec(vec(U8)))
    assert values.decode(codec, values.encode(codec, [b"ab", [1, 2], bytearray()])) == [
        b"ab",
        b"\x01\x02",
        b"",
    ]
    inner = space.codec(vec(U8))
    assert inner.check([1, 255]) == b"\x01\xff"
    for bad in ([True], [1, 256], [-1], "ab", [1.0]):
        with pytest.raises(LowerError):
            inner.check(bad)


def test_a_buffer_for_a_list_of_u8_is_its_raw_bytes_as_at_the_top_level(space: TypeSpace) -> None:
    codec = space.codec(vec(U8))
    ints = array.array("i", [1, 2])
    grid = memoryview(bytes(range(6))).cast("B", (2, 3))
    for value, raw in ((ints, ints.tobytes()), (grid, bytes(range(6))), (memoryview(b"xy"), b"xy")):
        assert codec.check(value) == raw
        assert values.decode(codec, values.encode(codec, value)) == raw
    released = memoryview(b"ab")
    released.release()
    with pytest.raises(LowerError, match="released"):
        values.encode(codec, released)


@pytest.mark.parametrize("t", [vec(U8), vec(U32), vec(F64), tuple_of(vec(U8), U32)])
def test_bools_are_no_numbers_on_the_unchecked_path_either(space: TypeSpace, t: Type) -> None:
    value: Any = ([True, False], 1) if t.kind is Kind.TUPLE else [1, True]
    with pytest.raises(LowerError) as info:
        values.encode(space.codec(t), value)
    assert "got bool" in str(info.value.build("f() argument 'v'", "v"))


# -- record classes ------------------------------------------------------------------


def test_record_class_behaves_like_a_frozen_dataclass(space: TypeSpace) -> None:
    point = space.get("Point")
    assert point is not None
    p = point(1, y=2)
    assert repr(p) == "Point(x=1.0, y=2.0)"
    assert p == point(1.0, 2.0) and hash(p) == hash(point(1.0, 2.0)) and p != (1.0, 2.0)
    assert dataclasses.is_dataclass(p)
    assert [f.name for f in dataclasses.fields(p)] == ["x", "y"]
    assert dataclasses.asdict(p) == {"x": 1.0, "y": 2.0}
    assert dataclasses.replace(p, y=5) == point(1, 5)
    assert point.__match_args__ == ("x", "y")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 3
    with pytest.raises(TypeError, match=r"Point\(\) argument 'x': expected float \(f64\), got str"):
        point("a", 2)
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'y'"):
        point(1)
    assert space.get("Point") is point
    assert point.__module__ == "geo"


def test_hostile_field_and_case_names_stay_reachable() -> None:
    fields = ("__init__", "x y", "class", "__class__", "_wb_0", "mro", "")
    record = RecordDef("Weird", tuple(Field(n, U8) for n in fields))
    cases = ("_sunder_", "mro", "name", "__dunder__", "", "value")
    shape = EnumDef("Hostile\nEnum", tuple(Case(n, i) for i, n in enumerate(cases)))
    space = TypeSpace(Interface(1, records=(record,), enums=(shape,)), "x")
    weird = space.get("Weird")
    assert weird is not None
    w = weird(1, 2, 3, 4, 5, 6, 7)
    assert field_attributes(fields) == [
        "__init___",
        "x y",
        "class",
        "__class___",
        "_wb_0",
        "mro_",
        "",
    ]
    assert [getattr(w, a) for a in field_attributes(fields)] == [1, 2, 3, 4, 5, 6, 7]
    by_name = {"x y": 2, "class": 3, "__init___": 1, "__class___": 4, "_wb_0": 5, "mro_": 6}
    assert weird(**by_name, **{"": 7}) == w
    assert type(w) is weird and weird.mro()[0] is weird
    hostile = space.get("Hostile\nEnum")
    assert hostile is not None
    assert [m.name for m in hostile] == case_names(cases)  # type: ignore[attr-defined]
    assert case_names(cases) == ["_sunder__", "mro_", "name_", "__dunder___", "case4", "value_"]
    assert [int(m) for m in hostile] == list(range(6))  # type: ignore[call-overload]
