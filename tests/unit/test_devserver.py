"""`wasmbridge serve-pkg`: the loopback server for a built pkg/ (devserver.py)."""

from __future__ import annotations

import socket
import threading
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from build_helpers import CliResult, Func, wasm_module
from wasmbridge.codegen.package_json import web_package
from wasmbridge.devserver import PackageServer
from wasmbridge.interface import parse

Cli = Callable[..., CliResult]


@pytest.fixture
def pkg(tmp_path: Path) -> Path:
    data = wasm_module([Func("add", ("i32", "i32"), ("i32",))])
    (tmp_path / "plain.wasm").write_bytes(data)
    for name, text in web_package("plain", "plain.wasm", None, parse(data)).items():
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.fixture
def server(pkg: Path) -> Iterator[PackageServer]:
    with PackageServer(pkg, port=0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield server
        server.shutdown()
        thread.join()


def _get(url: str) -> tuple[str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
        return response.headers["Content-Type"], response.read()


def test_serves_wasm_as_application_wasm_and_js_as_javascript(
    server: PackageServer, pkg: Path
) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    wasm = (pkg / "plain.wasm").read_bytes()
    assert _get(server.url + "plain.wasm") == ("application/wasm", wasm)
    assert _get(server.url + "plain.js")[0] == "text/javascript"


def test_demo_page_imports_the_glue_and_lists_the_exports(server: PackageServer) -> None:
    content_type, page = _get(server.url)
    assert content_type == "text/html; charset=utf-8"
    text = page.decode()
    assert 'import init, * as plain from "./plain.js";' in text
    assert "<code>add(p0: i32, p1: i32) -&gt; i32</code>" in text


def test_a_directory_without_glue_is_an_error_naming_the_fix(cli: Cli, tmp_path: Path) -> None:
    result = cli("serve-pkg", str(tmp_path))
    assert result.code == 1
    assert result.err == (
        f"error: {tmp_path} holds no NAME.wasm with its NAME.js glue\n"
        "  hint:  `wasmbridge build --target web` writes both into pkg/\n"
    )


def test_a_port_in_use_exits_3(cli: Cli, pkg: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("serve-pkg", str(pkg), "--port", str(port))
    assert result.code == 3
    assert result.err.startswith(f"error: cannot serve {pkg} on 127.0.0.1:{port}: ")
