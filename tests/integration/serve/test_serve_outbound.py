"""Outbound HTTP: the allowlist matcher, and real requests to loopback servers."""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from services_helpers import MakeApp, Recorder, route, unused_port

from wasmbridge.serve.services import OutboundError, OutboundPolicy, StoreSet
from wasmbridge.serve.services.host import HostServices
from wasmbridge.serve.services.outbound import AllowedOrigin, OutboundFailure, parse_allowed

MATCHES = [
    # (entries, url, allowed)
    (["http://127.0.0.1:9000"], "http://127.0.0.1:9000/x?y=1", True),
    (["http://127.0.0.1:9000"], "http://127.0.0.1:9001/", False),
    (["http://127.0.0.1:9000"], "https://127.0.0.1:9000/", False),
    (["http://127.0.0.1:9000"], "http://127.0.0.2:9000/", False),
    (["http://example.com"], "http://example.com/", True),  # default port 80
    (["http://example.com"], "http://example.com:80/", True),
    (["http://example.com"], "http://example.com:8080/", False),
    (["https://example.com"], "https://example.com/", True),
    (["https://example.com"], "https://example.com:443/a", True),
    (["https://example.com"], "http://example.com:443/", False),
    (["https://example.com:8443"], "https://example.com/", False),
    (["http://example.com:*"], "http://example.com:1234/", True),
    (["http://example.com:8000-8999"], "http://example.com:8500/", True),
    (["http://example.com:8000-8999"], "http://example.com:9000/", False),
    (["*://example.com:443"], "https://example.com/", True),
    (["*://example.com:443"], "http://example.com:443/", True),
    (["http://*:8080"], "http://anything.test:8080/", True),
    (["http://*:8080"], "http://anything.test:8081/", False),
    (["http://*.example.com"], "http://api.example.com/", True),
    (["http://*.example.com"], "http://a.b.example.com/", True),
    (["http://*.example.com"], "http://example.com/", False),
    (["http://*.example.com"], "http://evilexample.com/", False),
    (["http://*.example.com"], "http://example.com.evil.test/", False),
    (["HTTP://EXAMPLE.com"], "http://example.COM/", True),  # case
    (["http://example.com"], "HTTP://Example.Com/", True),
    (["http://[::1]:8080"], "http://[::1]:8080/", True),
    (["http://[::1]:8080"], "http://[0:0:0:0:0:0:0:1]:8080/", True),
    (["http://[::1]:8080"], "http://127.0.0.1:8080/", False),
    (["http://[::1]:8080"], "http://[::1]:8081/", False),
    (["http://allowed.test"], "http://allowed.test@evil.test/", False),  # userinfo tricks
    (["http://allowed.test"], "http://allowed.test:80@evil.test/", False),
    (["http://allowed.test"], "http://user@allowed.test/", False),  # credentials refused
    (["http://allowed.test"], "http://evil.test#@allowed.test/", False),
    (["http://allowed.test"], "http://evil.test?@allowed.test/", False),
    (["http://allowed.test"], "http://evil.test/allowed.test", False),
    (["http://allowed.test"], "//allowed.test/", False),  # not absolute
    (["http://allowed.test"], "/relative", False),
    (["http://allowed.test"], "ftp://allowed.test/", False),
    (["http://allowed.test"], "http://allowed.test./", False),  # another spelling: denied
    (["http://bücher.example"], "http://xn--bcher-kva.example/", True),  # IDNA
    (["http://xn--bcher-kva.example"], "http://bücher.example/", True),
    ([], "http://127.0.0.1/", False),  # no entry: nothing allowed
    (["*://*:*"], "https://any.where:1/", True),
]


@pytest.mark.parametrize(
    ("entries", "url", "allowed"), MATCHES, ids=[f"{m[1]}-{m[2]}" for m in MATCHES]
)
def test_allowlist_matches_spin_form(entries: list[str], url: str, allowed: bool) -> None:
    assert OutboundPolicy(entries).allows(url) is allowed


