"""The baseline bench/serve.py compares with: a bare ASGI hello app under uvicorn."""

from __future__ import annotations

from typing import Any

BODY = b"Hello, world!\n"
HEADERS = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"14")]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
