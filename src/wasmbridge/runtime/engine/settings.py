"""The shared wasmtime engines and the settings that define them.

One engine per distinct configuration, created once per process: compiled
code is tied to the engine settings, so those settings are part of the
compile cache key.

Epoch checks: only code that runs under a time limit (``Limits.timeout_s``)
is compiled with epoch interruption (``EngineSettings.epoch``). The checks
at every function entry and loop header cost 12% on SHA-256 and 40% on a
blur kernel, so code without a time limit runs without them, at native
speed; the price is that nothing can stop it from outside (Ctrl-C included:
see sandbox/interrupt.py). A module instantiated with a time limit is
compiled once more for the epoch engine, through the cache.

Address space: by default wasmtime reserves 4 GiB (plus 32 MiB guard
regions on each side) of virtual memory for every 32-bit linear memory, so
that bounds checks compile away. A process has 128 TiB, so live instances
run out after some tens of thousands (far fewer with several memories, or
under ``ulimit -v``). An engine for modules with a memory limit reserves
only what that limit needs: the limit rounded up to a power of two (at
least 1 MiB), with a 64 KiB guard; compiled code then checks bounds
explicitly. Each power of two is its own engine and cache key.

Pooling (``EngineSettings.pooled``): an instance of a module whose memory
and table fit a pool slot (at most one of each, the table declaring a
maximum of at most ``POOL_TABLE_ELEMENTS``; decided once per module,
``pool_fits``) comes from a pool the engine reserves when it is created:
its memory, table and instance slots are reused, not mapped and unmapped,
so a fresh instance costs a few microseconds of wasmtime instead of tens.
A pool holds ``WASMBRIDGE_MAX_INSTANCES`` live instances (by default
1,000, or up to 10,000 small slots of a memory limit: ``max_instances``; 0
turns pooling off); past that,
instantiating raises a ``ModuleError`` saying so until one is closed.
Each slot reserves the same address space an on-demand memory would
(4 GiB + guards without a memory limit, the limit's reservation with one),
all of it up front: about 4 TiB of virtual address space for 1,000 slots
without a memory limit, 160 GiB for 10,000 slots with ``memory_mb=16``
(nothing resident: 3 MiB of RSS for the latter).
The pools of a process share a budget (``POOL_BUDGET``, 64 TiB, and half
of what ``ulimit -v`` leaves when it is set): an engine whose pool would not fit
gets a smaller one, or none (on-demand allocation, as before, noted in
``pool_notes``), never a failed engine (wasmtime aborts the process when
it cannot map a pool).
"""

from __future__ import annotations

import os
import resource
import threading
from dataclasses import dataclass, replace

import wasmtime

from ...interface.binary import WasmModule
from .. import _capi
from ..sandbox.limits import DEFAULT_STACK_KB, KIB, MIB, WASM_PAGE, Limits

# wasmtime's default reservation for 32-bit memories is 4 GiB of address
# space; with moving disabled a memory's base address never changes, so views
# of linear memory stay valid after memory.grow.
MEMORY_MAY_MOVE = False
DEFAULT_MAX_WASM_STACK = DEFAULT_STACK_KB * KIB
MIN_RESERVATION = MIB
# At 4 GiB and above a limit gains nothing over wasmtime's default layout.
MAX_RESERVATION = 4 * 1024 * MIB
SMALL_GUARD = 64 * KIB
GIB = 1024 * MIB
TIB = 1024 * GIB
# wasmtime's guard after a 4 GiB reservation (and before it).
DEFAULT_GUARD = 32 * MIB

MAX_INSTANCES_ENV = "WASMBRIDGE_MAX_INSTANCES"
# Live instances per pooled engine when $WASMBRIDGE_MAX_INSTANCES is not set: 1,000,
# or, for engines whose slots are small (a memory limit), as many as fit in
# POOL_DEFAULT_SPAN of address space, up to MAX_DEFAULT_INSTANCES.
DEFAULT_MAX_INSTANCES = 1000
MAX_DEFAULT_INSTANCES = 10_000
# A pool slot's table: Rust modules declare one table of a few to a few thousand
# entries (one per function whose address is taken), with a maximum.
POOL_TABLE_ELEMENTS = 10_000
TABLE_ELEMENT_BYTES = 16  # an upper bound on what wasmtime maps per element
# Address space all pools of a process may reserve together: half of the 128 TiB a
# process has (15 pools of 1,000 slots without a memory limit); under `ulimit -v`,
# half of what is left when the engine is made.
POOL_BUDGET = 64 * TIB
# A pool smaller than this is not worth its reservation: on-demand instead.
MIN_POOL_SLOTS = 16
POOL_DEFAULT_SPAN = TIB


