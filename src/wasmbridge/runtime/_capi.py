"""The one module that touches wasmtime's private bindings and ctypes.

wasmtime-py's ``Func.__call__`` rebuilds the function type and converts
each argument through ``Val`` on every call (~24 µs). The hot path here
calls ``wasmtime_func_call_unchecked`` directly over a preallocated
``wasmtime_val_raw_t`` buffer, declared without ``argtypes`` and fed
prebuilt ``c_void_p`` objects, which is the cheapest ctypes call shape
measured on CPython 3.11. ctypes releases the GIL during the call.

Everything here depends on wasmtime's C API and on the private layout of
wasmtime-py objects; ``pyproject.toml`` pins the version range and
``tests/integration/test_capi.py`` fails loudly if this path breaks.
No ctypes error text leaves this module: callers get plain Python values.
"""

from __future__ import annotations

import ctypes
import errno
from collections.abc import Callable
from ctypes import c_size_t, c_uint8, c_void_p
from importlib.metadata import version
from typing import Any
from typing import cast as typing_cast

import wasmtime
from wasmtime import _ffi as ffi  # private: the ctypes declarations of the C API
from wasmtime._extern import wrap_extern as _wrap_extern

WASMTIME_VERSION = version("wasmtime")
SUPPORTED_MAJOR = 50

VALRAW_SIZE = 16  # sizeof(wasmtime_val_raw_t)
FUNC_SIZE = ctypes.sizeof(ffi.wasmtime_func_t)

_dll = ffi.dll


def _address(function: Any) -> int:
    """The address of a C function exported by wasmtime's library."""
    value = ctypes.cast(function, c_void_p).value
    assert value is not None
    return value


# The unchecked call, declared without argtypes: Python ints and prebuilt
# c_void_p objects are passed without per-call from_param conversion.
_call_unchecked = ctypes.CFUNCTYPE(c_void_p)(_address(_dll.wasmtime_func_call_unchecked))
_call_unchecked.argtypes = None  # type: ignore[assignment]


def native_entry_points() -> tuple[int, int]:
    """The addresses the compiled call path (``_native.init``) calls wasmtime through:
    ``wasmtime_func_call_unchecked`` and ``wasmtime_memory_data_size``."""
    return (
        _address(_dll.wasmtime_func_call_unchecked),
        _address(_dll.wasmtime_memory_data_size),
    )


def oneshot_entry_points() -> tuple[tuple[int, ...], int, int, int, int, int]:
    """What ``_native.init_oneshot`` takes: the addresses of the wasmtime functions a
    one-shot call uses (store/oneshot.py), the sizes of ``wasmtime_instance_t`` and
    ``wasmtime_extern_t``, the offset of the extern's payload and the func and memory
    kinds, all read off wasmtime-py's own declarations."""
    names = (
        "wasmtime_store_new", "wasmtime_store_context", "wasmtime_store_delete",
        "wasmtime_store_limiter", "wasmtime_context_set_epoch_deadline",
        "wasmtime_store_epoch_deadline_callback", "wasmtime_instance_pre_instantiate",
        "wasmtime_instance_export_get", "wasmtime_memory_data", "wasmtime_error_delete",
        "wasm_trap_delete", "wasmtime_error_new",
    )  # fmt: skip
    return (
        tuple(_address(getattr(_dll, name)) for name in names),
        ctypes.sizeof(ffi.wasmtime_instance_t),
        ctypes.sizeof(ffi.wasmtime_extern_t),
        cast_any(ffi.wasmtime_extern_t).of.offset,
        ffi.WASMTIME_EXTERN_FUNC.value,
        ffi.WASMTIME_EXTERN_MEMORY.value,
    )


def cast_any(value: object) -> Any:
    """``value`` typed as Any: ctypes objects whose stubs disagree with runtime behaviour."""
    return typing_cast(Any, value)


def check_version() -> str | None:
    """A description of the problem when the installed wasmtime is unsupported."""
    major = int(WASMTIME_VERSION.split(".")[0])
    if major != SUPPORTED_MAJOR:
        return (
            f"wasmtime {WASMTIME_VERSION} is installed; this wasmbridge needs {SUPPORTED_MAJOR}.x"
        )
    return None


