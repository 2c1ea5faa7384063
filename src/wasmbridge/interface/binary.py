"""A small reader of the WebAssembly binary format.

It reads what wasmbridge needs without asking the engine: the header,
section sizes, function types, imports, exports, code sizes, custom sections
and the name section. Knowing signatures from the bytes lets the runtime
refuse hazards (v128 exports) before wasmtime ever touches them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .types import shown

MAGIC = b"\0asm"
VERSION_1 = b"\x01\0\0\0"

SECTION_NAMES = {
    0: "custom",
    1: "type",
    2: "import",
    3: "function",
    4: "table",
    5: "memory",
    6: "global",
    7: "export",
    8: "start",
    9: "element",
    10: "code",
    11: "data",
    12: "datacount",
    13: "tag",
}

VALTYPES = {
    0x7F: "i32",
    0x7E: "i64",
    0x7D: "f32",
    0x7C: "f64",
    0x7B: "v128",
    0x70: "funcref",
    0x6F: "externref",
    0x69: "exnref",
}

EXTERN_KINDS = {0: "func", 1: "table", 2: "memory", 3: "global", 4: "tag"}

# The implementation limits engines agree on (wasmparser's limits.rs; V8 and
# SpiderMonkey use the same): a module past them fails to compile anyway, and
# refusing it first bounds the time this reader spends on hostile counts.
ENGINE_LIMITS = {
    "types": 1_000_000,
    "functions": 1_000_000,
    "imports": 100_000,
    "exports": 100_000,
    "tables": 100,
    "memories": 100,
    "parameters": 1000,
    "results": 1000,
}
MAX_NAME_BYTES = 100_000
MAX_NAMES = 100_000  # function names read from the name section


class BinaryFormatError(ValueError):
    """The bytes are not a well-formed module; the message says what and where."""


@dataclass(frozen=True)
class FuncType:
    params: tuple[str, ...]
    results: tuple[str, ...]

    def __str__(self) -> str:
        return f"({', '.join(self.params)}) -> ({', '.join(self.results)})"


@dataclass(frozen=True)
class Import:
    module: str
    name: str
    kind: str  # func | table | memory | global | tag
    type: FuncType | None = None  # for functions
    limits: tuple[int, int | None] | None = None  # for memories and tables


@dataclass(frozen=True)
class Export:
    name: str
    kind: str
    index: int


@dataclass(frozen=True)
class Section:
    id: int
    name: str  # the custom section's own name, or the standard section's name
    offset: int  # of the payload
    size: int  # of the payload

    @property
    def total_size(self) -> int:
        """Payload plus the id byte and size field, as the section occupies the file."""
        return self.size + 1 + len(uleb(self.size))


@dataclass
class WasmModule:
    """What ``parse`` found in a module."""

    sections: list[Section] = field(default_factory=list)
    types: list[FuncType] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    func_types: list[int] = field(default_factory=list)  # type index per defined function
    memories: list[tuple[int, int | None]] = field(default_factory=list)
    tables: list[tuple[int, int | None]] = field(default_factory=list)
    exports: list[Export] = field(default_factory=list)
    start: int | None = None
    code_sizes: list[int] = field(default_factory=list)  # body size per defined function
    data_size: int = 0
    custom: dict[str, list[bytes]] = field(default_factory=dict)
    func_names: dict[int, str] = field(default_factory=dict)  # the first MAX_NAMES
    _cache: _Lookup | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def imported_funcs(self) -> list[Import]:
        return self._lookup().imported_funcs

    @property
    def func_count(self) -> int:
        """Functions in the function index space: imported ones, then defined ones."""
        return len(self.imported_funcs) + len(self.func_types)

    def func_type(self, index: int) -> FuncType:
        """Type of a function by its index in the function index space."""
        imported = self.imported_funcs
        if 0 <= index < len(imported):
            t = imported[index].type
            assert t is not None  # _read_import gives every function import its type
            return t
        local = index - len(imported)
        if not 0 <= local < len(self.func_types) or self.func_types[local] >= len(self.types):
            raise BinaryFormatError(f"function {index} does not exist or has no type")
        return self.types[self.func_types[local]]

    def export_type(self, name: str) -> FuncType | None:
        export = self._lookup().func_exports.get(name)
        return None if export is None else self.func_type(export.index)

    def func_name(self, index: int) -> str | None:
        """Name from the name section, else an export name, else None."""
        if index in self.func_names:
            return self.func_names[index]
        return self._lookup().export_names.get(index)

    def _lookup(self) -> _Lookup:
        # Built once per parsed module: a module may have ~10^6 imports and
        # exports, and callers look up every export, so scans would be quadratic.
        key = (id(self.imports), len(self.imports), id(self.exports), len(self.exports))
        if self._cache is None or self._cache.key != key:
            self._cache = _Lookup.build(self, key)
        return self._cache

    def custom_section(self, name: str) -> bytes | None:
        """All same-named custom sections, concatenated (as a linker would)."""
        parts = self.custom.get(name)
        return b"".join(parts) if parts is not None else None


@dataclass(frozen=True)
class _Lookup:
    """Indexes of a module's imports and exports (see ``WasmModule._lookup``)."""

    key: tuple[int, int, int, int]
    imported_funcs: list[Import]
    func_exports: dict[str, Export]  # the first function export of each name
    export_names: dict[int, str]  # the first export name of each function index

    @classmethod
    def build(cls, m: WasmModule, key: tuple[int, int, int, int]) -> _Lookup:
        func_exports: dict[str, Export] = {}
        export_names: dict[int, str] = {}
        for export in m.exports:
            if export.kind == "func":
                func_exports.setdefault(export.name, export)
                export_names.setdefault(export.index, export.name)
        return cls(key, [i for i in m.imports if i.kind == "func"], func_exports, export_names)


