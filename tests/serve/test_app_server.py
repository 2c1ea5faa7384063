"""The app around the handlers: healthz, metrics, 404, startup checks, reload, and
mounting under Starlette with its middleware."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from app_helpers import MakeApp, bridge_route, get, wagi_route
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount
from starlette.routing import Route as StarletteRoute

from build_helpers import Func, wasm_module
from wasmbridge.errors import ManifestError, ModuleError
from wasmbridge.serve import asgi_app


def test_healthz_and_404(make_app: MakeApp, serve_bridge_wasm: Path) -> None:
    app = make_app([bridge_route(serve_bridge_wasm, "/api/...")])
    health = get(app, "/healthz")
    assert (health.status_code, health.text) == (200, "ok")
    assert "x-request-id" in health.headers
    missing = get(app, "/nowhere")
    assert (missing.status_code, missing.text) == (404, "no route")


def test_metrics_count_requests_by_route_and_status(
    make_app: MakeApp, serve_bridge_wasm: Path
) -> None:
    app = make_app([bridge_route(serve_bridge_wasm, "/api/...")])
    for url in ("/api/hello", "/api/hello", "/api/panic"):
        get(app, url)
    text = get(app, "/metrics").text
    assert 'wasmbridge_requests_total{route="/api/...",status="200"} 2.0' in text
    assert 'wasmbridge_requests_total{route="/api/...",status="500"} 1.0' in text
    assert 'wasmbridge_request_seconds_count{route="/api/..."} 3.0' in text
    assert "wasmbridge_instances_in_flight 0.0" in text
    assert "wasmbridge_queue_depth 0.0" in text


def test_access_log_line(
    make_app: MakeApp, serve_bridge_wasm: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app([bridge_route(serve_bridge_wasm)])
    with caplog.at_level(logging.INFO, logger="wasmbridge.serve.access"):
        response = get(app, "/hello?x=1")
    rid = response.headers["x-request-id"]
    lines = [r.getMessage() for r in caplog.records if r.name == "wasmbridge.serve.access"]
    assert len(lines) == 1
    assert lines[0].startswith('127.0.0.1:50000 "GET /hello?x=1" 200 5B ')
    assert lines[0].endswith(f"ms route=/... id={rid}")


def test_a_wasi_module_cannot_be_a_bridge_route(make_app: MakeApp, serve_wagi_wasm: Path) -> None:
    with pytest.raises(
        ModuleError,
        match=r'^route "/x" \(wasmbridge.toml:3:1\): serve_wagi.wasm imports what the server cannot provide: wasi_snapshot_preview1\.',
    ):
        make_app([bridge_route(serve_wagi_wasm, "/x", where="wasmbridge.toml:3:1")])


def test_a_library_cannot_be_a_wagi_route(make_app: MakeApp, serve_bridge_wasm: Path) -> None:
    with pytest.raises(
        ModuleError,
        match=r'^route "/x": serve_bridge.wasm is not a WASI command: its entrypoint `_start` is not exported; a wagi route runs an export of type `\(\) -> \(\)`',
    ):
        make_app([wagi_route(serve_bridge_wasm, "/x")])


def test_a_bridge_module_needs_handle(make_app: MakeApp, tmp_path: Path) -> None:
    wasm = tmp_path / "add.wasm"
    wasm.write_bytes(wasm_module([Func("add", ("i32", "i32"), ("i32",))]))
    with pytest.raises(
        ModuleError,
        match=r'^route "/x": add.wasm exports no handle\(\) \(a bridge handler exports handle\(req: Request\) -> Response',
    ):
        make_app([bridge_route(wasm, "/x")])


def test_unknown_imports_are_refused_at_start(make_app: MakeApp, tmp_path: Path) -> None:
    wasm = tmp_path / "imp.wasm"
    wasm.write_bytes(wasm_module([Func("handle")], imports=[("env", "fetch", ("i32",), ())]))
    with pytest.raises(ModuleError, match=r"imports what the server cannot provide: env\.fetch"):
        make_app([bridge_route(wasm, "/x")])


def test_a_missing_module_is_named(make_app: MakeApp, tmp_path: Path) -> None:
    with pytest.raises(
        ManifestError, match=r'^route "/x": module .*nope.wasm does not exist\nhint: build it'
    ):
        make_app([bridge_route(tmp_path / "nope.wasm", "/x")])


def _manifest(folder: Path, wasm: Path, path: str) -> Path:
    manifest = folder / "wasmbridge.toml"
    manifest.write_text(
        f'name = "t"\n\n[[route]]\npath = "{path}"\nmodule = "{wasm}"\nkind = "bridge"\n'
    )
    return manifest


def test_reload_swaps_routes_and_keeps_them_on_a_bad_manifest(
    tmp_path: Path, serve_bridge_wasm: Path
) -> None:
    manifest = _manifest(tmp_path, serve_bridge_wasm, "/one/...")
    app = asgi_app(manifest)
    try:
        assert get(app, "/one/hello").status_code == 200
        assert manifest in app.watched_paths() and serve_bridge_wasm in app.watched_paths()
        _manifest(tmp_path, serve_bridge_wasm, "/two/...")
        app.reload()
        assert (get(app, "/one/hello").status_code, get(app, "/two/hello").status_code) == (
            404,
            200,
        )
        manifest.write_text('name = "t"\n[[route]]\npaht = "/x"\n')
        with pytest.raises(ManifestError):
            app.reload()
        assert get(app, "/two/hello").status_code == 200
    finally:
        app.close()


def test_mounted_under_starlette_with_its_middleware(
    make_app: MakeApp, serve_bridge_wasm: Path
) -> None:
    served = make_app([bridge_route(serve_bridge_wasm)])

    class Tag(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            response = await call_next(request)
            response.headers["x-outer"] = "starlette"
            return response

    async def home(request: Request) -> PlainTextResponse:
        return PlainTextResponse("python")

    outer = Starlette(
        routes=[StarletteRoute("/", home), Mount("/wasm", app=served)],
        middleware=[Middleware(Tag)],
    )
    assert get(outer, "/").text == "python"
    response = get(outer, "/wasm/hello")
    assert (response.status_code, response.text) == (200, "hello")
    assert response.headers["x-outer"] == "starlette"
    echoed = get(outer, "/wasm/echo?q=1", "POST", content=b"hi").json()
    assert (echoed["path"], echoed["query"], echoed["body"]) == ("/echo", "q=1", "hi")


def test_lifespan_shutdown_closes_the_app(make_app: MakeApp, serve_bridge_wasm: Path) -> None:
    app = make_app([bridge_route(serve_bridge_wasm)])
    sent: list[dict[str, Any]] = []
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app({"type": "lifespan"}, receive, send))
    assert [m["type"] for m in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    assert app.admission.submit(lambda: None) is None  # closed: no more work taken