def context_address(store: wasmtime.Store) -> int:
    """Address of the store's ``wasmtime_context_t`` (stable for its lifetime)."""
    value = ctypes.cast(store._context(), c_void_p).value
    assert value is not None
    return value


class RawFunc:
    """A function export copied into a buffer we own, ready for unchecked calls."""

    __slots__ = ("address", "_storage")

    def __init__(self, func: wasmtime.Func) -> None:
        self._storage = (c_uint8 * FUNC_SIZE)()
        ctypes.memmove(self._storage, ctypes.addressof(func._func), FUNC_SIZE)
        self.address = ctypes.addressof(self._storage)


class CallBuffer:
    """The ``wasmtime_val_raw_t`` array of one function plus a trap slot.

    ``views`` are memoryview casts over the same bytes; slot ``s`` of type
    i32 is ``views['i'][4 * s]``, of type i64 ``views['q'][2 * s]``.
    memoryview stores range-check and type-check the value, which gives
    argument checking for free.
    """

    __slots__ = ("storage", "address", "trap_address", "trap_index", "u8")

    def __init__(self, slots: int) -> None:
        slots = max(slots, 1) + 1  # the last slot holds the trap pointer
        self.storage = (c_uint8 * (VALRAW_SIZE * slots))()
        self.address = ctypes.addressof(self.storage)
        self.trap_index = 2 * (slots - 1)  # index into the 'Q' view
        self.trap_address = self.address + VALRAW_SIZE * (slots - 1)
        self.u8 = memoryview(self.storage).cast("B")

    def view(self, fmt: str) -> memoryview:
        view: memoryview = cast_any(self.u8).cast(fmt)  # typeshed wants a literal format
        return view


def call_parts(
    ctx: int, func: RawFunc, buf: CallBuffer
) -> tuple[Callable[..., Any], c_void_p, c_void_p, c_void_p, c_void_p]:
    """The raw call and its prebuilt pointer arguments, for generated callers."""
    return (
        _call_unchecked,
        c_void_p(ctx),
        c_void_p(func.address),
        c_void_p(buf.address),
        c_void_p(buf.trap_address),
    )


def take_trap(address: int) -> wasmtime.Trap:
    """Take ownership of the ``wasm_trap_t*`` stored at ``address`` (and clear it)."""
    slot = ctypes.c_void_p.from_address(address)
    pointer = ctypes.cast(slot.value or 0, ctypes.POINTER(ffi.wasm_trap_t))
    slot.value = None
    return wasmtime.Trap._from_ptr(pointer)


def take_error(pointer: int) -> wasmtime.WasmtimeError:
    """Take ownership of a ``wasmtime_error_t*`` returned by a call."""
    return wasmtime.WasmtimeError._from_ptr(
        ctypes.cast(pointer, ctypes.POINTER(ffi.wasmtime_error_t))
    )


def trap_code(trap: wasmtime.Trap) -> str | None:
    """The trap's code as a lowercase name, e.g. ``integer_division_by_zero``."""
    code = trap.trap_code
    return None if code is None else code.name.lower()


def trap_frames(trap: wasmtime.Trap) -> list[tuple[int, str | None, int]]:
    """(function index, name from the name section or None, module offset) per frame."""
    return [(f.func_index, f.func_name, f.module_offset) for f in trap.frames]


def new_trap(message: str) -> int:
    """A fresh ``wasm_trap_t*`` (as an int) for a host callback to return."""
    raw = message.encode("utf-8")
    pointer = ffi.wasmtime_trap_new(ctypes.create_string_buffer(raw), len(raw))
    value = ctypes.cast(pointer, c_void_p).value
    assert value is not None
    return value


