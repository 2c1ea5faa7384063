"""End-to-end helpers: `wasmbridge serve` as a subprocess, and a loopback HTTP server
that records its connections and can hold a response until the test releases it.

```python
with ServeProcess(manifest) as server:      # port 0: the URL is read from stdout
    assert server.get("/healthz").text == "ok"
    assert server.stop() == 0               # SIGTERM, then the exit code
```
"""

from __future__ import annotations

import atexit
import http.server
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
START_SECONDS = 300.0  # a first start may build crates
STOP_SECONDS = 60.0


class ServeProcess:
    """``wasmbridge serve MANIFEST --listen 127.0.0.1:0 ARGS`` with its output in files."""

    def __init__(
        self,
        manifest: Path | None,
        *args: str,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        listen: str = "127.0.0.1:0",
    ) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="wasmbridge-serve-"))
        atexit.register(shutil.rmtree, self.folder, True)  # the output stays readable until then
        argv = [sys.executable, "-m", "wasmbridge", "--color", "never", "serve"]
        argv += [str(manifest)] if manifest is not None else []
        self.argv = [*argv, "--listen", listen, *args]
        self.cwd = cwd
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> ServeProcess:
        with (self.folder / "stdout").open("wb") as out, (self.folder / "stderr").open("wb") as err:
            self.process = subprocess.Popen(
                self.argv, stdout=out, stderr=err, cwd=self.cwd, env=self.env
            )
        return self

    def wait_ready(self) -> ServeProcess:
        """Wait for the URL on stdout and a 200 from /healthz; fail with stderr if it exits."""
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            self._check_alive()
            if not self.url:
                self.url = self.stdout.strip().splitlines()[0] if self.stdout.strip() else ""
            if self.url:
                try:
                    if httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
            time.sleep(0.05)
        raise AssertionError(f"server not ready in {START_SECONDS} s:\n{self.stderr}")

    def wait(self) -> int:
        """The exit code, once the process ends by itself."""
        assert self.process is not None
        return self.process.wait(timeout=START_SECONDS)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send ``sig`` and wait for the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=STOP_SECONDS)

    def __enter__(self) -> ServeProcess:
        return self.start().wait_ready()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def _check_alive(self) -> None:
        assert self.process is not None
        code = self.process.poll()
        if code is not None:
            raise AssertionError(f"wasmbridge serve exited with {code}:\n{self.stderr}")

    # -- output and requests --------------------------------------------------------------

    @property
    def stdout(self) -> str:
        return (self.folder / "stdout").read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return (self.folder / "stderr").read_text(errors="replace")

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", timeout=60, **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, f"{self.url}{path}", timeout=60, **kwargs)


def run_serve(
    manifest: Path, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``wasmbridge serve`` expected to exit by itself (a start error); its output."""
    argv = [sys.executable, "-m", "wasmbridge", "--color", "never", "serve", str(manifest), *args]
    return subprocess.run(
        argv, capture_output=True, text=True, cwd=cwd, timeout=START_SECONDS, check=False
    )


def wait_for(predicate: Any, what: str, seconds: float = 120.0) -> None:
    """Poll ``predicate()`` until true (a deadline only against hangs, not a timing)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def write_manifest(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "wasmbridge.toml"
    manifest.write_text(text, encoding="utf-8")
    return manifest


def toml_path(path: Path) -> str:
    """A path as a TOML literal string."""
    return "'" + str(path) + "'"


# -- a loopback HTTP server the handlers call ----------------------------------------------


class Upstream:
    """A threaded HTTP server on 127.0.0.1: ``/hold`` answers only after ``release()``,
    anything else answers ``upstream PATH`` at once; ``connections`` counts accepted ones."""

    def __init__(self) -> None:
        self.connections = 0
        self.paths: list[str] = []
        self.held = threading.Event()  # a /hold request has arrived
        self._release = threading.Event()
        upstream = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                upstream.paths.append(self.path)
                if self.path == "/hold":
                    upstream.held.set()
                    upstream._release.wait(STOP_SECONDS)
                body = f"upstream {self.path}".encode()
                self.send_response(200)
                self.send_header("content-type", "text/plain")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self) -> Any:
                request = super().get_request()
                upstream.connections += 1
                return request

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.origin = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def release(self) -> None:
        self._release.set()

    def __enter__(self) -> Upstream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()


def copy_tree(
    source: Path, target: Path, skip: Sequence[str] = ("target", "pkg", ".wasmbridge")
) -> Path:
    """Copy an examples folder without build output or state."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(*skip, "*.wasm"))
    return target
