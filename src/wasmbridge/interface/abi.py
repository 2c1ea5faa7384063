"""How interface types lower to WebAssembly values and memory (docs/abi.md).

Pure functions of the type model: every host derives its calling code
from these, so the Python runtime and the JS glue cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .layout import is_list
from .types import (
    ELEMENT_SIZE,
    NUMBERS,
    RESULTS,
    SEQUENCES,
    TEXT,
    ClassDef,
    Function,
    Interface,
    Kind,
    Method,
    RecordDef,
    Type,
)

ValType = Literal["i32", "i64", "f32", "f64"]

ALLOC_EXPORT = "__wb_alloc"  # (size: i32, align: i32) -> ptr: i32, 0 when out of memory
FREE_EXPORT = "__wb_free"  # (ptr: i32, size: i32, align: i32)
MEMORY_EXPORT = "memory"
# The guest's shadow-stack pointer (a mutable i32 global), restored after a trap.
STACK_POINTER_EXPORT = "__stack_pointer"
HOST_MODULE = "wasmbridge"  # namespace of the imports the SDK itself uses
PANIC_IMPORT = "panic"  # (msg_ptr, msg_len, file_ptr, file_len, line, column)
# (id, args, args_len, ret): calls the callback ``id`` of the running export call
# with the arguments encoded as one tuple at ``args`` (docs/abi-compound.md).
CALLBACK_IMPORT = "callback"
# A callback's non-unit result: ``ptr: u32, len: u32`` of an encoded buffer the host
# allocated with ``__wb_alloc(len, CALLBACK_RESULT_ALIGN)``, written at ``ret``.
CALLBACK_RET_SIZE = 8
CALLBACK_RESULT_ALIGN = 8

RESULT_OK = 0
RESULT_ERR = 1  # the error crosses as its message
RESULT_ERR_VALUE = 2  # RESULT_VALUE only: the error crosses as an encoded value


def valtype(kind: Kind) -> ValType:
    """The WebAssembly value type of a scalar kind."""
    if kind in (Kind.I64, Kind.U64):
        return "i64"
    if kind is Kind.F32:
        return "f32"
    if kind is Kind.F64:
        return "f64"
    return "i32"


def is_buffer(t: Type) -> bool:
    """Text or a slice/vec of numbers: crosses as (ptr, len) into linear memory.

    A slice or vec of anything else is a list: one encoded buffer (``is_list``).
    """
    return t.kind in TEXT or (t.kind in SEQUENCES and not is_list(t))


def is_single_i32(t: Type) -> bool:
    """Crosses as one ``i32`` parameter: char, a tuple, a list, a named or
    borrowed type (an encoded record's address, an enum index, a handle), or
    a callback (its id for the call)."""
    return t.kind in _SINGLE_I32 or is_list(t)


_SINGLE_I32 = frozenset({Kind.CHAR, Kind.TUPLE, Kind.NAMED, Kind.BORROW, Kind.CALLBACK})


def element_size(t: Type) -> int:
    """Bytes per element of a text or sequence type (1 for text)."""
    if t.kind in TEXT:
        return 1
    assert t.inner is not None
    return ELEMENT_SIZE[t.inner.kind]


def is_owned(t: Type) -> bool:
    """The receiver takes ownership (String, Vec<T>) rather than borrowing."""
    return t.kind in (Kind.STRING, Kind.VEC)


def param_wire(t: Type) -> tuple[ValType, ...]:
    """The wasm parameters one interface parameter lowers to."""
    if t.kind in NUMBERS or t.kind is Kind.BOOL:
        return (valtype(t.kind),)
    if is_single_i32(t):
        return ("i32",)
    if is_buffer(t):
        return ("i32", "i32")
    if t.kind is Kind.OPTION:
        assert t.inner is not None
        return ("i32", *param_wire(t.inner))
    raise ValueError(f"{t} cannot be a parameter")


def uses_retptr(result: Type) -> bool:
    """Results other than unit, scalars and char come back through a return area."""
    return not (result.kind in _DIRECT_RESULTS or result.kind in NUMBERS)


_DIRECT_RESULTS = frozenset({Kind.UNIT, Kind.BOOL, Kind.CHAR})


def retarea_size(t: Type) -> int:
    """Bytes the return-area encoding of ``t`` takes (8-aligned slots)."""
    if t.kind is Kind.UNIT:
        return 0
    if t.kind in NUMBERS or t.kind is Kind.BOOL or is_buffer(t) or is_single_i32(t):
        return 8
    assert t.inner is not None
    if t.kind is Kind.OPTION:
        return 8 + retarea_size(t.inner)
    if t.kind in RESULTS:
        return 8 + max(retarea_size(t.inner), 8)
    raise ValueError(f"{t} has no return-area encoding")


@dataclass(frozen=True)
class Signature:
    """A function's core WebAssembly signature under the ABI."""

    params: tuple[ValType, ...]
    results: tuple[ValType, ...]


def signature(func: Function) -> Signature:
    """The wasm signature an export (or import) with this interface has."""
    return _signature(func, handle=False)


def method_signature(method: Method) -> Signature:
    """The wasm signature of a method export: the return area pointer (when
    the result needs one), the receiver's handle (``&self``, ``&mut self``,
    ``self``), then the parameters."""
    return _signature(method.function, handle=method.takes_handle)


# Every class's destructor `Class#drop(handle: i32)`.
DESTRUCTOR_SIGNATURE = Signature(("i32",), ())
# The SDK's imports from HOST_MODULE (docs/abi.md "Panics", docs/abi-compound.md "Callbacks").
PANIC_SIGNATURE = Signature(("i32",) * 6, ())
CALLBACK_SIGNATURE = Signature(("i32",) * 4, ())
SDK_IMPORTS = {PANIC_IMPORT: PANIC_SIGNATURE, CALLBACK_IMPORT: CALLBACK_SIGNATURE}


def _signature(func: Function, *, handle: bool) -> Signature:
    params: list[ValType] = ["i32"] if uses_retptr(func.result) else []
    if handle:
        params.append("i32")
    for p in func.params:
        params.extend(param_wire(p.type))
    results: tuple[ValType, ...] = ()
    if not uses_retptr(func.result) and func.result.kind is not Kind.UNIT:
        results = (valtype(func.result.kind),)
    return Signature(tuple(params), results)


def needs_memory(func: Function, iface: Interface | None = None) -> bool:
    """Whether calling ``func`` touches linear memory (allocator, buffers, retptr).

    A named parameter needs memory when it is a record (an encoded buffer);
    without ``iface`` to tell, every named parameter counts as one.
    """
    types = [p.type for p in func.params] + [func.result]
    return uses_retptr(func.result) or any(_uses_memory(t, iface) for t in types)


def _uses_memory(t: Type, iface: Interface | None) -> bool:
    if is_buffer(t) or is_list(t) or t.kind is Kind.TUPLE:
        return True
    if t.kind is Kind.CALLBACK:  # an argument buffer, a result the host allocates
        return bool(t.items) or (t.inner is not None and t.inner.kind is not Kind.UNIT)
    if t.kind is Kind.NAMED or t.kind is Kind.BORROW:
        found = None if iface is None else iface.type_def(t.name)
        return found is None or isinstance(found, RecordDef)
    return t.inner is not None and _uses_memory(t.inner, iface)


def class_exports(cls: ClassDef) -> list[tuple[str, Signature]]:
    """Every wasm export a class needs, with its type: methods, then the destructor."""
    exports = [(m.function.name, method_signature(m)) for m in cls.methods]
    return [*exports, (cls.destructor, DESTRUCTOR_SIGNATURE)]
