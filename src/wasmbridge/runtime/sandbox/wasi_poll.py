"""WASI ``poll_oneoff`` (how guests sleep), cut short at the call's deadline or fuel.

wasmtime's own ``poll_oneoff`` waits inside the host, where neither epochs
nor fuel reach: ``thread::sleep(Duration::MAX)`` would hold the calling
thread forever. Instances with a time limit or fuel get this
implementation instead (linked over wasmtime's). It sleeps until the
earliest clock subscription is due or the deadline comes, whichever is
first; at the deadline it reports ``DeadlineReached`` and the caller traps
the guest.

Fuel: a sleep costs fuel in proportion to its length, ``FUEL_PER_SLEEP_NS``
unit per nanosecond: about what spinning for as long would burn (wasm runs
some 10^9 instructions a second). The cost is taken from the requested
duration (for a relative clock, exactly the guest's ``timeout``), so a
fuel-limited guest stops at the same point every time. A sleep that costs
more than the fuel left does not sleep at all: the fuel is set to zero and
``FuelReached`` makes the caller trap the guest as out of fuel. So fuel
alone bounds a guest's sleeping too: ``Limits(fuel=10**9)`` allows at most
about one second of it per call.

Clock subscriptions: realtime and monotonic, relative or absolute (the
guest's monotonic clock counts from its WASI context's creation, as
wasmtime's does). fd subscriptions are reported ready at once: regular
files always are, stdin is in memory or the host's, and stdout/stderr go
to sinks that accept writes.

Layouts (wasi_snapshot_preview1): a subscription is 48 bytes (userdata u64,
tag u8 at 8, then at 16 either clock {id u32, timeout u64 at 24, precision
u64 at 32, flags u16 at 40} or fd u32); an event is 32 bytes (userdata u64,
error u16 at 8, type u8 at 10, nbytes u64 at 16, flags u16 at 24).
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

SUBSCRIPTION = struct.Struct("<QB7xI4xQQH6x")
EVENT = struct.Struct("<QHB5xQH6x")
ERRNO_SUCCESS = 0
ERRNO_FAULT = 21
ERRNO_INVAL = 28
ERRNO_NOTSUP = 58
TAG_CLOCK, TAG_FD_READ, TAG_FD_WRITE = 0, 1, 2
CLOCK_REALTIME, CLOCK_MONOTONIC = 0, 1
ABSTIME = 1
FUEL_PER_SLEEP_NS = 1

Memory = tuple[Callable[[int, int], bytes], Callable[[int, bytes], None], int]  # read, write, size


class DeadlineReached(Exception):
    """The call's deadline came before any subscription was ready."""


class FuelReached(Exception):
    """The sleep would cost more fuel than the call has left (now zero)."""


class Fuel(Protocol):
    """The store's fuel (``wasmtime.Store`` has both methods)."""

    def get_fuel(self) -> int: ...

    def set_fuel(self, fuel: int) -> None: ...


@dataclass(frozen=True)
class Clocks:
    """The guest's clocks: monotonic nanoseconds count from ``origin_ns``."""

    origin_ns: int

    def due(self, clock: int, timeout_ns: int, flags: int) -> float | None:
        """When (``time.monotonic()`` seconds) a clock subscription fires; None: unsupported."""
        now = time.monotonic()
        if clock not in (CLOCK_REALTIME, CLOCK_MONOTONIC):
            return None
        if not flags & ABSTIME:
            return now + timeout_ns / 1e9
        if clock == CLOCK_REALTIME:
            return now + (timeout_ns - time.time_ns()) / 1e9
        return (self.origin_ns + timeout_ns) / 1e9


def poll_oneoff(
    memory: Memory,
    clocks: Clocks,
    deadline: float,
    in_ptr: int,
    out_ptr: int,
    nsubscriptions: int,
    nevents_ptr: int,
    *,
    fuel: Fuel | None = None,
) -> int:
    """The errno for the guest, after writing the ready events.

    May raise ``DeadlineReached``, or ``FuelReached`` when ``fuel`` is given
    and cannot pay for the sleep.
    """
    read, write, size = memory
    count = nsubscriptions & 0xFFFFFFFF
    in_ptr, out_ptr, nevents_ptr = (p & 0xFFFFFFFF for p in (in_ptr, out_ptr, nevents_ptr))
    if count == 0:
        return ERRNO_INVAL
    if not _inside(size, in_ptr, SUBSCRIPTION.size * count) or not _inside(
        size, out_ptr, EVENT.size * count
    ):
        return ERRNO_FAULT
    if not _inside(size, nevents_ptr, 4):
        return ERRNO_FAULT
    raw = read(in_ptr, SUBSCRIPTION.size * count)
    subs = [SUBSCRIPTION.unpack_from(raw, i * SUBSCRIPTION.size) for i in range(count)]
    events, waiting = _ready_now(subs, clocks)
    if not events:
        if fuel is not None:
            _charge(fuel, min(waiting)[2])
        events = _wait(waiting, deadline)
    for i, event in enumerate(events):
        write(out_ptr + i * EVENT.size, EVENT.pack(*event))
    write(nevents_ptr, struct.pack("<I", len(events)))
    return ERRNO_SUCCESS


Event = tuple[int, int, int, int, int]  # userdata, errno, type, nbytes, flags
Waiting = tuple[float, int, int]  # due (time.monotonic()), userdata, nanoseconds to wait


def _ready_now(
    subs: list[tuple[int, int, int, int, int, int]], clocks: Clocks
) -> tuple[list[Event], list[Waiting]]:
    events: list[Event] = []
    waiting: list[Waiting] = []
    now = time.monotonic()
    for userdata, tag, ident, timeout_ns, _precision, flags in subs:
        if tag in (TAG_FD_READ, TAG_FD_WRITE):
            events.append((userdata, ERRNO_SUCCESS, tag, 0, 0))
        elif tag != TAG_CLOCK:
            events.append((userdata, ERRNO_INVAL, tag, 0, 0))
        elif (due := clocks.due(ident, timeout_ns, flags)) is None:
            events.append((userdata, ERRNO_NOTSUP, TAG_CLOCK, 0, 0))
        elif due <= now:
            events.append((userdata, ERRNO_SUCCESS, TAG_CLOCK, 0, 0))
        else:
            wait_ns = timeout_ns if not flags & ABSTIME else int((due - now) * 1e9)
            waiting.append((due, userdata, wait_ns))
    return events, waiting


def _charge(fuel: Fuel, wait_ns: int) -> None:
    """Take the sleep's cost from the fuel, or empty it and raise FuelReached."""
    cost = wait_ns * FUEL_PER_SLEEP_NS
    left = fuel.get_fuel()
    if cost > left:
        fuel.set_fuel(0)
        raise FuelReached
    fuel.set_fuel(left - cost)


def _wait(waiting: list[Waiting], deadline: float) -> list[Event]:
    first = min(due for due, _, _ in waiting)
    if first > deadline:
        time.sleep(max(0.0, deadline - time.monotonic()))
        raise DeadlineReached
    time.sleep(max(0.0, first - time.monotonic()))
    now = time.monotonic()
    return [(ud, ERRNO_SUCCESS, TAG_CLOCK, 0, 0) for due, ud, _ in waiting if due <= now]


def _inside(size: int, pointer: int, length: int) -> bool:
    return pointer + length <= size
