"""Per-process admission: worker threads and a bounded queue, then 503.

``Admission.submit`` never blocks and never queues without bound: a request
is admitted while fewer than ``threads + queue`` are admitted, and runs on
one of ``threads`` worker threads (guests release the GIL, so they run in
parallel); past that the caller answers 503 with ``Retry-After: 1`` at
once. ``in_flight`` and ``queued`` feed the metrics.

    admission = Admission(threads=8, queue=64)
    future = admission.submit(handler, request)   # None: full, answer 503
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

__all__ = ["Admission"]

P = ParamSpec("P")
T = TypeVar("T")


class Admission:
    """A thread pool that refuses work beyond ``threads`` running plus ``queue`` waiting."""

    def __init__(self, *, threads: int = 8, queue: int = 64) -> None:
        if threads < 1:
            raise ValueError(f"Admission(threads={threads!r}): expected at least 1")
        if queue < 0:
            raise ValueError(f"Admission(queue={queue!r}): expected 0 or more")
        self.threads = threads
        self.queue = queue
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="wasmbridge-serve")
        self._lock = threading.Lock()
        self._admitted = 0
        self._running = 0

    @property
    def in_flight(self) -> int:
        """Requests running on a worker thread now."""
        return self._running

    @property
    def queued(self) -> int:
        """Requests admitted and waiting for a worker thread."""
        return self._admitted - self._running

    def submit(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Future[T] | None:
        """Run ``fn`` on a worker thread; None (at once) when the queue is full."""
        with self._lock:
            if self._admitted >= self.threads + self.queue:
                return None
            self._admitted += 1

        def run() -> T:
            with self._lock:
                self._running += 1
            try:
                return fn(*args, **kwargs)
            finally:
                with self._lock:
                    self._running -= 1
                    self._admitted -= 1

        try:
            return self._executor.submit(run)
        except RuntimeError:  # shut down
            with self._lock:
                self._admitted -= 1
            return None

    def close(self) -> None:
        """Stop taking work; wait for what runs to finish."""
        self._executor.shutdown(wait=True, cancel_futures=True)
