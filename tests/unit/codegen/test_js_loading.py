"""How the glue finds and fetches its .wasm (codegen/_js_loading.py), run in Node.

A loopback server plays the answers users meet: a dev server's HTML page for a
missing file, Vite's dev server before Vite 8 (the glue pre-bundled into
node_modules/.vite/deps/, the .wasm left in the package), Vite refusing a file
outside the app. The real bundlers and Chromium are in tests/bundlers.
"""

from __future__ import annotations

import http.server
import json
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from build_helpers import Func, wasm_module
from wasmbridge.codegen.js import emit_js
from wasmbridge.codegen.package_json import web_package
from wasmbridge.interface import parse

pytestmark = pytest.mark.node

WASM = wasm_module([Func("add", ("i32", "i32"), ("i32",))])
PAGE = b"<!doctype html><title>app</title>"
Routes = dict[str, tuple[int, str, bytes]]  # path -> status, Content-Type, body

RUN = """\
const glue = await import(process.argv[1]);
const input = process.argv[2];
try {
  await glue.default(input ? new URL(input) : undefined);
  console.log(JSON.stringify({ sum: glue.add(2, 3) }));
} catch (error) {
  console.log(JSON.stringify({ error: error.message }));
}
"""


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: Routes = {}

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        status, content_type, body = self.routes.get(self.path, (404, "text/plain", b"no"))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, Routes]]:
    """A loopback server answering each path as its routes say (404 otherwise)."""
    routes: Routes = {}
    handler = type("Handler", (_Handler,), {"routes": routes})
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as httpd:
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{httpd.server_address[1]}", routes
        httpd.shutdown()
        thread.join()


def _init(node: None, tmp_path: Path, url: str = "", *, prelude: str = "") -> dict[str, Any]:
    """Node imports the glue of a module ``add`` (package "plain") and calls init(url)."""
    glue = tmp_path / "plain.js"
    glue.write_text(emit_js("plain", "plain.wasm", None, parse(WASM)), encoding="utf-8")
    proc = subprocess.run(
        ["node", "--input-type=module", "-e", prelude + RUN, glue.as_uri(), url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def test_an_html_page_for_the_wasm_names_what_to_serve(
    node: None, tmp_path: Path, server: tuple[str, Routes]
) -> None:
    base, routes = server
    routes["/app/plain.wasm"] = (200, "text/html; charset=utf-8", PAGE)
    assert _init(node, tmp_path, f"{base}/app/plain.wasm") == {
        "error": f"plain.wasm: {base}/app/plain.wasm answered with an HTML page, not WebAssembly: "
        "serve plain.wasm at that URL (`wasmbridge build` writes it beside the .js; a bundler "
        "that does not copy it, such as esbuild, needs it copied beside its output) or pass "
        "init() the URL where it is"
    }


def test_other_bytes_than_webassembly_are_refused_before_compiling(
    node: None, tmp_path: Path, server: tuple[str, Routes]
) -> None:
    base, routes = server
    routes["/plain.wasm"] = (200, "application/octet-stream", PAGE)
    error = _init(node, tmp_path, f"{base}/plain.wasm")["error"]
    assert error.startswith(
        f'plain.wasm: {base}/plain.wasm answered with "application/octet-stream" bytes starting '
        "3c 21 64 6f, not WebAssembly: serve plain.wasm at that URL"
    )


def test_a_wasm_left_behind_by_vites_prebundling_is_loaded_from_the_package(
    node: None, tmp_path: Path, server: tuple[str, Routes]
) -> None:
    base, routes = server
    routes["/node_modules/.vite/deps/plain.wasm"] = (200, "text/html", PAGE)
    routes["/node_modules/plain/plain.wasm"] = (200, "application/wasm", WASM)
    assert _init(node, tmp_path, f"{base}/node_modules/.vite/deps/plain.wasm") == {"sum": 0}


def test_a_package_vite_prebundled_elsewhere_names_optimize_deps(
    node: None, tmp_path: Path, server: tuple[str, Routes]
) -> None:
    base, routes = server
    routes["/base/node_modules/.vite/deps/plain.wasm"] = (200, "text/html", PAGE)
    assert _init(node, tmp_path, f"{base}/base/node_modules/.vite/deps/plain.wasm") == {
        "error": f"plain.wasm: {base}/base/node_modules/plain/plain.wasm answered 404 Not Found: "
        'Vite\'s dev server pre-bundled "plain" without its .wasm; '
        'add optimizeDeps: { exclude: ["plain"] } to vite.config.js'
    }


def test_a_file_vite_refuses_names_the_directory_to_allow(
    node: None, tmp_path: Path, server: tuple[str, Routes]
) -> None:
    base, routes = server
    routes["/@fs/home/me/my%20crate/pkg/plain.wasm"] = (403, "text/plain", b"")
    assert _init(node, tmp_path, f"{base}/@fs/home/me/my%20crate/pkg/plain.wasm") == {
        "error": f"plain.wasm: {base}/@fs/home/me/my%20crate/pkg/plain.wasm answered 403 "
        "Forbidden: Vite's dev server serves no file outside the app unless allowed; "
        'add server: { fs: { allow: [".", "/home/me/my crate/pkg"] } } to vite.config.js'
    }


def test_node_reads_the_wasm_beside_the_glue_without_importing_a_node_module(
    node: None, tmp_path: Path
) -> None:
    (tmp_path / "plain.wasm").write_bytes(WASM)
    assert _init(node, tmp_path) == {"sum": 0}
    glue = (tmp_path / "plain.js").read_text()
    # Bundlers building for browsers see no Node module to stub (Vite warned on each build).
    assert re.findall(r"^\s*import\b|\bimport\s*\(|\bfrom\s+[\"']|\brequire\s*\(", glue, re.M) == []
    assert [line.strip() for line in glue.splitlines() if "node:" in line] == [
        'const fs = globalThis.process?.getBuiltinModule?.("node:fs/promises");'
    ]


def test_node_without_get_builtin_module_says_what_reads_a_file_url(
    node: None, tmp_path: Path
) -> None:
    (tmp_path / "plain.wasm").write_bytes(WASM)
    older_node = "delete process.getBuiltinModule;\n"
    wasm_url = (tmp_path / "plain.wasm").as_uri()
    assert _init(node, tmp_path, prelude=older_node) == {
        "error": f"plain.wasm: cannot load {wasm_url}: only Node 20.16 or later reads file: "
        "URLs; serve the file over HTTP or pass its bytes"
    }


def test_the_package_name_in_the_glue_is_the_npm_name(tmp_path: Path) -> None:
    manifest = tmp_path / "Cargo.toml"
    manifest.write_text('[package]\nname = "My_Crate"\nversion = "1.0.0"\n', encoding="utf-8")
    files = web_package("my_crate", "my_crate.wasm", None, parse(WASM), manifest=manifest)
    assert 'const PACKAGE = "my_crate"; // its npm package' in files["my_crate.js"].splitlines()
    assert json.loads(files["package.json"])["name"] == "my_crate"
