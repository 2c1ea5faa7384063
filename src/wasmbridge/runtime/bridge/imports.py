"""Host functions a guest imports: Python callables behind raw callbacks.

Each import becomes a wasmtime host function with an unchecked callback
that lifts the guest's arguments (numbers from the raw value array, text
and buffers from guest memory), calls the Python function, and lowers its
result back (docs/abi.md, "Imports"). A Python exception is kept and the
guest is trapped; the export call that led here re-raises it unchanged.
"""

from __future__ import annotations

import array
import struct
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, Protocol

from ...errors import ProtocolError, StackLimitExceeded
from ...interface import abi
from ...interface.plan import (
    VALTYPE_FACTS,
    CallPlan,
    Lifting,
    Lowering,
    ParamPlan,
    ResultPlan,
    ScalarFacts,
    plan_call,
)
from ...interface.types import Function, Kind
from .. import _capi
from ..sandbox import interrupt
from ..sandbox.traps import FailureContext, PanicReport
from .classes import instance_types
from .marshal import Marshal, ParamInfo, check_scalar, decode_text, narrow
from .memory import GuestMemory
from .values import LiftError, LowerError, char_code, char_from

_SLOT = _capi.VALRAW_SIZE
_I32 = struct.Struct("<i")
_U32 = struct.Struct("<I")


class HostState(Protocol):
    """What callbacks need from their instance."""

    failure: FailureContext
    callback_thread: int | None
    callback_depth: int
    marshal: Marshal | None

    def memory_for(self, caller: int) -> GuestMemory: ...

    def marshal_for(self, caller: int) -> Marshal: ...


def host_callback(
    state: HostState, func: Function, target: Callable[..., Any]
) -> _capi.HostCallback:
    """The raw callback for an import described by the interface."""
    label = f"{func.module}.{func.name}" if func.module else func.name
    plan = plan_call(func, None)

    def call(caller: int, values: int, count: int) -> None:
        raw = _capi.read_raw(values, _SLOT * count) if count else b""
        reader = _ArgReader(raw, state, caller, label)
        args = [reader.value(p) for p in plan.params]
        result = target(*args)
        for writeback in reader.writebacks:
            writeback()
        _lower_result(state, caller, plan, label, result, values, raw)

    return _trapping(state, label, call)


def _trapping(
    state: HostState, label: str, call: Callable[[int, int, int], None]
) -> _capi.HostCallback:
    """The raw callback around ``call``: marks the host call as running (for
    nested calls and the arena), and turns an exception into a trap whose
    exception the export call re-raises.

    KeyboardInterrupt included: ``call``'s code is registered as safe for
    the SIGINT handler, which raises inside it at once, while anywhere else
    on the way in or out (where ctypes would swallow it and the guest carry
    on as if the import had returned) it defers (interrupt.py)."""
    interrupt.SAFE.add(call.__code__)

    def callback(env: int, caller: int, values: int, count: int) -> int:
        previous = state.callback_thread
        state.callback_thread = threading.get_ident()
        state.callback_depth += 1
        arena = state.marshal.arena if state.marshal is not None else None
        if arena is not None:
            arena.busy += 1
        try:
            if state.callback_depth > NESTED_CALLBACKS_UNCHECKED:
                check_python_headroom(state.failure.module_name)
            call(caller, values, count)
            return 0
        except BaseException as exc:  # noqa: BLE001 - re-raised out of the export call
            state.failure.host_exception = exc
            state.failure.host_import = label
            return _capi.new_trap(f"host import {label} raised {type(exc).__name__}")
        finally:
            state.callback_thread = previous
            state.callback_depth -= 1
            if arena is not None:
                arena.busy -= 1

    return callback


# Python frames kept free below the recursion limit while host imports and
# exports call each other: a host import must always be able to report its
# exception as a trap (a RecursionError inside ctypes' callback machinery is
# swallowed, and the guest then reads a garbage trap pointer).
RECURSION_HEADROOM = 200
NESTED_CALLBACKS_UNCHECKED = 8  # shallower nesting costs no stack walk


def check_python_headroom(module: str) -> None:
    """Raise StackLimitExceeded when Python's stack is near its recursion limit."""
    depth = 0
    frame: FrameType | None = sys._getframe()
    while frame is not None:
        depth += 1
        frame = frame.f_back
    limit = sys.getrecursionlimit()
    if depth > limit - RECURSION_HEADROOM:
        raise StackLimitExceeded(
            f"{module}: host imports and exports called each other until Python's stack was "
            f"{depth} frames deep (its recursion limit is {limit})",
            hint="look for a host import that calls back into the module without end, or "
            "raise sys.setrecursionlimit()",
        )


