"""The compiled codec (``_native.Codec``, runtime/bridge/compiled_codec.py) against the
Python codecs of runtime/bridge/values.py, which define the encoded buffers of
docs/abi-compound.md.

What is checked, for integers of every width, text, lists, tuples and records nested
(the serve Request and Response shapes, records inside lists inside tuples,
``list<list<str>>``, a record whose fields need padding, ``list<u64>``, ``list<i8>``):

* encoding: every plain value (exact ints in range, exact strs, lists and tuples,
  bytes for ``list<u8>``, instances of the record classes) is encoded in C, to exactly
  the bytes the Python codec writes; every other value (bools, out-of-range or
  int-like numbers, lone surrogates, mappings, generators, subclasses) gets None from
  C, and the Python codec, which then runs, encodes it or raises LowerError;
* decoding: every buffer the Python codec writes decodes to the same value, of the
  same types; fuzzed buffers (random bytes, flipped bytes, truncated and extended
  buffers, offsets and counts near 2**32, pieces claimed many times over) decode to
  None in C exactly when the Python codec raises LiftError, and to the same value
  otherwise, never to a crash;
* sizes across the boundaries 0, 1, 4095, 4096, 65535, 65536, 65537 and 2 MiB, with
  1- to 4-byte UTF-8;
* plans: ``_native.Codec`` refuses malformed plans with an exception, and ``plan_of``
  has no plan for floats, bools, chars, enums and options.
"""

from __future__ import annotations

import array
import collections
import random
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest

from wasmbridge.interface import Case, EnumDef, Field, Interface, Kind, RecordDef, Type
from wasmbridge.interface.rules import interface_problems
from wasmbridge.runtime.bridge import native, values
from wasmbridge.runtime.bridge.compiled_codec import MAX_DEPTH, compiled_codec, plan_of
from wasmbridge.runtime.bridge.records import TypeSpace
from wasmbridge.runtime.bridge.values import Codec, LiftError, LowerError

NATIVE_CODEC: Any = getattr(native.NATIVE, "Codec", None)

pytestmark = pytest.mark.skipif(
    NATIVE_CODEC is None,
    reason=f"no compiled codec: {native.WHY_NOT or 'the extension has no Codec'}",
)

# -- the types ---------------------------------------------------------------------------

U8, U16, U32, U64 = (Type(k) for k in (Kind.U8, Kind.U16, Kind.U32, Kind.U64))
I8, I16, I32, I64 = (Type(k) for k in (Kind.I8, Kind.I16, Kind.I32, Kind.I64))
INTEGER_KINDS = (Kind.I8, Kind.U8, Kind.I16, Kind.U16, Kind.I32, Kind.U32, Kind.I64, Kind.U64)
STRING = Type(Kind.STRING)


def named(name: str) -> Type:
    return Type(Kind.NAMED, name=name)


def vec(t: Type) -> Type:
    return Type(Kind.VEC, t)


def tuple_of(*items: Type) -> Type:
    return Type(Kind.TUPLE, items=items)


HEADERS = vec(tuple_of(STRING, STRING))
REQUEST = RecordDef(
    "Request",
    (
        Field("method", STRING),
        Field("path", STRING),
        Field("query", STRING),
        Field("params", HEADERS),
        Field("headers", HEADERS),
        Field("body", vec(U8)),
    ),
)
RESPONSE = RecordDef(
    "Response", (Field("status", U16), Field("headers", HEADERS), Field("body", vec(U8)))
)
# u8 at 0, u64 at 8, u16 at 16, str at 20: padding after a and before d.
MIXED = RecordDef("Mixed", (Field("a", U8), Field("b", U64), Field("c", U16), Field("d", STRING)))
# Numbers only: the Python codec packs it (and lists of it) with one struct.
PIXEL = RecordDef("Pixel", (Field("r", U8), Field("g", U8), Field("b", U8), Field("weight", I32)))
INNER = RecordDef("Inner", (Field("id", I32), Field("name", STRING), Field("tags", vec(STRING))))
OUTER = RecordDef(
    "Outer",
    (
        Field("key", U64),
        Field("inner", named("Inner")),
        Field("items", vec(named("Inner"))),
        Field("pairs", vec(tuple_of(U8, named("Inner")))),
        Field("pixels", vec(named("Pixel"))),
    ),
)
INTERFACE = Interface(1, records=(REQUEST, RESPONSE, MIXED, PIXEL, INNER, OUTER))
SPACE = TypeSpace(INTERFACE, "compiled_codec_test")

# Every case: a type whose codec has a compiled twin.
CASES: dict[str, Type] = {
    "request": named("Request"),
    "response": named("Response"),
    "mixed": named("Mixed"),
    "pixel": named("Pixel"),
    "outer_in_list_in_tuple": tuple_of(U32, vec(named("Outer")), STRING),
    "list_list_str": vec(vec(STRING)),
    "list_u64": vec(U64),
    "list_i8": vec(I8),
    "list_u8": vec(U8),
    "list_pixel": vec(named("Pixel")),
    "list_flat_tuple": vec(tuple_of(U16, I64)),
    "text": STRING,
    **{f"int_{kind.name.lower()}": Type(kind) for kind in INTEGER_KINDS},
}


