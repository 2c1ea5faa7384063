"""WAGI handlers: a WASI command per request, speaking CGI (RFC 3875) as Wagi does.

The request becomes CGI variables in the environment (``cgi_environ``),
the query in ``argv`` (``cgi_argv``, from the route's template, default
``${SCRIPT_NAME} ${ARGS}``, ARGS being the query split on ``&``), and the
body on stdin. The command's stdout is a CGI response (``parse_cgi``):
header lines up to a blank line, then the body. stderr goes to the server
log. Files mounts are preopened directories (read-only unless ``rw``). A
command importing ``env.serve_*`` services gets them as bridge handlers do.

How it ends: exit code 0 or any other exit code, the output is parsed and
served (as Wagi serves what a command wrote; a nonzero code is logged);
a trap or panic is a 500, a time limit a 504, stdout over the route's
``max_response_kb`` a 500, output that is not a CGI response a 502.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from ..errors import CgiError
from ..interface.types import shown
from .bridge import FRAMING_HEADERS, ServicesFor, route_limits, unavailable, valid_header
from .config import Route
from .http import HttpRequest, HttpResponse, digits
from .modules import RouteModule, route_label
from .router import Match

if TYPE_CHECKING:
    from ..runtime.sandbox.grants import Preopen

__all__ = [
    "CgiError",
    "SERVER_SOFTWARE",
    "WagiHandler",
    "cgi_argv",
    "cgi_environ",
    "parse_cgi",
]

log = logging.getLogger("wasmbridge.serve")

GATEWAY_INTERFACE = "CGI/1.1"
SERVER_SOFTWARE = "WAGI/1"
# RFC 3875 4.1.18: credentials and connection handling stay with the server (Wagi skips these).
SKIPPED_HEADERS = frozenset({"authorization", "connection"})


@dataclass(frozen=True)
class _Origin:
    host: str
    port: str


def _origin(request: HttpRequest) -> _Origin:
    """SERVER_NAME and SERVER_PORT: from the Host header, else the server's address."""
    port = (
        str(request.server[1]) if request.server else ("443" if request.scheme == "https" else "80")
    )
    host = request.server[0] if request.server else "localhost"
    given = request.header("host") or request.host
    if given:
        name, sep, given_port = given.rpartition(":") if not given.endswith("]") else ("", "", "")
        if sep and digits(given_port):
            host, port = name, given_port
        else:
            host = given
    return _Origin(host, port)


def cgi_environ(request: HttpRequest, match: Match[Any], route: Route) -> list[tuple[str, str]]:
    """The CGI variables of a request, as Wagi sets them, then the route's own ``env``."""
    origin = _origin(request)
    client = request.client[0] if request.client else ""
    raw_path_info = match.path_info
    path_info = unquote(raw_path_info)
    query = request.query
    full = f"{request.scheme}://{origin.host}:{origin.port}{request.root_path}{request.path}"
    env: dict[str, str] = {
        "AUTH_TYPE": "",
        "CONTENT_LENGTH": str(len(request.body)),
        "CONTENT_TYPE": request.header("content-type") or "",
        "GATEWAY_INTERFACE": GATEWAY_INTERFACE,
        "PATH_INFO": path_info,
        "PATH_TRANSLATED": path_info,
        "QUERY_STRING": query,
        "REMOTE_ADDR": client,
        "REMOTE_HOST": client,
        "REMOTE_USER": "",
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": request.root_path + match.script_name,
        "SERVER_NAME": origin.host,
        "SERVER_PORT": origin.port,
        "SERVER_PROTOCOL": f"HTTP/{request.http_version}",
        "SERVER_SOFTWARE": SERVER_SOFTWARE,
        "X_FULL_URL": f"{full}?{query}" if query else full,
        "X_MATCHED_ROUTE": match.pattern,
        "X_RAW_PATH_INFO": raw_path_info,
    }
    for name, value in request.headers:
        # A name with "_" would pass as another header's variable (X-Forwarded_For as
        # HTTP_X_FORWARDED_FOR): dropped, as nginx and Apache do.
        if name in SKIPPED_HEADERS or "_" in name or "\0" in value:
            continue
        key = "HTTP_" + name.upper().replace("-", "_")
        env[key] = f"{env[key]}, {value}" if key in env else value
    env.update(route.env)
    return [(k, v) for k, v in env.items() if "\0" not in k and "=" not in k]


def cgi_argv(template: str, script_name: str, query: str) -> tuple[str, ...]:
    """argv from the route's template: ``${SCRIPT_NAME}``, and ``${ARGS}`` (the query
    split on ``&``, as Wagi passes it; nothing for an empty query)."""
    args = query.split("&") if query else []
    argv: list[str] = []
    for token in template.split():
        if token == "${ARGS}":
            argv.extend(args)
        else:
            argv.append(
                token.replace("${SCRIPT_NAME}", script_name).replace("${ARGS}", " ".join(args))
            )
    return tuple(argv)


