"""One running instance: its store, memory, allocator, call token and export callables.

A ``LiveInstance`` owns a wasmtime ``Store``; everything decided once per
module (the export and import plans, the pre-linked module) comes in
``ModuleParts`` and ``LinkedModule``. Calls into the store are guarded by
a single token: a call takes it, so a second thread waits instead of
entering the store concurrently, while a nested call from inside a host
import (same thread) proceeds. Taking and returning the token costs two
list operations, far less than a lock. ``close()`` takes the token for
good: calls made afterwards raise instead of entering a freed store.

With ``limits``, a ``CallGuard`` (guard.py) caps the store's memory and
tables and arms each call (``CallSite.before_call``) and the allocator
calls made while lowering arguments; with ``wasi`` grants, a
``WasiSession`` (wasi.py) configures WASI and links our host calls over
wasmtime's in a linker of the instance's own. Without either, the call
path is exactly the unlimited one.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import wasmtime

from ...errors import ModuleError
from ...interface import abi
from ...interface.binary import FuncType, WasmModule
from ...interface.plan import CallPlan, plan_call
from ...interface.types import Interface
from .. import _capi
from ..bridge import calls, imports
from ..bridge.arrays import GuestArray
from ..bridge.classes import instance_types
from ..bridge.marshal import Marshal
from ..bridge.memory import GuestMemory
from ..bridge.records import type_space
from ..engine import EngineSettings, get_engine
from ..engine.settings import pool_slots
from ..sandbox import interrupt, traps
from ..sandbox.grants import Grants
from ..sandbox.guard import CallGuard, check_thread_stack
from ..sandbox.limits import Limits, store_limits
from ..sandbox.wasi import WasiSession
from .exports import ExportPlan, LazyFunctions, PlannedExport
from .failures import POOL_FULL, POOL_MISFIT, PoolFull, PoolMisfit, instantiation_error
from .linking import LIVE, HostImports, ImportPlan, LinkedModule, define_slots, functype

# By wasm stack size: a thread-local with a ``checked`` attribute on each thread
# whose stack fits it (an attribute read is the cheapest per-thread test).
_CHECKED_THREADS: dict[int, threading.local] = {}
_U32 = 0xFFFFFFFF
# Kept in ExportPlan.callers: whether the module's stack-pointer export is a mutable i32.
_SP_USABLE = ("__stack_pointer", "mutable i32")


@dataclass(frozen=True)
class ModuleParts:
    """What every instance of one module shares: decided once, at compile time."""

    name: str
    wasm: WasmModule
    interface: Interface | None
    exports: ExportPlan
    imports: ImportPlan

    @functools.cached_property
    def reentrant(self) -> bool:
        """Whether Python code can run during a call (a host function, a callback): only
        when the module imports something besides the panic hook. Only then can an object
        be closed or moved while a call borrows it, so only then do calls mark it busy."""
        return any(
            (i.module, i.name) != (abi.HOST_MODULE, abi.PANIC_IMPORT) for i in self.wasm.imports
        )

    @functools.cached_property
    def has_memory(self) -> bool:
        """Whether the module exports a memory named ``memory`` (bound on first use)."""
        return any(e.name == abi.MEMORY_EXPORT and e.kind == "memory" for e in self.wasm.exports)

    @functools.cached_property
    def _store_caps(self) -> dict[Limits, dict[str, int]]:
        return {}

    def store_caps(self, limits: Limits) -> dict[str, int]:
        """The store caps of ``limits`` for this module (``limits.store_limits``), worked
        out once per ``Limits`` rather than per instance."""
        caps = self._store_caps.get(limits)
        if caps is None:
            caps = self._store_caps.setdefault(limits, store_limits(limits, self.wasm))
        return caps

    @functools.cached_property
    def has_stack_pointer(self) -> bool:
        """Whether the module exports a global named like the SDK's stack pointer."""
        return any(
            e.name == abi.STACK_POINTER_EXPORT and e.kind == "global" for e in self.wasm.exports
        )


_bind_lock = threading.RLock()  # binding memory binds the stack pointer first


