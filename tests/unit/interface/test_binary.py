"""The wasm reader refuses indexes that point nowhere and sizes the bytes cannot hold,
so no lookup in a parsed module can fail and no count read allocates."""

from __future__ import annotations

import tracemalloc

import pytest
import wasmtime

from wasmbridge.interface import BinaryFormatError, parse
from wasmbridge.interface.binary import uleb

HEADER = b"\0asm\x01\0\0\0"
FUNCTYPE = b"\x60\x00\x00"  # () -> ()
BODY = b"\x02\x00\x0b"  # size 2: no locals, end


def section(section_id: int, *items: bytes) -> bytes:
    body = uleb(len(items)) + b"".join(items)
    return bytes([section_id]) + uleb(len(body)) + body


def name(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return uleb(len(raw)) + raw


def module(*sections: bytes) -> bytes:
    return HEADER + b"".join(sections)


def refusal(data: bytes) -> str:
    with pytest.raises(BinaryFormatError) as caught:
        parse(data)
    return str(caught.value)


def test_a_valid_module_answers_every_lookup() -> None:
    data = wasmtime.wat2wasm(
        '(module (import "env" "f" (func (param i32))) (func (export "g") (result i64) i64.const 1)'
        ' (export "f2" (func 0)))'
    )
    wasm = parse(data)
    assert [str(wasm.func_type(i)) for i in range(wasm.func_count)] == [
        "(i32) -> ()",
        "() -> (i64)",
    ]
    assert str(wasm.export_type("g")) == "() -> (i64)"
    assert str(wasm.export_type("f2")) == "(i32) -> ()"
    assert wasm.export_type("nope") is None
    assert wasm.func_name(1) == "g"


def test_an_export_of_a_function_that_does_not_exist_is_refused() -> None:
    # Before, parse accepted it and every lookup (inspect, codegen) raised IndexError.
    data = module(section(1, FUNCTYPE), section(7, name("ghost") + b"\x00\x05"))
    assert refusal(data) == "export `ghost` refers to function 5, the module has 0"


def test_a_function_with_an_unknown_type_is_refused() -> None:
    data = module(section(1, FUNCTYPE), section(3, b"\x07"), section(10, BODY))
    assert refusal(data) == "function 0 uses unknown type 7"


def test_bodies_must_match_the_declared_functions() -> None:
    data = module(section(1, FUNCTYPE), section(3, b"\x00", b"\x00"), section(10, BODY))
    assert refusal(data) == "2 functions declared but 1 bodies in the code section"


def test_a_body_larger_than_its_section_is_refused() -> None:
    data = module(section(1, FUNCTYPE), section(3, b"\x00"), section(10, uleb(2**32 - 1)))
    assert refusal(data) == (
        "truncated: function body of 4294967295 bytes at byte 26, only 0 remain in the code section"
    )


def test_an_export_of_an_unknown_kind_is_refused() -> None:
    # Before, it became kind "unknown" and rewrite_exports raised KeyError on it.
    data = module(section(7, name("x") + b"\x09\x00"))
    assert refusal(data) == "export `x` has unknown kind 0x09 at byte 13"


def test_a_start_function_that_does_not_exist_is_refused() -> None:
    data = module(bytes([8, 1, 3]))
    assert refusal(data) == "start function 3 does not exist"


def test_names_that_are_not_utf8_are_refused_and_shown_names_are_escaped() -> None:
    assert refusal(module(section(7, name(b"\xff") + b"\x00\x00"))) == (
        "name at byte 12 is not UTF-8"
    )
    bidi = module(section(7, name("\u202eexe\x00") + b"\x00\x00"))
    assert refusal(bidi) == "export `\\u202eexe\\x00` refers to function 0, the module has 0"


def peak_bytes_of_parse(data: bytes) -> tuple[str, int]:
    tracemalloc.start()
    try:
        message = refusal(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return message, peak


SECTIONS = {
    1: "types",
    2: "imports",
    3: "functions",
    4: "tables",
    5: "memories",
    7: "exports",
    10: "functions",
}


@pytest.mark.parametrize("section_id", sorted(SECTIONS))
def test_a_count_of_2_pow_32_minus_1_is_refused_without_allocating(section_id: int) -> None:
    body = uleb(2**32 - 1)
    data = HEADER + bytes([section_id]) + uleb(len(body)) + body
    message, peak = peak_bytes_of_parse(data)
    limit = {"types": "1,000,000", "functions": "1,000,000", "tables": "100", "memories": "100"}
    assert message == (
        f"4,294,967,295 {SECTIONS[section_id]} at byte 10, "
        f"over the {limit.get(SECTIONS[section_id], '100,000')} engines accept"
    )
    assert peak < 64 * 1024


@pytest.mark.parametrize("section_id", sorted(SECTIONS))
def test_a_count_the_bytes_cannot_hold_is_refused_without_allocating(section_id: int) -> None:
    body = uleb(100)  # and not one item
    data = HEADER + bytes([section_id]) + uleb(len(body)) + body
    message, peak = peak_bytes_of_parse(data)
    assert message.startswith("truncated: ")
    assert peak < 64 * 1024


def test_names_longer_than_engines_accept_are_refused() -> None:
    assert refusal(module(section(7, uleb(100_001) + b"x"))) == (
        "name of 100,001 bytes at byte 11, over the 100,000 engines accept"
    )


def test_the_name_section_is_read_up_to_its_first_100_000_names() -> None:
    count = 300_000
    entries = uleb(count) + b"".join(uleb(i) + name("f") for i in range(count))
    names = bytes([1]) + uleb(len(entries)) + entries
    data = module(bytes([0]) + uleb(len(name("name") + names)) + name("name") + names)
    wasm = parse(data)
    assert len(wasm.func_names) == 100_000
    assert wasm.func_name(99_999) == "f"
    assert wasm.func_name(100_000) is None