def describe_header(data: bytes) -> str | None:
    """Why ``data`` is not a WebAssembly binary, or None when the header is fine."""
    if len(data) < 8:
        if data[:4] == MAGIC[: len(data[:4])] and len(data) >= 4:
            return f"truncated: only {len(data)} bytes"
        if not data:
            return "empty file"
    head = data[:4]
    if head != MAGIC:
        shown = " ".join(f"{b:02x}" for b in head)
        guess = _guess_format(data)
        return f"is not WebAssembly (starts {shown}{': ' + guess if guess else ''})"
    if len(data) < 8:
        return f"truncated: only {len(data)} bytes"
    if data[4:8] != VERSION_1:
        version = int.from_bytes(data[4:8], "little")
        if data[6:8] == b"\x01\x00":
            return "is a WebAssembly component, not a core module"
        return f"has WebAssembly version {version}, expected 1"
    return None


# First bytes of files people pass by mistake, and what to call them.
_MAGIC_NUMBERS = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image?"),
    (b"\xff\xd8\xff", "a JPEG image?"),
    (b"GIF87a", "a GIF image?"),
    (b"GIF89a", "a GIF image?"),
    (b"%PDF-", "a PDF document?"),
    (b"\x1f\x8b", "a gzip file: gunzip it first?"),
    (b"\x7fELF", "an ELF file?"),
    (b"\xcf\xfa\xed\xfe", "a Mach-O file?"),  # 64-bit, little-endian
    (b"\xce\xfa\xed\xfe", "a Mach-O file?"),  # 32-bit, little-endian
    (b"\xfe\xed\xfa\xcf", "a Mach-O file?"),  # 64-bit, big-endian
    (b"\xfe\xed\xfa\xce", "a Mach-O file?"),  # 32-bit, big-endian
)
_ZIP = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_COFF_MACHINES = (0x14C, 0x8664, 0xAA64, 0x1C4)  # i386, x86-64, arm64, arm (thumb-2)


def _guess_format(data: bytes) -> str:
    """What a file that is not WebAssembly probably is, from its first bytes ("" if unknown)."""
    for magic, what in _MAGIC_NUMBERS:
        if data.startswith(magic):
            return what
    if data.startswith(b"MZ"):
        pe = int.from_bytes(data[0x3C:0x40], "little")  # e_lfanew: where "PE\0\0" is
        is_pe = len(data) >= 0x40 and data[pe : pe + 4] == b"PE\0\0"
        return "a Windows executable or DLL (PE)?" if is_pe else "a DOS executable?"
    if data[:4] in _ZIP:
        first = data[30 : 30 + int.from_bytes(data[26:28], "little")]  # the first entry's name
        return "a Java archive (.jar)?" if first.startswith(b"META-INF/") else "a zip archive?"
    if _is_coff_object(data):
        return "a COFF object file (.obj)?"
    stripped = data.lstrip()
    if stripped.startswith((b"(module", b"(component", b";;")):
        return "WebAssembly text; compile it with wat2wasm first"
    if stripped[:9].lower() == b"<!doctype" or stripped.startswith(b"<html"):
        return "an HTML page?"
    return ""