class Memory:
    """Base address and size of an exported linear memory."""

    __slots__ = ("_ctx", "_storage")

    def __init__(self, store: wasmtime.Store, memory: wasmtime.Memory) -> None:
        self._ctx = store._context()
        self._storage = ffi.wasmtime_memory_t()
        ctypes.memmove(
            ctypes.addressof(self._storage),
            ctypes.addressof(memory._memory),
            ctypes.sizeof(ffi.wasmtime_memory_t),
        )

    @property
    def address(self) -> int:
        """Where its ``wasmtime_memory_t`` lives (for the compiled call path)."""
        return ctypes.addressof(self._storage)

    def base(self) -> int:
        value = ctypes.cast(
            ffi.wasmtime_memory_data(self._ctx, ctypes.byref(self._storage)), c_void_p
        ).value
        return value or 0

    def size(self) -> int:
        return int(ffi.wasmtime_memory_data_size(self._ctx, ctypes.byref(self._storage)))


def caller_memory(caller: int) -> tuple[int, int] | None:
    """(base, size) of the calling instance's ``memory`` export, during a host call."""
    item = ffi.wasmtime_extern_t()
    name = b"memory"
    caller_ptr = ctypes.cast(caller, ctypes.POINTER(ffi.wasmtime_caller_t))
    if not ffi.wasmtime_caller_export_get(caller_ptr, name, len(name), ctypes.byref(item)):
        return None
    if cast_any(item.kind) != ffi.WASMTIME_EXTERN_MEMORY.value:
        return None
    ctx = ffi.wasmtime_caller_context(caller_ptr)
    mem = item.of.memory
    base = ctypes.cast(ffi.wasmtime_memory_data(ctx, ctypes.byref(mem)), c_void_p).value or 0
    return base, int(ffi.wasmtime_memory_data_size(ctx, ctypes.byref(mem)))


def caller_memory_extern(caller: int) -> wasmtime.Memory | None:
    """The calling instance's ``memory`` export as a wasmtime-py object, during a host call."""
    item = ffi.wasmtime_extern_t()
    name = b"memory"
    caller_ptr = ctypes.cast(caller, ctypes.POINTER(ffi.wasmtime_caller_t))
    if not ffi.wasmtime_caller_export_get(caller_ptr, name, len(name), ctypes.byref(item)):
        return None
    if cast_any(item.kind) != ffi.WASMTIME_EXTERN_MEMORY.value:
        return None
    return wasmtime.Memory._from_raw(item.of.memory)


# Host callbacks: trap pointer (or 0) <- (env, caller, args_and_results, count)
HostCallback = Callable[[int, int, int, int], int]
_UNCHECKED_CALLBACK = ctypes.CFUNCTYPE(c_size_t, c_void_p, c_void_p, c_void_p, c_size_t)
_NO_FINALIZER = ctypes.cast(0, ctypes.CFUNCTYPE(None, c_void_p))


class HostFunc:
    """A host function backed by a raw unchecked callback, owned by one store.

    Keep this object alive as long as the store: it owns the ctypes thunk.
    """

    __slots__ = ("func", "_thunk")

    def __init__(
        self, store: wasmtime.Store, functype: wasmtime.FuncType, callback: HostCallback
    ) -> None:
        def thunk(env: int | None, caller: int | None, values: int | None, count: int) -> int:
            return callback(env or 0, caller or 0, values or 0, count)

        self._thunk = _UNCHECKED_CALLBACK(thunk)
        raw = ffi.wasmtime_func_t()
        ffi.wasmtime_func_new_unchecked(
            store._context(),
            functype.ptr(),
            ctypes.cast(self._thunk, ffi.wasmtime_func_unchecked_callback_t),
            None,
            _NO_FINALIZER,
            ctypes.byref(raw),
        )
        self.func = wasmtime.Func._from_raw(raw)


