"""Helpers of the serve host-services tests (conftest.py holds the fixtures)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from wasmbridge.serve.config import AppConfig, Route

MakeApp = Callable[..., AppConfig]


def route(path: str = "/api/...", **fields: object) -> Route:
    """A bridge route with the given services fields."""
    return Route(path=path, kind="bridge", module=None, static=None, **fields)  # type: ignore[arg-type]


@dataclass
class Recorder:
    """A loopback HTTP server: its port, and every connection and request it saw."""

    port: int
    connections: list[tuple[str, int]] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
