"""Real bundlers build an app on a built package; Debian's Chromium runs what they made.

The app (tests/bundlers/app) imports the `types` fixture's package installed as users
install one: from the tarball `npm pack` makes, or as a `file:` dependency on the built
pkg/. Vite's dev server and its build + preview (Vite 8 and Vite 7), webpack 5 and
esbuild each serve or build it on 127.0.0.1; the page must compute add(5, 7) and a text
round trip and log no error. Where a bundler needs a setting, the glue's error names it,
and the test applies exactly what the error says. The bundlers are the versions
tests/bundlers/package-lock.json pins, installed once outside the checkout by
tests/bundlers/install (scripts/setup --test runs it).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from build_helpers import require
from web_helpers import CHROMIUM, browser_problem, node_problem

pytestmark = [pytest.mark.browser, pytest.mark.node, pytest.mark.toolchain]

HERE = Path(__file__).parent
APP = HERE / "app"
HOST = "127.0.0.1"
EXPECTED = {"sum": 12, "echoed": "héllo, wörld ✓"}
VITES = {"vite8": "vite", "vite7": "vite7"}  # test id -> package in tests/bundlers/package.json
WebPkg = Callable[[str], Path]


# -- the bundlers, the package, the apps --------------------------------------------------


@dataclass(frozen=True)
class Tools:
    """The installed bundlers (tests/bundlers/install)."""

    root: Path

    def vite(self, version: str, *args: str) -> list[str]:
        return ["node", str(self.root / "node_modules" / VITES[version] / "bin" / "vite.js"), *args]

    def bin(self, name: str, *args: str) -> list[str]:
        return [str(self.root / "node_modules" / ".bin" / name), *args]


def _node_version_problem() -> str | None:
    if problem := node_problem():
        return problem
    if shutil.which("npm") is None:
        return "npm is not installed (Node.js 20.19 or later with npm)"
    version = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout
    major, minor = (int(part) for part in version.lstrip("v").split(".")[:2])
    return (
        None if (major, minor) >= (20, 19) else f"Vite 8 needs Node 20.19 or later, not {version}"
    )


@pytest.fixture(scope="session")
def tools() -> Tools:
    require(_node_version_problem())
    require(browser_problem())
    done = subprocess.run(
        [str(HERE / "install")], capture_output=True, text=True, timeout=900, check=False
    )
    require(None if done.returncode == 0 else f"tests/bundlers/install failed:\n{done.stderr}")
    return Tools(Path(done.stdout.strip()))


def _npm(cwd: Path, *args: str) -> None:
    done = subprocess.run(
        ["npm", *args, "--no-audit", "--no-fund", "--ignore-scripts"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def pkg(web_pkg: WebPkg) -> Path:
    """The built pkg/ of the `types` fixture (what a `file:` dependency points at)."""
    return web_pkg("types").resolve()


@pytest.fixture(scope="module")
def tarball(pkg: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``npm pack`` of the built package, as it would be published."""
    out = tmp_path_factory.mktemp("tarball")
    _npm(pkg, "pack", "--pack-destination", str(out))
    (packed,) = out.glob("*.tgz")
    return packed


def _app(root: Path, dependency: str) -> Path:
    shutil.copytree(APP, root, dirs_exist_ok=True)
    package = {"name": "app", "private": True, "type": "module"}
    (root / "package.json").write_text(json.dumps(package), encoding="utf-8")
    _npm(root, "install", dependency)
    return root


