"""Host functions written in JS: the import-object methods the guest calls.

Each lifts what the guest passes (numbers, text and numeric slices lent from
its memory, docs/abi.md "Imports"), calls the JS function and lowers its
result into the guest's return area; a ``&mut`` slice the function changed
is written back.
"""

from __future__ import annotations

from ..interface import Function, Type, abi
from ..interface.plan import SCALAR_FACTS
from ..interface.types import Kind
from . import _js_helpers as lib
from ._js_names import js_identifier, js_string, literal_key, member
from ._js_scalars import check_name, from_wire, slot_accessor, to_wire
from ._js_shim import at_offset
from ._writer import Helpers, Writer


class HostWrapper:
    """The import-object method that lifts a guest call for one host function."""

    def __init__(
        self, func: Function, key: str, helpers: Helpers, *, keeps_stack: bool = False
    ) -> None:
        self.func = func
        self.key = key
        self.helpers = helpers
        self.keeps_stack = keeps_stack  # the guest exports its shadow-stack pointer
        self.taken = set(lib.BODY_NAMES)
        self.wire: list[str] = ["retptr"] if abi.uses_retptr(func.result) else []
        self.before: list[str] = []
        self.after: list[str] = []
        self.what = f"the result of host function `{func.name}`"

    def need(self, name: str) -> str:
        return self.helpers.need(name)

    def lines(self) -> list[str]:
        args = [self._lift_param(p.name, p.type) for p in self.func.params]
        call = f"{member('host', self.key)}({', '.join(args)})"
        body = [*self.before, *self._result(call)]
        if self.keeps_stack:
            # Calls the host function makes into the guest are nested: one that fails puts
            # the stack pointer back to where this call found it.
            pointer = js_identifier("pointer", self.taken)
            enter = f"const {pointer} = {self.need('enterHost')}();"
            body = [enter, "try {", *(f"  {b}" for b in body), "} finally {"]
            body += [f"  leaveHost({pointer});", "}"]
        w = Writer(indent="  ")
        w.line(f"{literal_key(self.func.name)}({', '.join(self.wire)}) {{")
        with w.indent():
            for line in body:
                w.line(line)
        w.line("},")
        return w.text().rstrip("\n").split("\n")

    def _wire(self, name: str) -> str:
        wire = js_identifier(name, self.taken)
        self.wire.append(wire)
        return wire

    def _lift_param(self, name: str, t: Type) -> str:
        if t.kind is Kind.OPTION:
            assert t.inner is not None
            some = self._wire(f"{name}_some")
            inner = self._lift_param(name, t.inner)
            return f"{some} === 0 ? undefined : {inner}"
        if t.is_scalar:
            return from_wire(SCALAR_FACTS[t.kind], self._wire(name))
        ptr, length = self._wire(f"{name}_ptr"), self._wire(f"{name}_len")
        if t.kind in (Kind.STR, Kind.STRING):
            return f"{self.need('readText')}({ptr}, {length})"
        assert t.inner is not None
        array = SCALAR_FACTS[t.inner.kind].js_array
        read = f"{self.need('readArray')}({array}, {ptr}, {length})"
        if t.kind is not Kind.MUT_SLICE:
            return read
        copy = js_identifier(name, self.taken)
        self.before.append(f"const {copy} = {read};")
        self.after.append(f"{self.need('writeBack')}({ptr}, {copy});")
        return copy

    def _result(self, call: str) -> list[str]:
        t = self.func.result
        if t.kind is Kind.UNIT:
            return [f"{call};", *self.after]
        if not abi.uses_retptr(t):
            if self.after:
                lowered = self._to_wire(t.kind, "result")
                return [f"const result = {call};", *self.after, f"return {lowered};"]
            return [f"return {self._to_wire(t.kind, call)};"]
        return [f"const result = {call};", *self.after, *self._store(t, "result", "retptr", 0)]

    def _to_wire(self, kind: Kind, value: str) -> str:
        facts = SCALAR_FACTS[kind]
        checked = f"{self.need(check_name(facts))}({value}, {js_string(self.what)})"
        return to_wire(facts, checked)

    def _store(self, t: Type, value: str, base: str, offset: int) -> list[str]:
        at = at_offset(base, offset)
        what = js_string(self.what)
        if t.is_scalar:
            setter = slot_accessor(SCALAR_FACTS[t.kind])
            view = self.need("memoryView")
            return [f"{view}().set{setter}({at}, {self._to_wire(t.kind, value)}, true);"]
        if t.kind in (Kind.STR, Kind.STRING):
            return [f"{self.need('storeText')}({at}, {value}, {what});"]
        assert t.inner is not None
        if t.kind is Kind.VEC:
            if t.inner.kind is Kind.U8:
                data = f"{self.need('bytesOf')}({value}, {what})"
            else:
                facts = SCALAR_FACTS[t.inner.kind]
                check = self.need(check_name(facts))
                array = facts.js_array
                data = f"{self.need('arrayOf')}({value}, {array}, {check}, {what})"
            return [f"{self.need('storeArray')}({at}, {data}, {abi.element_size(t)});"]
        assert t.kind is Kind.OPTION
        view = self.need("memoryView")
        inner = self._store(t.inner, value, base, offset + 8)
        return [
            f"if ({value} == null) {{",
            f"  {view}().setUint32({at}, 0, true);",
            "} else {",
            f"  {view}().setUint32({at}, 1, true);",
            *(f"  {line}" for line in inner),
            "}",
        ]
