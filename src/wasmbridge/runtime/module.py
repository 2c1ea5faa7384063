"""``load()`` and ``Module``: from bytes on disk to Python callables.

Loading checks the bytes before the engine sees them (the ``\\0asm``
header, size, structure, interface version), compiles through the cache,
links the host imports and instantiates. The resulting ``Module`` has one
attribute per export with a real signature and the Rust doc comment.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import os
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import wasmtime

from ..errors import InterfaceError, InvalidModule
from ..interface import (
    BinaryFormatError,
    Interface,
    SectionFormatError,
    SectionVersionError,
    WasmModule,
    parse,
    read_interface,
    validate,
)
from ..interface.binary import FuncType
from ..interface.section import VERSION
from ._words import listing
from .arrays import GuestArray, element_kind
from .cache import CompileCache, resolve_cache
from .engine import EngineSettings
from .grants import Grants
from .instance import Instance
from .limits import DEFAULT_MAX_MODULE_BYTES, Limits
from .wasi import MODULES as WASI_MODULES

REACTOR_INIT = "_initialize"  # WASI reactors (libraries) export it, to be called once

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
        found = _INSPECTED[digest] = (dataclasses.replace(wasm, custom={}), interface)
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
        from .compile_guard import compile_bounded

        return compile_bounded(data, name, settings, cache, limits)
    except wasmtime.WasmtimeError as exc:
        text = str(exc).strip()
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        detail = re.sub(r"^\d+: ", "", lines[-1]) if lines else "invalid module"
        raise InvalidModule(
            f"{name} is not a valid WebAssembly module: {detail}",
            hint="rebuild it; `wasmbridge inspect` shows what the file contains",
        ) from None


class Module:
    """A loaded module: one attribute per export, each a typed Python callable.

    Exports whose names clash with the few attributes below are always
    reachable through ``exports``.
    """

    def __init__(self, instance: Instance) -> None:
        self._instance = instance
        self.exports: Mapping[str, Callable[..., Any]] = instance.functions

    @property
    def name(self) -> str:
        return self._instance.name

    @property
    def interface(self) -> Interface | None:
        """The decoded interface section, or None for modules built without the SDK."""
        return self._instance.interface

    def array(self, dtype: object, length: int) -> GuestArray:
        """Allocate ``length`` elements in guest memory (zero-copy arguments)."""
        return GuestArray(self._instance, element_kind(dtype), length)

    def memory_view(self) -> memoryview:
        """A writable view of the whole linear memory as it is now."""
        memory = self._instance.memory
        if memory is None:
            raise AttributeError(f"{self.name} exports no memory")
        memory.refresh()
        return memory.view

    def __getattr__(self, attr: str) -> Any:
        exports = self.__dict__.get("exports")
        if exports is not None and attr in exports:
            function = self.__dict__[attr] = exports[attr]  # later lookups skip this method
            return function
        unsupported = self.__dict__.get("_instance")
        if unsupported is not None and attr in unsupported.unsupported:
            raise InterfaceError(
                f"{self.name}: export `{attr}` cannot be called from Python: "
                f"{unsupported.unsupported[attr]}",
                hint="wrap it in an export with supported types (docs/abi.md)",
            )
        names = list(self.__dict__.get("exports", {}))
        close = difflib.get_close_matches(attr, names, n=1)
        suggestion = f"; did you mean `{close[0]}`?" if close else ""
        raise AttributeError(
            f"{unsupported.name if unsupported is not None else 'module'} has no export "
            f"`{attr}`{suggestion} (exports: {listing(sorted(names), 10)})"
        )

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.exports))

    def __repr__(self) -> str:
        return f"<wasmbridge.Module {self.name}: {', '.join(sorted(self.exports))}>"


def load(
    source: Source,
    *,
    imports: Mapping[str, Any] | None = None,
    name: str | None = None,
    cache: CompileCache | bool = True,
    max_module_bytes: int | None = None,
    limits: Limits | None = None,
) -> Module:
    """Load a ``.wasm`` file (or bytes) and return its exports as Python callables.

    ``imports`` maps host function names (``{"alert": print}``) or
    namespaces (``{"env": {"alert": print}}``) to Python callables.
    Compiled code is cached on disk, so a second load skips compilation.
    ``limits`` (``wasmbridge.Limits``) applies to instantiation and to every
    call (docs/sandbox.md). A module built for wasm32-wasi gets WASI with
    nothing granted: no files, no environment, output to the host's streams.

    >>> m = wasmbridge.load("pkg/hello.wasm", imports={"alert": print})
    >>> m.add(5, 7)
    12
    """
    data, label = read_source(source, name)
    wasm, interface = inspect_bytes(data, label, _module_cap(max_module_bytes, limits))
    settings = EngineSettings.for_limits(limits)
    compiled = compile_module(data, label, settings, resolve_cache(cache), limits)
    instance = Instance(
        compiled,
        wasm,
        interface,
        label,
        imports or {},
        settings,
        limits=limits,
        wasi=Grants(argv=(label,)) if uses_wasi(wasm) else None,
    )
    # Only a `_initialize` of the reactor type () -> () is run; any other is an
    # ordinary export.
    if wasm.export_type(REACTOR_INIT) == FuncType((), ()):
        init = instance.functions.pop(REACTOR_INIT, None)
        if init is not None:
            init()
    return Module(instance)


def _module_cap(explicit: int | None, limits: Limits | None) -> int:
    if explicit is not None:
        return explicit
    return limits.module_bytes if limits is not None else DEFAULT_MAX_MODULE_BYTES


def uses_wasi(wasm: WasmModule) -> bool:
    """Whether the module imports WASI functions."""
    return any(i.module in WASI_MODULES for i in wasm.imports)
