"""Fixtures for the in-process serve tests: fixture handlers built once per session,
apps made from routes, and requests sent through httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from app_helpers import MakeApp

from wasmbridge.serve.app import ServeApp
from wasmbridge.serve.config import AppConfig, KvStoreConfig, Route


@pytest.fixture(scope="session")
def serve_bridge_wasm(build_fixture: Callable[..., Path]) -> Path:
    """tests/fixtures/crates/serve_bridge: handle(Request) -> Response, one case per path."""
    return build_fixture("serve_bridge")


@pytest.fixture(scope="session")
def serve_wagi_wasm(wasi_build: Callable[..., Path]) -> Path:
    """tests/fixtures/crates/serve_wagi: a CGI program for wasm32-wasi, one case per PATH_INFO."""
    return wasi_build("serve_wagi")


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[MakeApp]:
    """``make_app(routes, **options) -> ServeApp`` (closed after the test)."""
    made: list[ServeApp] = []

    def make(
        routes: Sequence[Route], *, kv: Sequence[KvStoreConfig] = (), **options: Any
    ) -> ServeApp:
        config = AppConfig("test", tmp_path / "wasmbridge.toml", tuple(routes), tuple(kv))
        app = ServeApp(config, **options)
        made.append(app)
        return app

    yield make
    for app in made:
        app.close()
