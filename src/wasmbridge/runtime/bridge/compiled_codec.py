"""The compiled twin of a Python codec: ``_native.Codec``, built from the codec's plan.

The C codec (runtime/_native_codec.h) writes and reads the encoded buffers of
docs/abi-compound.md for integers, strings, lists, tuples and records, nested,
exactly as the codecs of values.py do, without a Python call per field. A type
with anything else in it (floats, bools, chars, enums, options) has no plan and
keeps its Python codec. For values it does not take (see the C file) it answers
None and the Python codec runs, so the two never disagree.

    compiled = compiled_codec(codec)     # None: no plan, or no compiled call path
    buffer = compiled.encode(value) if compiled else None
"""

from __future__ import annotations

import weakref
from typing import Any

from . import native
from .values import Codec, List, Number, Record, Text, Tuple

__all__ = ["compiled_codec", "plan_of"]

# The plan is nested tuples; the C side refuses anything deeper or larger. Types share
# records (a record used twice is one codec), but a plan spells each use out, so the
# count of nodes is checked as the plan grows: a hostile module's records, each using
# the one before several times, would otherwise make it exponentially large.
MAX_DEPTH = 40
MAX_NODES = 4096

Plan = tuple[Any, ...]


class _Budget:
    """The nodes a plan may still have."""

    def __init__(self) -> None:
        self.left = MAX_NODES

    def take(self) -> bool:
        self.left -= 1
        return self.left >= 0


def plan_of(codec: Codec, depth: int = 0, budget: _Budget | None = None) -> Plan | None:
    """The plan of ``codec`` for ``_native.Codec``, or None when a part of it has none
    or it would be deeper than ``MAX_DEPTH`` or larger than ``MAX_NODES`` nodes."""
    if budget is None:
        budget = _Budget()
    if depth > MAX_DEPTH or not budget.take():
        return None
    if isinstance(codec, Number):
        if codec.is_float:
            return None
        return ("int", codec.size, codec.low < 0)
    if isinstance(codec, Text):
        return ("text",)
    if isinstance(codec, List):
        element = plan_of(codec.element, depth + 1, budget)
        return None if element is None else ("list", element)
    if isinstance(codec, Tuple):
        items = _fields([(c, offset) for c, offset in codec.items], depth, budget)
        return None if items is None else ("tuple", codec.size, codec.align, items)
    if isinstance(codec, Record):
        if codec.info is None:
            return None
        fields = _fields([(c, offset) for _, c, offset in codec.fields], depth, budget)
        if fields is None:
            return None
        return ("record", codec.size, codec.align, codec.cls, codec.make, fields)
    return None


def _fields(parts: list[tuple[Codec, int]], depth: int, budget: _Budget) -> tuple[Any, ...] | None:
    planned = []
    for codec, offset in parts:
        plan = plan_of(codec, depth + 1, budget)
        if plan is None:
            return None
        planned.append((plan, offset))
    return tuple(planned)


# Each codec's compiled twin, made once: callers are bound per instance, and a module's
# codecs live as long as the module.
_built: weakref.WeakKeyDictionary[Codec, Any] = weakref.WeakKeyDictionary()
_NONE = object()  # built, and there is none


def compiled_codec(codec: Codec) -> Any | None:
    """A ``_native.Codec`` for ``codec``, or None (no plan, or no compiled call path)."""
    compiled = _built.get(codec)
    if compiled is None:
        compiled = _built[codec] = _build(codec)
    return None if compiled is _NONE else compiled


def _build(codec: Codec) -> Any:
    codec_type = getattr(native.NATIVE, "Codec", None)
    plan = plan_of(codec)
    if codec_type is None or plan is None:
        return _NONE
    try:
        return codec_type(plan)
    except ValueError:  # over the C side's node or depth limits: the Python codec serves
        return _NONE
