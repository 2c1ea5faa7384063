"""Turning a failed guest call into one error a user can act on.

A call fails with a trap (or, rarely, an engine error). What it means
depends on what happened just before: a host import raised (that exception
comes back out, chained to the trap), the guest reported a panic (a
GuestPanic with location and message), a limit fired (LimitExceeded naming
the limit), or a plain trap (kind plus a wasm backtrace with names).

Limits are reported here, in one place, so every limit has one message
shape: what ran past which limit, and the exact setting that raises it.
A host function that stops a guest for a limit (a WASI sleep cut short at
the deadline) or on its behalf (``proc_exit``) records a ``LimitHit`` or
the exit code, then traps; that record wins over the trap's own code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import wasmtime

from ...errors import (
    FuelExhausted,
    GuestError,
    GuestExit,
    GuestPanic,
    LimitExceeded,
    MemoryLimitExceeded,
    OutputLimitExceeded,
    StackLimitExceeded,
    TimeLimitExceeded,
    Trap,
)
from ...interface.binary import WasmModule
from ...interface.types import shown
from .. import _capi
from . import interrupt
from .limits import DEFAULT_STACK_KB, WASM_PAGE, Limits, fmt_seconds, fmt_size

TRAP_TEXT = {
    "integer_division_by_zero": "integer divide by zero",
    "integer_overflow": "integer overflow",
    "unreachable": "unreachable instruction executed",
    "memory_out_of_bounds": "out of bounds memory access",
    "table_out_of_bounds": "out of bounds table access",
    "indirect_call_to_null": "indirect call to a null table entry",
    "bad_signature": "indirect call signature mismatch",
    "bad_conversion_to_integer": "invalid conversion to integer",
    "heap_misaligned": "misaligned memory access",
    "stack_overflow": "call stack exhausted",
    "interrupt": "interrupted",
    "out_of_fuel": "all fuel consumed",
}


@dataclass
class PanicReport:
    message: str
    file: str
    line: int
    column: int


LimitKind = Literal["time", "output", "fuel"]


@dataclass(frozen=True)
class LimitHit:
    """A limit a host function enforced: ``detail`` says where (``while ...``)."""

    kind: LimitKind
    detail: str = ""
    stream: str = "stdout"  # for "output"


@dataclass
class FailureContext:
    """What an instance knows about why its last call failed."""

    module_name: str
    wasm: WasmModule
    limits: Limits | None = None
    panic: PanicReport | None = None
    host_exception: BaseException | None = None
    host_import: str = ""
    limit_hit: LimitHit | None = None  # the first limit a host function enforced
    exit_code: int | None = None  # set by WASI proc_exit
    memory_size: Callable[[], int] | None = None  # bytes of the exported memory now

    def clear(self) -> None:
        self.panic = None
        self.host_exception = None
        self.host_import = ""
        self.limit_hit = None
        self.exit_code = None

    def hit(self, limit: LimitHit) -> None:
        """Record ``limit`` unless an earlier one is already recorded (the first cause wins)."""
        if self.limit_hit is None:
            self.limit_hit = limit


def failure(ctx: FailureContext, call: str, error: Any, trap_address: int) -> BaseException:
    """The exception for a failed call: ``error`` is the returned error pointer or None."""
    try:
        if error:
            err = _capi.take_error(error)
            return _interrupted(ctx, call) or _from_error(ctx, call, err)
        trap = _capi.take_trap(trap_address)  # taken in every case: it clears the trap slot
        return _interrupted(ctx, call) or _from_trap(ctx, call, trap)
    finally:
        ctx.clear()


def _interrupted(ctx: FailureContext, call: str) -> KeyboardInterrupt | None:
    """KeyboardInterrupt when Ctrl-C stopped the call (it wins over whatever else failed)."""
    if not interrupt.take():
        return None
    exc = KeyboardInterrupt()
    exc.add_note(f"Ctrl-C stopped {call} in {ctx.module_name}; the instance stays usable")
    return exc


def _from_error(ctx: FailureContext, call: str, err: wasmtime.WasmtimeError) -> BaseException:
    reported = _reported(ctx, call, ())
    if reported is not None:
        return reported
    if isinstance(err, wasmtime.ExitTrap):
        return GuestExit(f"{call} in {ctx.module_name} exited with code {err.code}", code=err.code)
    text = str(err).strip()
    last = text.splitlines()[-1].strip() if text else "engine error"
    last = shown(re.sub(r"^\d+: ", "", last), 200)
    # Errors (not traps) come from host calls the engine implements, WASI's
    # among them, refusing what the guest passed.
    return GuestError(
        f"{call} in {ctx.module_name} failed in a host call: {last}",
        hint="the guest passed a host call (WASI) arguments it refuses: a bug in the guest, "
        "or a module built for another WASI version",
    )


def _from_trap(ctx: FailureContext, call: str, trap: wasmtime.Trap) -> BaseException:
    frames = tuple(_frame_text(ctx.wasm, *f) for f in _capi.trap_frames(trap))
    reported = _reported(ctx, call, frames)
    if reported is not None:
        return reported
    return _limit_or_trap(ctx, call, _capi.trap_code(trap), trap, frames)


def start_failure(ctx: FailureContext, trap: wasmtime.Trap) -> BaseException:
    """The exception for a trap in the start function, during instantiation."""
    try:
        call = "the start function"
        stopped = _interrupted(ctx, call)
        if stopped is not None:
            return stopped
        frames = tuple(_frame_text(ctx.wasm, *f) for f in _capi.trap_frames(trap))
        reported = _reported(ctx, call, frames)
        if reported is not None:
            return reported
        return _limit_or_trap(ctx, call, _capi.trap_code(trap), trap, frames)
    finally:
        ctx.clear()


def start_error(ctx: FailureContext) -> BaseException | None:
    """What stopped the start function, if a host function recorded it (an engine error)."""
    try:
        call = "the start function"
        return _interrupted(ctx, call) or _reported(ctx, call, ())
    finally:
        ctx.clear()


def _reported(ctx: FailureContext, call: str, frames: tuple[str, ...]) -> BaseException | None:
    """What the host already knows: a limit hit, an exit, an import's exception, a panic."""
    if ctx.limit_hit is not None:
        return limit_error(ctx, call, ctx.limit_hit)
    if ctx.exit_code is not None:
        return GuestExit(
            f"{call} in {ctx.module_name} exited with code {ctx.exit_code}", code=ctx.exit_code
        )
    if ctx.host_exception is not None:
        return _host_exception(ctx, call, frames, ctx.host_exception)
    if ctx.panic is not None:
        return _panic(ctx, call, ctx.panic)
    return None