@pytest.fixture(scope="module")
def apps(tarball: Path, pkg: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The app with the package installed from its tarball, and as a ``file:`` dependency."""
    return {
        "tarball": _app(tmp_path_factory.mktemp("app-tarball"), str(tarball)),
        "file": _app(tmp_path_factory.mktemp("app-file"), str(pkg)),
    }


@pytest.fixture(scope="module")
def workspace(tarball: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An npm workspace: the package is hoisted to its node_modules/, outside the app."""
    root = tmp_path_factory.mktemp("workspace")
    workspace = {"name": "workspace", "private": True, "workspaces": ["app"]}
    (root / "package.json").write_text(json.dumps(workspace), encoding="utf-8")
    app = root / "app"
    shutil.copytree(APP, app)
    package = {"name": "app", "private": True, "dependencies": {"types": f"file:{tarball}"}}
    (app / "package.json").write_text(json.dumps(package), encoding="utf-8")
    _npm(root, "install")
    assert (root / "node_modules" / "types" / "types.wasm").is_file()
    assert not (app / "node_modules" / "types").exists()
    return app


# -- servers and the browser ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextmanager
def _server(command: list[str], cwd: Path) -> Iterator[str]:
    """``command`` (a dev or preview server given ``--port PORT``) until the test ends."""
    port = _free_port()
    url = f"http://{HOST}:{port}/"
    log = cwd / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--port", str(port), "--strictPort", "--host", HOST],
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stopped with its children
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text(errors="replace")
            try:
                with urllib.request.urlopen(url, timeout=5):
                    break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, log.read_text(errors="replace")
                time.sleep(0.2)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class _Static(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
        ".js": "text/javascript",
    }

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        pass


@contextmanager
def _static(directory: Path) -> Iterator[str]:
    """A plain static server for a bundler's output (.wasm as application/wasm)."""
    handler = functools.partial(_Static, directory=str(directory))
    with http.server.ThreadingHTTPServer((HOST, 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://{HOST}:{server.server_address[1]}/"
        finally:
            server.shutdown()
            thread.join()


@dataclass
class Visit:
    """What a page showed: ``window.result``, every request, and everything that went wrong."""

    result: dict[str, Any]
    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def visit() -> Iterator[Callable[[str], Visit]]:
    require(browser_problem())
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
        )

        def open_page(url: str) -> Visit:
            page = browser.new_page()
            seen = Visit({})
            page.on("request", lambda request: seen.requests.append(request.url))
            page.on(
                "console",
                lambda message: (
                    seen.problems.append(f"console {message.type}: {message.text}")
                    if message.type in ("error", "warning")
                    else None
                ),
            )
            page.on("pageerror", lambda error: seen.problems.append(f"page error: {error}"))
            page.on(
                "response",
                lambda response: (
                    seen.problems.append(f"{response.status} {response.url}")
                    if response.status >= 400
                    else None
                ),
            )
            try:
                page.goto(url)
                page.wait_for_function("window.result !== undefined", timeout=60_000)
                seen.result = page.evaluate("window.result")
            finally:
                page.close()
            return seen

        try:
            yield open_page
        finally:
            browser.close()


def _fix_in(error: str) -> str:
    """The vite.config.js setting an error names: ``... add SETTING to vite.config.js``."""
    found = re.search(r"; add (.+) to vite\.config\.js$", error)
    assert found, error
    return found.group(1)


def _config(app: Path, setting: str) -> Path:
    config = app / "vite.fixed.config.js"
    config.write_text(f"export default {{ {setting} }};\n", encoding="utf-8")
    return config


# -- Vite's dev server -------------------------------------------------------------------


@pytest.mark.parametrize("version", VITES)
def test_vite_dev_server_runs_a_package_installed_from_its_tarball(
    tools: Tools, apps: dict[str, Path], visit: Callable[[str], Visit], version: str
) -> None:
    # Vite pre-bundles the glue into node_modules/.vite/deps/; Vite 7 leaves the .wasm
    # behind, and the glue then loads the package's own copy.
    with _server(tools.vite(version, "--force"), apps["tarball"]) as url:
        seen = visit(url)
    assert seen.result == EXPECTED
    assert seen.problems == []
    wasm = [request for request in seen.requests if request.endswith(".wasm")]
    missed = [f"{url}node_modules/.vite/deps/types.wasm"] if version == "vite7" else []
    assert wasm == [*missed, f"{url}node_modules/types/types.wasm"]
    assert any("/node_modules/.vite/deps/types.js" in r for r in seen.requests), seen.requests


@pytest.mark.parametrize("version", VITES)
def test_vite_dev_server_names_the_fs_allow_setting_for_a_file_dependency(
    tools: Tools,
    apps: dict[str, Path],
    pkg: Path,
    visit: Callable[[str], Visit],
    version: str,
) -> None:
    app = apps["file"]
    with _server(tools.vite(version, "--force"), app) as url:
        refused = visit(url)
    assert refused.result == {
        "error": f"Error: types.wasm: {url}@fs{pkg}/types.wasm answered 403 Forbidden: "
        "Vite's dev server serves no file outside the app unless allowed; "
        f'add server: {{ fs: {{ allow: [".", "{pkg}"] }} }} to vite.config.js'
    }
    config = _config(app, _fix_in(refused.result["error"]))
    with _server(tools.vite(version, "--force", "--config", str(config)), app) as url:
        seen = visit(url)
    assert seen.result == EXPECTED
    assert seen.problems == []


def test_vite7_dev_server_in_a_workspace_names_the_optimize_deps_setting(
    tools: Tools, workspace: Path, visit: Callable[[str], Visit]
) -> None:
    # Hoisted out of the app, the package is not where the glue looks for its .wasm.
    with _server(tools.vite("vite7", "--force"), workspace) as url:
        missed = visit(url)
    assert missed.result == {
        "error": f"Error: types.wasm: {url}node_modules/types/types.wasm answered with an "
        'HTML page: Vite\'s dev server pre-bundled "types" without its .wasm; '
        'add optimizeDeps: { exclude: ["types"] } to vite.config.js'
    }
    config = _config(workspace, _fix_in(missed.result["error"]))
    with _server(tools.vite("vite7", "--force", "--config", str(config)), workspace) as url:
        seen = visit(url)
    assert seen.result == EXPECTED
    assert seen.problems == []


def test_vite8_dev_server_in_a_workspace_needs_no_setting(
    tools: Tools, workspace: Path, visit: Callable[[str], Visit]
) -> None:
    with _server(tools.vite("vite8", "--force"), workspace) as url:
        seen = visit(url)
    assert seen.result == EXPECTED
    assert seen.problems == []


# -- builds -------------------------------------------------------------------------------


def _run(command: list[str], cwd: Path) -> str:
    done = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


@pytest.mark.parametrize("install", ["tarball", "file"])
@pytest.mark.parametrize("version", VITES)
def test_vite_build_and_preview_without_warnings(
    tools: Tools,
    apps: dict[str, Path],
    visit: Callable[[str], Visit],
    version: str,
    install: str,
) -> None:
    app, out = apps[install], f"dist-{version}"
    log = _run(tools.vite(version, "build", "--outDir", out, "--emptyOutDir"), app)
    assert "externalized" not in log and "warn" not in log.lower(), log
    assets = sorted(path.name for path in (app / out / "assets").iterdir())
    assert [name.split("-")[0] for name in assets] == ["index", "types"], assets
    with _server(tools.vite(version, "preview", "--outDir", out), app) as url:
        seen = visit(url)
    assert seen.result == EXPECTED
    assert seen.problems == []


@pytest.mark.parametrize("install", ["tarball", "file"])
def test_webpack_emits_the_wasm_and_the_page_loads_it(
    tools: Tools, apps: dict[str, Path], visit: Callable[[str], Visit], install: str
) -> None:
    app = apps[install]
    log = _run(tools.bin("webpack", "--config", "webpack.config.mjs"), app)
    assert "compiled successfully" in log and "WARNING" not in log, log
    out = app / "dist-webpack"
    assert len(list(out.glob("*.wasm"))) == 1, log
    shutil.copy(app / "webpack.html", out / "index.html")
    with _static(out) as url:
        seen = visit(url)
    assert seen.result == EXPECTED
    assert seen.problems == []


def _esbuild(tools: Tools, app: Path, entry: str, out: str, *flags: str) -> Path:
    outdir = app / out
    shutil.rmtree(outdir, ignore_errors=True)
    log = _run(
        tools.bin("esbuild", entry, "--bundle", "--format=esm", f"--outfile={out}/main.js", *flags),
        app,
    )
    assert "warning" not in log.lower(), log
    shutil.copy(app / "esbuild.html", outdir / "index.html")
    return outdir


@pytest.mark.parametrize("install", ["tarball", "file"])
def test_esbuild_with_the_wasm_copied_beside_the_bundle(
    tools: Tools, apps: dict[str, Path], visit: Callable[[str], Visit], install: str
) -> None:
    app = apps[install]
    out = _esbuild(tools, app, "src/main.js", "dist-esbuild")
    shutil.copy(app / "node_modules" / "types" / "types.wasm", out)  # docs/web.md: esbuild
    with _static(out) as url:
        seen = visit(url)
    assert seen.result == EXPECTED
    assert seen.problems == []


@pytest.mark.parametrize("install", ["tarball", "file"])
def test_esbuild_file_loader_gives_init_the_wasm_url(
    tools: Tools, apps: dict[str, Path], visit: Callable[[str], Visit], install: str
) -> None:
    out = _esbuild(
        tools, apps[install], "src/main-wasm-url.js", "dist-esbuild-url", "--loader:.wasm=file"
    )
    assert [path.suffix for path in out.glob("types-*")] == [".wasm"]
    with _static(out) as url:
        seen = visit(url)
    assert seen.result == EXPECTED
    assert seen.problems == []


def test_esbuild_without_the_wasm_names_what_to_do(
    tools: Tools, apps: dict[str, Path], visit: Callable[[str], Visit]
) -> None:
    out = _esbuild(tools, apps["tarball"], "src/main.js", "dist-esbuild-bare")
    with _static(out) as url:
        seen = visit(url)
    assert seen.result == {
        "error": f"Error: types.wasm: {url}types.wasm answered 404 File not found, not "
        "WebAssembly: serve types.wasm at that URL (`wasmbridge build` writes it beside the "
        ".js; a bundler that does not copy it, such as esbuild, needs it copied beside its "
        "output) or pass init() the URL where it is"
    }
