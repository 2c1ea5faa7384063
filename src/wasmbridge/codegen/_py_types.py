"""The records, enums and classes of a module in the Python stub (python.py).

Records are frozen dataclasses, enums IntEnums with the Rust discriminants,
classes have their constructor as ``__init__``, static methods, methods,
``close()`` and the context manager protocol: what ``m.Point``, ``m.Shape``
and ``m.Counter`` are at run time (runtime/bridge/records.py, runtime/bridge/classes.py).
Field, case and method names are spelled by the rules the runtime uses
(interface/names.py); a name Python source cannot spell is left out, with
a comment saying how to reach it.
"""

from __future__ import annotations

import json
import keyword
import unicodedata
from collections.abc import Iterable

from ..interface.names import (
    python_case_names,
    python_field_names,
    python_method_names,
    python_param_names,
)
from ..interface.types import ClassDef, EnumDef, Function, Interface, Kind, Receiver, RecordDef
from ._py_annotations import TYPE_NAMES, Uses, given_type, param_type, result_type, value_type
from ._writer import Writer

MAX_LINE = 99  # wrap longer signatures, one parameter per line
# What every class wrapper has besides the module's methods (runtime/bridge/classes.py).
_WRAPPER_MEMBERS = ("__init__", "close", "__enter__", "__exit__")


def spellable(name: str) -> bool:
    """Whether Python source can spell ``name`` as it is (an attribute, a parameter)."""
    return (
        name.isidentifier()
        and not keyword.iskeyword(name)
        and unicodedata.normalize("NFKC", name) == name  # Python folds `ｆｏｏ` to `foo`
    )


class TypeNames:
    """How the stub spells each record, enum and class, and the aliases class bodies need.

    A type is declared under its own name when Python can spell it and it
    clashes with nothing the stub defines (``taken``); otherwise annotations
    use ``Any`` for it. Inside a class body whose members are named like a
    type (the protocol has an attribute per type), the type is spelled
    through a module-level alias, ``_Point = Point``.
    """

    def __init__(self, interface: Interface | None, taken: set[str]) -> None:
        self.definitions: list[RecordDef | EnumDef | ClassDef] = []
        self.spelled: dict[str, str] = {}
        found: list[RecordDef | EnumDef | ClassDef] = []
        if interface is not None:
            found = [*interface.records, *interface.enums, *interface.classes]
        for definition in sorted(found, key=lambda d: d.name):
            name = definition.name
            if (
                spellable(name)
                and not name.startswith("_")
                and name not in taken
                and name not in TYPE_NAMES
                and name not in self.spelled
            ):
                self.spelled[name] = name
                self.definitions.append(definition)
        # Records and enums: an error may cross as one of these (ReturnedError.value).
        self.values = {d.name for d in found if not isinstance(d, ClassDef)}
        self.aliases: dict[str, str] = {}
        used = taken | set(self.spelled)
        for name in self.spelled:
            alias = f"_{name}"
            while alias in used:
                alias += "_"
            used.add(alias)
            self.aliases[name] = alias

    def shadowed(self, members: Iterable[str]) -> dict[str, str]:
        """The spelling of each type in a class body with these members."""
        members = set(members)
        return {n: self.aliases[n] if s in members else s for n, s in self.spelled.items()}

    def aliased(self) -> dict[str, str]:
        """Every type through its alias (the protocol's body)."""
        return {name: self.aliases[name] for name in self.spelled}


def render_types(
    w: Writer, names: TypeNames, uses: Uses, builtin_aliases: dict[str, str], *, stub: bool
) -> None:
    """Every declarable record, enum and class, sorted by name."""
    for definition in names.definitions:
        if isinstance(definition, RecordDef):
            _record(w, definition, names, uses, builtin_aliases)
        elif isinstance(definition, EnumDef):
            _enum(w, definition, uses)
        else:
            _class(w, definition, names, uses, builtin_aliases, stub=stub)
        w.blank(2 if not stub else 1)


def _body_uses(
    uses: Uses, names: TypeNames, builtin_aliases: dict[str, str], members: Iterable[str]
) -> Uses:
    members = set(members)
    aliases = {n: a for n, a in builtin_aliases.items() if n in members or TYPE_NAMES[n]}
    return uses.within(aliases, names.shadowed(members))


def _record(
    w: Writer,
    record: RecordDef,
    names: TypeNames,
    uses: Uses,
    builtin_aliases: dict[str, str],
) -> None:
    attrs = python_field_names([f.name for f in record.fields])
    body = _body_uses(uses, names, builtin_aliases, attrs)
    if all(spellable(a) for a in attrs):
        w.line(f"@{uses('dataclass')}(frozen=True)")
        w.line(f"class {record.name}:")
        with w.indent():
            if record.doc.strip():
                w.line(docstring(record.doc.strip()))
                w.blank()
            read = [value_type(item.type, body) for item in record.fields]
            given = [given_type(item.type, body) for item in record.fields]
            for attr, spelled in zip(attrs, read, strict=True):
                w.line(f"{attr}: {spelled}")
            if given != read:  # the constructor takes more than the fields hold
                w.blank()
                w.line("def __init__(")
                with w.indent():
                    w.line("self,")
                    for attr, spelled in zip(attrs, given, strict=True):
                        w.line(f"{attr}: {spelled},")
                w.line(") -> None: ...")
        return
    # Fields Python cannot name: constructed positionally, read with getattr().
    w.line(f"class {record.name}:")
    with w.indent():
        doc = record.doc.strip()
        fields = ", ".join(json.dumps(a, ensure_ascii=False) for a in attrs)
        note = f"Fields (positional; getattr() reads them): {fields}."
        w.line(docstring(f"{doc}\n\n{note}" if doc else note))
        w.blank()
        any_ = body("Any")
        w.line(f"def __init__(self, *fields: {any_}) -> None: ...")
        w.line(f"def __getattr__(self, name: str) -> {any_}: ...")


