"""The typed Python stub beside a built module: ``pkg/NAME.py`` and ``NAME.pyi``.

The stub gives an IDE and mypy the module's real signatures:

    from hello import load
    m = load(imports={"alert": print})
    m.add(5, 7)        # (a: int, b: int) -> int, with the Rust doc comment

``load`` calls ``wasmbridge.load`` on the .wasm beside the stub and returns
the module typed as a Protocol of its exports. ``Imports`` is a TypedDict
of the host functions the module needs. Types follow docs/abi.md.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass

from ..interface import Function, Interface, Type, WasmModule
from ..interface.types import FLOATS, Kind
from ._writer import Writer, camel_case, exported_functions, header

MAX_LINE = 99  # wrap longer signatures, one parameter per line
HOST_NAMESPACE = "env"  # imports from it are keyed by name alone
BYTES_IN = "bytes | bytearray | memoryview"
BYTES_INOUT = "bytearray | memoryview"
# Names the stub itself defines or imports; a Protocol named like one gets a suffix.
_STUB_NAMES = frozenset(
    {"Any", "Buffer", "Callable", "Imports", "Path", "Protocol", "Sequence", "TypedDict"}
    | {"TYPE_CHECKING", "WASM", "array", "cast", "load", "wasmbridge"}
)


@dataclass(frozen=True)
class PythonStub:
    """The generated ``.py`` and ``.pyi`` texts."""

    module: str
    py: str
    pyi: str


class _Uses:
    """Which imports the stub's annotations need."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def __call__(self, name: str) -> str:
        self.names.add(name)
        return name


def emit_python(
    module_name: str,
    wasm_name: str,
    interface: Interface | None,
    wasm: WasmModule,
    *,
    tool: str | None = None,
) -> PythonStub:
    """The stub for ``wasm_name`` (a file beside it) exposing ``load()``."""
    exports = exported_functions(interface, wasm)
    imports = sorted(interface.imports, key=_import_key) if interface else []
    protocol = camel_case(module_name) or "Module"
    if protocol in _STUB_NAMES or not protocol.isidentifier():
        protocol = f"{protocol}Module" if protocol.isidentifier() else "Module"
    parts = _Parts(wasm_name, protocol, exports, imports, header(wasm_name, interface, tool=tool))
    return PythonStub(module_name, parts.render(stub=False), parts.render(stub=True))


def _import_key(func: Function) -> str:
    """The key of a host function in ``imports=``: its name, or ``module.name``."""
    return func.name if func.module == HOST_NAMESPACE else f"{func.module}.{func.name}"


@dataclass
class _Parts:
    wasm_name: str
    protocol: str
    exports: list[Function]
    imports: list[Function]
    header: str

    def render(self, *, stub: bool) -> str:
        uses = _Uses()
        body = Writer()
        self._imports_typeddict(body, uses)
        self._protocol(body, uses, stub=stub)
        self._load(body, uses, stub=stub)
        w = Writer()
        w.line(f"# {self.header}")
        if not stub:
            w.line(f'"""Typed access to {self.wasm_name}: ``load()`` returns its exports."""')
            w.blank()
        w.line("from __future__ import annotations")
        w.blank()
        for line in _import_lines(uses.names, stub=stub):
            w.line(line)
        w.blank()
        w.line("WASM: Path" if stub else f'WASM = Path(__file__).with_name("{self.wasm_name}")')
        w.blank(2 if not stub else 1)
        w.line(body.text().rstrip("\n"))
        return w.text()

    def _imports_typeddict(self, w: Writer, uses: _Uses) -> None:
        if not self.imports:
            return
        uses("TypedDict")
        fields = [(_import_key(f), _callable(f, uses), f) for f in self.imports]
        if all(key.isidentifier() and not keyword.iskeyword(key) for key, _, _ in fields):
            w.line("class Imports(TypedDict):")
            with w.indent():
                w.line(f'"""The host functions {self.wasm_name} calls."""')
                for key, annotation, func in fields:
                    w.blank()
                    for line in _comment(func):
                        w.line(line)
                    w.line(f"{key}: {annotation}")
        else:
            w.line(f"# The host functions {self.wasm_name} calls.")
            w.line('Imports = TypedDict("Imports", {')
            with w.indent():
                for key, annotation, func in fields:
                    for line in _comment(func):
                        w.line(line)
                    w.line(f'"{key}": {annotation},')
            w.line("})")
        w.blank(2)

    def _protocol(self, w: Writer, uses: _Uses, *, stub: bool) -> None:
        uses("Protocol")
        w.line(f"class {self.protocol}(Protocol):")
        with w.indent():
            w.line(f'"""The exports of {self.wasm_name}."""')
            for func in self.exports:
                w.blank()
                self._method(w, uses, func, stub=stub)
        w.blank(2)

    def _method(self, w: Writer, uses: _Uses, func: Function, *, stub: bool) -> None:
        if not func.name.isidentifier() or keyword.iskeyword(func.name):
            w.line(f"# `{func.name}` is not a Python name: getattr(module, {func.name!r})")
            return
        params = ["self", *(f"{_param_name(p.name)}: {_param(p.type, uses)}" for p in func.params)]
        result = _result(func.result, uses)
        one_line = f"def {func.name}({', '.join(params)}) -> {result}:"
        if len(one_line) + 4 <= MAX_LINE:
            w.line(one_line)
        else:
            w.line(f"def {func.name}(")
            with w.indent():
                for param in params:
                    w.line(f"{param},")
            w.line(f") -> {result}:")
        with w.indent():
            w.line(_docstring(_export_doc(func)))
            if not stub:
                w.line("...")

    def _load(self, w: Writer, uses: _Uses, *, stub: bool) -> None:
        uses("Any")
        imports = "imports: Imports, " if self.imports else ""
        w.line(f"def load({imports}**options: Any) -> {self.protocol}:")
        with w.indent():
            w.line(
                _docstring(
                    f"Load {self.wasm_name} from beside this file.\n\n"
                    "``options`` are passed on to ``wasmbridge.load``."
                )
            )
            if stub:
                return
            uses("cast")
            if self.imports:
                uses("Callable")
                w.line("host: dict[str, Callable[..., object]] = {")
                with w.indent():
                    for func in self.imports:
                        w.line(f'"{_import_key(func)}": imports["{_import_key(func)}"],')
                w.line("}")
                call = "wasmbridge.load(WASM, imports=host, **options)"
            else:
                call = "wasmbridge.load(WASM, **options)"
            w.line(f'return cast("{self.protocol}", {call})')


