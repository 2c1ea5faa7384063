"""Process isolation for ``run()``: a child process runs the command, we watch it.

A guest can block inside a host call where no engine limit reaches it
(a read of inherited stdin, the open of a FIFO in a granted directory).
Threads cannot be killed, processes can: the child runs ``run_inline``
with the same grants and limits, and this side is the watchdog.

Protocol, over two pipes besides the child's stdio:

- request (parent -> child): one JSON line (grants, limits, cache, the
  module's path or length), then the module's bytes and stdin's bytes;
- result (child -> parent): ``started`` once the module is compiled (the
  time limit counts from there), then one JSON line (exit code, output
  lengths, or the error as type, message, hint and attributes), then the
  captured output.

The child's stdio is the guest's: the parent's own streams when inherited,
an opened file or a given descriptor, /dev/null when captured (the child
captures in memory and sends it back). The watchdog kills the child
``WATCHDOG_GRACE_S`` (plus 10%) after the time limit, and at once if this
process is interrupted. Nothing here imports wasmtime, so a parent that
only runs commands this way (``wasmbridge run``) stays light.
"""

from __future__ import annotations

import json
import math
import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ...errors import SandboxError, TimeLimitExceeded, WasmbridgeError
from .command import RunResult, run_inline
from .grants import INHERIT, Grants, Output, Preopen
from .limits import Limits, fmt_seconds
from .wire import decode_error, encode_error

if TYPE_CHECKING:
    from ..engine.cache import CompileCache
    from ..engine.source import Source

WATCHDOG_GRACE_S = 0.5
STARTUP_TIMEOUT_S = 120.0  # interpreter start plus a cold compile of a large module
_STARTED = b"started\n"
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[3])
_CHILD = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from wasmbridge.runtime.sandbox.isolate import child_main; child_main(sys.argv[2:])"
)


# -- the parent: start, feed, watch -------------------------------------------------


def run_isolated(
    source: Source,
    grants: Grants,
    limits: Limits | None,
    cache: CompileCache | bool,
    *,
    name: str,
) -> RunResult:
    """Run the command in a child process under a wall-clock watchdog."""
    request, payload = _request(source, grants, limits, cache, name)
    limits = limits or Limits()
    stdout, close_out = _child_stream(grants.stdout, sys.stdout)
    stderr, close_err = _child_stream(grants.stderr, sys.stderr)
    req_r, req_w = os.pipe()
    res_r, res_w = os.pipe()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, _PACKAGE_ROOT, str(req_r), str(res_w)],
            stdin=None if grants.stdin == INHERIT else subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            pass_fds=(req_r, res_w),
        )
    finally:
        os.close(req_r)
        os.close(res_w)
        for fd in (close_out, close_err):
            if fd is not None:
                os.close(fd)
    try:
        # From a thread: the child may die or hang before reading it all.
        threading.Thread(target=_send, args=(req_w, request, payload), daemon=True).start()
        header, body = _watch(proc, res_r, limits, name)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        os.close(res_r)
    return _result(header, body)


def _request(
    source: Source, grants: Grants, limits: Limits | None, cache: CompileCache | bool, name: str
) -> tuple[dict[str, Any], bytes]:
    module = b""
    path = None
    if isinstance(source, (bytes, bytearray, memoryview)):
        module = bytes(source)
    else:
        path = str(Path(source).absolute())
    stdin = grants.stdin if isinstance(grants.stdin, bytes) else b""
    request = {
        "name": name,
        "path": path,
        "module_bytes": len(module),
        "stdin_bytes": len(stdin),
        "stdin": "inherit" if grants.stdin == INHERIT else "bytes",
        "argv": list(grants.argv),
        "env": [list(pair) for pair in grants.env],
        "dirs": [[str(d.host), d.guest, d.writable] for d in grants.dirs],
        "stdout": "capture" if grants.stdout == "capture" else "inherit",
        "stderr": "capture" if grants.stderr == "capture" else "inherit",
        "limits": asdict(limits) if limits is not None else None,  # None: trusted
        "cache": _cache_spec(cache),
    }
    return request, module + stdin


def _cache_spec(cache: CompileCache | bool) -> dict[str, Any]:
    if isinstance(cache, bool):
        return {"default": cache}
    return {"directory": str(cache.directory), "disk": cache.disk, "max_bytes": cache.max_bytes}