def parse_cgi(output: bytes) -> HttpResponse:
    """A CGI response (RFC 3875 section 6) -> HttpResponse; ``CgiError`` when it is not one.

    Header lines end in LF or CRLF, up to an empty line; ``Content-Type`` or
    ``Location`` must be among them. ``Status: 404 Not Found`` sets the status
    (200 by default, 302 for a ``Location`` without one).

    >>> parse_cgi(b"Content-Type: text/plain\\n\\nhi").body
    b'hi'
    """
    headers: list[tuple[str, str]] = []
    status: int | None = None
    position = 0
    while True:
        end = output.find(b"\n", position)
        if end < 0:
            raise CgiError(
                "the handler's output has no header block (header lines, then an empty line)"
                if not headers
                else "the handler's header block does not end with an empty line"
            )
        line = output[position:end]
        position = end + 1
        if line.endswith(b"\r"):
            line = line[:-1]
        if not line:
            break
        name_bytes, colon, value_bytes = line.partition(b":")
        name = name_bytes.decode("latin-1")
        value = value_bytes.decode("latin-1").strip(" \t")
        if not colon or not valid_header(name, value):
            shown = line[:80].decode("latin-1")
            raise CgiError(f"the handler wrote an invalid CGI header line: {shown!r}")
        if name.lower() == "status":
            status = _status(value)
        else:
            headers.append((name, value))
    names = {name.lower() for name, _ in headers}
    if "content-type" not in names and "location" not in names:
        raise CgiError("the handler's CGI headers have neither Content-Type nor Location")
    if status is None:
        status = 302 if "location" in names and "content-type" not in names else 200
    kept = [(n, v) for n, v in headers if n.lower() not in FRAMING_HEADERS]
    return HttpResponse(status, kept, output[position:])


def _status(value: str) -> int:
    code = value.split(" ", 1)[0]
    # 1xx are interim responses: a CGI script's final answer cannot be one.
    if len(code) != 3 or not digits(code) or not 200 <= int(code) <= 599:
        raise CgiError(f"the handler wrote an invalid CGI Status: {value!r}")
    return int(code)


class WagiHandler:
    """Runs one wagi route's requests, each a fresh WASI command run inline."""

    def __init__(
        self, route: Route, loaded: RouteModule, services_for: ServicesFor | None = None
    ) -> None:
        from ..runtime.sandbox.grants import Grants, Preopen

        self.route = route
        self.module = loaded.module
        self.services = loaded.services
        self._services_for = services_for if loaded.services else None
        self._missing = {name: unavailable(name) for name in self.services} or None
        self.limits = route_limits(route)
        self._label = route_label(route)
        self._dirs: tuple[Preopen, ...] = tuple(
            Preopen(mount.host, mount.guest, mount.writable) for mount in route.files
        )
        self._grants = Grants
        warm = Grants(argv=(loaded.wasm.name,))
        self.module.instantiate(self._missing, limits=self.limits, wasi=warm).close()

    def __call__(self, request: HttpRequest, match: Match[Any], request_id: str) -> HttpResponse:
        from ..runtime.sandbox.command import run_command

        route = self.route
        grants = self._grants(
            argv=cgi_argv(route.argv, match.script_name, request.query),
            env=tuple(cgi_environ(request, match, route)),
            dirs=self._dirs,
            stdin=request.body,
            stdout="capture",
            stderr="capture",
        )
        imports = self._missing
        if self._services_for is not None:  # KV, outbound HTTP and log, as bridge handlers get them
            services = self._services_for(route)
            services.request_id = request_id
            services.deadline = time.monotonic() + route.limits.timeout_ms / 1000
            imports = services.imports(self.services)
        instance = self.module.instantiate(imports, limits=self.limits, wasi=grants)
        result = run_command(instance, route.entrypoint)
        code, out, err = result.exit_code, result.stdout, result.stderr
        if err:
            for line in err.decode("utf-8", "replace").splitlines():
                # Escaped: a guest's control sequences must not reach a terminal or log viewer.
                log.warning("%s stderr (request %s): %s", self._label, request_id, shown(line, 500))
        if code != 0:
            log.warning("%s exited with code %d (request %s)", self._label, code, request_id)
        try:
            return parse_cgi(out or b"")
        except CgiError as exc:
            raise CgiError(
                f"{self._label}: {exc}", hint="write headers, an empty line, then the body"
            ) from None