_HOST_NOTE = "raised by host import `"


def _host_exception(
    ctx: FailureContext, call: str, frames: tuple[str, ...], exc: BaseException
) -> BaseException:
    """``exc`` as the call raises it: one note and a Trap cause naming this call.

    A host function may raise the same exception object on every call (a
    module-level constant, say). Python keeps adding to such an object: a note
    per call, and each raise prepends its frames to the traceback the object
    already holds. So the note and the cause are replaced, never added twice,
    and the frames left from earlier raises are cut: 100,000 failing calls cost
    what one does.
    """
    note = f"{_HOST_NOTE}{ctx.host_import}`, called from {call} in {ctx.module_name}"
    notes = getattr(exc, "__notes__", None)
    ours = [i for i, n in enumerate(notes or ()) if str(n).startswith(_HOST_NOTE)]
    if notes is not None and ours:
        notes[ours[0]] = note
    else:
        exc.add_note(note)
    if exc.__cause__ is None or (isinstance(exc.__cause__, Trap) and exc.__cause__.kind == "host"):
        exc.__cause__ = Trap(
            f"host import `{ctx.host_import}` raised {type(exc).__name__} during {call} "
            f"in {ctx.module_name}",
            kind="host",
            frames=frames,
        )
    _cut_earlier_raises(exc)
    return exc


def _cut_earlier_raises(exc: BaseException) -> None:
    """Drop the traceback entries ``exc`` carries from raises before this one.

    The entries of one raise form a call chain (each frame called the next);
    where that breaks, the entries of an earlier raise of the same object begin.
    """
    entry = exc.__traceback__
    while entry is not None and entry.tb_next is not None:
        if entry.tb_next.tb_frame.f_back is not entry.tb_frame:
            entry.tb_next = None
            return
        entry = entry.tb_next


