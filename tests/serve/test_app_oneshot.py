"""A bridge route with no host service: each request runs in one compiled call
(runtime/store/oneshot.py), first on the event loop for a short while, then on a
worker thread; failures run again the general way, which says why."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from app_helpers import MakeApp, bridge_route, get, send_all

from wasmbridge.runtime.bridge import native
from wasmbridge.serve import bridge
from wasmbridge.serve.config import RouteLimits

pytestmark = [
    pytest.mark.toolchain,
    pytest.mark.skipif(native.NATIVE is None, reason=f"no compiled call path: {native.WHY_NOT}"),
]


@pytest.fixture(scope="session")
def pure_wasm(build_fixture: Callable[..., Path]) -> Path:
    """tests/fixtures/crates/serve_pure: handle() without host services, a path per case."""
    return build_fixture("serve_pure")


def test_the_route_runs_one_shot_and_keeps_no_state(make_app: MakeApp, pure_wasm: Path) -> None:
    app = make_app([bridge_route(pure_wasm)])
    handler = app._routes.served[0].handler  # noqa: SLF001 - which path the route takes
    assert isinstance(handler, bridge.BridgeHandler) and handler.one_shot
    responses = send_all(app, [("GET", "/count", {})] * 40)
    assert [(r.status_code, r.text) for r in responses] == [(200, "1")] * 40
    assert get(app, "/hello").text == "hello"
    assert get(app, "/nowhere").status_code == 404


def test_bodies_of_every_size_come_back_intact(make_app: MakeApp, pure_wasm: Path) -> None:
    app = make_app([bridge_route(pure_wasm, limits=RouteLimits(max_body_kb=2048))])
    rng = random.Random(77)
    sizes = [0, 1, 4095, 4096, 4097, 65535, 65536, 65537, 1 << 20, 2 << 20]
    sizes += [rng.randrange(0, 1 << 17) for _ in range(20)]
    for size in sizes:
        body = rng.randbytes(size)
        response = get(app, "/echo", "POST", content=body)
        assert response.status_code == 200 and response.content == body, size


def test_headers_and_bodies_cross_both_ways_over_many_requests(
    make_app: MakeApp, pure_wasm: Path
) -> None:
    """Random header lists and bodies through the compiled codecs, request after request,
    with refused headers between them: each answer is exactly its own request's."""
    app = make_app([bridge_route(pure_wasm, limits=RouteLimits(max_body_kb=256))])
    rng = random.Random(2024)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-_.~!*'() /:;,=éü€"
    for index in range(300):
        if index % 7 == 3:
            refused = get(app, "/bad-header")
            assert refused.status_code == 500 and "Injected" not in refused.headers
            padded = get(app, "/space-header")
            assert padded.status_code == 500 and "x-space" not in padded.headers
            continue
        headers = {
            f"x-h{n}-{rng.randrange(10**6)}": "".join(
                rng.choice(alphabet) for _ in range(rng.choice([0, 1, 7, 64, 700]))
            )
            .strip()
            .encode()  # UTF-8 on the wire; the guest sees it as Latin-1 text
            for n in range(rng.choice([0, 1, 3, 20]))
        }
        body = rng.randbytes(rng.choice([0, 1, 4095, 4096, 65537, 200_000]))
        response = get(app, "/echo-headers", "POST", content=body, headers=headers)
        assert response.status_code == 200 and response.content == body
        received = {name.decode(): value for name, value in response.headers.raw}
        for name, value in headers.items():
            assert received[name] == value
        assert int(response.headers["x-echoed"]) >= len(headers)
    framed = get(app, "/framing-header")
    assert (framed.status_code, framed.content, framed.headers["content-length"]) == (
        200,
        b"zzz",
        "3",
    )


def test_failures_are_reported_by_the_general_path(make_app: MakeApp, pure_wasm: Path) -> None:
    app = make_app(
        [bridge_route(pure_wasm, limits=RouteLimits(memory_mb=16, max_response_kb=1024))],
        debug=True,
    )
    panic = get(app, "/panic")
    assert panic.status_code == 500 and "GuestPanic" in panic.text
    assert "asked to panic" in panic.text
    hoard = get(app, "/hoard")
    assert hoard.status_code == 500 and "memory" in hoard.text.lower()
    big = get(app, "/big")
    assert big.status_code == 500 and "max_response_kb" in big.text
    assert "bytes encoded" in big.text  # refused before its body became Python objects
    assert get(app, "/hello").text == "hello"  # the route goes on


def test_a_looping_handler_gets_504_while_others_keep_answering(
    make_app: MakeApp, pure_wasm: Path
) -> None:
    app = make_app([bridge_route(pure_wasm, limits=RouteLimits(timeout_ms=400))], threads=4)
    started = time.monotonic()
    responses = send_all(app, [("GET", "/spin", {})] * 2 + [("GET", "/hello", {})] * 20)
    elapsed = time.monotonic() - started
    assert [r.status_code for r in responses[:2]] == [504, 504]
    assert [r.text for r in responses[2:]] == ["hello"] * 20
    assert elapsed < 0.4 + 3.0
    # A request cut short on the event loop kept the route off it for a while: a
    # request now runs on a worker thread, with the whole time limit.
    assert get(app, "/hello").text == "hello"


def test_routes_with_host_services_are_not_one_shot(
    make_app: MakeApp, serve_bridge_wasm: Path
) -> None:
    app = make_app([bridge_route(serve_bridge_wasm)])
    handler = app._routes.served[0].handler  # noqa: SLF001
    assert isinstance(handler, bridge.BridgeHandler) and not handler.one_shot
