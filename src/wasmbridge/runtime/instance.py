"""One instantiated module: its store, imports, memory and export callables.

Each ``Instance`` owns a wasmtime ``Store``. Calls into it are guarded by
a single token: a call takes it, so a second thread waits instead of
entering the store concurrently, while a nested call from inside a host
import (same thread) proceeds. Taking and returning the token costs two
list operations, far less than a lock.

With ``limits``, a ``CallGuard`` (guard.py) caps the store's memory and
tables and arms each call (``CallSite.before_call``) and the allocator
calls made while lowering arguments; with ``wasi`` grants, a
``WasiSession`` (wasi.py) configures WASI and links our host calls over
wasmtime's. Without either, the call path is exactly the unlimited one.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import wasmtime

from ..errors import InterfaceError, LinkError, MemoryLimitExceeded, ModuleError
from ..interface import abi
from ..interface.binary import FuncType, WasmModule
from ..interface.types import Function, Interface, Kind, Param, Type, shown
from . import _capi, calls, imports, interrupt, traps
from ._words import listing
from .engine import EngineSettings, get_engine
from .grants import Grants
from .guard import CallGuard, check_thread_stack
from .limits import WASM_PAGE, Limits, fmt_size, store_limits
from .marshal import Marshal
from .memory import GuestMemory
from .wasi import MODULES as WASI_MODULES
from .wasi import WasiSession

_VALTYPE_KINDS = {"i32": Kind.I32, "i64": Kind.I64, "f32": Kind.F32, "f64": Kind.F64}

HostImports = Mapping[str, Any]
# (msg_ptr, msg_len, file_ptr, file_len, line, column), docs/abi.md "Panics".
_PANIC_TYPE = FuncType(("i32",) * 6, ())
# By wasm stack size: a thread-local with a ``checked`` attribute on each thread
# whose stack fits it (an attribute read is the cheapest per-thread test).
_CHECKED_THREADS: dict[int, threading.local] = {}


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
        configure_store: Callable[[wasmtime.Store, wasmtime.Linker], object] | None = None,
        *,
        limits: Limits | None = None,
        wasi: Grants | None = None,
    ) -> None:
        self.name = name
        self.wasm = wasm
        self.interface = interface
        self.limits = limits
        self._wasm_stack = settings.max_wasm_stack
        self._checked_threads = _CHECKED_THREADS.setdefault(
            settings.max_wasm_stack, threading.local()
        )
        engine = get_engine(settings)
        self.store = wasmtime.Store(engine)
        self.ctx = _capi.context_address(self.store)
        interrupt.watch_store(self.store, self.ctx)  # Ctrl-C stops its guest calls
        self.failure = traps.FailureContext(name, wasm, limits)
        self.callback_thread: int | None = None
        self.callback_depth = 0  # host imports running on the stack, nested
        self.tokens: list[object] = [object()]
        # The guest's shadow-stack pointer (exported by SDK builds): restored
        # after a failed call, since a trap unwinds none of the guest's frames.
        self._stack_pointer: wasmtime.Global | None = None
        self._idle_stack = 0  # its value with no call running
        self._nested_stack: list[int | None] = []  # its value as each nested call began
        self.memory: GuestMemory | None = None
        self.marshal: Marshal | None = None
        self.unsupported: dict[str, str] = {}
        self._host_funcs: list[_capi.HostFunc] = []
        self.guard = (
            CallGuard(limits, self.store, self.ctx, name, self, self.failure) if limits else None
        )
        linker = wasmtime.Linker(engine)
        self.wasi: WasiSession | None = None
        if wasi is not None:
            self.wasi = WasiSession(wasi, self.failure, self.guard)
            self.wasi.configure(self.store, linker)
            self.wasi.override(wasm, lambda m, n, t, cb: self._define(linker, m, n, t, cb))
        # Kept alive with the instance: whatever the hook made for the store.
        self._configured = configure_store(self.store, linker) if configure_store else None
        self._link(linker, host)
        check_thread_stack(name, settings.max_wasm_stack)
        if self.guard is not None:
            self.guard.arm()  # a start function runs during instantiation
        raw = self._instantiate(linker, compiled)
        self.exports = raw.exports(self.store)
        self._bind_stack_pointer()
        self._bind_memory()
        self.functions = self._bind_functions()

    # -- linking ----------------------------------------------------------------------

    def _link(self, linker: wasmtime.Linker, host: HostImports) -> None:
        supplied = _flatten(host)
        used: set[ImportKey] = set()
        missing: list[str] = []
        for imp in self.wasm.imports:
            if imp.module in WASI_MODULES:
                continue  # provided by the WASI configuration, if any
            if imp.kind != "func":
                missing.append(f"{shown(imp.module)}.{shown(imp.name)} ({imp.kind})")
                continue
            if imp.module == abi.HOST_MODULE and imp.name == abi.PANIC_IMPORT:
                if imp.type != _PANIC_TYPE:
                    raise LinkError(
                        f"{self.name} imports {imp.module}.{imp.name} as {imp.type}; the SDK's "
                        f"panic hook is {_PANIC_TYPE}",
                        hint="this module was not built by the wasmbridge SDK; rebuild it "
                        "with `wasmbridge build`",
                    )
                self._define(linker, imp.module, imp.name, imp.type, imports.panic_callback(self))
                continue
            target, key = _lookup(supplied, imp.module, imp.name)
            if target is None:
                missing.append(self._describe_import(imp.module, imp.name, imp.type))
                continue
            used.add(key)
            if not callable(target):
                raise LinkError(
                    f"{self.name}: import `{shown(imp.name)}` must be callable, "
                    f"got {type(target).__name__}",
                    hint=f"pass imports={{{imp.name!r}: some_function}}",
                )
            self._define(
                linker,
                imp.module,
                imp.name,
                imp.type,
                self._callback(imp.module, imp.name, imp.type, target),
            )
        unknown = sorted(_key_text(k) for k in set(supplied) - used)
        if missing:
            count = f"{len(missing)} host functions" if len(missing) > 1 else "host function"
            raise LinkError(
                f"{self.name} needs {count} {listing(missing, 3, '; ')} "
                f"(imports supplied: {listing(sorted(_key_text(k) for k in supplied), 8)})",
                hint="pass them with wasmbridge.load(..., imports={'name': callable})",
            )
        if unknown:
            wanted = listing(sorted(shown(n) for n in _user_imports(self.wasm)), 8) or "nothing"
            raise LinkError(
                f"{self.name} does not import {', '.join(unknown)} (it imports: {wanted})",
                hint="check the spelling of the names in imports={...}",
            )

    def _describe_import(self, module: str, name: str, ftype: FuncType | None) -> str:
        func = self.interface.import_(module, name) if self.interface else None
        if func is not None:
            return f"`{shown(func.signature(), 200)}` ({shown(module)}.{shown(name)})"
        return f"`{shown(module)}.{shown(name)}` {ftype}"

    def _callback(
        self, module: str, name: str, ftype: FuncType | None, target: Callable[..., Any]
    ) -> _capi.HostCallback:
        func = self.interface.import_(module, name) if self.interface else None
        assert ftype is not None
        if func is not None:
            return imports.host_callback(self, func, target)
        problem = _raw_problem(ftype)
        if problem:  # never build a wasmtime type for it: v128 crashes wasmtime-py
            raise LinkError(
                f"{self.name}: import `{module}.{name}` cannot be a Python function: {problem}",
                hint="import it with numeric types only, or describe it with #[wasmbridge::import]",
            )
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
            raise traps.start_failure(self.failure, trap) from None
        except wasmtime.WasmtimeError as err:
            reported = traps.start_error(self.failure)
            if reported is not None:
                raise reported from None
            raise _instantiation_error(self.name, err, self.limits, self.wasm) from None

    # -- exports ----------------------------------------------------------------------

    def _bind_stack_pointer(self) -> None:
        sp = self.exports.get(abi.STACK_POINTER_EXPORT)
        if not isinstance(sp, wasmtime.Global):
            return
        gtype = sp.type(self.store)
        if not gtype.mutable or str(gtype.content) != "i32":
            return
        self._stack_pointer = sp
        self._idle_stack = int(sp.value(self.store))

    def _bind_memory(self) -> None:
        memory = self.exports.get(abi.MEMORY_EXPORT)
        if not isinstance(memory, wasmtime.Memory):
            return
        raw_memory = _capi.Memory(self.store, memory)
        self.memory = GuestMemory(raw_memory, self, self.name)
        self.failure.memory_size = raw_memory.size
        alloc = self._internal(abi.ALLOC_EXPORT, ("i32", "i32"), ("i32",))
        free = self._internal(abi.FREE_EXPORT, ("i32", "i32", "i32"), ())
        if alloc is None or free is None:
            return
        if self.guard is not None:
            alloc, free = _armed(self.guard, alloc), _armed(self.guard, free)

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
            leave=self.leave,
            tokens=self.tokens,
            marshal=self.marshal,
            guest_array=_guest_array_type(),
            guarded=guarded,
            before_call=self.guard.arm if self.guard is not None else None,
            checked_threads=self._checked_threads if self.guard is None else None,
            check_thread=self._check_thread if self.guard is None else None,
        )

    def _check_thread(self) -> None:
        """Refuse a thread whose stack cannot hold the wasm stack (calls without limits:
        with limits, ``CallGuard.arm`` checks it). Threads that pass are remembered."""
        check_thread_stack(self.name, self._wasm_stack)
        self._checked_threads.checked = True

    def _bind_functions(self) -> LazyFunctions:
        """Check every export now; generate each callable on its first use."""
        builders: dict[str, Callable[[], Callable[..., Any]]] = {}
        described = {f.name: f for f in self.interface.exports} if self.interface else {}
        for export in self.wasm.exports:
            if export.kind != "func" or export.name.startswith("__wb_"):
                continue
            ftype = self.wasm.func_type(export.index)
            func = described.get(export.name)
            if func is not None:
                if abi.needs_memory(func) and self.marshal is None:
                    raise InterfaceError(
                        f"{self.name}: `{func.name}` passes data through memory, but the module "
                        f"exports no memory or allocator ({abi.ALLOC_EXPORT}/{abi.FREE_EXPORT})",
                        hint="rebuild it with `wasmbridge build` (the SDK exports both)",
                    )
                builders[export.name] = functools.partial(self._build, func, ())
                continue
            problem = _raw_problem(ftype)
            if problem:
                self.unsupported[export.name] = problem
                continue
            multi = ftype.results if len(ftype.results) > 1 else ()
            builders[export.name] = functools.partial(
                self._build, _raw_function(export.name, ftype), multi
            )
        return LazyFunctions(builders)

    def _build(self, func: Function, raw_results: tuple[str, ...]) -> Callable[..., Any]:
        return calls.build_export(func, self._site(func.name), raw_results=raw_results)

    # -- called from generated code -------------------------------------------------

    def fail(self, func: str, args: tuple[Any, ...], error: Any, trap: int) -> BaseException:
        self._restore_stack()
        call = calls.describe_call(func, args)
        if func in (abi.ALLOC_EXPORT, abi.FREE_EXPORT):
            # Not a call the user made: the host moves arguments and arrays with it.
            call = f"the module's allocator ({call}, called to place arguments or arrays)"
        return traps.failure(self.failure, call, error, trap)

    def _restore_stack(self) -> None:
        """Put the guest's stack pointer back where the failed call found it."""
        sp = self._stack_pointer
        if sp is None:
            return
        if self.callback_thread == threading.get_ident():
            # A nested call failed (or the allocator, inside a host import):
            # the outer call's frames are still live.
            value = self._nested_stack[-1] if self._nested_stack else None
        else:
            value = self._idle_stack
        if value is not None:
            sp.set_value(self.store, wasmtime.Val.i32(value))

    def enter(self) -> object | None:
        """Slow path of taking the call token: nested call or another thread."""
        if self.callback_thread == threading.get_ident():
            # A host import calling back in: the outer call holds the token.
            imports.check_python_headroom(self.name)
            sp = self._stack_pointer
            self._nested_stack.append(int(sp.value(self.store)) if sp is not None else None)
            return None
        delay = 1e-5
        while True:
            try:
                return self.tokens.pop()
            except IndexError:
                time.sleep(delay)
                delay = min(delay * 2, 1e-3)

    def leave(self) -> None:
        """The end of a nested call (one that ``enter`` let in without a token)."""
        if self._nested_stack:
            self._nested_stack.pop()

    def acquire(self) -> object | None:
        """Take the call token for host-side work in the guest (the allocator)."""
        try:
            return self.tokens.pop()
        except IndexError:
            return self.enter()

    def release(self, token: object | None) -> None:
        if token is not None:
            self.tokens.append(token)
        else:
            self.leave()

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


