"""Memory and table limits are totals per instance, and reserve only the address space they need."""

from __future__ import annotations

import ctypes
import gc
import os
import subprocess
import sys
import textwrap

import pytest

import wasmbridge
from sandbox_helpers import wat
from wasmbridge import Limits
from wasmbridge.runtime.engine import EngineSettings
from wasmbridge.runtime.sandbox.limits import DEFAULT_TABLE_ELEMENTS, MIB, WASM_PAGE, fair_share

MEMORY_LIMITS_MB = [1, 16, 64, 200]


def memories(count: int, minimum: int = 1, maximum: int | None = None) -> bytes:
    """``count`` memories; ``grow()`` grows each a page at a time, filling every new
    page, until memory.grow fails, and returns the pages the instance has in total."""
    top = f" {maximum}" if maximum is not None else ""
    decls = " ".join(f"(memory $m{i} {minimum}{top})" for i in range(count))
    growers = " ".join(
        f"(func $grow{i} (result i32) (local $at i32)"
        f" (block $full (loop $more"
        f" (local.set $at (memory.grow $m{i} (i32.const 1)))"
        f" (br_if $full (i32.eq (local.get $at) (i32.const -1)))"
        f" (memory.fill $m{i} (i32.mul (local.get $at) (i32.const {WASM_PAGE}))"
        f" (i32.const 1) (i32.const {WASM_PAGE}))"
        f" (br $more)))"
        f" (memory.size $m{i}))"
        for i in range(count)
    )
    total = " ".join(f"(call $grow{i}) i32.add" for i in range(count))
    return wat(
        f'(module {decls} (export "memory" (memory $m0)) {growers}'
        f' (func (export "grow") (result i32) i32.const 0 {total}))'
    )


def tables(count: int, minimum: int = 0) -> bytes:
    """``count`` funcref tables; ``grow()`` grows each by 1,000 elements until table.grow
    fails, and returns the elements of all of them."""
    decls = " ".join(f"(table $t{i} {minimum} funcref)" for i in range(count))
    growers = " ".join(
        f"(func $grow{i} (result i32)"
        f" (block $full (loop $more"
        f" (br_if $full (i32.eq (table.grow $t{i} (ref.null func) (i32.const 1000))"
        f" (i32.const -1)))"
        f" (br $more)))"
        f" (table.size $t{i}))"
        for i in range(count)
    )
    total = " ".join(f"(call $grow{i}) i32.add" for i in range(count))
    return wat(
        f'(module {decls} {growers} (func (export "grow") (result i32) i32.const 0 {total}))'
    )


def resident_bytes() -> int:
    gc.collect()  # instances of earlier tests give their memory back now, not mid-measure
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def vm_size() -> int:
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith("VmSize:"))
    return int(line.split()[1]) * 1024


# -- memories -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("budget", "maxima", "share"),
    [
        (64, [None], 64),  # one memory: the whole limit
        (64, [None, None], 32),
        (64, [4, None], 60),  # a small declared maximum leaves the rest to the others
        (64, [40, 40], 32),
        (10, [3, 3, 3], 10),  # all bounded below the budget: any cap works
        (16, [None] * 20, 0),  # not even a page each
        (64, [], 64),
    ],
)
def test_a_total_is_shared_out_so_the_sum_stays_within_it(
    budget: int, maxima: list[int | None], share: int
) -> None:
    assert fair_share(budget, maxima) == share
    assert sum(min(m if m is not None else share, share) for m in maxima) <= budget


# 20 memories of one page each do not fit in 1 MiB: the next test.
MEMORY_CASES = [(n, mb) for n in (1, 2, 20) for mb in MEMORY_LIMITS_MB if (n, mb) != (20, 1)]


@pytest.mark.parametrize(
    ("count", "megabytes"), MEMORY_CASES, ids=[f"{n}-memories-{mb}MiB" for n, mb in MEMORY_CASES]
)
def test_all_memories_together_stay_within_the_memory_limit(count: int, megabytes: int) -> None:
    budget = megabytes * MIB // WASM_PAGE
    m = wasmbridge.load(memories(count), name="mem.wasm", limits=Limits(memory_mb=megabytes))
    before = resident_bytes()
    pages = m.grow()
    grown = resident_bytes() - before
    assert budget - count < pages <= budget  # an equal share each, rounded down to pages
    assert grown <= megabytes * MIB + 8 * MIB  # was 20 x the limit with 20 memories
    assert grown >= (pages - count) * WASM_PAGE * 0.9  # every grown page was written


