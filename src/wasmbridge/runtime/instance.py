"""One instantiated module: its store, imports, memory and export callables.

Each ``Instance`` owns a wasmtime ``Store``. Calls into it are guarded by
a single token: a call takes it, so a second thread waits instead of
entering the store concurrently, while a nested call from inside a host
import (same thread) proceeds. Taking and returning the token costs two
list operations, far less than a lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import wasmtime

from ..errors import InterfaceError, LinkError, ModuleError
from ..interface import abi
from ..interface.binary import FuncType, WasmModule
from ..interface.types import Function, Interface, Kind, Param, Type
from . import _capi, calls, imports, traps
from .engine import EngineSettings, get_engine
from .marshal import Marshal
from .memory import GuestMemory

NO_DEADLINE = 2**62  # epoch ticks: never, for stores without a time limit
WASI_MODULES = ("wasi_snapshot_preview1", "wasi_unstable")
_VALTYPE_KINDS = {"i32": Kind.I32, "i64": Kind.I64, "f32": Kind.F32, "f64": Kind.F64}

HostImports = Mapping[str, Any]


class Instance:
    """A live instance with its export callables in ``functions``."""

    def __init__(
        self,
        compiled: wasmtime.Module,
        wasm: WasmModule,
        interface: Interface | None,
        name: str,
        host: HostImports,
        settings: EngineSettings,
        configure_store: Callable[[wasmtime.Store, wasmtime.Linker], None] | None = None,
    ) -> None:
        self.name = name
        self.wasm = wasm
        self.interface = interface
        engine = get_engine(settings)
        self.store = wasmtime.Store(engine)
        self.store.set_epoch_deadline(NO_DEADLINE)
        self.ctx = _capi.context_address(self.store)
        self.failure = traps.FailureContext(name, wasm)
        self.callback_thread: int | None = None
        self.tokens: list[object] = [object()]
        self.memory: GuestMemory | None = None
        self.marshal: Marshal | None = None
        self.unsupported: dict[str, str] = {}
        self._host_funcs: list[_capi.HostFunc] = []
        linker = wasmtime.Linker(engine)
        if configure_store is not None:
            configure_store(self.store, linker)
        self._link(linker, host)
        raw = self._instantiate(linker, compiled)
        self.exports = raw.exports(self.store)
        self._bind_memory()
        self.functions = self._bind_functions()

    # -- linking ----------------------------------------------------------------------

    def _link(self, linker: wasmtime.Linker, host: HostImports) -> None:
        supplied = _flatten(host)
        used: set[str] = set()
        missing: list[str] = []
        for imp in self.wasm.imports:
            if imp.module in WASI_MODULES:
                continue  # provided by the WASI configuration, if any
            if imp.kind != "func":
                missing.append(f"{imp.module}.{imp.name} ({imp.kind})")
                continue
            if imp.module == abi.HOST_MODULE and imp.name == abi.PANIC_IMPORT:
                self._define(linker, imp.module, imp.name, imp.type, imports.panic_callback(self))
                continue
            target, key = _lookup(supplied, imp.module, imp.name)
            if target is None:
                missing.append(self._describe_import(imp.module, imp.name, imp.type))
                continue
            used.add(key)
            if not callable(target):
                raise LinkError(
                    f"{self.name}: import `{imp.name}` must be callable, got {type(target).__name__}",
                    hint=f"pass imports={{'{imp.name}': some_function}}",
                )
            self._define(
                linker,
                imp.module,
                imp.name,
                imp.type,
                self._callback(imp.module, imp.name, imp.type, target),
            )
        unknown = sorted(set(supplied) - used)
        if missing:
            names = ", ".join(sorted(supplied)) or "nothing"
            raise LinkError(
                f"{self.name} needs host function(s) {'; '.join(missing)} (imports supplied: {names})",
                hint="pass them with wasmbridge.load(..., imports={'name': callable})",
            )
        if unknown:
            wanted = ", ".join(sorted(i.name for i in self.wasm.imported_funcs)) or "nothing"
            raise LinkError(
                f"{self.name} does not import {', '.join(unknown)} (it imports: {wanted})",
                hint="check the spelling of the names in imports={...}",
            )

    def _describe_import(self, module: str, name: str, ftype: FuncType | None) -> str:
        func = self.interface.import_(module, name) if self.interface else None
        if func is not None:
            return f"`{func.signature()}` ({module}.{name})"
        return f"`{module}.{name}` {ftype}"

    def _callback(
        self, module: str, name: str, ftype: FuncType | None, target: Callable[..., Any]
    ) -> _capi.HostCallback:
        func = self.interface.import_(module, name) if self.interface else None
        assert ftype is not None
        if func is not None:
            _check_signature(self.name, func, ftype, "import")
            return imports.host_callback(self, func, target)
        return imports.raw_callback(self, f"{module}.{name}", ftype.params, ftype.results, target)

    def _define(
        self,
        linker: wasmtime.Linker,
        module: str,
        name: str,
        ftype: FuncType | None,
        callback: _capi.HostCallback,
    ) -> None:
        assert ftype is not None
        functype = wasmtime.FuncType(
            [_valtype(v) for v in ftype.params], [_valtype(v) for v in ftype.results]
        )
        host = _capi.HostFunc(self.store, functype, callback)
        self._host_funcs.append(host)
        linker.define(self.store, module, name, host.func)

    def _instantiate(self, linker: wasmtime.Linker, compiled: wasmtime.Module) -> wasmtime.Instance:
        try:
            return linker.instantiate(self.store, compiled)
        except wasmtime.Trap as trap:
            raise self._start_failure(trap) from None
        except wasmtime.WasmtimeError as err:
            raise _instantiation_error(self.name, err) from None

    def _start_failure(self, trap: wasmtime.Trap) -> BaseException:
        host_exc = self.failure.host_exception
        if host_exc is not None:
            self.failure.clear()
            return host_exc
        code = _capi.trap_code(trap)
        from ..errors import Trap

        text = traps.TRAP_TEXT.get(code or "", "") or str(trap).strip().splitlines()[-1]
        return Trap(f"{self.name}: the start function trapped: {text}", kind=code or "trap")

    # -- exports ----------------------------------------------------------------------

    def _bind_memory(self) -> None:
        memory = self.exports.get(abi.MEMORY_EXPORT)
        if not isinstance(memory, wasmtime.Memory):
            return
        self.memory = GuestMemory(_capi.Memory(self.store, memory), self, self.name)
        alloc = self._internal(abi.ALLOC_EXPORT, ("i32", "i32"), ("i32",))
        free = self._internal(abi.FREE_EXPORT, ("i32", "i32", "i32"), ())
        if alloc is None or free is None:
            return

        def alloc_unsigned(size: int, align: int) -> int:
            return int(alloc(size, align)) & 0xFFFFFFFF

        self.marshal = Marshal(self.memory, alloc_unsigned, free, self.name)

    def _internal(
        self, name: str, params: tuple[str, ...], results: tuple[str, ...]
    ) -> Callable[..., Any] | None:
        ftype = self.wasm.export_type(name)
        if ftype is None or ftype.params != params or ftype.results != results:
            return None
        func = _raw_function(name, ftype)
        return calls.build_export(func, self._site(name, guarded=False))

    def _site(self, name: str, guarded: bool = True) -> calls.CallSite:
        extern = self.exports[name]
        assert isinstance(extern, wasmtime.Func)
        return calls.CallSite(
            ctx=self.ctx,
            func=_capi.RawFunc(extern),
            module_name=self.name,
            fail=self.fail,
            enter=self.enter,
            tokens=self.tokens,
            marshal=self.marshal,
            guest_array=_guest_array_type(),
            guarded=guarded,
        )

    def _bind_functions(self) -> dict[str, Callable[..., Any]]:
        bound: dict[str, Callable[..., Any]] = {}
        described = {f.name: f for f in self.interface.exports} if self.interface else {}
        for export in self.wasm.exports:
            if export.kind != "func" or export.name.startswith("__wb_"):
                continue
            ftype = self.wasm.func_type(export.index)
            func = described.get(export.name)
            if func is not None:
                _check_signature(self.name, func, ftype, "export")
                if abi.needs_memory(func) and self.marshal is None:
                    raise InterfaceError(
                        f"{self.name}: `{func.name}` passes data through memory, but the module "
                        f"exports no memory or allocator ({abi.ALLOC_EXPORT}/{abi.FREE_EXPORT})",
                        hint="rebuild it with `wasmbridge build` (the SDK exports both)",
                    )
                bound[export.name] = calls.build_export(func, self._site(export.name))
                continue
            problem = _raw_problem(ftype)
            if problem:
                self.unsupported[export.name] = problem
                continue
            raw = _raw_function(export.name, ftype)
            bound[export.name] = calls.build_export(
                raw,
                self._site(export.name),
                raw_results=ftype.results if len(ftype.results) > 1 else (),
            )
        return bound

    # -- called from generated code -------------------------------------------------

    def fail(self, func: str, args: tuple[Any, ...], error: Any, trap: int) -> BaseException:
        return traps.failure(self.failure, calls.describe_call(func, args), error, trap)

    def enter(self) -> object | None:
        """Slow path of taking the call token: nested call or another thread."""
        if self.callback_thread == threading.get_ident():
            return None  # a host import calling back in: the outer call holds the token
        delay = 1e-5
        while True:
            try:
                return self.tokens.pop()
            except IndexError:
                time.sleep(delay)
                delay = min(delay * 2, 1e-3)

    # imports.HostState
    def memory_for(self, caller: int) -> GuestMemory:
        if self.memory is not None:
            return self.memory
        found = _capi.caller_memory(caller)
        if found is None:
            raise ModuleError(f"{self.name} passed a buffer to the host but exports no memory")
        return GuestMemory.fixed(found[0], found[1], self, self.name)

    def marshal_for(self, caller: int) -> Marshal:
        if self.marshal is None:
            raise ModuleError(
                f"{self.name}: a host import returns data but the module exports no allocator",
                hint="rebuild it with `wasmbridge build`",
            )
        return self.marshal


def _guest_array_type() -> type:
    from .arrays import GuestArray

    return GuestArray


def _flatten(host: HostImports) -> dict[str, Any]:
    """{'alert': f} and {'env': {'alert': f}} both become flat keys."""
    flat: dict[str, Any] = {}
    for key, value in host.items():
        if isinstance(value, Mapping):
            for name, target in value.items():
                flat[f"{key}.{name}"] = target
        else:
            flat[key] = value
    return flat


def _lookup(supplied: dict[str, Any], module: str, name: str) -> tuple[Any, str]:
    for key in (f"{module}.{name}", name):
        if key in supplied:
            return supplied[key], key
    return None, ""


def _valtype(name: str) -> wasmtime.ValType:
    return {
        "i32": wasmtime.ValType.i32,
        "i64": wasmtime.ValType.i64,
        "f32": wasmtime.ValType.f32,
        "f64": wasmtime.ValType.f64,
    }[name]()


def _raw_problem(ftype: FuncType) -> str:
    odd = [v for v in ftype.params + ftype.results if v not in _VALTYPE_KINDS]
    if odd:
        return f"its signature {ftype} uses {', '.join(sorted(set(odd)))}, which Python calls cannot pass"
    return ""


def _raw_function(name: str, ftype: FuncType) -> Function:
    params = tuple(Param(f"p{i}", Type(_VALTYPE_KINDS[v])) for i, v in enumerate(ftype.params))
    result = Type(_VALTYPE_KINDS[ftype.results[0]]) if len(ftype.results) == 1 else Type(Kind.UNIT)
    return Function(name, params, result)


def _check_signature(module: str, func: Function, ftype: FuncType, what: str) -> None:
    expected = abi.signature(func)
    if expected.params != ftype.params or expected.results != ftype.results:
        raise InterfaceError(
            f"{module}: the interface declares {what} `{func.signature()}` as "
            f"({', '.join(expected.params)}) -> ({', '.join(expected.results)}), "
            f"but the wasm {what} has type {ftype}",
            hint="the module was modified after it was built; rebuild it with `wasmbridge build`",
        )


def _instantiation_error(name: str, err: wasmtime.WasmtimeError) -> ModuleError:
    text = str(err).strip()
    first = text.splitlines()[0] if text else "instantiation failed"
    detail = " ".join(line.strip() for line in text.splitlines()[1:] if line.strip())
    if "memory" in text and ("minimum" in text or "limit" in text or "exceeds" in text):
        from ..errors import MemoryLimitExceeded

        return MemoryLimitExceeded(  # type: ignore[return-value]
            f"{name} cannot be instantiated: {first} {detail}".strip(),
            hint="raise the memory limit (Limits(memory_mb=...) or --max-memory)",
        )
    if "import" in text or "incompatible" in text:
        return LinkError(f"{name}: {first} {detail}".strip(), hint="check the imports you pass")
    return ModuleError(f"{name} cannot be instantiated: {first} {detail}".strip())
