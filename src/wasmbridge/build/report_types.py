"""``inspect``'s view of a module's records, enums and classes, and ``inspect --wit``.

Text and JSON list each type with its fields, cases and methods; ``--wit``
prints the interface as a WIT world (``interface.wit``). Names and docs
come from the module: report.py escapes every line before printing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InterfaceError
from ..interface import ClassDef, Interface, Method, Receiver
from ..interface.abi import DESTRUCTOR_SIGNATURE, Signature, method_signature
from ..interface.wit import WitError, to_wit, wit_name

_RECEIVERS = {
    Receiver.STATIC: "",
    Receiver.REF: "&self",
    Receiver.MUT: "&mut self",
    Receiver.CONSTRUCTOR: "",
    Receiver.OWNED: "self",
}


def render_types(interface: Interface) -> list[str]:
    """Lines for the records, enums and classes (none when the module has none)."""
    if not (interface.records or interface.enums or interface.classes):
        return []
    lines = ["interface types:"]
    for record in interface.records:
        lines.append(f"  record {record.name}")
        lines += _doc(record.doc, 6)
        lines += [f"    {f.name}: {f.type}" for f in record.fields]
    for enum in interface.enums:
        lines.append(f"  enum {enum.name}")
        lines += _doc(enum.doc, 6)
        lines += [f"    {case.name} = {case.value}" for case in enum.cases]
    for cls in interface.classes:
        lines.append(f"  class {cls.name}")
        lines += _doc(cls.doc, 6)
        for method in cls.methods:
            lines.append(f"    {_method_text(method)}")
            lines += _doc(method.function.doc, 8)
    return lines


def _method_text(method: Method) -> str:
    func = method.function
    receiver = _RECEIVERS[method.receiver]
    params = [receiver] if receiver else []
    params += [f"{p.name}: {p.type}" for p in func.params]
    result = "" if func.result.rust() == "()" else f" -> {func.result}"
    role = {Receiver.CONSTRUCTOR: "  (constructor)", Receiver.STATIC: "  (static)"}
    return f"{method.member}({', '.join(params)}){result}{role.get(method.receiver, '')}"


def _doc(doc: str, indent: int) -> list[str]:
    return [f"{' ' * indent}{line}".rstrip() for line in doc.splitlines()]


def types_json(interface: Interface) -> dict[str, Any]:
    """The ``records``, ``enums`` and ``classes`` keys of ``inspect --json``'s interface."""
    return {
        "records": [
            {
                "name": r.name,
                "doc": r.doc,
                "fields": [{"name": f.name, "type": str(f.type)} for f in r.fields],
            }
            for r in interface.records
        ],
        "enums": [
            {
                "name": e.name,
                "doc": e.doc,
                "cases": [{"name": c.name, "value": c.value} for c in e.cases],
            }
            for e in interface.enums
        ],
        "classes": [_class_json(c) for c in interface.classes],
    }


def _class_json(cls: ClassDef) -> dict[str, Any]:
    return {
        "name": cls.name,
        "doc": cls.doc,
        "destructor": {"name": cls.destructor, "wasm_type": _wasm_type(DESTRUCTOR_SIGNATURE)},
        "methods": [
            {
                "member": m.member,
                "receiver": m.receiver.name.lower(),
                "name": m.function.name,
                "signature": m.function.signature(),
                "params": [{"name": p.name, "type": str(p.type)} for p in m.function.params],
                "result": str(m.function.result),
                "doc": m.function.doc,
                "wasm_type": _wasm_type(method_signature(m)),
            }
            for m in cls.methods
        ],
    }


def _wasm_type(sig: Signature) -> dict[str, list[str]]:
    return {"params": list(sig.params), "results": list(sig.results)}


def wit_text(interface: Interface | None, file: str) -> str:
    """``inspect --wit``: the module's interface as a WIT package with one world,
    named after the file (``geo.wasm`` -> world ``geo``)."""
    if interface is None:
        raise InterfaceError(
            f"{file} has no wasmbridge interface section, so there is no WIT to show",
            hint="build the module with `wasmbridge build` (its #[wasmbridge::export] items "
            "make the interface)",
        )
    stem = Path(file).stem
    world = stem if wit_name(stem) is not None else "module"
    try:
        return to_wit(interface, world)
    except WitError as exc:  # the interface breaks the rules of docs/abi-compound.md
        raise InterfaceError(
            f"{file}: {exc}",
            hint="the SDK never writes such an interface: rebuild the module with "
            "`wasmbridge build`",
        ) from exc