@dataclass(frozen=True)
class EngineSettings:
    """Everything that changes generated code; part of the cache key."""

    # Epoch interruption (time limits, Ctrl-C): only under Limits(timeout_s=...).
    epoch: bool = False
    fuel: bool = False
    max_wasm_stack: int = DEFAULT_MAX_WASM_STACK
    # Bytes of address space per linear memory; None: wasmtime's 4 GiB default.
    memory_reservation: int | None = None
    # Instances from a pool reserved with the engine (decided per module: pool_fits).
    pooled: bool = False

    def fingerprint(self) -> str:
        """What the compiled code depends on: the compile cache key's engine part.

        ``pooled`` is left out on purpose: where instances are allocated does
        not change the code (an artifact of a pooled engine deserializes into
        the on-demand engine of the same settings and back; wasmtime checks
        that on every deserialize, and the cache rebuilds an entry it refuses),
        so both engines share one cache entry per module.
        """
        reserve = self.memory_reservation or 0
        return (
            f"wasmtime={_capi.WASMTIME_VERSION};epoch={int(self.epoch)};fuel={int(self.fuel)};"
            f"stack={self.max_wasm_stack};may_move={int(MEMORY_MAY_MOVE)};"
            f"reserve={reserve};guard={SMALL_GUARD if reserve else 0}"
        )

    def with_pool(self, pooled: bool) -> EngineSettings:
        return self if pooled == self.pooled else replace(self, pooled=pooled)

    @property
    def slot_bytes(self) -> int:
        """Address space one pool slot reserves: its memory with guards, and its table."""
        memory = self.memory_reservation or MAX_RESERVATION
        guards = 2 * (SMALL_GUARD if self.memory_reservation else DEFAULT_GUARD)
        return memory + guards + POOL_TABLE_ELEMENTS * TABLE_ELEMENT_BYTES

    @classmethod
    def for_limits(cls, limits: Limits | None) -> EngineSettings:
        """The engine a module loaded with ``limits`` runs on (a time limit, fuel, stack
        and memory reservation change code)."""
        if limits is None:
            return cls()
        return cls(
            epoch=limits.timeout_s is not None,
            fuel=limits.fuel is not None,
            max_wasm_stack=limits.stack_bytes,
            memory_reservation=reservation_for(limits.memory_bytes),
        )


def reservation_for(memory_bytes: int | None) -> int | None:
    """Address space to reserve per memory under a memory cap (a power of two), or None."""
    if memory_bytes is None or memory_bytes >= MAX_RESERVATION:
        return None
    return max(MIN_RESERVATION, 1 << (memory_bytes - 1).bit_length())


def pool_fits(wasm: WasmModule) -> bool:
    """Whether instances of ``wasm`` fit a pool slot: at most one memory and one table,
    none imported, the table declaring a maximum of at most ``POOL_TABLE_ELEMENTS`` (a
    slot's table cannot grow past that, where an on-demand one could). The memory's
    declared minimum must fit the slot of each engine too (``fits_slot``)."""
    if any(i.kind in ("memory", "table") for i in wasm.imports):
        return False
    if len(wasm.memories) > 1 or len(wasm.tables) > 1:
        return False
    return all(top is not None and top <= POOL_TABLE_ELEMENTS for _, top in wasm.tables)


def fits_slot(wasm: WasmModule, settings: EngineSettings) -> bool:
    """Whether the memory ``wasm`` declares starts within a slot of this engine's pool
    (wasmtime refuses to compile it for the pool otherwise; on demand, instantiating it
    fails with the memory limit's own error)."""
    slot = settings.memory_reservation or MAX_RESERVATION
    return all(pages * WASM_PAGE <= slot for pages, _ in wasm.memories)


