"""``compile()`` and ``Module``: a module checked, compiled and planned once.

Everything that depends only on the module is done when it is compiled:
reading and checking the bytes, decoding the interface, compiling (through
the cache), planning exports and imports, and defining the imports in a
wasmtime linker that pre-instantiates the module. ``Module.instantiate()``
then costs a store and an instantiation. ``load()`` is both in one call.
"""

from __future__ import annotations

import dataclasses
import gc
import threading
from collections import OrderedDict
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import wasmtime

from ..interface import Interface, WasmModule
from ..interface.types import Function
from .bridge.class_types import module_class
from .bridge.records import module_type
from .engine import EngineSettings, get_engine
from .engine.cache import CompileCache, resolve_cache
from .engine.settings import fits_slot, pool_fits
from .engine.source import Source, compile_module, inspect_bytes, read_source
from .instance import Instance
from .sandbox.grants import Grants
from .sandbox.limits import DEFAULT_MAX_MODULE_BYTES, Limits
from .sandbox.wasi import MODULES as WASI_MODULES
from .store.exports import plan_exports, raw_function, raw_problem
from .store.failures import PoolFull, PoolMisfit, pool_exhausted
from .store.linking import HostImports, LinkedModule, plan_imports
from .store.live import LiveInstance, ModuleParts


