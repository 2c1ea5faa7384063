"""The type model of a module's interface: what crosses the bridge.

Every host (the Python runtime, the JS glue, the stubs) derives its
marshalling from these types; docs/abi.md fixes their wire form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


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

_NOT_OPTIONAL = frozenset({Kind.UNIT, Kind.OPTION, Kind.RESULT})
BORROWED_SEQUENCES = frozenset({Kind.SLICE, Kind.MUT_SLICE})

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
}


@dataclass(frozen=True)
class Type:
    """One interface type; ``inner`` is the element or payload type, if any."""

    kind: Kind
    inner: Type | None = None

    def __post_init__(self) -> None:
        needs_inner = self.kind in SEQUENCES or self.kind in (Kind.OPTION, Kind.RESULT)
        if needs_inner and self.inner is None:
            raise ValueError(f"{self.kind.name} needs an inner type")
        if not needs_inner and self.inner is not None:
            raise ValueError(f"{self.kind.name} takes no inner type")
        if self.kind in SEQUENCES and self.inner is not None and self.inner.kind not in NUMBERS:
            raise ValueError(f"slice elements must be numbers, not {self.inner}")
        # Only one level of "nothing" (None) and of "failure" crosses, so these
        # cannot nest; it also bounds every type to 4 levels (Result<Option<Vec<u8>>>).
        if self.kind is Kind.OPTION and self.inner is not None and self.inner.kind in _NOT_OPTIONAL:
            raise ValueError(f"Option<{self.inner}> is not an interface type")
        if self.kind is Kind.RESULT and self.inner is not None and self.inner.kind is Kind.RESULT:
            raise ValueError(f"Result<{self.inner}, E> is not an interface type")

    @property
    def is_scalar(self) -> bool:
        return self.kind in SCALARS

    def rust(self) -> str:
        """The Rust spelling, e.g. ``Option<Vec<f32>>``."""
        if self.kind in RUST_NAMES:
            return RUST_NAMES[self.kind]
        assert self.inner is not None
        inner = self.inner.rust()
        return {
            Kind.SLICE: f"&[{inner}]",
            Kind.VEC: f"Vec<{inner}>",
            Kind.MUT_SLICE: f"&mut [{inner}]",
            Kind.OPTION: f"Option<{inner}>",
            Kind.RESULT: f"Result<{inner}, E>",
        }[self.kind]

    def __str__(self) -> str:
        return self.rust()


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
class Interface:
    """Everything a module's interface section declares."""

    version: int
    exports: tuple[Function, ...] = ()
    imports: tuple[Function, ...] = ()
    unknown_records: int = field(default=0, compare=False)

    def export(self, name: str) -> Function | None:
        return next((f for f in self.exports if f.name == name), None)

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
        if t.kind is Kind.UNIT or t.kind is Kind.RESULT:
            return f"`{t}` cannot be a parameter"
        return None
    part: Type | None = t
    while part is not None:
        if part.kind in BORROWED_SEQUENCES:
            return f"the borrowed `{part}` cannot be returned"
        if imported and part.kind is Kind.STR:
            return "an imported function cannot return the borrowed `&str`"
        if imported and part.kind is Kind.RESULT:
            return f"an imported function cannot return `{part}`"
        part = part.inner
    return None


def shown(name: str, limit: int = 60) -> str:
    """A name read from a module, safe to put in a message: control, format
    (bidi) and other unprintable characters escaped, long names cut."""
    cut = name if len(name) <= limit else name[:limit]
    text = cut if cut.isprintable() else repr(cut)[1:-1]
    return text if cut is name else f"{text}... ({len(name):,} characters)"
