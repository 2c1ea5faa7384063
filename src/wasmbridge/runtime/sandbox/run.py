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

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .command import RunResult, run_inline
from .grants import DirSource, Grants, Output, Stdin
from .isolate import run_isolated
from .limits import Limits

if TYPE_CHECKING:  # the process path never imports wasmtime in this process
    from ..engine.cache import CompileCache
    from ..engine.source import Source

Isolation = Literal["process", "inline"]


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
        return run_isolated(source, grants, limits, cache, name=label)
    raise ValueError(
        f"run() argument 'isolation': expected 'process' or 'inline', got {isolation!r}"
    )


def _label(source: Source) -> str:
    """The name ``argv[0]`` and messages use: the file's name."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "main.wasm"
    return Path(source).name