def _enum(w: Writer, enum: EnumDef, uses: Uses) -> None:
    w.line(f"class {enum.name}({uses('IntEnum')}):")
    with w.indent():
        if enum.doc.strip():
            w.line(docstring(enum.doc.strip()))
            w.blank()
        members = python_case_names([c.name for c in enum.cases])
        for member, case in zip(members, enum.cases, strict=True):
            if spellable(member):
                w.line(f"{member} = {case.value}")
            else:
                key = json.dumps(member, ensure_ascii=False)
                w.line(f"# {escaped(key)} = {case.value} (reach it as {enum.name}[{escaped(key)}])")


def _class(
    w: Writer,
    cls: ClassDef,
    names: TypeNames,
    uses: Uses,
    builtin_aliases: dict[str, str],
    *,
    stub: bool,
) -> None:
    attrs = python_method_names([m.member for m in cls.methods])
    body = _body_uses(uses, names, builtin_aliases, [*attrs, *_WRAPPER_MEMBERS])
    own = body.type(cls.name)
    w.line(f"class {cls.name}:")
    with w.indent():
        w.line(
            docstring(cls.doc.strip() or f"An object of {cls.name} (its data stays in the guest).")
        )
        for method, attr in zip(cls.methods, attrs, strict=True):
            function = method.function
            doc = method_doc(function, names.values)
            if method.receiver is Receiver.CONSTRUCTOR:
                w.blank()
                write_def(w, "__init__", ["self", *_params(function, body)], "None", doc, stub=stub)
            if not spellable(attr):
                key = json.dumps(attr, ensure_ascii=False)
                w.blank()
                w.line(f"# {escaped(key)} is not usable as a Python attribute: use getattr()")
                continue
            static = method.receiver in (Receiver.STATIC, Receiver.CONSTRUCTOR)
            params = _params(function, body)
            if not static:
                params = [receiver(python_param_names(function)), *params]
            w.blank()
            if static:
                w.line("@staticmethod")
            write_def(w, attr, params, result_type(function.result, body), doc, stub=stub)
        w.blank()
        close = "Drop the object in the guest now; later use raises wasmbridge.HandleError."
        write_def(w, "close", ["self"], "None", close, stub=stub)
        w.blank()
        write_def(w, "__enter__", ["self"], own, "", stub=stub)
        w.blank()
        exit_params = [
            "self",
            f"kind: {body('type')}[BaseException] | None",
            "exc: BaseException | None",
            f"tb: {body('TracebackType')} | None",
        ]
        write_def(w, "__exit__", exit_params, "None", "", stub=stub)


def _params(function: Function, uses: Uses) -> list[str]:
    names = python_param_names(function)
    return [f"{n}: {param_type(p.type, uses)}" for n, p in zip(names, function.params, strict=True)]


def method_doc(function: Function, values: Iterable[str] = ()) -> str:
    """The Rust doc, the signature, and the error it raises (``values``: the records and
    enums an ``Err`` may carry as a value)."""
    lines = [function.doc.strip()] if function.doc.strip() else []
    lines.append(f"``{function.signature()}``")
    result = function.result
    if result.kind in (Kind.RESULT, Kind.RESULT_VALUE):
        line = "Raises wasmbridge.ReturnedError when it returns ``Err``"
        if result.kind is Kind.RESULT_VALUE and result.name in set(values):
            line += f"; its ``.value`` is the {result.name}"
        lines.append(line + ".")
    return "\n\n".join(lines)


def write_def(
    w: Writer, name: str, params: list[str], result: str, doc: str, *, stub: bool
) -> None:
    """``def name(params) -> result:`` with its docstring, wrapped past MAX_LINE."""
    one_line = f"def {name}({', '.join(params)}) -> {result}:"
    if len(one_line) + 4 * w.depth <= MAX_LINE:
        w.line(one_line)
    else:
        w.line(f"def {name}(")
        with w.indent():
            for param in params:
                w.line(f"{param},")
        w.line(f") -> {result}:")
    with w.indent():
        if doc:
            w.line(docstring(doc))
        if not stub or not doc:
            w.line("...")


def receiver(names: list[str]) -> str:
    """The method's own first parameter: ``self``, unless a parameter has that name."""
    name = "self"
    while name in names:
        name += "_"
    return name


def escaped(text: str) -> str:
    """``text`` with control characters as escapes, so it stays on its line."""
    return "".join(c if unicodedata.category(c) != "Cc" else ascii(c)[1:-1] for c in text)


def docstring(text: str) -> str:
    """A triple-quoted docstring holding ``text`` exactly (control characters escaped)."""
    body = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    body = "\n".join(escaped(line) for line in body.split("\n"))
    if body.endswith('"'):
        body = body[:-1] + '\\"'
    if "\n" not in body:
        return f'"""{body}"""'
    return f'"""{body}\n"""'
