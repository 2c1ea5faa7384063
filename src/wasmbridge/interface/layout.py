"""Canonical layout of values inside an encoded buffer (docs/abi-compound.md).

A compound value (a tuple, a list of non-numbers, a record) crosses the
bridge as one buffer laid out the way the component model's canonical ABI
lays values out in memory, with offsets relative to the buffer's start.
These functions give every host the same sizes, alignments and offsets.

    >>> layout(Type(Kind.TUPLE, items=(Type(Kind.U8), Type(Kind.F64))), iface)
    Layout(size=16, align=8)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .types import (
    ELEMENT_SIZE,
    NUMBERS,
    SEQUENCES,
    ClassDef,
    EnumDef,
    Interface,
    Kind,
    RecordDef,
    Type,
    shown,
)

# How deep a type may nest counting through records (a record field that is a
# record counts one level more). Hosts encode and decode values recursively;
# real interfaces nest a handful of levels.
MAX_NESTING = 32

_MEMO_KEY = "layout"


@dataclass(frozen=True)
class Layout:
    """Size and alignment of a value inside an encoded buffer."""

    size: int
    align: int


def align_to(offset: int, align: int) -> int:
    """``offset`` rounded up to a multiple of ``align``."""
    return -(-offset // align) * align


def enum_tag_size(case_count: int) -> int:
    """Bytes of an enum's case index: 1 up to 256 cases, 2 up to 65,536, else 4."""
    if case_count <= 1 << 8:
        return 1
    if case_count <= 1 << 16:
        return 2
    return 4


def is_list(t: Type) -> bool:
    """A slice or vec of non-numbers: a WIT ``list<t>`` crossing encoded."""
    return t.kind in SEQUENCES and t.inner is not None and t.inner.kind not in NUMBERS


def is_compound(t: Type, iface: Interface) -> bool:
    """Crosses as one encoded buffer: a tuple, a list, or a (borrowed) record."""
    if t.kind is Kind.TUPLE or is_list(t):
        return True
    if t.kind is Kind.NAMED or t.kind is Kind.BORROW:
        return isinstance(iface.type_def(t.name), RecordDef)
    return False


def layout(t: Type, iface: Interface) -> Layout:
    """Size and alignment of ``t`` inside an encoded buffer.

    Raises ValueError for a type that has no place in a buffer (unit,
    results, borrows, classes, ``&mut [T]``), a name ``iface`` does not
    define, or a record that contains itself; ``validate`` reports those
    first, naming the function or type.
    """
    return _layout(t, iface, _memo(iface), 0)


def field_offsets(types: Sequence[Type], iface: Interface) -> tuple[int, ...]:
    """Offset of each field of a record (or item of a tuple) from its start."""
    return _offsets(types, iface, _memo(iface), 0)


def callback_args_layout(t: Type, iface: Interface) -> Layout:
    """Size and alignment of a callback's arguments, encoded as one tuple
    (size 0 when it takes none)."""
    if t.kind is not Kind.CALLBACK:
        raise ValueError(f"`{t}` is not a callback")
    return _aggregate(t.items, iface, _memo(iface), 0)


def option_payload_offset(t: Type, iface: Interface) -> int:
    """Offset of an option's payload from its tag (the tag is one byte)."""
    if t.kind is not Kind.OPTION or t.inner is None:
        raise ValueError(f"`{t}` is not an option")
    return align_to(1, layout(t.inner, iface).align)


def _memo(iface: Interface) -> dict[Type, Layout]:
    memo = iface.memo.get(_MEMO_KEY)
    if not isinstance(memo, dict):
        memo = iface.memo[_MEMO_KEY] = {}
    return memo


def _layout(t: Type, iface: Interface, memo: dict[Type, Layout], depth: int) -> Layout:
    known = memo.get(t)
    if known is not None:
        return known
    if depth > MAX_NESTING:
        raise ValueError(f"`{shown(str(t))}` nests deeper than {MAX_NESTING} levels")
    found = _compute(t, iface, memo, depth)
    memo[t] = found
    return found


def _compute(t: Type, iface: Interface, memo: dict[Type, Layout], depth: int) -> Layout:
    kind = t.kind
    if kind is Kind.BOOL:
        return Layout(1, 1)
    if kind in NUMBERS:
        size = ELEMENT_SIZE[kind]
        return Layout(size, size)
    if kind is Kind.CHAR:
        return Layout(4, 4)
    if kind in (Kind.STR, Kind.STRING, Kind.SLICE, Kind.VEC):
        return Layout(8, 4)
    if kind is Kind.OPTION:
        assert t.inner is not None
        inner = _layout(t.inner, iface, memo, depth + 1)
        return Layout(align_to(align_to(1, inner.align) + inner.size, inner.align), inner.align)
    if kind is Kind.TUPLE:
        return _aggregate(t.items, iface, memo, depth)
    if kind is Kind.NAMED:
        return _named(t.name, iface, memo, depth)
    raise ValueError(f"`{shown(str(t))}` has no layout inside an encoded value")


def _named(name: str, iface: Interface, memo: dict[Type, Layout], depth: int) -> Layout:
    found = iface.type_def(name)
    if isinstance(found, EnumDef):
        size = enum_tag_size(len(found.cases))
        return Layout(size, size)
    if isinstance(found, RecordDef):
        return _aggregate([f.type for f in found.fields], iface, memo, depth)
    if isinstance(found, ClassDef):
        raise ValueError(f"the class `{shown(name)}` cannot be part of an encoded value")
    raise ValueError(f"no record or enum named `{shown(name)}` is defined")


def _aggregate(
    types: Sequence[Type], iface: Interface, memo: dict[Type, Layout], depth: int
) -> Layout:
    size = 0
    align = 1
    for item in types:
        part = _layout(item, iface, memo, depth + 1)
        size = align_to(size, part.align) + part.size
        align = max(align, part.align)
    return Layout(align_to(size, align), align)


def _offsets(
    types: Sequence[Type], iface: Interface, memo: dict[Type, Layout], depth: int
) -> tuple[int, ...]:
    offsets: list[int] = []
    size = 0
    for item in types:
        part = _layout(item, iface, memo, depth + 1)
        size = align_to(size, part.align)
        offsets.append(size)
        size += part.size
    return tuple(offsets)