def test_a_memory_grown_to_its_limit_never_moves() -> None:
    m = wasmbridge.load(memories(1), name="mem.wasm", limits=Limits(memory_mb=16))
    before = ctypes.addressof(ctypes.c_char.from_buffer(m.memory_view()))
    assert m.grow() == 256  # the whole limit, inside the 16 MiB reservation
    assert ctypes.addressof(ctypes.c_char.from_buffer(m.memory_view())) == before


def test_twenty_memories_under_a_one_mib_limit_fail_to_instantiate_naming_the_limit() -> None:
    with pytest.raises(
        wasmbridge.MemoryLimitExceeded,
        match=r"(?m)^mem\.wasm cannot be instantiated: one of its 20 linear memories declares "
        r"1 page \(64 KiB\), over the 0 B each may use: its 1 MiB memory limit is shared by "
        r"all of them$",
    ) as caught:
        wasmbridge.load(memories(20), name="mem.wasm", limits=Limits(memory_mb=1))
    assert caught.value.hint == "raise Limits(memory_mb=...) or --max-memory"


def test_a_memory_with_a_small_maximum_leaves_the_rest_to_the_others() -> None:
    # Memory 0 can never pass 2 pages: the other memory gets the rest of the 1 MiB.
    small_and_open = wat(
        '(module (memory $a 1 2) (memory $b 1) (export "memory" (memory $a))'
        ' (func (export "grow_b") (result i32) (memory.grow $b (i32.const 13)))'
        ' (func (export "size_b") (result i32) (memory.size $b)))'
    )
    m = wasmbridge.load(small_and_open, name="two.wasm", limits=Limits(memory_mb=1))
    assert m.grow_b() == 1
    assert m.size_b() == 14  # 16 pages - 2 for memory $a


def test_one_memory_growing_past_the_limit_then_aborting_is_out_of_memory() -> None:
    grow_then_abort = wat(
        '(module (memory (export "memory") 1)'
        ' (func (export "grow_forever") (block (loop (br_if 1 (i32.eq (memory.grow'
        " (i32.const 1)) (i32.const -1))) (br 0))) unreachable))"
    )
    m = wasmbridge.load(grow_then_abort, name="grow.wasm", limits=Limits(memory_mb=16))
    with pytest.raises(
        wasmbridge.MemoryLimitExceeded,
        match=r"(?m)^`grow_forever\(\)` in grow\.wasm trapped \(unreachable instruction executed\) "
        r"with its memory at 16 MiB of its 16 MiB limit: memory.grow fails past it$",
    ):
        m.grow_forever()


def test_an_imported_memory_is_refused_at_link_time() -> None:
    imported = wat('(module (import "env" "mem" (memory 1)) (memory 1))')
    with pytest.raises(wasmbridge.LinkError, match=r"env\.mem \(memory\)"):
        wasmbridge.load(imported, name="imp.wasm", limits=Limits(memory_mb=16))


# -- tables ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limits", "cap"),
    [(Limits(), DEFAULT_TABLE_ELEMENTS), (Limits(table_elements=10_000), 10_000)],
    ids=["default-cap", "10k-elements"],
)
@pytest.mark.parametrize("count", [1, 3, 10], ids=["1-table", "3-tables", "10-tables"])
def test_all_tables_together_stay_within_the_table_limit(
    count: int, limits: Limits, cap: int
) -> None:
    m = wasmbridge.load(tables(count), name="tables.wasm", limits=limits)
    before = resident_bytes()
    elements = m.grow()
    assert cap - count * 1000 < elements <= cap  # grown by 1,000 at a time
    assert resident_bytes() - before < 16 * MIB  # was 1.45 GB with no cap


def test_tables_declaring_more_than_their_share_fail_to_instantiate_naming_the_limit() -> None:
    with pytest.raises(
        wasmbridge.MemoryLimitExceeded,
        match=r"(?m)^big\.wasm cannot be instantiated: one of its 2 tables declares 60,000 elements, "
        r"over the 50,000 each may use: its 100,000-element table limit is shared by all of them$",
    ) as caught:
        wasmbridge.load(tables(2, minimum=60_000), name="big.wasm", limits=Limits(timeout_s=1))
    assert caught.value.hint == "raise Limits(table_elements=...) or --max-table"


def test_tables_are_not_capped_without_limits() -> None:
    big = wat('(module (table 200000 funcref) (func (export "size") (result i32) table.size))')
    assert wasmbridge.load(big, name="big.wasm").size() == 200_000


# -- address space --------------------------------------------------------------------------