def test_entries_parse_to_scheme_host_and_port_range() -> None:
    assert parse_allowed("https://API.example.com") == AllowedOrigin(
        "https", "api.example.com", (443, 443)
    )
    assert parse_allowed("http://*.a.test:*") == AllowedOrigin("http", "*.a.test", None)
    assert parse_allowed("redis://cache:6379") == AllowedOrigin("redis", "cache", (6379, 6379))
    assert parse_allowed("http://[::1]") == AllowedOrigin("http", "::1", (80, 80))
    assert parse_allowed("http://127.0.0.1:9000/") == AllowedOrigin(
        "http", "127.0.0.1", (9000, 9000)
    )


BAD_ENTRIES = [
    ("example.com", "is not scheme://host:port"),
    ("http://example.com/path", "without path, query or user name"),
    ("http://user@example.com", "without path, query or user name"),
    ("redis://cache", "give a port (only http and https have a default)"),
    ("http://example.com:0", "is outside 1-65535"),
    ("http://example.com:70000", "is outside 1-65535"),
    ("http://example.com:9-1", "is outside 1-65535"),
    ("http://example.com:http", "is not a number, a range a-b or '*'"),
    ("http://ex*ample.com", "'*' stands for a whole host or a leading label"),
    ("http://[::1", "needs its closing ']'"),
    ("http://[nope]:80", "is not an IPv6 address"),
    ("http://bad_host!:80", "is not a host name or address"),
]