class LinkerFunc:
    """A store-independent host function defined in a linker, backed by a raw callback.

    Every store instantiated through the linker calls the same callback;
    ``caller_context(caller)`` tells them apart. Keep this object alive as
    long as the linker and the stores it instantiated: it owns the thunk.
    """

    __slots__ = ("_thunk",)

    def __init__(
        self,
        linker: wasmtime.Linker,
        module: str,
        name: str,
        functype: wasmtime.FuncType,
        callback: HostCallback,
    ) -> None:
        def thunk(env: int | None, caller: int | None, values: int | None, count: int) -> int:
            return callback(env or 0, caller or 0, values or 0, count)

        self._thunk = _UNCHECKED_CALLBACK(thunk)
        module_bytes, name_bytes = module.encode("utf-8"), name.encode("utf-8")
        error = ffi.wasmtime_linker_define_func_unchecked(
            linker.ptr(),
            ctypes.create_string_buffer(module_bytes),
            len(module_bytes),
            ctypes.create_string_buffer(name_bytes),
            len(name_bytes),
            functype.ptr(),
            ctypes.cast(self._thunk, ffi.wasmtime_func_unchecked_callback_t),
            None,
            _NO_FINALIZER,
        )
        if cast_any(error):
            raise wasmtime.WasmtimeError._from_ptr(error)


def instance_export(store: wasmtime.Store, instance: wasmtime.Instance, name: str) -> Any:
    """One export of an instance by name (a ``Func``, ``Memory``, ...), or None.

    ``Instance.exports(store)`` wraps every export at once; this looks up one.
    """
    item = ffi.wasmtime_extern_t()
    raw = name.encode("utf-8")
    found = ffi.wasmtime_instance_export_get(
        store._context(), ctypes.byref(instance._instance), raw, len(raw), ctypes.byref(item)
    )
    return _wrap_extern(item) if found else None


_caller_context = ctypes.CFUNCTYPE(c_void_p, c_void_p)(_address(_dll.wasmtime_caller_context))


def caller_context(caller: int) -> int:
    """The ``context_address`` of the store a host call came from."""
    return _caller_context(caller) or 0


def read_raw(address: int, size: int) -> bytes:
    """Copy ``size`` bytes at a host address (a values array, a memory region)."""
    return ctypes.string_at(address, size)


def write_raw(address: int, data: bytes) -> None:
    """Copy ``data`` to a host address."""
    ctypes.memmove(address, data, len(data))


def view_at(address: int, size: int, keepalive: object) -> memoryview:
    """A writable byte view of ``size`` bytes at ``address``.

    ``keepalive`` is attached to the view's backing object so the memory it
    points into (a store) stays alive as long as any view of it.
    """
    array = (c_uint8 * size).from_address(address)
    array._wasmbridge_owner = keepalive  # type: ignore[attr-defined]
    return memoryview(array).cast("B")


# -- limits: per-call epoch deadline and fuel, the host thread's stack ------------------

# Declared over plain integers, like the call path: set once per limited call.
_set_epoch_deadline = ctypes.CFUNCTYPE(None, c_void_p, ctypes.c_uint64)(
    _address(_dll.wasmtime_context_set_epoch_deadline)
)
_set_fuel = ctypes.CFUNCTYPE(c_void_p, c_void_p, ctypes.c_uint64)(
    _address(_dll.wasmtime_context_set_fuel)
)
_set_epoch_callback = ctypes.CFUNCTYPE(None, c_void_p, c_void_p, c_void_p, c_void_p)(
    _address(_dll.wasmtime_store_epoch_deadline_callback)
)


def set_epoch_deadline(ctx: int, ticks: int) -> None:
    """The store reaches its epoch deadline ``ticks`` epoch increments from now."""
    _set_epoch_deadline(c_void_p(ctx), ticks)


# size_t callback(context, env, uint64_t *delta, uint8_t *kind): 0 or a wasmtime_error_t*
_EPOCH_CALLBACK = ctypes.CFUNCTYPE(
    c_size_t, c_void_p, c_void_p, ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(ctypes.c_uint8)
)
_UPDATE_DEADLINE_CONTINUE = 0


def on_epoch_deadline(store: wasmtime.Store, decide: Callable[[], int | None]) -> object:
    """Call ``decide()`` when the store reaches its epoch deadline; keep the result alive.

    ``decide`` returns the ticks until the next check (the guest carries on)
    or None (the guest traps, with an error the call reports).
    """
    keep = epoch_callback(decide)
    set_epoch_callback(store, keep)
    return keep