ADD = wat(
    '(module (memory (export "memory") 1)'
    ' (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))'
)


def test_a_memory_limit_reserves_what_it_needs_not_4_gib() -> None:
    assert EngineSettings.for_limits(Limits(memory_mb=16)).memory_reservation == 16 * MIB
    assert EngineSettings.for_limits(Limits(memory_mb=200)).memory_reservation == 256 * MIB
    assert EngineSettings.for_limits(Limits(memory_mb=0.01)).memory_reservation == MIB
    assert EngineSettings.for_limits(Limits(memory_mb=8192)).memory_reservation is None
    assert EngineSettings.for_limits(Limits(timeout_s=1)).memory_reservation is None
    fingerprints = {
        EngineSettings.for_limits(Limits(memory_mb=mb)).fingerprint() for mb in (16, 200, None)
    }
    assert len(fingerprints) == 3  # the compile cache keys follow


def test_a_thousand_live_instances_under_a_16_mib_limit() -> None:
    limits = Limits(memory_mb=16)
    live = [wasmbridge.load(ADD, name="add.wasm", limits=limits)]
    start = vm_size()
    live += [wasmbridge.load(ADD, name="add.wasm", limits=limits) for _ in range(999)]
    per_instance = (vm_size() - start) / 999
    assert sum(m.add(i, 1) for i, m in enumerate(live)) == sum(range(1, 1001))
    assert per_instance < 32 * MIB  # 16 MiB reserved + guard + bookkeeping; 4 GiB without


RESERVED = textwrap.dedent(
    """
    import sys
    import wasmbridge

    def vm_size():
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmSize:"))

    start = vm_size()
    module = wasmbridge.compile(bytes.fromhex(sys.argv[1]), name="add.wasm")  # the engine
    live = [module.instantiate()]
    first = vm_size()
    live += [module.instantiate() for _ in range(10)]
    print(first - start, (vm_size() - first) // 10)
    """
)


@pytest.mark.parametrize("pool", ["pooled", "on-demand"])
def test_instances_without_a_memory_limit_reserve_4_gib_each(pool: str) -> None:
    # Pooled (the default), the engine reserves 4 GiB for each of its 20 slots up front
    # and instances take no more; on demand, each instance reserves its own.
    env = {**os.environ, "WASMBRIDGE_MAX_INSTANCES": "20" if pool == "pooled" else "0"}
    proc = subprocess.run(
        [sys.executable, "-c", RESERVED, ADD.hex()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=env,
    )
    engine, per_instance = (int(word) for word in proc.stdout.split())
    if pool == "pooled":
        assert engine >= 20 * 4 * 1024 * MIB and per_instance < MIB
    else:
        assert per_instance >= 4 * 1024 * MIB


OUT_OF_ADDRESS_SPACE = textwrap.dedent(
    """
    import resource, sys
    import wasmbridge
    from wasmbridge import Limits
    module = bytes.fromhex(sys.argv[1])
    limits = Limits(memory_mb=16) if sys.argv[2] == "limited" else None
    with open("/proc/self/status") as f:
        size = next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmSize:"))
    spare = 6 * 1024**3
    # Before the first engine: its instance pool must fit too (a pool of fewer slots,
    # or none: on-demand allocation, as without pools).
    resource.setrlimit(resource.RLIMIT_AS, (size + spare, size + spare))
    live = []
    try:
        while len(live) < 100:
            live.append(wasmbridge.load(module, name="add.wasm", limits=limits))
    except wasmbridge.MemoryLimitExceeded as exc:
        print(len(live), exc, "|", exc.hint)
    else:
        print(len(live))
    """
)


@pytest.mark.parametrize("mode", ["unlimited", "limited"])
def test_running_out_of_address_space_is_a_memory_limit_error_that_says_so(mode: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", OUT_OF_ADDRESS_SPACE, ADD.hex(), mode],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    if mode == "limited":  # 16 MiB each: 100 instances fit in 6 GiB
        assert proc.stdout.strip() == "100"
        return
    count, _, message = proc.stdout.partition(" ")
    assert int(count) == 1  # 4 GiB + guards each: the second does not fit
    assert message.strip() == (
        "add.wasm cannot be instantiated: the process has no address space left to reserve "
        "4,160 MiB for its linear memory (without a memory limit each linear memory reserves "
        "4 GiB of address space) | load it with Limits(memory_mb=...): then each memory "
        "reserves only its limit's worth (16 MiB for memory_mb=16); or close instances you no "
        "longer need"
    )
