"""Moving interface values between Python and guest memory (docs/abi.md).

``Marshal`` holds one instance's memory, arena and allocator; the call
code generated in calls.py binds its methods once per function, so no
per-call lookup or planning happens. Buffers cross with one memcpy.
"""

from __future__ import annotations

import array
import struct
from collections.abc import Callable
from typing import Any

from ..errors import MemoryLimitExceeded, ProtocolError
from ..interface import abi
from ..interface.types import ELEMENT_SIZE, INT_RANGE, Kind, Type
from .memory import Arena, GuestMemory

TYPECODES = {
    Kind.I8: "b",
    Kind.U8: "B",
    Kind.I16: "h",
    Kind.U16: "H",
    Kind.I32: "i",
    Kind.U32: "I",
    Kind.I64: "q",
    Kind.U64: "Q",
    Kind.F32: "f",
    Kind.F64: "d",
}

# Buffer formats accepted for each element kind: same kind and item size.
_SIGNED = {1: "b", 2: "h", 4: "i", 8: "q"}
_UNSIGNED = {1: "B", 2: "H", 4: "I", 8: "Q"}


def _formats(kind: Kind) -> frozenset[str]:
    size = ELEMENT_SIZE[kind]
    if kind in (Kind.F32, Kind.F64):
        return frozenset({TYPECODES[kind]})
    table = _UNSIGNED if kind in (Kind.U8, Kind.U16, Kind.U32, Kind.U64) else _SIGNED
    same = {table[size]}
    # 'l'/'L' are 8 bytes on LP64 platforms (numpy's int64), 'c' is a byte.
    if size == struct.calcsize("l"):
        same.add("l" if table is _SIGNED else "L")
    return frozenset(same)


FORMATS = {kind: _formats(kind) for kind in TYPECODES}

PYTHON_NAMES = {
    Kind.BOOL: "bool",
    Kind.F32: "float",
    Kind.F64: "float",
    Kind.STR: "str",
    Kind.STRING: "str",
}


def python_name(t: Type) -> str:
    """How a type is described to a Python caller, e.g. ``int (i32)``."""
    if t.kind in INT_RANGE:
        return f"int ({t.kind.name.lower()})"
    if t.kind in PYTHON_NAMES:
        return (
            f"{PYTHON_NAMES[t.kind]} ({t.kind.name.lower()})"
            if t.kind
            in (
                Kind.F32,
                Kind.F64,
            )
            else PYTHON_NAMES[t.kind]
        )
    if t.kind in (Kind.SLICE, Kind.VEC) and t.inner is not None and t.inner.kind is Kind.U8:
        return "a bytes-like object"
    if t.kind is Kind.MUT_SLICE and t.inner is not None and t.inner.kind is Kind.U8:
        return "a writable bytes-like object (bytearray, memoryview, numpy array)"
    if t.inner is not None and t.kind is Kind.MUT_SLICE:
        return f"a writable buffer of {t.inner.kind.name.lower()}"
    if t.inner is not None and t.kind in (Kind.SLICE, Kind.VEC):
        return f"a buffer or sequence of {t.inner.kind.name.lower()}"
    if t.kind is Kind.OPTION and t.inner is not None:
        return f"{python_name(t.inner)} or None"
    return t.rust()


def type_name(value: object) -> str:
    return type(value).__name__


def arg_error(func: str, param: str, t: Type, value: object, detail: str = "") -> TypeError:
    """The TypeError for a wrong argument, naming function, parameter and type."""
    extra = f" ({detail})" if detail else ""
    return TypeError(
        f"{func}() argument '{param}': expected {python_name(t)}, got {type_name(value)}{extra}"
    )


