"""The typed Python stub beside a built module: ``pkg/NAME.py`` and ``NAME.pyi``.

The stub gives an IDE and mypy the module's real signatures:

    from hello import load
    m = load(imports={"alert": print})
    m.add(5, 7)        # (a: int, b: int) -> int, with the Rust doc comment

``load`` calls ``wasmbridge.load`` on the .wasm beside the stub and returns
the module typed as a Protocol of its exports. ``Imports`` is a TypedDict
of the host functions the module needs. Types follow docs/abi.md.

Names come from the module, so the stub never trusts them: an export that
is no attribute Python can write (``class``, ``name``, ``__init__``) is
reachable through ``exports[...]`` instead of a method; a method named like
a type it uses (``int``, ``bytes``) makes the stub spell that type through
an alias (``_int = int``), since a class body's names shadow the builtins
for the annotations after it; texts in comments and docstrings are escaped.
"""

from __future__ import annotations

import json
import keyword
import unicodedata
from dataclasses import dataclass, field

from ..interface import Function, Interface, Type, WasmModule
from ..interface.types import FLOATS, Kind
from ._writer import Writer, camel_case, exported_functions, header

MAX_LINE = 99  # wrap longer signatures, one parameter per line
HOST_NAMESPACE = "env"  # imports from it are keyed by name alone
# Names the stub itself defines or imports; a Protocol named like one gets a suffix.
_STUB_NAMES = frozenset(
    {"Any", "Buffer", "Callable", "Imports", "Mapping", "Path", "Protocol", "Sequence"}
    | {"TypedDict", "TYPE_CHECKING", "WASM", "array", "cast", "load", "wasmbridge"}
)
# Names the stub's annotations use, with where each comes from ("" for builtins).
_TYPE_NAMES = {
    **dict.fromkeys(("bool", "bytearray", "bytes", "float", "int", "memoryview", "str"), ""),
    "Any": "typing",
    "Callable": "collections.abc",
    "Mapping": "collections.abc",
    "Sequence": "collections.abc",
    "Buffer": "typing_extensions",
    "array": "array",
}
# Attributes of wasmbridge.Instance (runtime/instance.py): an export named like one
# is reached through `exports[...]` (tests/unit/codegen checks the list).
MODULE_ATTRIBUTES = frozenset(
    {"_instance", "_module", "array", "close", "exports"}
    | {"interface", "memory_view", "module", "name"}
)


@dataclass(frozen=True)
class PythonStub:
    """The generated ``.py`` and ``.pyi`` texts."""

    module: str
    py: str
    pyi: str


class _Uses:
    """Which names the stub's annotations need, each spelled through its alias if any."""

    def __init__(self, aliases: dict[str, str]) -> None:
        self.names: set[str] = set()
        self.aliases = aliases

    def __call__(self, name: str) -> str:
        self.names.add(name)
        return self.aliases.get(name, name)


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


def attribute_name(name: str) -> bool:
    """Whether ``module.NAME`` reaches the export ``name`` (else ``exports[name]`` does)."""
    return (
        name.isidentifier()
        and not keyword.iskeyword(name)
        and unicodedata.normalize("NFKC", name) == name  # Python folds `ｆｏｏ` to `foo`
        and not (name.startswith("__") and name.endswith("__"))
        and name not in MODULE_ATTRIBUTES
    )


