"""A guest that returns malformed encoded values (docs/abi-compound.md, "Encoded values").

Each export of the hand-written module below breaks one rule: an offset
outside the buffer, text that is not UTF-8, a bool of 2, an enum index or
char that names nothing, an option or result tag out of range, a buffer
outside memory, a handle of 0. Every one is a ProtocolError naming the
function and where inside the value it went wrong; nothing is read outside
the guest's buffer, and the instance keeps working.
"""

from __future__ import annotations

import struct
from typing import Any

import pytest
import wasmtime

import wasmbridge
from wasmbridge.interface import (
    Case,
    ClassDef,
    EnumDef,
    Field,
    Function,
    Interface,
    RecordDef,
    Type,
)
from wasmbridge.interface.section import SECTION_NAME, VERSION, encode
from wasmbridge.interface.types import Kind

U8, U32, F64 = Type(Kind.U8), Type(Kind.U32), Type(Kind.F64)
STRING, CHAR, BOOL = Type(Kind.STRING), Type(Kind.CHAR), Type(Kind.BOOL)
POINT = Type(Kind.NAMED, name="Point")

# name: (result type, ptr, len, buffer at ptr) -- or a u32 written at the return area.
BUFFERS: dict[str, tuple[Type, int, int, bytes]] = {
    "bad_offset": (Type(Kind.VEC, STRING), 4096, 16, struct.pack("<4I", 8, 1, 1000, 3)),
    "bad_utf8": (Type(Kind.VEC, STRING), 4160, 18, struct.pack("<4I", 8, 1, 16, 2) + b"\xff\xfe"),
    "bad_bool": (Type(Kind.TUPLE, items=(U8, BOOL)), 4224, 2, bytes([1, 2])),
    "bad_char_in_list": (Type(Kind.VEC, CHAR), 4288, 12, struct.pack("<3I", 8, 1, 0x110000)),
    "bad_tag_in_list": (
        Type(Kind.VEC, Type(Kind.OPTION, U8)),
        4352,
        10,
        struct.pack("<2I", 8, 1) + bytes([3, 0]),
    ),
    "huge_count": (Type(Kind.VEC, POINT), 4416, 8, struct.pack("<2I", 8, 0x1000_0000)),
    "short": (POINT, 4480, 8, struct.pack("<d", 1.0)),
    "outside": (POINT, 0xFFFF_FF00, 16, b""),
    "bad_shape_in_record": (
        Type(Kind.NAMED, name="Tagged"),
        4544,
        2,
        bytes([1, 9]),
    ),
}
# name: (result type, the u32s at the return area, at +8 and at +12)
SLOTS: dict[str, tuple[Type, int, int, int]] = {
    "bad_enum": (Type(Kind.NAMED, name="Shape"), 9, 0, 0),
    "bad_option": (Type(Kind.OPTION, POINT), 7, 0, 0),
    "bad_result": (Type(Kind.RESULT_VALUE, U32, name="Shape"), 5, 0, 0),
    "bad_error_value": (Type(Kind.RESULT_VALUE, U32, name="Shape"), 2, 0xFFFF_FF00, 1),
    "zero_handle": (Type(Kind.NAMED, name="Obj"), 0, 0, 0),
    "bad_char_in_option": (Type(Kind.OPTION, CHAR), 1, 0xDFFF, 0),
    "bad_tag_of_number": (Type(Kind.OPTION, U32), 9, 65, 0),
    "bad_tag_of_text": (Type(Kind.OPTION, STRING), 0xFFFF_FFFF, 0, 0),
    "bad_bool_in_option": (Type(Kind.OPTION, BOOL), 1, 0x41, 0),
    "bad_message_result": (Type(Kind.RESULT, U32), 5, 0, 0),
}


def _stores(name: str, words: dict[int, int]) -> str:
    """An export writing ``words`` (offset: u32) into the return area it is given."""
    stores = " ".join(
        f"(i32.store offset={offset} (local.get $r) (i32.const {value}))"
        for offset, value in words.items()
    )
    return f'(func (export "{name}") (param $r i32) {stores})'


def _data(ptr: int, buf: bytes) -> str:
    escaped = "".join(f"\\{b:02x}" for b in buf)
    return f'(data (i32.const {ptr}) "{escaped}")'


