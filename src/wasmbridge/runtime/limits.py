"""``Limits``: the resources one module may use, checked on every instance and call.

A ``Limits`` is plain data (no wasmtime here, so the command line can build
one cheaply). ``guard.py`` applies it to a store and to each call,
``wasi.py`` to the WASI host calls, ``traps.py`` names it in errors.

    m = wasmbridge.load("image.wasm", limits=Limits(memory_mb=64, timeout_s=1.0))

Every field is optional; ``None`` means unlimited (for the stack: wasmtime's
512 KiB default).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import TypeGuard

MIB = 1024 * 1024
KIB = 1024
WASM_PAGE = 64 * KIB
DEFAULT_STACK_KB = 512
DEFAULT_MAX_MODULE_BYTES = 256 * MIB
DEFAULT_CAPTURE_BYTES = 16 * MIB  # run(capture=True) without max_output_bytes
MIN_STACK_KB = 16
MAX_STACK_KB = 64 * 1024


@dataclass(frozen=True)
class Limits:
    """What one module may use; each limit hit raises one ``LimitExceeded`` naming it.

    - ``memory_mb``: cap on each linear memory. ``memory.grow`` past it returns
      -1 to the guest; a module declaring more fails to instantiate
      (``MemoryLimitExceeded``).
    - ``table_elements``: the same for tables.
    - ``timeout_s``: wall-clock time per call (and for instantiation), by
      epoch deadline; WASI sleeps and writes stop at the same deadline
      (``TimeLimitExceeded``).
    - ``fuel``: a deterministic instruction budget per call
      (``FuelExhausted``); compiled code differs, so it has its own engine.
    - ``stack_kb``: the wasm stack (``StackLimitExceeded``); the calling
      thread's stack must be larger, and is checked before each call.
    - ``max_module_bytes``: refuse larger files before compiling.
    - ``max_output_bytes``: cap on stdout and stderr of a WASI program, each
      (``OutputLimitExceeded``); captured output defaults to 16 MiB.

    >>> Limits(memory_mb=64, timeout_s=1.0)
    Limits(memory_mb=64, timeout_s=1.0)
    """

    memory_mb: float | None = None
    table_elements: int | None = None
    timeout_s: float | None = None
    fuel: int | None = None
    stack_kb: int | None = None
    max_module_bytes: int | None = None
    max_output_bytes: int | None = None

    def __post_init__(self) -> None:
        for name in ("memory_mb", "timeout_s"):
            value: object = getattr(self, name)
            if value is not None and not _positive_number(value):
                raise ValueError(f"Limits({name}={value!r}): expected a positive number")
        for name in ("table_elements", "fuel", "max_module_bytes", "max_output_bytes"):
            value = getattr(self, name)
            if value is not None and not (_integer(value) and value >= 0):
                raise ValueError(f"Limits({name}={value!r}): expected a non-negative int")
        kb: object = self.stack_kb
        if kb is not None and not (_integer(kb) and MIN_STACK_KB <= kb <= MAX_STACK_KB):
            raise ValueError(
                f"Limits(stack_kb={kb!r}): expected an int from {MIN_STACK_KB} to {MAX_STACK_KB}"
            )

    def __repr__(self) -> str:
        shown = [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)
            if getattr(self, f.name) is not None
        ]
        return f"Limits({', '.join(shown)})"

    @property
    def memory_bytes(self) -> int | None:
        """The memory cap in bytes, rounded down to whole 64 KiB wasm pages (at least one)."""
        if self.memory_mb is None:
            return None
        return max(WASM_PAGE, int(self.memory_mb * MIB) // WASM_PAGE * WASM_PAGE)

    @property
    def stack_bytes(self) -> int:
        return (self.stack_kb or DEFAULT_STACK_KB) * KIB

    @property
    def module_bytes(self) -> int:
        return (
            self.max_module_bytes if self.max_module_bytes is not None else DEFAULT_MAX_MODULE_BYTES
        )

    @property
    def per_call(self) -> bool:
        """Whether calls need arming (deadline or fuel) before they run."""
        return self.timeout_s is not None or self.fuel is not None


UNLIMITED = Limits()


def _integer(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return value > 0 and math.isfinite(value)


def fmt_size(nbytes: int) -> str:
    """``64 MiB``, ``512 KiB``, ``1,000 B``: how limits are shown in messages."""
    if nbytes >= MIB and nbytes % MIB == 0:
        return f"{nbytes // MIB:,} MiB"
    if nbytes >= MIB:
        return f"{nbytes / MIB:.1f} MiB"
    if nbytes >= KIB and nbytes % KIB == 0:
        return f"{nbytes // KIB:,} KiB"
    return f"{nbytes:,} B"


def fmt_seconds(seconds: float) -> str:
    """``1 s``, ``0.25 s``: the time limit as the user wrote it."""
    return f"{seconds:g} s"
