"""Helpers of the in-process serve tests (conftest.py holds the fixtures): routes,
and requests sent through httpx's ASGI transport."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

from wasmbridge.serve.app import ServeApp
from wasmbridge.serve.config import Route

MakeApp = Callable[..., ServeApp]


def bridge_route(wasm: Path, path: str = "/...", **fields: Any) -> Route:
    return Route(path=path, kind="bridge", module=wasm, static=None, **fields)


def wagi_route(wasm: Path, path: str = "/...", **fields: Any) -> Route:
    return Route(path=path, kind="wagi", module=wasm, static=None, **fields)


def send_all(app: Any, requests: Sequence[tuple[str, str, dict[str, Any]]]) -> list[httpx.Response]:
    """Send ``(method, url, httpx kwargs)`` requests concurrently to an ASGI app."""

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return list(
                await asyncio.gather(*(client.request(m, u, **kw) for m, u, kw in requests))
            )

    return asyncio.run(run())


def get(app: Any, url: str, method: str = "GET", **kwargs: Any) -> httpx.Response:
    return send_all(app, [(method, url, kwargs)])[0]