def raw_callback(
    state: HostState,
    label: str,
    params: tuple[str, ...],
    results: tuple[str, ...],
    target: Callable[..., Any],
) -> _capi.HostCallback:
    """The callback for an import known only by its wasm signature (numbers in, out)."""
    formats: dict[str, str] = {v: facts.struct_code for v, facts in VALTYPE_FACTS.items()}

    def call(caller: int, values: int, count: int) -> None:
        raw = _capi.read_raw(values, _SLOT * count) if count else b""
        args = [struct.unpack_from(formats[p], raw, _SLOT * i)[0] for i, p in enumerate(params)]
        out = target(*args)
        outs = () if not results else (out,) if len(results) == 1 else tuple(out)
        if len(outs) != len(results):
            raise TypeError(
                f"host import {label} returned {len(outs)} values, expected {len(results)}"
            )
        for i, (valtype, value) in enumerate(zip(results, outs, strict=True)):
            _capi.write_raw(values + _SLOT * i, _pack(formats[valtype], value, label))

    return _trapping(state, label, call)


def callback_host(state: HostState) -> _capi.HostCallback:
    """``wasmbridge.callback(id, args, args_len, ret)``: runs the Python callable that
    the export call running now passed for a callback parameter (classes.Callback)."""
    label = f"{abi.HOST_MODULE}.{abi.CALLBACK_IMPORT}"

    def call(caller: int, values: int, count: int) -> None:
        raw = _capi.read_raw(values, _SLOT * count)
        callback_id, args, args_len, ret = (
            struct.unpack_from("<I", raw, _SLOT * i)[0] for i in range(4)
        )
        types = instance_types(state)
        callback = types.callbacks.get(callback_id) if types is not None else None
        if callback is None:
            raise ProtocolError(
                f"{state.failure.module_name} called callback {callback_id}, which no running "
                "call passed (a callback is valid only until the call it was passed to returns)",
                hint="this is a bug in the guest module: it kept a callback past its call",
            )
        callback.run(state.memory_for(caller), args, args_len, ret)

    return _trapping(state, label, call)


def panic_callback(state: HostState) -> _capi.HostCallback:
    """``wasmbridge.panic``: remember the report, then trap the guest."""

    def callback(env: int, caller: int, values: int, count: int) -> int:
        try:
            raw = _capi.read_raw(values, _SLOT * count)
            msg_ptr, msg_len, file_ptr, file_len, line, column = (
                struct.unpack_from("<I", raw, _SLOT * i)[0] for i in range(6)
            )
            memory = state.memory_for(caller)
            message = _text_or_empty(memory, msg_ptr, msg_len)
            file = _text_or_empty(memory, file_ptr, file_len) or "<unknown>"
            state.failure.panic = PanicReport(message, file, line, column)
        except BaseException:  # noqa: BLE001 - a malformed report still traps
            state.failure.panic = PanicReport("", "<unreadable panic report>", 0, 0)
        return _capi.new_trap("guest panicked")

    return callback


def _text_or_empty(memory: GuestMemory, ptr: int, length: int) -> str:
    if not length:
        return ""
    return memory.read(ptr, length).decode("utf-8", errors="replace")


def _pack(fmt: str, value: Any, label: str) -> bytes:
    try:
        return struct.pack(fmt, value)
    except struct.error as exc:
        raise TypeError(f"host import {label} returned {value!r}: {exc}") from None


