"""``run()``: a WASI command (``_start``) in the sandbox, to its exit code.

Two ways to run it, the same grants and limits:

- ``isolation="process"`` (the default): a child Python process runs the
  command inline, and this process is its watchdog. The child reports a
  precise error when a limit fires inside it; if the guest is stuck where
  no limit reaches (a host call blocked on inherited stdin, a FIFO inside a
  granted directory), the watchdog kills the child at ``timeout_s`` plus a
  grace period. Costs a Python start (~0.3 s). See ``isolate.py``.
- ``isolation="inline"``: in this thread, in milliseconds. Wasm code stops
  at its epoch deadline, WASI sleeps and writes at the same deadline; a
  host call blocked on inherited stdin or on a FIFO has no deadline here.

    r = wasmbridge.run("tool.wasm", args=["x"], dirs={"/in": ("./in", "ro")},
                       stdin=b"...", capture=True, limits=Limits(timeout_s=2.0))
    r.exit_code, r.stdout, r.stderr
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..errors import GuestExit, ModuleError
from .grants import DirSource, Grants, Output, Stdin
from .limits import Limits

if TYPE_CHECKING:  # the process path never imports wasmtime in this process
    from .cache import CompileCache
    from .source import Source

Isolation = Literal["process", "inline"]
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


def run(
    source: Source,
    args: Sequence[str] = (),
    *,
    dirs: Mapping[str, DirSource] | None = None,
    env: Mapping[str, str] | None = None,
    stdin: Stdin = None,
    capture: bool = False,
    stdout: Output = None,
    stderr: Output = None,
    limits: Limits | None = None,
    name: str | None = None,
    cache: CompileCache | bool = True,
    isolation: Isolation = "process",
) -> RunResult:
    """Run a WASI command (a ``.wasm`` exporting ``_start``) and return how it ended.

    Nothing is granted unless asked: ``args`` follow ``argv[0]`` (the
    module's name), ``env`` is exactly what is given, ``dirs`` maps guest
    paths to host directories (``"./out"`` read-write, ``("./in", "ro")``
    read-only), ``stdin`` is bytes, ``"inherit"`` or empty (None).
    stdout and stderr go to the host's own unless ``capture=True`` (kept, up
    to ``Limits(max_output_bytes)``, default 16 MiB) or given a path or a
    file descriptor. The guest's ``exit(code)`` is ``exit_code``, whatever
    the code; errors of the sandbox and limits hit raise. ``cache`` is
    ``load()``'s.

    >>> r = wasmbridge.run("tool.wasm", ["summarize", "/in", "/out"],
    ...                    dirs={"/in": ("in", "ro"), "/out": "out"}, capture=True)
    >>> r.exit_code, r.stdout
    (0, b'summarized 3 files\\n')
    """
    label = name or _label(source)
    grants = Grants.build(
        label,
        args=args,
        dirs=dirs,
        env=env,
        stdin=stdin,
        stdout="capture" if capture and stdout is None else stdout,
        stderr="capture" if capture and stderr is None else stderr,
    )
    if isolation == "inline":
        return run_inline(source, grants, limits, cache, name=label)
    if isolation == "process":
        from .isolate import run_isolated

        return run_isolated(source, grants, limits, cache, name=label)
    raise ValueError(
        f"run() argument 'isolation': expected 'process' or 'inline', got {isolation!r}"
    )


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
    from . import traps
    from .module import compile
    from .source import inspect_bytes, read_source

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
    instance = module.instantiate(limits=limits, wasi=grants)
    live = instance._instance
    session = live.wasi
    assert session is not None
    try:
        try:
            instance.exports[START]()
            code = 0
        except GuestExit as exit_:
            code = exit_.code
        hit = live.failure.limit_hit
        if hit is not None:  # output over its cap, and the guest carried on to the end
            live.failure.clear()
            raise traps.limit_error(live.failure, f"`{START}()`", hit)
        out, err = session.captured()
        return RunResult(code, out, err)
    finally:
        instance.close()


def _label(source: Source) -> str:
    """The name ``argv[0]`` and messages use: the file's name."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "main.wasm"
    return Path(source).name
