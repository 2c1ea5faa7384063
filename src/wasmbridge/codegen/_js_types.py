"""The ``types`` registry of the JS glue: one JS type object per type that needs one.

Records, tuples and lists cross encoded, enums by case index, class objects
by handle (docs/abi-compound.md). Each such type gets an entry, built once
when the glue loads, keyed by its name or Rust spelling; sizes, alignments
and offsets come from ``interface.layout``, so the glue and the Python
runtime cannot disagree:

    types.Point = recordType("Point", 16, 8, [["x", 0, f64Type], ["y", 8, f64Type]]);
    types["Vec<Point>"] = listType(types.Point);

Names read from the module appear only as string data and property keys;
the enum objects and classes are declared under the local names js.py
gives every export.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..interface import ClassDef, EnumDef, Interface, RecordDef, Type
from ..interface.layout import field_offsets, layout, option_payload_offset
from ..interface.plan import SCALAR_FACTS
from ..interface.types import NUMBERS, SEQUENCES, Kind
from ._js_names import js_string, literal_key, member
from ._js_scalars import type_object
from ._writer import Helpers

# JS numbers hold integers exactly up to 2**53: enum discriminants beyond cannot be cases.
MAX_SAFE_INTEGER = 2**53 - 1

REGISTRY = "types"


class TypeTable:
    """Collects the registry entries a module's shims ask for, dependencies first."""

    def __init__(self, interface: Interface, helpers: Helpers, locals_: Mapping[str, str]) -> None:
        self.interface = interface
        self.helpers = helpers
        self.locals = locals_  # type name -> the JS name of its enum object or class
        self._entries: dict[str, list[str]] = {}
        self._started: set[str] = set()

    def register_all(self) -> None:
        """Entries for every enum, record and class, in name order."""
        groups = (self.interface.enums, self.interface.records, self.interface.classes)
        for name in sorted(item.name for group in groups for item in group):
            self.named(name)

    def ref(self, t: Type) -> str:
        """The entry for a whole parameter or result: ``types.Point``, ``types["(f64, f64)"]``."""
        if t.kind in (Kind.NAMED, Kind.BORROW):
            return self.named(t.name)
        key = t.rust()
        if key not in self._entries:
            expression = self._expression(t)
            self._entries[key] = [f"{member(REGISTRY, key)} = {expression};"]
        return member(REGISTRY, key)

    def named(self, name: str) -> str:
        """The entry of a record, enum or class, defined on first use."""
        ref = member(REGISTRY, name)
        if name in self._entries:
            return ref
        if name in self._started:
            raise ValueError(f"the record `{name}` contains itself")
        self._started.add(name)
        found = self.interface.type_def(name)
        if isinstance(found, RecordDef):
            lines = self._record(found, ref)
        elif isinstance(found, EnumDef):
            size = layout(Type(Kind.NAMED, name=name), self.interface).size
            values = ", ".join(str(case.value) for case in found.cases)
            args = f"{js_string(name)}, {size}, {self.locals[name]}, [{values}]"
            lines = [f"{ref} = {self.helpers.need('enumType')}({args});"]
        elif isinstance(found, ClassDef):
            args = f"{self.locals[name]}, {js_string(name)}, {js_string(found.destructor)}"
            lines = [f"{ref} = {self.helpers.need('classType')}({args});"]
        else:
            raise ValueError(f"no record, enum or class named `{name}` is defined")
        self._entries[name] = lines
        return ref

    def lines(self) -> list[str]:
        return [line for entry in self._entries.values() for line in entry]

    # -- type objects ---------------------------------------------------------------

    def _expression(self, t: Type) -> str:
        """A JS expression building the type object of ``t`` inside a buffer."""
        kind = t.kind
        if kind in SCALAR_FACTS:
            return self.helpers.need(type_object(SCALAR_FACTS[kind]))
        if kind in (Kind.STR, Kind.STRING):
            return self.helpers.need("stringType")
        if kind in SEQUENCES:
            assert t.inner is not None
            if t.inner.kind in NUMBERS:
                return f"{self.helpers.need('numberListType')}({self._expression(t.inner)})"
            return f"{self.helpers.need('listType')}({self._expression(t.inner)})"
        if kind is Kind.OPTION:
            assert t.inner is not None
            size = layout(t, self.interface).size
            payload = option_payload_offset(t, self.interface)
            inner = self._expression(t.inner)
            return f"{self.helpers.need('optionType')}({inner}, {size}, {payload})"
        if kind is Kind.TUPLE:
            found = layout(t, self.interface)
            offsets = field_offsets(t.items, self.interface)
            items = ", ".join(
                f"[{offset}, {self._expression(item)}]"
                for offset, item in zip(offsets, t.items, strict=True)
            )
            return f"{self.helpers.need('tupleType')}({found.size}, {found.align}, [{items}])"
        if kind in (Kind.NAMED, Kind.BORROW):
            return self.named(t.name)
        raise ValueError(f"`{t}` cannot be part of an encoded value")

    def _record(self, record: RecordDef, ref: str) -> list[str]:
        types = [f.type for f in record.fields]
        found = layout(Type(Kind.NAMED, name=record.name), self.interface)
        offsets = field_offsets(types, self.interface)
        fields = [
            f"[{js_string(f.name)}, {offset}, {self._expression(f.type)}]"
            for f, offset in zip(record.fields, offsets, strict=True)
        ]
        head = (
            f"{ref} = {self.helpers.need('recordType')}"
            f"({js_string(record.name)}, {found.size}, {found.align}, ["
        )
        one_line = f"{head}{', '.join(fields)}]);"
        if len(one_line) <= 100:
            return [one_line]
        return [head, *(f"  {item}," for item in fields), "]);"]


def enum_object(enum: EnumDef, local: str) -> list[str]:
    """The exported enum: a frozen object mapping both ways, as TypeScript's enums do."""
    doc = [line.rstrip() for line in enum.doc.strip().splitlines()]
    lines = []
    if doc:
        lines += ["/**", *(f" * {line}".rstrip().replace("*/", "*\\/") for line in doc), " */"]
    lines.append(f"const {local} = Object.freeze({{")
    lines += [f"  {literal_key(case.name)}: {case.value}," for case in enum.cases]
    lines += [f"  {_number_key(case.value)}: {js_string(case.name)}," for case in enum.cases]
    lines.append("});")
    return lines


def _number_key(value: int) -> str:
    """A discriminant as an object key: bare when it is an array index (``0``), else quoted."""
    return str(value) if value >= 0 else js_string(str(value))


def enum_problems(interface: Interface) -> list[str]:
    """Enums whose discriminants JavaScript numbers cannot hold exactly."""
    problems = []
    for enum in interface.enums:
        for case in enum.cases:
            if abs(case.value) > MAX_SAFE_INTEGER:
                problems.append(
                    f"enum `{enum.name}`: the discriminant of `{case.name}` ({case.value}) is "
                    "beyond 2^53, which a JavaScript number cannot hold exactly"
                )
    return problems
