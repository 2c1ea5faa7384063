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
from collections.abc import Callable
from ctypes import c_size_t, c_uint8, c_void_p
from importlib.metadata import version
from typing import Any

import wasmtime
from wasmtime import _ffi as ffi  # private: the ctypes declarations of the C API

WASMTIME_VERSION = version("wasmtime")
SUPPORTED_MAJOR = 50

VALRAW_SIZE = 16  # sizeof(wasmtime_val_raw_t)
FUNC_SIZE = ctypes.sizeof(ffi.wasmtime_func_t)

_dll = ffi.dll

# The unchecked call, declared without argtypes: Python ints and prebuilt
# c_void_p objects are passed without per-call from_param conversion.
_call_unchecked = ctypes.CFUNCTYPE(c_void_p)(
    ctypes.cast(_dll.wasmtime_func_call_unchecked, c_void_p).value
)
_call_unchecked.argtypes = None


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
        return self.u8.cast(fmt)


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
    pointer = ctypes.cast(slot.value, ctypes.POINTER(ffi.wasm_trap_t))
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
    if item.kind != ffi.WASMTIME_EXTERN_MEMORY.value:
        return None
    ctx = ffi.wasmtime_caller_context(caller_ptr)
    mem = item.of.memory
    base = ctypes.cast(ffi.wasmtime_memory_data(ctx, ctypes.byref(mem)), c_void_p).value or 0
    return base, int(ffi.wasmtime_memory_data_size(ctx, ctypes.byref(mem)))


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