def _wat() -> str:
    funcs = [_stores(name, {0: ptr, 4: length}) for name, (_, ptr, length, _) in BUFFERS.items()]
    funcs += [_stores(name, {0: a, 8: b, 12: c}) for name, (_, a, b, c) in SLOTS.items()]
    data = [_data(ptr, buf) for _, ptr, _, buf in BUFFERS.values() if buf]
    return f"""
(module
  (memory (export "memory") 4)
  (global $top (mut i32) (i32.const 8192))
  (func (export "__wb_alloc") (param $size i32) (param $align i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $top) (i32.sub (local.get $align) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get $align))))
    (global.set $top (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "__wb_free") (param i32 i32 i32))
  (func (export "bad_char") (result i32) (i32.const 0xD800))
  {_stores("good", {0: 4608, 4: 8})}
  {_data(4608, struct.pack("<II", 0, 0))}
  (func (export "Obj#drop") (param i32))
  {" ".join(funcs)}
  {" ".join(data)}
)
"""


INTERFACE = Interface(
    VERSION,
    (
        *(Function(name, (), t) for name, (t, _, _, _) in BUFFERS.items()),
        *(Function(name, (), t) for name, (t, _, _, _) in SLOTS.items()),
        Function("bad_char", (), CHAR),
        Function("good", (), Type(Kind.VEC, STRING)),
    ),
    records=(
        RecordDef("Point", (Field("x", F64), Field("y", F64))),
        RecordDef("Tagged", (Field("flag", BOOL), Field("shape", Type(Kind.NAMED, name="Shape")))),
    ),
    enums=(EnumDef("Shape", (Case("Circle", 0), Case("Square", 1), Case("Triangle", 2))),),
    classes=(ClassDef("Obj"),),
)


def _custom_section(name: str, payload: bytes) -> bytes:
    def uleb(n: int) -> bytes:
        out = bytearray()
        while True:
            byte, n = n & 0x7F, n >> 7
            out.append(byte | (0x80 if n else 0))
            if not n:
                return bytes(out)

    body = uleb(len(name.encode())) + name.encode() + payload
    return b"\x00" + uleb(len(body)) + body


@pytest.fixture(scope="module")
def hostile() -> Any:
    wasm = wasmtime.wat2wasm(_wat()) + _custom_section(SECTION_NAME, encode(INTERFACE))
    return wasmbridge.load(wasm, name="hostile.wasm")


@pytest.mark.parametrize(
    ("export", "message"),
    [
        (
            "bad_offset",
            "`bad_offset` returned a malformed `Vec<String>`: result[0]: text of 3 bytes at "
            "offset 1,000 ends outside the buffer",
        ),
        ("bad_utf8", "`bad_utf8` returned a malformed `Vec<String>`: result[0]: text at offset"),
        ("bad_bool", "`bad_bool` returned a malformed `(u8, bool)`: result[1]: a bool is 2"),
        ("bad_char_in_list", "result[0]: char 0x110000 is not a Unicode scalar value"),
        ("bad_tag_in_list", "result[0]: an option tag is 3, not 0 or 1"),
        ("huge_count", "a list of 268,435,456 elements (16 bytes each) at offset 8 ends outside"),
        (
            "short",
            "`short` returned a malformed `Point`: the buffer has 8 bytes, fewer than the 16",
        ),
        ("outside", "`outside` returned a malformed `Point`: its buffer (bytes 4,294,967,040.."),
        ("bad_shape_in_record", "result.shape: enum Shape index 9 names no case (it has 3)"),
        ("bad_enum", "`bad_enum` returned a malformed `Shape`: enum Shape index 9 names no case"),
        ("bad_option", "`bad_option` returned a malformed `Option<Point>`: an option tag is 7"),
        ("bad_result", "a result tag is 5, not 0, 1 or 2"),
        ("bad_error_value", "`bad_error_value` returned a malformed `Result<u32, Shape>`: its "),
        ("zero_handle", "`zero_handle` returned a malformed `Obj`: the Obj handle is 0, which"),
        ("bad_char_in_option", "returned a malformed `Option<char>`: char 0xdfff is not a Unicode"),
        ("bad_char", "`bad_char` returned a malformed `char`: char 0xd800 is not a Unicode scalar"),
        ("bad_tag_of_number", "malformed `Option<u32>`: an option tag is 9, not 0 or 1"),
        ("bad_tag_of_text", "malformed `Option<String>`: an option tag is 4,294,967,295, not"),
        ("bad_bool_in_option", "`bad_bool_in_option` returned a malformed `bool`: a bool is 65"),
        ("bad_message_result", "malformed result: a result tag is 5, not 0 (Ok) or 1 (Err)"),
    ],
)
def test_malformed_results_are_protocol_errors_naming_the_function(
    hostile: Any, export: str, message: str
) -> None:
    with pytest.raises(wasmbridge.ProtocolError) as info:
        getattr(hostile, export)()
    assert str(info.value).startswith("hostile.wasm: `")
    assert message in str(info.value)
    assert info.value.hint == "this is a bug in the guest module or a mismatched interface"
    assert hostile.good() == []  # the instance still works
