"""The epoch ticker: one background thread that makes time limits fire.

Every engine is built with epoch interruption: compiled code checks the
engine's epoch at function entries and loop headers, and traps once it
passes the store's deadline. This thread advances the epoch of every
engine each ``TICK_S`` while some limited call may be running, so a call
armed with ``deadline_ticks(timeout)`` traps between ``timeout`` and
``timeout + TICK_S`` after it started.

It starts with the first limited call and parks (no wake-ups at all) when
no armed call can still be running, so an idle process pays nothing.

    ticker = get_ticker()
    ticker.keep_busy(time.monotonic() + timeout)   # before each limited call
"""

from __future__ import annotations

import math
import os
import threading
import time

from .engine import all_engines

TICK_S = 0.01


def deadline_ticks(timeout_s: float) -> int:
    """Epoch increments until the deadline: the first may come at once, so one more."""
    return math.ceil(timeout_s / TICK_S) + 1


class Ticker:
    """Advances every engine's epoch while ``busy_until`` lies ahead."""

    def __init__(self, period: float = TICK_S) -> None:
        self.period = period
        self._reset()

    def _reset(self) -> None:
        self.busy_until = 0.0
        self.parked = False
        self.ticks = 0
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def keep_busy(self, until: float) -> None:
        """Tick at least until ``until`` (a ``time.monotonic()`` value)."""
        if until > self.busy_until:
            self.busy_until = until
        # The ticker publishes `parked` before re-reading `busy_until`, and we
        # write `busy_until` before reading `parked`: one of us sees the other.
        if self.parked:
            self._wake.set()
        elif self._thread is None:
            self._start()

    @property
    def running(self) -> bool:
        return self._thread is not None and not self.parked

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                thread = threading.Thread(target=self._run, name="wasmbridge-epoch", daemon=True)
                self._thread = thread
                # The default stack, whatever small size the caller's threads use.
                previous = threading.stack_size(0)
                try:
                    thread.start()
                finally:
                    threading.stack_size(previous)

    def _run(self) -> None:
        while True:
            if time.monotonic() < self.busy_until:
                for engine in all_engines():
                    engine.increment_epoch()
                self.ticks += 1
                time.sleep(self.period)
                continue
            self.parked = True
            if time.monotonic() >= self.busy_until:
                self._wake.wait()
            self._wake.clear()
            self.parked = False

    def after_fork(self) -> None:
        """The thread does not exist in a forked child: start a new one on demand."""
        self._reset()


# The margin past a call's deadline during which the ticker keeps ticking, so
# the trap can fire even when the deadline falls between two ticks.
BUSY_MARGIN_S = 3 * TICK_S

_ticker = Ticker()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_ticker.after_fork)


def get_ticker() -> Ticker:
    """The process-wide ticker."""
    return _ticker
