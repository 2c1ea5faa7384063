"""``wasmbridge serve-pkg``: try a built ``pkg/`` in a browser, over loopback.

Browsers refuse to load ES modules and WebAssembly from ``file://``, and
compile .wasm while downloading only when it is served as
``application/wasm``; Python's ``http.server`` sends the right type only
on recent versions. This is a small static server that does, with a demo
page at ``/`` (codegen/demo_page.py, generated from the module's
interface) that imports the glue and leaves the module in ``window.NAME``
for the console. A development tool: it uses codegen/, nothing uses it.

    server = PackageServer(Path("pkg"), port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.url)                     # http://127.0.0.1:PORT/
"""

from __future__ import annotations

import http.server
from functools import partial
from pathlib import Path
from typing import Any

from .codegen.demo_page import demo_page
from .errors import WasmbridgeError

HOST = "127.0.0.1"
CONTENT_TYPES = {
    ".wasm": "application/wasm",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".cjs": "text/javascript",
    ".json": "application/json",
    ".ts": "text/plain",
    ".html": "text/html",
}


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files with the types browsers need, no caching, a demo page at ``/``."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **CONTENT_TYPES}
    demo_page = b""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path.split("?")[0] in ("/", "/index.html") and self.demo_page:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(self.demo_page)))
            self.end_headers()
            self.wfile.write(self.demo_page)
            return
        super().do_GET()

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        pass  # quiet: the command prints the URL, not every request


class PackageServer(http.server.ThreadingHTTPServer):
    """Serves ``directory`` on 127.0.0.1 (``port`` 0 picks a free one)."""

    daemon_threads = True

    def __init__(self, directory: Path, *, port: int = 8000, page: bytes | None = None) -> None:
        wasm = find_module(directory)
        demo = page if page is not None else demo_page(wasm).encode("utf-8")
        if (directory / "index.html").is_file() and page is None:
            demo = b""  # the package's own page wins
        handler = type("Handler", (_Handler,), {"demo_page": demo})
        super().__init__((HOST, port), partial(handler, directory=str(directory)))
        self.wasm = wasm

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}/"


def find_module(directory: Path) -> Path:
    """The one ``NAME.wasm`` with its ``NAME.js`` in ``directory``."""
    if not directory.is_dir():
        raise WasmbridgeError(
            f"{directory} is not a directory",
            hint="build the crate first: `wasmbridge build` writes pkg/",
        )
    for wasm in sorted(directory.glob("*.wasm")):
        if wasm.with_suffix(".js").is_file():
            return wasm
    raise WasmbridgeError(
        f"{directory} holds no NAME.wasm with its NAME.js glue",
        hint="`wasmbridge build --target web` writes both into pkg/",
    )
