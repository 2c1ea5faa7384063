"""Fuzz callbacks: any callback the type model and the rules accept has an argument
layout, a result layout and one ``i32`` lowering, and crosses the section codec."""

from __future__ import annotations

import dataclasses

from fuzz_interfaces import (
    CALLBACKS,
    VALUE_TYPES,
    VALUE_TYPES_INTERFACE,
    callbacks,
    compound_interfaces,
)
from fuzz_support import NAMES, budget
from hypothesis import given
from hypothesis import strategies as st

from wasmbridge.interface import (
    Function,
    Interface,
    Param,
    abi,
    callback_args_layout,
    field_offsets,
    layout,
)
from wasmbridge.interface.rules import interface_problems
from wasmbridge.interface.section import decode, encode
from wasmbridge.interface.types import Kind, Type


def _callbacks(interface: Interface) -> list[Type]:
    functions = [*interface.exports, *(m.function for c in interface.classes for m in c.methods)]
    return [p.type for f in functions for p in f.params if p.type.kind is Kind.CALLBACK]


def _check_layouts(interface: Interface) -> None:
    for t in _callbacks(interface):
        assert abi.param_wire(t) == ("i32",)
        args = callback_args_layout(t, interface)
        offsets = field_offsets(t.items, interface)
        parts = [layout(item, interface) for item in t.items]
        assert all(o % part.align == 0 for o, part in zip(offsets, parts, strict=True))
        assert args.size >= sum(part.size for part in parts)
        assert args.size % args.align == 0
        assert t.inner is not None
        if t.inner.kind is not Kind.UNIT:
            assert layout(t.inner, interface).size > 0


@budget(200)
@given(st.lists(st.tuples(NAMES, callbacks(VALUE_TYPES)), min_size=1, max_size=3))
def test_callbacks_of_values_are_accepted_and_have_layouts(
    params: list[tuple[str, Type]],
) -> None:
    func = Function("apply", tuple(Param(f"p{i}_{n}", t) for i, (n, t) in enumerate(params)))
    interface = dataclasses.replace(VALUE_TYPES_INTERFACE, exports=(func,))
    assert interface_problems(interface) == []
    assert decode(encode(interface)) == interface
    _check_layouts(interface)


@budget(200)
@given(compound_interfaces())
def test_callbacks_in_any_interface_are_accepted_with_layouts_or_refused_cleanly(
    interface: Interface,
) -> None:
    problems = interface_problems(interface)
    assert all(p and p.isprintable() for p in problems), problems
    if not problems:
        _check_layouts(interface)


@budget(200)
@given(CALLBACKS)
def test_callbacks_round_trip_through_the_section(t: Type) -> None:
    interface = Interface(1, (Function("f", (Param("cb", t),)),))
    assert decode(encode(interface)) == interface
    assert str(t).startswith("impl Fn(")
