"""A real redis-server for tests: started on a free loopback port, stopped after.

```python
with redis_server() as server:      # or the `redis_url` fixture of a conftest
    client = redis.Redis.from_url(server.url)
```

The server runs in a temporary folder with persistence off (no RDB, no AOF),
so nothing outlives it. Without /usr/bin/redis-server the test is skipped,
or fails under WASMBRIDGE_REQUIRE_ALL=1 (``build_helpers.require``).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from build_helpers import require

REDIS_SERVER = "/usr/bin/redis-server"
_START_ATTEMPTS = 3  # a free port can be taken between picking it and binding it


@dataclass(frozen=True)
class RedisServer:
    """A running redis-server: its port, ``redis://`` URL and folder."""

    host: str
    port: int
    folder: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def url_for(self, db: int) -> str:
        return f"redis://{self.host}:{self.port}/{db}"


def redis_server_problem() -> str | None:
    """Why no redis-server can run here, or None."""
    if not Path(REDIS_SERVER).is_file() and shutil.which("redis-server") is None:
        return "no redis-server (sudo apt-get install redis-server)"
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def redis_server(*, ready_within: float = 20.0) -> Iterator[RedisServer]:
    """Start redis-server on a free port in a temporary folder; stop it on exit."""
    require(redis_server_problem())
    binary = REDIS_SERVER if Path(REDIS_SERVER).is_file() else str(shutil.which("redis-server"))
    with tempfile.TemporaryDirectory(prefix="wb-redis-") as folder:
        server = _start(binary, Path(folder), ready_within)
        try:
            yield server
        finally:
            _stop(server.process)


def _start(binary: str, folder: Path, ready_within: float) -> RedisServer:
    problems: list[str] = []
    for _ in range(_START_ATTEMPTS):
        port = free_port()
        log = folder / f"redis-{port}.log"
        process = subprocess.Popen(
            [binary, *_options(port, folder, log)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if _answers(port, process, ready_within):
            return RedisServer("127.0.0.1", port, folder, process)
        _stop(process)
        text = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
        problems.append(f"port {port}: {text.strip()}")
    raise RuntimeError("redis-server did not start:\n" + "\n".join(problems))


def _options(port: int, folder: Path, log: Path) -> list[str]:
    """Loopback only, no persistence, logging to ``log``."""
    options = {
        "bind": "127.0.0.1",
        "port": str(port),
        "dir": str(folder),
        "save": "",
        "appendonly": "no",
        "protected-mode": "yes",
        "daemonize": "no",
        "logfile": str(log),
    }
    return [part for key, value in options.items() for part in (f"--{key}", value)]


def _answers(port: int, process: subprocess.Popen[bytes], within: float) -> bool:
    """Poll with PING until the server answers PONG, exits, or ``within`` runs out."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with contextlib.suppress(OSError):
            with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(64).startswith(b"+PONG"):
                    return True
        time.sleep(0.02)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
