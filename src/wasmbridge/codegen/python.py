"""The typed Python stub beside a built module: ``pkg/NAME.py`` and ``NAME.pyi``.

The stub gives an IDE and mypy the module's real signatures:

    from hello import load
    m = load(imports={"alert": print})
    m.add(5, 7)        # (a: int, b: int) -> int, with the Rust doc comment

``load`` calls ``wasmbridge.load`` on the .wasm beside the stub and returns
the module typed as a Protocol of its exports. ``Imports`` is a TypedDict
of the host functions the module needs. Types follow docs/abi.md; the
module's records, enums and classes are declared too (_py_types.py), and
the .py gives records and enums at run time (``from geo import Point``).

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

from ..interface import Function, Interface, WasmModule
from ..interface.names import python_field_names, python_method_names
from ..interface.plan import plan_call
from ..interface.types import ClassDef, EnumDef, RecordDef
from ._py_annotations import TYPE_NAMES, Uses, param_type, result_type
from ._py_types import (
    TypeNames,
    docstring,
    escaped,
    method_doc,
    receiver,
    render_types,
    write_def,
)
from ._writer import Writer, camel_case, exported_functions, header

HOST_NAMESPACE = "env"  # imports from it are keyed by name alone
# Names the stub itself defines or imports; a Protocol named like one gets a suffix.
_STUB_NAMES = frozenset(
    {"Any", "Buffer", "Callable", "Imports", "Iterable", "Mapping", "Path", "Protocol"}
    | {"Sequence"}
    | {"TypedDict", "TYPE_CHECKING", "WASM", "array", "cast", "load", "wasmbridge"}
    | {"IntEnum", "TracebackType", "dataclass", "annotations"}
)
# Names the stub's annotations use, with where each comes from ("" for builtins).
_TYPE_NAMES = {
    **TYPE_NAMES,
    "IntEnum": "enum",
    "TracebackType": "types",
    "dataclass": "dataclasses",
}
# Attributes of wasmbridge.Instance (runtime/instance.py): an export named like one
# is reached through `exports[...]` (tests/unit/codegen checks the list).
MODULE_ATTRIBUTES = frozenset(
    {"_instance", "_module", "array", "close", "exports"}
    | {"interface", "memory_view", "module", "name", "prepare"}
)


@dataclass(frozen=True)
class PythonStub:
    """The generated ``.py`` and ``.pyi`` texts."""

    module: str
    py: str
    pyi: str


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
    types = TypeNames(
        interface, set(_STUB_NAMES) | {protocol} | {f.name for f in exports} | {module_name}
    )
    parts = _Parts(
        wasm_name,
        protocol,
        exports,
        imports,
        header(wasm_name, interface, tool=tool),
        types,
        interface,
    )
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


def _aliases(members: set[str], protocol: str, types: TypeNames) -> dict[str, str]:
    """A module-level alias for each type name a member's name would shadow."""
    taken = members | _STUB_NAMES | {protocol} | set(types.spelled) | set(types.aliases.values())
    aliases = {}
    for name in sorted(_TYPE_NAMES.keys() & members):
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
    types: TypeNames
    interface: Interface | None
    aliases: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        members = {f.name for f in self.exports if attribute_name(f.name)}
        self.aliases = _aliases(members | _class_members(self.types), self.protocol, self.types)

    def render(self, *, stub: bool) -> str:
        # Imported names are imported under their alias, so every body spells them so;
        # a builtin only in a body whose members shadow it. The module's own types go
        # through their aliases in the protocol (it has an attribute named like each).
        imported = {n: a for n, a in self.aliases.items() if _TYPE_NAMES[n]}
        methods = {f.name for f in self.exports if attribute_name(f.name)}
        shadowed = {n: a for n, a in self.aliases.items() if n in methods}
        enums = frozenset(d.name for d in self.types.definitions if isinstance(d, EnumDef))
        uses = Uses(imported | shadowed, self.types.aliased(), enums=enums)
        plain = uses.within(imported, self.types.spelled)
        types = Writer()
        render_types(types, self.types, plain, self.aliases, stub=stub)
        body = Writer()
        self._imports_typeddict(body, plain)
        self._protocol(body, uses, stub=stub)
        self._load(body, uses, stub=stub)
        if not stub:
            self._module_getattr(body, uses)
        w = Writer()
        w.line(f"# {self.header}")
        if not stub:
            w.line(f'"""Typed access to {self.wasm_name}: ``load()`` returns its exports."""')
            w.blank()
        w.line("from __future__ import annotations")
        w.blank()
        checking = self.types.definitions and not stub
        for line in _import_lines(uses.names, self.aliases, stub=stub, checking=bool(checking)):
            w.line(line)
        w.blank()
        w.line("WASM: Path" if stub else f'WASM = Path(__file__).with_name("{self.wasm_name}")')
        builtins = sorted(n for n in uses.names & self.aliases.keys() if not _TYPE_NAMES[n])
        if builtins:
            w.blank()
            w.line("# Members named like these builtins shadow them in the class bodies below.")
            for name in builtins:
                w.line(f"{self.aliases[name]} = {name}")
        if self.types.definitions:
            self._types(w, types, stub=stub)
        w.blank(2 if not stub else 1)
        w.line(body.text().rstrip("\n"))
        return w.text()

    def _types(self, w: Writer, types: Writer, *, stub: bool) -> None:
        """The records, enums and classes, then the aliases the protocol spells them by.

        In the .py they exist for type checkers only: at run time records and
        enums come from ``__getattr__`` below, classes from an instance.
        """
        aliases = [f"{a} = {n}" for n, a in sorted(self.types.aliases.items())]
        lines = [
            *types.text().rstrip("\n").split("\n"),
            "",
            "# The module's types as the protocol below spells them (its attributes have",
            "# their names).",
            *aliases,
        ]
        w.blank(2 if not stub else 1)
        if stub:
            for line in lines:
                w.line(line)
            return
        w.line("if TYPE_CHECKING:")
        with w.indent():
            for line in lines:
                w.line(line)

    def _imports_typeddict(self, w: Writer, uses: Uses) -> None:
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

    def _protocol(self, w: Writer, uses: Uses, *, stub: bool) -> None:
        uses("Protocol")
        w.line(f"class {self.protocol}(Protocol):")
        with w.indent():
            w.line(f'"""The exports of {self.wasm_name}."""')
            if not all(attribute_name(f.name) for f in self.exports):
                w.blank()
                mapping = f"{uses('Mapping')}[str, {uses('Callable')}[..., {uses('Any')}]]"
                w.line(f"exports: {mapping}")
                w.line('"""Every export by name, those Python cannot write as attributes too."""')
            types = [n for n in self.types.spelled if attribute_name(n)]
            if types:
                w.blank()
            for name in types:
                w.line(f"{name}: {uses('type')}[{uses.type(name)}]")
            for func in self.exports:
                w.blank()
                self._method(w, uses, func, stub=stub)
        w.blank(2)

    def _method(self, w: Writer, uses: Uses, func: Function, *, stub: bool) -> None:
        if not attribute_name(func.name):
            key = _py_string(func.name)
            w.line(f"# {key} is not usable as a Python attribute: call module.exports[{key}](...)")
            return
        plan = plan_call(func, self.interface)
        params = [
            receiver(list(plan.names)),
            *(f"{p.name}: {param_type(p.type, uses)}" for p in plan.params),
        ]
        doc = method_doc(func, self.types.values)
        write_def(w, func.name, params, result_type(func.result, uses), doc, stub=stub)

    def _load(self, w: Writer, uses: Uses, *, stub: bool) -> None:
        any_ = uses("Any")
        imports = "imports: Imports, " if self.imports else ""
        w.line(f"def load({imports}**options: {any_}) -> {self.protocol}:")
        with w.indent():
            w.line(
                docstring(
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

    def _module_getattr(self, w: Writer, uses: Uses) -> None:
        """``from geo import Point, Counter`` at run time: the compiled module's types."""
        names = sorted(n for n, _ in _named(self.types))
        if not names:
            return
        any_ = uses("Any")
        w.blank(2)
        w.line(f"def __getattr__(name: str) -> {any_}:")
        with w.indent():
            text = f"The records, enums and classes of {self.wasm_name}: those every instance uses."
            if any(isinstance(d, ClassDef) for _, d in _named(self.types)):
                text += (
                    "\n\nA class from here serves annotations and ``isinstance``;\n"
                    "its objects come from an instance: ``load().Name(...)``."
                )
            w.line(docstring(text))
            w.line(f"if name in {_py_set(names)}:")
            with w.indent():
                w.line("return getattr(wasmbridge.compile(WASM), name)")
            w.line('raise AttributeError(f"module {__name__!r} has no attribute {name!r}")')


def _named(types: TypeNames) -> list[tuple[str, RecordDef | EnumDef | ClassDef]]:
    return [(d.name, d) for d in types.definitions]


def _py_set(names: list[str]) -> str:
    return "{" + ", ".join(_py_string(n) for n in names) + "}"


def _class_members(types: TypeNames) -> set[str]:
    """Field and method names of the stub's records and classes (they may shadow types)."""
    found: set[str] = set()
    for definition in types.definitions:
        if isinstance(definition, ClassDef):
            found |= set(python_method_names([m.member for m in definition.methods]))
        elif isinstance(definition, RecordDef):
            found |= set(python_field_names([f.name for f in definition.fields]))
    return found


def _import_lines(
    names: set[str], aliases: dict[str, str], *, stub: bool, checking: bool = False
) -> list[str]:
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
    # Only type checkers read the module's own types in the .py: their imports with them.
    typing_only = [
        f"from {module} import {', '.join(found)}"
        for module in ("dataclasses", "enum")
        if (found := members(module))
    ]
    lines += typing_only if stub else []
    lines.append("from pathlib import Path")
    if traceback := members("types"):
        line = f"from types import {', '.join(traceback)}"
        if stub:
            lines.append(line)
        else:
            typing_only.append(line)
    extra = sorted(names & {"Protocol", "TypedDict", "cast"})
    if ("Buffer" in names or checking) and not stub:
        extra.append("TYPE_CHECKING")
    lines.append(f"from typing import {', '.join(members('typing', *extra))}")
    if not stub:
        lines += ["", "import wasmbridge"]
    if buffer := members("typing_extensions"):
        # Buffer (any object with the buffer protocol: numpy arrays too) is only
        # needed by type checkers; typing_extensions comes with them.
        line = f"from typing_extensions import {buffer[0]}"
        lines += ["", line] if stub else []
        typing_only.append(line)
    if typing_only and not stub:
        lines += ["", "if TYPE_CHECKING:", *(f"    {line}" for line in sorted(typing_only))]
    return lines


def _isort_key(name: str) -> tuple[int, str]:
    """ruff's order within one import: CONSTANTS, then Classes, then functions."""
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return (kind, name.split(" ")[0])


def _callable(func: Function, uses: Uses) -> str:
    """A host function's type: it receives lifted values and returns lowerable ones."""
    params = ", ".join(result_type(p.type, uses) for p in func.params)
    return f"{uses('Callable')}[[{params}], {param_type(func.result, uses)}]"


def _field_name(key: str) -> bool:
    """Whether a TypedDict key can be a class-form field (then shadowing no type name)."""
    return attribute_name(key) and key not in _TYPE_NAMES


def _py_string(text: str) -> str:
    """A double-quoted Python string literal (JSON's escapes are Python's too)."""
    return json.dumps(text, ensure_ascii=False)


def _comment(func: Function) -> list[str]:
    lines = [f"# {escaped(func.module)}.{escaped(func.signature())}"]
    lines += [f"# {escaped(line)}".rstrip() for line in func.doc.strip().splitlines()]
    return lines
