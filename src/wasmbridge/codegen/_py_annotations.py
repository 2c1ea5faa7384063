"""Python annotations of interface types, for the stub (python.py).

What a caller may pass (``param_type``), what a call returns
(``result_type``), and what a record field holds (``value_type``) differ:
a ``Vec<String>`` parameter takes any ``Iterable[str]`` (the runtime
takes any iterable) and the call returns a ``list[str]``; an enum
parameter takes its ``IntEnum`` or an ``int`` equal to a case's value; a
``&[f64]`` takes a buffer and a ``Vec<f64>`` result is an ``array.array``,
while inside a record it is a ``list[float]`` (docs/python.md).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..interface.layout import is_list
from ..interface.plan import SCALAR_FACTS
from ..interface.types import Kind, Type

# Names the stub's annotations use, with where each comes from ("" for builtins).
TYPE_NAMES = {
    **dict.fromkeys(("bool", "bytearray", "bytes", "float", "int", "memoryview", "str"), ""),
    **dict.fromkeys(("list", "tuple", "type"), ""),
    "Any": "typing",
    "Callable": "collections.abc",
    "Iterable": "collections.abc",
    "Mapping": "collections.abc",
    "Sequence": "collections.abc",
    "Buffer": "typing_extensions",
    "array": "array",
}


class Uses:
    """Which names the annotations of one class body need, each as that body spells it.

    ``aliases`` maps a name the body's own members shadow to its module-level
    alias; ``named`` maps each record, enum and class to its spelling (empty
    when the stub cannot declare it: then it is ``Any``); ``enums`` names the
    enums among them. ``names`` collects every name used, shared by all
    bodies of one stub.
    """

    def __init__(
        self,
        aliases: Mapping[str, str],
        named: Mapping[str, str],
        names: set[str] | None = None,
        *,
        enums: frozenset[str] = frozenset(),
    ) -> None:
        self.names: set[str] = set() if names is None else names
        self.aliases = aliases
        self.named = named
        self.enums = enums

    def __call__(self, name: str) -> str:
        self.names.add(name)
        return self.aliases.get(name, name)

    def type(self, name: str) -> str:
        """A record, enum or class of the module."""
        spelled = self.named.get(name, "")
        return spelled if spelled else self("Any")

    def within(self, aliases: Mapping[str, str], named: Mapping[str, str]) -> Uses:
        """The same collection, for a body with other members."""
        return Uses(aliases, named, self.names, enums=self.enums)


def number(kind: Kind, uses: Uses) -> str:
    """A number, bool or char: ``int``, ``float``, ``bool``, ``str``."""
    return uses(SCALAR_FACTS[kind].python_type)


def bytes_in(uses: Uses, *, mutable: bool) -> str:
    """What a u8 slice parameter accepts: ``bytes | bytearray | memoryview``."""
    names = ("bytearray", "memoryview") if mutable else ("bytes", "bytearray", "memoryview")
    return " | ".join(uses(name) for name in names)


def param_type(t: Type, uses: Uses) -> str:
    """What a caller may pass for a parameter of type ``t``."""
    kind = t.kind
    if kind is Kind.OPTION:
        assert t.inner is not None
        return f"{param_type(t.inner, uses)} | None"
    if kind in (Kind.STR, Kind.STRING):
        return uses("str")
    if kind is Kind.CALLBACK:
        # It receives the values the guest passes and returns one the guest takes.
        assert t.inner is not None
        args = ", ".join(value_type(item, uses) for item in t.items)
        result = "None" if t.inner.kind is Kind.UNIT else _value(t.inner, uses, given=True)
        return f"{uses('Callable')}[[{args}], {result}]"
    if is_list(t) or kind in (Kind.TUPLE, Kind.NAMED, Kind.BORROW):
        return _value(t, uses, given=True)
    if kind in (Kind.SLICE, Kind.VEC, Kind.MUT_SLICE):
        assert t.inner is not None
        if t.inner.kind is Kind.U8:
            return bytes_in(uses, mutable=kind is Kind.MUT_SLICE)
        if kind is Kind.MUT_SLICE:
            return uses("Buffer")
        return f"{uses('Sequence')}[{number(t.inner.kind, uses)}] | {uses('Buffer')}"
    if kind in (Kind.RESULT, Kind.RESULT_VALUE):
        assert t.inner is not None
        return param_type(t.inner, uses)
    return "None" if kind is Kind.UNIT else number(kind, uses)


def result_type(t: Type, uses: Uses) -> str:
    """What a call returns (or a host function receives) for type ``t``."""
    kind = t.kind
    if kind in (Kind.OPTION, Kind.RESULT, Kind.RESULT_VALUE):
        assert t.inner is not None
        inner = result_type(t.inner, uses)
        return f"{inner} | None" if kind is Kind.OPTION else inner
    if kind in (Kind.STR, Kind.STRING):
        return uses("str")
    if is_list(t) or kind in (Kind.TUPLE, Kind.NAMED, Kind.BORROW):
        return value_type(t, uses)
    if kind in (Kind.SLICE, Kind.VEC, Kind.MUT_SLICE):
        assert t.inner is not None
        if t.inner.kind is Kind.U8:
            # &mut [u8] only reaches a host function: as a bytearray it may write to.
            return uses("bytearray" if kind is Kind.MUT_SLICE else "bytes")
        return f"{uses('array')}.array[{number(t.inner.kind, uses)}]"
    return "None" if kind is Kind.UNIT else number(kind, uses)


def value_type(t: Type, uses: Uses) -> str:
    """What a value inside a record, tuple or list is in Python (a list of numbers
    included: ``list[int]``; a list of u8 is ``bytes``)."""
    return _value(t, uses, given=False)


def given_type(t: Type, uses: Uses) -> str:
    """What a caller may pass for a value inside a record, tuple or list
    (``Iterable[str]`` for a ``list[str]`` field, ``bytes | Iterable[int]`` for ``bytes``)."""
    return _value(t, uses, given=True)


def _value(t: Type, uses: Uses, *, given: bool) -> str:
    """A value inside an encoded one: as returned, or (``given``) as a caller may pass it."""
    kind = t.kind
    if kind is Kind.OPTION:
        assert t.inner is not None
        return f"{_value(t.inner, uses, given=given)} | None"
    if kind in (Kind.STR, Kind.STRING):
        return uses("str")
    if kind is Kind.TUPLE:
        items = ", ".join(_value(item, uses, given=given) for item in t.items)
        return f"{uses('tuple')}[{items}]"
    if kind in (Kind.SLICE, Kind.VEC):
        assert t.inner is not None
        if t.inner.kind is Kind.U8:  # bytes, as at the top level
            return (
                f"{uses('bytes')} | {uses('Iterable')}[{uses('int')}]" if given else uses("bytes")
            )
        container = "Iterable" if given else "list"
        return f"{uses(container)}[{_value(t.inner, uses, given=given)}]"
    if kind in (Kind.NAMED, Kind.BORROW):
        spelled = uses.type(t.name)
        if given and t.name in uses.enums and t.name in uses.named:
            return f"{spelled} | {uses('int')}"  # an int equal to a case's value
        return spelled
    return "None" if kind is Kind.UNIT else number(kind, uses)
