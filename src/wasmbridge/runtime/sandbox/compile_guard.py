"""Bounded compilation: a module loaded with limits compiles in a child process.

wasmtime's compiler (Cranelift) can take time and memory out of all
proportion to a module's size: 20,000 loops in one 59 KiB function take
35 s and 264 MiB to compile, 1,000 empty functions declaring 50,000 locals
each (8 KiB) take 5 s. A thread cannot be stopped halfway through a
compile; a process can. So a module loaded with limits is compiled by a
fresh Python process whose CPU time and resident memory this process
watches, killing it at either bound (``Limits.compile_budget``). The child
writes the compiled module into the on-disk compile cache (through
``CompileCache.module``, as any load would) and sends the artifact back
over a pipe, from which this process deserializes it: it comes from our
own child, not from a file someone else could have written.

No child is started when there is nothing to bound:

- the module's compiled code is already known here (``_PROVEN``: compiled
  by a child of this process within its budget) or in the disk cache;
- the module fails validation (wasmtime's validator runs in linear time,
  in this process: ``InvalidModule`` at once);
- the module is tiny (at most ``SMALL_MODULE_BYTES`` and
  ``SMALL_MODULE_LOCALS`` declared locals): the worst such module measured
  compiles in 0.4 s, cheaper than starting the child (~0.25 s).

A module the child was stopped for is refused again at once, for the same
or a smaller budget, without compiling it again.

Protocol (child on stdin/stdout): the parent sends one JSON line (engine
settings, cache) and the module's bytes; the child answers ``ready`` once
its imports are done (CPU time counts from there), then one JSON line
(``{"bytes": n}``, ``{"compile_error": text}`` or ``{"error": ...}``) and
the artifact. Nothing here is imported by a module loaded without limits.
"""

from __future__ import annotations

import json
import os
import resource
import select
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections import OrderedDict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import wasmtime

from ...errors import (
    CacheWarning,
    MemoryLimitExceeded,
    SandboxError,
    TimeLimitExceeded,
    WasmbridgeError,
)
from ..engine import EngineSettings, get_engine
from ..engine.cache import CompileCache
from .limits import Limits, fmt_seconds, fmt_size

SMALL_MODULE_BYTES = 4096
SMALL_MODULE_LOCALS = 4096
# A child may take this long in wall time (starting Python, a loaded machine)
# before it is stopped even though its CPU time is within the budget.
WALL_BASE_S = 30.0
WALL_FACTOR = 4.0
POLL_S = 0.02
REMEMBERED = 4096  # entries in _PROVEN and _REFUSED
_READY = b"ready\n"
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
# The child skips site initialisation (-S, a third of its start-up) and imports
# from this process's sys.path instead, which site already completed here.
_CHILD = (
    "import sys, json; sys.path[:0] = json.loads(sys.argv[1]); "
    "from wasmbridge.runtime.sandbox.compile_guard import child_main; child_main()"
)

_PROVEN: OrderedDict[str, None] = OrderedDict()  # cache keys compiled within a budget
_REFUSED: OrderedDict[str, tuple[str, float]] = OrderedDict()  # key -> (kind, budget)
_lock = threading.Lock()


@dataclass(frozen=True)
class Budget:
    """What compiling one module may use: CPU seconds and resident bytes."""

    cpu_s: float
    memory: int
    code_bytes: int

    @property
    def wall_s(self) -> float:
        return WALL_BASE_S + self.cpu_s * WALL_FACTOR


def compile_bounded(
    data: bytes, name: str, settings: EngineSettings, cache: CompileCache, limits: Limits
) -> wasmtime.Module:
    """The compiled module, with its compilation bounded by ``limits``.

    Raises ``TimeLimitExceeded`` or ``MemoryLimitExceeded`` when compiling
    needs more than the budget, ``wasmtime.WasmtimeError`` for an invalid
    module (``compile_module`` words it).
    """
    key = cache.key(data, settings)
    if key in _PROVEN or (cache.disk and cache.path(key).is_file()):
        return cache.module(data, settings)  # nothing to compile, or known to fit
    engine = get_engine(settings)
    wasmtime.Module.validate(engine, data)
    code_bytes, local_count = code_stats(data)
    if len(data) <= SMALL_MODULE_BYTES and local_count <= SMALL_MODULE_LOCALS:
        compiled = cache.module(data, settings)  # cheaper here than starting a child
        _remember(key)
        return compiled
    cpu_s, memory = limits.compile_budget(code_bytes)
    budget = Budget(cpu_s, memory, code_bytes)
    _check_refused(key, name, budget)
    artifact = _compile_in_child(data, name, settings, cache, budget, key)
    _remember(key)
    return wasmtime.Module.deserialize(engine, artifact)