def set_epoch_callback(store: wasmtime.Store, callback: object) -> None:
    """Make ``callback`` (from ``epoch_callback``, shared by many stores) the store's."""
    _set_epoch_callback(store.ptr(), callback, None, _NO_FINALIZER)


def epoch_callback(decide: Callable[[], int | None]) -> object:
    """A deadline callback around ``decide`` (see ``on_epoch_deadline``); keep it alive."""

    def callback(_ctx: int | None, _env: int | None, delta: Any, kind: Any) -> int:
        try:
            ticks = decide()
        except BaseException:  # noqa: BLE001 - never unwind through wasmtime's frames
            ticks = None
        if ticks is None:
            message = b"wasmbridge: time limit"
            error = ffi.wasmtime_error_new(ctypes.create_string_buffer(message))
            return ctypes.cast(error, c_void_p).value or 0
        delta[0] = max(1, ticks)
        kind[0] = _UPDATE_DEADLINE_CONTINUE
        return 0

    return _EPOCH_CALLBACK(callback)


def fuel_refill(ctx: int, fuel: int) -> Callable[[], None]:
    """``refill()``: set the store's fuel to ``fuel`` (its engine must consume fuel)."""
    context, amount = c_void_p(ctx), ctypes.c_uint64(fuel)

    def refill() -> None:
        error = _set_fuel(context, amount)
        if error:
            raise take_error(error)

    return refill


class _Libc:
    """glibc's thread-attribute calls, when this platform has them."""

    self_: Any
    getattr: Any
    getstack: Any
    destroy: Any

    def __init__(self) -> None:
        try:
            libc = ctypes.CDLL(None)
            self.self_ = libc.pthread_self
            self.getattr = libc.pthread_getattr_np
            self.getstack = libc.pthread_attr_getstack
            self.destroy = libc.pthread_attr_destroy
        except (OSError, AttributeError):
            self.self_ = None
            return
        self.self_.restype = ctypes.c_ulong
        self.getattr.argtypes = [ctypes.c_ulong, c_void_p]
        self.getstack.argtypes = [c_void_p, ctypes.POINTER(c_void_p), ctypes.POINTER(c_size_t)]


_libc = _Libc()
_PTHREAD_ATTR_SIZE = 256  # larger than pthread_attr_t on every glibc target


def thread_stack_size() -> int | None:
    """The calling thread's stack size in bytes, or None where it cannot be asked."""
    if _libc.self_ is None:
        return None
    attr = ctypes.create_string_buffer(_PTHREAD_ATTR_SIZE)
    if _libc.getattr(_libc.self_(), attr) != 0:
        return None
    try:
        base, size = c_void_p(), c_size_t()
        if _libc.getstack(attr, ctypes.byref(base), ctypes.byref(size)) != 0:
            return None
        return int(size.value)
    finally:
        _libc.destroy(attr)


# -- WASI: stdin bytes and output callbacks ----------------------------------------------

# ssize_t callback(data, bytes, length): bytes written, or -errno.
OutputCallback = Callable[[bytes], int]
_OUTPUT_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_ssize_t, c_void_p, ctypes.POINTER(ctypes.c_ubyte), c_size_t
)
_NO_OUTPUT_FINALIZER = ctypes.cast(0, ctypes.CFUNCTYPE(None, c_void_p))


def set_stdin_bytes(config: wasmtime.WasiConfig, data: bytes) -> None:
    """Give the guest ``data`` as its whole stdin (kept in memory, never blocks)."""
    vec = ffi.wasm_byte_vec_t()
    buffer = (ctypes.c_ubyte * len(data)).from_buffer_copy(data)
    ffi.wasm_byte_vec_new(ctypes.byref(vec), len(data), buffer)  # copies
    ffi.wasi_config_set_stdin_bytes(config.ptr(), ctypes.byref(vec))  # takes ownership


