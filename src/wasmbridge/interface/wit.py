"""A module's interface as a WIT world (the WebAssembly Component Model's IDL).

Every interface type has a WIT counterpart (docs/abi-compound.md, last
column). Records, enums and classes (as resources) go into an interface
``types`` that the world exports and uses; exported functions are the
world's ``export`` items and imported ones its ``import`` items, one inline
interface per import namespace. Names become WIT's kebab-case identifiers;
a type, parameter, field or case whose name WIT cannot spell (or that two
names would share) gets an invented name with a comment, and such a
function or import namespace is left out with a comment saying why, as is
a function or method taking a callback (WIT has no function values). The
output is only ever valid WIT: an interface that breaks the rules of
docs/abi-compound.md raises ``WitError``, as does a world name WIT cannot
spell.

    >>> print(to_wit(interface, "geo"))
    package wasmbridge:geo;
    ...
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from .plan import SCALAR_FACTS
from .rules import interface_problems
from .types import (
    ClassDef,
    EnumDef,
    Function,
    Interface,
    Kind,
    Method,
    Receiver,
    RecordDef,
    Type,
    shown,
)
from .wit_names import Scope, WitError, name_key, wit_name

__all__ = ["WitError", "to_wit", "wit_name"]

PACKAGE_NAMESPACE = "wasmbridge"
INDENT = "  "

_PRIMITIVES = {
    **{kind: facts.wit_name for kind, facts in SCALAR_FACTS.items()},
    Kind.STR: "string",
    Kind.STRING: "string",
}


def to_wit(iface: Interface, world_name: str) -> str:
    """The WIT package (``wasmbridge:<world>``) with one world describing ``iface``.

    Raises WitError when the interface breaks a rule of docs/abi-compound.md
    or WIT cannot spell ``world_name``.
    """
    problems = interface_problems(iface)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise WitError(f"the interface has no WIT form: {problems[0]}{more}")
    return _Printer(iface, world_name).package()


class _Printer:
    def __init__(self, iface: Interface, world_name: str) -> None:
        self.iface = iface
        world = wit_name(world_name)
        if world is None:
            raise WitError(
                f"the world name `{shown(world_name)}` cannot be spelled in WIT "
                "(ASCII letters, digits, `-` and `_`, starting with a letter)"
            )
        self.world = world
        self.lines: list[str] = []
        self.types = Scope()
        for index, item in enumerate(_type_defs(iface)):
            self.types.invented(item.name, f"type{index}")
        self.world_scope = Scope()
        # How a type is named inside the world (`use ... as ...` when a function has its name).
        self.aliases: dict[str, str] = {}

    # -- output ---------------------------------------------------------------------------

    def line(self, depth: int, text: str = "") -> None:
        self.lines.append(f"{INDENT * depth}{text}" if text else "")

    def docs(self, depth: int, doc: str) -> None:
        for text in doc.splitlines():
            self.line(depth, f"/// {_comment_text(text)}".rstrip())

    def package(self) -> str:
        self.line(0, f"package {PACKAGE_NAMESPACE}:{self.world.lstrip('%')};")
        type_defs = _type_defs(self.iface)
        types_name = "types"
        if type_defs:
            types_name = self._types_interface_name()
            self.line(0)
            self.line(0, f"interface {types_name} {{")
            self._type_defs()
            self.line(0, "}")
        self.line(0)
        self.line(0, f"world {self.world} {{")
        if type_defs:
            self._world_uses(types_name)
        self._imports(types_name)
        self._exports()
        self.line(0, "}")
        return "\n".join(self.lines) + "\n"

    def _types_interface_name(self) -> str:
        taken = self._world_names()
        name = "types"
        while name_key(name) in taken:
            name += "-x"
        self.world_scope.reserve(name)
        return name

    def _world_names(self) -> set[str]:
        """``name_key``s of the functions and import namespaces the world may name."""
        return _keys(
            [*(f.name for f in self.iface.exports), *(f.module for f in self.iface.imports)]
        )

    # -- type definitions -----------------------------------------------------------------

    def _type_defs(self) -> None:
        first = True
        for record in self.iface.records:
            first = self._gap(first)
            self._record(record)
        for enum in self.iface.enums:
            first = self._gap(first)
            self._enum(enum)
        for cls in self.iface.classes:
            first = self._gap(first)
            self._resource(cls)

    def _gap(self, first: bool) -> bool:
        if not first:
            self.line(1)
        return False

    def _type_note(self, name: str) -> None:
        note = self.types.rust_note(name)
        if note:
            self.line(1, f"// {note}")

    def _record(self, record: RecordDef) -> None:
        self.docs(1, record.doc)
        self._type_note(record.name)
        self.line(1, f"record {self.types.name(record.name)} {{")
        fields = Scope()
        for index, item in enumerate(record.fields):
            name = fields.invented(item.name, f"field{index}")
            note = fields.note(item.name)
            self.line(2, f"{name}: {self.type(item.type, local=True)},{note}")
        self.line(1, "}")

    def _enum(self, enum: EnumDef) -> None:
        self.docs(1, enum.doc)
        self._type_note(enum.name)
        self.line(1, f"enum {self.types.name(enum.name)} {{")
        cases = Scope()
        numbered = any(case.value != index for index, case in enumerate(enum.cases))
        for index, case in enumerate(enum.cases):
            name = cases.invented(case.name, f"case{index}")
            notes = [f"= {case.value}"] if numbered else []
            rust = cases.rust_note(case.name)
            notes += [rust] if rust else []
            comment = f" // {'; '.join(notes)}" if notes else ""
            self.line(2, f"{name},{comment}")
        self.line(1, "}")

    def _resource(self, cls: ClassDef) -> None:
        self.docs(1, cls.doc)
        self._type_note(cls.name)
        name = self.types.name(cls.name)
        if not cls.methods:
            self.line(1, f"resource {name};")
            return
        self.line(1, f"resource {name} {{")
        members = Scope()
        for method in cls.methods:
            self._method(cls, name, method, members)
        self.line(1, "}")

    def _method(self, cls: ClassDef, resource: str, method: Method, members: Scope) -> None:
        func = method.function
        callback = _callback_note(func)
        if callback:
            self.line(2, f"// method {_quoted(func.name)} is left out: {callback}")
            return
        member, why = members.pick(method.member)
        constructor = method.receiver is Receiver.CONSTRUCTOR
        if member is None and not constructor:
            self.line(2, f"// method {_quoted(func.name)} is left out: {why}")
            return
        self.docs(2, func.doc)
        params = self._params(func, local=True, depth=2)
        if constructor:
            self.line(2, f"constructor({params});")
            return
        result = self._result(func.result, local=True)
        if method.receiver is Receiver.STATIC:
            self.line(2, f"{member}: static func({params}){result};")
        elif method.receiver is Receiver.OWNED:
            owned = self._self_param(func)
            params = f"{owned}: {resource}" + (f", {params}" if params else "")
            self.line(2, f"/// Consumes the {shown(cls.name)} (`self`): it cannot be used after.")
            self.line(2, f"{member}: static func({params}){result};")
        else:
            self.line(2, f"{member}: func({params}){result};")

    def _self_param(self, func: Function) -> str:
        taken = _keys(p.name for p in func.params)
        name = "self"
        while name_key(name) in taken:
            name += "-x"
        return name

    # -- the world ------------------------------------------------------------------------

    def _world_uses(self, types_name: str) -> None:
        self.line(1, f"export {types_name};")
        functions = self._world_names()
        names: list[str] = []
        for item in _type_defs(self.iface):
            name = self.types.name(item.name)
            local = name
            while name_key(local) in functions or local in self.world_scope:
                local = f"{local.lstrip('%')}-type"
            self.world_scope.reserve(local, item.name)
            self.aliases[item.name] = local
            names.append(name if local == name else f"{name} as {local}")
        self.line(1, f"use {types_name}.{{{', '.join(names)}}};")

    def _imports(self, types_name: str) -> None:
        modules: dict[str, list[Function]] = {}
        for func in self.iface.imports:
            modules.setdefault(func.module, []).append(func)
        for module, funcs in modules.items():
            name, why = self.world_scope.pick(module)
            if name is None:
                self.line(1, f"// the imports of namespace {_quoted(module)} are left out: {why}")
                continue
            self.line(1, f"import {name}: interface {{")
            used = self._used_types(funcs)
            scope = Scope()
            if used:
                self.line(2, f"use {types_name}.{{{', '.join(used)}}};")
                for type_name in used:
                    scope.reserve(type_name)
            for func in funcs:
                fname, why = scope.pick(func.name)
                if fname is None:
                    self.line(2, f"// import {_quoted(func.name)} is left out: {why}")
                    continue
                self.docs(2, func.doc)
                params = self._params(func, local=True, depth=2)
                self.line(2, f"{fname}: func({params}){self._result(func.result, local=True)};")
            self.line(1, "}")

    def _used_types(self, funcs: Sequence[Function]) -> list[str]:
        found: dict[str, None] = {}
        for func in funcs:
            for t in (*(p.type for p in func.params), func.result):
                for name in _names_in(t):
                    if self.iface.type_def(name) is not None:
                        found.setdefault(self.types.name(name))
        return list(found)

    def _exports(self) -> None:
        for func in self.iface.exports:
            callback = _callback_note(func)
            if callback:
                self.line(1, f"// export {_quoted(func.name)} is left out: {callback}")
                continue
            name, why = self.world_scope.pick(func.name)
            if name is None:
                self.line(1, f"// export {_quoted(func.name)} is left out: {why}")
                continue
            self.docs(1, func.doc)
            params = self._params(func, local=False, depth=1)
            self.line(1, f"export {name}: func({params}){self._result(func.result, local=False)};")

    # -- types in signatures --------------------------------------------------------------

    def _params(self, func: Function, *, local: bool, depth: int) -> str:
        """The parameter list; a comment line (at ``depth``) for each invented name."""
        scope = Scope()
        parts = []
        for index, param in enumerate(func.params):
            name = scope.invented(param.name, f"p{index}")
            note = scope.rust_note(param.name)
            if note:
                self.line(depth, f"// parameter {name}: {note}")
            parts.append(f"{name}: {self.type(param.type, local=local)}")
        return ", ".join(parts)

    def _result(self, t: Type, *, local: bool) -> str:
        return "" if t.kind is Kind.UNIT else f" -> {self.type(t, local=local)}"

    def type(self, t: Type, *, local: bool) -> str:
        """The WIT spelling of ``t``; ``local`` inside the ``types`` interface (or an
        import's inline interface), else as the world names it."""
        kind = t.kind
        if kind in _PRIMITIVES:
            return _PRIMITIVES[kind]
        if kind in (Kind.SLICE, Kind.VEC, Kind.MUT_SLICE):
            assert t.inner is not None
            return f"list<{self.type(t.inner, local=local)}>"
        if kind is Kind.OPTION:
            assert t.inner is not None
            return f"option<{self.type(t.inner, local=local)}>"
        if kind is Kind.TUPLE:
            return f"tuple<{', '.join(self.type(item, local=local) for item in t.items)}>"
        if kind in (Kind.NAMED, Kind.BORROW):
            name = self.types.name(t.name) if local else self.aliases[t.name]
            borrowed = kind is Kind.BORROW and isinstance(self.iface.type_def(t.name), ClassDef)
            return f"borrow<{name}>" if borrowed else name
        if kind in (Kind.RESULT, Kind.RESULT_VALUE):
            assert t.inner is not None
            ok = "_" if t.inner.kind is Kind.UNIT else self.type(t.inner, local=local)
            return f"result<{ok}, {self._error(t, local=local)}>"
        raise WitError(f"`{shown(str(t))}` has no WIT form")

    def _error(self, t: Type, *, local: bool) -> str:
        found = self.iface.type_def(t.name) if t.kind is Kind.RESULT_VALUE else None
        if isinstance(found, RecordDef | EnumDef):
            return self.type(Type(Kind.NAMED, name=t.name), local=local)
        return "string"  # the error's message (Display)


def _keys(names: Iterable[str]) -> set[str]:
    return {name_key(wit) for wit in map(wit_name, names) if wit is not None}


def _callback_note(func: Function) -> str:
    """Why ``func`` has no WIT form because it takes a callback ("" when it takes none)."""
    for param in func.params:
        if param.type.kind is Kind.CALLBACK:
            return (
                f"its parameter {_quoted(param.name)} is a callback, and WIT has no function values"
            )
    return ""


def _quoted(name: str) -> str:
    return repr(shown(name, 60))


def _type_defs(iface: Interface) -> list[RecordDef | EnumDef | ClassDef]:
    return [*iface.records, *iface.enums, *iface.classes]


def _names_in(t: Type) -> Iterator[str]:
    if t.name:
        yield t.name
    if t.inner is not None:
        yield from _names_in(t.inner)
    for item in t.items:
        yield from _names_in(item)


def _comment_text(text: str) -> str:
    """A line of a module's doc text, safe inside a WIT comment (which refuses
    bidi overrides and control characters)."""
    return "".join(c if c.isprintable() else f"\\u{{{ord(c):x}}}" for c in text)
