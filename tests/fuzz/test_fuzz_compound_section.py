"""Fuzz records, enums, classes and the new type tags through codec, rules and layout.

``decode`` accepts or refuses with a printable SectionFormatError; the
rules of docs/abi-compound.md answer for any interface with printable
lines; and an interface they accept has a layout for every record and
compound type and a wasm signature for every function and method.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from fuzz_interfaces import compound_interfaces, raw_sections
from fuzz_support import budget, mutations
from hypothesis import given

from wasmbridge.interface import Interface, SectionFormatError, abi, is_compound, layout
from wasmbridge.interface.rules import interface_problems
from wasmbridge.interface.section import decode, encode, type_problem
from wasmbridge.interface.types import Kind, Type
from wasmbridge.interface.wit import WitError, to_wit
from wit_tools import wit_problem


def check(interface: Interface) -> None:
    """The rules answer with printable lines; when none, every derived fact exists."""
    problems = interface_problems(interface)
    assert all(p and p.isprintable() for p in problems), problems
    if problems:
        return
    for record in interface.records:
        assert layout(Type(Kind.NAMED, name=record.name), interface).size > 0
    functions = [*interface.exports, *(m.function for c in interface.classes for m in c.methods)]
    for func in functions:
        for t in (*(p.type for p in func.params), func.result):
            if is_compound(t, interface) and t.kind is not Kind.BORROW:
                assert layout(t, interface).size > 0
        abi.signature(func)
    for cls in interface.classes:
        abi.class_exports(cls)


def decode_and_check(data: bytes) -> None:
    try:
        interface = decode(data)
    except SectionFormatError as exc:
        assert str(exc) and str(exc).isprintable(), repr(str(exc))
        return
    assert decode(encode(interface)) == interface
    check(interface)


@budget(200)
@given(compound_interfaces())
def test_compound_interfaces_round_trip_and_follow_or_break_rules_cleanly(
    interface: Interface,
) -> None:
    data = encode(interface)
    functions = [*interface.exports, *(m.function for c in interface.classes for m in c.methods)]
    misplaced = [f for f in functions if type_problem(f, imported=False) is not None]
    if misplaced:  # a borrow returned, a result taken: the codec refuses it, naming it
        with pytest.raises(SectionFormatError, match=r"^export `"):
            decode(data)
        return
    assert decode(data) == interface
    check(interface)


@budget(300)
@given(raw_sections())
def test_raw_type_and_class_records_decode_or_raise(data: bytes) -> None:
    decode_and_check(data)


@budget(150)
@given(compound_interfaces().map(encode).flatmap(mutations))
def test_mutated_compound_sections_decode_or_raise(data: bytes) -> None:
    decode_and_check(data)


@budget(60)
@given(compound_interfaces())
def test_wit_of_any_valid_interface_is_read_by_wasm_tools(interface: Interface) -> None:
    if interface_problems(interface):
        with pytest.raises(WitError, match="^the interface has no WIT form: "):
            to_wit(interface, "fuzz")
        return
    with tempfile.TemporaryDirectory() as tmp:
        problem = wit_problem(to_wit(interface, "fuzz"), Path(tmp))
    assert problem is None, problem
