"""Applying ``Limits`` to one store and to each call into it.

At instantiation: memory and table caps go into the store's limiter (so
``memory.grow`` past the cap returns -1 and an oversized declaration fails),
and the first deadline and fuel are armed, since a start function runs
during instantiation. Before each call (``CallSite.before_call``): the
deadline and the fuel are armed again and the calling thread's stack is
checked.

Time: a call's deadline is a ``time.monotonic()`` value, decided by the
clock alone. The store's epoch deadline stays one epoch ahead, so every
tick of the ticker (ticker.py) makes a running guest call ``_decide``,
which compares the clock with the deadline. The ticker keeps ticking until
a tick has come after the last armed deadline, so no deadline waits on a
tick that will not come, whatever the time limit and however late the
ticks run. The same callback stops the guest for Ctrl-C (interrupt.py).

Why the thread check: wasmtime bounds the wasm stack at ``max_wasm_stack``
below the stack pointer it finds on entry, and trusts the thread to have
that much stack left. A thread with less (``threading.stack_size(256 *
1024)``) gets a segfault instead of a stack-overflow trap. So a call is
refused, with a clear error, when the thread's stack is smaller than the
wasm stack plus ``STACK_HEADROOM`` for the host frames below the guest
(Python, ctypes) and above it (host imports, WASI calls). The thread's
size is asked once per thread (``pthread_getattr_np``) and cached.

Calls into modules loaded without limits skip all of this (their call path
is unchanged); their instantiation still checks the loading thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol

import wasmtime

from ...errors import StackLimitExceeded
from .. import _capi
from . import interrupt
from .limits import KIB, Limits, fmt_size, store_limits
from .ticker import get_ticker
from .traps import FailureContext, LimitHit

STACK_HEADROOM = 128 * KIB
NO_DEADLINE = float("inf")

_thread = threading.local()


def thread_stack_size() -> int | None:
    """The calling thread's stack size, asked once per thread (None: unknown)."""
    try:
        size: int | None = _thread.stack_size
    except AttributeError:
        size = _thread.stack_size = _capi.thread_stack_size()
    return size


def check_thread_stack(module: str, wasm_stack: int) -> None:
    """Refuse to enter wasm on a thread whose stack cannot hold ``wasm_stack`` safely."""
    size = thread_stack_size()
    need = wasm_stack + STACK_HEADROOM
    if size is None or size >= need:
        return
    fits = max(0, (size - STACK_HEADROOM) // KIB)
    raise StackLimitExceeded(
        f"{module}: not run on this thread: its stack is {fmt_size(size)}, too small for the "
        f"{fmt_size(wasm_stack)} wasm stack limit plus {fmt_size(STACK_HEADROOM)} for host "
        "frames (deep recursion would crash the process instead of trapping)",
        hint=f"call it from a thread started after threading.stack_size({need // KIB} * 1024), "
        f"or lower the wasm stack to Limits(stack_kb={fits}) or less",
    )


class CallState(Protocol):
    """What the guard reads from its instance: the thread inside a host import, if any."""

    callback_thread: int | None


class CallGuard:
    """The limits of one instance: its store's caps and the arming of each call.

    ``deadline`` is the ``time.monotonic()`` value the current call must end
    by. The store's epoch deadline only makes wasmtime ask ``_decide``, once
    per tick while guest code runs, whether that time has come; so arming a
    call costs one clock read and no call into wasmtime. WASI host functions
    that wait (a sleep, a blocked write) read ``deadline`` too.
    """

    def __init__(
        self,
        limits: Limits,
        store: wasmtime.Store,
        ctx: int,
        module: str,
        state: CallState,
        failure: FailureContext,
        caps: Mapping[str, int] | None = None,
    ) -> None:
        self.limits = limits
        self.module = module
        self.deadline = NO_DEADLINE
        # A command (sandbox/command.py) fails once a host function enforced a limit
        # (output past its cap), so it is stopped at the next tick, not left to run on.
        self.stop_at_limit = False
        self._failure = failure
        self._keep: object = None
        # Totals over every memory and table of the instance (limits.store_limits).
        # ``caps``: the same, worked out once per module and limits by the caller.
        store.set_limits(**(caps if caps is not None else store_limits(limits, failure.wasm)))
        if limits.timeout_s is not None:
            # In place of the instance's interrupt-only callback (its deadline
            # is already one epoch ahead).
            self._keep = _capi.on_epoch_deadline(store, self._decide)
        self.arm = self._arming(state, ctx)

    def _arming(self, state: CallState, ctx: int) -> Callable[[], None]:
        """``arm()``, specialised to these limits: it runs before every call."""
        get_ident = threading.get_ident
        monotonic = time.monotonic
        local = _thread
        module, wasm_stack = self.module, self.limits.stack_bytes
        need = wasm_stack + STACK_HEADROOM
        timeout = self.limits.timeout_s
        keep_busy = get_ticker().keep_busy
        fuel = self.limits.fuel
        refill = _capi.fuel_refill(ctx, fuel) if fuel is not None else None
        failure = self._failure

        def arm() -> None:
            # A call made from inside a host import runs under the outer call's
            # deadline and fuel, so it is not re-armed.
            inside = state.callback_thread
            if inside is not None and inside == get_ident():
                return
            # A limit a host function enforced in an earlier call that still returned
            # (a write refused at the output cap, the error ignored) is not this call's.
            failure.limit_hit = None
            try:
                checked = local.checked_stack
            except AttributeError:
                checked = 0
            if checked < need:
                check_thread_stack(module, wasm_stack)
                local.checked_stack = need
            if timeout is not None:
                self.deadline = deadline = monotonic() + timeout
                keep_busy(deadline)
            if refill is not None:
                refill()

        return arm

    def _decide(self) -> int | None:
        """At each tick while the guest runs: None to stop it, else 1 (look again next tick).

        Always one tick: a deadline counted in ticks would fire late, or
        never, when ticks come slower than ``TICK_S`` or stop.
        """
        if interrupt.stop_requested():
            return None
        if self.stop_at_limit and self._failure.limit_hit is not None:
            return None
        if time.monotonic() < self.deadline:
            return 1
        self._failure.hit(LimitHit("time"))
        return None

    def remaining(self) -> float:
        """Seconds left before the current call's deadline (infinite without a time limit)."""
        return self.deadline - time.monotonic()
