"""Fuzz the wasm binary reader: whatever the bytes, ``parse`` returns a module whose
every lookup works, or raises ``BinaryFormatError`` with a printable message."""

from __future__ import annotations

import pytest
import wasmtime
from fuzz_interfaces import interfaces, raw_sections
from fuzz_support import budget, mutations
from fuzz_wasm import structured_modules
from hypothesis import given
from hypothesis import strategies as st

from wasmbridge.interface import BinaryFormatError, WasmModule, parse
from wasmbridge.interface.section import encode

ENGINE = wasmtime.Engine()


def parse_or_refuse(data: bytes) -> WasmModule | None:
    """``parse(data)``, asserting that a refusal is a BinaryFormatError safe to print."""
    try:
        module = parse(data)
    except BinaryFormatError as exc:
        assert str(exc) and str(exc).isprintable(), repr(str(exc))
        return None
    use_everything(module)
    return module


def use_everything(module: WasmModule) -> None:
    """Every lookup a host makes on a parsed module answers without raising."""
    for export in module.exports:
        if export.kind == "func":
            module.func_type(export.index)
            assert module.export_type(export.name) is not None
            module.func_name(export.index)
    for index in range(module.func_count):
        module.func_type(index)
    for name in module.custom:
        module.custom_section(name)
    assert all(s.total_size > s.size for s in module.sections)


def agrees_with_wasmtime(data: bytes, module: WasmModule) -> None:
    """For a module wasmtime accepts, our exports and imports are wasmtime's."""
    compiled = wasmtime.Module(ENGINE, data)
    ours = [(e.name, e.kind) for e in module.exports]
    kinds = {
        wasmtime.FuncType: "func",
        wasmtime.MemoryType: "memory",
        wasmtime.TableType: "table",
        wasmtime.GlobalType: "global",
    }
    theirs = [(e.name, kinds.get(type(e.type), "tag")) for e in compiled.exports]
    assert ours == theirs
    for export, theirs_export in zip(module.exports, compiled.exports, strict=True):
        if export.kind == "func":
            ftype = module.func_type(export.index)
            wt = theirs_export.type
            assert ftype.params == tuple(str(p) for p in wt.params)
            assert ftype.results == tuple(str(r) for r in wt.results)
    assert [(i.module, i.name) for i in module.imports] == [
        (i.module, i.name) for i in compiled.imports
    ]


@budget(300)
@given(st.binary(max_size=64) | st.binary(max_size=64).map(lambda b: b"\0asm\x01\0\0\0" + b))
def test_random_bytes_parse_or_raise_binary_format_error(data: bytes) -> None:
    parse_or_refuse(data)


@budget(400)
@given(structured_modules(interface=raw_sections() | interfaces().map(encode)))
def test_modules_with_lying_counts_and_hostile_names_parse_or_raise(data: bytes) -> None:
    parse_or_refuse(data)


@budget(300)
@given(st.data())
def test_mutated_wat_modules_parse_like_wasmtime(
    wat_modules: dict[str, bytes], data: st.DataObject
) -> None:
    original = wat_modules[data.draw(st.sampled_from(sorted(wat_modules)))]
    mutated = data.draw(mutations(original))
    module = parse_or_refuse(mutated)
    try:
        wasmtime.Module.validate(ENGINE, mutated)
    except wasmtime.WasmtimeError:
        return
    assert module is not None, "parse refused a module wasmtime accepts"
    agrees_with_wasmtime(mutated, module)


@pytest.mark.toolchain
@budget(150)
@given(st.data())
def test_mutated_sdk_module_parses_or_raises(
    sdk_modules: dict[str, bytes], data: st.DataObject
) -> None:
    mutated = data.draw(mutations(sdk_modules["types"], max_edits=6))
    module = parse_or_refuse(mutated)
    try:
        wasmtime.Module.validate(ENGINE, mutated)
    except wasmtime.WasmtimeError:
        return
    assert module is not None, "parse refused a module wasmtime accepts"
