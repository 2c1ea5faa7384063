"""Loading: bad input, signatures and docs, modules without an interface, the cache."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
import wasmtime

import wasmbridge
from wasmbridge.runtime.engine.cache import CompileCache

ADD_WAT = """(module
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "scale") (param f64 i64) (result f64) local.get 0 local.get 1 f64.convert_i64_s f64.mul)
  (func (export "pair") (result i32 i64) i32.const 1 i64.const 2)
  (func (export "splat") (param i32) (result v128) local.get 0 i32x4.splat)
  (memory (export "memory") 1))"""


def test_elf_file_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "x.wasm"
    path.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(64))
    with pytest.raises(
        wasmbridge.InvalidModule,
        match=r"(?m)^x\.wasm is not WebAssembly \(starts 7f 45 4c 46: an ELF file\?\)$",
    ):
        wasmbridge.load(path)


def test_text_format_is_refused_not_compiled() -> None:
    with pytest.raises(
        wasmbridge.InvalidModule, match="WebAssembly text; compile it with wat2wasm first"
    ):
        wasmbridge.load(ADD_WAT.encode(), name="add.wat")


def test_truncated_module() -> None:
    data = wasmtime.wat2wasm(ADD_WAT)
    with pytest.raises(wasmbridge.InvalidModule, match=r"^cut\.wasm truncated: section code"):
        wasmbridge.load(data[: len(data) - 10], name="cut.wasm")


def test_empty_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "empty.wasm").write_bytes(b"")
    with pytest.raises(wasmbridge.InvalidModule, match="(?m)^empty.wasm empty file$"):
        wasmbridge.load(tmp_path / "empty.wasm")
    with pytest.raises(wasmbridge.InvalidModule, match="no such file") as info:
        wasmbridge.load(tmp_path / "nope.wasm")
    assert info.value.hint is not None and "wasmbridge build" in info.value.hint


def test_invalid_code_reports_the_engine_reason() -> None:
    # A function whose body leaves the wrong type on the stack.
    data = bytes.fromhex(
        "0061736d01000000010501600001 7f 030201 00 0a0601 04 00 42 00 0b".replace(" ", "")
    )
    with pytest.raises(
        wasmbridge.InvalidModule, match=r"^bad\.wasm is not a valid WebAssembly module: "
    ):
        wasmbridge.load(data, name="bad.wasm")


def test_module_size_cap() -> None:
    data = wasmtime.wat2wasm(ADD_WAT)
    with pytest.raises(wasmbridge.InvalidModule, match=r"over the 16-byte module limit"):
        wasmbridge.load(data, name="add.wasm", max_module_bytes=16)


def test_module_without_interface_exposes_numeric_exports() -> None:
    m = wasmbridge.load(wasmtime.wat2wasm(ADD_WAT), name="plain.wasm")
    assert m.interface is None
    assert m.add(5, 7) == 12
    assert m.scale(1.5, 4) == 6.0
    assert m.pair() == (1, 2)
    assert str(inspect.signature(m.add)) == "(p0: int, p1: int) -> int"


def test_v128_export_is_refused_before_touching_it() -> None:
    m = wasmbridge.load(wasmtime.wat2wasm(ADD_WAT), name="plain.wasm")
    with pytest.raises(
        wasmbridge.InterfaceError,
        match=r"export `splat` cannot be called from Python: its signature \(i32\) -> \(v128\) uses v128",
    ):
        m.splat(1)


def test_unknown_attribute_suggests_the_closest_export() -> None:
    m = wasmbridge.load(wasmtime.wat2wasm(ADD_WAT), name="plain.wasm")
    with pytest.raises(AttributeError, match="plain.wasm has no export `ad`; did you mean `add`?"):
        m.ad  # noqa: B018


@pytest.mark.toolchain
def test_signatures_and_docs_come_from_the_interface(types_wasm: Path) -> None:
    m = wasmbridge.load(types_wasm)
    assert str(inspect.signature(m.add)) == "(a: int, b: int) -> int"
    assert str(inspect.signature(m.echo_str)) == "(s: str) -> str"
    assert str(inspect.signature(m.echo_opt_i32)) == "(v: Optional[int]) -> Optional[int]"
    assert m.checked_div.__doc__ == "Divides, refusing a zero divisor with an error message."
    assert m.documented.__doc__ is not None and m.documented.__doc__.startswith("First line.")
    assert (
        "type" in inspect.signature(m.documented).parameters
        or "type_" in inspect.signature(m.documented).parameters
    )


@pytest.mark.toolchain
def test_argument_errors_name_function_parameter_and_type(types_wasm: Path) -> None:
    m = wasmbridge.load(types_wasm)
    with pytest.raises(TypeError, match=r"^add\(\) argument 'b': expected int \(i32\), got str$"):
        m.add(1, "2")
    with pytest.raises(
        OverflowError, match=r"^echo_u8\(\) argument 'v': 256 is out of range for u8 \(0\.\.255\)$"
    ):
        m.echo_u8(256)
    with pytest.raises(TypeError, match=r"^echo_str\(\) argument 's': expected str, got bytes$"):
        m.echo_str(b"x")
    with pytest.raises(TypeError, match=r"^echo_bool\(\) argument 'v': expected bool, got int$"):
        m.echo_bool(1)
    with pytest.raises(
        TypeError,
        match=r"^fill\(\) argument 'buf': expected a writable bytes-like object .* got bytes \(read-only\)$",
    ):
        m.fill(b"abc", 1)
    with pytest.raises(
        TypeError,
        match=r"^echo_f32s\(\) argument 'v': expected a buffer or sequence of f32, got array \(buffer of format 'd'\)$",
    ):
        import array

        m.echo_f32s(array.array("d", [1.0]))
    with pytest.raises(TypeError, match=r"missing 1 required positional argument: 'b'"):
        m.add(1)
    with pytest.raises(
        ValueError, match=r"^echo_str\(\) argument 's': text is not encodable as UTF-8"
    ):
        m.echo_str("\ud800")


@pytest.mark.toolchain
def test_errors_from_guest(types_wasm: Path) -> None:
    m = wasmbridge.load(types_wasm)
    with pytest.raises(
        wasmbridge.ReturnedError,
        match=r"^`checked_div\(1, 0\)` in types\.wasm returned an error: division by zero$",
    ):
        m.checked_div(1, 0)
    with pytest.raises(
        wasmbridge.GuestPanic,
        match=r"^`panic_literal\(\)` in types\.wasm panicked at src/lib\.rs:\d+:\d+: boom$",
    ):
        m.panic_literal()
    with pytest.raises(wasmbridge.Trap) as info:
        m.divide_by_zero_trap(7, 0)
    assert str(info.value).startswith(
        "`divide_by_zero_trap(7, 0)` in types.wasm: integer divide by zero\nwasm backtrace:\n  0: divide_by_zero_trap (func "
    )
    with pytest.raises(wasmbridge.StackLimitExceeded, match="exhausted the wasm stack"):
        m.stack_overflow(1)
    # Still usable after each of them.
    assert m.add(1, 2) == 3


@pytest.mark.toolchain
def test_formatted_panic_messages_with_the_build_option(build_fixture: Any) -> None:
    m = wasmbridge.load(build_fixture("types", "--panic-messages"))
    with pytest.raises(
        wasmbridge.GuestPanic,
        match=r"panicked at src/lib\.rs:\d+:\d+: index out of bounds: the len is 3 but the index is 7$",
    ):
        m.index_out_of_bounds(7)
    with pytest.raises(wasmbridge.GuestPanic, match=r": value required$"):
        m.panic_expect(None)
    with pytest.raises(wasmbridge.GuestPanic, match=r": bad value 3$"):
        m.panic_format(3)


@pytest.mark.toolchain
def test_size_optimized_panic_keeps_location_and_says_how_to_get_the_message(
    types_wasm: Path,
) -> None:
    m = wasmbridge.load(types_wasm)
    with pytest.raises(wasmbridge.GuestPanic) as info:
        m.index_out_of_bounds(7)
    assert info.value.file == "src/lib.rs" and info.value.line > 0
    assert (
        info.value.hint
        == "rebuild with `wasmbridge build --panic-messages` (or --dev) to see the full message"
    )


def test_second_load_does_not_recompile(tmp_path: Path) -> None:
    data = wasmtime.wat2wasm(ADD_WAT)
    cache = CompileCache(tmp_path / "cache")
    wasmbridge.load(data, cache=cache)
    assert (cache.stats.compiles, cache.stats.memory_hits) == (1, 0)
    wasmbridge.load(data, cache=cache)
    assert cache.stats.memory_hits == 1
    fresh = CompileCache(tmp_path / "cache")  # another process: only the disk is shared
    assert wasmbridge.load(data, cache=fresh).add(2, 2) == 4
    assert (fresh.stats.disk_hits, fresh.stats.compiles) == (1, 0)


def test_corrupted_cache_entry_is_rebuilt(tmp_path: Path) -> None:
    data = wasmtime.wat2wasm(ADD_WAT)
    cache = CompileCache(tmp_path / "cache")
    wasmbridge.load(data, cache=cache)
    entry = next((tmp_path / "cache" / "modules").glob("*/*.cwasm"))
    blob = bytearray(entry.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    entry.write_bytes(bytes(blob))
    fresh = CompileCache(tmp_path / "cache")
    assert wasmbridge.load(data, cache=fresh).add(1, 1) == 2
    assert (fresh.stats.rejected, fresh.stats.compiles) == (1, 1)


def test_public_api_is_sorted_and_complete() -> None:
    assert wasmbridge.__all__ == sorted(wasmbridge.__all__)
    for name in wasmbridge.__all__:
        assert getattr(wasmbridge, name) is not None
