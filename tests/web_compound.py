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

from vector_values import callback, decode
from wasmbridge.interface import (
    EnumDef,
    Function,
    Interface,
    Receiver,
    RecordDef,
    Type,
    parse,
    read_interface,
)
from wasmbridge.interface.types import NUMBERS, SEQUENCES, Kind
from web_helpers import encode_value


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


# -- what the Python runtime does with the same cases, in the same notation ----------


class PythonHost:
    """Runs geo-style cases through the Python runtime; outcomes as compound.mjs's."""

    def __init__(self, wasm: Path) -> None:
        import wasmbridge

        self.module = wasmbridge.load(wasm)
        interface = read_interface(parse(wasm.read_bytes()))
        assert interface is not None
        self.interface = interface

    def outcome(self, case: dict[str, Any]) -> Any:
        if "script" in case:
            objects: dict[str, Any] = {}
            classes: dict[str, str] = {}
            return [self._step(step, objects, classes) for step in case["script"]]
        return self._step(case, {}, {})

    def _step(self, step: dict[str, Any], objects: dict[str, Any], classes: dict[str, str]) -> Any:
        import wasmbridge

        call, func = self._resolve(step, objects, classes)
        try:
            args = [self._value(a, objects) for a in step.get("args", [])]
            result = call(*args)
        except wasmbridge.ReturnedError as exc:
            if getattr(exc, "value", None) is not None:
                error_type = Type(Kind.NAMED, name=func.result.name)
                return {"error": "ReturnedError", "value": self.encode(exc.value, error_type)}
            return {"error": "ReturnedError", "message": exc.error}
        except wasmbridge.GuestPanic as exc:
            return {"error": "GuestPanic", "message": exc.panic_message, "file": exc.file}
        except wasmbridge.HandleError:
            return {"error": "HandleError"}
        except wasmbridge.Trap:
            return {"error": "Trap"}
        except (TypeError, ValueError, OverflowError):
            return {"error": "CallerError"}
        if "let" in step:
            objects[step["let"]] = result
            classes[step["let"]] = _class_name(func.result)
        return {"value": self.encode(result, func.result)}

    def _resolve(
        self, step: dict[str, Any], objects: dict[str, Any], classes: dict[str, str]
    ) -> tuple[Any, Function]:
        module = self.module
        if "close" in step:
            return objects[step["close"]].close, Function("close", ())
        if "new" in step:
            return getattr(module, step["new"]), self._method(step["new"], None)
        if "static" in step:
            call = getattr(getattr(module, step["static"]), step["call"])
            return call, self._method(step["static"], step["call"])
        if "on" in step:
            call = getattr(objects[step["on"]], step["call"])
            return call, self._method(classes[step["on"]], step["call"])
        func = self.interface.export(step["call"])
        assert func is not None, step["call"]
        return module.exports[step["call"]], func

    def _method(self, cls: str, member: str | None) -> Function:
        found = next(c for c in self.interface.classes if c.name == cls)
        for method in found.methods:
            constructor = member is None and method.receiver is Receiver.CONSTRUCTOR
            if constructor or method.member == member:
                return method.function
        raise AssertionError(f"no {cls}.{member}")

    def _value(self, v: Any, objects: dict[str, Any]) -> Any:
        if isinstance(v, list):
            return [self._value(item, objects) for item in v]
        if not isinstance(v, dict):
            return v
        if "callback" in v:
            return callback(v, lambda item: self._value(item, objects))
        if "record" in v:
            cls = getattr(self.module, v["record"])
            return cls(**{k: self._value(f, objects) for k, f in v["fields"].items()})
        if "enum" in v:
            return v["value"] if "value" in v else getattr(self.module, v["enum"])[v["case"]]
        if "tuple" in v:
            return tuple(self._value(item, objects) for item in v["tuple"])
        if "char" in v:
            return v["char"]
        if "var" in v:
            return objects[v["var"]]
        return decode(v)

    def encode(self, value: Any, t: Type, nested: bool = False) -> Any:
        """``value`` in the vector notation, by interface type (compound.mjs's ``out``)."""
        if value is None:
            return None
        if t.kind in (Kind.OPTION, Kind.RESULT, Kind.RESULT_VALUE):
            assert t.inner is not None
            return self.encode(value, t.inner, nested)
        if t.kind is Kind.NAMED:
            found = self.interface.type_def(t.name)
            if isinstance(found, RecordDef):
                fields = {
                    f.name: self.encode(getattr(value, f.name), f.type, True) for f in found.fields
                }
                return {"record": t.name, "fields": fields}
            if isinstance(found, EnumDef):
                return {"enum": t.name, "case": value.name}
            return {"object": type(value).__name__}
        if t.kind is Kind.TUPLE:
            return {"tuple": [self.encode(v, i, True) for v, i in zip(value, t.items, strict=True)]}
        if t.kind is Kind.CHAR:
            return {"char": value}
        if t.inner is not None and t.kind in SEQUENCES and (nested or t.inner.kind not in NUMBERS):
            return [self.encode(item, t.inner, True) for item in value]
        return encode_value(value, t)


def _class_name(t: Type) -> str:
    while t.kind is not Kind.NAMED and t.inner is not None:
        t = t.inner
    return t.name


def python_outcomes(wasm: Path, cases: list[dict[str, Any]]) -> list[Any]:
    """Each case's outcome through the Python runtime, on one instance."""
    host = PythonHost(wasm)
    return [host.outcome(case) for case in cases]