def _aliases(methods: set[str], protocol: str) -> dict[str, str]:
    """A module-level alias for each type name a method's name would shadow."""
    taken = methods | _STUB_NAMES | {protocol}
    aliases = {}
    for name in sorted(_TYPE_NAMES.keys() & methods):
        alias = f"_{name}"
        while alias in taken:
            alias += "_"
        taken.add(alias)
        aliases[name] = alias
    return aliases


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
    aliases: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        methods = {f.name for f in self.exports if attribute_name(f.name)}
        self.aliases = _aliases(methods, self.protocol)

    def render(self, *, stub: bool) -> str:
        uses = _Uses(self.aliases)
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
        for line in _import_lines(uses.names, self.aliases, stub=stub):
            w.line(line)
        w.blank()
        w.line("WASM: Path" if stub else f'WASM = Path(__file__).with_name("{self.wasm_name}")')
        builtins = sorted(n for n in uses.names & self.aliases.keys() if not _TYPE_NAMES[n])
        if builtins:
            w.blank()
            w.line("# Exports named like these builtins shadow them in the class body below.")
            for name in builtins:
                w.line(f"{self.aliases[name]} = {name}")
        w.blank(2 if not stub else 1)
        w.line(body.text().rstrip("\n"))
        return w.text()

    def _imports_typeddict(self, w: Writer, uses: _Uses) -> None:
        if not self.imports:
            return
        uses("TypedDict")
        fields = [(_import_key(f), _callable(f, uses), f) for f in self.imports]
        # The class form only when no key could shadow a type its annotations use.
        if all(_field_name(key) for key, _, _ in fields):
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
                    w.line(f"{_py_string(key)}: {annotation},")
            w.line("})")
        w.blank(2)

    def _protocol(self, w: Writer, uses: _Uses, *, stub: bool) -> None:
        uses("Protocol")
        w.line(f"class {self.protocol}(Protocol):")
        with w.indent():
            w.line(f'"""The exports of {self.wasm_name}."""')
            if not all(attribute_name(f.name) for f in self.exports):
                w.blank()
                mapping = f"{uses('Mapping')}[str, {uses('Callable')}[..., {uses('Any')}]]"
                w.line(f"exports: {mapping}")
                w.line('"""Every export by name, those Python cannot write as attributes too."""')
            for func in self.exports:
                w.blank()
                self._method(w, uses, func, stub=stub)
        w.blank(2)

    def _method(self, w: Writer, uses: _Uses, func: Function, *, stub: bool) -> None:
        if not attribute_name(func.name):
            key = _py_string(func.name)
            w.line(f"# {key} is not usable as a Python attribute: call module.exports[{key}](...)")
            return
        names = _param_names([p.name for p in func.params])
        params = [
            _receiver(names),
            *(f"{n}: {_param(p.type, uses)}" for n, p in zip(names, func.params, strict=True)),
        ]
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
        any_ = uses("Any")
        imports = "imports: Imports, " if self.imports else ""
        w.line(f"def load({imports}**options: {any_}) -> {self.protocol}:")
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
                w.line(f"host: dict[str, {uses('Callable')}[..., object]] = {{")
                with w.indent():
                    for func in self.imports:
                        key = _py_string(_import_key(func))
                        w.line(f"{key}: imports[{key}],")
                w.line("}")
                call = "wasmbridge.load(WASM, imports=host, **options)"
            else:
                call = "wasmbridge.load(WASM, **options)"
            w.line(f'return cast("{self.protocol}", {call})')


def _import_lines(names: set[str], aliases: dict[str, str], *, stub: bool) -> list[str]:
    def spelled(name: str) -> str:
        return f"{name} as {aliases[name]}" if name in aliases else name

    def members(module: str, *extra: str) -> list[str]:
        found = [n for n in names if _TYPE_NAMES.get(n) == module] + [*extra]
        return sorted(map(spelled, found), key=_isort_key)

    lines = []
    if "array" in names:
        lines.append(f"import {spelled('array')}")
    if abc := members("collections.abc"):
        lines.append(f"from collections.abc import {', '.join(abc)}")
    lines.append("from pathlib import Path")
    extra = sorted(names & {"Protocol", "TypedDict", "cast"})
    if "Buffer" in names and not stub:
        extra.append("TYPE_CHECKING")
    lines.append(f"from typing import {', '.join(members('typing', *extra))}")
    if not stub:
        lines += ["", "import wasmbridge"]
    if buffer := members("typing_extensions"):
        # Buffer (any object with the buffer protocol: numpy arrays too) is only
        # needed by type checkers; typing_extensions comes with them.
        line = f"from typing_extensions import {buffer[0]}"
        lines += ["", line] if stub else ["", "if TYPE_CHECKING:", f"    {line}"]
    return lines


def _isort_key(name: str) -> tuple[int, str]:
    """ruff's order within one import: CONSTANTS, then Classes, then functions."""
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return (kind, name.split(" ")[0])


def _number(kind: Kind, uses: _Uses) -> str:
    return uses("float" if kind in FLOATS else "bool" if kind is Kind.BOOL else "int")


def _bytes_in(uses: _Uses, *, mutable: bool) -> str:
    """What a u8 slice parameter accepts: ``bytes | bytearray | memoryview``."""
    names = ("bytearray", "memoryview") if mutable else ("bytes", "bytearray", "memoryview")
    return " | ".join(uses(name) for name in names)


