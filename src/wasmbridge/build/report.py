"""What a module holds and where its bytes go: ``build`` -v and ``inspect``.

Sizes come from the binary itself: each section as it sits in the file,
each function body with its name from the name section (present in
``--dev`` builds) or its export name.

    report = describe_module(Path("pkg/hello.wasm").read_bytes(), "hello.wasm")
    print("\\n".join(render_module(report)))
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InterfaceError, InvalidModule
from ..interface import (
    BinaryFormatError,
    Function,
    Interface,
    SectionFormatError,
    SectionVersionError,
    WasmModule,
    parse,
    read_interface,
)
from ..interface.abi import signature
from ..interface.binary import Export, Import, uleb
from .report_types import render_types, types_json

HEADER_SIZE = 8  # magic + version


@dataclass(frozen=True)
class SectionSize:
    name: str  # standard section name, or the custom section's own name
    custom: bool
    size: int  # bytes in the file, id and size field included


@dataclass(frozen=True)
class FunctionSize:
    index: int  # in the function index space (imports first)
    name: str
    size: int  # body bytes, size field included


@dataclass(frozen=True)
class SizeReport:
    total: int
    sections: tuple[SectionSize, ...]
    functions: tuple[FunctionSize, ...]  # largest first


@dataclass(frozen=True)
class ModuleReport:
    """Everything ``inspect`` shows about one module."""

    name: str
    module: WasmModule
    interface: Interface | None
    sizes: SizeReport


def fmt_bytes(size: int) -> str:
    """``1,204 B``."""
    return f"{size:,} B"


_NAMED_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def printable(text: str) -> str:
    r"""``text`` safe to print on a terminal: every unprintable character escaped.

    Names, docs and section names come from the module, which anyone may have
    crafted: an ESC sequence would drive the terminal, a bidi override
    (U+202E) would show a name reversed. C0/C1 controls become ``\xNN``,
    format characters (bidi overrides and isolates, zero-width ones),
    separators and unassigned code points ``\uNNNN``.

    >>> printable("ok\x1b[2Jgone\u202e")
    'ok\\x1b[2Jgone\\u202e'
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


def _escape(ch: str) -> str:
    code = ord(ch)
    if ch in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[ch]
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def json_text(data: object) -> str:
    r"""``data`` as indented JSON that is also safe to print (see ``printable``).

    ``json.dumps`` escapes C0 controls but, keeping non-ASCII text readable,
    not C1 controls or bidi overrides; those become ``\uNNNN`` escapes, which
    JSON readers decode back to the same strings.
    """
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == "\n" else _json_escape(ch) for ch in text)


def _json_escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # a UTF-16 surrogate pair, as JSON spells code points above U+FFFF
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def size_report(data: bytes, module: WasmModule | None = None) -> SizeReport:
    """Sizes of ``data`` by section and by function."""
    module = parse(data) if module is None else module
    sections = tuple(SectionSize(s.name, s.id == 0, s.total_size) for s in module.sections)
    imported = len(module.imported_funcs)
    functions = []
    for i, body in enumerate(module.code_sizes):
        index = imported + i
        name = demangle(module.func_name(index) or f"func[{index}]")
        functions.append(FunctionSize(index, name, body + len(uleb(body))))
    functions.sort(key=lambda f: (-f.size, f.index))
    return SizeReport(len(data), sections, tuple(functions))


