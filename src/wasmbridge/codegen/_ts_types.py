"""How each interface type is spelled in TypeScript (docs/abi.md, docs/abi-compound.md).

A parameter accepts what the glue converts (an Array for a numeric slice,
``null`` for None, a readonly array for a list); a result is what the glue
returns (a typed array for a top-level ``Vec<f64>``, ``undefined`` for
None). Inside records, tuples and lists, numbers lists are plain arrays.
Records, enums and classes are spelled by the local name the declarations
give them (``names``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..interface import Function, Type
from ..interface.plan import SCALAR_FACTS
from ..interface.types import NUMBERS, SEQUENCES, Kind

BYTES_IN = "Uint8Array | ArrayBufferView | ArrayBuffer | readonly number[]"


def scalar(kind: Kind) -> str:
    return SCALAR_FACTS[kind].ts_type


def _element(text: str) -> str:
    """``text`` as an array's element type: unions and readonly arrays need parentheses."""
    return f"({text})" if "|" in text or text.startswith("readonly ") else text


class TsTypes:
    """TypeScript spellings of a module's types."""

    def __init__(self, names: Mapping[str, str] | None = None, classes: Iterable[str] = ()) -> None:
        self.names = names or {}
        self.classes = frozenset(classes)

    def moves(self, func: Function) -> list[str]:
        """The parameters of ``func`` that move a class object into the module."""
        return [
            p.name for p in func.params if p.type.kind is Kind.NAMED and p.type.name in self.classes
        ]

    def param(self, t: Type, *, nested: bool = False) -> str:
        """What a caller may pass for a parameter (or a host function may return)."""
        kind = t.kind
        if kind is Kind.OPTION:
            assert t.inner is not None
            return f"{self.param(t.inner, nested=nested)} | null | undefined"
        if kind in SEQUENCES and t.inner is not None and (nested or t.inner.kind not in NUMBERS):
            return f"readonly {_element(self.param(t.inner, nested=True))}[]"
        if kind in SEQUENCES:
            assert t.inner is not None
            array = SCALAR_FACTS[t.inner.kind].js_array
            if kind is Kind.MUT_SLICE:
                return array
            if t.inner.kind is Kind.U8:
                return BYTES_IN
            return f"{array} | readonly {scalar(t.inner.kind)}[]"
        if kind is Kind.TUPLE:
            return f"readonly [{', '.join(self.param(i, nested=True) for i in t.items)}]"
        if kind is Kind.CALLBACK:
            assert t.inner is not None
            args = ", ".join(
                f"arg{i}: {self.result(a, nested=True)}" for i, a in enumerate(t.items)
            )
            returns = "void" if t.inner.kind is Kind.UNIT else self.param(t.inner, nested=True)
            return f"({args}) => {returns}"
        return self._common(t, nested=nested)

    def result(self, t: Type, *, nested: bool = False) -> str:
        """What a call returns (or a host function receives)."""
        kind = t.kind
        if kind is Kind.OPTION:
            assert t.inner is not None
            return f"{self.result(t.inner, nested=nested)} | undefined"
        if kind in SEQUENCES and t.inner is not None and (nested or t.inner.kind not in NUMBERS):
            return f"{_element(self.result(t.inner, nested=True))}[]"
        if kind in SEQUENCES:
            assert t.inner is not None
            return SCALAR_FACTS[t.inner.kind].js_array
        if kind is Kind.TUPLE:
            return f"[{', '.join(self.result(i, nested=True) for i in t.items)}]"
        return self._common(t, nested=nested)

    def field(self, t: Type) -> tuple[bool, str]:
        """(optional, type) of a record field: an option field may be left out."""
        if t.kind is Kind.OPTION:
            assert t.inner is not None
            return True, self.result(t.inner, nested=True)
        return False, self.result(t, nested=True)

    def _common(self, t: Type, *, nested: bool) -> str:
        kind = t.kind
        if kind in (Kind.RESULT, Kind.RESULT_VALUE):
            assert t.inner is not None
            return self.result(t.inner, nested=nested)
        if kind in (Kind.STR, Kind.STRING, Kind.CHAR):
            return "string"
        if kind in (Kind.NAMED, Kind.BORROW):
            return self.names.get(t.name, t.name)
        return "void" if kind is Kind.UNIT else scalar(kind)