def set_output(config: wasmtime.WasiConfig, fd: int, callback: OutputCallback) -> object:
    """Route guest fd 1 or 2 to ``callback``; keep the returned object alive with the store.

    wasmtime calls it from one of its own worker threads while the guest's
    ``fd_write`` waits, in chunks of at most 4 KiB.
    """

    def thunk(_data: int | None, pointer: Any, length: int) -> int:
        try:
            return callback(ctypes.string_at(pointer, length))
        except BaseException:  # noqa: BLE001 - never unwind through wasmtime's frames
            return -errno.EIO

    keep = _OUTPUT_CALLBACK(thunk)
    setter = ffi.wasi_config_set_stdout_custom if fd == 1 else ffi.wasi_config_set_stderr_custom
    setter(config.ptr(), keep, None, _NO_OUTPUT_FINALIZER)
    return keep


# -- instances: stores, pre-instantiation and export lookups over lean C calls -------------
#
# ``wasmtime.Store(engine)`` and ``InstancePre.instantiate`` reach the same C functions
# through checked wrappers (argtypes conversion, isinstance checks, a context manager):
# about 10 µs of Python per instance. These make the same calls declared over plain
# pointers; the objects they return are wasmtime-py's own (a ``Store`` that deletes its
# C store when dropped), so everything else keeps using wasmtime-py.

_store_new = ctypes.CFUNCTYPE(ctypes.POINTER(ffi.wasmtime_store_t), c_void_p, c_void_p, c_void_p)(
    _address(_dll.wasmtime_store_new)
)
_store_context = ctypes.CFUNCTYPE(ctypes.POINTER(ffi.wasmtime_context_t), c_void_p)(
    _address(_dll.wasmtime_store_context)
)
_store_delete = ctypes.CFUNCTYPE(None, c_void_p)(_address(_dll.wasmtime_store_delete))
_pre_instantiate = ctypes.CFUNCTYPE(c_void_p, c_void_p, c_void_p, c_void_p, c_void_p)(
    _address(_dll.wasmtime_instance_pre_instantiate)
)
_export_get = ctypes.CFUNCTYPE(
    ctypes.c_bool, c_void_p, c_void_p, ctypes.c_char_p, c_size_t, c_void_p
)(_address(_dll.wasmtime_instance_export_get))
_global_get = ctypes.CFUNCTYPE(None, c_void_p, c_void_p, c_void_p)(
    _address(_dll.wasmtime_global_get)
)
_global_set = ctypes.CFUNCTYPE(c_void_p, c_void_p, c_void_p, c_void_p)(
    _address(_dll.wasmtime_global_set)
)
_EXTERN_GLOBAL = ffi.WASMTIME_EXTERN_GLOBAL.value
_EXTERN_MEMORY = ffi.WASMTIME_EXTERN_MEMORY.value
_EXTERN_FUNC = ffi.WASMTIME_EXTERN_FUNC.value
_I32 = ffi.WASMTIME_I32.value


class Store(wasmtime.Store):
    """A ``wasmtime.Store`` made and deleted by lean C calls (one per instance)."""

    def __init__(self, engine: wasmtime.Engine) -> None:
        raise TypeError("use _capi.new_store(engine)")

    def _delete(self, ptr: Any) -> None:
        _store_delete(ptr)
        cast_any(self)._Store__context = None


def engine_address(engine: wasmtime.Engine) -> int:
    """The address of an engine's ``wasm_engine_t`` (stable for its lifetime)."""
    value = ctypes.cast(engine.ptr(), c_void_p).value
    assert value is not None
    return value


def new_store(engine: wasmtime.Engine, engine_at: int) -> tuple[wasmtime.Store, int]:
    """A fresh store of ``engine`` (whose address is ``engine_at``) and its context address."""
    store: Any = Store.__new__(Store)
    ptr = _store_new(engine_at, None, None)
    store._Managed__ptr = ptr
    context = _store_context(ptr)
    store._Store__context = context
    store.engine = engine
    return store, ctypes.addressof(context.contents)


