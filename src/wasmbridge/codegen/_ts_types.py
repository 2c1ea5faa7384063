"""How each interface type is spelled in TypeScript (docs/abi.md, docs/abi-compound.md).

A whole parameter or result is spelled as its call plan crosses it: a
parameter accepts what the glue converts (an Array for a numeric slice,
``null`` for None), a result is what the glue returns (a typed array for a
top-level ``Vec<f64>``, ``undefined`` for None). Host functions see the
same plans from the other side. Inside records, tuples and lists, values
are spelled by their type (number lists are plain arrays there). Records,
enums and classes are spelled by the local name the declarations give them
(``names``).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..interface import Type
from ..interface.plan import (
    SCALAR_FACTS,
    CallPlan,
    Lifting,
    Lowering,
    ParamPlan,
    ResultPlan,
    ScalarFacts,
)
from ..interface.types import NAMED_KINDS, SEQUENCES, TEXT, Kind

BYTES_IN = "Uint8Array | ArrayBufferView | ArrayBuffer | readonly number[]"


def _element(text: str) -> str:
    """``text`` as an array's element type: unions and readonly arrays need parentheses."""
    return f"({text})" if "|" in text or text.startswith("readonly ") else text


def _numbers_in(facts: ScalarFacts) -> str:
    """A numeric buffer a caller passes: the typed array of the kind, or an Array."""
    return f"{facts.js_array} | readonly {facts.ts_type}[]"


def _js_array(facts: ScalarFacts | None) -> str:
    assert facts is not None
    return facts.js_array


class TsTypes:
    """TypeScript spellings of a module's types."""

    def __init__(self, names: Mapping[str, str] | None = None) -> None:
        self.names = names or {}

    def moves(self, plan: CallPlan) -> list[str]:
        """The parameters of a call that move a class object into the module."""
        return [p.param.name for p in plan.params if p.lowering is Lowering.HANDLE]

    # -- whole parameters and results, as their plans cross them ----------------------

    def param(self, plan: ParamPlan) -> str:
        """What a caller may pass for a parameter."""
        how = plan.lowering
        if how is Lowering.OPTION:
            assert plan.inner is not None
            return f"{self.param(plan.inner)} | null | undefined"
        if how is Lowering.BYTES:
            return BYTES_IN
        if how is Lowering.ELEMENTS:
            assert plan.facts is not None
            return _numbers_in(plan.facts)
        if how is Lowering.MUT_ELEMENTS:
            return _js_array(plan.facts)
        return self.value_in(plan.type)

    def result(self, plan: ResultPlan) -> str:
        """What a call returns."""
        how = plan.lifting
        if how is Lifting.OPTION:
            assert plan.inner is not None
            return f"{self.result(plan.inner)} | undefined"
        if how is Lifting.RESULT:
            assert plan.inner is not None
            return self.result(plan.inner)
        if how in (Lifting.BYTES, Lifting.ELEMENTS):
            return _js_array(plan.facts)
        return self.value_out(plan.type)

    def host_param(self, plan: ParamPlan) -> str:
        """What a host function receives for a parameter of its import."""
        how = plan.lowering
        if how is Lowering.OPTION:
            assert plan.inner is not None
            return f"{self.host_param(plan.inner)} | undefined"
        if how in (Lowering.BYTES, Lowering.ELEMENTS, Lowering.MUT_ELEMENTS):
            return _js_array(plan.facts)
        return self.value_out(plan.type)

    def host_result(self, plan: ResultPlan) -> str:
        """What a host function may return."""
        how = plan.lifting
        if how is Lifting.OPTION:
            assert plan.inner is not None
            return f"{self.host_result(plan.inner)} | null | undefined"
        if how is Lifting.BYTES:
            return BYTES_IN
        if how is Lifting.ELEMENTS:
            assert plan.facts is not None
            return _numbers_in(plan.facts)
        return self.value_in(plan.type)

    # -- values inside records, tuples and lists -----------------------------------------

    def value_in(self, t: Type) -> str:
        """What a caller may pass for ``t`` inside a value (or as a value crossing whole)."""
        kind = t.kind
        if kind is Kind.OPTION:
            assert t.inner is not None
            return f"{self.value_in(t.inner)} | null | undefined"
        if kind in SEQUENCES:
            assert t.inner is not None
            return f"readonly {_element(self.value_in(t.inner))}[]"
        if kind is Kind.TUPLE:
            return f"readonly [{', '.join(self.value_in(i) for i in t.items)}]"
        if kind is Kind.CALLBACK:
            assert t.inner is not None
            args = ", ".join(f"arg{i}: {self.value_out(a)}" for i, a in enumerate(t.items))
            returns = "void" if t.inner.kind is Kind.UNIT else self.value_in(t.inner)
            return f"({args}) => {returns}"
        return self._plain(t)

    def value_out(self, t: Type) -> str:
        """What comes back for ``t`` inside a value (or as a value crossing whole)."""
        kind = t.kind
        if kind is Kind.OPTION:
            assert t.inner is not None
            return f"{self.value_out(t.inner)} | undefined"
        if kind in SEQUENCES:
            assert t.inner is not None
            return f"{_element(self.value_out(t.inner))}[]"
        if kind is Kind.TUPLE:
            return f"[{', '.join(self.value_out(i) for i in t.items)}]"
        return self._plain(t)

    def field(self, t: Type) -> tuple[bool, str]:
        """(optional, type) of a record field: an option field may be left out."""
        if t.kind is Kind.OPTION:
            assert t.inner is not None
            return True, self.value_out(t.inner)
        return False, self.value_out(t)

    def _plain(self, t: Type) -> str:
        kind = t.kind
        if kind in SCALAR_FACTS:
            return SCALAR_FACTS[kind].ts_type
        if kind in TEXT:
            return "string"
        if kind in NAMED_KINDS:
            return self.names.get(t.name, t.name)
        if kind is Kind.UNIT:
            return "void"
        raise ValueError(f"`{t}` has no TypeScript spelling of its own")
