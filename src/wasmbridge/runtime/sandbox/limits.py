"""``Limits``: the resources one module may use, checked on every instance and call.

A ``Limits`` is plain data (no wasmtime here, so the command line can build
one cheaply). ``guard.py`` applies it to a store and to each call,
``wasi.py`` to the WASI host calls, ``traps.py`` names it in errors.

    m = wasmbridge.load("image.wasm", limits=Limits(memory_mb=64, timeout_s=1.0))

Every field is optional; ``None`` means unlimited (for the stack: wasmtime's
512 KiB default), except that a module loaded with any ``Limits`` gets a
table cap and a bounded compilation by default (see below).
``Limits.untrusted()`` bounds everything, for code nobody vetted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, TypeGuard

if TYPE_CHECKING:
    from ...interface.binary import WasmModule

MIB = 1024 * 1024
KIB = 1024
WASM_PAGE = 64 * KIB
DEFAULT_STACK_KB = 512
DEFAULT_MAX_MODULE_BYTES = 256 * MIB
DEFAULT_CAPTURE_BYTES = 16 * MIB  # run(capture=True) without max_output_bytes
MIN_STACK_KB = 16
MAX_STACK_KB = 64 * 1024
# With any Limits, tables get this many elements in total (8 bytes each in
# wasmtime: 0.8 MiB). Rust modules use one table of a few hundred to a few
# thousand entries (one per function whose address is taken).
DEFAULT_TABLE_ELEMENTS = 100_000
# Compilation of a module loaded with limits, in CPU seconds and resident
# memory of the compiling process, scaled by the size of its code. Measured
# here: 1.2 CPU s and 74 MiB for a 552 KiB module, 0.08 s for 42 KiB; 35 s
# and 264 MiB for 59 KiB of 20,000 loops in one function, stopped at 1.5 s.
COMPILE_BASE_S = 1.0
COMPILE_S_PER_MIB = 8.0
COMPILE_BASE_MB = 512.0
COMPILE_MB_PER_MIB = 128.0
# Limits.untrusted(): what a guest nobody vetted gets (docs/sandbox.md).
UNTRUSTED_MEMORY_MB = 128
UNTRUSTED_TIMEOUT_S = 10.0
UNTRUSTED_STACK_KB = DEFAULT_STACK_KB
UNTRUSTED_MODULE_BYTES = 32 * MIB
UNTRUSTED_OUTPUT_BYTES = 16 * MIB


# Past these the engine's counters (64-bit bytes, 32-bit table indexes, 64-bit
# fuel) would wrap: a limit so large means "unlimited", so say None instead.
_MAXIMA = {
    "memory_mb": 1 << 20,  # 1 TiB
    "table_elements": (1 << 32) - 1,
    "fuel": (1 << 63) - 1,
    "max_module_bytes": 1 << 40,
    "max_output_bytes": 1 << 50,
    "compile_mb": 1 << 20,
}


@dataclass(frozen=True)
class Limits:
    """What one module may use; each limit hit raises one ``LimitExceeded`` naming it.

    - ``memory_mb``: cap on all linear memories of an instance together
      (shared out between them when there are several). ``memory.grow``
      past it returns -1 to the guest; a module declaring more fails to
      instantiate (``MemoryLimitExceeded``). The engine then reserves only
      the address space this cap needs, so many instances fit in a process.
    - ``table_elements``: the same for all tables together; 100,000 when
      not given (``DEFAULT_TABLE_ELEMENTS``).
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
    - ``compile_s`` and ``compile_mb``: CPU time and memory for compiling
      the module, in a child process (``TimeLimitExceeded``,
      ``MemoryLimitExceeded``); by default 1 s + 8 s and 512 MiB + 128 MiB
      per MiB of code. ``load()`` without limits compiles in-process,
      unbounded: it trusts the module.

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
    compile_s: float | None = None
    compile_mb: float | None = None

    @classmethod
    def untrusted(cls) -> Limits:
        """Every resource bounded, for code nobody vetted; ``wasmbridge run`` starts here.

        128 MiB of memory, 100,000 table elements, 10 s per call, a 512 KiB
        wasm stack, 32 MiB modules, 16 MiB of output per stream, and the
        default compile bounds. Widen single fields with ``dataclasses.replace``.

        >>> dataclasses.replace(Limits.untrusted(), timeout_s=60.0).timeout_s
        60.0
        """
        return cls(
            memory_mb=UNTRUSTED_MEMORY_MB,
            table_elements=DEFAULT_TABLE_ELEMENTS,
            timeout_s=UNTRUSTED_TIMEOUT_S,
            stack_kb=UNTRUSTED_STACK_KB,
            max_module_bytes=UNTRUSTED_MODULE_BYTES,
            max_output_bytes=UNTRUSTED_OUTPUT_BYTES,
        )

    def __post_init__(self) -> None:
        for name in ("memory_mb", "timeout_s", "compile_s", "compile_mb"):
            value: object = getattr(self, name)
            if value is not None and not _positive_number(value):
                raise ValueError(f"Limits({name}={value!r}): expected a positive number")
        for name in ("table_elements", "fuel", "max_module_bytes", "max_output_bytes"):
            value = getattr(self, name)
            if value is not None and not (_integer(value) and value >= 0):
                raise ValueError(f"Limits({name}={value!r}): expected a non-negative int")
        for name, top in _MAXIMA.items():
            bound: float | None = getattr(self, name)
            if bound is not None and bound > top:
                raise ValueError(f"Limits({name}={bound!r}): at most {top:,}")
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
    def table_cap(self) -> int:
        """Table elements allowed in total: ``table_elements``, else the default cap."""
        return self.table_elements if self.table_elements is not None else DEFAULT_TABLE_ELEMENTS

    def compile_budget(self, code_bytes: int) -> tuple[float, int]:
        """(CPU seconds, bytes of memory) allowed to compile ``code_bytes`` of function bodies."""
        code_mib = code_bytes / MIB
        seconds = self.compile_s
        if seconds is None:
            seconds = COMPILE_BASE_S + COMPILE_S_PER_MIB * code_mib
        megabytes = self.compile_mb
        if megabytes is None:
            megabytes = COMPILE_BASE_MB + COMPILE_MB_PER_MIB * code_mib
        return seconds, int(megabytes * MIB)

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


