"""A module's imports: planned once, defined once per engine, bound per instance.

``plan_imports`` reads what a module imports (besides WASI) when it is
compiled. ``LinkedModule`` defines each of those imports once in a
wasmtime linker as a store-independent host function and pre-instantiates
the module, so a new instance only needs a store. Those host functions
dispatch by store: a call finds its instance through the caller's store
context (``LIVE``) and runs that instance's own callback for the import
(``ImportPlan.callbacks``, made from the ``imports=`` of that instance).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import wasmtime

from ...errors import LinkError
from ...interface import abi
from ...interface.binary import FuncType, WasmModule
from ...interface.types import Function, Interface, shown
from .. import _capi
from .._words import listing
from ..bridge import imports
from ..sandbox import interrupt
from ..sandbox.wasi import MODULES as WASI_MODULES
from .exports import raw_problem

HostImports = Mapping[str, Any]
# (msg_ptr, msg_len, file_ptr, file_len, line, column), docs/abi.md "Panics".
PANIC_TYPE = FuncType(abi.PANIC_SIGNATURE.params, abi.PANIC_SIGNATURE.results)
# A supplied import: (namespace, name) from {"env": {"alert": f}}, or (None, key)
# from a flat {"alert": f} or {"env.alert": f}.
ImportKey = tuple[str | None, str]
# wasm-bindgen's imports: its module `__wbindgen_placeholder__` (`wbg` once its CLI ran)
# and names `__wbindgen_describe`, `__wbindgen_throw`, `__wbg_log_5bb5f88f245d7762`, ...
WBINDGEN_PREFIXES = ("__wbindgen_", "__wbg_")


class Dispatch(Protocol):
    """An instance as the shared host functions see it: one callback per import slot."""

    host_calls: list[_capi.HostCallback]


# Live instances by store context address: how a shared host function finds its caller's.
LIVE: weakref.WeakValueDictionary[int, Dispatch] = weakref.WeakValueDictionary()


@dataclass(frozen=True)
class ImportSlot:
    """One function import (a namespace and name) the host provides."""

    module: str
    name: str
    type: FuncType
    function: Function | None  # its description in the interface, if any
    panic: bool = False  # the SDK's panic hook, provided by wasmbridge itself

    def describe(self) -> str:
        if self.function is not None:
            return (
                f"`{shown(self.function.signature(), 200)}` "
                f"({shown(self.module)}.{shown(self.name)})"
            )
        return f"`{shown(self.module)}.{shown(self.name)}` {self.type}"


@dataclass(frozen=True)
class ImportPlan:
    """What a module imports, in its order; strings are imports no host can provide."""

    slots: tuple[ImportSlot, ...]
    order: tuple[int | str, ...]  # a slot index, or the description of an unprovidable import
    user_names: frozenset[str]
    name: str

    def callbacks(self, state: imports.HostState, host: HostImports) -> list[_capi.HostCallback]:
        """One instance's callback per slot, from its ``imports=``; raises LinkError.

        The imports are checked now; each callback is made when the guest first
        calls its import (most instances never panic, many never call back).
        """
        supplied = _flatten(host) if host else {}
        used: set[ImportKey] = set()
        missing: list[str] = []
        calls: list[_capi.HostCallback] = [_unset] * len(self.slots)
        for entry in self.order:
            if isinstance(entry, str):
                missing.append(entry)
                continue
            slot = self.slots[entry]
            if slot.panic:
                calls[entry] = _on_first_use(calls, entry, imports.panic_callback, state)
                continue
            if (slot.module, slot.name) == (abi.HOST_MODULE, abi.CALLBACK_IMPORT):
                # The SDK's callbacks (calls.py).
                calls[entry] = _on_first_use(calls, entry, imports.callback_host, state)
                continue
            target, key = _lookup(supplied, slot.module, slot.name)
            if target is None:
                missing.append(slot.describe())
                continue
            used.add(key)
            if not callable(target):
                raise LinkError(
                    f"{self.name}: import `{shown(slot.name)}` must be callable, "
                    f"got {type(target).__name__}",
                    hint=f"pass imports={{{slot.name!r}: some_function}}",
                )
            if slot.function is None and raw_problem(slot.type):
                self._callback(state, slot, target)  # raises the LinkError saying why
            calls[entry] = _on_first_use(calls, entry, self._callback, state, slot, target)
        unknown = sorted(_key_text(k) for k in set(supplied) - used) if supplied else ()
        if missing:
            count = f"{len(missing)} host functions" if len(missing) > 1 else "host function"
            raise LinkError(
                f"{self.name} needs {count} {listing(missing, 3, '; ')} "
                f"(imports supplied: {listing(sorted(_key_text(k) for k in supplied), 8)})",
                hint="pass them with wasmbridge.load(..., imports={'name': callable})",
            )
        if unknown:
            wanted = listing(sorted(shown(n) for n in self.user_names), 8) or "nothing"
            raise LinkError(
                f"{self.name} does not import {', '.join(unknown)} (it imports: {wanted})",
                hint="check the spelling of the names in imports={...}",
            )
        return calls  # every slot is in ``order``

    def _callback(
        self, state: imports.HostState, slot: ImportSlot, target: Callable[..., Any]
    ) -> _capi.HostCallback:
        if slot.function is not None:
            return imports.host_callback(state, slot.function, target)
        problem = raw_problem(slot.type)
        if problem:  # never build a wasmtime type for it: v128 crashes wasmtime-py
            raise LinkError(
                f"{self.name}: import `{slot.module}.{slot.name}` cannot be a Python function: "
                f"{problem}",
                hint="import it with numeric types only, or describe it with #[wasmbridge::import]",
            )
        label = f"{slot.module}.{slot.name}"
        return imports.raw_callback(state, label, slot.type.params, slot.type.results, target)


def _unset(env: int, caller: int, values: int, count: int) -> int:
    raise AssertionError("an import slot without a callback")  # every slot is in ``order``


def _on_first_use(
    calls: list[_capi.HostCallback], index: int, make: Callable[..., _capi.HostCallback], *args: Any
) -> _capi.HostCallback:
    """A callback that makes the real one (``make(*args)``) when it is first called, and
    puts it in its place in ``calls``."""

    def first(env: int, caller: int, values: int, count: int) -> int:
        made = calls[index] = make(*args)
        return made(env, caller, values, count)

    return first


def plan_imports(wasm: WasmModule, interface: Interface | None, name: str) -> ImportPlan:
    """The imports of a module, checked once; raises LinkError for an import no host fits."""
    refuse_wasm_bindgen(wasm, name)
    slots: list[ImportSlot] = []
    index: dict[tuple[str, str], int] = {}
    order: list[int | str] = []
    for imp in wasm.imports:
        if imp.module in WASI_MODULES:
            continue  # provided by the WASI configuration, if any
        if imp.kind != "func":
            order.append(f"{shown(imp.module)}.{shown(imp.name)} ({imp.kind})")
            continue
        assert imp.type is not None
        known = index.get((imp.module, imp.name))
        if known is not None:
            if slots[known].type != imp.type:
                raise LinkError(
                    f"{name} imports {shown(imp.module)}.{shown(imp.name)} twice, as "
                    f"{slots[known].type} and as {imp.type}; one host function cannot be both",
                    hint="give the two imports different names",
                )
            continue
        panic = imp.module == abi.HOST_MODULE and imp.name == abi.PANIC_IMPORT
        if panic and imp.type != PANIC_TYPE:
            raise LinkError(
                f"{name} imports {imp.module}.{imp.name} as {imp.type}; the SDK's "
                f"panic hook is {PANIC_TYPE}",
                hint="this module was not built by the wasmbridge SDK; rebuild it "
                "with `wasmbridge build`",
            )
        function = interface.import_(imp.module, imp.name) if interface else None
        index[(imp.module, imp.name)] = len(slots)
        order.append(len(slots))
        slots.append(ImportSlot(imp.module, imp.name, imp.type, function, panic))
    user = frozenset(s.name for s in slots if not s.panic)
    return ImportPlan(tuple(slots), tuple(order), user, name)


def refuse_wasm_bindgen(wasm: WasmModule, name: str) -> None:
    """One LinkError for a module that needs wasm-bindgen's JS glue, instead of a list of
    ``__wbindgen_*`` imports no host of ours provides."""
    found = [
        f"{shown(imp.module)}.{shown(imp.name)}"
        for imp in wasm.imports
        if imp.module.startswith(WBINDGEN_PREFIXES) or imp.name.startswith(WBINDGEN_PREFIXES)
    ]
    if found:
        raise LinkError(
            f"{name} was built with wasm-bindgen dependencies: it imports "
            f"{listing(found, 2)}, which only wasm-bindgen's JS glue provides",
            hint="turn off the features that pull wasm-bindgen in (a crate's `js` or "
            "`wasm-bindgen` feature, `getrandom/js`, web-sys, js-sys) and rebuild with "
            "`wasmbridge build`; wasmbridge modules do not use wasm-bindgen glue "
            "(`cargo tree -i wasm-bindgen` shows what depends on it)",
        )


class LinkedModule:
    """A compiled module with its imports defined once in a linker, pre-instantiated.

    Thread-safe: instantiating through ``pre`` only reads the linker.
    """

    def __init__(
        self, engine: wasmtime.Engine, compiled: wasmtime.Module, plan: ImportPlan
    ) -> None:
        self.engine = engine
        self.engine_at = _capi.engine_address(engine)
        self.linker = wasmtime.Linker(engine)
        self._funcs = define_slots(self.linker, plan)
        self.pre = self.linker.instantiate_pre(compiled)
        self.pre_at = _capi.pre_address(self.pre)  # valid as long as ``pre``


def define_slots(linker: wasmtime.Linker, plan: ImportPlan) -> list[_capi.LinkerFunc]:
    """Define every slot in ``linker`` as a dispatching host function; keep the result."""
    return [
        _capi.LinkerFunc(linker, slot.module, slot.name, functype(slot.type), _dispatcher(i))
        for i, slot in enumerate(plan.slots)
        if not raw_problem(slot.type)
    ]


def _dispatcher(slot: int) -> _capi.HostCallback:
    """The host function of one slot: runs the calling instance's own callback.

    A Ctrl-C that came during the call stops the guest here, before the
    import runs: code without epoch checks (no time limit) cannot be
    stopped anywhere else, and the export call then raises KeyboardInterrupt
    as a stopped call does (interrupt.py).
    """
    live = LIVE
    context = _capi.caller_context
    state = interrupt.state
    stop_requested = interrupt.stop_requested

    def dispatch(env: int, caller: int, values: int, count: int) -> int:
        try:
            if state.pending and stop_requested():
                return _capi.new_trap("wasmbridge: interrupted")
            calls = live[context(caller)].host_calls
            return calls[slot](env, caller, values, count)
        except BaseException:  # noqa: BLE001 - never unwind through wasmtime's frames
            return _capi.new_trap("wasmbridge: host function called from a closed instance")

    return dispatch


def functype(ftype: FuncType) -> wasmtime.FuncType:
    """The wasmtime type of a (numeric) wasm function type."""
    return wasmtime.FuncType(
        [_valtype(v) for v in ftype.params], [_valtype(v) for v in ftype.results]
    )


def _valtype(name: str) -> wasmtime.ValType:
    return {
        "i32": wasmtime.ValType.i32,
        "i64": wasmtime.ValType.i64,
        "f32": wasmtime.ValType.f32,
        "f64": wasmtime.ValType.f64,
    }[name]()


def _flatten(host: HostImports) -> dict[ImportKey, Any]:
    """Every supplied import under its key; namespaces stay apart from names, so
    ``{"a.b": {"c": f}}`` and ``{"a": {"b.c": g}}`` never stand for each other."""
    flat: dict[ImportKey, Any] = {}
    for key, value in host.items():
        if isinstance(value, Mapping):
            for name, target in value.items():
                flat[(str(key), str(name))] = target
        else:
            flat[(None, str(key))] = value
    return flat


def _lookup(supplied: dict[ImportKey, Any], module: str, name: str) -> tuple[Any, ImportKey]:
    """The namespaced entry first, then a flat ``"module.name"``, then a flat name."""
    for key in ((module, name), (None, f"{module}.{name}"), (None, name)):
        if key in supplied:
            return supplied[key], key
    return None, (None, "")


def _key_text(key: ImportKey) -> str:
    return shown(key[1]) if key[0] is None else f"{shown(key[0])}.{shown(key[1])}"
