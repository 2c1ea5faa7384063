"""Why a module could not be instantiated, as an error a user can act on.

wasmtime reports instantiation failures as text; the few a user can fix
(memory or tables declared past a limit, no address space left for one
more linear memory, a missing import) become ``MemoryLimitExceeded`` or
``LinkError`` naming the limit and how to raise it.
"""

from __future__ import annotations

import re

import wasmtime

from ...errors import LinkError, MemoryLimitExceeded, ModuleError
from ...interface.binary import WasmModule
from ..sandbox.limits import WASM_PAGE, Limits, fmt_size, store_limits
from ..sandbox.wasi import MODULES as WASI_MODULES

# What wasmtime says when a pooled engine's pool is full, or a module does not fit a slot.
POOL_FULL = "maximum concurrent limit of"
POOL_MISFIT = ("does not fit in pooling allocator requirements", "exceeds the configured maximum")


class PoolFull(Exception):
    """Not an error a user sees: every slot of the engine's pool is taken (``Module.
    instantiate`` runs the collector and tries once more, then raises ``pool_exhausted``)."""

    def __init__(self, slots: int) -> None:
        super().__init__(slots)
        self.slots = slots


class PoolMisfit(Exception):
    """Not an error a user sees: the module does not fit its engine's pool slots after
    all (``Module.instantiate`` then uses an engine that allocates on demand)."""


def pool_exhausted(name: str, slots: int) -> ModuleError:
    """The error past the cap on live instances of a pooled engine."""
    return ModuleError(
        f"{name} cannot be instantiated: {slots:,} instances of its engine are live, as many "
        "as its instance pool holds",
        hint="close instances you no longer need (instance.close(), or `with "
        "module.instantiate() as m:`), or set WASMBRIDGE_MAX_INSTANCES to a larger number "
        'before the first instance is made (docs/sandbox.md, "Instances")',
    )


_DECLARED = re.compile(r"(memory|table) minimum size of (\d+) (pages|elements) exceeds")
_NO_ADDRESS_SPACE = re.compile(r"mmap failed to reserve (0x[0-9a-f]+|\d+) bytes")


def instantiation_error(
    name: str, err: wasmtime.WasmtimeError, limits: Limits | None, wasm: WasmModule | None = None
) -> ModuleError | MemoryLimitExceeded:
    text = str(err).strip()
    first = text.splitlines()[0] if text else "instantiation failed"
    detail = " ".join(line.strip() for line in text.splitlines()[1:] if line.strip())
    declared = _DECLARED.search(text)
    if declared is not None:
        return _declared_too_large(name, declared[1], int(declared[2]), limits, wasm)
    reserve = _NO_ADDRESS_SPACE.search(text)
    if reserve is not None:
        return _no_address_space(name, int(reserve[1], 0), limits)
    if "import" in text or "incompatible" in text:
        hint = "check the imports you pass"
        if any(module in text for module in WASI_MODULES):
            hint = "wasmbridge provides WASI preview1 (wasi_snapshot_preview1) to wasm32-wasi"
        return LinkError(f"{name}: {first} {detail}".strip(), hint=hint)
    return ModuleError(f"{name} cannot be instantiated: {first} {detail}".strip())


def _declared_too_large(
    name: str, what: str, minimum: int, limits: Limits | None, wasm: WasmModule | None = None
) -> MemoryLimitExceeded:
    """A module declaring more memory or table space than its limits allow.

    The limits are totals; with several memories (or tables) each may use
    a share of them (limits.store_limits), which the message spells out.
    """
    caps = store_limits(limits, wasm) if limits is not None and wasm is not None else None
    if what == "memory":
        cap = limits.memory_bytes if limits is not None else None
        shown = fmt_size(cap) if cap is not None else "engine"
        count = caps["memories"] if caps is not None else 1
        if count > 1 and caps is not None:
            return MemoryLimitExceeded(
                f"{name} cannot be instantiated: one of its {count} linear memories declares "
                f"{_pages(minimum)}, over the {fmt_size(caps['memory_size'])} each may use: its "
                f"{shown} memory limit is shared by all of them",
                hint="raise Limits(memory_mb=...) or --max-memory",
            )
        return MemoryLimitExceeded(
            f"{name} cannot be instantiated: it declares {_pages(minimum)} of linear memory, "
            f"over its {shown} memory limit",
            hint="raise Limits(memory_mb=...) or --max-memory",
        )
    tables = limits.table_cap if limits is not None else None
    shown = f"{tables:,}-element" if tables is not None else "engine"
    count = caps["tables"] if caps is not None else 1
    if count > 1 and caps is not None:
        return MemoryLimitExceeded(
            f"{name} cannot be instantiated: one of its {count} tables declares {minimum:,} "
            f"elements, over the {caps['table_elements']:,} each may use: its {shown} table "
            "limit is shared by all of them",
            hint="raise Limits(table_elements=...) or --max-table",
        )
    return MemoryLimitExceeded(
        f"{name} cannot be instantiated: it declares a table of {minimum:,} elements, over "
        f"its {shown} table limit",
        hint="raise Limits(table_elements=...) or --max-table",
    )


def _pages(count: int) -> str:
    return f"{count:,} page{'s' if count != 1 else ''} ({fmt_size(count * WASM_PAGE)})"


def _no_address_space(name: str, wanted: int, limits: Limits | None) -> MemoryLimitExceeded:
    """The process ran out of virtual address space for one more linear memory."""
    if limits is not None and limits.memory_bytes is not None:
        why = f"each live instance reserves {fmt_size(wanted)} under its memory limit"
        hint = (
            "close the instances you no longer need (instance.close()), or lower "
            "Limits(memory_mb=...); `ulimit -v` also caps the address space"
        )
    else:
        why = "without a memory limit each linear memory reserves 4 GiB of address space"
        hint = (
            "load it with Limits(memory_mb=...): then each memory reserves only its limit's "
            "worth (16 MiB for memory_mb=16); or close instances you no longer need"
        )
    return MemoryLimitExceeded(
        f"{name} cannot be instantiated: the process has no address space left to reserve "
        f"{fmt_size(wanted)} for its linear memory ({why})",
        hint=hint,
    )
