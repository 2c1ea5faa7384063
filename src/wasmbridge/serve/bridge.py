"""Bridge handlers: a fresh instance per request, ``handle(Request) -> Response``.

Everything that does not depend on the request is prepared once per route
(``BridgeHandler.__init__``): the module, its Request record class, the
route's ``Limits`` (one object, so the module's engine and settings are
found by a dictionary lookup), and a first instance made and closed so
the first request pays for nothing the others do not. Per request: build
the Request record, run it in a fresh instance, and check the Response
(status, header names and values, body size).

A module that imports no host service runs each request in one C call
(runtime/store/oneshot.py: store, instance, call and delete without Python
in between); a request that does not end cleanly there runs once more the
general way, which reports the trap or panic in full (the handler can only
compute its answer, so running it again changes nothing). Otherwise
instances are made ahead of requests, each with its own host services, and
closed after (``fresh.py``: each serves one request only), and a request
tells its instance's services its id.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import BadResponse, OutputLimitExceeded, ResponseTooLarge, TimeLimitExceeded
from ..runtime.store.oneshot import OneShot
from .config import Route
from .fresh import FreshInstances, Maker
from .http import HttpRequest, HttpResponse
from .modules import RouteModule, route_label
from .router import Match

if TYPE_CHECKING:
    from ..runtime.instance import Instance
    from ..runtime.sandbox.limits import Limits
    from .services.host import HostServices

__all__ = [
    "BadResponse",
    "BridgeHandler",
    "ServicesFor",
    "ResponseTooLarge",
    "route_limits",
    "unavailable",
    "valid_header",
]

# The host services of one instance of a route (told its request's id when it runs one).
ServicesFor = Callable[[Route], "HostServices"]

KIB = 1024
# Room for a Response's status, header list and layout beside its body: a one-shot
# result larger than max_response_kb plus this is refused before it is decoded.
RESPONSE_HEADROOM = 64 * KIB
# A one-shot request first runs on the event loop this long at most (the deadline is
# checked at the epoch ticker's ticks, so in practice up to a tick more), and a route
# whose request did not finish in it stays off that path for INLINE_BACKOFF_S.
INLINE_S = 0.002
INLINE_BACKOFF_S = 1.0
# RFC 9110 field names (tokens) and values: visible ASCII and obs-text, with spaces and
# tabs only between them (leading or trailing ones are not part of a value, and h11
# refuses to send them).
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VALUE = re.compile(r"(?:[\x21-\x7e\x80-\xff](?:[\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?")
# Set by the server from the body it sends; a handler's own would contradict it.
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})
# Response headers already found valid and not framing (handlers repeat theirs): up to
# this many, each short, so a handler inventing headers costs bounded memory.
_PASSED_HEADERS: set[tuple[str, str]] = set()
PASSED_HEADERS_MAX = 1024
PASSED_HEADER_CHARS = 256


def route_limits(route: Route) -> Limits:
    """The ``Limits`` of every instance of a route: ``Limits.untrusted()`` narrowed by
    the route's memory, time and response caps. Built once per route."""
    from ..runtime.sandbox.limits import Limits

    caps = route.limits
    return dataclasses.replace(
        Limits.untrusted(),
        memory_mb=caps.memory_mb,
        timeout_s=caps.timeout_ms / 1000,
        max_output_bytes=caps.max_response_kb * KIB,
    )


def valid_header(name: str, value: str) -> bool:
    """Whether HTTP/1.1 can carry the header as given (no CR, LF or NUL anywhere, no
    space or tab at either end of the value)."""
    return _TOKEN.fullmatch(name) is not None and _VALUE.fullmatch(value) is not None


