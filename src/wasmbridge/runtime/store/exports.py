"""Which exports become Python callables, decided once per compiled module.

``plan_exports`` reads the module's exports and interface: each function
export is either described by the interface, callable with the numeric
types of its wasm signature, or unsupported (with the reason, raised when
the attribute is used). Every instance of the module then generates its
callables from this plan, each on first use (``LazyFunctions``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ...errors import InterfaceError
from ...interface import abi
from ...interface.binary import FuncType, WasmModule
from ...interface.plan import VALTYPE_FACTS
from ...interface.types import Function, Interface, Kind, Param, Type

REACTOR_INIT = "_initialize"  # WASI reactors (libraries) export it, to be called once
# The kind a numeric wasm value crosses as, when only the wasm signature is known.
VALTYPE_KINDS: dict[str, Kind] = {valtype: f.kind for valtype, f in VALTYPE_FACTS.items()}
ALLOC_TYPE = FuncType(("i32", "i32"), ("i32",))
FREE_TYPE = FuncType(("i32", "i32", "i32"), ())


@dataclass(frozen=True)
class PlannedExport:
    """One callable export: its description and, for a raw multi-value export, its results."""

    function: Function
    raw_results: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExportPlan:
    """The callable exports of a module, and what the bridge needs from it."""

    functions: Mapping[str, PlannedExport]
    unsupported: Mapping[str, str]
    reactor_init: PlannedExport | None = None
    # Memory export plus an allocator pair of the SDK's types: data can cross.
    has_allocator: bool = False
    # Export and method callers (calls.CallerTemplate) by (export name, calls.CallShape):
    # written and compiled for the first instance that calls one, bound by every other.
    callers: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)


def plan_exports(wasm: WasmModule, interface: Interface | None, name: str) -> ExportPlan:
    """Every function export checked once; raises if one cannot work at all."""
    functions: dict[str, PlannedExport] = {}
    unsupported: dict[str, str] = {}
    described = {f.name: f for f in interface.exports} if interface else {}
    has_allocator = _has_allocator(wasm)
    methods = {n for c in interface.classes for n, _ in abi.class_exports(c)} if interface else ()
    for export in wasm.exports:
        if export.kind != "func" or export.name.startswith("__wb_") or export.name in methods:
            continue  # the allocator, and class methods (m.Counter, runtime/bridge/classes.py)
        ftype = wasm.func_type(export.index)
        func = described.get(export.name)
        if func is not None:
            if abi.needs_memory(func) and not has_allocator:
                raise InterfaceError(
                    f"{name}: `{func.name}` passes data through memory, but the module "
                    f"exports no memory or allocator ({abi.ALLOC_EXPORT}/{abi.FREE_EXPORT})",
                    hint="rebuild it with `wasmbridge build` (the SDK exports both)",
                )
            functions[export.name] = PlannedExport(func)
            continue
        problem = raw_problem(ftype)
        if problem:
            unsupported[export.name] = problem
            continue
        multi = ftype.results if len(ftype.results) > 1 else ()
        functions[export.name] = PlannedExport(raw_function(export.name, ftype), multi)
    # Only a `_initialize` of the reactor type () -> () is run; any other is an
    # ordinary export.
    reactor = wasm.export_type(REACTOR_INIT) == FuncType((), ())
    init = functions.pop(REACTOR_INIT, None) if reactor else None
    return ExportPlan(
        MappingProxyType(functions), MappingProxyType(unsupported), init, has_allocator
    )


def _has_allocator(wasm: WasmModule) -> bool:
    memory = any(e.name == abi.MEMORY_EXPORT and e.kind == "memory" for e in wasm.exports)
    return (
        memory
        and wasm.export_type(abi.ALLOC_EXPORT) == ALLOC_TYPE
        and wasm.export_type(abi.FREE_EXPORT) == FREE_TYPE
    )


def raw_problem(ftype: FuncType) -> str:
    """Why Python cannot call (or be) a function of this wasm type, or ''."""
    odd = [v for v in ftype.params + ftype.results if v not in VALTYPE_KINDS]
    if odd:
        uses = ", ".join(sorted(set(odd)))
        return f"its signature {ftype} uses {uses}, which Python calls cannot pass"
    return ""


def raw_function(name: str, ftype: FuncType) -> Function:
    """A description of a function known only by its (numeric) wasm type."""
    params = tuple(Param(f"p{i}", Type(VALTYPE_KINDS[v])) for i, v in enumerate(ftype.params))
    result = Type(VALTYPE_KINDS[ftype.results[0]]) if len(ftype.results) == 1 else Type(Kind.UNIT)
    return Function(name, params, result)


class LazyFunctions(Mapping[str, Callable[..., Any]]):
    """One instance's export callables by name, each generated on first access.

    Generating one costs ~0.1 ms; a module with many exports of which a
    request calls one (serving) should not pay for all of them.
    """

    def __init__(
        self,
        planned: Mapping[str, PlannedExport],
        build: Callable[[PlannedExport], Callable[..., Any]],
    ) -> None:
        self._planned = planned
        self._build = build
        self._built: dict[str, Callable[..., Any]] = {}

    def __getitem__(self, name: str) -> Callable[..., Any]:
        built = self._built.get(name)
        if built is None:
            built = self._built[name] = self._build(self._planned[name])
        return built

    def __iter__(self) -> Iterator[str]:
        return iter(self._planned)

    def forget(self) -> None:
        """Drop the callables generated so far (their instance is closing)."""
        self._built.clear()

    def __len__(self) -> int:
        return len(self._planned)

    def __contains__(self, name: object) -> bool:
        return name in self._planned
