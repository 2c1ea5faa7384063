"""Building the use-case examples once, and running one check module in Node and Chromium.

A check module (``tests/usecases/NAME_check.mjs``) exports
``async function run(kernel, input)``: ``kernel`` is the example's generated ES
module, initialised; ``input`` is JSON the test wrote (bytes as base64); it
returns JSON. The same module runs in Node (``run_node``) and in headless
Chromium (``ChromiumChecks.run``), so the test compares both hosts' answers with
the Python reference in the same way.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from build_helpers import run_cli
from web_helpers import CHROMIUM

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
HERE = Path(__file__).resolve().parent
RUN_CHECK = HERE / "run_check.mjs"
# Kept between runs (and between CI's two passes): cargo rebuilds only what changed.
TARGET_DIR = Path(tempfile.gettempdir()) / "wasmbridge-usecases-target"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text)


def build_example(name: str, out: Path, *flags: str) -> Path:
    """``examples/NAME`` built with ``--profile speed --target all`` into ``out``:
    the path of ``out/NAME.wasm`` (glue for Python, the web and Node beside it)."""
    previous = os.environ.get("CARGO_TARGET_DIR")
    os.environ["CARGO_TARGET_DIR"] = str(TARGET_DIR / name)
    try:
        result = run_cli(
            "build", str(EXAMPLES / name), "--profile", "speed", "--target", "all",
            "--out-dir", str(out), *flags,
        )  # fmt: skip
    finally:
        if previous is None:
            del os.environ["CARGO_TARGET_DIR"]
        else:
            os.environ["CARGO_TARGET_DIR"] = previous
    assert result.code == 0, f"building examples/{name} failed:\n{result.err}"
    wasm = out / f"{name}.wasm"
    assert wasm.is_file(), f"examples/{name} built no {wasm.name}: {result.out}"
    return wasm


def run_node(check: Path, pkg: Path, name: str, payload: Any, timeout: float = 180) -> Any:
    """What ``check``'s ``run(kernel, payload)`` returns in Node, with ``pkg/NAME.js``."""
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "input.json"
        source.write_text(json.dumps(payload))
        done = subprocess.run(
            ["node", str(RUN_CHECK), str(check), str(pkg / f"{name}.js"), str(source)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    assert done.returncode == 0, f"node {check.name} failed:\n{done.stderr[-4000:]}"
    return json.loads(done.stdout)


class ChromiumChecks:
    """One headless Chromium (Debian's, through Playwright) and a loopback server of a
    scratch directory; ``run`` copies a package and a check module there and runs it."""

    def __init__(self, context: Any, root: Path, url: str) -> None:
        self._context = context
        self._root = root
        self._url = url
        self.console: list[str] = []

    def run(
        self, check: Path, pkg: Path, name: str, payload: Any, timeout_ms: int = 180_000
    ) -> Any:
        """What ``check``'s ``run(kernel, payload)`` returns in a new page."""
        site = self._root / name
        if not site.exists():
            site.mkdir()
            for suffix in (".js", ".wasm"):
                shutil.copy(pkg / f"{name}{suffix}", site)
        shutil.copy(check, site / check.name)
        page = self._context.new_page()
        page.on("console", lambda message: self.console.append(message.text))
        try:
            page.goto(f"{self._url}/{name}/")  # the package's directory: same origin
            page.set_default_timeout(timeout_ms)
            return page.evaluate(
                """async ([glue, check, payload]) => {
                    const kernel = await import(glue);
                    await kernel.default();
                    const module = await import(check);
                    return await module.run(kernel, payload);
                }""",
                [f"/{name}/{name}.js", f"/{name}/{check.name}", payload],
            )
        finally:
            page.close()


@contextmanager
def chromium_checks(root: Path) -> Iterator[ChromiumChecks]:
    """A ``ChromiumChecks`` serving ``root`` (made empty by the caller)."""
    from playwright.sync_api import sync_playwright

    handler = functools.partial(_QuietFiles, directory=str(root))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
                )
                try:
                    yield ChromiumChecks(browser.new_context(), root, url)
                finally:
                    browser.close()
        finally:
            server.shutdown()
            thread.join()


class _QuietFiles(SimpleHTTPRequestHandler):
    """Static files with the types a browser insists on for modules and wasm; no log."""

    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
        ".json": "application/json",
    }

    def log_message(self, format: str, *args: Any) -> None:
        pass
