"""CGI for WAGI handlers: the response parser, the environment and argv, as Wagi sets them."""

from __future__ import annotations

import pytest

from wasmbridge.serve.config import Route
from wasmbridge.serve.http import HttpRequest
from wasmbridge.serve.router import Router
from wasmbridge.serve.wagi import CgiError, cgi_argv, cgi_environ, parse_cgi


def test_headers_then_body_with_lf() -> None:
    response = parse_cgi(b"Content-Type: text/plain\nX-Extra: 1\n\nhello\n\nworld")
    assert response.status == 200
    assert response.headers == [("Content-Type", "text/plain"), ("X-Extra", "1")]
    assert response.body == b"hello\n\nworld"


def test_headers_then_body_with_crlf() -> None:
    response = parse_cgi(b"Content-Type: text/html\r\n\r\n<p>hi</p>")
    assert (response.status, response.body) == (200, b"<p>hi</p>")


def test_status_line_sets_the_status() -> None:
    response = parse_cgi(b"Status: 404 Not Found\nContent-Type: text/plain\n\nnope")
    assert response.status == 404
    assert response.headers == [("Content-Type", "text/plain")]


def test_status_without_reason() -> None:
    assert parse_cgi(b"Status: 201\nContent-Type: text/plain\n\n").status == 201


def test_location_without_status_is_a_302() -> None:
    response = parse_cgi(b"Location: https://example.com/\n\n")
    assert response.status == 302
    assert response.headers == [("Location", "https://example.com/")]


def test_location_with_status_keeps_it() -> None:
    assert parse_cgi(b"Status: 301 Moved\nLocation: /x\n\n").status == 301


def test_framing_headers_are_left_to_the_server() -> None:
    response = parse_cgi(b"Content-Type: a/b\nContent-Length: 99\nConnection: close\n\nx")
    assert response.headers == [("Content-Type", "a/b")]


def test_empty_body() -> None:
    assert parse_cgi(b"Content-Type: text/plain\n\n").body == b""


@pytest.mark.parametrize(
    ("output", "message"),
    [
        (b"", "the handler's output has no header block"),
        (b"just text", "the handler's output has no header block"),
        (b"Content-Type: text/plain\nno blank line", "the handler's header block does not end"),
        (b"X-Only: 1\n\nbody", "neither Content-Type nor Location"),
        (b"Status: 200 OK\n\nbody", "neither Content-Type nor Location"),
        (b"Content-Type text/plain\n\n", "invalid CGI header line: 'Content-Type text/plain'"),
        (b"Bad Name: x\nContent-Type: a/b\n\n", "invalid CGI header line: 'Bad Name: x'"),
        (b"Content-Type: a\x01b\n\n", "invalid CGI header line"),
        (b" folded: x\nContent-Type: a/b\n\n", "invalid CGI header line"),
        (b"Status: 99 Low\nContent-Type: a/b\n\n", "invalid CGI Status: '99 Low'"),
        (b"Status: 101 Switching\nContent-Type: a/b\n\n", "invalid CGI Status: '101 Switching'"),
        (b"Status: 600\nContent-Type: a/b\n\n", "invalid CGI Status: '600'"),
        (b"Status: abc\nContent-Type: a/b\n\n", "invalid CGI Status: 'abc'"),
    ],
)
def test_malformed_output_is_a_cgi_error(output: bytes, message: str) -> None:
    with pytest.raises(CgiError, match=message.replace("(", r"\(")):
        parse_cgi(output)


def _environ(path: str, pattern: str, **request: object) -> dict[str, str]:
    route = Route(path=pattern, kind="wagi", module=None, static=None, env=(("EXTRA", "1"),))
    match = Router([(pattern, route)]).match(path)
    assert match is not None
    given: dict[str, object] = {
        "method": "POST",
        "path": path,
        "query": "a=1&b=2",
        "headers": [
            ("host", "example.com:8080"),
            ("user-agent", "t/1"),
            ("x-two", "a"),
            ("x-two", "b"),
            ("authorization", "secret"),
            ("content-type", "text/plain"),
        ],
        "body": b"abcd",
        "client": ("10.0.0.7", 40000),
        "server": ("127.0.0.1", 3000),
    }
    given.update(request)
    return dict(cgi_environ(HttpRequest(**given), match, route))  # type: ignore[arg-type]


def test_environment_as_wagi_sets_it_for_a_prefix_route() -> None:
    env = _environ("/app/fizz/b%20uzz", "/app/...")
    assert env == {
        "AUTH_TYPE": "",
        "CONTENT_LENGTH": "4",
        "CONTENT_TYPE": "text/plain",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "PATH_INFO": "/fizz/b uzz",
        "PATH_TRANSLATED": "/fizz/b uzz",
        "QUERY_STRING": "a=1&b=2",
        "REMOTE_ADDR": "10.0.0.7",
        "REMOTE_HOST": "10.0.0.7",
        "REMOTE_USER": "",
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "/app",
        "SERVER_NAME": "example.com",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_SOFTWARE": "WAGI/1",
        "X_FULL_URL": "http://example.com:8080/app/fizz/b%20uzz?a=1&b=2",
        "X_MATCHED_ROUTE": "/app/...",
        "X_RAW_PATH_INFO": "/fizz/b%20uzz",
        "HTTP_HOST": "example.com:8080",
        "HTTP_USER_AGENT": "t/1",
        "HTTP_X_TWO": "a, b",
        "HTTP_CONTENT_TYPE": "text/plain",
        "EXTRA": "1",
    }


def test_environment_for_an_exact_route_and_no_host_header() -> None:
    env = _environ("/", "/", headers=[], query="")
    assert (env["SCRIPT_NAME"], env["PATH_INFO"], env["X_MATCHED_ROUTE"]) == ("/", "", "/")
    assert (env["SERVER_NAME"], env["SERVER_PORT"]) == ("127.0.0.1", "3000")
    assert env["X_FULL_URL"] == "http://127.0.0.1:3000/"
    assert "HTTP_AUTHORIZATION" not in env


def test_argv_from_the_default_template() -> None:
    assert cgi_argv("${SCRIPT_NAME} ${ARGS}", "/app", "a=1&b=2") == ("/app", "a=1", "b=2")
    assert cgi_argv("${SCRIPT_NAME} ${ARGS}", "/app", "") == ("/app",)


def test_argv_from_a_custom_template() -> None:
    assert cgi_argv("tool --name=${SCRIPT_NAME} ${ARGS}", "/x", "q") == ("tool", "--name=/x", "q")


def test_headers_with_underscores_are_dropped_not_merged() -> None:
    """X-Forwarded_For would otherwise land in HTTP_X_FORWARDED_FOR (nginx drops them too)."""
    env = _environ(
        "/app/x",
        "/app/...",
        headers=[("x-forwarded-for", "10.1.1.1"), ("x-forwarded_for", "6.6.6.6")],
    )
    assert env["HTTP_X_FORWARDED_FOR"] == "10.1.1.1"


def test_protocol_and_mount_point_come_from_the_request() -> None:
    env = _environ("/app/x", "/app/...", http_version="1.0", root_path="/one")
    assert env["SERVER_PROTOCOL"] == "HTTP/1.0"
    assert env["SCRIPT_NAME"] == "/one/app"
    assert env["X_FULL_URL"] == "http://example.com:8080/one/app/x?a=1&b=2"
