"""Run a manifest's app under uvicorn: one process, or N worker processes on one socket.

The socket is bound here, before uvicorn starts, so a port in use is a clear
error (``ListenError``, exit code 3) instead of a log line from deep inside
uvicorn. The app is loaded once in this process first: a bad manifest fails
before anything starts, and crate routes are built and their modules
compiled into the on-disk cache once, so workers start from the cache.

One worker serves in this process. With ``workers > 1``, uvicorn's
supervisor spawns the workers, hands each the bound socket (the kernel
spreads connections among them), restarts one that dies, and on SIGINT or
SIGTERM stops them all; each worker finishes its in-flight requests first.

    options = ServeOptions(Path("wasmbridge.toml"), workers=2, watch=True)
    app = load_app(options)
    sock = bind(options.host, options.port)
    serve(options, app, sock)   # blocks until SIGINT/SIGTERM
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import errno
import json
import logging
import os
import signal
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ListenError

if TYPE_CHECKING:
    from .app import ServeApp
    from .watch import Watcher

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3000
LISTEN_ENV = "WASMBRIDGE_LISTEN"
# The options of a server, as JSON, for the worker processes it spawns.
WORKER_ENV = "WASMBRIDGE_SERVE_WORKER"
# The crate folders the server built at start, as JSON (modules.BUILT), for the same.
BUILT_ENV = "WASMBRIDGE_SERVE_BUILT"
STARTUP_FAILURE = 3  # uvicorn's exit code for a worker that could not start

log = logging.getLogger("wasmbridge.serve")


@dataclass(frozen=True)
class ServeOptions:
    """How to run one app: where it listens, how many workers, and each worker's knobs."""

    manifest: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    workers: int = 1
    watch: bool = False
    debug: bool = False
    threads: int = 8
    queue: int = 64
    access_log: bool = True
    log_level: str = "info"

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def to_json(self) -> str:
        fields = dataclasses.asdict(self)
        fields["manifest"] = str(self.manifest)
        return json.dumps(fields)

    @classmethod
    def from_json(cls, text: str) -> ServeOptions:
        fields = json.loads(text)
        fields["manifest"] = Path(fields["manifest"])
        return cls(**fields)


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[IPv6]:PORT``, ``:PORT`` (loopback) or ``PORT`` -> (host, port).

    Raises ValueError naming what is wrong.
    """
    text = text.strip()
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host, port_text = "", text
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ValueError(f"write an IPv6 address in brackets: [{host}]:{port_text}")
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"expected HOST:PORT, got {text!r}") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"port {port} is out of range (0 to 65535; 0 picks a free one)")
    return host or DEFAULT_HOST, port


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (port 0: a free one), not yet listening.

    Raises ListenError with the reason and a fix; the caller hands the socket to uvicorn.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ListenError(
            f"cannot listen on {host}:{port}: unknown host ({exc.strerror})",
            hint="use an IP address such as 127.0.0.1 or 0.0.0.0 in --listen",
        ) from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ListenError(
            f"cannot listen on {host}:{port}: {_bind_reason(exc)}", hint=_bind_hint(exc, port)
        ) from None
    sock.set_inheritable(True)
    return sock


def _bind_reason(exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return "the address is already in use (another server is listening there)"
    if exc.errno == errno.EACCES:
        return "permission denied (ports below 1024 need privileges)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "the address is not one of this machine's"
    return exc.strerror or str(exc)


def _bind_hint(exc: OSError, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"stop the other server (`ss -ltnp 'sport = :{port}'` names it) "
            "or pick another port with --listen"
        )
    if exc.errno == errno.EACCES:
        return "pick a port above 1023 with --listen, e.g. --listen 127.0.0.1:8080"
    return "check the address given to --listen (or WASMBRIDGE_LISTEN)"


def load_app(options: ServeOptions) -> ServeApp:
    """The app of ``options.manifest``: manifest checked, crate routes built, modules compiled."""
    from .app import ServeApp
    from .manifest import load_manifest

    config = load_manifest(options.manifest)
    return ServeApp(config, debug=options.debug, threads=options.threads, queue=options.queue)


def route_lines(app: ServeApp) -> list[str]:
    """One line per route: its path, kind and what serves it (relative to the manifest)."""
    rows = []
    for route in app.config.routes:
        target = route.static if route.kind == "static" else route.module
        rows.append((route.path, route.kind, _shown(target) if target else ""))
    width = max((len(path) for path, _, _ in rows), default=0)
    return [f"  {path:<{width}}  {kind:<6}  {target}".rstrip() for path, kind, target in rows]


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when inside it, else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# -- running ------------------------------------------------------------------------


def serve(options: ServeOptions, app: ServeApp, sock: socket.socket) -> int:
    """Serve until SIGINT/SIGTERM; returns an exit code (0, or 3 when a worker could not start).

    With one worker ``app`` serves here; with more, it is closed (it has built and
    compiled everything the workers load from the cache) and the workers load their own.
    """
    if options.workers <= 1:
        return _serve_here(options, app, sock)
    app.close()
    return _serve_workers(options, sock)


def _serve_here(options: ServeOptions, app: ServeApp, sock: socket.socket) -> int:
    import uvicorn

    server = uvicorn.Server(_uvicorn_config(options, WorkerApp(app, options)))
    with _quiet_signals():
        try:
            server.run(sockets=[sock])
        except SystemExit as exc:  # uvicorn exits when the lifespan startup fails
            return exc.code if isinstance(exc.code, int) else STARTUP_FAILURE
        finally:
            sock.close()
    return 0


def _serve_workers(options: ServeOptions, sock: socket.socket) -> int:
    from uvicorn.supervisors import Multiprocess

    from .modules import BUILT

    os.environ[WORKER_ENV] = options.to_json()  # spawned workers inherit these
    os.environ[BUILT_ENV] = json.dumps(BUILT)
    config = _uvicorn_config(options, f"{__name__}:worker_app")
    config.workers = options.workers
    supervisor = Multiprocess(config, sockets=[sock])
    try:
        supervisor.run()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(
                sig, signal.SIG_DFL if sig != signal.SIGINT else signal.default_int_handler
            )
        sock.close()
    failed = any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes)
    return STARTUP_FAILURE if failed else 0


# Connections per worker, at most; descriptors kept for everything else.
MAX_CONNECTIONS = 4096
MIN_CONNECTIONS = 16
SPARE_FILES = 128


def _uvicorn_config(options: ServeOptions, app: Any) -> Any:
    import uvicorn

    return uvicorn.Config(
        app,
        factory=isinstance(app, str),
        lifespan="on",
        log_config=logging_config(options.log_level, access_log=options.access_log),
        log_level=options.log_level,
        access_log=False,  # the app logs each request itself, with its route and id
        server_header=False,
        timeout_graceful_shutdown=None,  # in-flight requests always finish
        # Connections past what the file descriptors allow get a 503, instead of an
        # accept loop failing with "Too many open files" (slow or idle clients).
        limit_concurrency=connection_limit(),
    )


def connection_limit() -> int:
    """How many connections (and requests) a worker holds at once.

    The soft limit on open files is raised to the hard one first; some
    descriptors stay free for modules, the compile cache, logs and stores.
    """
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = MAX_CONNECTIONS + SPARE_FILES
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(MIN_CONNECTIONS, min(MAX_CONNECTIONS, soft - SPARE_FILES))


def logging_config(level: str = "info", *, access_log: bool = True) -> dict[str, Any]:
    """uvicorn's logging setup, all on stderr (stdout carries results), plus the
    ``wasmbridge`` loggers: ``wasmbridge.serve`` (server, routes, guests) and
    ``wasmbridge.serve.access`` (one line per request)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    level = level.upper()
    config["loggers"]["wasmbridge"] = {"handlers": ["default"], "level": level, "propagate": False}
    config["loggers"]["wasmbridge.serve.access"] = {"level": level if access_log else "WARNING"}
    return config


