"""Scalars in the JS glue: every per-kind expression, derived from ``SCALAR_FACTS``.

A number or bool crosses JS as a JS value (``number``, ``bigint``, ``boolean``)
and wasm as its wasm value (docs/abi.md); this module is the one place that
turns a kind's facts (size, signedness, DataView accessor, typed array) into
the JavaScript that checks, converts, reads and writes it. For a u8,
``wrapped(facts, "value")`` is ``value & 0xff``; for a u32 result,
``from_wire(facts, "r")`` is ``r >>> 0`` (wasm hands JS its i32 signed).
"""

from __future__ import annotations

from ..interface.plan import SCALAR_FACTS, ScalarFacts
from ..interface.types import NUMBERS, Kind

# The numbers, in the order of the interface's kinds (i8 ... f64).
NUMBER_FACTS = tuple(facts for kind, facts in SCALAR_FACTS.items() if kind in NUMBERS)
# Every typed array the glue may name.
TYPED_ARRAYS = frozenset(facts.js_array for facts in SCALAR_FACTS.values())


def check_name(facts: ScalarFacts) -> str:
    """``checkI32`` for i32: the helper that validates an argument of the kind."""
    return "check" + facts.name.capitalize()


def type_object(facts: ScalarFacts) -> str:
    """``f64Type``: the helper describing the scalar inside an encoded buffer."""
    return facts.name + "Type"


def wrapped(facts: ScalarFacts, value: str) -> str:
    """``value`` brought into the integer kind's range the way wasm wraps it."""
    bits = 8 * facts.size
    if facts.is_big:
        return f"BigInt.as{'Int' if facts.is_signed else 'Uint'}N({bits}, {value})"
    if facts.is_signed:
        return f"{value} | 0" if bits == 32 else f"{value} << {32 - bits} >> {32 - bits}"
    return f"{value} >>> 0" if bits == 32 else f"{value} & {hex((1 << bits) - 1)}"


def range_text(facts: ScalarFacts) -> str:
    """``-128..127``: an integer kind's range as error messages show it."""
    assert facts.range is not None
    low, high = facts.range
    return f"{low}..{high}"


def from_wire(facts: ScalarFacts, value: str) -> str:
    """A scalar as JS sees it, from the i32/i64/f32/f64 the wasm function gave.

    Wasm integers reach JS signed: i32 and i64 are already right, the others wrap.
    """
    if facts.kind is Kind.BOOL:
        return f"{value} !== 0"
    if facts.is_float or (facts.is_signed and not facts.is_narrow):
        return value
    return wrapped(facts, value)


def to_wire(facts: ScalarFacts, value: str) -> str:
    """A checked JS scalar as the wasm value it crosses as (a bool as 0 or 1)."""
    return f"{value} ? 1 : 0" if facts.kind is Kind.BOOL else value


def optional_to_wire(facts: ScalarFacts, value: str) -> str:
    """The payload of an optional scalar: its wasm value, zero for None (null or undefined)."""
    if facts.kind is Kind.BOOL:
        return to_wire(facts, value)
    return f"{value} ?? {'0n' if facts.is_big else '0'}"


def slot_accessor(facts: ScalarFacts) -> str:
    """The DataView accessor (``Float64``) of a scalar's wasm value in a return-area slot.

    Bool and narrow integers fill their slot as an i32.
    """
    return facts.js_view if facts.size >= 4 else "Int32"


def read_slot(facts: ScalarFacts, at: str, view: str) -> str:
    """The scalar whose wasm value sits at ``at`` (a return-area slot)."""
    read = f"{view}().get{slot_accessor(facts)}({at}, true)"
    return read if facts.size >= 4 else from_wire(facts, read)
