"""Serve WebAssembly HTTP handlers: a fresh sandboxed instance per request.

    app = wasmbridge.serve.asgi_app("wasmbridge.toml")   # an ASGI app for uvicorn,
                                                          # Starlette, FastAPI
The heavy parts (wasmtime, the build layer) load on first use.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import ServeApp
    from .config import AppConfig
    from .manifest import load_manifest

__all__ = ["ServeApp", "asgi_app", "load_manifest"]

_LAZY = {"ServeApp": "wasmbridge.serve.app", "load_manifest": "wasmbridge.serve.manifest"}


def asgi_app(manifest: str | os.PathLike[str] | AppConfig, **options: Any) -> ServeApp:
    """The ASGI app serving ``manifest`` (a wasmbridge.toml or spin.toml path, or a loaded
    ``AppConfig``); ``options`` are ``ServeApp``'s (debug, threads, queue, cache).

    >>> app = wasmbridge.serve.asgi_app("wasmbridge.toml")
    """
    from .app import ServeApp
    from .config import AppConfig

    if isinstance(manifest, AppConfig):
        return ServeApp(manifest, **options)
    from .manifest import load_manifest

    return ServeApp(load_manifest(os.fspath(manifest)), **options)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'wasmbridge.serve' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
