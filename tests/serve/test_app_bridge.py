"""Bridge handlers served in-process: isolation, concurrency, limits and errors."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from app_helpers import MakeApp, bridge_route, get, send_all

from wasmbridge.errors import StoreError
from wasmbridge.serve.config import KvStoreConfig, RouteLimits
from wasmbridge.serve.http import HttpRequest


def test_hello_and_request_id(make_app: MakeApp, serve_bridge_wasm: Path) -> None:
    app = make_app([bridge_route(serve_bridge_wasm)])
    response = get(app, "/hello")
    assert (response.status_code, response.text) == (200, "hello")
    assert len(response.headers["x-request-id"]) == 8


def test_no_state_survives_a_request(make_app: MakeApp, serve_bridge_wasm: Path) -> None:
    app = make_app([bridge_route(serve_bridge_wasm)])
    assert [get(app, "/count").text for _ in range(50)] == ["1"] * 50


def test_fifty_concurrent_requests_all_answer_correctly(
    make_app: MakeApp, serve_bridge_wasm: Path
) -> None:
    app = make_app([bridge_route(serve_bridge_wasm, "/items/:id/...")], threads=4)
    responses = send_all(
        app, [("POST", f"/items/{i}/echo?n={i}", {"content": f"body {i}"}) for i in range(50)]
    )
    for i, response in enumerate(responses):
        assert response.status_code == 200
        echoed = json.loads(response.text)
        assert echoed["query"] == f"n={i}"
        assert echoed["params"] == [["id", str(i)]]
        assert echoed["body"] == f"body {i}"
        assert echoed["method"] == "POST"
        assert ["content-length", str(len(f"body {i}"))] in echoed["headers"]


def test_a_looping_handler_gets_504_while_others_keep_answering(
    make_app: MakeApp, serve_bridge_wasm: Path
) -> None:
    app = make_app([bridge_route(serve_bridge_wasm, limits=RouteLimits(timeout_ms=500))], threads=4)
    started = time.monotonic()
    responses = send_all(app, [("GET", "/loop", {})] + [("GET", "/hello", {})] * 10)
    elapsed = time.monotonic() - started
    assert responses[0].status_code == 504
    assert responses[0].text == f"gateway timeout (request {responses[0].headers['x-request-id']})"
    assert [r.status_code for r in responses[1:]] == [200] * 10
    assert elapsed < 0.5 + 5.0  # the time limit plus a generous margin


def test_a_full_queue_answers_503_with_retry_after(
    make_app: MakeApp, serve_bridge_wasm: Path
) -> None:
    app = make_app(
        [bridge_route(serve_bridge_wasm, limits=RouteLimits(timeout_ms=300))], threads=1, queue=1
    )
    responses = send_all(app, [("GET", "/loop", {})] * 3)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [503, 504, 504]
    busy = next(r for r in responses if r.status_code == 503)
    assert busy.headers["retry-after"] == "1"
    assert busy.text == f"server busy, retry (request {busy.headers['x-request-id']})"


def test_a_body_over_the_cap_is_413_before_running(
    make_app: MakeApp, serve_bridge_wasm: Path
) -> None:
    app = make_app([bridge_route(serve_bridge_wasm, limits=RouteLimits(max_body_kb=1))])
    assert get(app, "/echo", "POST", content=b"x" * 1024).status_code == 200
    declared = get(app, "/echo", "POST", content=b"x" * 1025)
    assert declared.status_code == 413
    assert declared.text == "request body over this route's 1 KiB limit"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the cap holds while reading
        for _ in range(4):
            yield b"y" * 512

    assert get(app, "/echo", "POST", content=chunks()).status_code == 413


def test_a_response_over_the_cap_is_500(make_app: MakeApp, serve_bridge_wasm: Path) -> None:
    app = make_app([bridge_route(serve_bridge_wasm, limits=RouteLimits(max_response_kb=1))])
    assert len(get(app, "/big?bytes=1024").content) == 1024
    response = get(app, "/big?bytes=1025")
    assert response.status_code == 500
    assert response.text == f"internal error (request {response.headers['x-request-id']})"


@pytest.mark.parametrize("case", ["panic", "trap", "grow"])
def test_guest_failures_are_500_with_the_request_id(
    make_app: MakeApp, serve_bridge_wasm: Path, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app([bridge_route(serve_bridge_wasm, limits=RouteLimits(memory_mb=4))])
    response = get(app, f"/{case}")
    rid = response.headers["x-request-id"]
    assert response.status_code == 500
    assert response.text == f"internal error (request {rid})"
    assert any(
        rid in record.getMessage() for record in caplog.records if record.levelname == "ERROR"
    )
    assert get(app, "/hello").status_code == 200


def test_debug_puts_the_error_in_the_body(make_app: MakeApp, serve_bridge_wasm: Path) -> None:
    app = make_app([bridge_route(serve_bridge_wasm)], debug=True)
    response = get(app, "/panic")
    assert response.status_code == 500
    assert response.text.startswith("GuestPanic: ")
    assert "panicked at src/lib.rs" in response.text
    assert "handler panicked on purpose" in response.text
    assert response.text.endswith(f"(request {response.headers['x-request-id']})")


def test_the_handler_sets_status_and_headers(make_app: MakeApp, serve_bridge_wasm: Path) -> None:
    app = make_app([bridge_route(serve_bridge_wasm)])
    response = get(app, "/status?code=418")
    assert (response.status_code, response.text) == (418, "status")
    assert get(app, "/echo").headers["x-echo"] == "1"


def test_an_interim_status_is_a_500_and_204_sends_no_body(
    make_app: MakeApp, serve_bridge_wasm: Path
) -> None:
    """1xx cannot be a final response, and 204/304 carry no body: either would break the
    connection if sent as the handler wrote it."""
    app = make_app([bridge_route(serve_bridge_wasm)], debug=True)
    interim = get(app, "/status?code=101")
    assert interim.status_code == 500
    assert "handle() returned status 101" in interim.text
    empty = get(app, "/status?code=204")
    assert (empty.status_code, empty.content) == (204, b"")
    assert "content-length" not in empty.headers
    assert get(app, "/status?code=304").content == b""


def test_connect_is_refused_before_any_handler(make_app: MakeApp, serve_bridge_wasm: Path) -> None:
    app = make_app([bridge_route(serve_bridge_wasm)])
    assert app.respond(HttpRequest("CONNECT", "/hello")).status == 405


def test_a_limit_hint_names_the_route_key(make_app: MakeApp, serve_bridge_wasm: Path) -> None:
    app = make_app(
        [bridge_route(serve_bridge_wasm, limits=RouteLimits(timeout_ms=200))], debug=True
    )
    response = get(app, "/loop")
    assert response.status_code == 504
    assert "hint: raise limits.timeout_ms (now 200) of the route '/...'" in response.text


def test_head_sends_no_body(make_app: MakeApp, serve_bridge_wasm: Path) -> None:
    app = make_app([bridge_route(serve_bridge_wasm)])
    response = get(app, "/hello", "HEAD")
    assert (response.status_code, response.content) == (200, b"")


def test_respond_answers_in_the_calling_thread(make_app: MakeApp, serve_bridge_wasm: Path) -> None:
    app = make_app([bridge_route(serve_bridge_wasm, "/api/...")])
    response = app.respond(HttpRequest("GET", "/api/hello"))
    assert (response.status, response.body) == (200, b"hello")
    assert response.header("x-request-id") is not None
    assert app.respond(HttpRequest("GET", "/other")).status == 404


def test_key_value_counter_persists_across_apps(
    make_app: MakeApp, serve_bridge_wasm: Path, tmp_path: Path
) -> None:
    store = KvStoreConfig("default", "sqlite", tmp_path / "kv.sqlite")
    routes = [bridge_route(serve_bridge_wasm, key_value_stores=("default",))]
    first = make_app(routes, kv=(store,))
    assert [get(first, "/kv").text for _ in range(3)] == ["1", "2", "3"]
    first.close()
    again = make_app(routes, kv=(store,))
    assert get(again, "/kv").text == "4"
    denied = make_app([bridge_route(serve_bridge_wasm)], kv=(store,))
    response = get(denied, "/kv")
    assert response.status_code == 500
    assert "default" in response.text


def test_a_store_that_cannot_open_stops_the_app_at_start(
    make_app: MakeApp, serve_bridge_wasm: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    store = KvStoreConfig("default", "sqlite", blocker / "kv.sqlite")  # under a file
    routed = bridge_route(serve_bridge_wasm, key_value_stores=("default",))
    with pytest.raises(StoreError, match="default"):
        make_app([routed], kv=[store])
    unreachable = KvStoreConfig("default", "redis", url=f"redis://127.0.0.1:{_free_port()}/0")
    with pytest.raises(StoreError, match="unreachable"):
        make_app([routed], kv=[unreachable])


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