def codec_of(case: str) -> Codec:
    return SPACE.codec(CASES[case])


def record_codec(name: str, space: TypeSpace = SPACE) -> values.Record:
    """The codec of a record; ``.cls`` is its class, ``.make(fields)`` builds one unchecked."""
    codec = space.named(name)
    assert isinstance(codec, values.Record)
    return codec


def compiled_of(codec: Codec) -> Any:
    compiled = compiled_codec(codec)
    assert compiled is not None, "a codec of integers, text, lists, tuples and records"
    return compiled


# -- random values -----------------------------------------------------------------------

# 1-, 2-, 3- and 4-byte UTF-8, and the edges of each width.
ALPHABET = (
    *"aZ09 /?=&%~\x00\x7f",
    *"\x80é\u07ff",
    *"\u0800€中\ud7ff\ue000\uffff",
    *"\U00010000😀\U0010ffff",
)
UTF8_PATTERN = "aé€😀"  # 1 + 2 + 3 + 4 bytes


def random_int(codec: values.Number, rng: random.Random) -> int:
    low, high = codec.low, codec.high
    pick = rng.random()
    if pick < 0.3:
        return rng.choice((low, high, 0, 1, high - 1, low + 1, max(low, -1)))
    if pick < 0.5:
        return rng.randint(max(low, -300), min(high, 300))
    return rng.randint(low, high)


def random_text(rng: random.Random, length: int) -> str:
    return "".join(rng.choices(ALPHABET, k=length))


