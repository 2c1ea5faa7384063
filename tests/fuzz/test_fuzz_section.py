"""Fuzz the interface-section codec and the interface check.

``decode`` returns an interface whose every type is placed as docs/abi.md
allows, or raises ``SectionFormatError``; ``encode``/``decode`` round-trip;
``validate`` answers for any module and interface, with printable lines.
"""

from __future__ import annotations

import wasmtime
from fuzz_guests import Guest, guest_wasm, guests
from fuzz_interfaces import interfaces, raw_sections
from fuzz_support import budget, mutations
from fuzz_wasm import structured_modules
from hypothesis import given
from hypothesis import strategies as st

from wasmbridge.interface import (
    BinaryFormatError,
    Function,
    Interface,
    SectionFormatError,
    parse,
    validate,
)
from wasmbridge.interface.binary import uleb
from wasmbridge.interface.section import MAX_TYPE_DEPTH, decode, encode, type_problem


def decode_or_refuse(data: bytes) -> Interface | None:
    """``decode(data)``, asserting a refusal is a SectionFormatError safe to print and
    an accepted interface is well placed and re-encodes to itself."""
    try:
        interface = decode(data)
    except SectionFormatError as exc:
        assert str(exc) and str(exc).isprintable(), repr(str(exc))
        return None
    for func in interface.exports:
        assert type_problem(func, imported=False) is None
    for func in interface.imports:
        assert type_problem(func, imported=True) is None
    assert decode(encode(interface)) == interface
    return interface


@budget(150)
@given(interfaces())
def test_encode_then_decode_gives_the_interface_back(interface: Interface) -> None:
    data = encode(interface)
    assert decode(data) == interface
    assert encode(decode(data)) == data


@budget(300)
@given(st.binary(max_size=80))
def test_random_bytes_decode_or_raise_section_format_error(data: bytes) -> None:
    decode_or_refuse(data)


@budget(300)
@given(raw_sections())
def test_records_with_lying_sizes_and_bad_types_decode_or_raise(data: bytes) -> None:
    decode_or_refuse(data)


@budget(150)
@given(interfaces().map(encode).flatmap(mutations))
def test_mutated_sections_decode_or_raise(data: bytes) -> None:
    decode_or_refuse(data)


@budget(50)
@given(
    st.sampled_from((0x12, 0x13, 0x14, 0x15, 0x16)),
    st.integers(1, 200_000),
    st.sampled_from((0x00, 0x03, 0x06, 0x10)),
)
def test_deep_nesting_is_refused_without_recursing(wrapper: int, depth: int, leaf: int) -> None:
    tags = bytes([wrapper]) * depth + bytes([leaf])
    body = b"\x01f\x00\x01\x01a" + tags + b"\x00"
    data = b"\x01\x01" + uleb(len(body)) + body
    interface = decode_or_refuse(data)
    if depth >= MAX_TYPE_DEPTH:
        assert interface is None


@budget(150)
@given(
    structured_modules(interface=raw_sections() | interfaces().map(encode)),
    interfaces(),
)
def test_validate_answers_for_any_module_and_interface(data: bytes, interface: Interface) -> None:
    try:
        wasm = parse(data)
    except BinaryFormatError:
        return
    for problem in validate(wasm, interface):
        assert problem and problem.isprintable(), repr(problem)


@budget(100)
@given(guests())
def test_validate_accepts_a_module_that_matches_its_interface(guest: Guest) -> None:
    data = guest_wasm(guest)
    try:
        wasmtime.Module.validate(ENGINE, data)
    except wasmtime.WasmtimeError:
        return  # a described name is also the allocator's or memory's: two exports, one name
    wasm = parse(data)
    interface = decode(wasm.custom_section("wasmbridge") or b"")
    assert interface == guest.interface
    problems = validate(wasm, interface)
    # The generator may repeat a parameter name (Rust refuses that) and give the
    # host's panic import another type: those alone are reported.
    repeated = [f for f in interface.exports + interface.imports if _repeats_a_name(f)]
    odd_panic = [i for i in guest.host_imports if i[:2] == ("wasmbridge", "panic") and i != PANIC]
    assert len(problems) == len(repeated) + len(odd_panic)
    assert all("parameters named" in p or "wasmbridge.panic" in p for p in problems)


ENGINE = wasmtime.Engine()
PANIC = ("wasmbridge", "panic", ("i32",) * 6, ())


def _repeats_a_name(func: Function) -> bool:
    return len({p.name for p in func.params}) < len(func.params)
