"""Codec of the ``wasmbridge`` custom section (format in docs/abi.md).

The guest macros write one self-delimiting record per function; the linker
concatenates them. Each record starts with its format version, so a reader
can refuse a newer format before it misreads anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .binary import sleb, uleb
from .types import (
    MAX_CALLBACK_ARGS,
    MAX_TUPLE,
    NAMED_KINDS,
    WITH_INNER,
    WITH_ITEMS,
    Case,
    ClassDef,
    EnumDef,
    Field,
    Function,
    Interface,
    Kind,
    Method,
    Param,
    Receiver,
    RecordDef,
    Type,
    placement_problem,
    shown,
)

SECTION_NAME = "wasmbridge"
VERSION = 1

RECORD_EXPORT = 0x01
RECORD_IMPORT = 0x02
RECORD_RECORD_TYPE = 0x03
RECORD_ENUM_TYPE = 0x04
RECORD_CLASS = 0x05
RECORD_METHOD = 0x06

# The deepest type the ABI has is Result<Option<Vec<u8>>> (4 levels); the cap
# stops a hostile section from nesting thousands of levels before the type
# model can refuse them.
MAX_TYPE_DEPTH = 8
MAX_PARAMS = 255  # the count is one byte
MAX_FIELDS = 255  # the count is one byte
# Engines accept at most 100,000 imports and 100,000 exports (the limits
# wasmparser and the browsers agree on), so no real section has more records
# than that; the cap bounds the time a hostile section can cost.
MAX_RECORDS = 200_000
# Records, enums and classes: real interfaces define dozens; the cap bounds the
# cost of the checks that walk them (docs/abi-compound.md).
MAX_TYPE_DEFS = 10_000
# A case takes at least two bytes (an empty name's length, a one-byte discriminant).
_MIN_CASE_BYTES = 2
_I64 = (-(2**63), 2**63 - 1)

_KINDS = {int(k): k for k in Kind}
_RECEIVERS = {int(r): r for r in Receiver}
# Types are immutable and most are few: reuse each after its first check. Named
# ones are as many as a section has names, so the memo stops growing at a cap.
_TYPES: dict[tuple[Kind, Type | None, tuple[Type, ...], str], Type] = {}
_MAX_MEMO = 4096


class SectionFormatError(ValueError):
    """The section's bytes do not follow the format; the message says where."""


class SectionVersionError(SectionFormatError):
    """A record uses a newer format version than this reader knows."""

    def __init__(self, found: int) -> None:
        super().__init__(f"interface v{found}, this reader knows v{VERSION}")
        self.found = found


