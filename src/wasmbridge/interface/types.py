"""The type model of a module's interface: what crosses the bridge.

Every host (the Python runtime, the JS glue, the stubs) derives its
marshalling from these types; docs/abi.md fixes their wire form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from functools import cached_property


class Kind(IntEnum):
    """A type's tag byte in the interface section (docs/abi.md, "Types")."""

    UNIT = 0x00
    BOOL = 0x01
    I8 = 0x02
    U8 = 0x03
    I16 = 0x04
    U16 = 0x05
    I32 = 0x06
    U32 = 0x07
    I64 = 0x08
    U64 = 0x09
    F32 = 0x0A
    F64 = 0x0B
    STR = 0x10  # &str (borrowed)
    STRING = 0x11  # String (owned)
    SLICE = 0x12  # &[T]
    VEC = 0x13  # Vec<T>
    MUT_SLICE = 0x14  # &mut [T]
    OPTION = 0x15  # Option<T>
    RESULT = 0x16  # Result<T, E: Display>, the error crosses as its message
    CHAR = 0x17  # char, a Unicode scalar value
    TUPLE = 0x18  # (A, B, ...), 1 to 12 items
    NAMED = 0x19  # a record, enum or class defined by a type record
    BORROW = 0x1A  # &C or &mut C of a named type (whole parameters only)
    RESULT_VALUE = 0x1B  # Result<T, E> where E is a named type or a Display type
    CALLBACK = 0x1C  # impl Fn(A, B) -> R: ``items`` the arguments, ``inner`` the result


INTEGERS = frozenset({Kind.I8, Kind.U8, Kind.I16, Kind.U16, Kind.I32, Kind.U32, Kind.I64, Kind.U64})
FLOATS = frozenset({Kind.F32, Kind.F64})
NUMBERS = INTEGERS | FLOATS
SCALARS = NUMBERS | {Kind.BOOL}
SEQUENCES = frozenset({Kind.SLICE, Kind.VEC, Kind.MUT_SLICE})
TEXT = frozenset({Kind.STR, Kind.STRING})

# Size in bytes of one element of a numeric slice.
ELEMENT_SIZE = {
    Kind.I8: 1,
    Kind.U8: 1,
    Kind.I16: 2,
    Kind.U16: 2,
    Kind.I32: 4,
    Kind.U32: 4,
    Kind.I64: 8,
    Kind.U64: 8,
    Kind.F32: 4,
    Kind.F64: 8,
}

# Inclusive value range of each integer kind.
INT_RANGE = {
    Kind.I8: (-(2**7), 2**7 - 1),
    Kind.U8: (0, 2**8 - 1),
    Kind.I16: (-(2**15), 2**15 - 1),
    Kind.U16: (0, 2**16 - 1),
    Kind.I32: (-(2**31), 2**31 - 1),
    Kind.U32: (0, 2**32 - 1),
    Kind.I64: (-(2**63), 2**63 - 1),
    Kind.U64: (0, 2**64 - 1),
}

RESULTS = frozenset({Kind.RESULT, Kind.RESULT_VALUE})
# Types carrying a name that a type record defines.
NAMED_KINDS = frozenset({Kind.NAMED, Kind.BORROW})
# Kinds with an ``inner`` type (a callback's is its result, unit for none).
WITH_INNER = SEQUENCES | {Kind.OPTION, Kind.CALLBACK} | RESULTS
# Kinds with ``items``.
WITH_ITEMS = frozenset({Kind.TUPLE, Kind.CALLBACK})
MAX_TUPLE = 12
MAX_CALLBACK_ARGS = 12

