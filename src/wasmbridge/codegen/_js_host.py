"""Host functions written in JS: the import-object methods the guest calls.

Each lifts what the guest passes (numbers, text and numeric slices lent from
its memory, docs/abi.md "Imports"), calls the JS function and lowers its
result into the guest's return area; a ``&mut`` slice the function changed
is written back.
"""

from __future__ import annotations

from ..interface import Function, Interface
from ..interface.plan import Lifting, Lowering, ParamPlan, ResultPlan, ScalarFacts, plan_call
from . import _js_helpers as lib
from ._js_names import js_identifier, js_string, literal_key, member
from ._js_scalars import check_name, from_wire, slot_accessor, to_wire
from ._js_shim import at_offset
from ._writer import Helpers, Writer


class HostWrapper:
    """The import-object method that lifts a guest call for one host function."""

    def __init__(
        self,
        func: Function,
        interface: Interface | None,
        key: str,
        helpers: Helpers,
        *,
        keeps_stack: bool = False,
    ) -> None:
        self.plan = plan_call(func, interface)
        self.func = func
        self.key = key
        self.helpers = helpers
        self.keeps_stack = keeps_stack  # the guest exports its shadow-stack pointer
        self.taken = set(lib.BODY_NAMES)
        self.wire: list[str] = ["retptr"] if self.plan.retptr else []
        self.before: list[str] = []
        self.after: list[str] = []
        self.what = f"the result of host function `{func.name}`"

    def need(self, name: str) -> str:
        return self.helpers.need(name)

    def lines(self) -> list[str]:
        args = [self._lift_param(p.param.name, p) for p in self.plan.params]
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

    def _lift_param(self, name: str, param: ParamPlan) -> str:
        how = param.lowering
        if how is Lowering.OPTION:
            assert param.inner is not None
            some = self._wire(f"{name}_some")
            inner = self._lift_param(name, param.inner)
            return f"{some} === 0 ? undefined : {inner}"
        if how is Lowering.SCALAR:
            assert param.facts is not None
            return from_wire(param.facts, self._wire(name))
        ptr, length = self._wire(f"{name}_ptr"), self._wire(f"{name}_len")
        if how is Lowering.TEXT:
            return f"{self.need('readText')}({ptr}, {length})"
        assert how in (Lowering.BYTES, Lowering.ELEMENTS, Lowering.MUT_ELEMENTS)
        assert param.facts is not None
        read = f"{self.need('readArray')}({param.facts.js_array}, {ptr}, {length})"
        if how is not Lowering.MUT_ELEMENTS:
            return read
        copy = js_identifier(name, self.taken)
        self.before.append(f"const {copy} = {read};")
        self.after.append(f"{self.need('writeBack')}({ptr}, {copy});")
        return copy

    def _result(self, call: str) -> list[str]:
        result = self.plan.result
        if result.lifting is Lifting.NONE:
            return [f"{call};", *self.after]
        if not self.plan.retptr:
            assert result.facts is not None
            if self.after:
                lowered = self._to_wire(result.facts, "result")
                return [f"const result = {call};", *self.after, f"return {lowered};"]
            return [f"return {self._to_wire(result.facts, call)};"]
        return [f"const result = {call};", *self.after, *self._store(result, "result", "retptr")]

    def _to_wire(self, facts: ScalarFacts, value: str) -> str:
        checked = f"{self.need(check_name(facts))}({value}, {js_string(self.what)})"
        return to_wire(facts, checked)

    def _store(self, result: ResultPlan, value: str, base: str) -> list[str]:
        at = at_offset(base, result.offset)
        what = js_string(self.what)
        how = result.lifting
        if how is Lifting.SCALAR:
            assert result.facts is not None
            setter = slot_accessor(result.facts)
            view = self.need("memoryView")
            return [f"{view}().set{setter}({at}, {self._to_wire(result.facts, value)}, true);"]
        if how is Lifting.TEXT:
            return [f"{self.need('storeText')}({at}, {value}, {what});"]
        if how in (Lifting.BYTES, Lifting.ELEMENTS):
            facts = result.facts
            assert facts is not None
            if how is Lifting.BYTES:
                data = f"{self.need('bytesOf')}({value}, {what})"
            else:
                check = self.need(check_name(facts))
                data = f"{self.need('arrayOf')}({value}, {facts.js_array}, {check}, {what})"
            return [f"{self.need('storeArray')}({at}, {data}, {facts.size});"]
        assert how is Lifting.OPTION and result.inner is not None
        view = self.need("memoryView")
        inner = self._store(result.inner, value, base)
        return [
            f"if ({value} == null) {{",
            f"  {view}().setUint32({at}, 0, true);",
            "} else {",
            f"  {view}().setUint32({at}, 1, true);",
            *(f"  {line}" for line in inner),
            "}",
        ]
