"""Imports and messages of hostile modules: exact linking, names escaped."""

from __future__ import annotations

import pytest
import wasmtime

import wasmbridge


def test_namespaces_and_names_with_dots_link_to_the_right_function() -> None:
    wasm = wasmtime.wat2wasm(
        """(module
          (import "a.b" "c" (func $one (result i32)))
          (import "a" "b.c" (func $two (result i32)))
          (func (export "one") (result i32) (call $one))
          (func (export "two") (result i32) (call $two)))"""
    )
    m = wasmbridge.load(wasm, imports={"a.b": {"c": lambda: 1}, "a": {"b.c": lambda: 2}})
    assert (m.one(), m.two()) == (1, 2)


def test_control_characters_in_names_are_escaped_in_errors() -> None:
    wasm = wasmtime.wat2wasm('(module (func (export "\\1b[2J\\e2\\80\\ae") unreachable))')
    m = wasmbridge.load(wasm)
    with pytest.raises(wasmbridge.Trap) as info:
        m.exports["\x1b[2J\u202e"]()
    text = str(info.value)
    assert "\x1b" not in text and "\u202e" not in text
    assert "\\x1b[2J\\u202e" in text


def test_an_interface_that_disagrees_with_the_code_is_refused() -> None:
    from wasmbridge.interface import Function, Interface, Param, Type
    from wasmbridge.interface.section import SECTION_NAME, VERSION, encode
    from wasmbridge.interface.types import Kind

    body = encode(
        Interface(VERSION, (Function("f", (Param("s", Type(Kind.STR)),), Type(Kind.I32)),), ())
    )
    name = SECTION_NAME.encode()
    payload = bytes([len(name)]) + name + body
    section = b"\x00" + bytes([len(payload)]) + payload
    wasm = wasmtime.wat2wasm('(module (func (export "f") (param i32) (result i32) local.get 0))')
    with pytest.raises(wasmbridge.InterfaceError, match="does not match its code: export `f`"):
        wasmbridge.load(wasm + section)


def test_garbage_passed_to_wasi_is_a_guest_error_with_a_hint() -> None:
    wasm = wasmtime.wat2wasm(
        """(module
          (import "wasi_snapshot_preview1" "clock_time_get"
            (func $clock (param i32 i64 i32) (result i32)))
          (memory (export "memory") 1)
          (func (export "f") (result i32) (call $clock (i32.const 99) (i64.const 0) (i32.const 0))))"""
    )
    m = wasmbridge.load(wasm)
    with pytest.raises(wasmbridge.GuestError, match="failed in a host call: Invalid enum") as info:
        m.f()
    assert "WASI" in info.value.hint
    assert m.f.__name__ == "f"


def test_host_imports_calling_back_without_end_stop_cleanly() -> None:
    """Each level re-enters the export from its host import: Python's recursion
    limit used to be hit inside ctypes, which swallowed the error, and the guest
    read a garbage trap pointer (the process aborted)."""
    wasm = wasmtime.wat2wasm(
        """(module
          (import "env" "again" (func $again (result i32)))
          (func (export "f") (result i32) (call $again)))"""
    )
    m = wasmbridge.load(wasm, imports={"again": lambda: m.f()})
    for _ in range(3):
        with pytest.raises(wasmbridge.StackLimitExceeded, match="called each other"):
            m.f()
    m2 = wasmbridge.load(wasm, imports={"again": lambda: 7})
    assert m2.f() == 7


@pytest.mark.toolchain
def test_a_host_import_may_not_resize_its_mut_argument(imports_wasm: object) -> None:
    from test_imports import HOST

    def grow(buf: bytearray) -> None:
        buf.extend(b"\x11" * 6)

    m = wasmbridge.load(imports_wasm, imports=dict(HOST, host_fill=grow))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="changed the length of its &mut argument from 4 to 10"):
        m.call_fill(4)
    m = wasmbridge.load(imports_wasm, imports=dict(HOST))  # type: ignore[arg-type]
    assert m.call_fill(4) == b"\x2a" * 4


def test_errors_show_byte_arguments_by_size_not_by_content() -> None:
    """A failed call with a 256 MiB argument spent seconds and GiBs in repr(), and a
    key passed as bytes would end up in the log."""
    from wasmbridge.runtime.bridge.calls import describe_call

    text = describe_call("f", (bytes(64 << 20), bytearray(3), memoryview(bytes(10))))
    assert text == "`f(<bytes 67,108,864 bytes>, <bytearray 3 bytes>, <memoryview 10 bytes>)`"


def test_limits_past_the_engines_counters_are_refused() -> None:
    for kwargs in ({"memory_mb": 2**44}, {"table_elements": 2**64}, {"fuel": 2**64}):
        with pytest.raises(ValueError, match="at most"):
            wasmbridge.Limits(**kwargs)
