"""Host functions that take and return ``char`` (the SDK allows char in imports).

A hand-written guest passes chars to Python and back: a one-character
str each way, checked both ways (a surrogate from the guest, a longer str
from the host are errors naming the host function).
"""

from __future__ import annotations

from typing import Any

import pytest
import wasmtime

import wasmbridge
from wasmbridge.interface import Function, Interface, Param, Type
from wasmbridge.interface.section import SECTION_NAME, VERSION, encode
from wasmbridge.interface.types import Kind

CHAR = Type(Kind.CHAR)
OPTION_CHAR = Type(Kind.OPTION, CHAR)

WAT = """
(module
  (import "env" "shift" (func $shift (param i32) (result i32)))
  (import "env" "maybe" (func $maybe (param i32)))
  (memory (export "memory") 4)
  (global $top (mut i32) (i32.const 1024))
  (func (export "__wb_alloc") (param $size i32) (param $align i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $top) (i32.sub (local.get $align) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get $align))))
    (global.set $top (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "__wb_free") (param i32 i32 i32))
  (func (export "call_shift") (param $c i32) (result i32) (call $shift (local.get $c)))
  (func (export "call_maybe") (param $ret i32) (call $maybe (local.get $ret)))
  (func (export "surrogate_to_host") (result i32) (call $shift (i32.const 0xD800)))
)
"""

INTERFACE = Interface(
    VERSION,
    (
        Function("call_shift", (Param("c", CHAR),), CHAR),
        Function("call_maybe", (), OPTION_CHAR),
        Function("surrogate_to_host", (), CHAR),
    ),
    (
        Function("shift", (Param("c", CHAR),), CHAR, module="env"),
        Function("maybe", (), OPTION_CHAR, module="env"),
    ),
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


WASM = wasmtime.wat2wasm(WAT) + _custom_section(SECTION_NAME, encode(INTERFACE))


def _load(shift: Any, maybe: Any = lambda: None) -> Any:
    return wasmbridge.load(WASM, name="chars.wasm", imports={"shift": shift, "maybe": maybe})


def test_chars_cross_to_the_host_and_back() -> None:
    seen: list[str] = []

    def shift(c: str) -> str:
        seen.append(c)
        return chr(ord(c) + 1)

    m = _load(shift, lambda: seen[-1] if seen else None)
    assert m.call_maybe() is None
    assert m.call_shift("a") == "b"
    assert m.call_shift("\U0010fffe") == "\U0010ffff"
    assert m.call_maybe() == "\U0010fffe"
    assert seen == ["a", "\U0010fffe"]


def test_a_host_returning_no_char_is_an_error_naming_it() -> None:
    m = _load(lambda c: c * 2)
    with pytest.raises(ValueError, match=r"^host import env.shift returned 'aa': expected a one-c"):
        m.call_shift("a")
    m = _load(lambda c: "\udc00")
    with pytest.raises(ValueError, match=r"returned '\\udc00': '\\udc00' is a lone surrogate"):
        m.call_shift("a")
    m = _load(lambda c: c, lambda: 5)
    with pytest.raises(TypeError, match="host import env.maybe returned 5: expected a one-char"):
        m.call_maybe()


def test_a_guest_passing_a_surrogate_to_the_host_is_a_protocol_error() -> None:
    m = _load(lambda c: c)
    with pytest.raises(wasmbridge.ProtocolError) as info:
        m.surrogate_to_host()
    assert str(info.value) == (
        "chars.wasm passed host import env.shift a bad char: char 0xd800 is not a Unicode "
        "scalar value"
    )