def random_value(codec: Codec, rng: random.Random, size: int) -> Any:
    """A plain value of ``codec``: lists and strings of up to ``size`` items, lists and
    tuples both ways round, bytes or bytearrays for some ``list<u8>``."""
    if isinstance(codec, values.Number):
        return random_int(codec, rng)
    if isinstance(codec, values.Text):
        return random_text(rng, rng.randint(0, size))
    if isinstance(codec, values.List):
        count = rng.randint(0, size)
        if codec.bytes_in and rng.random() < 0.5:
            data = rng.randbytes(count)
            return data if rng.random() < 0.5 else bytearray(data)
        items = [random_value(codec.element, rng, size // 2) for _ in range(count)]
        return tuple(items) if rng.random() < 0.2 else items
    if isinstance(codec, values.Tuple):
        items = [random_value(item, rng, size) for item, _ in codec.items]
        return list(items) if rng.random() < 0.2 else tuple(items)
    if isinstance(codec, values.Record):
        return codec.cls(*(random_value(field, rng, size) for _, field, _ in codec.fields))
    raise AssertionError(f"no values for {codec!r}")


# -- comparing ---------------------------------------------------------------------------


def assert_same(got: Any, want: Any, path: str = "value") -> None:
    """Equal, and of exactly the same types all the way down."""
    assert type(got) is type(want), f"{path}: {type(got).__name__} != {type(want).__name__}"
    if isinstance(want, (list, tuple)):
        assert len(got) == len(want), f"{path}: {len(got)} items != {len(want)}"
        if want and type(want[0]) in (int, str):  # a long list of scalars: one pass each
            assert got == want, path
            assert set(map(type, got)) == set(map(type, want)), path
            return
        for index, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same(g, w, f"{path}[{index}]")
    else:
        assert got == want, f"{path}: {got!r} != {want!r}"


def python_decode(codec: Codec, buf: values.Buffer) -> tuple[bool, Any]:
    """(True, value), or (False, None) when the Python codec raises LiftError."""
    try:
        return True, values.decode(codec, buf)
    except LiftError:
        return False, None


def check_decode(codec: Codec, compiled: Any, buf: values.Buffer) -> bool:
    """The C decode agrees with the Python one on ``buf``; whether it was valid."""
    valid, want = python_decode(codec, buf)
    got = compiled.decode(buf)
    if not valid:
        assert got is None, f"C decoded {got!r} from a buffer Python refuses: {bytes(buf)!r}"
    else:
        assert got is not None, f"C refused a buffer Python decodes: {bytes(buf)[:200]!r}"
        assert_same(got, want)
    return valid


def check_round_trip(codec: Codec, compiled: Any, value: Any) -> bytearray:
    """C encodes a plain value to the Python codec's bytes, and decodes them alike."""
    want = values.encode(codec, value)
    got = compiled.encode(value)
    assert got is not None, f"C did not encode a plain value: {value!r:.200}"
    assert type(got) is bytearray
    assert got == want
    decoded = compiled.decode(want)
    assert_same(decoded, values.decode(codec, want))
    assert compiled.encode(decoded) == want  # decoded values are plain values again
    return want


def check_fallback(codec: Codec, compiled: Any, value: Any) -> str:
    """C does not encode ``value``; the Python codec encodes it or raises LowerError."""
    assert compiled.encode(value) is None, f"C encoded {value!r:.200}"
    try:
        values.encode(codec, value)
    except LowerError:
        return "refused"
    return "encoded"


# -- encoding ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_random_plain_values_encode_and_decode_alike(case: str) -> None:
    codec = codec_of(case)
    compiled = compiled_of(codec)
    rng = random.Random(f"plain {case}")
    for round_ in range(300):
        check_round_trip(codec, compiled, random_value(codec, rng, size=round_ % 7))


@pytest.mark.parametrize("kind", INTEGER_KINDS, ids=lambda kind: kind.name.lower())
def test_integer_limits(kind: Kind) -> None:
    codec = SPACE.codec(Type(kind))
    assert isinstance(codec, values.Number)
    compiled = compiled_of(codec)
    listed = SPACE.codec(vec(Type(kind)))
    compiled_list = compiled_of(listed)
    low, high = codec.low, codec.high
    for number in (low, high, 0, 1, -1 if low else 2, low + 1, high - 1):
        check_round_trip(codec, compiled, number)
        check_round_trip(listed, compiled_list, [number, low, high])
    for number in (low - 1, high + 1, low - 2**64, high + 2**64, 2**200):
        assert check_fallback(codec, compiled, number) == "refused"
        assert check_fallback(listed, compiled_list, [0, number]) == "refused"


def test_fields_tuple_encodes_as_its_record() -> None:
    rng = random.Random("fields")
    for case in ("request", "response", "mixed", "pixel"):
        codec = codec_of(case)
        assert isinstance(codec, values.Record)
        compiled = compiled_of(codec)
        for round_ in range(100):
            record = random_value(codec, rng, size=round_ % 5)
            fields = tuple(record)
            assert compiled.encode(fields, True) == values.encode(codec, codec.cls(*fields))
            assert compiled.encode(fields[:-1], True) is None
            assert compiled.encode((*fields, 0), True) is None
            assert compiled.encode(list(fields), True) is None
            assert compiled.encode(fields) is None  # a bare tuple is not the record


class IntLike:
    """A numpy-like integer: ``__index__`` but not an int."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __index__(self) -> int:
        return self.value


class StrSubclass(str):
    pass


class IntSubclass(int):
    pass


class BytesSubclass(bytes):
    pass


def awkward_values() -> Iterator[tuple[str, Any]]:
    """(case, value): values C leaves to the Python codec, fresh on every call."""
    for kind in INTEGER_KINDS:
        case = f"int_{kind.name.lower()}"
        yield from ((case, v) for v in (True, False, IntLike(1), IntSubclass(2), 1.0, "1", None))
    yield from (("text", v) for v in ("\ud800", "a\udfffb", StrSubclass("x"), b"x", 5, None))
    for value in (
        memoryview(b"ab"),
        BytesSubclass(b"ab"),
        (b for b in b"ab"),
        [True, 1],
        [256],
        [-1],
        "ab",
        array.array("B", [1, 2]),
        range(3),
        {1, 2},
        {1: 2},
        [IntLike(3)],
    ):
        yield "list_u8", value
    for value in ([2**64], [-1], [1.0], [True], array.array("Q", [1]), (n for n in (1, 2))):
        yield "list_u64", value
    for value in ([128], [-129], b"\x01\x7f", b"\xff", [IntSubclass(1)]):
        yield "list_i8", value
    for value in ([["a", "\ud800"]], [StrSubclass("a")], [["a"], "bc"], [[StrSubclass("a")]]):
        yield "list_list_str", value
    yield "list_list_str", (["x"] for _ in range(2))
    outer = record_codec("Outer")
    for value in (
        (1, []),  # a tuple of 2 where 3 go
        (1, [], "x", 4),
        [1, [], "x", None],
        (n for n in (1, [], "x")),
        {"0": 1, "1": [], "2": "x"},
        (True, [], "x"),
        (1, [{"key": 1}], "x"),  # a mapping for a record inside a list
        (1, [outer.make((1, None, [], [], []))], "x"),  # a record with a wrong field
    ):
        yield "outer_in_list_in_tuple", value
    request, response = record_codec("Request"), record_codec("Response")
    fields = ("GET", "/", "", [("a", "b")], [], b"")
    attrs = ("method", "path", "query", "params", "headers", "body")
    for value in (
        dict(zip(attrs, fields, strict=True)),  # a mapping: the Python codec takes it
        dict(zip(attrs[:-1], fields, strict=False)),  # a mapping missing a field
        fields,  # a tuple, not a Request
        response.cls(200, [], b""),  # another record class
        request.make(("GET", StrSubclass("/"), "", [], [], b"")),
        request.make(("GET", "/", "", (p for p in [("a", "b")]), [], b"")),
        request.make(("GET", "/", "", [("a", "b", "c")], [], b"")),
        request.make(("GET", "/", "", [], [], memoryview(b"ab"))),
        request.make(("GET", "/", "\udc80", [], [], b"")),
        request.make(("GET", "/", "", [], [], [300])),
    ):
        yield "request", value
    pixel = record_codec("Pixel")
    for value in (
        [pixel.cls(1, 2, 3, 4), {"r": 1, "g": 2, "b": 3, "weight": 4}],
        [pixel.cls(1, 2, 3, 4), (1, 2, 3, 4)],
        [pixel.make((1, 2, 3, True))],
        [pixel.make((1, 2, 3, 2**31))],
    ):
        yield "list_pixel", value
    yield "mixed", record_codec("Mixed").make((1, 2, 3, None))


def test_awkward_values_fall_back_to_the_python_codec() -> None:
    outcomes: collections.Counter[str] = collections.Counter()
    for case, value in awkward_values():
        codec = codec_of(case)
        outcomes[check_fallback(codec, compiled_of(codec), value)] += 1
    assert outcomes["encoded"] > 10 and outcomes["refused"] > 40, outcomes


def test_awkward_values_nested_in_plain_ones_fall_back() -> None:
    """One awkward field anywhere makes the whole value the Python codec's."""
    codec = codec_of("outer_in_list_in_tuple")
    compiled = compiled_of(codec)
    outer, inner, pixel = (record_codec(name) for name in ("Outer", "Inner", "Pixel"))
    good_inner = inner.cls(1, "name", ["t"])
    for bad_inner in (
        inner.make((True, "n", [])),
        inner.make((1, "n", ["\ud800"])),
        inner.make((1, "n", ("t" for _ in range(1)))),
    ):
        for value in (
            (1, [outer.cls(1, bad_inner, [], [], [])], "x"),
            (1, [outer.cls(1, good_inner, [good_inner, bad_inner], [], [])], "x"),
            (1, [outer.cls(1, good_inner, [], [(7, bad_inner)], [])], "x"),
        ):
            check_fallback(codec, compiled, value)
    plain = (1, [outer.cls(1, good_inner, [good_inner], [(7, good_inner)], [])], "x")
    check_round_trip(codec, compiled, plain)
    bad_pixel = pixel.make((1, 2, 3, IntLike(4)))
    check_fallback(codec, compiled, (1, [outer.cls(1, good_inner, [], [], [bad_pixel])], "x"))


def test_mixed_record_pads_between_fields() -> None:
    """u8 at 0, u64 at 8, u16 at 16, str at 20, size 32: the padding is zeros in both."""
    codec = record_codec("Mixed")
    assert [offset for _, _, offset in codec.fields] == [0, 8, 16, 20] and codec.size == 32
    record = codec.cls(0xFF, 2**64 - 1, 0xFFFF, "é€")
    buf = check_round_trip(codec, compiled_of(codec), record)
    assert buf[1:8] == bytes(7) and buf[18:20] == bytes(2) and buf[28:32] == bytes(4)
    assert buf[20:28] == header(32, 5) and buf[32:] == "é€".encode()


# -- sizes -------------------------------------------------------------------------------

SIZES = (0, 1, 4095, 4096, 65535, 65536, 65537)
TWO_MIB = 2 << 20


def text_of_bytes(nbytes: int) -> str:
    """Text of exactly ``nbytes`` bytes of UTF-8, 1- to 4-byte characters mixed."""
    whole, rest = divmod(nbytes, len(UTF8_PATTERN.encode()))
    return UTF8_PATTERN * whole + "a" * rest


def sized_values(size: int) -> Iterator[tuple[str, Any]]:
    """(case, value): strings and lists of ``size`` bytes or items."""
    text = text_of_bytes(size)
    assert len(text.encode()) == size
    body = bytes(range(256)) * (size // 256) + bytes(size % 256)
    yield "text", text
    yield "text", "é" * size
    yield "list_u8", body
    yield "list_u8", bytearray(body)
    yield "list_i8", [(n % 256) - 128 for n in range(size)]
    yield "list_u64", [n * 0x0101010101 for n in range(size)]
    yield "list_list_str", [[str(n) if n % 3 else "€" for n in range(size)], [text]]
    response, request, pixel = (record_codec(n).cls for n in ("Response", "Request", "Pixel"))
    yield "response", response(200, [("h", "v")] * min(size, 4096) + [(text, text)], body)
    pairs = [(str(n), "ü") for n in range(size)]
    yield "request", request("GET", text, "", pairs, [], list(body[:4096]))
    yield "list_pixel", [pixel(1, 2, 3, n) for n in range(size)]


@pytest.mark.parametrize("size", SIZES)
def test_sizes_across_boundaries(size: int) -> None:
    for case, value in sized_values(size):
        codec = codec_of(case)
        check_round_trip(codec, compiled_of(codec), value)


def test_two_mib_values() -> None:
    text = text_of_bytes(TWO_MIB)
    body = random.Random("2 MiB").randbytes(TWO_MIB)
    response = record_codec("Response").cls(200, [("content-type", "x")], body)
    request = record_codec("Request").cls("POST", "/", text, [], [], body)
    for case, value in (
        ("text", text),
        ("list_u8", body),
        ("list_u64", list(range(TWO_MIB // 8))),
        ("response", response),
        ("request", request),
    ):
        codec = codec_of(case)
        buffer = check_round_trip(codec, compiled_of(codec), value)
        assert len(buffer) >= TWO_MIB


# -- decoding fuzzed buffers -------------------------------------------------------------

EDGE_U32 = (0, 1, 7, 8, 0x7FFFFFFF, 0x80000000, 0xFFFFFFF8, 0xFFFFFFFE, 0xFFFFFFFF)
BAD_UTF8 = (b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xe2\x82", b"\xf4\x90\x80\x80", b"\x80")


def put_u32(buf: bytearray, at: int, number: int) -> None:
    buf[at : at + 4] = (number & 0xFFFFFFFF).to_bytes(4, "little")


def mutations(valid: bytearray, rng: random.Random) -> Iterator[bytearray]:
    """Buffers near ``valid``: each breaks it, or not, in one way."""
    size = len(valid)

    def u32_at() -> int:
        return rng.randrange(0, max(size - 3, 1), 4 if rng.random() < 0.8 else 1)

    for _ in range(3):  # flipped bytes
        buf = bytearray(valid)
        for _ in range(rng.randint(1, 3)):
            if buf:
                buf[rng.randrange(size)] ^= 1 << rng.randrange(8)
        yield buf
    for _ in range(4):  # offsets and counts at the edges, or just past the end
        buf = bytearray(valid)
        if size >= 4:
            choices = (*EDGE_U32, size, size - 1, size + 1, rng.randrange(size + 1))
            put_u32(buf, u32_at(), rng.choice(choices))
        yield buf
    for _ in range(2):  # one (offset, count) pair copied over another: shared pieces
        buf = bytearray(valid)
        if size >= 16:
            start, to = u32_at(), u32_at()
            pair = buf[start : start + 8]
            buf[to : to + len(pair)] = pair
            del buf[size:]
        yield buf
    yield valid[: rng.randrange(size + 1)]  # truncated
    yield valid + rng.randbytes(rng.randint(1, 16))  # extended
    yield valid + bytes(rng.randint(1, 64))
    buf = bytearray(valid)  # invalid UTF-8 somewhere after the fixed part
    if size:
        at = rng.randrange(size)
        bad = rng.choice(BAD_UTF8)
        buf[at : at + len(bad)] = bad
        del buf[size:]
    yield buf
    yield bytearray(rng.randbytes(rng.randint(0, 48)))  # noise
    yield bytearray(rng.choice((b"\x00", b"\xff")) * rng.randint(0, 48))


@pytest.mark.parametrize("case", CASES)
def test_fuzzed_buffers_decode_alike(case: str) -> None:
    codec = codec_of(case)
    compiled = compiled_of(codec)
    rng = random.Random(f"fuzz {case}")
    outcomes: collections.Counter[bool] = collections.Counter()
    for round_ in range(60):
        valid = values.encode(codec, random_value(codec, rng, size=1 + round_ % 5))
        assert check_decode(codec, compiled, valid)
        for buf in mutations(valid, rng):
            outcomes[check_decode(codec, compiled, buf)] += 1
            if rng.random() < 0.05:  # any buffer object, not only bytearrays
                check_decode(codec, compiled, bytes(buf))
                check_decode(codec, compiled, memoryview(buf))
    assert outcomes[False] > 0, "the mutations never broke a buffer"


def header(*numbers: int) -> bytearray:
    """u32s, little-endian: the fixed part and headers of a hand-made buffer."""
    return bytearray(b"".join((n & 0xFFFFFFFF).to_bytes(4, "little") for n in numbers))


def shared_lists(count: int, nbytes: int) -> bytearray:
    """A ``list<list<u8>>`` of ``count`` lists that all are the same ``nbytes`` bytes."""
    data_at = 8 + 8 * count
    pairs = [n for _ in range(count) for n in (data_at, nbytes)]
    return header(8, count, *pairs) + bytes(nbytes)


def shared_texts(count: int, nbytes: int) -> bytearray:
    """A ``list<str>`` (inside ``list<list<str>>``) of ``count`` strings sharing bytes."""
    data_at = 16 + 8 * count
    pairs = [n for _ in range(count) for n in (data_at, nbytes)]
    return header(8, 1, 16, count, *pairs) + b"a" * nbytes


def test_claim_budget_at_its_edge() -> None:
    """Pieces may claim together at most the bytes of the buffer: 2 lists of k bytes
    claim 16 + 2k of a buffer of 24 + k, within it exactly while k <= 8."""
    lists = SPACE.codec(vec(vec(U8)))
    texts = codec_of("list_list_str")
    compiled_lists, compiled_texts = compiled_of(lists), compiled_of(texts)
    for nbytes in range(0, 17):
        assert check_decode(lists, compiled_lists, shared_lists(2, nbytes)) == (nbytes <= 8)
    # list<list<str>>: 2 strings of k bytes claim 8 + 16 + 2k of a buffer of 32 + k.
    for nbytes in range(0, 17):
        assert check_decode(texts, compiled_texts, shared_texts(2, nbytes)) == (nbytes <= 8)


def test_claim_budget_stops_amplification() -> None:
    """Thousands of pieces pointing at the same bytes: refused, quickly and in little
    memory, by both codecs."""
    lists = SPACE.codec(vec(vec(U8)))
    texts = codec_of("list_list_str")
    for count, nbytes in ((4096, 4096), (50_000, 65536), (2, 1 << 20)):
        assert not check_decode(lists, compiled_of(lists), shared_lists(count, nbytes) + b"\0")
        assert not check_decode(texts, compiled_of(texts), shared_texts(count, nbytes))
    # 50,000 lists of 64 KiB would be 3 GiB: C stops at the first list over budget.
    buf = shared_lists(50_000, 65536)
    tracemalloc.start()
    try:
        assert compiled_of(lists).decode(buf) is None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, peak
    # u64 lists that all start at the fixed part itself.
    list_u64 = SPACE.codec(vec(vec(U64)))
    buf = header(8, 512, *([0, 4096] * 512)) + bytes(4096)
    assert not check_decode(list_u64, compiled_of(list_u64), buf)


HUGE_HEADERS = (
    (0, 0xFFFFFFFF),
    (0xFFFFFFFF, 1),
    (0xFFFFFFFF, 0),
    (0xFFFFFFF8, 8),
    (1, 0xFFFFFFFF),
    (8, 0x20000000),  # 2**29 u64s: 2**32 bytes, which overflows a u32 product
    (8, 0x1FFFFFFF),
    (0x80000000, 0x80000000),
    (16, 0),  # an empty list or string just past the end
    (8, 1),  # one byte or element past the end
)


@pytest.mark.parametrize(
    "case", ["text", "list_u8", "list_i8", "list_u64", "list_list_str", "list_pixel"]
)
def test_huge_counts_and_offsets(case: str) -> None:
    codec = codec_of(case)
    compiled = compiled_of(codec)
    piece = codec.element.size if isinstance(codec, values.List) else 1
    for offset, count in HUGE_HEADERS:
        for tail in (b"", bytes(8), bytes(64)):
            buf = header(offset, count) + tail
            valid = check_decode(codec, compiled, buf)
            if offset + count * piece > len(buf):
                assert not valid, (offset, count, len(buf))


def test_huge_counts_deep_inside() -> None:
    """Edge offsets and counts at every word of a valid buffer nested 4 levels deep."""
    codec = codec_of("outer_in_list_in_tuple")
    compiled = compiled_of(codec)
    rng = random.Random("deep")
    inner, outer = record_codec("Inner").cls, record_codec("Outer").cls
    value = (1, [outer(9, inner(1, "a", ["b", "c"]), [inner(2, "d", [])], [], [])], "e")
    valid = values.encode(codec, value)
    assert check_decode(codec, compiled, valid)
    tried = 0
    for at in range(0, len(valid) - 3, 4):
        for number in EDGE_U32:
            buf = bytearray(valid)
            put_u32(buf, at, number)
            check_decode(codec, compiled, buf)
            tried += 1
    for _ in range(200):
        buf = bytearray(valid)
        for _ in range(rng.randint(1, 4)):
            put_u32(buf, rng.randrange(0, len(valid) - 3, 4), rng.choice(EDGE_U32))
        check_decode(codec, compiled, buf)
    assert tried > 100


# -- random types ------------------------------------------------------------------------


def random_type(rng: random.Random, records: list[str], depth: int) -> Type:
    """Integers, text, lists, tuples and the records defined so far, nested."""
    pick = rng.random()
    if depth >= 4 or pick < 0.35:
        return rng.choice((*(Type(kind) for kind in INTEGER_KINDS), STRING))
    if pick < 0.6:
        return vec(random_type(rng, records, depth + 1))
    if pick < 0.8 or not records:
        return tuple_of(*(random_type(rng, records, depth + 1) for _ in range(rng.randint(1, 4))))
    return named(rng.choice(records))


def random_types(seed: int) -> tuple[TypeSpace, list[Type]]:
    """A legal interface of up to 4 records (each may hold the ones before it), and
    types to encode: its records and a few more."""
    rng = random.Random(f"types {seed}")
    records: list[RecordDef] = []
    for index in range(rng.randint(1, 4)):
        names = [r.name for r in records]
        count = rng.randint(1, 5)
        fields = tuple(Field(f"f{n}", random_type(rng, names, 1)) for n in range(count))
        records.append(RecordDef(f"R{index}", fields))
    interface = Interface(1, records=tuple(records))
    assert interface_problems(interface) == []
    names = [r.name for r in records]
    roots = [*map(named, names), *(random_type(rng, names, 0) for _ in range(3))]
    return TypeSpace(interface, f"random{seed}"), roots


def parts_of(codec: Codec, value: Any) -> list[tuple[Codec, Any]]:
    """The (codec, value) of each part of a plain compound value; [] for a leaf."""
    if isinstance(codec, values.List) and value.__class__ in (list, tuple):
        return [(codec.element, item) for item in value]
    if isinstance(codec, values.Tuple):
        return [(item, part) for (item, _), part in zip(codec.items, value, strict=True)]
    if isinstance(codec, values.Record):
        return [(field, part) for (_, field, _), part in zip(codec.fields, value, strict=True)]
    return []


def with_part(codec: Codec, value: Any, index: int, part: Any) -> Any:
    """``value`` with part ``index`` replaced, unchecked (records built with ``make``)."""
    items = list(value)
    items[index] = part
    if isinstance(codec, values.Record):
        return codec.make(tuple(items))
    return tuple(items) if value.__class__ is tuple else items


def awkward_leaf(codec: Codec, value: Any, rng: random.Random) -> Any:
    """A value in place of ``value`` that is not plain: C leaves it to Python."""
    if isinstance(codec, values.Number):
        choices: list[Any] = [True, IntLike(value), IntSubclass(value), float(value)]
        return rng.choice([*choices, codec.low - 1, codec.high + 1])
    if isinstance(codec, values.Text):
        return rng.choice(["\ud800" + value, value + "\udfff", StrSubclass(value), None])
    if isinstance(codec, values.List):
        items = list(value)
        extra = [memoryview(bytes(items)), BytesSubclass(items)] if codec.bytes_in else []
        return rng.choice([(item for item in items), {}, None, *extra])
    if isinstance(codec, values.Tuple):
        items = list(value)
        return rng.choice([tuple(items[:-1]), (*items, 0), (item for item in items), {}])
    if isinstance(codec, values.Record):
        assert codec.info is not None
        mapping = dict(zip(codec.info.attrs, value, strict=True))
        return rng.choice([mapping, tuple(value), None])
    raise AssertionError(f"no awkward values for {codec!r}")


def with_one_awkward_part(codec: Codec, value: Any, rng: random.Random) -> Any:
    """``value`` with one part, at a random depth, replaced by an awkward one."""
    parts = parts_of(codec, value)
    if parts and rng.random() < 0.7:
        index = rng.randrange(len(parts))
        part_codec, part = parts[index]
        return with_part(codec, value, index, with_one_awkward_part(part_codec, part, rng))
    return awkward_leaf(codec, value, rng)


@pytest.mark.parametrize("seed", range(30))
def test_random_types_encode_and_decode_alike(seed: int) -> None:
    space, roots = random_types(seed)
    rng = random.Random(f"values {seed}")
    for root in roots:
        codec = space.codec(root)
        compiled = compiled_of(codec)
        for round_ in range(10):
            value = random_value(codec, rng, size=round_ % 5)
            valid = check_round_trip(codec, compiled, value)
            for buf in mutations(valid, rng):
                check_decode(codec, compiled, buf)
            check_fallback(codec, compiled, with_one_awkward_part(codec, value, rng))


@pytest.mark.parametrize("case", [case for case in CASES if not case.startswith("int_")])
def test_plain_values_with_one_awkward_part_fall_back(case: str) -> None:
    codec = codec_of(case)
    compiled = compiled_of(codec)
    rng = random.Random(f"awkward {case}")
    for round_ in range(100):
        value = random_value(codec, rng, size=1 + round_ % 4)
        check_fallback(codec, compiled, with_one_awkward_part(codec, value, rng))


# -- plans -------------------------------------------------------------------------------


def nested_lists(depth: int, leaf: tuple[Any, ...] = ("text",)) -> tuple[Any, ...]:
    plan = leaf
    for _ in range(depth):
        plan = ("list", plan)
    return plan


INT4 = ("int", 4, False)


def make_identity(items: tuple[Any, ...]) -> tuple[Any, ...]:
    return items


BAD_PLANS: dict[str, Any] = {
    "int of 3 bytes": ("int", 3, False),
    "int of 2**70 bytes": ("int", 2**70, False),
    "int of str bytes": ("int", "4", False),
    "int without sign": ("int", 4),
    "unknown kind": ("bogus",),
    "empty": (),
    "kind not a str": (4, 4, False),
    "text with extra": ("text", 1),
    "list without element": ("list",),
    "list of a str": ("list", "text"),
    "field outside its tuple": ("tuple", 4, 4, ((INT4, 1),)),
    "field far outside": ("tuple", 8, 4, ((INT4, 0xFFFFFFFF),)),
    "negative offset": ("tuple", 8, 4, ((INT4, -1),)),
    "tuple of no fields": ("tuple", 8, 4, ()),
    "fields not a tuple": ("tuple", 8, 4, [(INT4, 0)]),
    "field not a pair": ("tuple", 8, 4, ((INT4,),)),
    "align 3": ("tuple", 8, 3, ((INT4, 0),)),
    "align 0": ("tuple", 8, 0, ((INT4, 0),)),
    "size 2**40": ("tuple", 2**40, 4, ((INT4, 0),)),
    "size not an int": ("tuple", 4.0, 4, ((INT4, 0),)),
    "deeper than 40": nested_lists(MAX_DEPTH + 1),
    "record of a dict class": ("record", 4, 4, dict, make_identity, ((INT4, 0),)),
    "record of no class": ("record", 4, 4, "Point", make_identity, ((INT4, 0),)),
    "record without maker": ("record", 4, 4, tuple, None, ((INT4, 0),)),
    "too many nodes": ("tuple", 4096, 1, tuple((("int", 1, False), i) for i in range(4096))),
    "bad field deep down": nested_lists(5, ("tuple", 4, 4, ((INT4, 2),))),
}


@pytest.mark.parametrize("plan", BAD_PLANS.values(), ids=BAD_PLANS)
def test_bad_plans_are_refused(plan: Any) -> None:
    with pytest.raises((ValueError, TypeError, OverflowError)):
        NATIVE_CODEC(plan)


def test_plan_limits_are_inclusive() -> None:
    """40 levels and 4096 nodes are still built, and work."""
    deepest = NATIVE_CODEC(nested_lists(MAX_DEPTH))
    value: Any = ["x"]
    for _ in range(MAX_DEPTH - 1):
        value = [value]
    codec: Codec = values.Text()
    for _ in range(MAX_DEPTH):
        codec = values.List(codec)
    assert plan_of(codec) == nested_lists(MAX_DEPTH)
    assert plan_of(values.List(codec)) is None
    check_round_trip(codec, deepest, value)
    u8 = values.Number(Kind.U8)
    wide = values.Tuple([(u8, offset) for offset in range(4095)], 4095, 1)
    plan = plan_of(wide)
    assert plan is not None and len(plan[3]) == 4095  # with the tuple, 4096 nodes
    check_round_trip(wide, NATIVE_CODEC(plan), tuple(range(255)) * 16 + tuple(range(15)))
    with pytest.raises(TypeError):
        NATIVE_CODEC([INT4])  # a plan is a tuple


def test_a_plan_with_a_maker_that_raises() -> None:
    def refuse(items: tuple[Any, ...]) -> Any:
        raise RuntimeError("no")

    class Point(tuple[int, int]):
        pass

    compiled = NATIVE_CODEC(("record", 8, 4, Point, refuse, ((INT4, 0), (INT4, 4))))
    assert compiled.encode(Point((1, 2))) == header(1, 2)
    assert compiled.encode((1, 2)) is None
    with pytest.raises(RuntimeError, match="no"):
        compiled.decode(header(1, 2))


# An enum, and a record with an enum field: no plan either.
UNPLANNED = TypeSpace(
    Interface(
        1,
        records=(RecordDef("Shaped", (Field("id", U32), Field("shape", named("Shape")))),),
        enums=(EnumDef("Shape", (Case("Circle", 0), Case("Square", 1))),),
    ),
    "unplanned",
)


@pytest.mark.parametrize(
    "t",
    [
        Type(Kind.F64),
        Type(Kind.F32),
        Type(Kind.BOOL),
        Type(Kind.CHAR),
        Type(Kind.OPTION, U8),
        vec(Type(Kind.F64)),
        vec(Type(Kind.OPTION, STRING)),
        tuple_of(U8, Type(Kind.BOOL)),
        vec(tuple_of(STRING, Type(Kind.CHAR))),
        named("Shape"),
        named("Shaped"),
        vec(vec(named("Shaped"))),
    ],
    ids=str,
)
def test_no_plan_for_floats_bools_chars_enums_options(t: Type) -> None:
    codec = UNPLANNED.codec(t)
    assert plan_of(codec) is None
    assert compiled_codec(codec) is None


def test_no_plan_for_an_unbound_record() -> None:
    record = values.Record("Loose", [("a", values.Number(Kind.U8), 0)], 1, 1)
    assert plan_of(record) is None


# -- edges: unbuilt codecs, plans over the limits, keywords --------------------------


def test_an_unbuilt_codec_raises_instead_of_crashing() -> None:
    script = (
        "from wasmbridge.runtime.bridge import native\n"
        "Codec = native.NATIVE.Codec\n"
        "unbuilt, refused = Codec.__new__(Codec), Codec.__new__(Codec)\n"
        "try:\n"
        "    refused.__init__(('int', 3, False))\n"
        "except ValueError:\n"
        "    pass\n"
        "for codec in (unbuilt, refused):\n"
        "    for call in (lambda: codec.encode(1), lambda: codec.decode(bytes(8))):\n"
        "        try:\n"
        "            call()\n"
        "        except Exception:\n"
        "            pass\n"
        "print('survived')\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0 and "survived" in run.stdout, (run.returncode, run.stderr)


def doubling_records(levels: int) -> Interface:
    """R0 {a: u8, b: u8}, then R<n> {a: R<n-1>, b: R<n-1>}: 2**(levels + 2) plan nodes."""
    records = [RecordDef("R0", (Field("a", U8), Field("b", U8)))]
    for level in range(1, levels + 1):
        inner = named(f"R{level - 1}")
        records.append(RecordDef(f"R{level}", (Field("a", inner), Field("b", inner))))
    return Interface(1, records=tuple(records))


def test_a_record_too_large_for_a_plan_has_no_compiled_codec() -> None:
    interface = doubling_records(11)  # R11: 2**13 - 1 nodes, 4096 bytes, 12 levels deep
    assert interface_problems(interface) == []
    space = TypeSpace(interface, "doubling")
    codec = record_codec("R11", space)
    compiled = compiled_codec(codec)
    if compiled is not None:
        value = record_codec("R0", space).cls(7, 8)
        for level in range(1, 12):
            value = record_codec(f"R{level}", space).cls(value, value)
        check_round_trip(codec, compiled, value)


def test_encode_takes_fields_as_a_keyword() -> None:
    codec = codec_of("mixed")
    compiled = compiled_of(codec)
    record = record_codec("Mixed").cls(1, 2, 3, "d")
    assert compiled.encode(tuple(record), fields=True) == values.encode(codec, record)


def test_records_reusing_the_one_before_many_times_plan_in_bounded_time() -> None:
    """R<n> holds 8 lists of R<n-1>: a plan spelled out would have 8**n nodes. Planning
    stops at the node budget, so a hostile module costs next to nothing here."""
    u8 = Type(Kind.U8)
    records = [RecordDef("R0", tuple(Field(f"f{i}", u8) for i in range(8)))]
    for level in range(1, 13):
        inner = vec(named(f"R{level - 1}"))
        records.append(RecordDef(f"R{level}", tuple(Field(f"f{i}", inner) for i in range(8))))
    space = TypeSpace(Interface(1, records=tuple(records)), "fanout")
    started = time.perf_counter()
    for level in (3, 6, 12):
        assert compiled_codec(record_codec(f"R{level}", space)) is None
    assert time.perf_counter() - started < 5.0  # without the budget: minutes, GiBs
    assert compiled_codec(record_codec("R1", space)) is not None  # 73 nodes: planned