def _armed(guard: CallGuard, internal: Callable[..., Any]) -> Callable[..., Any]:
    """The allocator, armed first: it runs while arguments are lowered, before the call's
    own arming, and after a call that used up its deadline or fuel."""

    def call(*args: Any) -> Any:
        guard.arm()
        return internal(*args)

    return call


class LazyFunctions(Mapping[str, Callable[..., Any]]):
    """Export callables by name, each generated on first access.

    Generating one costs ~0.1 ms; a module with many exports of which a
    request calls one (serving) should not pay for all of them.
    """

    def __init__(self, builders: dict[str, Callable[[], Callable[..., Any]]]) -> None:
        self._builders = builders
        self._built: dict[str, Callable[..., Any]] = {}

    def __getitem__(self, name: str) -> Callable[..., Any]:
        built = self._built.get(name)
        if built is None:
            built = self._built[name] = self._builders[name]()
        return built

    def __iter__(self) -> Iterator[str]:
        return iter(self._builders)

    def __len__(self) -> int:
        return len(self._builders)

    def __contains__(self, name: object) -> bool:
        return name in self._builders

    def pop(self, name: str, default: Any = None) -> Any:
        if name not in self._builders:
            return default
        value = self[name]
        del self._builders[name], self._built[name]
        return value


def _guest_array_type() -> type:
    from .arrays import GuestArray

    return GuestArray