class _Reader:
    def __init__(self, data: bytes, offset: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = offset
        self.end = len(data) if end is None else end

    def at_end(self) -> bool:
        return self.pos >= self.end

    def byte(self) -> int:
        if self.pos >= self.end:
            raise SectionFormatError(f"unexpected end of data at byte {self.pos}")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def uleb(self) -> int:
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            if shift > 35:
                raise SectionFormatError(f"length too long at byte {self.pos}")

    def sleb64(self) -> int:
        start = self.pos
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
            if shift >= 70:
                raise SectionFormatError(f"number too long at byte {start}")
        if b & 0x40:
            result -= 1 << shift
        if not _I64[0] <= result <= _I64[1]:
            raise SectionFormatError(f"discriminant at byte {start} does not fit an i64")
        return result

    def remaining(self) -> int:
        return self.end - self.pos

    def text(self) -> str:
        size = self.uleb()
        if self.pos + size > self.end:
            raise SectionFormatError(f"string of {size} bytes runs past the record end")
        raw = self.data[self.pos : self.pos + size]
        self.pos += size
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SectionFormatError(f"string at byte {self.pos - size} is not UTF-8") from exc

    def type(self, depth: int = 1) -> Type:
        if depth > MAX_TYPE_DEPTH:
            raise SectionFormatError(
                f"type nested deeper than {MAX_TYPE_DEPTH} levels at byte {self.pos}"
            )
        start = self.pos
        tag = self.byte()
        kind = _KINDS.get(tag)
        if kind is None:
            raise SectionFormatError(f"unknown type tag 0x{tag:02x} at byte {start}")
        if kind is Kind.CALLBACK:  # 0x1c n T{n} R: the arguments come before the result
            items = self.items(kind, start, depth)
            inner: Type | None = self.type(depth + 1)
        else:
            inner = self.type(depth + 1) if kind in WITH_INNER else None
            items = self.items(kind, start, depth) if kind is Kind.TUPLE else ()
        name = self.text() if kind in NAMED_KINDS or kind is Kind.RESULT_VALUE else ""
        key = (kind, inner, items, name)
        known = _TYPES.get(key)
        if known is not None:
            return known
        try:
            known = Type(kind, inner, items, name)
        except ValueError as exc:
            raise SectionFormatError(f"{exc} (type at byte {start})") from None
        if len(_TYPES) < _MAX_MEMO:
            _TYPES[key] = known
        return known

    def items(self, kind: Kind, start: int, depth: int) -> tuple[Type, ...]:
        """A tuple's items or a callback's arguments: a count byte, then the types."""
        count = self.byte()
        if kind is Kind.CALLBACK and count > MAX_CALLBACK_ARGS:
            raise SectionFormatError(
                f"a callback of {count} arguments is not an interface type "
                f"(at most {MAX_CALLBACK_ARGS}; type at byte {start})"
            )
        if kind is Kind.TUPLE and not 1 <= count <= MAX_TUPLE:
            raise SectionFormatError(
                f"a tuple of {count} items is not an interface type (1 to {MAX_TUPLE}; "
                f"type at byte {start})"
            )
        return tuple(self.type(depth + 1) for _ in range(count))


@dataclass
class _Parts:
    """What the records of a section hold, gathered in order."""

    exports: list[Function] = field(default_factory=list)
    imports: list[Function] = field(default_factory=list)
    records: list[RecordDef] = field(default_factory=list)
    enums: list[EnumDef] = field(default_factory=list)
    classes: list[ClassDef] = field(default_factory=list)
    methods: list[tuple[str, Method]] = field(default_factory=list)
    unknown: int = 0

    def count(self) -> int:
        return (
            len(self.exports)
            + len(self.imports)
            + len(self.records)
            + len(self.enums)
            + len(self.classes)
            + len(self.methods)
            + self.unknown
        )


def decode(data: bytes) -> Interface:
    """Decode a section's payload; raises SectionFormatError or SectionVersionError."""
    reader = _Reader(data)
    parts = _Parts()
    while not reader.at_end():
        if parts.count() >= MAX_RECORDS:
            raise SectionFormatError(
                f"more than {MAX_RECORDS:,} records (at byte {reader.pos}); "
                "engines accept at most 100,000 exports and 100,000 imports"
            )
        version = reader.byte()
        if version != VERSION:
            raise SectionVersionError(version)
        kind = reader.byte()
        size = reader.uleb()
        end = reader.pos + size
        if end > len(data):
            raise SectionFormatError(f"record at byte {reader.pos} runs past the section end")
        _read_record(kind, _Reader(data, reader.pos, end), parts)
        reader.pos = end
    return Interface(
        VERSION,
        tuple(parts.exports),
        tuple(parts.imports),
        parts.unknown,
        records=tuple(parts.records),
        enums=tuple(parts.enums),
        classes=_with_methods(parts.classes, parts.methods),
    )


def _read_record(kind: int, body: _Reader, parts: _Parts) -> None:
    if kind == RECORD_EXPORT:
        parts.exports.append(_function(body, module="", imported=False))
    elif kind == RECORD_IMPORT:
        module = body.text()
        parts.imports.append(_function(body, module=module, imported=True))
    elif kind in (RECORD_RECORD_TYPE, RECORD_ENUM_TYPE, RECORD_CLASS):
        if len(parts.records) + len(parts.enums) + len(parts.classes) >= MAX_TYPE_DEFS:
            raise SectionFormatError(
                f"more than {MAX_TYPE_DEFS:,} records, enums and classes (at byte {body.pos})"
            )
        if kind == RECORD_RECORD_TYPE:
            parts.records.append(_record_type(body))
        elif kind == RECORD_ENUM_TYPE:
            parts.enums.append(_enum_type(body))
        else:
            name = body.text()
            parts.classes.append(ClassDef(name, body.text()))
    elif kind == RECORD_METHOD:
        parts.methods.append(_method(body))
    else:
        parts.unknown += 1  # a newer minor record kind: skip it, it is self-delimiting


def _record_type(body: _Reader) -> RecordDef:
    name = body.text()
    doc = body.text()
    count = body.byte()
    if count == 0:
        raise SectionFormatError(f"record `{shown(name)}` has no fields")
    fields = tuple(Field(body.text(), body.type()) for _ in range(count))
    return RecordDef(name, fields, doc)


def _enum_type(body: _Reader) -> EnumDef:
    name = body.text()
    doc = body.text()
    count = body.uleb()
    if count == 0:
        raise SectionFormatError(f"enum `{shown(name)}` has no cases")
    if count > body.remaining() // _MIN_CASE_BYTES:
        raise SectionFormatError(
            f"enum `{shown(name)}` claims {count:,} cases, more than its record can hold"
        )
    cases = tuple(Case(body.text(), body.sleb64()) for _ in range(count))
    return EnumDef(name, cases, doc)


def _method(body: _Reader) -> tuple[str, Method]:
    cls = body.text()
    start = body.pos
    receiver = _RECEIVERS.get(body.byte())
    if receiver is None:
        raise SectionFormatError(
            f"method of class `{shown(cls)}` has an unknown receiver kind at byte {start}"
        )
    member = body.text()
    return cls, Method(member, receiver, _function(body, module="", imported=False))


def _with_methods(
    classes: list[ClassDef], methods: list[tuple[str, Method]]
) -> tuple[ClassDef, ...]:
    grouped: dict[str, list[Method]] = {c.name: [] for c in classes}
    for cls, method in methods:
        found = grouped.get(cls)
        if found is None:
            raise SectionFormatError(
                f"method `{shown(method.function.name)}` belongs to class `{shown(cls)}`, "
                "which no class record defines"
            )
        found.append(method)
    result: list[ClassDef] = []
    for cls_def in classes:  # a class defined twice (refused by validate) gets them once
        result.append(ClassDef(cls_def.name, cls_def.doc, tuple(grouped.pop(cls_def.name, ()))))
    return tuple(result)


def _function(body: _Reader, *, module: str, imported: bool) -> Function:
    name = body.text()
    doc = body.text()
    count = body.byte()
    params = tuple(Param(body.text(), body.type()) for _ in range(count))
    result = body.type()
    func = Function(name, params, result, doc, module)
    problem = type_problem(func, imported=imported)
    if problem is not None:
        raise SectionFormatError(problem)
    return func


def type_problem(func: Function, *, imported: bool) -> str | None:
    """Why a function's types break the placement rules of docs/abi.md, or None."""
    for param in func.params:
        problem = placement_problem(param.type, result=False, imported=imported)
        if problem is not None:
            return f"{_label(func, imported)}, parameter `{shown(param.name)}`: {problem}"
    problem = placement_problem(func.result, result=True, imported=imported)
    return None if problem is None else f"{_label(func, imported)}: {problem}"


def _label(func: Function, imported: bool) -> str:
    if imported:
        return f"import `{shown(func.module)}.{shown(func.name)}`"
    return f"export `{shown(func.name)}`"


def encode(interface: Interface) -> bytes:
    """Encode an interface as the macros would (used by tests and other tools)."""
    out = bytearray()
    for record in interface.records:
        out += _record(RECORD_RECORD_TYPE, _encode_record_type(record))
    for enum in interface.enums:
        out += _record(RECORD_ENUM_TYPE, _encode_enum_type(enum))
    for cls in interface.classes:
        out += _record(RECORD_CLASS, _text(cls.name) + _text(cls.doc))
        for method in cls.methods:
            head = _text(cls.name) + bytes([method.receiver]) + _text(method.member)
            out += _record(RECORD_METHOD, head + _encode_function(method.function))
    for func in interface.exports:
        out += _record(RECORD_EXPORT, _encode_function(func))
    for func in interface.imports:
        out += _record(RECORD_IMPORT, _text(func.module) + _encode_function(func))
    return bytes(out)


def _record(kind: int, body: bytes) -> bytes:
    return bytes([VERSION, kind]) + uleb(len(body)) + body


def _encode_record_type(record: RecordDef) -> bytes:
    if not 1 <= len(record.fields) <= MAX_FIELDS:
        raise ValueError(
            f"record `{record.name}` has {len(record.fields)} fields; the section holds 1 to "
            f"{MAX_FIELDS}"
        )
    out = bytearray(_text(record.name) + _text(record.doc))
    out.append(len(record.fields))
    for item in record.fields:
        out += _text(item.name) + _encode_type(item.type)
    return bytes(out)


def _encode_enum_type(enum: EnumDef) -> bytes:
    out = bytearray(_text(enum.name) + _text(enum.doc) + uleb(len(enum.cases)))
    for case in enum.cases:
        out += _text(case.name) + sleb(case.value)
    return bytes(out)


def _encode_function(func: Function) -> bytes:
    if len(func.params) > MAX_PARAMS:
        raise ValueError(
            f"`{func.name}` has {len(func.params)} parameters; the section holds at most "
            f"{MAX_PARAMS}"
        )
    out = bytearray(_text(func.name) + _text(func.doc))
    out.append(len(func.params))
    for param in func.params:
        out += _text(param.name) + _encode_type(param.type)
    out += _encode_type(func.result)
    return bytes(out)


def _encode_type(t: Type) -> bytes:
    out = bytearray([t.kind])
    if t.inner is not None and t.kind is not Kind.CALLBACK:
        out += _encode_type(t.inner)
    if t.kind in WITH_ITEMS:
        out.append(len(t.items))
        for item in t.items:
            out += _encode_type(item)
    if t.kind is Kind.CALLBACK:
        assert t.inner is not None
        out += _encode_type(t.inner)
    if t.name:
        out += _text(t.name)
    return bytes(out)


def _text(value: str) -> bytes:
    raw = value.encode("utf-8")
    return uleb(len(raw)) + raw