@pytest.mark.parametrize(("entry", "message"), BAD_ENTRIES, ids=[e for e, _ in BAD_ENTRIES])
def test_bad_entries_are_refused_with_the_reason(entry: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_allowed(entry)
    assert str(caught.value).startswith(f"{entry!r}")
    assert message in str(caught.value)


def test_an_allowed_port_answers_and_a_denied_one_sees_no_connection(
    http_recorder: Callable[[], Recorder],
) -> None:
    allowed, denied = http_recorder(), http_recorder()
    policy = OutboundPolicy([allowed.origin])
    reply = policy.send("POST", f"{allowed.origin}/echo", [("x-echo", "hi")], b"body", timeout=10)
    assert (reply.status, reply.body) == (200, b"pong POST body")
    assert ("x-echo", "hi") in reply.headers
    assert len(allowed.connections) == 1 and allowed.requests[0][:2] == ("POST", "/echo")
    with pytest.raises(
        OutboundError,
        match=rf"^outbound request to http://127\.0\.0\.1:{denied.port} is not allowed for this route \(allowed_outbound_hosts: {allowed.origin}\)\n",
    ) as caught:
        policy.send("GET", f"{denied.origin}/", timeout=10)
    assert caught.value.kind is OutboundFailure.NOT_ALLOWED
    assert caught.value.hint == f'add "{denied.origin}" to the route\'s allowed_outbound_hosts'
    assert denied.connections == [] and denied.requests == []


def test_a_reply_comes_back_as_sent_and_a_request_carries_the_guests_headers(
    http_recorder: Callable[[], Recorder],
) -> None:
    server = http_recorder()
    reply = OutboundPolicy([server.origin]).send("GET", f"{server.origin}/gzip", timeout=10)
    length = dict(reply.headers)["content-length"]
    assert dict(reply.headers)["content-encoding"] == "gzip" and int(length) == len(reply.body)
    assert gzip.decompress(reply.body) == b"unpacked " * 100
    sent = server.requests[0][2]
    assert "accept-encoding" not in sent and "user-agent" not in sent, sent
    assert set(sent) <= {"host", "connection", "content-length"}, sent


@pytest.mark.parametrize(
    "header",
    [
        ("Transfer-Encoding", "chunked"),
        ("content-length", "100"),
        ("Host", "evil.test"),
        ("connection", "close"),
        ("upgrade", "websocket"),
    ],  # fmt: skip
)
def test_a_guest_cannot_frame_the_request_itself(
    http_recorder: Callable[[], Recorder], header: tuple[str, str]
) -> None:
    server = http_recorder()
    with pytest.raises(OutboundError, match=f"header {header[0]} is set by the server") as caught:
        OutboundPolicy([server.origin]).send("POST", f"{server.origin}/", [header], b"abcdef")
    assert caught.value.kind is OutboundFailure.INVALID_REQUEST
    assert server.connections == []


def test_redirects_come_back_unfollowed(http_recorder: Callable[[], Recorder]) -> None:
    server = http_recorder()
    reply = OutboundPolicy([server.origin]).send("GET", f"{server.origin}/redirect", timeout=10)
    assert reply.status == 302
    assert ("location", "http://127.0.0.1:1/elsewhere") in reply.headers
    assert len(server.requests) == 1


def test_a_reply_over_the_cap_is_too_large(http_recorder: Callable[[], Recorder]) -> None:
    server = http_recorder()
    policy = OutboundPolicy([server.origin])
    assert (
        len(policy.send("GET", f"{server.origin}/big/1000", timeout=10, max_bytes=1000).body)
        == 1000
    )
    with pytest.raises(OutboundError, match=r"the reply body is larger than 999 bytes") as caught:
        policy.send("GET", f"{server.origin}/big/1000", timeout=10, max_bytes=999)
    assert caught.value.kind is OutboundFailure.TOO_LARGE


def test_connection_refused_and_bad_requests_are_errors_not_exceptions_of_httpx() -> None:
    port = unused_port()
    policy = OutboundPolicy([f"http://127.0.0.1:{port}"])
    with pytest.raises(OutboundError, match=rf"^GET http://127\.0\.0\.1:{port} failed: ") as caught:
        policy.send("GET", f"http://127.0.0.1:{port}/", timeout=5)
    assert caught.value.kind is OutboundFailure.FAILED
    with pytest.raises(OutboundError, match="bad HTTP method 'GE T'"):
        policy.send("GE T", f"http://127.0.0.1:{port}/", timeout=5)
    with pytest.raises(OutboundError, match="header x-a has a line break or NUL in its value"):
        policy.send("GET", f"http://127.0.0.1:{port}/", [("x-a", "1\r\nx-b: 2")], timeout=5)
    with pytest.raises(
        OutboundError, match="only absolute http:// and https:// URLs can be sent"
    ) as bad:
        policy.send("GET", "/relative", timeout=5)
    assert bad.value.kind is OutboundFailure.INVALID_REQUEST


def test_no_cookie_passes_from_one_request_to_the_next(
    http_recorder: Callable[[], Recorder],
) -> None:
    """The HTTP client is shared by the whole process: a cookie jar would carry one
    request's (or route's, or app's) session into every later one."""
    server = http_recorder()
    policy = OutboundPolicy([server.origin])
    policy.send("GET", f"{server.origin}/setcookie", timeout=10)
    policy.send("GET", f"{server.origin}/plain", timeout=10)
    assert [path for _, path, _, _ in server.requests] == ["/setcookie", "/plain"]
    assert "cookie" not in server.requests[1][2]


def test_a_request_out_of_time_gets_a_timeout_without_connecting(
    http_recorder: Callable[[], Recorder], make_app: MakeApp, tmp_path: Path
) -> None:
    server = http_recorder()
    served = route(allowed_outbound_hosts=(server.origin,))
    app = make_app(routes=(served,))
    stores = StoreSet(app)
    try:
        services = HostServices(app, served, "rid1", stores)
        services.deadline = time.monotonic() - 1
        reply = services.http_send("GET", f"{server.origin}/plain", b"", b"")
    finally:
        stores.close()
    assert reply[:2] == bytes((1, int(OutboundFailure.TIMEOUT)))
    assert b"no time left" in reply
    assert server.connections == []