def fair_share(budget: int, maxima: Sequence[int | None]) -> int:
    """The largest per-item cap C with ``sum(min(maximum, C)) <= budget``.

    How one total is shared out between several memories (or tables) when
    wasmtime's store limiter takes a single cap for each of them: items
    whose declared maximum is below an equal share keep their maximum, the
    others split what is left equally. One item gets the whole budget.

    >>> fair_share(64, [None, None]), fair_share(64, [4, None]), fair_share(64, [None])
    (32, 60, 64)
    """
    count = len(maxima)
    left = budget
    for maximum in sorted(m for m in maxima if m is not None):
        if maximum * count > left:
            break  # this one and the rest can use an equal share
        left -= maximum
        count -= 1
    return left // count if count else budget


def store_limits(limits: Limits, wasm: WasmModule) -> dict[str, int]:
    """``Store.set_limits`` arguments that bound an instance's memories and tables in total.

    wasmtime caps each memory (and each table) at one size, so the total is
    shared out with ``fair_share`` and the counts are capped at what the
    module declares: n memories of at most ``budget / n`` (or their declared
    maximum) cannot exceed the budget together.
    """
    memories = [limit for i in wasm.imports if i.kind == "memory" and (limit := i.limits)]
    memories += wasm.memories
    tables = [limit for i in wasm.imports if i.kind == "table" and (limit := i.limits)]
    tables += wasm.tables
    memory_size = -1
    if limits.memory_bytes is not None:
        pages = fair_share(limits.memory_bytes // WASM_PAGE, [m for _, m in memories])
        memory_size = pages * WASM_PAGE
    return {
        "memory_size": memory_size,
        "table_elements": fair_share(limits.table_cap, [m for _, m in tables]),
        "memories": len(memories),
        "tables": len(tables),
    }


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
