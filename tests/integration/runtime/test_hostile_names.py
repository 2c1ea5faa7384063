"""Names in a module's interface are data: they never become Python source.

A crafted interface section names functions and parameters after the
call code's own internals (`_wb_buf`, spelled with a fullwidth `ｗ`, which
Python's parser folds to `w`), after builtins the wrapper uses (`len`,
`bool`), keywords and non-identifiers. Every one must load, call with the
right result, and never touch host memory.
"""

from __future__ import annotations

import inspect

import pytest
import wasmtime

import wasmbridge
from wasmbridge.interface import Function, Interface, Param, Type
from wasmbridge.interface.section import SECTION_NAME, VERSION, encode
from wasmbridge.interface.types import Kind

# A bump allocator and two exports: sum of bytes (ptr, len) -> i64, and identity.
WAT = """
(module
  (memory (export "memory") 2)
  (global $top (mut i32) (i32.const 1024))
  (func (export "__wb_alloc") (param $size i32) (param $align i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $top) (i32.sub (local.get $align) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get $align))))
    (global.set $top (i32.add (local.get $p) (local.get $size)))
    (if (i32.gt_u (global.get $top) (i32.mul (memory.size) (i32.const 65536)))
      (then (drop (memory.grow (i32.add (i32.shr_u (local.get $size) (i32.const 16))
                                        (i32.const 1))))))
    (local.get $p))
  (func (export "__wb_free") (param i32 i32 i32))
  (func $sum (param $p i32) (param $n i32) (result i64)
    (local $acc i64)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (i64.add (local.get $acc) (i64.load8_u (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $acc))
  (func $same (param i32) (result i32) (local.get 0))
  (func (export "sub") (param i32 i32) (result i32) (i32.sub (local.get 0) (local.get 1)))
  (export "len" (func $sum))
  (export "_wb_ctx" (func $sum))
  (export "bool" (func $same))
  (export "class" (func $same))
  (export "a b" (func $same))
)
"""

BYTES = Type(Kind.SLICE, Type(Kind.U8))
U64 = Type(Kind.U64)
I32 = Type(Kind.I32)
BOOL = Type(Kind.BOOL)

HOSTILE_PARAMS = ["_\uff57b_buf", "_wb_ctx", "_wb_buf", "len", "self", "None", "", "x" * 10_000]


def custom_section(name: str, payload: bytes) -> bytes:
    def uleb(n: int) -> bytes:
        out = bytearray()
        while True:
            byte, n = n & 0x7F, n >> 7
            out.append(byte | (0x80 if n else 0))
            if not n:
                return bytes(out)

    body = uleb(len(name.encode())) + name.encode() + payload
    return b"\x00" + uleb(len(body)) + body


def module_with(functions: list[Function]) -> bytes:
    interface = Interface(VERSION, tuple(functions), ())
    return wasmtime.wat2wasm(WAT) + custom_section(SECTION_NAME, encode(interface))


@pytest.mark.parametrize("param", HOSTILE_PARAMS)
def test_parameter_names_are_never_code(param: str) -> None:
    m = wasmbridge.load(module_with([Function("len", (Param(param, BYTES),), U64)]))
    data = bytes(range(256)) * 10
    assert m.len(data) == sum(data)
    assert m.len(b"") == 0
    assert m.len(memoryview(data)[5:900]) == sum(data[5:900])


def test_keyword_arguments_use_the_names_a_caller_can_spell() -> None:
    m = wasmbridge.load(module_with([Function("len", (Param("_\uff57b_buf", BYTES),), U64)]))
    # Python folds the fullwidth letter when it parses a keyword: the signature
    # shows, and accepts, the folded name.
    assert list(inspect.signature(m.len).parameters) == ["_wb_buf"]
    assert m.len(_wb_buf=b"\x02\x03") == 5


def test_function_names_shadowing_builtins_and_internals() -> None:
    m = wasmbridge.load(
        module_with(
            [
                Function("len", (Param("len", BYTES),), U64),
                Function("_wb_ctx", (Param("_wb_ctx", BYTES),), U64),
                Function("bool", (Param("bool", BOOL),), BOOL),
                Function("class", (Param("class", I32),), I32),
                Function("a b", (Param("a b", I32),), I32),
            ]
        )
    )
    assert m.len(b"\x01\x02") == 3
    assert m.exports["_wb_ctx"](b"\x05") == 5
    assert m.bool(True) is True and m.bool(False) is False
    assert getattr(m, "class")(7) == 7
    assert m.exports["a b"](-9) == -9
    assert m.len.__name__ == "len"
    with pytest.raises(TypeError, match=r"bool\(\) argument 'bool'"):
        m.bool(1)
    # Non-identifier names are still called positionally, shown as p<i>.
    assert list(inspect.signature(getattr(m, "class")).parameters) == ["p0"]


def test_duplicate_parameter_names_are_refused() -> None:
    """No Rust function has two parameters of one name: a section saying so is forged."""
    with pytest.raises(wasmbridge.InterfaceError, match="2 parameters named `x`"):
        wasmbridge.load(module_with([Function("sub", (Param("x", I32), Param("x", I32)), I32)]))