def _user_imports(wasm: WasmModule) -> set[str]:
    """The imports a caller can supply: not the SDK's own panic hook, not WASI."""
    return {
        i.name
        for i in wasm.imported_funcs
        if i.module not in WASI_MODULES
        and not (i.module == abi.HOST_MODULE and i.name == abi.PANIC_IMPORT)
    }


# A supplied import: (namespace, name) from {"env": {"alert": f}}, or (None, key)
# from a flat {"alert": f} or {"env.alert": f}.
ImportKey = tuple[str | None, str]


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
        uses = ", ".join(sorted(set(odd)))
        return f"its signature {ftype} uses {uses}, which Python calls cannot pass"
    return ""


def _raw_function(name: str, ftype: FuncType) -> Function:
    params = tuple(Param(f"p{i}", Type(_VALTYPE_KINDS[v])) for i, v in enumerate(ftype.params))
    result = Type(_VALTYPE_KINDS[ftype.results[0]]) if len(ftype.results) == 1 else Type(Kind.UNIT)
    return Function(name, params, result)


_DECLARED = re.compile(r"(memory|table) minimum size of (\d+) (pages|elements) exceeds")
_NO_ADDRESS_SPACE = re.compile(r"mmap failed to reserve (0x[0-9a-f]+|\d+) bytes")


