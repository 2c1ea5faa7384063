"""TypeScript declarations of a module's records, enums and classes (for dts.py).

    export interface Point { x: number; y: number }
    export declare enum Shape { Circle = 0, Square = 1 }
    export declare class Counter { constructor(label: string, start: number); ... }

A record is an interface (the glue takes and returns plain objects); an
enum a ``declare enum``, which TypeScript reads from the frozen object the
glue exports; a class a ``declare class`` whose ``free()`` and
``[Symbol.dispose]()`` release its object.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..interface import ClassDef, EnumDef, Interface, Receiver, RecordDef
from ..interface.plan import CallPlan, Lifting, plan_call
from ._js_classes import constructor_of
from ._js_helpers import BODY_NAMES
from ._js_names import js_identifier, js_string, property_name
from ._ts_types import TsTypes
from ._writer import Writer

# `[Symbol.dispose]` needs Symbol.dispose typed; TypeScript 5.2's esnext.disposable
# declares it the same way, so the two merge, and older TypeScript gets it here.
SYMBOL_DISPOSE = """\
declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}"""


def doc_comment(w: Writer, text: str) -> None:
    """A JSDoc comment: ``/** text */`` when short, else one `` * line`` per line."""
    lines = [line.rstrip().replace("*/", "*\\/") for line in text.splitlines()]
    if len(lines) == 1 and len(lines[0]) < 87:
        w.line(f"/** {lines[0]} */")
        return
    w.line("/**")
    for line in lines:
        w.line(f" * {line}".rstrip())
    w.line(" */")


def param_names(names: list[str]) -> list[str]:
    """Parameter names as the glue's shims spell them (valid and distinct)."""
    taken = set(BODY_NAMES)
    return [js_identifier(name, taken) for name in names]


def declare_callable(
    w: Writer,
    plan: CallPlan,
    head: str,
    ts: TsTypes,
    *,
    returns: bool = True,
    consumes: bool = False,
) -> None:
    """A function or method declaration with its doc comment: ``head(params): result;``."""
    func = plan.function
    doc = [func.doc.strip()] if func.doc.strip() else []
    doc.append(f"`{func.signature()}`")
    if plan.result.lifting is Lifting.RESULT:
        doc.append("@throws {ReturnedError} when it returns `Err`")
    moved = ts.moves(plan)
    if moved or consumes:
        what = ["this object" if consumes else "", *(f"`{name}`" for name in moved)]
        spent = " and ".join(filter(None, what))
        doc.append(f"Moves {spent} into the module: using it afterwards throws HandleError.")
    doc_comment(w, "\n\n".join(doc))
    names = param_names([p.name for p in func.params])
    typed = [f"{name}: {ts.param(p)}" for name, p in zip(names, plan.params, strict=True)]
    result = f": {ts.result(plan.result)}" if returns else ""
    one_line = f"{head}({', '.join(typed)}){result};"
    if len(one_line) + 2 * w.depth <= 100:
        w.line(one_line)
        return
    w.line(f"{head}(")
    with w.indent():
        for param in typed:
            w.line(f"{param},")
    w.line(f"){result};")


def declare_types(w: Writer, interface: Interface, locals_: Mapping[str, str], ts: TsTypes) -> None:
    """Every record, enum and class of ``interface``, in name order."""
    if interface.classes:
        w.blank()
        w.line(SYMBOL_DISPOSE)
    defs: list[RecordDef | EnumDef | ClassDef] = [
        *interface.records,
        *interface.enums,
        *interface.classes,
    ]
    for item in sorted(defs, key=lambda d: d.name):
        local = locals_[item.name]
        w.blank()
        if item.doc.strip():
            doc_comment(w, item.doc.strip())
        exported = "export " if local == item.name else ""
        if isinstance(item, RecordDef):
            _record(w, item, f"{exported}interface {local}", ts)
        elif isinstance(item, EnumDef):
            _enum(w, item, f"{exported}declare enum {local}")
        else:
            _class(w, item, f"{exported}declare class {local}", interface, ts)


def _record(w: Writer, record: RecordDef, head: str, ts: TsTypes) -> None:
    w.line(f"{head} {{")
    with w.indent():
        for item in record.fields:
            optional, text = ts.field(item.type)
            w.line(f"{property_name(item.name)}{'?' if optional else ''}: {text};")
    w.line("}")


def _enum(w: Writer, enum: EnumDef, head: str) -> None:
    w.line(f"{head} {{")
    with w.indent():
        for case in enum.cases:
            key = case.name if property_name(case.name) == case.name else js_string(case.name)
            w.line(f"{key} = {case.value},")
    w.line("}")


def _class(w: Writer, cls: ClassDef, head: str, interface: Interface, ts: TsTypes) -> None:
    w.line(f"{head} {{")
    with w.indent():
        constructor = constructor_of(cls)
        if constructor is None:
            doc_comment(w, f"{cls.name} objects come from the module's functions, not `new`.")
            w.line("private constructor();")
        else:
            plan = plan_call(constructor.function, interface, constructor)
            declare_callable(w, plan, "constructor", ts, returns=False)
        for method in cls.methods:
            if method is constructor:
                continue
            static = method.receiver in (Receiver.STATIC, Receiver.CONSTRUCTOR)
            head_ = ("static " if static else "") + property_name(method.member)
            consumes = method.receiver is Receiver.OWNED
            plan = plan_call(method.function, interface, method)
            declare_callable(w, plan, head_, ts, consumes=consumes)
        doc_comment(
            w,
            f"Drops this {cls.name} in the module now (its `Drop` runs); later calls throw "
            "HandleError.",
        )
        w.line("free(): void;")
        doc_comment(w, "The same as free(), for `using` declarations.")
        w.line("[Symbol.dispose](): void;")
    w.line("}")