_NOT_OPTIONAL = frozenset({Kind.UNIT, Kind.OPTION, Kind.BORROW, Kind.CALLBACK}) | RESULTS
# What cannot be an element of a list or an item of a tuple.
_NOT_ELEMENT = frozenset({Kind.UNIT, Kind.MUT_SLICE, Kind.BORROW, Kind.CALLBACK}) | RESULTS
BORROWED_SEQUENCES = frozenset({Kind.SLICE, Kind.MUT_SLICE})
# What has no place in an encoded buffer, at any depth: the arguments and result of
# a callback cross in one (docs/abi-compound.md, "Callbacks").
_NOT_ENCODED = _NOT_ELEMENT
# A callback's result belongs to the guest, so nothing in it may be borrowed.
_NOT_RETURNED_BY_CALLBACK = frozenset({Kind.STR, Kind.SLICE})

RUST_NAMES = {
    Kind.UNIT: "()",
    Kind.BOOL: "bool",
    Kind.I8: "i8",
    Kind.U8: "u8",
    Kind.I16: "i16",
    Kind.U16: "u16",
    Kind.I32: "i32",
    Kind.U32: "u32",
    Kind.I64: "i64",
    Kind.U64: "u64",
    Kind.F32: "f32",
    Kind.F64: "f64",
    Kind.STR: "&str",
    Kind.STRING: "String",
    Kind.CHAR: "char",
}