class _ArgReader:
    """Lifts one import call's arguments, each from the slots its plan names."""

    def __init__(self, raw: bytes, state: HostState, caller: int, label: str) -> None:
        self.raw = raw
        self.label = label
        self.state = state
        self.caller = caller
        self.writebacks: list[Callable[[], None]] = []

    def _slot(self, form: struct.Struct, slot: int) -> Any:
        return form.unpack_from(self.raw, _SLOT * slot)[0]

    def value(self, plan: ParamPlan) -> Any:
        lowering = plan.lowering
        facts = plan.facts
        if lowering is Lowering.SCALAR:
            assert facts is not None
            if facts.valtype != "i32":
                return struct.unpack_from(facts.struct_code, self.raw, _SLOT * plan.slot)[0]
            value = self._slot(_I32, plan.slot)
            return value != 0 if facts.range is None else narrow(facts, value)
        if lowering is Lowering.CHAR:
            try:
                return char_from(self._slot(_U32, plan.slot))
            except LiftError as exc:
                raise ProtocolError(
                    f"{self.state.failure.module_name} passed host import {self.label} a bad "
                    f"char: {exc.message}",
                    hint="this is a bug in the guest module or a mismatched interface",
                ) from None
        if lowering is Lowering.OPTION:
            assert plan.inner is not None
            present = self._slot(_I32, plan.slot)
            value = self.value(plan.inner)
            return value if present else None
        ptr, length = self._slot(_U32, plan.slot), self._slot(_U32, plan.slot + 1)
        return self._buffer(plan, ptr, length)

    def _buffer(self, plan: ParamPlan, ptr: int, length: int) -> Any:
        memory = self.state.memory_for(self.caller)
        facts = plan.facts
        size = 1 if facts is None else facts.size
        data = memory.read(ptr, length * size) if length else b""
        if plan.lowering is Lowering.TEXT:
            return decode_text(data, "the guest")
        assert facts is not None
        if plan.lowering is Lowering.MUT_ELEMENTS:
            buf: Any = bytearray(data) if facts.kind is Kind.U8 else _array(facts, data)
            if length:
                self.writebacks.append(lambda: _write_back(memory, ptr, buf, len(data), self.label))
            return buf
        return data if plan.lowering is Lowering.BYTES else _array(facts, data)


def _write_back(memory: GuestMemory, ptr: int, buf: Any, nbytes: int, label: str) -> None:
    """Copy a ``&mut`` argument back; the guest's slice has a fixed length."""
    view = memoryview(buf).cast("B")
    if view.nbytes != nbytes:
        raise ValueError(
            f"host import {label} changed the length of its &mut argument from {nbytes:,} "
            f"to {view.nbytes:,} bytes; write into it in place (buf[:] = data of the same length)"
        )
    memory.write(ptr, view)


def _array(facts: ScalarFacts, data: bytes) -> array.array[Any]:
    out = array.array(facts.code)
    out.frombytes(data)
    return out


def _lower_result(
    state: HostState,
    caller: int,
    plan: CallPlan,
    label: str,
    result: Any,
    values: int,
    raw: bytes,
) -> None:
    if plan.result.lifting is Lifting.NONE:
        return
    if not plan.retptr:  # the single wasm result
        _capi.write_raw(values, _scalar_bytes(plan.result, result, label))
        return
    retptr = _U32.unpack_from(raw, 0)[0]
    marshal = state.marshal_for(caller)
    _write_retarea(marshal, plan.result, result, retptr, label)


def _scalar_bytes(plan: ResultPlan, value: Any, label: str) -> bytes:
    if plan.lifting is Lifting.CHAR:
        try:
            return _U32.pack(char_code(value))
        except LowerError as exc:
            raise exc.error(f"host import {label} returned {value!r:.40}: {exc.message}") from None
    facts = plan.facts
    assert facts is not None
    problem = check_scalar(f"host import {label}", "return", plan.type, value)
    if problem is not None:
        raise TypeError(
            f"host import {label} returned {type(value).__name__}, expected {plan.type}"
        )
    if facts.valtype != "i32":
        return struct.pack(facts.struct_code, value)
    if facts.range is None:  # bool
        return _I32.pack(1 if value else 0)
    return _U32.pack(value & 0xFFFFFFFF)


def _write_retarea(marshal: Marshal, plan: ResultPlan, value: Any, at: int, label: str) -> None:
    memory = marshal.memory
    lifting = plan.lifting
    if lifting is Lifting.OPTION:
        assert plan.inner is not None
        memory.write(at, memoryview(_U32.pack(0 if value is None else 1)))
        if value is not None:
            _write_retarea(marshal, plan.inner, value, at + 8, label)
        return
    if lifting in (Lifting.TEXT, Lifting.BYTES, Lifting.ELEMENTS):
        info = ParamInfo(f"host import {label}", "result", plan.type, element=plan.facts)
        if lifting is Lifting.TEXT:
            data: bytes | memoryview = marshal.encode_text(value, info)
        else:
            data = marshal.elements(value, info)
        size = 1 if plan.facts is None else plan.facts.size
        ptr = marshal.place_owned(data, size)
        length = (data.nbytes if isinstance(data, memoryview) else len(data)) // size
        memory.write(at, memoryview(struct.pack("<II", ptr, length)))
        return
    memory.write(at, memoryview(_scalar_bytes(plan, value, label).ljust(8, b"\0")))