def _import_lines(names: set[str], *, stub: bool) -> list[str]:
    lines = []
    if "array" in names:
        lines.append("import array")
    if "Callable" in names or "Sequence" in names:
        abc = sorted(names & {"Callable", "Sequence"})
        lines.append(f"from collections.abc import {', '.join(abc)}")
    lines.append("from pathlib import Path")
    typing = names & {"Any", "Protocol", "TypedDict", "cast"}
    if "Buffer" in names and not stub:
        typing.add("TYPE_CHECKING")
    lines.append(f"from typing import {', '.join(sorted(typing, key=_isort_key))}")
    if not stub:
        lines += ["", "import wasmbridge"]
    if "Buffer" in names:
        # Buffer (any object with the buffer protocol: numpy arrays too) is only
        # needed by type checkers; typing_extensions comes with them.
        lines += (
            ["", "from typing_extensions import Buffer"]
            if stub
            else ["", "if TYPE_CHECKING:", "    from typing_extensions import Buffer"]
        )
    return lines


def _isort_key(name: str) -> tuple[int, str]:
    """ruff's order within one import: CONSTANTS, then Classes, then functions."""
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return (kind, name)


def _number(kind: Kind) -> str:
    return "float" if kind in FLOATS else "bool" if kind is Kind.BOOL else "int"


def _param(t: Type, uses: _Uses) -> str:
    """What a caller may pass for a parameter of type ``t``."""
    if t.kind is Kind.OPTION:
        assert t.inner is not None
        return f"{_param(t.inner, uses)} | None"
    if t.kind in (Kind.STR, Kind.STRING):
        return "str"
    if t.kind in (Kind.SLICE, Kind.VEC, Kind.MUT_SLICE):
        assert t.inner is not None
        if t.inner.kind is Kind.U8:
            return BYTES_INOUT if t.kind is Kind.MUT_SLICE else BYTES_IN
        if t.kind is Kind.MUT_SLICE:
            return uses("Buffer")
        return f"{uses('Sequence')}[{_number(t.inner.kind)}] | {uses('Buffer')}"
    if t.kind is Kind.RESULT:
        assert t.inner is not None
        return _param(t.inner, uses)
    return "None" if t.kind is Kind.UNIT else _number(t.kind)


def _result(t: Type, uses: _Uses) -> str:
    """What a call returns (or a host function receives) for type ``t``."""
    if t.kind in (Kind.OPTION, Kind.RESULT):
        assert t.inner is not None
        inner = _result(t.inner, uses)
        return f"{inner} | None" if t.kind is Kind.OPTION else inner
    if t.kind in (Kind.STR, Kind.STRING):
        return "str"
    if t.kind in (Kind.SLICE, Kind.VEC, Kind.MUT_SLICE):
        assert t.inner is not None
        if t.inner.kind is Kind.U8:
            # &mut [u8] only reaches a host function: as a bytearray it may write to.
            return "bytearray" if t.kind is Kind.MUT_SLICE else "bytes"
        return f"{uses('array')}.array[{_number(t.inner.kind)}]"
    return "None" if t.kind is Kind.UNIT else _number(t.kind)


def _callable(func: Function, uses: _Uses) -> str:
    """A host function's type: it receives lifted values and returns lowerable ones."""
    params = ", ".join(_result(p.type, uses) for p in func.params)
    return f"{uses('Callable')}[[{params}], {_param(func.result, uses)}]"


def _param_name(name: str) -> str:
    return f"{name}_" if keyword.iskeyword(name) or name == "self" else name


def _export_doc(func: Function) -> str:
    lines = [func.doc.strip()] if func.doc.strip() else []
    lines.append(f"``{func.signature()}``")
    if func.result.kind is Kind.RESULT:
        lines.append("Raises wasmbridge.ReturnedError when it returns ``Err``.")
    return "\n\n".join(lines)


def _comment(func: Function) -> list[str]:
    lines = [f"# {func.module}.{func.signature()}"]
    lines += [f"# {line}".rstrip() for line in func.doc.strip().splitlines()]
    return lines


def _docstring(text: str) -> str:
    """A triple-quoted docstring holding ``text`` exactly."""
    body = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if body.endswith('"'):
        body = body[:-1] + '\\"'
    if "\n" not in body:
        return f'"""{body}"""'
    return f'"""{body}\n"""'
