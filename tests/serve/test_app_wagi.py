"""WAGI handlers served in-process: CGI environment, stdin, caps, malformed output, files."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from app_helpers import MakeApp, get, wagi_route

from wasmbridge.serve.config import FileMount, RouteLimits


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "hello.txt").write_text("hello from a file")
    return folder


def _env(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def test_cgi_environment_and_argv(make_app: MakeApp, serve_wagi_wasm: Path) -> None:
    route = wagi_route(serve_wagi_wasm, "/cgi/...", env=(("CURRENCY", "EUR"),))
    app = make_app([route])
    response = get(
        app,
        "/cgi/env?a=1&b=2",
        "POST",
        content=b"abc",
        headers={"x-thing": "yes", "authorization": "Bearer secret", "content-type": "text/plain"},
    )
    assert response.status_code == 200
    env = _env(response.text)
    assert {
        k: env[k]
        for k in (
            "REQUEST_METHOD",
            "PATH_INFO",
            "SCRIPT_NAME",
            "X_MATCHED_ROUTE",
            "QUERY_STRING",
            "CONTENT_LENGTH",
            "CONTENT_TYPE",
            "HTTP_X_THING",
            "SERVER_NAME",
            "GATEWAY_INTERFACE",
            "SERVER_SOFTWARE",
            "X_FULL_URL",
            "REMOTE_ADDR",
            "CURRENCY",
            "ARGV",
        )
    } == {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/env",
        "SCRIPT_NAME": "/cgi",
        "X_MATCHED_ROUTE": "/cgi/...",
        "QUERY_STRING": "a=1&b=2",
        "CONTENT_LENGTH": "3",
        "CONTENT_TYPE": "text/plain",
        "HTTP_X_THING": "yes",
        "SERVER_NAME": "testserver",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_SOFTWARE": "WAGI/1",
        "X_FULL_URL": "http://testserver:80/cgi/env?a=1&b=2",
        "REMOTE_ADDR": "127.0.0.1",
        "CURRENCY": "EUR",
        "ARGV": "/cgi|a=1|b=2",
    }
    assert "HTTP_AUTHORIZATION" not in env
    assert not any(k.startswith("PATH=") for k in response.text.splitlines())


def test_body_on_stdin(make_app: MakeApp, serve_wagi_wasm: Path) -> None:
    app = make_app([wagi_route(serve_wagi_wasm)])
    body = bytes(range(256)) * 10
    response = get(app, "/echo", "POST", content=body)
    assert (response.status_code, response.content) == (200, body)
    assert response.headers["x-length"] == str(len(body))


def test_status_and_location(make_app: MakeApp, serve_wagi_wasm: Path) -> None:
    app = make_app([wagi_route(serve_wagi_wasm)])
    missing = get(app, "/status")
    assert (missing.status_code, missing.text) == (404, "missing")
    moved = get(app, "/redirect")
    assert (moved.status_code, moved.headers["location"]) == (302, "/elsewhere")


def test_malformed_cgi_output_is_502(make_app: MakeApp, serve_wagi_wasm: Path) -> None:
    app = make_app([wagi_route(serve_wagi_wasm)])
    response = get(app, "/bad")
    assert response.status_code == 502
    assert response.text == f"bad gateway (request {response.headers['x-request-id']})"


def test_stdout_flood_is_capped_as_500(make_app: MakeApp, serve_wagi_wasm: Path) -> None:
    app = make_app(
        [wagi_route(serve_wagi_wasm, limits=RouteLimits(max_response_kb=64))], debug=True
    )
    response = get(app, "/flood")
    assert response.status_code == 500
    assert response.text.startswith("OutputLimitExceeded: `_start()` in serve_wagi.wasm wrote more")


def test_a_command_writing_on_past_its_cap_is_stopped_there(
    make_app: MakeApp, serve_wagi_wasm: Path
) -> None:
    limits = RouteLimits(max_response_kb=64, timeout_ms=60_000)
    app = make_app([wagi_route(serve_wagi_wasm, limits=limits)], debug=True)
    started = time.monotonic()
    response = get(app, "/flood-on")
    assert response.status_code == 500
    assert response.text.startswith("OutputLimitExceeded: `_start()` in serve_wagi.wasm wrote more")
    assert time.monotonic() - started < 30  # stopped at the cap, not at the 60 s timeout


def test_a_looping_command_is_504(make_app: MakeApp, serve_wagi_wasm: Path) -> None:
    app = make_app([wagi_route(serve_wagi_wasm, limits=RouteLimits(timeout_ms=300))])
    assert get(app, "/loop").status_code == 504
    assert get(app, "/hello").text == "wagi /hello"


def test_a_nonzero_exit_still_serves_its_output(
    make_app: MakeApp, serve_wagi_wasm: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app([wagi_route(serve_wagi_wasm)])
    response = get(app, "/exit")
    assert (response.status_code, response.text) == (200, "exiting 3")
    assert any("exited with code 3" in r.getMessage() for r in caplog.records)


def test_stderr_goes_to_the_log(
    make_app: MakeApp, serve_wagi_wasm: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app([wagi_route(serve_wagi_wasm)])
    response = get(app, "/stderr")
    assert response.text == "logged"
    rid = response.headers["x-request-id"]
    assert any(
        "a line for the server log" in r.getMessage() and rid in r.getMessage()
        for r in caplog.records
    )


def test_files_are_mounted_read_only(
    make_app: MakeApp, serve_wagi_wasm: Path, data_dir: Path
) -> None:
    route = wagi_route(serve_wagi_wasm, files=(FileMount(data_dir, "/data", False),))
    app = make_app([route])
    assert get(app, "/file").text == "hello from a file"
    unmounted = make_app([wagi_route(serve_wagi_wasm)])
    assert get(unmounted, "/file").status_code == 500
