"""A WASI command run to its end in this thread: ``run_inline``, ``run_command`` and
``RunResult``.

Wasm code stops at its epoch deadline, WASI sleeps and writes at the same
deadline; a host call blocked on inherited stdin or on a FIFO has no
deadline here (``isolate.py`` runs this in a child process it can kill).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...errors import GuestExit, ModuleError
from .grants import Grants
from .limits import Limits

if TYPE_CHECKING:  # the process path never imports wasmtime in this process
    from ..engine.cache import CompileCache
    from ..engine.source import Source
    from ..instance import Instance

START = "_start"


@dataclass(frozen=True)
class RunResult:
    """How a WASI command ended: its exit code, and its output where captured."""

    exit_code: int
    stdout: bytes | None = None
    stderr: bytes | None = None

    @property
    def exit_status(self) -> int:
        """The code as a process exit status: codes above 255 become 255, never 0."""
        return self.exit_code if 0 <= self.exit_code <= 255 else 255


def run_inline(
    source: Source,
    grants: Grants,
    limits: Limits | None,
    cache: CompileCache | bool,
    *,
    name: str | None = None,
    on_start: Callable[[], None] | None = None,
) -> RunResult:
    """Run the command in this thread; ``on_start`` is called once it is compiled.

    Compiling is bounded (compile_guard.py) when ``limits`` are given; with
    None the module is trusted to compile in reasonable time, as by ``load()``.
    """
    from ..engine.source import inspect_bytes, read_source
    from ..module import compile

    given = limits
    limits = limits or Limits()
    data, label = read_source(source, name)
    wasm, _ = inspect_bytes(data, label, limits.module_bytes)
    start = wasm.export_type(START)
    if start is None or start.params or start.results:
        found = "no `_start` function" if start is None else f"`_start` of type {start}"
        raise ModuleError(
            f"{label} is not a WASI command: it exports {found}, not `_start: () -> ()`",
            hint="a library's functions are called through wasmbridge.load(...)",
        )
    module = compile(
        data, name=label, limits=given, cache=cache, max_module_bytes=limits.module_bytes
    )
    if on_start is not None:
        on_start()
    return run_command(module.instantiate(limits=limits, wasi=grants))


def run_command(instance: Instance, entry: str = START) -> RunResult:
    """Run ``entry`` of an instance made with WASI grants to its end, then close it.

    The guest's ``exit(code)`` is the exit code; an output cap the guest
    ran past (and carried on after) raises its limit error.
    """
    from . import traps

    live = instance._instance
    session = live.wasi
    assert session is not None
    if live.guard is not None:
        live.guard.stop_at_limit = True  # it fails anyway: no need to let it run on
    try:
        try:
            instance.exports[entry]()
            code = 0
        except GuestExit as exit_:
            code = exit_.code
        hit = live.failure.limit_hit
        if hit is not None:  # output over its cap, and the guest carried on to the end
            live.failure.clear()
            raise traps.limit_error(live.failure, f"`{entry}()`", hit)
        out, err = session.captured()
        return RunResult(code, out, err)
    finally:
        instance.close()
