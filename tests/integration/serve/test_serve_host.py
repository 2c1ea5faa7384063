"""HostServices driven from Rust: the serve_services crate calls every serve_*
import through the SDK's `serve` feature, in a real wasmtime instance."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from services_helpers import MakeApp, Recorder, route

import wasmbridge
from wasmbridge.errors import ProtocolError
from wasmbridge.runtime.module import Module
from wasmbridge.serve.config import AppConfig, KvStoreConfig, Route
from wasmbridge.serve.services import HostServices, OutboundPolicy, StoreError, StoreSet
from wasmbridge.serve.services.host import IMPORT_NAMES, decode_list, encode_list
from wasmbridge.serve.services.log import MAX_LINE, escape

pytestmark = pytest.mark.toolchain


@pytest.fixture(scope="session")
def services_module(build_fixture: Callable[..., Path]) -> Module:
    return wasmbridge.compile(build_fixture("serve_services"))


class Services:
    """An app with one route, its stores, and a fresh instance per request."""

    def __init__(self, module: Module, app: AppConfig, route: Route) -> None:
        self.module, self.app, self.route = module, app, route
        self.stores = StoreSet(app)
        self.policy = OutboundPolicy(route.allowed_outbound_hosts)

    def instance(self, request_id: str = "r1") -> wasmbridge.Instance:
        services = HostServices(self.app, self.route, request_id, self.stores, self.policy)
        return self.module.instantiate(imports=services.imports(self.module.imports))


@pytest.fixture
def services(
    services_module: Module, make_app: MakeApp, tmp_path: Path
) -> Iterator[Callable[..., Services]]:
    made: list[Services] = []

    def make(**fields: object) -> Services:
        the_route = route("/api/:id", **fields)
        app = make_app(
            routes=(the_route,), kv=(KvStoreConfig("carts", path=tmp_path / "carts.sqlite"),)
        )
        made.append(Services(services_module, app, the_route))
        return made[-1]

    yield make
    for each in made:
        each.stores.close()


def test_the_module_imports_exactly_the_documented_serve_names(services_module: Module) -> None:
    assert {name.partition(".")[2] for name in services_module.imports} == IMPORT_NAMES
    assert str(services_module.exports["handle"].signature()) == "handle(req: Request) -> Response"
    records = {
        record.name: [f.name for f in record.fields] for record in services_module.interface.records
    }
    assert records == {
        "Request": ["method", "path", "query", "params", "headers", "body"],
        "Response": ["status", "headers", "body"],
    }


def test_imports_returns_only_serve_names_keyed_as_asked(services: Callable[..., Services]) -> None:
    app = services()
    table = HostServices(app.app, app.route, "r", app.stores, app.policy).imports(
        [
            "env.serve_log",
            "serve_kv_get",
            "env.alert",
            "host.serve_log",
            "wasi_snapshot_preview1.fd_write",
        ]
    )
    assert sorted(table) == ["env.serve_log", "serve_kv_get"]


def test_kv_round_trips_from_rust(services: Callable[..., Services]) -> None:
    app = services(key_value_stores=("default", "carts"))
    guest = app.instance()
    guest.kv_set("default", "greeting", b"hello")
    assert guest.kv_get("default", "greeting") == b"hello"
    assert guest.kv_get("carts", "greeting") is None  # another store
    assert guest.kv_get("default", "missing") is None
    assert guest.kv_exists("default", "greeting") is True
    assert guest.kv_increment("default", "n", 41) == 41
    assert guest.kv_increment("default", "n", 1) == 42
    assert guest.kv_get("default", "n") == b"42"
    assert guest.kv_cas("default", "lock", None, b"me") is True
    assert guest.kv_cas("default", "lock", None, b"you") is False
    assert guest.kv_cas("default", "lock", b"me", b"you") is True
    guest.kv_set("default", "é/ünï", b"\x00")
    assert guest.kv_keys("default", "") == ["greeting", "lock", "n", "é/ünï"]
    assert guest.kv_keys("default", "é") == ["é/ünï"]
    assert guest.kv_delete("default", "greeting") is True
    assert guest.kv_delete("default", "greeting") is False
    # A new instance (the next request) sees what the last one stored.
    assert app.instance("r2").kv_get("default", "lock") == b"you"


def test_a_store_the_route_does_not_list_is_refused_to_the_guest(
    services: Callable[..., Services],
) -> None:
    guest = services(key_value_stores=("default",)).instance()
    assert guest.kv_open("default") == "ok"
    assert guest.kv_open("carts") == (
        'NotAllowed: this route may not use key-value store "carts" (add it to the route\'s key_value_stores)'
    )


def test_increment_of_text_traps_with_the_store_error(services: Callable[..., Services]) -> None:
    guest = services(key_value_stores=("default",)).instance()
    guest.kv_set("default", "name", b"ada")
    with pytest.raises(
        StoreError, match=r"increment of key 'name' in key-value store 'default' of app 'shop'"
    ):
        guest.kv_increment("default", "name", 1)


def test_http_from_rust_reaches_an_allowed_port_only(
    services: Callable[..., Services], http_recorder: Callable[[], Recorder]
) -> None:
    allowed, denied = http_recorder(), http_recorder()
    guest = services(allowed_outbound_hosts=(allowed.origin,)).instance()
    assert (
        guest.fetch("POST", f"{allowed.origin}/x", b"from wasm")
        == "200 x-echo=from-rust pong POST from wasm"
    )
    assert allowed.requests[0][2]["accept"] == "text/plain"
    assert guest.fetch("GET", f"{denied.origin}/x", b"") == (
        f"error NotAllowed: outbound request to {denied.origin} is not allowed for this route "
        f"(allowed_outbound_hosts: {allowed.origin})"
    )
    assert guest.fetch("GET", "not a url", b"").startswith(
        "error InvalidRequest: bad URL 'not a url'"
    )
    assert denied.connections == []


def test_guest_log_lines_carry_route_and_request_id_escaped(
    services: Callable[..., Services], caplog: pytest.LogCaptureFixture
) -> None:
    guest = services().instance("req-7")
    with caplog.at_level(logging.DEBUG, logger="wasmbridge.serve"):
        guest.log_line(2, "line one\nforged: line two\x1b[31m")
        guest.log_line(0, "x" * (MAX_LINE + 10))
    first, second = caplog.records
    assert first.levelno == logging.WARNING
    assert (
        first.getMessage()
        == "guest /api/:id (request req-7): line one\\x0aforged: line two\\x1b[31m"
    )
    assert (vars(first)["route"], vars(first)["request_id"]) == ("/api/:id", "req-7")
    assert second.levelno == logging.DEBUG
    assert second.getMessage().endswith("x... (10 more characters)")
    assert escape("\u2028ok\x7f") == "\\u2028ok\\x7f"


def test_handle_with_the_sdk_records_counts_in_the_store(services: Callable[..., Services]) -> None:
    app = services(key_value_stores=("default",))
    for hits in (1, 2):
        guest = app.instance(f"r{hits}")
        request = guest.Request(
            "POST", "/api/7", "a=1", [("id", "7")], [("user-agent", "t/1")], b"hi"
        )
        response = guest.handle(request)
        assert response.status == 201
        assert ("x-hits", str(hits)) in response.headers
        assert (
            bytes(response.body) == f"POST /api/7?a=1 id=7 agent=t/1 body=hi hits={hits}".encode()
        )


def test_a_bad_store_handle_from_a_guest_is_a_protocol_error(
    services: Callable[..., Services],
) -> None:
    app = services(key_value_stores=("default",))
    host = HostServices(app.app, app.route, "r", app.stores, app.policy)
    with pytest.raises(
        ProtocolError, match="used key-value store handle 3, which serve_kv_open did not return"
    ):
        host.kv_get(3, "k")
    assert host.kv_open("default") == 0 and host.kv_open("default") == 0


def test_string_lists_round_trip_and_refuse_truncation() -> None:
    items = ["", "a", "é\x00", "x" * 300]
    assert decode_list(encode_list(items), "t") == items
    with pytest.raises(ProtocolError, match="t: a string list item runs past its end"):
        decode_list(encode_list(["abc"])[:-1], "t")
    with pytest.raises(ProtocolError, match="t: a string list ends inside a length"):
        decode_list(b"\x01\x00", "t")


def test_without_a_policy_the_route_allowlist_applies(
    services: Callable[..., Services], http_recorder: Callable[[], Recorder]
) -> None:
    allowed, denied = http_recorder(), http_recorder()
    app = services(allowed_outbound_hosts=(allowed.origin,))
    host = HostServices(app.app, app.route, "r", app.stores)
    assert host.outbound is OutboundPolicy.for_entries((allowed.origin,))
    guest = app.module.instantiate(imports=host.imports(app.module.imports))
    assert guest.fetch("GET", f"{allowed.origin}/", b"").startswith("200 ")
    assert guest.fetch("GET", f"{denied.origin}/", b"").startswith("error NotAllowed: ")
    assert denied.connections == []
