"""wasmbridge: write fast code once in Rust, run it as WebAssembly everywhere.

>>> import wasmbridge
>>> m = wasmbridge.load("pkg/hello.wasm", imports={"alert": print})
>>> m.add(5, 7)
12
>>> module = wasmbridge.compile("pkg/hello.wasm")     # compiled once, shared
>>> with module.instantiate(imports={"alert": print}) as m:
...     m.add(5, 7)
12
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    BadResponse,
    BuildFailed,
    CacheError,
    CacheWarning,
    CgiError,
    FuelExhausted,
    GuestError,
    GuestExit,
    GuestPanic,
    HandleError,
    InterfaceError,
    InvalidModule,
    LimitExceeded,
    LinkError,
    ListenError,
    ManifestError,
    MemoryLimitExceeded,
    MissingToolchain,
    ModuleError,
    OutboundError,
    OutputLimitExceeded,
    ProtocolError,
    ResponseTooLarge,
    ReturnedError,
    SandboxError,
    StackLimitExceeded,
    StoreError,
    TimeLimitExceeded,
    ToolchainError,
    Trap,
    WasmbridgeError,
)

__version__ = "0.1.0"

# The runtime imports wasmtime (a large shared library); load it on first use
# so `wasmbridge --help` and the build commands stay fast.
_LAZY = {
    "CompileCache": "wasmbridge.runtime.engine.cache",
    "GuestArray": "wasmbridge.runtime.bridge.arrays",
    "Instance": "wasmbridge.runtime.instance",
    "Limits": "wasmbridge.runtime.sandbox.limits",
    "Module": "wasmbridge.runtime.module",
    "RunResult": "wasmbridge.runtime.sandbox.command",
    "compile": "wasmbridge.runtime.module",
    "load": "wasmbridge.runtime.module",
    "run": "wasmbridge.runtime.sandbox.run",
}

if TYPE_CHECKING:
    from .runtime.bridge.arrays import GuestArray
    from .runtime.engine.cache import CompileCache
    from .runtime.instance import Instance
    from .runtime.module import Module, compile, load
    from .runtime.sandbox.command import RunResult
    from .runtime.sandbox.limits import Limits
    from .runtime.sandbox.run import run


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'wasmbridge' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    # The lazy names are not in globals() until first used; list them anyway,
    # so dir(wasmbridge) and completion show `load` from the start.
    return sorted({*globals(), *__all__})


__all__ = [
    "BadResponse",
    "BuildFailed",
    "CacheError",
    "CacheWarning",
    "CgiError",
    "CompileCache",
    "FuelExhausted",
    "GuestArray",
    "GuestError",
    "GuestExit",
    "GuestPanic",
    "HandleError",
    "Instance",
    "InterfaceError",
    "InvalidModule",
    "LimitExceeded",
    "Limits",
    "LinkError",
    "ListenError",
    "ManifestError",
    "MemoryLimitExceeded",
    "MissingToolchain",
    "Module",
    "ModuleError",
    "OutboundError",
    "OutputLimitExceeded",
    "ProtocolError",
    "ResponseTooLarge",
    "ReturnedError",
    "RunResult",
    "SandboxError",
    "StackLimitExceeded",
    "StoreError",
    "TimeLimitExceeded",
    "ToolchainError",
    "Trap",
    "WasmbridgeError",
    "__version__",
    "compile",
    "load",
    "run",
]
