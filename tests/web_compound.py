"""The interface of a module with records, enums and classes, for the JS harness.

tests/node/compound.mjs turns the shared vectors' notation into JS values by
interface type ({"record": "Point", ...} becomes a plain object whose i64
fields are bigints; {"enum": "Shape", "case": "Square"} the number
Shape.Square) and encodes what each call did back into that notation.
``write_interface_json`` writes what it needs beside the module:

    {"functions": {"mid": {"params": [T, T], "result": T}},
     "classes": {"Counter": {"incr": {"receiver": "mut", "params": [...], "result": T}}},
     "records": {"Point": [["x", T], ["y", T]]},
     "enums": {"Shape": [["Circle", 0], ["Square", 1], ["Triangle", 2]]}}

where T is ``{"kind": "named", "name": "Point"}``, ``{"kind": "tuple",
"items": [...]}``, ``{"kind": "vec", "inner": T}`` and so on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from wasmbridge.interface import Function, Interface, Type, parse, read_interface


def type_json(t: Type) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": t.kind.name.lower()}
    if t.inner is not None:
        out["inner"] = type_json(t.inner)
    if t.items:
        out["items"] = [type_json(item) for item in t.items]
    if t.name:
        out["name"] = t.name
    return out


def _signature(func: Function) -> dict[str, Any]:
    return {"params": [type_json(p.type) for p in func.params], "result": type_json(func.result)}


def interface_json(interface: Interface) -> dict[str, Any]:
    """The JSON form above."""
    return {
        "functions": {f.name: _signature(f) for f in interface.exports},
        "classes": {
            c.name: {
                m.member: {"receiver": m.receiver.name.lower(), **_signature(m.function)}
                for m in c.methods
            }
            for c in interface.classes
        },
        "records": {
            r.name: [[f.name, type_json(f.type)] for f in r.fields] for r in interface.records
        },
        "enums": {e.name: [[c.name, c.value] for c in e.cases] for e in interface.enums},
    }


def write_interface_json(wasm: Path) -> Path:
    """``interface.json`` beside ``wasm``."""
    interface = read_interface(parse(wasm.read_bytes()))
    assert interface is not None, f"{wasm} has no interface section"
    path = wasm.with_name("interface.json")
    path.write_text(json.dumps(interface_json(interface), indent=1), encoding="utf-8")
    return path