class BridgeHandler:
    """Runs one bridge route's requests, each in a fresh instance."""

    def __init__(
        self,
        route: Route,
        loaded: RouteModule,
        services_for: ServicesFor | None,
        maker: Maker | None = None,
    ) -> None:
        self.route = route
        self.module = loaded.module
        self.services = loaded.services
        self.limits = route_limits(route)
        self.max_response = route.limits.max_response_kb * KIB
        self._timeout = route.limits.timeout_ms / 1000
        self._request = loaded.request_type
        self._services_for = services_for if loaded.services else None
        self._label = route_label(route)
        # Stand-ins for services the server cannot give (not installed): an error if called.
        self._missing = {name: unavailable(name) for name in self.services} or None
        # Made once now: the engine for these limits, the linker, the pool slot.
        self._close_instance(self._make_instance())
        # A module that needs no host service runs each request in C (store/oneshot.py).
        self._shot = OneShot.make(
            self.module, "handle", self.limits, self.max_response + RESPONSE_HEADROOM
        )
        self._inline_after = 0.0  # monotonic time from which ``inline`` may try again
        self._fresh = FreshInstances(
            self._make_instance, self._close_instance, maker or Maker(), depth=2
        )

    @staticmethod
    def _fields(request: HttpRequest, match: Match[Any]) -> tuple[Any, ...]:
        """The fields of the Request record, in order."""
        return (
            request.method,
            request.path,
            request.query,
            list(match.params),
            request.headers,
            request.body,
        )

    def __call__(self, request: HttpRequest, match: Match[Any], request_id: str) -> HttpResponse:
        fields = self._fields(request, match)
        if self._shot is not None:
            reply = self._one_shot(fields)
            if reply is not None:
                return self._response(reply)
            # Not a clean answer: the general path runs it again and reports why.
        req = self._request(*fields)
        made = self._fresh.take()
        instance, services = made
        if services is not None:
            services.request_id = request_id
            services.deadline = time.monotonic() + self._timeout
        try:
            reply = instance.handle(req)
        finally:
            self._fresh.retire(made)
        return self._response(reply)

    @property
    def one_shot(self) -> bool:
        """Whether each request runs in one compiled call (the module uses no host service)."""
        return self._shot is not None

    def inline(self, request: HttpRequest, match: Match[Any]) -> HttpResponse | None:
        """The response, when a one-shot route answers within ``INLINE_S`` on the calling
        thread (the event loop: no hop to a worker thread and back); None: run the
        request on a worker thread as usual.

        A one-shot handler only computes its answer, so a request cut short here runs
        again there with nothing changed. One that is cut short keeps the route off
        this path for ``INLINE_BACKOFF_S``, so a slow route costs the loop little.
        """
        shot = self._shot
        if shot is None or time.monotonic() < self._inline_after:
            return None
        try:
            reply = self._one_shot(self._fields(request, match), timeout=INLINE_S)
        except TimeLimitExceeded:
            self._inline_after = time.monotonic() + INLINE_BACKOFF_S
            return None
        return None if reply is None else self._response(reply)

    def _one_shot(self, fields: tuple[Any, ...], timeout: float | None = None) -> Any:
        """The one-shot call's reply, or None (run it the general way)."""
        assert self._shot is not None
        try:
            return self._shot.call_fields(fields, timeout)
        except OutputLimitExceeded:
            raise ResponseTooLarge(
                f"{self._label}: the response is over the route's max_response_kb = "
                f"{self.route.limits.max_response_kb} (more than "
                f"{self.max_response + RESPONSE_HEADROOM:,} bytes encoded)",
                hint="raise limits.max_response_kb, or send less",
            ) from None

    def close(self) -> None:
        """Close the instances made ahead (requests still running make their own)."""
        self._fresh.close()

    def _make_instance(self) -> tuple[Instance, HostServices | None]:
        services = None
        imports = self._missing
        if self._services_for is not None:
            services = self._services_for(self.route)
            imports = services.imports(self.services)
        instance = self.module.instantiate(imports, limits=self.limits)
        instance.prepare("handle")
        return instance, services

    @staticmethod
    def _close_instance(made: tuple[Instance, HostServices | None]) -> None:
        made[0].close()

    def _response(self, reply: Any) -> HttpResponse:
        status, headers, body = reply
        if len(body) > self.max_response:
            raise ResponseTooLarge(
                f"{self._label}: the response body is {len(body):,} bytes, over the route's "
                f"max_response_kb = {self.route.limits.max_response_kb}",
                hint="raise limits.max_response_kb, or send less",
            )
        if not 200 <= status <= 599:  # 1xx are interim: a final response cannot be one
            raise BadResponse(
                f"{self._label}: handle() returned status {status}",
                hint="return a final status, 200 to 599",
            )
        out = []
        for header in headers:
            if header.__class__ is tuple and header in _PASSED_HEADERS:
                out.append(header)
                continue
            name, value = header
            if not valid_header(name, value):
                raise BadResponse(f"{self._label}: handle() returned header {name!r}: {value!r}")
            if name.lower() not in FRAMING_HEADERS:
                out.append((name, value))
                _remember_header((name, value))
        return HttpResponse(status, out, bytes(body))


def _remember_header(header: tuple[str, str]) -> None:
    if len(header[0]) + len(header[1]) <= PASSED_HEADER_CHARS:
        if len(_PASSED_HEADERS) >= PASSED_HEADERS_MAX:
            _PASSED_HEADERS.clear()
        _PASSED_HEADERS.add(header)


def unavailable(name: str) -> Callable[..., Any]:
    """A stand-in for a host service this server lacks: an error when the guest calls it."""

    def call(*args: Any) -> Any:
        raise RuntimeError(f"host service {name} is not available in this server")

    return call