@dataclass(frozen=True)
class Type:
    """One interface type.

    ``inner`` is the element, payload or Ok type, or a callback's result;
    ``items`` the items of a tuple or the arguments of a callback; ``name``
    the type name of NAMED and BORROW, and the error type's name of
    RESULT_VALUE (docs/abi-compound.md).
    """

    kind: Kind
    inner: Type | None = None
    items: tuple[Type, ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        problem = _structure_problem(self)
        if problem is not None:
            raise ValueError(problem)

    @property
    def is_scalar(self) -> bool:
        return self.kind in SCALARS

    def rust(self) -> str:
        """The Rust spelling, e.g. ``Option<Vec<f32>>``, ``(f64, f64)`` or
        ``impl Fn(&str) -> u32``."""
        if self.kind in RUST_NAMES:
            return RUST_NAMES[self.kind]
        items = ", ".join(t.rust() for t in self.items)
        if self.kind is Kind.TUPLE:
            return f"({items},)" if len(self.items) == 1 else f"({items})"
        if self.kind is Kind.CALLBACK:
            assert self.inner is not None
            result = "" if self.inner.kind is Kind.UNIT else f" -> {self.inner.rust()}"
            return f"impl Fn({items}){result}"
        if self.kind is Kind.NAMED:
            return self.name
        if self.kind is Kind.BORROW:
            return f"&{self.name}"
        assert self.inner is not None
        inner = self.inner.rust()
        return {
            Kind.SLICE: f"&[{inner}]",
            Kind.VEC: f"Vec<{inner}>",
            Kind.MUT_SLICE: f"&mut [{inner}]",
            Kind.OPTION: f"Option<{inner}>",
            Kind.RESULT: f"Result<{inner}, E>",
            Kind.RESULT_VALUE: f"Result<{inner}, {self.name}>",
        }[self.kind]

    def __str__(self) -> str:
        return self.rust()


def _structure_problem(t: Type) -> str | None:
    """Why ``t`` is not a well-formed type on its own, or None."""
    kind = t.kind
    if (kind in WITH_INNER) != (t.inner is not None):
        return f"{kind.name} {'needs' if kind in WITH_INNER else 'takes no'} inner type"
    if kind is Kind.TUPLE and not 1 <= len(t.items) <= MAX_TUPLE:
        return f"a tuple of {len(t.items)} items is not an interface type (1 to {MAX_TUPLE})"
    if kind not in WITH_ITEMS and t.items:
        return f"{kind.name} takes no items"
    named = kind in NAMED_KINDS or kind is Kind.RESULT_VALUE
    if named != bool(t.name):
        return f"{kind.name} {'needs' if named else 'takes no'} type name"
    if kind is Kind.CALLBACK:
        return _callback_problem(t)
    for item in t.items:
        if item.kind in _NOT_ELEMENT:
            return f"`{shown_type(item)}` cannot be a tuple item"
    inner = t.inner
    if inner is None:
        return None
    if kind is Kind.MUT_SLICE and inner.kind not in NUMBERS:
        return f"`&mut [T]` elements must be numbers, not `{shown_type(inner)}`"
    if kind in SEQUENCES and inner.kind in _NOT_ELEMENT:
        return f"`{shown_type(inner)}` cannot be a list element"
    # Only one level of "nothing" (None) and of "failure" crosses, so these
    # cannot nest.
    if kind is Kind.OPTION and inner.kind in _NOT_OPTIONAL:
        return f"Option<{shown_type(inner)}> is not an interface type"
    if kind in RESULTS and inner.kind in RESULTS | {Kind.BORROW}:
        return f"Result<{shown_type(inner)}, E> is not an interface type"
    return None


def _callback_problem(t: Type) -> str | None:
    """Why a callback's arguments or result cannot cross in an encoded buffer, or None."""
    if len(t.items) > MAX_CALLBACK_ARGS:
        return (
            f"a callback of {len(t.items)} arguments is not an interface type "
            f"(at most {MAX_CALLBACK_ARGS})"
        )
    for item in t.items:
        part = _first_part(item, _NOT_ENCODED)
        if part is not None:
            return f"`{shown_type(part)}` cannot be a callback argument{_inside(part, item)}"
    assert t.inner is not None
    if t.inner.kind is Kind.UNIT:
        return None
    part = _first_part(t.inner, _NOT_ENCODED)
    if part is not None:
        return f"`{shown_type(part)}` cannot be a callback's result{_inside(part, t.inner)}"
    part = _first_part(t.inner, _NOT_RETURNED_BY_CALLBACK)
    if part is not None:
        return (
            f"a callback cannot return the borrowed `{shown_type(part)}`{_inside(part, t.inner)}: "
            "the guest owns what a callback returns (use String or Vec<T>)"
        )
    return None


def _first_part(t: Type, kinds: frozenset[Kind]) -> Type | None:
    """The first part of ``t`` (itself included) whose kind is one of ``kinds``."""
    stack = [t]
    while stack:
        part = stack.pop()
        if part.kind in kinds:
            return part
        stack.extend(reversed(part.items))
        if part.inner is not None:
            stack.append(part.inner)
    return None


def _inside(part: Type, whole: Type) -> str:
    return "" if part is whole else f" (in `{shown_type(whole)}`)"


def shown_type(t: Type) -> str:
    """A type read from a module, spelled in Rust and safe to put in a message."""
    return shown(t.rust(), 120)


UNIT = Type(Kind.UNIT)


@dataclass(frozen=True)
class Param:
    """A named parameter of a function."""

    name: str
    type: Type


@dataclass(frozen=True)
class Function:
    """An exported (guest) or imported (host) function with its signature."""

    name: str
    params: tuple[Param, ...]
    result: Type = UNIT
    doc: str = ""
    module: str = ""  # import namespace; empty for exports

    def signature(self) -> str:
        """The Rust-like signature, e.g. ``add(a: i32, b: i32) -> i32``."""
        params = ", ".join(f"{p.name}: {p.type}" for p in self.params)
        result = "" if self.result.kind is Kind.UNIT else f" -> {self.result}"
        return f"{self.name}({params}){result}"


@dataclass(frozen=True)
class Field:
    """A field of a record."""

    name: str
    type: Type


@dataclass(frozen=True)
class RecordDef:
    """A record: a struct with public fields, crossing by value."""

    name: str
    fields: tuple[Field, ...]
    doc: str = ""


@dataclass(frozen=True)
class Case:
    """A case of a C-like enum; ``value`` is its Rust discriminant."""

    name: str
    value: int


@dataclass(frozen=True)
class EnumDef:
    """A C-like enum; it crosses as the 0-based index of its case."""

    name: str
    cases: tuple[Case, ...]
    doc: str = ""


class Receiver(IntEnum):
    """How a method takes its object (the ``receiver`` byte of a method record)."""

    STATIC = 0  # an associated function
    REF = 1  # &self
    MUT = 2  # &mut self
    CONSTRUCTOR = 3  # `new` returning Self
    OWNED = 4  # self, consumed


@dataclass(frozen=True)
class Method:
    """A method of a class; ``function.name`` is its wasm export ``Class.member``
    and ``function.params`` exclude the receiver."""

    member: str
    receiver: Receiver
    function: Function

    @property
    def takes_handle(self) -> bool:
        """The wasm function takes the object's handle before the parameters."""
        return self.receiver in (Receiver.REF, Receiver.MUT, Receiver.OWNED)


@dataclass(frozen=True)
class ClassDef:
    """An opaque class: the guest keeps the object, hosts hold a handle."""

    name: str
    doc: str = ""
    methods: tuple[Method, ...] = ()

    @property
    def destructor(self) -> str:
        """The wasm export that drops an object: ``Name#drop(handle: i32)``."""
        return f"{self.name}#drop"


@dataclass(frozen=True)
class Interface:
    """Everything a module's interface section declares."""

    version: int
    exports: tuple[Function, ...] = ()
    imports: tuple[Function, ...] = ()
    unknown_records: int = field(default=0, compare=False)
    records: tuple[RecordDef, ...] = ()
    enums: tuple[EnumDef, ...] = ()
    classes: tuple[ClassDef, ...] = ()
    # Per-interface memo of derived facts (layouts); never compared.
    memo: dict[str, object] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def export(self, name: str) -> Function | None:
        return next((f for f in self.exports if f.name == name), None)

    def type_def(self, name: str) -> RecordDef | EnumDef | ClassDef | None:
        """The record, enum or class named ``name`` (the first one, if defined twice)."""
        return self._type_defs.get(name)

    @cached_property
    def _type_defs(self) -> dict[str, RecordDef | EnumDef | ClassDef]:
        defs: dict[str, RecordDef | EnumDef | ClassDef] = {}
        for group in (self.records, self.enums, self.classes):
            for item in group:
                defs.setdefault(item.name, item)
        return defs

    def import_(self, module: str, name: str) -> Function | None:
        return next((f for f in self.imports if f.module == module and f.name == name), None)


def placement_problem(t: Type, *, result: bool, imported: bool) -> str | None:
    """Why ``t`` cannot be a parameter (or the result) of an export (or import), or None.

    These are the rules of docs/abi.md, "Interface types", which the SDK
    macros enforce at compile time; a section breaking them was not written
    by the SDK, and hosts would have no lowering for it.

    >>> placement_problem(Type(Kind.UNIT), result=False, imported=False)
    '`()` cannot be a parameter'
    """
    if not result:
        if t.kind is Kind.UNIT or t.kind in RESULTS:
            return f"`{shown_type(t)}` cannot be a parameter"
        if imported and t.kind is Kind.CALLBACK:
            return (
                f"an imported function cannot take the callback `{shown_type(t)}`; "
                "only exported functions and methods take callbacks"
            )
        return None
    part: Type | None = t
    while part is not None:
        if part.kind is Kind.CALLBACK:
            return f"the callback `{shown_type(part)}` cannot be returned"
        if part.kind in BORROWED_SEQUENCES or part.kind is Kind.BORROW:
            return f"the borrowed `{shown_type(part)}` cannot be returned"
        if imported and part.kind is Kind.STR:
            return "an imported function cannot return the borrowed `&str`"
        if imported and part.kind in RESULTS:
            return f"an imported function cannot return `{shown_type(part)}`"
        part = part.inner
    return None


def shown(name: str, limit: int = 60) -> str:
    """A name read from a module, safe to put in a message: control, format
    (bidi) and other unprintable characters escaped, long names cut."""
    cut = name if len(name) <= limit else name[:limit]
    text = cut if cut.isprintable() else repr(cut)[1:-1]
    return text if cut is name else f"{text}... ({len(name):,} characters)"
