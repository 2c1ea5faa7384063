"""Ctrl-C during guest calls: the guest stops, the call raises KeyboardInterrupt.

Python runs a SIGINT handler only in the main thread, between bytecodes.
A guest running compiled code never reaches one, and the default handler,
raising KeyboardInterrupt at whatever bytecode comes next, can land where
a call cannot recover: as a host import is entered (ctypes prints
"Exception ignored" and the guest carries on as if the import had
returned), or between taking an instance's call token and the ``try``
that gives it back. So, while SIGINT's handler is Python's default one,
the first instance created in the main thread replaces it with
``_on_sigint``, which behaves the same outside guest calls and, inside one:

- in the body of a host import (``SAFE`` code, registered by
  ``imports._trapping``, and WASI's ``poll_oneoff``) raises at once: the
  import's exception comes out of the export call, as any other does;
- anywhere else on the call path (generated export code, the ctypes
  trampolines of ``_capi``) only records the interrupt (``pending``) and
  advances every epoch engine's epoch. The guest stops at its next epoch check,
  where its store's deadline callback sees ``stop_requested()``, and the
  failed call raises KeyboardInterrupt (``traps.failure`` calls ``take``).
  If the call ends before the guest gets there, the watcher thread
  re-delivers the SIGINT (``_thread.interrupt_main``) until the main thread
  is out of the call path, where the handler raises as usual.

A guest in compiled code does not return to Python by itself, so a
watcher thread blocks on the read end of a pipe installed with
``signal.set_wakeup_fd`` (only when no other wakeup descriptor is set, as
asyncio sets one: then we leave it alone, and a spinning guest stops only
when it next calls the host or its time limit ticks). The C-level signal
handler writes to it; the watcher advances the epoch of every engine with
epoch checks, the running guest enters its deadline callback, and Python
runs the handler right there. Every store of such an engine has a deadline
one epoch ahead (``watch_store``) and a callback that stops the guest when
an interrupt is pending.

Only code under a time limit has epoch checks (engine/settings.py): code
without one runs at native speed and nothing can stop it from outside. A
Ctrl-C during such a call is deferred as above: the guest runs on, and
KeyboardInterrupt is raised as soon as the call returns (the watcher's
re-delivery), or at its next host import, which the dispatcher of host
functions (store/linking.py) turns into a trap before the import runs. To make a runaway guest
stoppable, give it a time limit (``Limits(timeout_s=...)``): then Ctrl-C
stops it within a tick, as its deadline would.

A handler the program installed itself (anything but
``signal.default_int_handler``, before or after ours) is respected: the
watcher then does nothing, no guest is stopped for it, and it runs when the
main thread next runs Python code.
"""

from __future__ import annotations

import _thread
import os
import signal
import threading
import time
from types import CodeType, FrameType

import wasmtime

from .. import _capi
from .ticker import kick_engines
from .wasi_poll import poll_oneoff

# Written to our pipe by the handler: "an interrupt was deferred, re-deliver it".
_RETRY = b"\0"
# How often a deferred interrupt is re-delivered while the main thread is
# still on the call path (e.g. lowering a large argument, waiting for the
# instance another thread is calling).
RETRY_S = 0.002
_GENERATED = "<wasmbridge "  # the file name of generated export code (calls.py)
_CAPI_FILE = _capi.epoch_callback.__code__.co_filename

# Code whose exceptions reach a host import's ``except``: raising there is safe.
SAFE: set[CodeType] = {poll_oneoff.__code__}
# Python code the compiled call path (bridge/native.py) runs in the middle of a call
# (arming limits, reporting a failure, lifting a result): an interrupt there waits, as
# it does in generated code.
CALL_PATH: set[CodeType] = set()


class _State:
    """What the handler, the watcher and the deadline callbacks share."""

    def __init__(self) -> None:
        self.decided = False  # whether install() has run to a decision in this process
        self.pending = False  # a deferred Ctrl-C: the main thread's guest call must stop
        self.echo = False  # the watcher re-delivered SIGINT (not the user pressing again)
        self.read_fd = -1
        self.write_fd = -1
        self.inherited: tuple[int, int] | None = None  # our pipe, seen from a forked child
        self.main = threading.main_thread().ident


_state = _State()
state = _state  # read by the host functions' dispatcher (store/linking.py)


def stop_requested() -> bool:
    """In a deadline callback: whether the guest must stop for a Ctrl-C."""
    return _state.pending and threading.get_ident() == _state.main


