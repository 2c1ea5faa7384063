"""Where a WASI program's stdout and stderr go, without ever blocking past a deadline.

wasmtime hands each chunk the guest writes (at most 4 KiB, from one of its
worker threads, while the guest's ``fd_write`` waits) to a sink:

- ``CaptureSink`` keeps the bytes in memory up to a cap;
- ``FdSink`` writes them to a host file descriptor (the host's own stdout,
  a file, a pipe), waiting for it to accept data only until the current
  call's deadline, so a guest flooding a pipe nobody reads stops on time.

A sink that stops a write records why in the instance's ``FailureContext``
(the first limit hit wins) and returns an errno to the guest; the guest's
next step in wasm then traps at the epoch deadline, or the guest gives up
(Rust's ``println!`` panics), and the recorded limit is what the caller sees.
"""

from __future__ import annotations

import errno
import math
import os
import select
from collections.abc import Callable

from .traps import FailureContext, LimitHit

PIPE_CHUNK = 4096  # a write this small after poll() says writable does not block a pipe


class CaptureSink:
    """Output kept in memory, at most ``cap`` bytes."""

    def __init__(self, stream: str, cap: int, failure: FailureContext) -> None:
        self.stream = stream
        self.cap = cap
        self.size = 0
        self.overflowed = False
        self._chunks: list[bytes] = []
        self._failure = failure

    def write(self, data: bytes) -> int:
        room = self.cap - self.size
        if len(data) <= room:
            self._chunks.append(data)
            self.size += len(data)
            return len(data)
        self._chunks.append(data[:room])
        self.size = self.cap
        self.overflowed = True
        self._failure.hit(LimitHit("output", stream=self.stream))
        return -errno.ENOSPC

    def getvalue(self) -> bytes:
        return b"".join(self._chunks)

    def close(self) -> None:
        pass


class FdSink:
    """Output written to a host file descriptor, bounded by the call's deadline and a cap."""

    def __init__(
        self,
        stream: str,
        fd: int,
        failure: FailureContext,
        remaining: Callable[[], float],
        *,
        cap: int | None = None,
        owned: bool = False,
    ) -> None:
        self.stream = stream
        self.fd = fd
        self.cap = cap
        self.size = 0
        self.overflowed = False
        self._failure = failure
        self._remaining = remaining
        self._owned = owned
        self._poll = select.poll()  # not select(): no FD_SETSIZE ceiling
        self._poll.register(fd, select.POLLOUT)

    def write(self, data: bytes) -> int:
        if self.cap is not None and self.size + len(data) > self.cap:
            self.overflowed = True
            self._failure.hit(LimitHit("output", stream=self.stream))
            return -errno.ENOSPC
        view = memoryview(data)
        written = 0
        while written < len(data):
            left = self._remaining()
            if left <= 0:
                self._failure.hit(LimitHit("time", f"while blocked writing its {self.stream}"))
                return written or -errno.EIO
            try:
                if not self._poll.poll(None if math.isinf(left) else max(1, int(left * 1000))):
                    continue
                written += os.write(self.fd, view[written : written + PIPE_CHUNK])
            except OSError as exc:
                return written or -(exc.errno or errno.EIO)
        self.size += written
        return written

    def getvalue(self) -> bytes | None:
        return None

    def close(self) -> None:
        if self._owned:
            os.close(self.fd)
            self._owned = False


Sink = CaptureSink | FdSink