def _child_stream(target: Output, default: IO[str]) -> tuple[int | None, int | None]:
    """The child's descriptor for a stream, and one to close here after the start."""
    if target == "capture":
        return subprocess.DEVNULL, None
    if target is None:
        return _fileno(default), None
    if isinstance(target, int):
        return target, None
    try:
        fd = os.open(Path(target), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise SandboxError(
            f"cannot open {target} for the guest's output: {exc.strerror}",
            hint="check that its directory exists and is writable",
        ) from None
    return fd, fd


def _fileno(stream: IO[str]) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None  # a StringIO (tests): the child keeps this process's descriptor


def _send(fd: int, request: dict[str, Any], payload: bytes) -> None:
    try:
        with os.fdopen(fd, "wb") as pipe:
            pipe.write(json.dumps(request).encode() + b"\n" + payload)
    except BrokenPipeError:
        pass  # the child died early; _watch reports it


def _watch(
    proc: subprocess.Popen[bytes], fd: int, limits: Limits, name: str
) -> tuple[dict[str, Any], bytes]:
    """Read the child's result, killing it if it overruns; returns (header, output)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    buffer = bytearray()
    started = time.monotonic()
    limit = started + STARTUP_TIMEOUT_S
    running = False
    while True:
        left = limit - time.monotonic()
        if left <= 0:
            proc.kill()
            proc.wait()
            raise _overrun(name, limits, running, time.monotonic() - started)
        if not poller.poll(None if math.isinf(left) else max(1, math.ceil(left * 1000))):
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        buffer += chunk
        if not running and buffer.startswith(_STARTED):
            del buffer[: len(_STARTED)]
            running = True
            started = time.monotonic()
            limit = started + _budget(limits)
    proc.wait()
    header_line, _, body = bytes(buffer).partition(b"\n")
    if not header_line:
        raise _died(name, proc.returncode)
    return json.loads(header_line), body


def _budget(limits: Limits) -> float:
    if limits.timeout_s is None:
        return math.inf
    return limits.timeout_s * 1.1 + WATCHDOG_GRACE_S


def _overrun(name: str, limits: Limits, running: bool, elapsed: float) -> WasmbridgeError:
    if not running:
        return SandboxError(
            f"the sandbox process for {name} did not start within {STARTUP_TIMEOUT_S:g} s",
            hint="check the machine's load; `wasmbridge run -v` shows what happened",
        )
    assert limits.timeout_s is not None
    return TimeLimitExceeded(
        f"`_start()` in {name} ran past its {fmt_seconds(limits.timeout_s)} time limit "
        f"while blocked in a host call; the watchdog killed its process after {elapsed:.1f} s",
        hint="raise Limits(timeout_s=...) or --timeout (a guest waiting on inherited stdin or "
        "on a FIFO in a granted directory waits for ever)",
    )


def _died(name: str, code: int) -> SandboxError:
    how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
    return SandboxError(
        f"the sandbox process for {name} ended ({how}) without reporting a result",
        hint="this is a bug in wasmbridge or wasmtime; please report it with the module",
    )


def _result(header: dict[str, Any], body: bytes) -> RunResult:
    if "error" in header:
        raise decode_error(header["error"])
    out_len, err_len = header["stdout"], header["stderr"]
    out = body[:out_len] if out_len is not None else None
    err = body[out_len or 0 : (out_len or 0) + err_len] if err_len is not None else None
    return RunResult(header["exit_code"], out, err)


# -- the child ------------------------------------------------------------------------------


def child_main(argv: list[str]) -> None:
    """Entry point of the child process: ``REQUEST_FD RESULT_FD``."""
    request_fd, result_fd = int(argv[0]), int(argv[1])
    with os.fdopen(result_fd, "wb", buffering=0) as out:
        try:
            header, body = _child_run(request_fd, lambda: out.write(_STARTED))
        except WasmbridgeError as exc:
            header, body = {"error": encode_error(exc)}, b""
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises
            failure = SandboxError(
                f"the sandbox process failed: {type(exc).__name__}: {exc}",
                hint="this is a bug in wasmbridge; please report it with the module",
            )
            header, body = {"error": encode_error(failure)}, b""
        out.write(json.dumps(header).encode() + b"\n" + body)
    os._exit(0)  # skip interpreter teardown: nothing is left to flush


def _child_run(fd: int, on_start: Any) -> tuple[dict[str, Any], bytes]:
    from ..engine.cache import CompileCache

    with os.fdopen(fd, "rb") as pipe:
        request = json.loads(pipe.readline())
        module = pipe.read(request["module_bytes"])
        stdin = pipe.read(request["stdin_bytes"])
    grants = Grants(
        argv=tuple(request["argv"]),
        env=tuple((k, v) for k, v in request["env"]),
        dirs=tuple(Preopen(Path(h), g, w) for h, g, w in request["dirs"]),
        stdin=INHERIT if request["stdin"] == "inherit" else stdin,
        stdout="capture" if request["stdout"] == "capture" else None,
        stderr="capture" if request["stderr"] == "capture" else None,
    )
    spec = request["cache"]
    cache: CompileCache | bool = (
        spec["default"]
        if "default" in spec
        else CompileCache(spec["directory"], max_bytes=spec["max_bytes"], disk=spec["disk"])
    )
    source: Source = request["path"] if request["path"] is not None else module
    limits = request["limits"]
    result = run_inline(
        source,
        grants,
        Limits(**limits) if limits is not None else None,
        cache,
        name=request["name"],
        on_start=on_start,
    )
    out, err = result.stdout, result.stderr
    header = {
        "exit_code": result.exit_code,
        "stdout": None if out is None else len(out),
        "stderr": None if err is None else len(err),
    }
    return header, (out or b"") + (err or b"")