class Module:
    """A compiled module: instantiate it as often as needed, from any thread.

    Immutable once made (``compile()`` makes it). Each instance gets its
    own memory, state and host functions; compiled code, plans and linked
    imports are shared.

    >>> module = wasmbridge.compile("pkg/hello.wasm")
    >>> with module.instantiate(imports={"alert": print}) as m:
    ...     m.add(5, 7)
    12
    """

    def __init__(
        self,
        data: bytes,
        wasm: WasmModule,
        interface: Interface | None,
        name: str,
        *,
        cache: CompileCache,
        limits: Limits | None,
    ) -> None:
        self._name = name
        self._data = data  # to compile again for limits that change the code (fuel, stack)
        self._cache = cache
        self._limits = limits
        self._wasi = uses_wasi(wasm)
        self._lock = threading.Lock()
        self._code: dict[EngineSettings, _Code] = {}
        # Whether its instances come from an engine's pool (engine/settings.py): decided
        # here, from the memories and tables it declares.
        self._pooled = pool_fits(wasm)
        self._settings: dict[Limits | None, EngineSettings] = {}
        self._parts = ModuleParts(
            name,
            wasm,
            interface,
            plan_exports(wasm, interface, name),
            plan_imports(wasm, interface, name),
        )
        self._code_for(self._settings_for(limits), limits)

    @property
    def name(self) -> str:
        """The name used in messages (the file name unless ``name=`` was given)."""
        return self._name

    @property
    def interface(self) -> Interface | None:
        """The decoded interface section, or None for modules built without the SDK."""
        return self._parts.interface

    @property
    def limits(self) -> Limits | None:
        """The limits it was compiled with, and the default of its instances."""
        return self._limits

    @property
    def exports(self) -> Mapping[str, Function]:
        """The functions an instance makes callable, by name, with their signatures."""
        return MappingProxyType(
            {name: planned.function for name, planned in self._parts.exports.functions.items()}
        )

    @property
    def imports(self) -> Mapping[str, Function]:
        """The host functions ``instantiate(imports=...)`` supplies, by ``"namespace.name"``."""
        found: dict[str, Function] = {}
        for slot in self._parts.imports.slots:
            if slot.panic or raw_problem(slot.type):
                continue
            function = slot.function or raw_function(slot.name, slot.type)
            found[f"{slot.module}.{slot.name}"] = dataclasses.replace(function, module=slot.module)
        return MappingProxyType(found)

    def instantiate(
        self,
        imports: HostImports | None = None,
        *,
        limits: Limits | None = None,
        wasi: Grants | None = None,
    ) -> Instance:
        """A fresh instance: its own memory and state, its own host functions.

        ``imports`` as for ``wasmbridge.load``. ``limits`` default to the
        module's own (``compile(limits=...)``); limits that change the
        compiled code (fuel, stack size, memory reservation) compile it once
        more for their engine, through the cache. A module that imports WASI
        gets WASI with nothing granted unless ``wasi`` grants more.
        """
        limits = limits if limits is not None else self._limits
        if self._wasi and wasi is None:
            wasi = Grants(argv=(self.name,))
        try:
            live = self._live(limits, imports, wasi)
        except PoolMisfit:  # wasmtime refused the slot after all: on demand from now on
            with self._lock:
                self._pooled = False
                self._settings.clear()
            live = self._live(limits, imports, wasi)
        except PoolFull:
            # Instances dropped without close() hold their slots until the collector
            # frees them (they hold reference cycles): collect, then try once more.
            gc.collect()
            try:
                live = self._live(limits, imports, wasi)
            except PoolFull as full:
                raise pool_exhausted(self.name, full.slots) from None
        instance = Instance(live, self)
        init = self._parts.exports.reactor_init
        if init is not None:
            live.run_export(init)
        return instance

    def _live(
        self, limits: Limits | None, imports: HostImports | None, wasi: Grants | None
    ) -> LiveInstance:
        settings = self._settings_for(limits)
        code = self._code_for(settings, limits)
        return LiveInstance(
            self._parts,
            settings,
            code.compiled,
            None if wasi is not None else code.linked(self._parts),
            imports or {},
            limits=limits,
            wasi=wasi,
        )

    def one_shot_parts(
        self, limits: Limits | None
    ) -> tuple[ModuleParts, EngineSettings, LinkedModule] | None:
        """What ``store/oneshot.py`` makes instances from, under ``limits``: None for a
        module that imports WASI or cannot be pre-linked."""
        if self._wasi:
            return None
        settings = self._settings_for(limits)
        linked = self._code_for(settings, limits).linked(self._parts)
        return None if linked is None else (self._parts, settings, linked)

    def _settings_for(self, limits: Limits | None) -> EngineSettings:
        """The engine an instance with ``limits`` runs on (remembered per limits)."""
        settings = self._settings.get(limits)
        if settings is None:
            settings = EngineSettings.for_limits(limits)
            settings = settings.with_pool(self._pooled and fits_slot(self._parts.wasm, settings))
            self._settings[limits] = settings
        return settings

    def _code_for(self, settings: EngineSettings, limits: Limits | None) -> _Code:
        code = self._code.get(settings)
        if code is not None:
            return code
        with self._lock:
            code = self._code.get(settings)
            if code is None:
                # Compiling is bounded for a module compiled under limits (untrusted).
                bound = limits if self._limits is not None else None
                compiled = compile_module(self._data, self.name, settings, self._cache, bound)
                code = self._code[settings] = _Code(settings, compiled)
            return code

    def __getattr__(self, attr: str) -> Any:
        """``module.Point``, ``module.Shape``: the records and enums it defines, the
        classes every instance uses (runtime/bridge/records.py); ``module.Counter``:
        the class every instance's ``Counter`` derives from (bridge/class_types.py)."""
        parts = self.__dict__.get("_parts")
        found = None
        if parts is not None:
            found = module_type(parts.interface, parts.name, attr) or module_class(
                parts.interface, parts.name, attr
            )
        if found is None:
            raise AttributeError(f"module has no record, enum or class named {attr!r}")
        return found

    def __repr__(self) -> str:
        names = ", ".join(sorted(self._parts.exports.functions))
        return f"<wasmbridge.Module {self.name}: {names}>"


class _Code:
    """The module compiled for one engine, and its imports linked once in that engine."""

    def __init__(self, settings: EngineSettings, compiled: wasmtime.Module) -> None:
        self.settings = settings
        self.compiled = compiled
        self._linked: LinkedModule | None = None
        self._lock = threading.Lock()

    def linked(self, parts: ModuleParts) -> LinkedModule | None:
        """The pre-linked module, made on the first instance that gets this far."""
        linked = self._linked
        if linked is None:
            with self._lock:
                linked = self._linked
                if linked is None and not _unlinkable(parts):
                    linked = self._linked = LinkedModule(
                        get_engine(self.settings), self.compiled, parts.imports
                    )
        return linked


