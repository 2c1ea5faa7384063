"""State that must survive between calls: the arena, the guest stack, the call token.

Each test here is a reduced repro of a bug that gave wrong answers or hung
only after some earlier call, so each drives many calls on one instance.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path
from typing import Any

import pytest

import wasmbridge
from wasmbridge.errors import GuestPanic, StackLimitExceeded, Trap

pytestmark = pytest.mark.toolchain


@pytest.fixture
def m(types_wasm: Path) -> Any:
    return wasmbridge.load(types_wasm)


def test_arena_growth_keeps_later_arguments_intact(m: Any) -> None:
    """A first borrowed buffer over the arena's size moves the arena; calls after it
    must still place their arguments inside the live arena."""
    assert m.sum_bytes(bytes(70_000)) == 0
    data = bytearray(random.Random(1).randbytes(40_960))
    expected = data[::-1]
    m.reverse(data)
    assert data == expected
    assert m.echo_bytes(b"x" * 5000) == b"x" * 5000


@pytest.mark.parametrize("seed", range(3))
def test_arena_survives_random_sizes(m: Any, seed: int) -> None:
    rng = random.Random(seed)
    sizes = [0, 1, 31, 32, 33, 4095, 4096, 4097, 65_504, 65_536, 65_568, 1 << 20, 3 << 20]
    for step in range(300):
        n = rng.choice(sizes)
        data = rng.randbytes(n)
        op = rng.randrange(4)
        if op == 0:
            assert m.echo_bytes(data) == data, (seed, step, n)
        elif op == 1:
            assert m.sum_bytes(data) == sum(data), (seed, step, n)
        elif op == 2:
            buf = bytearray(data)
            m.reverse(buf)
            assert buf == data[::-1], (seed, step, n)
        else:
            text = data.hex()[: n // 2]
            assert m.upper(text) == text.upper(), (seed, step, n)


def test_many_panics_leave_the_instance_working(m: Any) -> None:
    """A trap unwinds no guest frames; the host restores the stack pointer, so
    panics never exhaust the guest's stack (it ran out after 16,384)."""
    for i in range(100_000):
        with pytest.raises(GuestPanic):
            m.panic_expect(None)
        if i % 997 == 0:
            assert m.echo_str("still fine") == "still fine"
    assert m.memory_pages() < 64  # nothing leaked per panic
    assert m.panic_expect(7) == 7
    assert m.echo_bytes(b"abc" * 1000) == b"abc" * 1000


def test_traps_of_every_kind_leave_the_instance_working(m: Any) -> None:
    for _ in range(2000):
        with pytest.raises(GuestPanic):
            m.index_out_of_bounds(99)
        with pytest.raises(Trap):
            m.divide_by_zero_trap(1, 0)
    assert m.add(2, 3) == 5


def test_sdk_modules_export_their_stack_pointer(m: Any) -> None:
    """The restore above depends on it: `wasmbridge build` exports the global."""
    assert m._instance._stack_pointer is not None
    before = m._instance._stack_pointer.global_i32(m._instance.ctx)
    with pytest.raises(GuestPanic):
        m.panic_expect(None)
    assert m._instance._stack_pointer.global_i32(m._instance.ctx) == before


def test_arrays_and_calls_from_threads_share_the_guard(m: Any) -> None:
    """Allocating arrays while another thread calls an export aborted the process."""
    errors: list[BaseException] = []
    stop = threading.Event()

    def caller() -> None:
        try:
            rng = random.Random(7)
            while not stop.is_set():
                data = rng.randbytes(rng.choice([10, 5000, 70_000]))
                assert m.echo_bytes(data) == data
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def allocator() -> None:
        try:
            for i in range(3000):
                with m.array("u8", 1 + i % 4096) as arr:
                    arr.view[:] = bytes(len(arr))  # fresh guest memory is not zeroed
                    arr.view[0] = i & 0xFF
                    assert m.sum_bytes(arr) == i & 0xFF
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=caller) for _ in range(2)]
    threads += [threading.Thread(target=allocator) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads[2:]:
        t.join(120)
    stop.set()
    for t in threads[:2]:
        t.join(30)
    assert not errors, errors[0]


def test_a_thread_too_small_for_the_wasm_stack_is_refused_not_crashed(types_wasm: Path) -> None:
    """Without limits too: deep recursion on a 256 KiB thread stack segfaulted."""
    m = wasmbridge.load(types_wasm)
    outcome: list[BaseException | int] = []

    def small() -> None:
        try:
            outcome.append(m.stack_overflow(1_000_000))
        except BaseException as exc:  # noqa: BLE001 - inspected below
            outcome.append(exc)

    previous = threading.stack_size(256 * 1024)
    try:
        thread = threading.Thread(target=small)
        thread.start()
    finally:
        threading.stack_size(previous)
    thread.join(60)
    assert len(outcome) == 1
    assert isinstance(outcome[0], StackLimitExceeded), outcome[0]
    assert "stack is 256 KiB" in str(outcome[0])
    # A thread with a normal stack still runs it, and gets the wasm stack trap.
    with pytest.raises(StackLimitExceeded, match="exhausted the wasm stack"):
        m.stack_overflow(1_000_000)
    assert m.add(1, 2) == 3