class LiveInstance:
    """A live instance with its export callables in ``functions``.

    Per instance, only what a call cannot do without is made when it is
    created: the store, the instance, the host callbacks of its imports and
    the arming of its limits. Everything else is bound on first use: the
    memory and the allocator (``memory``/``marshal``, on first access), the
    guest's stack pointer (by the first caller made), each export's callable
    (``LazyFunctions``).
    """

    # Bound on first access (__getattr__): None when the module exports no memory
    # (or no allocator), or no stack pointer.
    memory: GuestMemory | None
    marshal: Marshal | None
    _stack_pointer: _capi.ExportItem | None
    _idle_stack: int

    def __init__(
        self,
        parts: ModuleParts,
        settings: EngineSettings,
        compiled: wasmtime.Module,
        linked: LinkedModule | None,
        host: HostImports,
        *,
        limits: Limits | None = None,
        wasi: Grants | None = None,
    ) -> None:
        name = parts.name
        self.name = name
        self.wasm = parts.wasm
        self.interface = parts.interface
        self.limits = limits
        self.settings = settings
        self._parts = parts
        self.unsupported = parts.exports.unsupported
        self._callers = parts.exports.callers
        self.reentrant = parts.reentrant
        self.closed = False
        self._wasm_stack = settings.max_wasm_stack
        checked = _CHECKED_THREADS.get(settings.max_wasm_stack)
        if checked is None:
            checked = _CHECKED_THREADS.setdefault(settings.max_wasm_stack, threading.local())
        self._checked_threads = checked
        self.failure = traps.FailureContext(name, parts.wasm, limits)
        if parts.has_memory:
            self.failure.memory_size = self._memory_size
        self.callback_thread: int | None = None
        self.callback_depth = 0  # host imports running on the stack, nested
        self.tokens: list[object] = [object()]
        # The guest's shadow-stack pointer (``_stack_pointer``, exported by SDK builds) is
        # restored after a failed call, since a trap unwinds none of the guest's frames; it
        # and its value with no call running (``_idle_stack``) are read by the first caller
        # made, before any call (``_bind_stack_pointer``).
        if not parts.has_stack_pointer:
            self._stack_pointer = None
            self._idle_stack = 0
        self._nested_stack: list[int | None] = []  # its value as each nested call began
        self._raw_memory: _capi.Memory | None = None
        # One callback per import slot, from this instance's imports (LinkError first).
        self.host_calls = parts.imports.callbacks(self, host)
        if linked is not None:
            engine, engine_at = linked.engine, linked.engine_at
        else:
            engine = get_engine(settings)
            engine_at = _capi.engine_address(engine)
        self.store, self.ctx = _capi.new_store(engine, engine_at)
        interrupt.watch_store(self.store, self.ctx, epoch=settings.epoch)  # Ctrl-C
        self.guard = (
            CallGuard(
                limits, self.store, self.ctx, name, self, self.failure, parts.store_caps(limits)
            )
            if limits
            else None
        )
        self.wasi: WasiSession | None = None
        self._keep: list[object] = []  # host functions of this store's own linker
        if self.host_calls:
            LIVE[self.ctx] = self  # the shared host functions find this instance by its store
        check_thread_stack(name, settings.max_wasm_stack)  # once per thread, then cached
        if wasi is not None or linked is None:
            raw = self._instantiate_alone(parts, engine, compiled, wasi)
        else:
            pre_at, ctx = linked.pre_at, self.ctx
            raw = self._instantiate(lambda: _capi.instantiate_pre(pre_at, ctx))
        self._raw = raw
        self.functions = LazyFunctions(parts.exports.functions, self._build)

    # -- instantiation ------------------------------------------------------------------

    def _instantiate_alone(
        self,
        parts: ModuleParts,
        engine: wasmtime.Engine,
        compiled: wasmtime.Module,
        wasi: Grants | None,
    ) -> Any:
        """Instantiate through a linker of this store's own: WASI is configured per store."""
        linker = wasmtime.Linker(engine)
        if wasi is not None:
            self.wasi = WasiSession(wasi, self.failure, self.guard)
            self.wasi.configure(self.store, linker)
            self.wasi.override(self.wasm, lambda m, n, t, cb: self._define(linker, m, n, t, cb))
        self._keep += define_slots(linker, parts.imports)
        return self._instantiate(lambda: linker.instantiate(self.store, compiled)._instance)

    def _define(
        self,
        linker: wasmtime.Linker,
        module: str,
        name: str,
        ftype: FuncType,
        callback: _capi.HostCallback,
    ) -> None:
        host = _capi.HostFunc(self.store, functype(ftype), callback)
        self._keep.append(host)
        linker.define(self.store, module, name, host.func)

    def _instantiate(self, instantiate: Callable[[], Any]) -> Any:
        """The ``wasmtime_instance_t`` that ``instantiate()`` makes, or the error to raise."""
        if self.guard is not None:
            self.guard.arm()  # a start function runs during instantiation
        try:
            return instantiate()
        except wasmtime.Trap as trap:
            raise traps.start_failure(self.failure, trap) from None
        except wasmtime.WasmtimeError as err:
            reported = traps.start_error(self.failure)
            if reported is not None:
                raise reported from None
            text = str(err)
            if self.settings.pooled and POOL_FULL in text:
                raise PoolFull(pool_slots.get(self.settings, 0)) from None
            if self.settings.pooled and any(misfit in text for misfit in POOL_MISFIT):
                raise PoolMisfit(text) from None
            raise instantiation_error(self.name, err, self.limits, self.wasm) from None

    # -- exports ----------------------------------------------------------------------

    def __getattr__(self, attr: str) -> Any:
        """``memory`` and ``marshal``, bound on first access (most instances of a
        serving module never touch memory from the host)."""
        if attr in ("memory", "marshal"):
            with _bind_lock:  # one Marshal (one arena) per instance, whichever thread asks
                if "marshal" not in self.__dict__:
                    self._bind_memory()
            return self.__dict__[attr]
        if attr in ("_stack_pointer", "_idle_stack"):
            self._bind_stack_pointer()
            return self.__dict__[attr]
        raise AttributeError(attr)

    def _bind_memory(self) -> None:
        """Set ``memory`` and then ``marshal`` (under ``_bind_lock``): another thread that
        finds ``marshal`` set finds both complete."""
        memory, marshal = self._memory_and_marshal()
        self.memory = memory
        self.marshal = marshal

    def _memory_and_marshal(self) -> tuple[GuestMemory | None, Marshal | None]:
        if self.closed or not self._parts.has_memory:
            return None, None
        item = self._export(abi.MEMORY_EXPORT)
        memory = item.wrap()
        if not isinstance(memory, wasmtime.Memory):
            return None, None
        raw_memory = self._raw_memory = _capi.Memory(self.store, memory)
        guest_memory = GuestMemory(raw_memory, self.store, self.name)
        if not self._parts.exports.has_allocator:
            return guest_memory, None
        alloc: Callable[..., Any] = self._internal(abi.ALLOC_EXPORT, 2)
        free: Callable[..., Any] = _on_first_call(lambda: self._internal(abi.FREE_EXPORT, 3))
        if self.guard is not None:
            alloc, free = _armed(self.guard, alloc), _armed(self.guard, free)

        def alloc_unsigned(size: int, align: int) -> int:
            if not 0 <= size <= _U32:
                return 0  # no 32-bit guest can allocate it
            return int(alloc(size, align)) & _U32

        return guest_memory, Marshal(guest_memory, alloc_unsigned, free, self.name)

    def _memory_size(self) -> int:
        """Bytes of the exported memory now (for error messages)."""
        if "_raw" not in self.__dict__:
            return 0  # instantiation failed (a start function trapped): no instance to ask
        if self.memory is None or self._raw_memory is None:
            return 0
        return self._raw_memory.size()

    def _bind_stack_pointer(self) -> None:
        """Read the stack pointer's idle value, before the first call of this instance.

        Not at instantiation (most instances of a serving module never fail a call,
        the only time it is needed), and not from the module's initializer at compile
        time: a start function may move it. Every call into the guest is made by a
        caller or an internal call, and the first of them to be made reads it here,
        after the start function and before anything else runs.
        """
        with _bind_lock:
            if "_idle_stack" not in self.__dict__:
                sp, idle = self._idle_stack_pointer()
                self._stack_pointer = sp
                self._idle_stack = idle  # last: another thread that sees it sees both

    def _idle_stack_pointer(self) -> tuple[_capi.ExportItem | None, int]:
        if self.closed:
            return None, 0
        item = self._export(abi.STACK_POINTER_EXPORT)
        facts = self._parts.exports.callers
        usable = facts.get(_SP_USABLE)
        if usable is None:  # the export's type is the same in every instance: checked once
            sp = item.wrap()
            usable = False
            if isinstance(sp, wasmtime.Global):
                gtype = sp.type(self.store)
                usable = gtype.mutable and str(gtype.content) == "i32"
            facts[_SP_USABLE] = usable
        value = item.global_i32(self.ctx) if usable else None
        if value is None:
            return None, 0
        return item, value

    def export(self, name: str) -> Any:
        """The wasmtime object of one export (``Func``, ``Memory``, ...), or None."""
        return self._export(name).wrap()

    def _export(self, name: str) -> _capi.ExportItem:
        return _capi.ExportItem(self.ctx, self._raw, name.encode("utf-8"))

    def _internal(self, name: str, params: int) -> InternalCall:
        if "_idle_stack" not in self.__dict__:
            self._bind_stack_pointer()
        extern = self.export(name)
        assert isinstance(extern, wasmtime.Func)
        return InternalCall(self, name, extern, params)

    def _site(self, name: str) -> calls.CallSite:
        if "_idle_stack" not in self.__dict__:
            self._bind_stack_pointer()
        extern = self.export(name)
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
            guest_array=GuestArray,
            guarded=True,
            before_call=self.guard.arm if self.guard is not None else None,
            checked_threads=self._checked_threads if self.guard is None else None,
            check_thread=self._check_thread if self.guard is None else None,
            types=functools.partial(instance_types, self) if self.interface else None,
            reentrant=self.reentrant,
            wasm_stack=self._wasm_stack,
        )

    def _check_thread(self) -> None:
        """Refuse a thread whose stack cannot hold the wasm stack (calls without limits:
        with limits, ``CallGuard.arm`` checks it). Threads that pass are remembered."""
        check_thread_stack(self.name, self._wasm_stack)
        self._checked_threads.checked = True

    def _build(self, planned: PlannedExport) -> Callable[..., Any]:
        if self.closed:
            raise self.closed_error(planned.function.name)
        function = planned.function
        site = self._site(function.name)
        template = self.caller_template(
            function.name,
            site.shape,
            lambda: plan_call(function, self.interface),
            planned.raw_results,
        )
        return calls.bind(template, site)

    def caller_template(
        self,
        export: str,
        shape: calls.CallShape,
        plan: Callable[[], CallPlan],
        raw_results: Sequence[str] = (),
    ) -> calls.CallerTemplate:
        """The caller of the export (or method) ``export``: made by the module's first
        instance that calls it, shared by the others (``plan`` makes its plan)."""
        key = (export, shape)
        found: calls.CallerTemplate | None = self._callers.get(key)
        if found is None:
            space = type_space(self.interface, self.name) if self.interface is not None else None
            found = calls.caller_template(plan(), shape, space, raw_results)
            found = self._callers.setdefault(key, found)
        return found

    def run_export(self, planned: PlannedExport) -> Any:
        """Call an export outside ``functions`` (a reactor's ``_initialize``)."""
        return self._build(planned)()

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
            sp.set_global_i32(self.ctx, value)

    def enter(self) -> object | None:
        """Slow path of taking the call token: nested call, another thread, or closed."""
        if self.callback_thread == threading.get_ident():
            # A host import calling back in: the outer call holds the token.
            imports.check_python_headroom(self.name)
            sp = self._stack_pointer
            self._nested_stack.append(sp.global_i32(self.ctx) if sp is not None else None)
            return None
        delay = 1e-5
        while True:
            if self.closed:
                raise self.closed_error()
            try:
                return self.tokens.pop()
            except IndexError:
                time.sleep(delay)
                delay = min(delay * 2, 1e-3)

    def leave(self) -> None:
        """The end of a nested call (one that ``enter`` let in without a token)."""
        if self._nested_stack:
            self._nested_stack.pop()

    def prepare(self, exports: Sequence[str]) -> None:
        """Bind the callers of ``exports``, the memory and the scratch space now (under
        the call token), so the first call of each pays only for the call."""
        token = self.acquire()
        try:
            for name in exports:
                self.functions[name]
            marshal = self.marshal
            if marshal is not None:
                marshal.arena.open()
        finally:
            self.release(token)

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
        return GuestMemory.fixed(found[0], found[1], self.store, self.name)

    def marshal_for(self, caller: int) -> Marshal:
        if self.marshal is None:
            raise ModuleError(
                f"{self.name}: a host import returns data but the module exports no allocator",
                hint="rebuild it with `wasmbridge build`",
            )
        return self.marshal

    # -- closing ----------------------------------------------------------------------

    def closed_error(self, export: str | None = None) -> ModuleError:
        what = f"`{export}()` cannot run: " if export else ""
        return ModuleError(
            f"{self.name}: {what}this instance was closed",
            hint="make a new one with module.instantiate() (or wasmbridge.load())",
        )

    def close(self) -> None:
        """Free the store once no call runs; later calls raise ``closed_error()``.

        Memory views handed out earlier (``memory_view()``, ``GuestArray``)
        keep the linear memory mapped until they are dropped, so they can
        never read freed memory.
        """
        if self.closed:
            return
        if self.callback_thread == threading.get_ident():
            raise ModuleError(
                f"{self.name}: close() was called from inside one of its own host functions",
                hint="close the instance after the call into it has returned",
            )
        self.closed = True  # waiting callers now raise instead of taking the token
        delay = 1e-5
        while True:  # the call running on another thread, if any, gives the token back
            try:
                self.tokens.pop()
                break
            except IndexError:
                time.sleep(delay)
                delay = min(delay * 2, 1e-3)
        if self.wasi is not None:
            self.wasi.close()
        memory = self.__dict__.get("memory")  # never bound: nothing to release
        if memory is not None:
            memory.release()
        if self.host_calls and LIVE.get(self.ctx) is self:
            del LIVE[self.ctx]
        # Everything that holds the store; the last reference frees it.
        self.functions.forget()
        self.host_calls = []
        del self._raw
        self.failure.memory_size = None
        self.memory = self.marshal = self.guard = self.wasi = None
        self._stack_pointer = self._raw_memory = None
        self._keep = []
        del self.store