def _is_coff_object(data: bytes) -> bool:
    """A COFF object's header: a known machine, a few sections, no optional header."""
    if len(data) < 20:
        return False
    machine, sections = int.from_bytes(data[0:2], "little"), int.from_bytes(data[2:4], "little")
    optional_header = int.from_bytes(data[16:18], "little")
    return machine in _COFF_MACHINES and 0 < sections < 1000 and optional_header == 0


def parse(data: bytes) -> WasmModule:
    """Parse a module's structure; raises BinaryFormatError on malformed input."""
    problem = describe_header(data)
    if problem is not None:
        raise BinaryFormatError(problem)
    module = WasmModule()
    r = _Reader(data, 8)
    while not r.at_end():
        section_id = r.byte()
        size = r.uleb()
        start = r.pos
        end = start + size
        if end > len(data):
            raise BinaryFormatError(
                f"truncated: section {SECTION_NAMES.get(section_id, section_id)} at byte "
                f"{start} claims {size} bytes, only {len(data) - start} remain"
            )
        body = _Reader(data, start, end)
        name = SECTION_NAMES.get(section_id)
        if name is None:
            raise BinaryFormatError(f"unknown section id {section_id} at byte {start - 1}")
        if section_id == 0:
            name = body.name()
            payload = data[body.pos : end]
            module.custom.setdefault(name, []).append(payload)
            if name == "name":
                _read_names(module.func_names, payload)
        else:
            _read_section(module, section_id, body)
        module.sections.append(Section(section_id, name, start, size))
        r.pos = end
    _check_indices(module)
    return module


def _check_indices(m: WasmModule) -> None:
    """Refuse indexes that point nowhere, so no lookup in a parsed module can fail."""
    for local, type_index in enumerate(m.func_types):
        if type_index >= len(m.types):
            raise BinaryFormatError(
                f"function {len(m.imported_funcs) + local} uses unknown type {type_index}"
            )
    if m.code_sizes and len(m.code_sizes) != len(m.func_types):
        raise BinaryFormatError(
            f"{len(m.func_types)} functions declared but {len(m.code_sizes)} bodies in the code "
            "section"
        )
    for export in m.exports:
        if export.kind == "func" and export.index >= m.func_count:
            raise BinaryFormatError(
                f"export `{shown(export.name)}` refers to function {export.index}, "
                f"the module has {m.func_count}"
            )
    if m.start is not None and m.start >= m.func_count:
        raise BinaryFormatError(f"start function {m.start} does not exist")


def _read_section(m: WasmModule, section_id: int, r: _Reader) -> None:
    if section_id == 1:
        m.types = [_read_functype(r) for _ in range(r.count("types"))]
    elif section_id == 2:
        m.imports = [_read_import(m, r) for _ in range(r.count("imports"))]
    elif section_id == 3:
        m.func_types = [r.uleb() for _ in range(r.count("functions"))]
    elif section_id == 4:
        for _ in range(r.count("tables")):
            r.reftype()
            m.tables.append(r.limits())
    elif section_id == 5:
        m.memories = [r.limits() for _ in range(r.count("memories"))]
    elif section_id == 7:
        for _ in range(r.count("exports")):
            name = r.name()
            kind_byte = r.byte()
            kind = EXTERN_KINDS.get(kind_byte)
            if kind is None:
                raise BinaryFormatError(
                    f"export `{shown(name)}` has unknown kind 0x{kind_byte:02x} at byte {r.pos - 1}"
                )
            m.exports.append(Export(name, kind, r.uleb()))
    elif section_id == 8:
        m.start = r.uleb()
    elif section_id == 10:
        for _ in range(r.count("functions")):
            size = r.uleb()
            if size > r.end - r.pos:
                raise BinaryFormatError(
                    f"truncated: function body of {size} bytes at byte {r.pos}, "
                    f"only {r.end - r.pos} remain in the code section"
                )
            m.code_sizes.append(size)
            r.pos += size
    elif section_id == 11:
        m.data_size = r.end - r.pos


def _read_functype(r: _Reader) -> FuncType:
    form = r.byte()
    if form != 0x60:
        raise BinaryFormatError(f"unsupported type form 0x{form:02x} at byte {r.pos - 1}")
    params = tuple(r.valtype() for _ in range(r.count("parameters")))
    results = tuple(r.valtype() for _ in range(r.count("results")))
    return FuncType(params, results)


