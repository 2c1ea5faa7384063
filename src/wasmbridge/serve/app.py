"""``ServeApp``: the ASGI app that serves a manifest's routes.

One object holds the routes (router, a handler per route, built and
checked at start), the admission pool, the metrics and the host services.
An HTTP request goes: ``/healthz`` and ``/metrics`` first; then the route
(404 without one); the body read up to the route's cap (413 from
``Content-Length`` before reading, or while reading); admission (503 with
``Retry-After: 1`` when the worker's queue is full); the handler on a
worker thread; errors mapped to statuses (504 for a time limit, 502 for
malformed CGI, 500 for everything else, with the request id). Every
response carries ``x-request-id``; each is counted and access-logged.

    app = ServeApp(load_manifest("wasmbridge.toml"), threads=8, queue=64)
    uvicorn.run(app)                       # or mount it under Starlette/FastAPI
    app.respond(HttpRequest("GET", "/hello"))  # the same, synchronously, in this thread
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import (
    MemoryLimitExceeded,
    OutputLimitExceeded,
    ResponseTooLarge,
    TimeLimitExceeded,
    WasmbridgeError,
)
from .bridge import BridgeHandler, ServicesFor
from .config import AppConfig, Route
from .fresh import Maker
from .http import HttpRequest, HttpResponse, digits
from .metrics import CONTENT_TYPE as METRICS_TYPE
from .metrics import Metrics
from .modules import load_route_module, route_label
from .pool import Admission
from .router import Match, Router
from .static import StaticHandler
from .wagi import CgiError, WagiHandler

if TYPE_CHECKING:
    from .services.host import HostServices
    from .services.kv import StoreSet

__all__ = ["Handler", "ServeApp"]

log = logging.getLogger("wasmbridge.serve")
access_log = logging.getLogger("wasmbridge.serve.access")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Handler = Callable[[HttpRequest, Match[Any], str], HttpResponse]

HEALTHZ = "/healthz"
METRICS = "/metrics"
KIB = 1024
REQUEST_ID = "x-request-id"
# Responses HTTP sends without a body or a Content-Length (RFC 9110, 15.3.5 and 15.4.5).
NO_BODY_STATUSES = frozenset({204, 304})


@dataclass(frozen=True)
class _Served:
    """One route ready to serve: its handler and body cap."""

    route: Route
    handler: Handler
    max_body: int


@dataclass(frozen=True)
class _RouteSet:
    """Every route of one version of the manifest; swapped whole by ``reload``."""

    config: AppConfig
    router: Router[_Served]
    watched: tuple[Path, ...]
    served: tuple[_Served, ...]


class ServeApp:
    """An ASGI3 app (``http`` and ``lifespan``) serving an ``AppConfig``'s routes.

    Building it builds crate folders, compiles every module (through the
    on-disk cache, shared by worker processes) and checks each one against
    its route; errors name the route. ``debug=True`` puts a failed guest's
    full error in the 500 body. ``threads`` worker threads run guests,
    ``queue`` more requests may wait; beyond, 503.

    >>> app = ServeApp(load_manifest("wasmbridge.toml"))
    >>> app.respond(HttpRequest("GET", "/hello")).status
    200
    """

    def __init__(
        self,
        config: AppConfig,
        *,
        debug: bool = False,
        threads: int = 8,
        queue: int = 64,
        cache: bool = True,
    ) -> None:
        self.debug = debug
        self._cache = cache
        self._lock = threading.Lock()
        self._services = _Services(config)
        self._maker = Maker()  # makes bridge instances ahead of requests, closes used ones
        self._routes = self._build(config)
        self.admission = Admission(threads=threads, queue=queue)
        self.metrics = Metrics(lambda: self.admission.in_flight, lambda: self.admission.queued)
        self._closed = False

    # -- the public surface -----------------------------------------------------------

    @property
    def config(self) -> AppConfig:
        """The configuration being served (the last one ``reload`` loaded)."""
        return self._routes.config

    def respond(self, request: HttpRequest) -> HttpResponse:
        """Answer ``request`` in the calling thread (no admission queue): what the
        ASGI app does from a received request to the response it sends."""
        started = time.perf_counter()
        rid = _request_id()
        response, label = self._special(request)
        if response is None:
            match = self._routes.router.match(request.path)
            if match is None:
                response, label = HttpResponse.text(404, "no route"), "none"
            else:
                served = match.target
                label = served.route.path
                if len(request.body) > served.max_body:
                    response = _too_large(served)
                else:
                    response = self._run(served, match, request, rid)
        return self._finish(request, response, rid, label, started)

    def reload(self) -> None:
        """Load the manifest again, rebuild and recompile, then swap all routes at once.

        Requests already running finish on the routes they started with. On any
        error (ManifestError for a bad manifest, ModuleError, BuildFailed) the
        routes served stay as they were, and the error is raised.
        """
        from .manifest import load_manifest

        config = load_manifest(self.config.manifest)
        routes = self._build(config)
        with self._lock:
            old, self._routes = self._routes, routes
        _close_handlers(old)

    def watched_paths(self) -> list[Path]:
        """The files whose change should reload the app: the manifest, each module
        (or its crate's Cargo.toml and src/)."""
        return list(self._routes.watched)

    def close(self) -> None:
        """Finish the requests running, then release threads and host services."""
        if self._closed:
            return
        self._closed = True
        self.admission.close()
        _close_handlers(self._routes)
        self._maker.stop()
        self._services.close()

    # -- ASGI -----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        else:  # websocket: not served
            await send({"type": "websocket.close", "code": 1000})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.get_running_loop().run_in_executor(None, self.close)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        rid = _request_id()
        request = _request_from_scope(scope)
        response, label = self._special(request)
        if response is None:
            match = self._routes.router.match(request.path)
            if match is None:
                response, label = HttpResponse.text(404, "no route"), "none"
            else:
                label = match.target.route.path
                response = await self._admit(match, request, receive, rid)
        response = self._finish(request, response, rid, label, started)
        await _send(send, response, head=request.method == "HEAD")

    async def _admit(
        self, match: Match[_Served], request: HttpRequest, receive: Receive, rid: str
    ) -> HttpResponse:
        served = match.target
        declared = request.header("content-length")
        if declared is not None and digits(declared) and int(declared) > served.max_body:
            return _too_large(served)
        body = await _read_body(receive, served.max_body)
        if body is None:
            return _too_large(served)
        request.body = body
        if isinstance(served.handler, BridgeHandler):
            try:
                response = served.handler.inline(request, match)
            except Exception as exc:  # as in _run: a status, never a crash
                return self._failure(served.route, exc, rid)
            if response is not None:
                return response
        future = self.admission.submit(self._run, served, match, request, rid)
        if future is None:
            log.warning("%s: queue full, 503 (request %s)", route_label(served.route), rid)
            return HttpResponse.text(
                503, f"server busy, retry (request {rid})", headers=[("retry-after", "1")]
            )
        return await asyncio.wrap_future(future)

    # -- requests ---------------------------------------------------------------------------

    def _special(self, request: HttpRequest) -> tuple[HttpResponse | None, str]:
        if request.method == "CONNECT":  # a tunnel, not a request any handler can answer
            return HttpResponse.text(405, "CONNECT is not served"), "none"
        path = request.path
        if path == HEALTHZ:
            return HttpResponse.text(200, "ok"), HEALTHZ
        if path == METRICS:
            return HttpResponse(
                200, [("content-type", METRICS_TYPE)], self.metrics.render()
            ), METRICS
        return None, ""

    def _run(
        self, served: _Served, match: Match[Any], request: HttpRequest, rid: str
    ) -> HttpResponse:
        try:
            return served.handler(request, match, rid)
        except Exception as exc:  # every failure of a handler becomes a status, never a crash
            return self._failure(served.route, exc, rid)

    def _failure(self, route: Route, exc: BaseException, rid: str) -> HttpResponse:
        if isinstance(exc, TimeLimitExceeded):
            status, short = 504, "gateway timeout"
        elif isinstance(exc, CgiError):
            status, short = 502, "bad gateway"
        else:
            status, short = 500, "internal error"
        expected = isinstance(exc, WasmbridgeError)
        hint = _route_hint(route, exc)
        if hint is not None:  # the runtime's hint names Limits(...), not the manifest
            assert isinstance(exc, WasmbridgeError)
            exc.hint = hint
        log.error(
            "%s failed (request %s): %s: %s",
            route_label(route),
            rid,
            type(exc).__name__,
            exc,
            exc_info=None if expected else exc,
        )
        if self.debug:
            hint = getattr(exc, "hint", None)
            text = f"{type(exc).__name__}: {exc}" + (f"\nhint: {hint}" if hint else "")
            return HttpResponse.text(status, f"{text}\n(request {rid})")
        return HttpResponse.text(status, f"{short} (request {rid})")

    def _finish(
        self, request: HttpRequest, response: HttpResponse, rid: str, label: str, started: float
    ) -> HttpResponse:
        if response.status in NO_BODY_STATUSES and response.body:
            response.body = b""  # HTTP forbids one: sending it would break the connection
        response.headers.append((REQUEST_ID, rid))
        elapsed = time.perf_counter() - started
        self.metrics.observe(label, response.status, elapsed)
        if access_log.isEnabledFor(logging.INFO):
            client = f"{request.client[0]}:{request.client[1]}" if request.client else "-"
            target = f"{request.path}?{request.query}" if request.query else request.path
            access_log.info(
                '%s "%s %s" %d %dB %.2fms route=%s id=%s',
                client,
                request.method,
                target,
                response.status,
                len(response.body),
                elapsed * 1000,
                label,
                rid,
            )
        return response

    # -- building routes ---------------------------------------------------------------------

    def _build(self, config: AppConfig) -> _RouteSet:
        entries: list[tuple[str, _Served]] = []
        watched: list[Path] = [config.manifest]
        services_for = self._services.services_for(config)
        for route in config.routes:
            handler: Handler
            if route.kind == "static":
                handler = StaticHandler(route)
            else:
                loaded = load_route_module(route, cache=self._cache)
                watched.extend(loaded.sources)
                if route.kind == "bridge":
                    handler = BridgeHandler(route, loaded, services_for, self._maker)
                else:
                    handler = WagiHandler(route, loaded, services_for)
            entries.append((route.path, _Served(route, handler, route.limits.max_body_kb * KIB)))
        served = tuple(entry for _, entry in entries)
        return _RouteSet(config, Router(entries), tuple(dict.fromkeys(watched)), served)


class _Services:
    """The host services (``serve/services``): key-value stores opened once per
    process (``StoreSet``), outbound HTTP and logging, handed to each instance
    as ``HostServices`` (cheap: bound methods), told the id of the request it
    serves."""

    def __init__(self, config: AppConfig) -> None:
        self._stores: StoreSet | None = None
        self._config = config

    def services_for(self, config: AppConfig) -> ServicesFor:
        from .services.host import HostServices
        from .services.kv import StoreSet

        stores = self._stores
        if stores is None or config.kv != self._config.kv or config.name != self._config.name:
            stores = StoreSet(config)  # a reload that changed the stores: opened anew
            _check_stores(stores, config)
        self._stores, self._config = stores, config

        def services(route: Route) -> HostServices:
            return HostServices(config, route, "", stores)

        return services

    def close(self) -> None:
        if self._stores is not None:
            self._stores.close()


def _check_stores(stores: StoreSet, config: AppConfig) -> None:
    """Open every store the routes name and read from it once, so a bad path or an
    unreachable Redis stops the server at start (StoreError), not each request."""
    from .services.kv import StoreError

    try:
        for store in config.kv:
            try:
                stores.open(store.name).exists("wasmbridge:start-check")
            except StoreError as exc:
                if not store.where:
                    raise
                raise StoreError(f"{store.where}: {exc.message}", hint=exc.hint) from exc
    except BaseException:
        stores.close()
        raise


def _route_hint(route: Route, exc: BaseException) -> str | None:
    """For a limit a request hit: which key of the route's manifest table raises it."""
    caps = route.limits
    if isinstance(exc, TimeLimitExceeded):
        key = f"timeout_ms (now {caps.timeout_ms})"
    elif isinstance(exc, MemoryLimitExceeded):
        key = f"memory_mb (now {caps.memory_mb})"
    elif isinstance(exc, (OutputLimitExceeded, ResponseTooLarge)):
        key = f"max_response_kb (now {caps.max_response_kb})"
    else:
        return None
    return f"raise limits.{key} of the route {route.path!r} in the manifest, or do less per request"


def _close_handlers(routes: _RouteSet) -> None:
    """Close the instances a route set's bridge handlers made ahead of requests."""
    for served in routes.served:
        if isinstance(served.handler, BridgeHandler):
            served.handler.close()


def _too_large(served: _Served) -> HttpResponse:
    return HttpResponse.text(
        413, f"request body over this route's {served.route.limits.max_body_kb} KiB limit"
    )


def _request_id() -> str:
    return f"{random.getrandbits(32):08x}"


def _request_from_scope(scope: Scope) -> HttpRequest:
    raw: bytes | None = scope.get("raw_path")
    path = raw.decode("latin-1").split("?", 1)[0] if raw else scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root):  # mounted under a prefix (Starlette's Mount)
        path = path[len(root) :] or "/"
    headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]]
    host = next((v for k, v in headers if k == "host"), "")
    client = scope.get("client")
    server = scope.get("server")
    return HttpRequest(
        method=scope["method"],
        path=path,
        query=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        scheme=scope.get("scheme", "http"),
        host=host,
        http_version=str(scope.get("http_version", "1.1")),
        root_path=root,
        client=(client[0], client[1]) if client else None,
        server=(server[0], server[1]) if server and server[1] is not None else None,
    )


async def _read_body(receive: Receive, cap: int) -> bytes | None:
    """The whole body, or None once it grows past ``cap`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > cap:
                return None
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _send(send: Send, response: HttpResponse, *, head: bool) -> None:
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    if response.status not in NO_BODY_STATUSES and not any(
        k == b"content-length" for k, _ in headers
    ):
        headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else response.body})