class InternalCall:
    """A direct call of one of the guest's own helpers (its allocator).

    Runs inside a call or under the token ``acquire()`` took, so it takes
    none itself; a trap is reported like any failed call.
    """

    __slots__ = ("_live", "_name", "_func", "_buffer", "_parts", "_values", "_trap", "_slots")

    def __init__(self, live: LiveInstance, name: str, func: wasmtime.Func, params: int) -> None:
        self._live = live
        self._name = name
        self._func = _capi.RawFunc(func)
        self._buffer = _capi.CallBuffer(params)
        self._parts = _capi.call_parts(live.ctx, self._func, self._buffer)
        self._values = self._buffer.view("I")
        self._trap = self._buffer.view("Q")
        self._slots = params

    def __call__(self, *args: int) -> int:
        values = self._values
        for index, value in enumerate(args):
            values[4 * index] = value
        call, ctx, fn, buf, trap = self._parts
        error = call(ctx, fn, buf, self._slots, trap)
        if error or self._trap[self._buffer.trap_index]:
            raise self._live.fail(self._name, args, error, self._buffer.trap_address)
        return int(values[0])


def _on_first_call(make: Callable[[], Callable[..., Any]]) -> Callable[..., Any]:
    """A function made when it is first called (most instances never free)."""
    made: list[Callable[..., Any]] = []

    def call(*args: Any) -> Any:
        if not made:
            made.append(make())
        return made[0](*args)

    return call


def _armed(guard: CallGuard, internal: Callable[..., Any]) -> Callable[..., Any]:
    """The allocator, armed first: it runs while arguments are lowered, before the call's
    own arming, and after a call that used up its deadline or fuel."""

    def call(*args: Any) -> Any:
        guard.arm()
        return internal(*args)

    return call