def _read_import(m: WasmModule, r: _Reader) -> Import:
    module, name = r.name(), r.name()
    kind_byte = r.byte()
    kind = EXTERN_KINDS.get(kind_byte)
    if kind == "func":
        index = r.uleb()
        if index >= len(m.types):
            raise BinaryFormatError(
                f"import {shown(module)}.{shown(name)} uses unknown type {index}"
            )
        return Import(module, name, kind, type=m.types[index])
    if kind == "table":
        r.reftype()
        return Import(module, name, kind, limits=r.limits())
    if kind == "memory":
        return Import(module, name, kind, limits=r.limits())
    if kind == "global":
        r.valtype()
        r.byte()
        return Import(module, name, kind)
    if kind == "tag":
        r.byte()
        r.uleb()
        return Import(module, name, kind)
    raise BinaryFormatError(f"import {shown(module)}.{shown(name)} has unknown kind {kind_byte}")


def _read_names(names: dict[int, str], payload: bytes) -> None:
    r = _Reader(payload, 0)
    try:
        while not r.at_end():
            sub_id = r.byte()
            size = r.uleb()
            end = r.pos + size
            if sub_id == 1:
                # Names serve messages only: past MAX_NAMES, the rest would cost
                # time (a hostile section may hold millions) for nothing.
                for _ in range(min(r.uleb(), MAX_NAMES - len(names))):
                    index = r.uleb()
                    names[index] = r.name()
            r.pos = end
    except BinaryFormatError:
        pass  # a damaged name section only costs us names


def rewrite_exports(data: bytes, keep: set[str]) -> bytes:
    """Return ``data`` with its export section reduced to the names in ``keep``."""
    module = parse(data)
    section = next((s for s in module.sections if s.id == 7), None)
    if section is None:
        return data
    body = bytearray(uleb(sum(1 for e in module.exports if e.name in keep)))
    for export in module.exports:
        if export.name in keep:
            raw = export.name.encode("utf-8")
            kind = {v: k for k, v in EXTERN_KINDS.items()}[export.kind]
            body += uleb(len(raw)) + raw + bytes([kind]) + uleb(export.index)
    start = section.offset - len(uleb(section.size)) - 1
    end = section.offset + section.size
    return data[:start] + bytes([7]) + uleb(len(body)) + bytes(body) + data[end:]


def uleb(value: int) -> bytes:
    """Encode an unsigned LEB128 number."""
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        out.append(b | (0x80 if value else 0))
        if not value:
            return bytes(out)


def sleb(value: int) -> bytes:
    """Encode a signed LEB128 number."""
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        done = (value == 0 and not b & 0x40) or (value == -1 and b & 0x40)
        out.append(b | (0 if done else 0x80))
        if done:
            return bytes(out)


class _Reader:
    def __init__(self, data: bytes, offset: int, end: int | None = None) -> None:
        self.data = data
        self.pos = offset
        self.end = len(data) if end is None else end

    def at_end(self) -> bool:
        return self.pos >= self.end

    def byte(self) -> int:
        if self.pos >= self.end:
            raise BinaryFormatError(f"truncated: unexpected end at byte {self.pos}")
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
            if shift > 63:
                raise BinaryFormatError(f"malformed LEB128 number at byte {self.pos}")

    def count(self, what: str) -> int:
        """A vector's length, refused past the limit engines agree on for ``what``."""
        at = self.pos
        value = self.uleb()
        if value > ENGINE_LIMITS[what]:
            raise BinaryFormatError(
                f"{value:,} {what} at byte {at}, over the {ENGINE_LIMITS[what]:,} engines accept"
            )
        return value

    def name(self) -> str:
        at = self.pos
        size = self.uleb()
        if size > MAX_NAME_BYTES:
            raise BinaryFormatError(
                f"name of {size:,} bytes at byte {at}, over the {MAX_NAME_BYTES:,} engines accept"
            )
        if self.pos + size > self.end:
            raise BinaryFormatError(f"truncated: name of {size} bytes at byte {self.pos}")
        raw = self.data[self.pos : self.pos + size]
        self.pos += size
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BinaryFormatError(f"name at byte {self.pos - size} is not UTF-8") from None

    def valtype(self) -> str:
        code = self.byte()
        if code in (0x63, 0x64):  # (ref null? heaptype)
            self.sleb()
            return "ref"
        name = VALTYPES.get(code)
        if name is None:
            raise BinaryFormatError(f"unknown value type 0x{code:02x} at byte {self.pos - 1}")
        return name

    def reftype(self) -> str:
        return self.valtype()

    def sleb(self) -> int:
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                if b & 0x40:
                    result -= 1 << shift
                return result
            if shift > 70:
                raise BinaryFormatError(f"malformed LEB128 number at byte {self.pos}")

    def limits(self) -> tuple[int, int | None]:
        flags = self.byte()
        minimum = self.uleb()
        maximum = self.uleb() if flags & 1 else None
        return (minimum, maximum)