def read_module_file(path: Path) -> bytes:
    """The bytes of a module file; InvalidModule (not OSError) when it cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InvalidModule(
            f"{path} does not exist", hint="build it with `wasmbridge build`, or check the path"
        ) from None
    except IsADirectoryError:
        raise InvalidModule(f"{path} is a directory, not a .wasm file") from None
    except OSError as exc:
        raise InvalidModule(f"cannot read {path}: {exc.strerror or exc}") from exc


def describe_module(data: bytes, name: str) -> ModuleReport:
    """Parse ``data`` for ``inspect``; InvalidModule/InterfaceError say what is wrong."""
    try:
        module = parse(data)
    except BinaryFormatError as exc:
        raise InvalidModule(
            printable(f"{name} {exc}" if str(exc).startswith("is ") else f"{name}: {exc}"),
            hint="pass a .wasm file built by `wasmbridge build` (or any WebAssembly module)",
        ) from exc
    try:
        interface = read_interface(module)
    except SectionVersionError as exc:
        raise InterfaceError(
            printable(f"{name} has interface v{exc.found}, this wasmbridge reads v1"),
            hint="upgrade wasmbridge, or rebuild the module with this one: `wasmbridge build`",
        ) from exc
    except SectionFormatError as exc:
        raise InterfaceError(
            printable(f"{name}: the wasmbridge section is unreadable: {exc}"),
            hint="rebuild the module with `wasmbridge build`",
        ) from exc
    return ModuleReport(name, module, interface, size_report(data, module))


# -- text -------------------------------------------------------------------------


def render_sizes(sizes: SizeReport, *, top: int | None = 10) -> list[str]:
    """Size breakdown lines: by section, then the ``top`` largest functions."""
    lines = ["size by section:"]
    rows = (SectionSize("header", False, HEADER_SIZE), *sizes.sections)
    labels = [f"{printable(s.name)} (custom)" if s.custom else s.name for s in rows]
    width = max((len(label) for label in labels[1:]), default=6)
    for s, label in zip(rows, labels, strict=True):
        lines.append(f"  {label:<{width}}  {fmt_bytes(s.size):>10}  {_percent(s.size, sizes):>6}")
    lines.append(f"  {'total':<{width}}  {fmt_bytes(sizes.total):>10}")
    shown = sizes.functions if top is None else sizes.functions[:top]
    if shown:
        more = len(sizes.functions) - len(shown)
        title = "size by function (largest first"
        lines.append(f"{title}{f', {len(shown)} of {len(sizes.functions)}' if more else ''}):")
        for f in shown:
            lines.append(f"  {fmt_bytes(f.size):>10}  {_percent(f.size, sizes):>6}  {f.name}")
    return [printable(line) for line in lines]


def render_module(report: ModuleReport, *, top: int | None = 20) -> list[str]:
    """The text ``wasmbridge inspect`` prints."""
    version = f"interface v{report.interface.version}" if report.interface else "no interface"
    lines = [f"{report.name}: {fmt_bytes(report.sizes.total)}, {version}", ""]
    lines += _render_interface(report.interface)
    lines += ["", *_render_wasm(report.module), "", *render_sizes(report.sizes, top=top)]
    return [printable(line) for line in lines]  # names and docs come from the module


def _render_interface(interface: Interface | None) -> list[str]:
    if interface is None:
        return [
            "no wasmbridge interface section: numeric exports are callable with their wasm types"
        ]
    lines = ["interface exports:"]
    lines += _render_functions(interface.exports, qualify=False)
    if interface.imports:
        lines.append("interface imports:")
        lines += _render_functions(interface.imports, qualify=True)
    return lines + render_types(interface)


def _render_functions(funcs: tuple[Function, ...], *, qualify: bool) -> list[str]:
    lines = [] if funcs else ["  (none)"]
    for func in funcs:
        prefix = f"{func.module}." if qualify else ""
        lines.append(f"  {prefix}{func.signature()}")
        lines += [f"      {line}".rstrip() for line in func.doc.splitlines()]
    return lines


def _render_wasm(module: WasmModule) -> list[str]:
    lines = ["wasm exports:"]
    exported = [printable(e.name) for e in module.exports]
    width = max((len(name) for name in exported), default=0)
    for name, export in zip(exported, module.exports, strict=True):
        lines.append(f"  {name:<{width}}  {export.kind:<6}  {_export_type(module, export)}")
    if not module.exports:
        lines.append("  (none)")
    lines.append("wasm imports:")
    names = [printable(f"{i.module}.{i.name}") for i in module.imports]
    width = max((len(n) for n in names), default=0)
    for full, imp in zip(names, module.imports, strict=True):
        lines.append(f"  {full:<{width}}  {imp.kind:<6}  {_import_type(imp)}")
    if not module.imports:
        lines.append("  (none)")
    return lines


def _export_type(module: WasmModule, export: Export) -> str:
    if export.kind == "func":
        return str(module.func_type(export.index))
    if export.kind == "memory":
        imported = sum(1 for i in module.imports if i.kind == "memory")
        local = export.index - imported
        if 0 <= local < len(module.memories):
            return _limits(module.memories[local])
    return ""


def _import_type(imp: Import) -> str:
    if imp.type is not None:
        return str(imp.type)
    return _limits(imp.limits) if imp.limits is not None and imp.kind == "memory" else ""


def _limits(limits: tuple[int, int | None]) -> str:
    low, high = limits
    return f"{low} pages" + (f" (max {high})" if high is not None else "")


def _percent(size: int, sizes: SizeReport) -> str:
    return f"{100 * size / sizes.total:.1f}%" if sizes.total else ""


# -- JSON -------------------------------------------------------------------------


def module_json(report: ModuleReport) -> dict[str, Any]:
    """``inspect --json``: the same facts as the text, machine-readable."""
    interface = report.interface
    return {
        "file": report.name,
        "size": report.sizes.total,
        "interface": None
        if interface is None
        else {
            "version": interface.version,
            "exports": [_function_json(f) for f in interface.exports],
            "imports": [_function_json(f) for f in interface.imports],
            **types_json(interface),
        },
        "wasm": {
            "exports": [
                {"name": e.name, "kind": e.kind, "type": _export_type(report.module, e)}
                for e in report.module.exports
            ],
            "imports": [
                {"module": i.module, "name": i.name, "kind": i.kind, "type": _import_type(i)}
                for i in report.module.imports
            ],
        },
        "sizes": {
            "sections": [
                {"name": s.name, "custom": s.custom, "size": s.size} for s in report.sizes.sections
            ],
            "functions": [
                {"index": f.index, "name": f.name, "size": f.size} for f in report.sizes.functions
            ],
        },
    }


def _function_json(func: Function) -> dict[str, Any]:
    wasm = signature(func)
    data: dict[str, Any] = {
        "name": func.name,
        "signature": func.signature(),
        "params": [{"name": p.name, "type": str(p.type)} for p in func.params],
        "result": str(func.result),
        "doc": func.doc,
        "wasm_type": {"params": list(wasm.params), "results": list(wasm.results)},
    }
    if func.module:
        data["module"] = func.module
    return data


_ESCAPES = {"SP": "@", "BP": "*", "RF": "&", "LT": "<", "GT": ">", "LP": "(", "RP": ")", "C": ","}
_ESCAPE_RE = re.compile(r"\$(SP|BP|RF|LT|GT|LP|RP|C|u[0-9a-f]{2})\$")
_HASH_RE = re.compile(r"h[0-9a-f]{16}")


def demangle(symbol: str) -> str:
    """A Rust legacy symbol (``_ZN4core9panicking5panic17h…E``) as ``core::panicking::panic``.

    Other names come back unchanged.
    """
    core = re.sub(r"\.llvm\.\d+$", "", symbol)
    if not (core.startswith("_ZN") and core.endswith("E")):
        return symbol
    parts, rest = [], core[3:-1]
    while rest:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        if not digits:
            return symbol
        size = int(rest[:digits])
        parts.append(rest[digits : digits + size])
        rest = rest[digits + size :]
    if parts and _HASH_RE.fullmatch(parts[-1]):
        parts.pop()
    return "::".join(_unescape(p) for p in parts)


def _unescape(part: str) -> str:
    if part.startswith("_$"):
        part = part[1:]

    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        return _ESCAPES.get(code) or chr(int(code[1:], 16))

    return _ESCAPE_RE.sub(replace, part).replace("..", "::")