def _param(t: Type, uses: _Uses) -> str:
    """What a caller may pass for a parameter of type ``t``."""
    if t.kind is Kind.OPTION:
        assert t.inner is not None
        return f"{_param(t.inner, uses)} | None"
    if t.kind in (Kind.STR, Kind.STRING):
        return uses("str")
    if t.kind in (Kind.SLICE, Kind.VEC, Kind.MUT_SLICE):
        assert t.inner is not None
        if t.inner.kind is Kind.U8:
            return _bytes_in(uses, mutable=t.kind is Kind.MUT_SLICE)
        if t.kind is Kind.MUT_SLICE:
            return uses("Buffer")
        return f"{uses('Sequence')}[{_number(t.inner.kind, uses)}] | {uses('Buffer')}"
    if t.kind is Kind.RESULT:
        assert t.inner is not None
        return _param(t.inner, uses)
    return "None" if t.kind is Kind.UNIT else _number(t.kind, uses)


def _result(t: Type, uses: _Uses) -> str:
    """What a call returns (or a host function receives) for type ``t``."""
    if t.kind in (Kind.OPTION, Kind.RESULT):
        assert t.inner is not None
        inner = _result(t.inner, uses)
        return f"{inner} | None" if t.kind is Kind.OPTION else inner
    if t.kind in (Kind.STR, Kind.STRING):
        return uses("str")
    if t.kind in (Kind.SLICE, Kind.VEC, Kind.MUT_SLICE):
        assert t.inner is not None
        if t.inner.kind is Kind.U8:
            # &mut [u8] only reaches a host function: as a bytearray it may write to.
            return uses("bytearray" if t.kind is Kind.MUT_SLICE else "bytes")
        return f"{uses('array')}.array[{_number(t.inner.kind, uses)}]"
    return "None" if t.kind is Kind.UNIT else _number(t.kind, uses)


def _callable(func: Function, uses: _Uses) -> str:
    """A host function's type: it receives lifted values and returns lowerable ones."""
    params = ", ".join(_result(p.type, uses) for p in func.params)
    return f"{uses('Callable')}[[{params}], {_param(func.result, uses)}]"


def _param_names(names: list[str]) -> list[str]:
    """The names the runtime accepts as keywords (runtime/calls.py, ``keyword_names``).

    A module's name when Python source could spell it (an identifier, in NFKC
    form, not a keyword, not taken), else ``p<index>``: ``from`` is ``p0``.
    """
    found: list[str] = []
    for index, param in enumerate(names):
        name = unicodedata.normalize("NFKC", param)
        if not name.isidentifier() or keyword.iskeyword(name) or name in found:
            name = f"p{index}"
            while name in found:
                name += "_"
        found.append(name)
    return found


def _receiver(names: list[str]) -> str:
    """The method's own first parameter: ``self``, unless a parameter has that name."""
    receiver = "self"
    while receiver in names:
        receiver += "_"
    return receiver


def _field_name(key: str) -> bool:
    """Whether a TypedDict key can be a class-form field (then shadowing no type name)."""
    return attribute_name(key) and key not in _TYPE_NAMES


def _py_string(text: str) -> str:
    """A double-quoted Python string literal (JSON's escapes are Python's too)."""
    return json.dumps(text, ensure_ascii=False)


def _escaped(text: str) -> str:
    """``text`` with control characters as escapes, so it stays on its line."""
    return "".join(c if unicodedata.category(c) != "Cc" else ascii(c)[1:-1] for c in text)


def _export_doc(func: Function) -> str:
    lines = [func.doc.strip()] if func.doc.strip() else []
    lines.append(f"``{func.signature()}``")
    if func.result.kind is Kind.RESULT:
        lines.append("Raises wasmbridge.ReturnedError when it returns ``Err``.")
    return "\n\n".join(lines)


def _comment(func: Function) -> list[str]:
    lines = [f"# {_escaped(func.module)}.{_escaped(func.signature())}"]
    lines += [f"# {_escaped(line)}".rstrip() for line in func.doc.strip().splitlines()]
    return lines


def _docstring(text: str) -> str:
    """A triple-quoted docstring holding ``text`` exactly (control characters escaped)."""
    body = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    body = "\n".join(_escaped(line) for line in body.split("\n"))
    if body.endswith('"'):
        body = body[:-1] + '\\"'
    if "\n" not in body:
        return f'"""{body}"""'
    return f'"""{body}\n"""'
