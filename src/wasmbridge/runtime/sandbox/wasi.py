"""WASI preview1 for one instance: the grants applied to wasmtime, plus our own host calls.

wasmtime implements WASI. This module configures it from ``Grants``
(nothing granted unless asked: no files, no host environment, no network,
argv and env exactly as given) and links two host functions over
wasmtime's own, for the guests that import them:

- ``proc_exit``: records any u32 code (wasmtime turns codes >= 126 into an
  error instead of an exit) and stops the guest; ``GuestExit`` carries it.
- ``poll_oneoff``, for instances with a time limit or fuel: sleeps end at
  the call's deadline and cost fuel (``wasi_poll.py``), where wasmtime's
  would hold the thread past any epoch deadline or fuel.

stdout and stderr go to the host's own streams (wasmtime's, at full speed),
or through a sink (``wasi_sinks.py``) when they are captured, go to a file,
or must stop at a deadline.

Permission denials stay inside WASI: a path outside the preopened
directories (``..``, absolute, a symlink pointing out), a write under a
read-only directory, a file never granted all come back to the guest as
errno values (EPERM, EBADF, ENOTDIR, ...), never as host exceptions. So
does a symlink the guest tries to make pointing out of a grant:
``path_symlink`` is linked over wasmtime's too (``wasi_symlink.py``).
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Callable
from pathlib import Path

import wasmtime

from ...errors import SandboxError
from ...interface.binary import FuncType, WasmModule
from .. import _capi
from .grants import INHERIT, Grants, Output
from .guard import CallGuard
from .limits import DEFAULT_CAPTURE_BYTES
from .traps import FailureContext, LimitHit
from .wasi_poll import Clocks, DeadlineReached, FuelReached, poll_oneoff
from .wasi_sinks import CaptureSink, FdSink, Sink
from .wasi_symlink import SymlinkGuard

PREVIEW1 = "wasi_snapshot_preview1"
MODULES = (PREVIEW1, "wasi_unstable")
PROC_EXIT = FuncType(("i32",), ())
POLL_ONEOFF = FuncType(("i32", "i32", "i32", "i32"), ("i32",))
_SLOT = _capi.VALRAW_SIZE

# (module, name, wasm type, raw callback): Instance._define links it over wasmtime's.
Define = Callable[[str, str, FuncType, _capi.HostCallback], None]


class WasiSession:
    """The WASI side of one instance: its sinks and the host calls it overrides."""

    def __init__(self, grants: Grants, failure: FailureContext, guard: CallGuard | None) -> None:
        self.grants = grants
        self.failure = failure
        self.guard = guard
        self.stdout: Sink | None = None
        self.stderr: Sink | None = None
        self.clocks = Clocks(time.monotonic_ns())
        self.fuel: wasmtime.Store | None = None  # the store, when its fuel is limited
        self.symlinks: SymlinkGuard | None = None  # path_symlink without escaping targets
        self._keep: list[object] = []

    @property
    def timed(self) -> bool:
        return self.guard is not None and self.guard.limits.timeout_s is not None

    def captured(self) -> tuple[bytes | None, bytes | None]:
        """What the guest wrote to captured streams (None for the others)."""
        return (
            self.stdout.getvalue() if self.stdout is not None else None,
            self.stderr.getvalue() if self.stderr is not None else None,
        )

    def close(self) -> None:
        """Close the files this session opened for output."""
        for sink in (self.stdout, self.stderr):
            if sink is not None:
                sink.close()

    # -- configuring wasmtime ------------------------------------------------------

    def configure(self, store: wasmtime.Store, linker: wasmtime.Linker) -> None:
        grants = self.grants
        config = wasmtime.WasiConfig()
        config.argv = list(grants.argv)
        config.env = [list(pair) for pair in grants.env]
        for d in grants.dirs:
            config.preopen_dir(str(d.host), d.guest, d.writable)
        if grants.stdin == INHERIT:
            config.inherit_stdin()
        elif isinstance(grants.stdin, bytes):
            _capi.set_stdin_bytes(config, grants.stdin)
        self.stdout = self._output(config, 1, "stdout", grants.stdout)
        self.stderr = self._output(config, 2, "stderr", grants.stderr)
        self.clocks = Clocks(time.monotonic_ns())  # wasmtime's monotonic clock starts here
        if self.guard is not None and self.guard.limits.fuel is not None:
            self.fuel = store
        store.set_wasi(config)
        linker.define_wasi()
        linker.allow_shadowing = True
        self.symlinks = SymlinkGuard(store, linker, self.failure)

    def _output(
        self, config: wasmtime.WasiConfig, fd: int, stream: str, target: Output
    ) -> Sink | None:
        cap = self.guard.limits.max_output_bytes if self.guard is not None else None
        sink: Sink
        if target == "capture":
            sink = CaptureSink(
                stream, cap if cap is not None else DEFAULT_CAPTURE_BYTES, self.failure
            )
        elif target is None and not self.timed and cap is None:
            (config.inherit_stdout if fd == 1 else config.inherit_stderr)()
            return None
        else:
            host_fd, owned = _open_output(fd, target)
            sink = FdSink(stream, host_fd, self.failure, self._remaining, cap=cap, owned=owned)
        self._keep.append(_capi.set_output(config, fd, sink.write))
        return sink

    def _remaining(self) -> float:
        return self.guard.remaining() if self.guard is not None else float("inf")

    # -- host calls linked over wasmtime's ----------------------------------------

    def override(self, wasm: WasmModule, define: Define) -> None:
        """Link our ``proc_exit`` (always) and ``poll_oneoff`` (with a time limit or fuel)."""
        imported = {(i.module, i.name) for i in wasm.imports if i.kind == "func"}
        if self.symlinks is not None:
            self.symlinks.override(MODULES, imported, define)
        for module in MODULES:
            if (module, "proc_exit") in imported:
                define(module, "proc_exit", PROC_EXIT, self._proc_exit)
        bounded = self.timed or self.fuel is not None
        if bounded and (PREVIEW1, "poll_oneoff") in imported:
            define(PREVIEW1, "poll_oneoff", POLL_ONEOFF, self._poll_oneoff)

    def _proc_exit(self, env: int, caller: int, values: int, count: int) -> int:
        (code,) = struct.unpack_from("<I", _capi.read_raw(values, 4))
        self.failure.exit_code = code
        return _capi.new_trap(f"wasi proc_exit({code})")

    def _poll_oneoff(self, env: int, caller: int, values: int, count: int) -> int:
        raw = _capi.read_raw(values, _SLOT * 4)
        args = [struct.unpack_from("<i", raw, _SLOT * i)[0] for i in range(4)]
        found = _capi.caller_memory(caller)
        if found is None:
            return _capi.new_trap("wasi poll_oneoff: the module exports no memory")
        base, size = found
        memory = (
            lambda ptr, n: _capi.read_raw(base + ptr, n),
            lambda ptr, data: _capi.write_raw(base + ptr, data),
            size,
        )
        deadline = self.guard.deadline if self.guard is not None else float("inf")
        try:
            errno = poll_oneoff(memory, self.clocks, deadline, *args, fuel=self.fuel)
        except DeadlineReached:
            self.failure.hit(LimitHit("time", "while sleeping in WASI poll_oneoff"))
            return _capi.new_trap("wasi poll_oneoff: time limit")
        except FuelReached:
            self.failure.hit(LimitHit("fuel", "while sleeping in WASI poll_oneoff"))
            return _capi.new_trap("wasi poll_oneoff: out of fuel")
        except BaseException as exc:  # noqa: BLE001 - Ctrl-C in a sleep: re-raised by the call
            self.failure.host_exception = exc
            self.failure.host_import = f"{PREVIEW1}.poll_oneoff"
            return _capi.new_trap("wasi poll_oneoff raised")
        _capi.write_raw(values, struct.pack("<i", errno))
        return 0


def _open_output(fd: int, target: Output) -> tuple[int, bool]:
    """The host descriptor for an output target, and whether we opened it."""
    if target is None:
        return fd, False
    if isinstance(target, int):
        return target, False
    assert target != "capture"
    path = Path(target)
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644), True
    except OSError as exc:
        raise SandboxError(
            f"cannot open {path} for the guest's {'stdout' if fd == 1 else 'stderr'}: "
            f"{exc.strerror}",
            hint="check that its directory exists and is writable",
        ) from None