def take() -> bool:
    """Whether a failed call was stopped for a Ctrl-C (then it is answered)."""
    if _state.pending and threading.get_ident() == _state.main:
        _state.pending = False
        return True
    return False


def _carry_on() -> int | None:
    """The deadline callback of epoch stores until a time limit sets its own."""
    return None if stop_requested() else 1


_SHARED_CALLBACK = _capi.epoch_callback(_carry_on)


def watch_store(store: wasmtime.Store, ctx: int, *, epoch: bool) -> None:
    """Make a new store answer Ctrl-C.

    A store whose engine checks epochs gets a deadline one epoch ahead and
    the shared callback (a time limit replaces it with its own, in
    ``CallGuard``, which asks ``stop_requested()`` too). A store without
    epoch checks gets nothing: its calls cannot be stopped, and a Ctrl-C
    during one is raised once it returns. Either way the SIGINT handler is
    installed, so an interrupt never lands inside a call's bookkeeping.
    """
    if epoch:
        _capi.set_epoch_callback(store, _SHARED_CALLBACK)
        _capi.set_epoch_deadline(ctx, 1)
    if not _state.decided:
        install()


def install() -> None:
    """Take over SIGINT while its handler is Python's default (main thread only)."""
    if threading.get_ident() != _state.main:
        return  # signal handlers can only be set from the main thread: next time
    _state.decided = True
    try:
        current = signal.getsignal(signal.SIGINT)
        if current is not signal.default_int_handler and current is not _on_sigint:
            return  # the program's own handler (or SIG_IGN / SIG_DFL): leave it alone
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)
        signal.signal(signal.SIGINT, _on_sigint)
    except (ValueError, OSError):
        return  # not the main interpreter, or out of descriptors: the default stays
    _state.read_fd, _state.write_fd = read_fd, write_fd
    _set_wakeup(write_fd)
    watcher = threading.Thread(target=_watch, args=(read_fd,), name="wasmbridge-sigint")
    watcher.daemon = True
    previous = threading.stack_size(0)
    try:
        watcher.start()
    finally:
        threading.stack_size(previous)


def _set_wakeup(write_fd: int) -> None:
    """Install our wakeup descriptor unless another one (asyncio's) is in place."""
    mine = {-1, *(_state.inherited or ())}
    try:
        old = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    except ValueError:
        return
    if old not in mine:
        signal.set_wakeup_fd(old)  # someone else's: put it back and step aside
    if _state.inherited is not None:
        for fd in _state.inherited:
            os.close(fd)
        _state.inherited = None


def _ours() -> bool:
    return signal.getsignal(signal.SIGINT) is _on_sigint


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    """SIGINT's handler: KeyboardInterrupt now, or once the guest call has stopped."""
    echo, _state.echo = _state.echo, False
    if echo and not _state.pending:
        return  # a re-delivery of an interrupt that a call has already raised
    if _on_call_path(frame):
        _state.pending = True
        kick_engines()  # the next epoch check of a running guest calls back
        try:
            os.write(_state.write_fd, _RETRY)
        except OSError:
            pass  # a full pipe already holds a request to re-deliver
        return
    _state.pending = False
    raise KeyboardInterrupt


def _on_call_path(frame: FrameType | None) -> bool:
    """Whether raising in ``frame`` could break a call: the innermost marked frame decides."""
    while frame is not None:
        code = frame.f_code
        if code in SAFE:
            return False
        if (
            code in CALL_PATH
            or code.co_filename == _CAPI_FILE
            or code.co_filename.startswith(_GENERATED)
        ):
            return True
        frame = frame.f_back
    return False


def _watch(read_fd: int) -> None:
    """The watcher thread: wake the main thread's guest, re-deliver deferred interrupts."""
    while True:
        try:
            data = os.read(read_fd, 512)
        except OSError:
            return
        if not data:
            return
        if not _ours():
            continue  # the program's handler now: no guest is stopped for it
        if bytes([signal.SIGINT]) in data:
            kick_engines()
        if _RETRY in data:
            time.sleep(RETRY_S)
            if _state.pending and _ours():
                _state.echo = True
                _thread.interrupt_main(signal.SIGINT)


def _after_fork() -> None:
    """The watcher does not exist in a forked child: the next instance starts one."""
    if _state.read_fd >= 0:
        _state.inherited = (_state.read_fd, _state.write_fd)
    _state.read_fd = _state.write_fd = -1
    _state.decided = _state.pending = _state.echo = False
    _state.main = threading.main_thread().ident


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
