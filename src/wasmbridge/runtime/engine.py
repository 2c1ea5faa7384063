"""The shared wasmtime engines and the settings that define them.

One engine per distinct configuration, created once per process: compiled
code is tied to the engine settings, so those settings are part of the
compile cache key.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import wasmtime

from . import _capi
from .limits import DEFAULT_STACK_KB, KIB, Limits

# wasmtime's default reservation for 32-bit memories is 4 GiB of address
# space; with moving disabled a memory's base address never changes, so views
# of linear memory stay valid after memory.grow.
MEMORY_MAY_MOVE = False
DEFAULT_MAX_WASM_STACK = DEFAULT_STACK_KB * KIB


@dataclass(frozen=True)
class EngineSettings:
    """Everything that changes generated code; part of the cache key."""

    fuel: bool = False
    max_wasm_stack: int = DEFAULT_MAX_WASM_STACK

    def fingerprint(self) -> str:
        return (
            f"wasmtime={_capi.WASMTIME_VERSION};epoch=1;fuel={int(self.fuel)};"
            f"stack={self.max_wasm_stack};may_move={int(MEMORY_MAY_MOVE)}"
        )

    @classmethod
    def for_limits(cls, limits: Limits | None) -> EngineSettings:
        """The engine a module loaded with ``limits`` runs on (fuel and stack change code)."""
        if limits is None:
            return cls()
        return cls(fuel=limits.fuel is not None, max_wasm_stack=limits.stack_bytes)


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
    """Every engine created so far (the epoch ticker advances them all)."""
    return list(_engines.values())


def _config(settings: EngineSettings) -> wasmtime.Config:
    config = wasmtime.Config()
    # Epoch checks are cheap and let a time limit interrupt any store; stores
    # without a limit get a deadline far in the future.
    config.epoch_interruption = True
    config.consume_fuel = settings.fuel
    config.max_wasm_stack = settings.max_wasm_stack
    config.memory_may_move = MEMORY_MAY_MOVE
    return config
