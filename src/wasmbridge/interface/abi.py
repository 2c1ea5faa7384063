"""How interface types lower to WebAssembly values and memory (docs/abi.md).

Pure functions of the type model: every host derives its calling code
from these, so the Python runtime and the JS glue cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .types import ELEMENT_SIZE, NUMBERS, SEQUENCES, TEXT, Function, Kind, Type

ValType = Literal["i32", "i64", "f32", "f64"]

ALLOC_EXPORT = "__wb_alloc"  # (size: i32, align: i32) -> ptr: i32, 0 when out of memory
FREE_EXPORT = "__wb_free"  # (ptr: i32, size: i32, align: i32)
MEMORY_EXPORT = "memory"
# The guest's shadow-stack pointer (a mutable i32 global), restored after a trap.
STACK_POINTER_EXPORT = "__stack_pointer"
HOST_MODULE = "wasmbridge"  # namespace of the imports the SDK itself uses
PANIC_IMPORT = "panic"  # (msg_ptr, msg_len, file_ptr, file_len, line, column)

RESULT_OK = 0
RESULT_ERR = 1


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
    """Text or a slice/vec: crosses as (ptr, len) into linear memory."""
    return t.kind in TEXT or t.kind in SEQUENCES


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
    if is_buffer(t):
        return ("i32", "i32")
    if t.kind is Kind.OPTION:
        assert t.inner is not None
        return ("i32", *param_wire(t.inner))
    raise ValueError(f"{t} cannot be a parameter")


def uses_retptr(result: Type) -> bool:
    """Results other than unit and scalars come back through a return area."""
    return not (result.kind is Kind.UNIT or result.kind in NUMBERS or result.kind is Kind.BOOL)


def retarea_size(t: Type) -> int:
    """Bytes the return-area encoding of ``t`` takes (8-aligned slots)."""
    if t.kind is Kind.UNIT:
        return 0
    if t.kind in NUMBERS or t.kind is Kind.BOOL or is_buffer(t):
        return 8
    assert t.inner is not None
    if t.kind is Kind.OPTION:
        return 8 + retarea_size(t.inner)
    if t.kind is Kind.RESULT:
        return 8 + max(retarea_size(t.inner), 8)
    raise ValueError(f"{t} has no return-area encoding")


@dataclass(frozen=True)
class Signature:
    """A function's core WebAssembly signature under the ABI."""

    params: tuple[ValType, ...]
    results: tuple[ValType, ...]


def signature(func: Function) -> Signature:
    """The wasm signature an export (or import) with this interface has."""
    params: list[ValType] = ["i32"] if uses_retptr(func.result) else []
    for p in func.params:
        params.extend(param_wire(p.type))
    results: tuple[ValType, ...] = ()
    if not uses_retptr(func.result) and func.result.kind is not Kind.UNIT:
        results = (valtype(func.result.kind),)
    return Signature(tuple(params), results)


def needs_memory(func: Function) -> bool:
    """Whether calling ``func`` touches linear memory (allocator, buffers, retptr)."""
    types = [p.type for p in func.params] + [func.result]
    return uses_retptr(func.result) or any(_contains_buffer(t) for t in types)


def _contains_buffer(t: Type) -> bool:
    if is_buffer(t):
        return True
    return t.inner is not None and t.kind not in SEQUENCES and _contains_buffer(t.inner)