def _instantiation_error(
    name: str, err: wasmtime.WasmtimeError, limits: Limits | None, wasm: WasmModule | None = None
) -> ModuleError | MemoryLimitExceeded:
    text = str(err).strip()
    first = text.splitlines()[0] if text else "instantiation failed"
    detail = " ".join(line.strip() for line in text.splitlines()[1:] if line.strip())
    declared = _DECLARED.search(text)
    if declared is not None:
        return _declared_too_large(name, declared[1], int(declared[2]), limits, wasm)
    reserve = _NO_ADDRESS_SPACE.search(text)
    if reserve is not None:
        return _no_address_space(name, int(reserve[1], 0), limits)
    if "import" in text or "incompatible" in text:
        hint = "check the imports you pass"
        if any(module in text for module in WASI_MODULES):
            hint = "wasmbridge provides WASI preview1 (wasi_snapshot_preview1) to wasm32-wasi"
        return LinkError(f"{name}: {first} {detail}".strip(), hint=hint)
    return ModuleError(f"{name} cannot be instantiated: {first} {detail}".strip())


def _declared_too_large(
    name: str, what: str, minimum: int, limits: Limits | None, wasm: WasmModule | None = None
) -> MemoryLimitExceeded:
    """A module declaring more memory or table space than its limits allow.

    The limits are totals; with several memories (or tables) each may use
    a share of them (limits.store_limits), which the message spells out.
    """
    caps = store_limits(limits, wasm) if limits is not None and wasm is not None else None
    if what == "memory":
        cap = limits.memory_bytes if limits is not None else None
        shown = fmt_size(cap) if cap is not None else "engine"
        count = caps["memories"] if caps is not None else 1
        if count > 1 and caps is not None:
            return MemoryLimitExceeded(
                f"{name} cannot be instantiated: one of its {count} linear memories declares "
                f"{_pages(minimum)}, over the {fmt_size(caps['memory_size'])} each may use: its "
                f"{shown} memory limit is shared by all of them",
                hint="raise Limits(memory_mb=...) or --max-memory",
            )
        return MemoryLimitExceeded(
            f"{name} cannot be instantiated: it declares {_pages(minimum)} of linear memory, "
            f"over its {shown} memory limit",
            hint="raise Limits(memory_mb=...) or --max-memory",
        )
    tables = limits.table_cap if limits is not None else None
    shown = f"{tables:,}-element" if tables is not None else "engine"
    count = caps["tables"] if caps is not None else 1
    if count > 1 and caps is not None:
        return MemoryLimitExceeded(
            f"{name} cannot be instantiated: one of its {count} tables declares {minimum:,} "
            f"elements, over the {caps['table_elements']:,} each may use: its {shown} table "
            "limit is shared by all of them",
            hint="raise Limits(table_elements=...) or --max-table",
        )
    return MemoryLimitExceeded(
        f"{name} cannot be instantiated: it declares a table of {minimum:,} elements, over "
        f"its {shown} table limit",
        hint="raise Limits(table_elements=...) or --max-table",
    )


def _pages(count: int) -> str:
    return f"{count:,} page{'s' if count != 1 else ''} ({fmt_size(count * WASM_PAGE)})"


def _no_address_space(name: str, wanted: int, limits: Limits | None) -> MemoryLimitExceeded:
    """The process ran out of virtual address space for one more linear memory."""
    if limits is not None and limits.memory_bytes is not None:
        why = f"each live instance reserves {fmt_size(wanted)} under its memory limit"
        hint = (
            "drop the modules you no longer need (del m; each holds its instance), or "
            "lower Limits(memory_mb=...); `ulimit -v` also caps the address space"
        )
    else:
        why = "without a memory limit each linear memory reserves 4 GiB of address space"
        hint = (
            "load it with Limits(memory_mb=...): then each memory reserves only its limit's "
            "worth (16 MiB for memory_mb=16); or close instances you no longer need"
        )
    return MemoryLimitExceeded(
        f"{name} cannot be instantiated: the process has no address space left to reserve "
        f"{fmt_size(wanted)} for its linear memory ({why})",
        hint=hint,
    )