def check_scalar(func: str, param: str, t: Type, value: object) -> Exception | None:
    """The error a scalar argument deserves, or None when it is acceptable."""
    kind = t.kind
    if kind is Kind.BOOL:
        return None if isinstance(value, bool) else arg_error(func, param, t, value)
    if kind in (Kind.F32, Kind.F64):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if kind is Kind.F32:
                try:
                    struct.pack("<f", value)
                except OverflowError:
                    return OverflowError(
                        f"{func}() argument '{param}': {value!r} is out of range for f32"
                    )
            return None
        return arg_error(func, param, t, value)
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        return arg_error(func, param, t, value)
    number = value.__index__()  # type: ignore[attr-defined]
    low, high = INT_RANGE[kind]
    if not low <= number <= high:
        return OverflowError(
            f"{func}() argument '{param}': {number} is out of range for "
            f"{kind.name.lower()} ({low}..{high})"
        )
    return None


class Marshal:
    """Lowering and lifting for one instance; methods are bound into call code."""

    def __init__(
        self,
        memory: GuestMemory,
        arena: Arena,
        alloc: Callable[[int, int], int],
        free: Callable[[int, int, int], None],
        name: str,
    ) -> None:
        self.memory = memory
        self.arena = arena
        self.alloc = alloc
        self.free = free
        self.name = name
        self.pending_frees: list[tuple[int, int, int]] = []

    # -- lowering: Python -> guest ------------------------------------------------

    def text(self, value: object, func: str, param: str, t: Type) -> memoryview:
        if type(value) is not str:
            if isinstance(value, str):
                value = str(value)
            else:
                raise arg_error(func, param, t, value)
        try:
            return memoryview(value.encode("utf-8"))
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"{func}() argument '{param}': text is not encodable as UTF-8 "
                f"({exc.reason} at index {exc.start})"
            ) from None

    def elements(self, value: object, func: str, param: str, t: Type) -> memoryview:
        """A C-contiguous byte view of a slice/vec argument (no copy for buffers)."""
        assert t.inner is not None
        kind = t.inner.kind
        try:
            view = memoryview(value)  # type: ignore[arg-type]
        except TypeError:
            view = self._from_sequence(value, func, param, t)
        else:
            if kind is not Kind.U8 or t.kind is Kind.MUT_SLICE:
                fmt = view.format.lstrip("@=<")
                if kind is not Kind.U8 and fmt not in FORMATS[kind]:
                    raise arg_error(func, param, t, value, f"buffer of format '{view.format}'")
            if t.kind is Kind.MUT_SLICE and view.readonly:
                raise arg_error(func, param, t, value, "read-only")
        if not view.c_contiguous:
            if t.kind is Kind.MUT_SLICE:
                raise arg_error(func, param, t, value, "not contiguous")
            view = memoryview(view.tobytes())
        return view.cast("B") if view.format != "B" or view.ndim != 1 else view

    def _from_sequence(self, value: object, func: str, param: str, t: Type) -> memoryview:
        assert t.inner is not None
        if t.kind is Kind.MUT_SLICE or isinstance(value, str) or not hasattr(value, "__iter__"):
            raise arg_error(func, param, t, value)
        try:
            return memoryview(array.array(TYPECODES[t.inner.kind], value))  # type: ignore[call-overload]
        except (TypeError, OverflowError) as exc:
            raise type(exc)(f"{func}() argument '{param}': {exc}") from None

    def place_borrowed(self, data: memoryview, align: int) -> int:
        """Copy ``data`` into scratch space for one call; returns its address."""
        nbytes = data.nbytes
        if not nbytes:
            return align
        ptr = self.arena.take(nbytes, align)
        if not ptr:
            ptr = self._alloc_or_raise(nbytes, align)
            self.pending_frees.append((ptr, nbytes, align))
        self.memory.write(ptr, data)
        return ptr

    def place_owned(self, data: memoryview, align: int) -> int:
        """Copy ``data`` into a fresh allocation the guest will own and free."""
        nbytes = data.nbytes
        if not nbytes:
            return align
        ptr = self._alloc_or_raise(nbytes, align)
        self.memory.write(ptr, data)
        return ptr

    def _alloc_or_raise(self, nbytes: int, align: int) -> int:
        ptr = self.alloc(nbytes, align)
        if not ptr:
            raise MemoryLimitExceeded(
                f"{self.name}: the guest could not allocate {nbytes:,} bytes for an argument",
                hint="raise the memory limit (Limits(memory_mb=...)) or pass a smaller buffer",
            )
        return ptr

    def free_pending(self, mark: int) -> None:
        pending = self.pending_frees
        while len(pending) > mark:
            ptr, nbytes, align = pending.pop()
            self.free(ptr, nbytes, align)

    def copy_back(self, target: memoryview, ptr: int) -> None:
        """Write a ``&mut`` buffer's guest copy back into the caller's buffer."""
        nbytes = target.nbytes
        if nbytes:
            self.memory.check(ptr, nbytes)
            target[:] = self.memory.view[ptr : ptr + nbytes]

    # -- lifting: guest -> Python -------------------------------------------------

    def lift(self, t: Type, at: int) -> Any:
        """Read the return-area encoding of ``t`` at address ``at``."""
        kind = t.kind
        mem = self.memory
        if kind in TYPECODES or kind is Kind.BOOL:
            mem.check(at, 8)
            return self._scalar(t, at)
        if kind in (Kind.STR, Kind.STRING, Kind.VEC):
            ptr, length = mem.pair(at)
            return self.take_buffer(t, ptr, length)
        assert t.inner is not None
        mem.check(at, 8)
        tag = struct.unpack_from("<I", mem.view, at)[0]
        if kind is Kind.OPTION:
            return None if tag == 0 else self.lift(t.inner, at + 8)
        raise AssertionError(f"{t} is lifted by the caller")  # results: see calls.py

    def _scalar(self, t: Type, at: int) -> Any:
        view = self.memory.view
        if t.kind is Kind.BOOL:
            return struct.unpack_from("<i", view, at)[0] != 0
        if t.kind in (Kind.I64, Kind.U64, Kind.F32, Kind.F64):
            return struct.unpack_from("<" + TYPECODES[t.kind], view, at)[0]
        return narrow(t.kind, struct.unpack_from("<i", view, at)[0])

    def take_buffer(self, t: Type, ptr: int, length: int) -> Any:
        """Copy a (ptr, len) result out; free it when the guest handed it over."""
        size = abi.element_size(t)
        nbytes = length * size
        data = self.memory.read(ptr, nbytes) if nbytes else b""
        if nbytes and abi.is_owned(t):
            self.free(ptr, nbytes, size)
        if t.kind in (Kind.STR, Kind.STRING):
            return decode_text(data, self.name)
        assert t.inner is not None
        if t.inner.kind is Kind.U8:
            return data
        out = array.array(TYPECODES[t.inner.kind])
        out.frombytes(data)
        return out

    def error_message(self, at: int) -> str:
        """The owned UTF-8 message of an ``Err`` at ``at`` (freed after reading)."""
        ptr, length = self.memory.pair(at)
        data = self.memory.read(ptr, length) if length else b""
        if length:
            self.free(ptr, length, 1)
        return decode_text(data, self.name)


def narrow(kind: Kind, value: int) -> int:
    """Reinterpret an i32 carrier as the narrower (or unsigned) kind."""
    if kind is Kind.I32:
        return value
    if kind is Kind.U32:
        return value & 0xFFFFFFFF
    if kind is Kind.U8:
        return value & 0xFF
    if kind is Kind.U16:
        return value & 0xFFFF
    if kind is Kind.I8:
        return ((value & 0xFF) ^ 0x80) - 0x80
    if kind is Kind.I16:
        return ((value & 0xFFFF) ^ 0x8000) - 0x8000
    return value


def decode_text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(
            f"{name} returned text that is not UTF-8 (byte {exc.start})",
            hint="this is a bug in the guest module",
        ) from None
