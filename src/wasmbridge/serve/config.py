"""The validated shape of a served app: what ``load_manifest`` returns.

Every path is absolute (resolved against the manifest's folder) and every
value has passed validation, so the router, handlers and services can use
these objects without checking them again.

    >>> Route(path="/", kind="static", module=None, static=Path("/srv/web")).limits.timeout_ms
    1000
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

__all__ = [
    "AppConfig",
    "FileMount",
    "KvBackend",
    "KvStoreConfig",
    "Route",
    "RouteKind",
    "RouteLimits",
]

RouteKind = Literal["bridge", "wagi", "static"]
KvBackend = Literal["sqlite", "redis"]


@dataclass(frozen=True)
class RouteLimits:
    """Per-route resource caps; each one maps to an HTTP status when hit."""

    memory_mb: int = 64  # all memories + tables of the instance
    timeout_ms: int = 1000  # wall time of one request's guest run -> 504
    max_body_kb: int = 1024  # request body cap -> 413
    max_response_kb: int = 4096  # response body / WAGI stdout cap -> 500


@dataclass(frozen=True)
class FileMount:
    """A host folder the guest sees at ``guest``; read-only unless ``writable``."""

    host: Path  # absolute, resolved against the manifest's folder
    guest: str  # absolute guest path, e.g. "/data"
    writable: bool  # mode = "rw"


@dataclass(frozen=True)
class Route:
    """One ``[[route]]`` (or Spin ``[[trigger.http]]``): a path pattern and its handler."""

    path: str  # the pattern as written: "/api/cart/...", "/items/:id", "/"
    kind: RouteKind
    module: Path | None  # absolute: a .wasm file or a crate folder (bridge/wagi)
    static: Path | None  # absolute folder (static)
    key_value_stores: tuple[str, ...] = ()
    allowed_outbound_hosts: tuple[str, ...] = ()
    files: tuple[FileMount, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    limits: RouteLimits = RouteLimits()
    argv: str = "${SCRIPT_NAME} ${ARGS}"  # wagi only (Spin's wagi executor option)
    entrypoint: str = "_start"  # wagi only
    where: str = ""  # "wasmbridge.toml:12:1" of the [[route]] table, for messages


@dataclass(frozen=True)
class KvStoreConfig:
    """A key-value store: SQLite in a file (the default) or Redis at a URL."""

    name: str
    backend: KvBackend = "sqlite"
    path: Path | None = None  # sqlite file; default <manifest dir>/.wasmbridge/kv.sqlite
    url: str | None = None  # redis://host:port/db
    where: str = field(default="", compare=False)  # "wasmbridge.toml:20:1" of [kv.name]


@dataclass(frozen=True)
class AppConfig:
    """A whole app: its name, manifest, routes in file order and key-value stores."""

    name: str
    manifest: Path  # absolute path of the manifest file
    routes: tuple[Route, ...]
    kv: tuple[KvStoreConfig, ...] = ()  # every store any route names

    def store(self, name: str) -> KvStoreConfig:
        """The store called ``name``; KeyError when no route names it."""
        for store in self.kv:
            if store.name == name:
                return store
        raise KeyError(name)
