"""Fresh instances made ahead of the requests that use them.

Every request runs in an instance no request used before and none uses
after: no guest state survives a request. Making one (instantiate, then
bind the handler's caller, the memory and the scratch space) and closing
one cost several times the call itself, so a background thread per app
keeps a few ready for each handler and closes the used ones; a request
pays for its call. The thread works only while no request runs: under
load, requests make and close their own instances (the work is the same,
only who does it moves), since a thread running Python beside them would
hold the interpreter lock they wait for.

    fresh = FreshInstances(make, close, app_maker, depth=2)
    item = fresh.take()        # ready one, or made now
    ...                        # one request
    fresh.retire(item)         # closed in the background
"""

from __future__ import annotations

import collections
import logging
import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["FreshInstances", "Maker"]

log = logging.getLogger("wasmbridge.serve")

T = TypeVar("T")
Job = Callable[[], None]

# Used instances waiting to be closed, past which a request closes its own.
MAX_BACKLOG = 16


class Maker:
    """One daemon thread running the making and closing jobs of an app's handlers."""

    def __init__(self) -> None:
        self._active = 0  # requests between take() and retire(), across the app's handlers
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopped = False

    @property
    def backlog(self) -> int:
        return self._jobs.qsize()

    def begin(self) -> None:
        """A request took an instance."""
        with self._lock:
            self._active += 1

    def end(self) -> bool:
        """A request is done with its instance; True when no other request is running."""
        with self._lock:
            self._active -= 1
            return self._active == 0

    def submit(self, job: Job) -> bool:
        """Queue ``job``; False once stopped (the caller does the work itself)."""
        with self._lock:
            if self._stopped:
                return False
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="wasmbridge-serve-maker", daemon=True
                )
                self._thread.start()
        self._jobs.put(job)
        return True

    def stop(self) -> None:
        """Run the jobs queued so far, then end the thread."""
        with self._lock:
            self._stopped = True
            thread = self._thread
        if thread is not None:
            self._jobs.put(None)
            thread.join()

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                job()
            except Exception:  # a failed make is retried by the next request; log it
                log.exception("making or closing an instance ahead of requests failed")


class FreshInstances(Generic[T]):
    """Instances of one handler, each handed to exactly one request."""

    def __init__(
        self, make: Callable[[], T], close: Callable[[T], None], maker: Maker, depth: int = 2
    ) -> None:
        self._make = make
        self._close = close
        self._maker = maker
        self._depth = depth
        self._ready: collections.deque[T] = collections.deque()
        self._pending = 0  # makes queued, not yet ready
        self._lock = threading.Lock()
        self._closed = False

    def take(self) -> T:
        """A never-used instance: a ready one, else one made now."""
        self._maker.begin()
        try:
            return self._ready.popleft()
        except IndexError:
            pass
        try:
            return self._make()
        except BaseException:
            self._maker.end()
            raise

    def retire(self, item: T) -> None:
        """Close a used instance and make its replacement: in the background when no
        other request runs, else here."""
        idle = self._maker.end()
        maker = self._maker
        if not idle or maker.backlog >= MAX_BACKLOG or not maker.submit(lambda: self._close(item)):
            self._close(item)
        if idle:
            self._refill()

    def close(self) -> None:
        """Close the ready instances and make no more (requests then make their own)."""
        with self._lock:
            self._closed = True
        while True:
            try:
                item = self._ready.popleft()
            except IndexError:
                return
            self._close(item)

    def _refill(self) -> None:
        with self._lock:
            if self._closed or len(self._ready) + self._pending >= self._depth:
                return
            self._pending += 1
        if not self._maker.submit(self._fill):
            with self._lock:
                self._pending -= 1

    def _fill(self) -> None:
        try:
            item = self._make()
        finally:
            with self._lock:
                self._pending -= 1
        with self._lock:
            keep = not self._closed
            if keep:
                self._ready.append(item)
        if not keep:
            self._close(item)
