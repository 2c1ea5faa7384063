"""Buffers a guest places outside its memory: each error names the function and the buffer.

A hand-written module (WAT below) hands back an error message, a string
result, a callback's arguments and a callback's result slot that lie past
the end of its memory; each is a ``ProtocolError`` naming what the buffer
is and whose it is, with the numbers written as the other ProtocolErrors
write them, and the callable of a bad callback is never run.
"""

from __future__ import annotations

from typing import Any

import pytest
import wasmtime

import wasmbridge
from wasmbridge.interface import Function, Interface, Param, Type
from wasmbridge.interface.section import SECTION_NAME, VERSION, encode
from wasmbridge.interface.types import Kind

U32, UNIT = Type(Kind.U32), Type(Kind.UNIT)
CALLBACK = Type(Kind.CALLBACK, inner=U32, items=(U32,))
HINT = "this is a bug in the guest module or a mismatched interface"

WAT = """
(module
  (import "wasmbridge" "callback" (func $cb (param i32 i32 i32 i32)))
  (memory (export "memory") 4)
  (global $top (mut i32) (i32.const 8192))
  (data (i32.const 0x1000) "\\07\\00\\00\\00")
  (func (export "__wb_alloc") (param $size i32) (param $align i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $top) (i32.sub (local.get $align) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get $align))))
    (global.set $top (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "__wb_free") (param i32 i32 i32))
  (func (export "message_out") (param $ret i32)
    (i32.store (local.get $ret) (i32.const 1))
    (i32.store offset=8 (local.get $ret) (i32.const 0x8000))
    (i32.store offset=12 (local.get $ret) (i32.const 0x40000)))
  (func (export "text_out") (param $ret i32)
    (i32.store (local.get $ret) (i32.const 0xFFFFFF00))
    (i32.store offset=4 (local.get $ret) (i32.const 16)))
  (func (export "args_out") (param $id i32) (result i32)
    (call $cb (local.get $id) (i32.const 0xFFFFFFF0) (i32.const 16) (i32.const 0x1100))
    (i32.const 0))
  (func (export "ret_out") (param $id i32) (result i32)
    (call $cb (local.get $id) (i32.const 0x1000) (i32.const 4) (i32.const 0x3FFFC))
    (i32.const 0))
)
"""

INTERFACE = Interface(
    VERSION,
    (
        Function("message_out", (), Type(Kind.RESULT, U32)),
        Function("text_out", (), Type(Kind.STRING)),
        Function("args_out", (Param("f", CALLBACK),), U32),
        Function("ret_out", (Param("f", CALLBACK),), U32),
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


@pytest.fixture(scope="module")
def places() -> Any:
    wasm = wasmtime.wat2wasm(WAT) + _custom_section(SECTION_NAME, encode(INTERFACE))
    return wasmbridge.load(wasm, name="places.wasm")


@pytest.mark.parametrize(
    ("export", "message"),
    [
        (
            "message_out",
            "places.wasm: the result of `message_out`: bytes 32,768..294,912 are outside "
            "its 262,144-byte memory",
        ),
        (
            "text_out",
            "places.wasm: the result of `text_out`: bytes 4,294,967,040..4,294,967,056 are "
            "outside its 262,144-byte memory",
        ),
    ],
    ids=["error-message", "string"],
)
def test_a_result_outside_memory_names_the_function(places: Any, export: str, message: str) -> None:
    with pytest.raises(wasmbridge.ProtocolError) as info:
        getattr(places, export)()
    assert str(info.value) == message
    assert info.value.hint == HINT


@pytest.mark.parametrize(
    ("export", "message"),
    [
        (
            "args_out",
            "places.wasm: the arguments of the callback `f` of `args_out`: bytes "
            "4,294,967,280..4,294,967,296 are outside its 262,144-byte memory",
        ),
        (
            "ret_out",
            "places.wasm: the result slot of the callback `f` of `ret_out`: bytes "
            "262,140..262,148 are outside its 262,144-byte memory",
        ),
    ],
    ids=["arguments", "result-slot"],
)
def test_a_callback_buffer_outside_memory_names_the_callback(
    places: Any, export: str, message: str
) -> None:
    calls: list[int] = []

    def record(n: int) -> int:
        calls.append(n)
        return n

    with pytest.raises(wasmbridge.ProtocolError) as info:
        getattr(places, export)(record)
    assert str(info.value) == message
    assert info.value.hint == HINT
    assert calls == []  # never run with arguments it cannot have, nor a slot it cannot fill