def _unlinkable(parts: ModuleParts) -> bool:
    """Imports no host function can satisfy: instantiating reports them (LinkError)."""
    imports = parts.imports
    return any(isinstance(e, str) for e in imports.order) or any(
        raw_problem(s.type) for s in imports.slots
    )


def compile(
    source: Source,
    *,
    name: str | None = None,
    limits: Limits | None = None,
    cache: CompileCache | bool = True,
    max_module_bytes: int | None = None,
) -> Module:
    """Check and compile a ``.wasm`` file (or bytes) once; instantiate it many times.

    Compiled code is cached on disk (``cache``, as for ``load``). With
    ``limits``, compiling is bounded in time and memory and every instance
    gets those limits unless ``instantiate(limits=...)`` says otherwise.

    >>> module = wasmbridge.compile("pkg/hello.wasm")
    >>> module.instantiate(imports={"alert": print}).add(5, 7)
    12
    """
    data, label = read_source(source, name)
    cap = _module_cap(max_module_bytes, limits)
    resolved = resolve_cache(cache)
    if cache is False:  # memory only, for this call: nothing to find again
        wasm, interface = inspect_bytes(data, label, cap)
        return Module(data, wasm, interface, label, cache=resolved, limits=limits)
    # A Module never changes once made: the same bytes, name, limits and cache give
    # the same one (``load()`` of a file already loaded then costs a read and a lookup).
    key = (data, label, limits, cap, resolved)
    module = _MODULES.get(key)
    if module is not None:
        resolved.stats.memory_hits += 1  # its compiled code, from memory
    else:
        wasm, interface = inspect_bytes(data, label, cap)
        module = Module(data, wasm, interface, label, cache=resolved, limits=limits)
        with _modules_lock:
            module = _MODULES.setdefault(key, module)
            _MODULES.move_to_end(key)
            total = sum(len(k[0]) for k in _MODULES)
            while len(_MODULES) > MODULE_ENTRIES or total > MODULE_BYTES:
                evicted, _ = _MODULES.popitem(last=False)
                total -= len(evicted[0])
    return module


# compile()'s Modules, the least recently made first (an LRU), bounded in count and in
# the bytes of wasm they keep.
MODULE_ENTRIES = 64
MODULE_BYTES = 16 * 1024 * 1024
_MODULES: OrderedDict[tuple[bytes, str, Limits | None, int, CompileCache], Module] = OrderedDict()
_modules_lock = threading.Lock()


def load(
    source: Source,
    *,
    imports: Mapping[str, Any] | None = None,
    name: str | None = None,
    cache: CompileCache | bool = True,
    max_module_bytes: int | None = None,
    limits: Limits | None = None,
) -> Instance:
    """Load a ``.wasm`` file (or bytes) and return an instance: its exports as callables.

    ``compile()`` then ``Module.instantiate()``. ``imports`` maps host
    function names (``{"alert": print}``) or namespaces (``{"env":
    {"alert": print}}``) to Python callables. Compiled code is cached on
    disk, so a second load skips compilation. ``limits``
    (``wasmbridge.Limits``) applies to instantiation and to every call
    (docs/sandbox.md). A module built for wasm32-wasi gets WASI with
    nothing granted: no files, no environment, output to the host's streams.

    >>> m = wasmbridge.load("pkg/hello.wasm", imports={"alert": print})
    >>> m.add(5, 7)
    12
    """
    module = compile(
        source, name=name, limits=limits, cache=cache, max_module_bytes=max_module_bytes
    )
    return module.instantiate(imports)


def _module_cap(explicit: int | None, limits: Limits | None) -> int:
    if explicit is not None:
        return explicit
    return limits.module_bytes if limits is not None else DEFAULT_MAX_MODULE_BYTES


def uses_wasi(wasm: WasmModule) -> bool:
    """Whether the module imports WASI functions."""
    return any(i.module in WASI_MODULES for i in wasm.imports)