def pre_address(pre: wasmtime.InstancePre) -> int:
    """The address of a pre-instantiated module (stable for its lifetime)."""
    value = ctypes.cast(pre.ptr(), c_void_p).value
    assert value is not None
    return value


def instantiate_pre(pre_at: int, ctx: int) -> Any:
    """Instantiate a pre-linked module in a store: its ``wasmtime_instance_t``.

    Raises ``wasmtime.Trap`` (a start function trapped) or ``wasmtime.WasmtimeError``,
    as ``InstancePre.instantiate`` does.
    """
    instance = ffi.wasmtime_instance_t()
    trap = c_void_p()
    error = _pre_instantiate(pre_at, ctx, ctypes.addressof(instance), ctypes.addressof(trap))
    if error:
        raise take_error(error)
    if trap.value:
        raise wasmtime.Trap._from_ptr(ctypes.cast(trap.value, ctypes.POINTER(ffi.wasm_trap_t)))
    return instance


class ExportItem:
    """One export looked up by name: its ``wasmtime_extern_t`` kept in a buffer we own."""

    __slots__ = ("item", "kind")

    def __init__(self, ctx: int, instance: Any, name: bytes) -> None:
        self.item = ffi.wasmtime_extern_t()
        found = _export_get(
            ctx, ctypes.addressof(instance), name, len(name), ctypes.addressof(self.item)
        )
        self.kind = int(cast_any(self.item.kind)) if found else -1

    def global_i32(self, ctx: int) -> int | None:
        """The value of a global export of type i32, else None."""
        if self.kind != _EXTERN_GLOBAL:
            return None
        value = ffi.wasmtime_val_t()
        _global_get(ctx, ctypes.addressof(self.item.of.global_), ctypes.addressof(value))
        if int(cast_any(value.kind)) != _I32:
            return None
        return int(cast_any(value.of.i32))

    def set_global_i32(self, ctx: int, value: int) -> bool:
        """Set a mutable i32 global export to ``value``; False when wasmtime refuses."""
        if self.kind != _EXTERN_GLOBAL:
            return False
        val: Any = ffi.wasmtime_val_t()  # ctypes fields take ints; the stubs say otherwise
        val.kind = _I32
        val.of.i32 = value
        error = _global_set(ctx, ctypes.addressof(self.item.of.global_), ctypes.addressof(val))
        if error:
            ffi.wasmtime_error_delete(ctypes.cast(error, ctypes.POINTER(ffi.wasmtime_error_t)))
            return False
        return True

    def wrap(self) -> Any:
        """The wasmtime-py object of the export (``Func``, ``Memory``, ...), or None."""
        return _wrap_extern(self.item) if self.kind >= 0 else None


def set_pooling(
    config: wasmtime.Config,
    *,
    instances: int,
    memory_bytes: int,
    table_elements: int,
) -> None:
    """Make engines of ``config`` allocate instances from a pool reserved up front.

    ``instances`` slots, each with room for one linear memory of up to
    ``memory_bytes`` and one table of up to ``table_elements``. A module
    that needs more does not fit (instantiating it fails); past ``instances``
    live instances, instantiation fails until one is freed.
    """
    pool = ffi.wasmtime_pooling_allocation_config_new()
    try:
        ffi.wasmtime_pooling_allocation_config_total_core_instances_set(pool, instances)
        ffi.wasmtime_pooling_allocation_config_total_memories_set(pool, instances)
        ffi.wasmtime_pooling_allocation_config_total_tables_set(pool, instances)
        ffi.wasmtime_pooling_allocation_config_max_memories_per_module_set(pool, 1)
        ffi.wasmtime_pooling_allocation_config_max_tables_per_module_set(pool, 1)
        ffi.wasmtime_pooling_allocation_config_max_memory_size_set(pool, memory_bytes)
        ffi.wasmtime_pooling_allocation_config_table_elements_set(pool, table_elements)
        ffi.wasmtime_pooling_allocation_strategy_set(config.ptr(), pool)
    finally:
        ffi.wasmtime_pooling_allocation_config_delete(pool)
