"""Turning a failed guest call into one error a user can act on.

A call fails with a trap (or, rarely, an engine error). What it means
depends on what happened just before: a host import raised (that exception
comes back out, chained to the trap), the guest reported a panic (a
GuestPanic with location and message), a limit fired (LimitExceeded naming
the limit), or a plain trap (kind plus a wasm backtrace with names).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import wasmtime

from ..errors import (
    FuelExhausted,
    GuestError,
    GuestExit,
    GuestPanic,
    StackLimitExceeded,
    TimeLimitExceeded,
    Trap,
)
from ..interface.binary import WasmModule
from . import _capi

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


@dataclass
class FailureContext:
    """What an instance knows about why its last call failed."""

    module_name: str
    wasm: WasmModule
    panic: PanicReport | None = None
    host_exception: BaseException | None = None
    host_import: str = ""
    time_limit: float | None = None
    fuel_limit: int | None = None

    def clear(self) -> None:
        self.panic = None
        self.host_exception = None
        self.host_import = ""


def failure(ctx: FailureContext, call: str, error: Any, trap_address: int) -> BaseException:
    """The exception for a failed call: ``error`` is the returned error pointer or None."""
    try:
        if error:
            return _from_error(ctx, call, _capi.take_error(error))
        return _from_trap(ctx, call, _capi.take_trap(trap_address))
    finally:
        ctx.clear()


def _from_error(ctx: FailureContext, call: str, err: wasmtime.WasmtimeError) -> BaseException:
    reported = _reported(ctx, call, ())
    if reported is not None:
        return reported
    if isinstance(err, wasmtime.ExitTrap):
        return GuestExit(f"{call} in {ctx.module_name} exited with code {err.code}", code=err.code)
    text = str(err).strip()
    last = text.splitlines()[-1].strip() if text else "engine error"
    return GuestError(f"{call} in {ctx.module_name} failed: {last}")


def _from_trap(ctx: FailureContext, call: str, trap: wasmtime.Trap) -> BaseException:
    frames = tuple(_frame_text(ctx.wasm, *f) for f in _capi.trap_frames(trap))
    reported = _reported(ctx, call, frames)
    if reported is not None:
        return reported
    return _limit_or_trap(ctx, call, _capi.trap_code(trap), trap, frames)


def _reported(ctx: FailureContext, call: str, frames: tuple[str, ...]) -> BaseException | None:
    """The failure the host already knows about: an import's exception or a panic."""
    if ctx.host_exception is not None:
        exc = ctx.host_exception
        exc.add_note(
            f"raised by host import `{ctx.host_import}`, called from {call} in {ctx.module_name}"
        )
        if exc.__cause__ is None:
            exc.__cause__ = Trap(
                f"host import `{ctx.host_import}` raised {type(exc).__name__} during {call} "
                f"in {ctx.module_name}",
                kind="host",
                frames=frames,
            )
        return exc
    if ctx.panic is not None:
        return _panic(ctx, call, ctx.panic)
    return None


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
    if code == "interrupt":
        limit = f"{ctx.time_limit:g} s" if ctx.time_limit is not None else "its"
        return TimeLimitExceeded(
            f"{call} in {ctx.module_name} ran past its {limit} time limit",
            hint="raise Limits(timeout_s=...) or --timeout",
        )
    if code == "out_of_fuel":
        return FuelExhausted(
            f"{call} in {ctx.module_name} ran out of fuel ({ctx.fuel_limit:,} units)"
            if ctx.fuel_limit is not None
            else f"{call} in {ctx.module_name} ran out of fuel",
            hint="raise Limits(fuel=...)",
        )
    if code == "stack_overflow":
        return StackLimitExceeded(
            f"{call} in {ctx.module_name} exhausted the wasm stack (runaway recursion?)",
            hint="raise Limits(stack_kb=...) if the recursion is legitimate",
        )
    text = TRAP_TEXT.get(code or "", "") or _trap_line(trap.message)
    return Trap(f"{call} in {ctx.module_name}: {text}", kind=code or "trap", frames=frames)


def _trap_line(message: str) -> str:
    for line in reversed(message.strip().splitlines()):
        line = line.strip()
        if line.startswith("wasm trap:"):
            return line.removeprefix("wasm trap:").strip()
    return message.strip().splitlines()[0] if message.strip() else "trap"


def _frame_text(wasm: WasmModule, index: int, name: str | None, offset: int) -> str:
    label = name or wasm.func_name(index) or f"func[{index}]"
    return f"{label} (func {index}, offset 0x{offset:x})"