def _remember(key: str) -> None:
    with _lock:
        _PROVEN[key] = None
        while len(_PROVEN) > REMEMBERED:
            _PROVEN.popitem(last=False)


def _refuse(key: str, kind: str, budget: float) -> None:
    with _lock:
        _REFUSED[key] = (kind, budget)
        while len(_REFUSED) > REMEMBERED:
            _REFUSED.popitem(last=False)


def _check_refused(key: str, name: str, budget: Budget) -> None:
    refused = _REFUSED.get(key)
    if refused is None:
        return
    kind, at = refused
    if kind == "time" and budget.cpu_s <= at:
        raise _over_time(name, budget)
    if kind == "memory" and budget.memory <= at:
        raise _over_memory(name, budget)


# -- sizes read from the module, cheaply ---------------------------------------------


def code_stats(data: bytes) -> tuple[int, int]:
    """(bytes of function bodies, locals declared in all of them), from the code section.

    Read without decoding instructions. A count that does not parse is
    reported as unbounded, so the module is never taken for a small one.
    """
    try:
        return _read_code_stats(data)
    except (IndexError, ValueError):
        return len(data), sys.maxsize


def _read_code_stats(data: bytes) -> tuple[int, int]:
    pos = 8
    while pos < len(data):
        section, pos = data[pos], pos + 1
        size, pos = _uleb(data, pos)
        if section == 10:
            return size, _count_locals(data, pos, pos + size)
        pos += size
    return 0, 0


def _count_locals(data: bytes, pos: int, end: int) -> int:
    total = 0
    count, pos = _uleb(data, pos)
    for _ in range(count):
        size, pos = _uleb(data, pos)
        body_end = pos + size
        groups, pos = _uleb(data, pos)
        for _ in range(groups):
            locals_, pos = _uleb(data, pos)
            total += locals_
            pos = _skip_valtype(data, pos)
        pos = body_end
        if pos > end:
            raise ValueError("function body past the code section")
    return total


def _skip_valtype(data: bytes, pos: int) -> int:
    kind = data[pos]
    if kind in (0x63, 0x64):  # (ref null? heaptype): a signed LEB128 follows
        return _uleb(data, pos + 1)[1]
    return pos + 1


