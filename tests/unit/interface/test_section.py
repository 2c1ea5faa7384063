"""The interface-section codec refuses what the SDK can never write, clearly and cheaply."""

from __future__ import annotations

import tracemalloc

import pytest

from wasmbridge.interface import Function, Interface, Param, Type
from wasmbridge.interface.binary import uleb
from wasmbridge.interface.section import SectionFormatError, SectionVersionError, decode, encode
from wasmbridge.interface.types import Kind, shown

I32 = Type(Kind.I32)


def record(body: bytes, kind: int = 1) -> bytes:
    return bytes([1, kind]) + uleb(len(body)) + body


def text(value: str) -> bytes:
    raw = value.encode()
    return uleb(len(raw)) + raw


def export(params: list[tuple[str, bytes]], result: bytes, name: str = "f") -> bytes:
    body = text(name) + text("") + bytes([len(params)])
    for param, tags in params:
        body += text(param) + tags
    return record(body + result)


def test_the_add_example_of_abi_md_decodes() -> None:
    data = bytes.fromhex("01010d") + b"\x03add\x00\x02\x01a\x06\x01b\x06\x06"
    assert decode(data) == Interface(1, (Function("add", (Param("a", I32), Param("b", I32)), I32),))


@pytest.mark.parametrize("depth", [9, 1000, 100_000], ids=["9", "1000", "100000"])
def test_a_deeply_nested_type_is_refused_without_recursing(depth: int) -> None:
    data = export([("a", b"\x15" * depth + b"\x06")], b"\x00")
    with pytest.raises(SectionFormatError, match=r"^type nested deeper than 8 levels at byte "):
        decode(data)


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        (b"\x15\x15\x06", "Option<Option<i32>> is not an interface type (type at byte 9)"),
        (b"\x15\x00", "Option<()> is not an interface type (type at byte 9)"),
        (b"\x15\x16\x06", "Option<Result<i32, E>> is not an interface type (type at byte 9)"),
        (b"\x14\x10", "`&mut [T]` elements must be numbers, not `&str` (type at byte 9)"),
    ],
    ids=["option-option", "option-unit", "option-result", "mut-slice-of-str"],
)
def test_types_that_do_not_exist_are_refused(tags: bytes, message: str) -> None:
    with pytest.raises(SectionFormatError) as caught:
        decode(export([("a", tags)], b"\x00"))
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            export([("a", b"\x00")], b"\x00"),
            "export `f`, parameter `a`: `()` cannot be a parameter",
        ),
        (
            export([("a", b"\x16\x06")], b"\x00"),
            "export `f`, parameter `a`: `Result<i32, E>` cannot be a parameter",
        ),
        (export([], b"\x12\x03"), "export `f`: the borrowed `&[u8]` cannot be returned"),
        (export([], b"\x15\x14\x03"), "export `f`: the borrowed `&mut [u8]` cannot be returned"),
        (
            record(text("env") + text("g") + text("") + b"\x00\x10", kind=2),
            "import `env.g`: an imported function cannot return the borrowed `&str`",
        ),
        (
            record(text("env") + text("g") + text("") + b"\x00\x16\x06", kind=2),
            "import `env.g`: an imported function cannot return `Result<i32, E>`",
        ),
        (
            record(text("") + text("g") + text("") + b"\x01\x01a\x00\x00", kind=2),
            "import `.g`, parameter `a`: `()` cannot be a parameter",
        ),
    ],
    ids=[
        "unit-param",
        "result-param",
        "slice-result",
        "mut-slice-result",
        "import-str",
        "import-result",
        "empty-module",
    ],
)
def test_types_in_places_the_abi_has_no_lowering_for_are_refused(data: bytes, message: str) -> None:
    # Before, these decoded and made abi.signature raise a bare ValueError inside load().
    with pytest.raises(SectionFormatError) as caught:
        decode(data)
    assert str(caught.value) == message


def test_names_in_messages_are_escaped_and_cut() -> None:
    bidi = export([("a\u202e\x1b[2J", b"\x00")], b"\x00", name="x" * 10_000)
    with pytest.raises(SectionFormatError) as caught:
        decode(bidi)
    assert str(caught.value) == (
        f"export `{'x' * 60}... (10,000 characters)`, parameter `a\\u202e\\x1b[2J`: "
        "`()` cannot be a parameter"
    )
    assert str(caught.value).isprintable()


def test_shown_leaves_ordinary_names_alone() -> None:
    assert shown("_\uff57b_buf") == "_\uff57b_buf"
    assert shown("a b") == "a b"
    assert shown("nul\0") == "nul\\x00"


@pytest.mark.parametrize(
    "data",
    [
        b"\x01\x01" + uleb(2**35 - 1),  # record size
        record(uleb(2**32 - 1) + b"f"),  # name length
        record(text("f") + text("") + b"\xff"),  # 255 parameters, none present
    ],
    ids=["record-size", "name-length", "param-count"],
)
def test_huge_sizes_and_counts_are_refused_without_allocating(data: bytes) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(SectionFormatError):
            decode(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024


def test_a_newer_version_is_reported_before_anything_else() -> None:
    with pytest.raises(SectionVersionError, match=r"^interface v2, this reader knows v1$"):
        decode(b"\x02\xff\xff\xff")


def test_encode_refuses_more_parameters_than_a_record_holds() -> None:
    func = Function("wide", tuple(Param(f"p{i}", I32) for i in range(256)))
    with pytest.raises(
        ValueError, match=r"^`wide` has 256 parameters; the section holds at most 255$"
    ):
        encode(Interface(1, (func,)))


def test_more_records_than_engines_have_functions_are_refused() -> None:
    unknown_kind = b"\x01\x7f\x00"  # skipped records, each three bytes
    assert decode(unknown_kind * 200_000).unknown_records == 200_000
    with pytest.raises(SectionFormatError) as caught:
        decode(unknown_kind * 200_001)
    assert str(caught.value) == (
        "more than 200,000 records (at byte 600000); "
        "engines accept at most 100,000 exports and 100,000 imports"
    )