@contextlib.contextmanager
def loading_log(level: str = "info") -> Iterator[None]:
    """Show the ``wasmbridge`` log (build steps) on stderr while the app loads; uvicorn's
    logging setup takes over when serving starts. Undone on exit, so a caller that
    loads in-process (a test) keeps its own logging."""
    from uvicorn.logging import DefaultFormatter

    logger = logging.getLogger("wasmbridge")
    handler = logging.StreamHandler()  # sys.stderr, as it is now
    handler.setFormatter(DefaultFormatter("%(levelprefix)s %(message)s", use_colors=None))
    before = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.level, logger.propagate = before


@contextlib.contextmanager
def _quiet_signals() -> Iterator[None]:
    """uvicorn re-raises the signal that stopped it; after a clean stop, ignore it once."""
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def worker_app() -> WorkerApp:
    """The app of one spawned worker (a uvicorn factory), from the options in ``WORKER_ENV``."""
    from .modules import take_built

    options = ServeOptions.from_json(os.environ[WORKER_ENV])
    take_built({k: (v[0], v[1]) for k, v in json.loads(os.environ.get(BUILT_ENV, "{}")).items()})
    return WorkerApp(load_app(options), options)


class WorkerApp:
    """The ASGI app one worker runs: ``ServeApp`` plus, over the lifespan, the watcher.

    Startup starts polling the app's files (``--watch``); shutdown stops it
    and closes the app once uvicorn has finished every in-flight request.
    """

    def __init__(self, app: ServeApp, options: ServeOptions) -> None:
        self.app = app
        self.options = options
        self.watcher: Watcher | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.get_running_loop().run_in_executor(None, self.stop)
                await send({"type": "lifespan.shutdown.complete"})
                return

    def start(self) -> None:
        if self.options.watch and self.watcher is None:
            from .watch import Watcher

            self.watcher = Watcher(self.app)
            self.watcher.start()

    def stop(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
        self.app.close()
