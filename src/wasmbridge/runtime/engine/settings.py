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
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import wasmtime

from .. import _capi
from ..sandbox.limits import DEFAULT_STACK_KB, KIB, MIB, Limits

# wasmtime's default reservation for 32-bit memories is 4 GiB of address
# space; with moving disabled a memory's base address never changes, so views
# of linear memory stay valid after memory.grow.
MEMORY_MAY_MOVE = False
DEFAULT_MAX_WASM_STACK = DEFAULT_STACK_KB * KIB
MIN_RESERVATION = MIB
# At 4 GiB and above a limit gains nothing over wasmtime's default layout.
MAX_RESERVATION = 4 * 1024 * MIB
SMALL_GUARD = 64 * KIB


@dataclass(frozen=True)
class EngineSettings:
    """Everything that changes generated code; part of the cache key."""

    # Epoch interruption (time limits, Ctrl-C): only under Limits(timeout_s=...).
    epoch: bool = False
    fuel: bool = False
    max_wasm_stack: int = DEFAULT_MAX_WASM_STACK
    # Bytes of address space per linear memory; None: wasmtime's 4 GiB default.
    memory_reservation: int | None = None

    def fingerprint(self) -> str:
        reserve = self.memory_reservation or 0
        return (
            f"wasmtime={_capi.WASMTIME_VERSION};epoch={int(self.epoch)};fuel={int(self.fuel)};"
            f"stack={self.max_wasm_stack};may_move={int(MEMORY_MAY_MOVE)};"
            f"reserve={reserve};guard={SMALL_GUARD if reserve else 0}"
        )

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


_engines: dict[EngineSettings, wasmtime.Engine] = {}
_lock = threading.Lock()


def get_engine(settings: EngineSettings = EngineSettings()) -> wasmtime.Engine:
    """The process-wide engine for ``settings``."""
    engine = _engines.get(settings)
    if engine is not None:
        return engine
    with _lock:
        engine = _engines.get(settings)
        if engine is None:
            engine = wasmtime.Engine(_config(settings))
            _engines[settings] = engine
        return engine


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