def _uleb(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 35:
            raise ValueError("LEB128 too long")


# -- the parent: start, feed, watch ----------------------------------------------------


def _compile_in_child(
    data: bytes,
    name: str,
    settings: EngineSettings,
    cache: CompileCache,
    budget: Budget,
    key: str,
) -> bytes:
    request = {
        "settings": asdict(settings),
        "cache": {"directory": str(cache.directory), "max_bytes": cache.max_bytes}
        if cache.disk
        else None,
        "module_bytes": len(data),
        "cpu_s": budget.cpu_s,
    }
    proc = subprocess.Popen(
        [sys.executable, "-S", "-c", _CHILD, json.dumps([_PACKAGE_ROOT, *sys.path])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin is not None and proc.stdout is not None
    feeder = threading.Thread(
        target=_send, args=(proc.stdin, json.dumps(request).encode() + b"\n" + data), daemon=True
    )
    feeder.start()
    try:
        header, body = _watch(proc, name, budget, key)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()
    return _artifact(header, body, name)


def _send(pipe: Any, payload: bytes) -> None:
    try:
        with pipe:
            pipe.write(payload)
    except (BrokenPipeError, ValueError):
        pass  # the child died or was killed: _watch reports why


def _watch(
    proc: subprocess.Popen[bytes], name: str, budget: Budget, key: str
) -> tuple[dict[str, Any], bytes]:
    """Read the child's answer, killing it at its CPU, memory or wall-clock bound."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buffer = bytearray()
    started = time.monotonic()
    base_cpu: float | None = None
    while True:
        ready, _, _ = select.select([fd], [], [], POLL_S)
        if ready:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            buffer += chunk
            if base_cpu is None and buffer.startswith(_READY):
                del buffer[: len(_READY)]
                base_cpu = _cpu_seconds(proc.pid)
        if base_cpu is not None:
            _check_child(proc, name, budget, key, base_cpu)
        if time.monotonic() - started > budget.wall_s:
            proc.kill()
            raise _over_wall(name, budget)
    proc.wait()
    if proc.returncode == -signal.SIGXCPU:  # the child's own backstop (RLIMIT_CPU)
        _refuse(key, "time", budget.cpu_s)
        raise _over_time(name, budget)
    line, _, body = bytes(buffer).partition(b"\n")
    if not line:
        raise _died(name, proc.returncode)
    header: dict[str, Any] = json.loads(line)
    return header, body


def _check_child(
    proc: subprocess.Popen[bytes], name: str, budget: Budget, key: str, base_cpu: float
) -> None:
    if _cpu_seconds(proc.pid) - base_cpu > budget.cpu_s:
        proc.kill()
        _refuse(key, "time", budget.cpu_s)
        raise _over_time(name, budget)
    if _resident_bytes(proc.pid) > budget.memory:
        proc.kill()
        _refuse(key, "memory", budget.memory)
        raise _over_memory(name, budget)


def _artifact(header: dict[str, Any], body: bytes, name: str) -> bytes:
    for message in header.get("warnings", ()):
        _warn_once(str(message))
    if "compile_error" in header:
        raise wasmtime.WasmtimeError(str(header["compile_error"]))
    if "error" in header:
        from .wire import decode_error

        raise decode_error(header["error"])
    size = int(header["bytes"])
    if len(body) != size:
        raise _died(name, 0)
    return body


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    """The child's cache warnings, once each, as the cache would give them here."""
    with _lock:
        if message in _warned:
            return
        _warned.add(message)
    warnings.warn(message, CacheWarning, stacklevel=5)


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a live process, all its threads (0 when unknown)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rpartition(b")")[2].split()
    except OSError:
        return 0.0
    # After the command name: state is field 3, utime 14 and stime 15 (proc(5)).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _resident_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            resident = int(f.read().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return resident * os.sysconf("SC_PAGE_SIZE")


# -- errors ------------------------------------------------------------------------------


def _over_time(name: str, budget: Budget) -> TimeLimitExceeded:
    return TimeLimitExceeded(
        f"compiling {name} took more than its {fmt_seconds(round(budget.cpu_s, 2))} "
        f"compile-time limit (CPU time, for {budget.code_bytes:,} bytes of code): the "
        "compiler was stopped",
        hint="raise Limits(compile_s=...) or --compile-timeout if the module is trusted "
        "(ordinary code compiles at about 2 CPU s per MiB); a module loaded without limits "
        "compiles unbounded",
    )


def _over_memory(name: str, budget: Budget) -> MemoryLimitExceeded:
    return MemoryLimitExceeded(
        f"compiling {name} needed more than its {fmt_size(budget.memory)} compile-memory "
        f"limit (for {budget.code_bytes:,} bytes of code): the compiler was stopped",
        hint="raise Limits(compile_mb=...) or --compile-memory if the module is trusted",
    )


def _over_wall(name: str, budget: Budget) -> TimeLimitExceeded:
    return TimeLimitExceeded(
        f"compiling {name} did not finish within {fmt_seconds(round(budget.wall_s))} of wall "
        "time (its CPU time was within its limit: is the machine overloaded?)",
        hint="retry when the machine is less busy, or raise Limits(compile_s=...)",
    )


def _died(name: str, code: int) -> SandboxError:
    how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
    return SandboxError(
        f"the process compiling {name} ended ({how}) without a result",
        hint="this is a bug in wasmbridge or wasmtime; please report it with the module",
    )


# -- the child -----------------------------------------------------------------------------


def child_main() -> None:
    """Entry point of the compiling process: request on stdin, answer on stdout."""
    out = sys.stdout.buffer
    request = json.loads(sys.stdin.buffer.readline())
    data = sys.stdin.buffer.read(request["module_bytes"])
    # A backstop for the parent's watch: the kernel stops a child past its CPU time.
    seconds = int(request["cpu_s"] + _cpu_now() + 2)
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    except (ValueError, OSError):
        pass  # a lower hard limit is already in place
    out.write(_READY)
    out.flush()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CacheWarning)
        try:
            artifact = _compile_here(data, request)
            header: dict[str, Any] = {"bytes": len(artifact)}
        except wasmtime.WasmtimeError as exc:
            header, artifact = {"compile_error": str(exc)}, b""
        except WasmbridgeError as exc:
            from .wire import encode_error

            header, artifact = {"error": encode_error(exc)}, b""
    header["warnings"] = [str(w.message) for w in caught if issubclass(w.category, CacheWarning)]
    out.write(json.dumps(header).encode() + b"\n" + artifact)
    out.flush()
    os._exit(0)  # skip interpreter teardown: nothing is left to flush


def _cpu_now() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _compile_here(data: bytes, request: dict[str, Any]) -> bytes:
    settings = EngineSettings(**request["settings"])
    spec = request["cache"]
    if spec is None:
        return bytes(wasmtime.Module(get_engine(settings), data).serialize())
    cache = CompileCache(spec["directory"], max_bytes=spec["max_bytes"])
    return bytes(cache.module(data, settings).serialize())