def _panic(ctx: FailureContext, call: str, report: PanicReport) -> GuestPanic:
    where = f"{report.file}:{report.line}:{report.column}"
    message = report.message
    hint = None
    if not message:
        message = "(formatted panic message omitted in size-optimized builds)"
        hint = "rebuild with `wasmbridge build --panic-messages` (or --dev) to see the full message"
    return GuestPanic(
        f"{call} in {ctx.module_name} panicked at {where}: {message}",
        panic_message=report.message,
        file=report.file,
        line=report.line,
        column=report.column,
        hint=hint,
    )


def _limit_or_trap(
    ctx: FailureContext, call: str, code: str | None, trap: wasmtime.Trap, frames: tuple[str, ...]
) -> BaseException:
    limits = ctx.limits or Limits()
    where = f"{call} in {ctx.module_name}"
    if code == "interrupt":
        return limit_error(ctx, call, LimitHit("time"))
    if code == "out_of_fuel":
        budget = f" ({limits.fuel:,} units)" if limits.fuel is not None else ""
        return FuelExhausted(f"{where} ran out of fuel{budget}", hint="raise Limits(fuel=...)")
    if code == "stack_overflow":
        stack = fmt_size((limits.stack_kb or DEFAULT_STACK_KB) * 1024)
        return StackLimitExceeded(
            f"{where} exhausted the wasm stack ({stack}; runaway recursion?)",
            hint="raise Limits(stack_kb=...) if the recursion is legitimate",
        )
    text = TRAP_TEXT.get(code or "", "") or _trap_line(trap.message)
    cap = limits.memory_bytes
    used = ctx.memory_size() if ctx.memory_size is not None else 0
    if cap is not None and code == "unreachable" and used + max(WASM_PAGE, cap // 8) > cap:
        # The way guests give up when memory.grow returns -1 (Rust aborts on a
        # failed allocation): an abort with no room left to grow in.
        return MemoryLimitExceeded(
            f"{where} trapped ({text}) with its memory at {fmt_size(used)} of its "
            f"{fmt_size(cap)} limit: memory.grow fails past it",
            hint="raise Limits(memory_mb=...) or --max-memory",
        )
    hint = None
    if cap is not None and code == "unreachable":
        hint = (
            f"if the guest ran out of memory: memory.grow fails past its {fmt_size(cap)} limit; "
            "raise Limits(memory_mb=...) or --max-memory"
        )
    return Trap(f"{where}: {text}", kind=code or "trap", frames=frames, hint=hint)


def limit_error(ctx: FailureContext, call: str, hit: LimitHit) -> LimitExceeded:
    """The error for a limit enforced by the engine (the epoch) or by a host function."""
    limits = ctx.limits or Limits()
    where = f"{call} in {ctx.module_name}"
    detail = f" {hit.detail}" if hit.detail else ""
    if hit.kind == "output":
        cap = limits.max_output_bytes
        shown = f"{fmt_size(cap)} " if cap is not None else ""
        return OutputLimitExceeded(
            f"{where} wrote more than its {shown}{hit.stream} limit{detail}",
            hint="raise Limits(max_output_bytes=...), or send the output to a file",
        )
    if hit.kind == "fuel":  # a WASI sleep costing more fuel than was left
        budget = f" ({limits.fuel:,} units)" if limits.fuel is not None else ""
        return FuelExhausted(
            f"{where} ran out of fuel{budget}{detail}", hint="raise Limits(fuel=...)"
        )
    shown = f"{fmt_seconds(limits.timeout_s)} " if limits.timeout_s is not None else ""
    return TimeLimitExceeded(
        f"{where} ran past its {shown}time limit{detail}",
        hint="raise Limits(timeout_s=...) or --timeout",
    )


def _trap_line(message: str) -> str:
    for line in reversed(message.strip().splitlines()):
        line = line.strip()
        if line.startswith("wasm trap:"):
            return line.removeprefix("wasm trap:").strip()
    return message.strip().splitlines()[0] if message.strip() else "trap"


def _frame_text(wasm: WasmModule, index: int, name: str | None, offset: int) -> str:
    label = shown(name or wasm.func_name(index) or f"func[{index}]", 120)
    return f"{label} (func {index}, offset 0x{offset:x})"
