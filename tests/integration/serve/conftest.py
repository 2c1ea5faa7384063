"""Fixtures of the serve host-services tests: apps, stores, a real redis-server,
a loopback HTTP server that records every connection, the serve_services crate."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from services_helpers import MakeApp, Recorder

from redis_helpers import RedisServer, redis_server
from wasmbridge.serve.config import AppConfig, KvStoreConfig, Route
from wasmbridge.serve.services import KeyValueStore, StoreSet, open_store


@pytest.fixture
def make_app(tmp_path: Path) -> MakeApp:
    """``make_app(name, routes, kv)``: an AppConfig whose manifest lies in tmp_path."""

    def make(
        name: str = "shop",
        routes: tuple[Route, ...] = (),
        kv: tuple[KvStoreConfig, ...] = (),
    ) -> AppConfig:
        return AppConfig(name=name, manifest=tmp_path / "wasmbridge.toml", routes=routes, kv=kv)

    return make


@pytest.fixture(scope="session")
def redis_srv() -> Iterator[RedisServer]:
    """One real redis-server for the session (skips without one, unless required)."""
    with redis_server() as server:
        yield server


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_config(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> KvStoreConfig:
    """A fresh store of the parametrized backend (its own Redis database key space)."""
    if backend == "redis":
        server: RedisServer = request.getfixturevalue("redis_srv")
        import redis

        redis.Redis.from_url(server.url).flushdb()
        return KvStoreConfig("default", backend="redis", url=server.url)
    return KvStoreConfig("default", path=tmp_path / "kv.sqlite")


@pytest.fixture
def kv_store(store_config: KvStoreConfig, make_app: MakeApp) -> Iterator[KeyValueStore]:
    store = open_store(make_app(kv=(store_config,)), store_config)
    yield store
    store.close()


@pytest.fixture
def store_set(make_app: MakeApp) -> Iterator[Callable[[AppConfig], StoreSet]]:
    made: list[StoreSet] = []

    def make(app: AppConfig) -> StoreSet:
        made.append(StoreSet(app))
        return made[-1]

    yield make
    for stores in made:
        stores.close()


@pytest.fixture
def http_recorder() -> Iterator[Callable[[], Recorder]]:
    """``http_recorder()``: start a recording server; every one started is stopped after."""
    servers: list[ThreadingHTTPServer] = []

    def start() -> Recorder:
        recorder = Recorder(0)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                recorder.requests.append((self.command, self.path, headers, body))
                if self.path.startswith("/setcookie"):
                    self.send_response(200)
                    self.send_header("set-cookie", "session=SECRET; Path=/")
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                if self.path.startswith("/gzip"):  # a compressed reply, whatever was asked
                    packed = gzip.compress(b"unpacked " * 100)
                    self.send_response(200)
                    self.send_header("content-encoding", "gzip")
                    self.send_header("content-length", str(len(packed)))
                    self.end_headers()
                    self.wfile.write(packed)
                    return
                if self.path.startswith("/redirect"):
                    self.send_response(302)
                    self.send_header("location", "http://127.0.0.1:1/elsewhere")
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                size = int(self.path.rpartition("/big/")[2] or 0) if "/big/" in self.path else 0
                reply = b"x" * size if size else b"pong " + self.command.encode() + b" " + body
                self.send_response(200)
                self.send_header("x-echo", headers.get("x-echo", "-"))
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def verify_request(self, request: object, client_address: object) -> bool:
                assert isinstance(client_address, tuple)
                recorder.connections.append(client_address)
                return True

        server = Server(("127.0.0.1", 0), Handler)
        recorder.port = server.server_address[1]
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return recorder

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
