"""The epoch ticker: one background thread that makes time limits fire.

Engines for code under a time limit are built with epoch interruption
(engine/settings.py, ``EngineSettings.epoch``): compiled code checks the
engine's epoch at function entries and loop headers. The others have no
checks and are never kicked. Each store's epoch
deadline is one increment ahead, so every increment makes each running
guest call its store's deadline callback once, which reads the monotonic
clock and stops the guest if its call's deadline has passed (guard.py).
Ticks are only the occasions to look at the clock: a deadline never
depends on how many ticks came, or how late they came.

The thread increments every epoch engine's epoch about each ``TICK_S`` while
some armed deadline is still ahead, then once more at or after the last of
them, and only then parks: every deadline gets one tick that comes after
it, so a guest running past its deadline stops within about one tick of
it, at any length of time limit. Parked, the thread waits on an event and
wakes once a second to kick the engines as a safety net, so an idle
process, or one that only calls modules without a time limit, pays next
to nothing.

    ticker = get_ticker()
    ticker.keep_busy(time.monotonic() + timeout)   # before each limited call
"""

from __future__ import annotations

import os
import threading
import time

from ..engine import epoch_engines

TICK_S = 0.01

# How long past the last armed deadline the ticker may still tick before it
# parks: the final tick comes at or after that deadline, at most a tick later.
BUSY_MARGIN_S = TICK_S

# A parked ticker still kicks the engines this often (a safety net; see _park).
PARKED_KICK_S = 1.0


def kick_engines() -> None:
    """Advance the epoch of every engine with epoch checks once: each running guest
    there consults its store's callback. Engines without them are never kicked."""
    for engine in epoch_engines():
        engine.increment_epoch()


class Ticker:
    """Advances every engine's epoch while ``busy_until`` lies ahead, and once after it."""

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
        """Tick until a tick has come at or after ``until`` (a ``time.monotonic()`` value)."""
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
            # The clock is read before the tick: when it already shows every
            # armed deadline passed, this tick is one that came after them all.
            now = time.monotonic()
            kick_engines()
            self.ticks += 1
            if now < self.busy_until:
                # The last tick falls on the last deadline rather than up to a tick after it.
                time.sleep(min(self.period, self.busy_until - now))
                continue
            self._park()

    def _park(self) -> None:
        self.parked = True
        if time.monotonic() >= self.busy_until:
            # Parked, one kick every PARKED_KICK_S, not counted as a tick: a guest
            # whose deadline check somehow missed the tick after its deadline
            # still stops within that time instead of running on.
            while not self._wake.wait(PARKED_KICK_S):
                kick_engines()
        self._wake.clear()
        self.parked = False

    def after_fork(self) -> None:
        """The thread does not exist in a forked child: start a new one on demand."""
        self._reset()


_ticker = Ticker()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_ticker.after_fork)


def get_ticker() -> Ticker:
    """The process-wide ticker."""
    return _ticker
