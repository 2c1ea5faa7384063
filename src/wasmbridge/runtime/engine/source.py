"""From a path or bytes to checked, compiled code.

The bytes are checked before the engine sees them (the ``\\0asm`` header,
size, structure, interface version and its agreement with the code), then
compiled through the compile cache: in this process for trusted modules,
in a bounded child process (compile_guard.py) under ``Limits``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import threading
from collections import OrderedDict
from pathlib import Path

import wasmtime

from ...errors import InterfaceError, InvalidModule
from ...interface import (
    BinaryFormatError,
    Interface,
    SectionFormatError,
    SectionVersionError,
    WasmModule,
    parse,
    read_interface,
    validate,
)
from ...interface.section import VERSION
from ..sandbox.limits import Limits
from .cache import CompileCache
from .settings import EngineSettings

Source = str | os.PathLike[str] | bytes | bytearray | memoryview


def read_source(source: Source, name: str | None = None) -> tuple[bytes, str]:
    """The module's bytes and the name used in messages (the file name)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), name or "<bytes>"
    path = Path(source)
    try:
        return path.read_bytes(), name or path.name
    except FileNotFoundError:
        raise InvalidModule(
            f"{path}: no such file",
            hint="build it first with `wasmbridge build`, or check the path",
        ) from None
    except IsADirectoryError:
        raise InvalidModule(f"{path} is a directory, not a .wasm file") from None
    except OSError as exc:
        raise InvalidModule(f"{path}: cannot read ({exc.strerror})") from None


_INSPECTED: OrderedDict[bytes, tuple[WasmModule, Interface | None]] = OrderedDict()
_INSPECTED_ENTRIES = 64
_inspected_lock = threading.Lock()


def inspect_bytes(data: bytes, name: str, max_bytes: int) -> tuple[WasmModule, Interface | None]:
    """Structure and interface of a module, or the error explaining why not.

    Results are remembered by content hash: loading the same module again
    (a fresh instance per request, say) does not parse it again. What is
    remembered holds no custom sections (their payloads are copies of the
    module's bytes, megabytes in debug builds): the interface is decoded by
    then and the function names kept. The parsed structures are never
    modified after parsing.
    """
    if len(data) > max_bytes:
        _parse_checked(data, name, max_bytes)  # raises the size error
    digest = hashlib.sha256(data).digest()
    found = _INSPECTED.get(digest)
    if found is None:
        wasm, interface = _parse_checked(data, name, max_bytes)
        found = (dataclasses.replace(wasm, custom={}), interface)
        with _inspected_lock:
            _INSPECTED[digest] = found
            while len(_INSPECTED) > _INSPECTED_ENTRIES:
                _INSPECTED.popitem(last=False)
    return found


def _parse_checked(data: bytes, name: str, max_bytes: int) -> tuple[WasmModule, Interface | None]:
    if len(data) > max_bytes:
        raise InvalidModule(
            f"{name} is {len(data):,} bytes, over the {max_bytes:,}-byte module limit",
            hint="raise Limits(max_module_bytes=...) if this module is expected",
        )
    try:
        wasm = parse(data)
    except BinaryFormatError as exc:
        raise InvalidModule(
            f"{name} {_phrase(str(exc))}",
            hint="load the .wasm that `wasmbridge build` wrote (pkg/NAME.wasm); "
            "`wasmbridge inspect FILE` shows what a file contains",
        ) from None
    try:
        interface = read_interface(wasm)
    except SectionVersionError as exc:
        raise InterfaceError(
            f"{name} has interface v{exc.found}, this wasmbridge reads v{VERSION}",
            hint="upgrade wasmbridge (pip install -U wasmbridge) or rebuild with this version",
        ) from None
    except SectionFormatError as exc:
        raise InterfaceError(
            f"{name}: its wasmbridge interface section is damaged: {exc}",
            hint="rebuild it with `wasmbridge build`",
        ) from None
    problems = validate(wasm, interface)
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise InterfaceError(
            f"{name}: its interface does not match its code: {'; '.join(problems[:3])}{more}",
            hint="rebuild it with `wasmbridge build`",
        )
    return wasm, interface


def _phrase(problem: str) -> str:
    starts = ("is ", "has ", "truncated", "empty")
    return problem if problem.startswith(starts) else f"is malformed: {problem}"


def compile_module(
    data: bytes,
    name: str,
    settings: EngineSettings,
    cache: CompileCache,
    limits: Limits | None = None,
) -> wasmtime.Module:
    """The compiled module, through the cache.

    With ``limits``, compiling is bounded in time and memory (a child
    process: compile_guard.py); without, it runs here, unbounded: a module
    loaded without limits is trusted.
    """
    try:
        if limits is None:
            return cache.module(data, settings)
        from ..sandbox.compile_guard import compile_bounded

        return compile_bounded(data, name, settings, cache, limits)
    except wasmtime.WasmtimeError as exc:
        text = str(exc).strip()
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        detail = re.sub(r"^\d+: ", "", lines[-1]) if lines else "invalid module"
        raise InvalidModule(
            f"{name} is not a valid WebAssembly module: {detail}",
            hint="rebuild it; `wasmbridge inspect` shows what the file contains",
        ) from None
