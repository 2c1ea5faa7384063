"""Codec of the ``wasmbridge`` custom section (format in docs/abi.md).

The guest macros write one self-delimiting record per function; the linker
concatenates them. Each record starts with its format version, so a reader
can refuse a newer format before it misreads anything.
"""

from __future__ import annotations

from .binary import uleb
from .types import SEQUENCES, Function, Interface, Kind, Param, Type, placement_problem, shown

SECTION_NAME = "wasmbridge"
VERSION = 1

RECORD_EXPORT = 0x01
RECORD_IMPORT = 0x02

_WITH_INNER = SEQUENCES | {Kind.OPTION, Kind.RESULT}

# The deepest type the ABI has is Result<Option<Vec<u8>>> (4 levels); the cap
# stops a hostile section from nesting thousands of levels before the type
# model can refuse them.
MAX_TYPE_DEPTH = 8
MAX_PARAMS = 255  # the count is one byte
# Engines accept at most 100,000 imports and 100,000 exports (the limits
# wasmparser and the browsers agree on), so no real section has more records
# than that; the cap bounds the time a hostile section can cost.
MAX_RECORDS = 200_000

_KINDS = {int(k): k for k in Kind}
# Types are immutable and few (about 200 valid ones): reuse each after its first check.
_TYPES: dict[tuple[Kind, Type | None], Type] = {}


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
        inner = self.type(depth + 1) if kind in _WITH_INNER else None
        known = _TYPES.get((kind, inner))
        if known is not None:
            return known
        try:
            known = _TYPES[kind, inner] = Type(kind, inner)
        except ValueError as exc:
            raise SectionFormatError(f"{exc} (type at byte {start})") from None
        return known


def decode(data: bytes) -> Interface:
    """Decode a section's payload; raises SectionFormatError or SectionVersionError."""
    reader = _Reader(data)
    exports: list[Function] = []
    imports: list[Function] = []
    unknown = 0
    while not reader.at_end():
        if len(exports) + len(imports) + unknown >= MAX_RECORDS:
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
        body = _Reader(data, reader.pos, end)
        if kind == RECORD_EXPORT:
            exports.append(_function(body, module="", imported=False))
        elif kind == RECORD_IMPORT:
            module = body.text()
            imports.append(_function(body, module=module, imported=True))
        else:
            unknown += 1  # a newer minor record kind: skip it, it is self-delimiting
        reader.pos = end
    return Interface(VERSION, tuple(exports), tuple(imports), unknown)


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
    for func in interface.exports:
        out += _record(RECORD_EXPORT, _encode_function(func))
    for func in interface.imports:
        out += _record(RECORD_IMPORT, _text(func.module) + _encode_function(func))
    return bytes(out)


def _record(kind: int, body: bytes) -> bytes:
    return bytes([VERSION, kind]) + uleb(len(body)) + body


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
    return bytes([t.kind]) + (_encode_type(t.inner) if t.inner is not None else b"")


def _text(value: str) -> bytes:
    raw = value.encode("utf-8")
    return uleb(len(raw)) + raw