_engines: dict[EngineSettings, wasmtime.Engine] = {}
_lock = threading.Lock()
# Slots of each pooled engine's pool (0: the engine allocates on demand), and why not.
pool_slots: dict[EngineSettings, int] = {}
pool_notes: dict[EngineSettings, str] = {}
_budget_used = 0


def get_engine(settings: EngineSettings = EngineSettings()) -> wasmtime.Engine:
    """The process-wide engine for ``settings``."""
    engine = _engines.get(settings)
    if engine is not None:
        return engine
    with _lock:
        engine = _engines.get(settings)
        if engine is None:
            config = _config(settings)
            if settings.pooled:
                slots = _pool_size(settings)
                pool_slots[settings] = slots
                if slots:
                    _capi.set_pooling(
                        config,
                        instances=slots,
                        memory_bytes=settings.memory_reservation or MAX_RESERVATION,
                        table_elements=POOL_TABLE_ELEMENTS,
                    )
            engine = wasmtime.Engine(config)
            _engines[settings] = engine
        return engine


def max_instances(settings: EngineSettings) -> int:
    """The cap on live instances of a pooled engine: ``$WASMBRIDGE_MAX_INSTANCES`` when set
    to a whole number (0: no pools), else 1,000, or up to 10,000 small slots (16 MiB
    slots under ``memory_mb=16``: 10,000; 128 MiB: about 8,000; 1 GiB and more: 1,000)."""
    try:
        return max(0, int(os.environ.get(MAX_INSTANCES_ENV, "")))
    except ValueError:
        pass
    fit = POOL_DEFAULT_SPAN // settings.slot_bytes
    return max(DEFAULT_MAX_INSTANCES, min(MAX_DEFAULT_INSTANCES, fit))


def _pool_size(settings: EngineSettings) -> int:
    """How many slots the pool of a new engine gets (under ``_lock``); 0: none."""
    global _budget_used
    wanted = max_instances(settings)
    if wanted == 0:
        pool_notes[settings] = f"pooling is off (${MAX_INSTANCES_ENV}=0)"
        return 0
    room = _address_space_left()
    budget = POOL_BUDGET - _budget_used
    if room is not None:
        budget = min(budget, room // 2)
    slots = min(wanted, max(0, budget) // settings.slot_bytes)
    if slots < MIN_POOL_SLOTS:
        why = "`ulimit -v` leaves" if room is not None and room // 2 < budget else "pools have"
        pool_notes[settings] = (
            f"no instance pool: {why} too little address space for {MIN_POOL_SLOTS} slots of "
            f"{settings.slot_bytes / MIB:,.0f} MiB; instances are allocated on demand"
        )
        return 0
    if slots < wanted:
        pool_notes[settings] = f"a pool of {slots:,} slots, not {wanted:,}: address space"
    _budget_used += slots * settings.slot_bytes
    return slots


def _address_space_left() -> int | None:
    """Bytes of address space ``ulimit -v`` still allows this process, or None (no limit)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    try:
        with open("/proc/self/status") as f:
            size = next(int(line.split()[1]) * KIB for line in f if line.startswith("VmSize:"))
    except (OSError, StopIteration, ValueError):
        return 0  # limited, and we cannot tell by how much: no pool
    return max(0, soft - size)


def all_engines() -> list[wasmtime.Engine]:
    """Every engine created so far."""
    return list(_engines.values())


def epoch_engines() -> list[wasmtime.Engine]:
    """The engines whose code checks epochs: the ticker advances these, never the others."""
    return [engine for settings, engine in list(_engines.items()) if settings.epoch]


def _config(settings: EngineSettings) -> wasmtime.Config:
    config = wasmtime.Config()
    # Epoch checks let a time limit (and Ctrl-C) stop a running guest; code
    # without a time limit is compiled without them.
    config.epoch_interruption = settings.epoch
    config.consume_fuel = settings.fuel
    config.max_wasm_stack = settings.max_wasm_stack
    config.memory_may_move = MEMORY_MAY_MOVE
    if settings.memory_reservation is not None:
        # Memories grow in place up to the reservation, which covers the memory
        # limit: they never need to move (MEMORY_MAY_MOVE stays true to its word).
        config.memory_reservation = settings.memory_reservation
        config.memory_guard_size = SMALL_GUARD
        config.memory_reservation_for_growth = 0
    return config
