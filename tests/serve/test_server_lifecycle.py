"""The server's life, end to end: outbound allowlist, --watch reloads, SIGTERM, workers,
start errors. `wasmbridge serve` runs as a subprocess on loopback; the slow request
is one whose handler waits on a loopback upstream that answers only when the test
says so, so nothing here depends on timing.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from server_helpers import (
    ServeProcess,
    Upstream,
    run_serve,
    toml_path,
    wait_for,
    write_manifest,
)


@pytest.fixture(scope="session")
def fetch_wasm(build_fixture: Callable[..., Path]) -> Path:
    """tests/fixtures/crates/serve_fetch: /fetch?URL fetches URL; anything else `fetch v1`."""
    return build_fixture("serve_fetch")


def fetch_manifest(folder: Path, module: Path, *origins: str) -> Path:
    hosts = ", ".join(f'"{origin}"' for origin in origins)
    return write_manifest(
        folder,
        f"""name = "fetch"
[[route]]
path = "/..."
module = {toml_path(module)}
allowed_outbound_hosts = [{hosts}]
limits = {{ timeout_ms = 120000 }}
""",
    )


class InFlight:
    """A GET sent on a thread; ``result()`` waits for its response."""

    def __init__(self, url: str) -> None:
        self.response: httpx.Response | BaseException | None = None
        self._thread = threading.Thread(target=self._send, args=(url,), daemon=True)
        self._thread.start()

    def _send(self, url: str) -> None:
        try:
            self.response = httpx.get(url, timeout=120)
        except BaseException as exc:
            self.response = exc

    def result(self) -> httpx.Response:
        self._thread.join(120)
        assert isinstance(self.response, httpx.Response), self.response
        return self.response


def refuses(url: str) -> bool:
    try:
        httpx.get(url, timeout=10)
    except httpx.ConnectError:
        return True
    return False


def test_outbound_http_reaches_allowed_origins_only(fetch_wasm: Path, tmp_path: Path) -> None:
    with Upstream() as allowed, Upstream() as other:
        manifest = fetch_manifest(tmp_path, fetch_wasm, allowed.origin)
        with ServeProcess(manifest) as server:
            ok = server.get(f"/fetch?{allowed.origin}/hello")
            assert (ok.status_code, ok.text) == (200, "fetched 200: upstream /hello")
            denied = server.get(f"/fetch?{other.origin}/secret")
            assert denied.status_code == 403
            assert denied.text.startswith("error NotAllowed: ")
            assert str(other.port) in denied.text
    assert allowed.paths == ["/hello"]
    assert (other.connections, other.paths) == (0, [])


def test_watch_reloads_a_changed_module_while_a_request_is_in_flight(
    fetch_wasm: Path, serve_bridge_wasm: Path, tmp_path: Path
) -> None:
    module = tmp_path / "handler.wasm"
    shutil.copyfile(fetch_wasm, module)
    with Upstream() as upstream:
        manifest = fetch_manifest(tmp_path, module, upstream.origin)
        with ServeProcess(manifest, "--watch") as server:
            assert server.get("/echo").text == "fetch v1"
            slow = InFlight(f"{server.url}/fetch?{upstream.origin}/hold")
            assert upstream.held.wait(60), server.stderr

            replacement = tmp_path / "handler.wasm.new"
            shutil.copyfile(serve_bridge_wasm, replacement)
            os.replace(replacement, module)
            wait_for(lambda: server.get("/echo").text != "fetch v1", "the new module to answer")
            assert server.get("/echo").json()["path"] == "/echo"

            upstream.release()
            reply = slow.result()
            assert (reply.status_code, reply.text) == (200, "fetched 200: upstream /hold")
            assert "reloaded after a change to" in server.stderr


def test_a_failing_reload_keeps_serving_the_old_version(fetch_wasm: Path, tmp_path: Path) -> None:
    module = tmp_path / "handler.wasm"
    shutil.copyfile(fetch_wasm, module)
    manifest = fetch_manifest(tmp_path, module)
    with ServeProcess(manifest, "--watch") as server:
        broken = tmp_path / "handler.wasm.new"
        broken.write_bytes(b"not wasm at all")
        os.replace(broken, module)
        wait_for(lambda: "still serving the previous version" in server.stderr, "the failed reload")
        assert server.get("/anything").text == "fetch v1"

        manifest.write_text(manifest.read_text() + "bogus = 1\n")
        wait_for(lambda: 'unknown key "bogus"' in server.stderr, "the manifest error")
        assert server.get("/anything").text == "fetch v1"


def test_sigterm_lets_the_request_in_flight_finish(fetch_wasm: Path, tmp_path: Path) -> None:
    with Upstream() as upstream:
        manifest = fetch_manifest(tmp_path, fetch_wasm, upstream.origin)
        with ServeProcess(manifest) as server:
            slow = InFlight(f"{server.url}/fetch?{upstream.origin}/hold")
            assert upstream.held.wait(60), server.stderr
            assert server.process is not None
            server.process.send_signal(signal.SIGTERM)
            wait_for(lambda: refuses(f"{server.url}/healthz"), "new connections to be refused")
            assert "Shutting down" in server.stderr
            upstream.release()
            reply = slow.result()
            assert (reply.status_code, reply.text) == (200, "fetched 200: upstream /hold")
            assert server.wait() == 0


def test_two_workers_share_the_port(fetch_wasm: Path, tmp_path: Path) -> None:
    manifest = fetch_manifest(tmp_path, fetch_wasm)
    with ServeProcess(manifest, "--workers", "2") as server:
        wait_for(lambda: server.stderr.count("Application startup complete") == 2, "two workers")
        replies = [server.get(f"/n{i}") for i in range(20)]
        assert {(r.status_code, r.text) for r in replies} == {(200, "fetch v1")}
        assert "(2 workers)" in server.stderr
        assert server.stop() == 0
    assert server.stderr.count("Finished server process") == 2


def test_a_bad_manifest_exits_1_without_a_traceback(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, 'name = "x"\n[[route]]\npath = "/"\nkind = "bridg"\n')
    done = run_serve(manifest, "--listen", "127.0.0.1:0")
    assert done.returncode == 1
    assert done.stdout == ""
    assert f"error: {manifest}:4:8: " in done.stderr
    assert "Traceback" not in done.stderr


def test_a_store_that_cannot_open_at_start_names_its_table(
    fetch_wasm: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be")
    manifest = write_manifest(
        tmp_path,
        f"""name = "x"
[[route]]
path = "/..."
module = {toml_path(fetch_wasm)}
key_value_stores = ["s"]

[kv.s]
path = "not-a-folder/kv.sqlite"
""",
    )
    done = run_serve(manifest, "--listen", "127.0.0.1:0")
    assert done.returncode == 1, done.stderr
    assert f"error: {manifest}:7:1: key-value store 's' of app 'x' (SQLite " in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"not wasm", "is not WebAssembly (starts 6e 6f 74 20)"),
        (b"\0asm\1\0\0\0\1\5", "is not valid WebAssembly: truncated: "),
    ],
)
def test_a_module_that_is_no_webassembly_is_named_once(
    tmp_path: Path, content: bytes, says: str
) -> None:
    module = tmp_path / "fake.wasm"
    module.write_bytes(content)
    manifest = write_manifest(
        tmp_path, f'name = "x"\n[[route]]\npath = "/"\nmodule = {toml_path(module)}\n'
    )
    done = run_serve(manifest, "--listen", "127.0.0.1:0")
    assert done.returncode == 1, done.stderr
    assert f"{module} {says}" in done.stderr
    assert done.stderr.count("WebAssembly") == 1 and "Traceback" not in done.stderr


def test_a_port_in_use_exits_3(fetch_wasm: Path, tmp_path: Path) -> None:
    manifest = fetch_manifest(tmp_path, fetch_wasm)
    with ServeProcess(manifest) as first:
        done = run_serve(manifest, "--listen", first.url.removeprefix("http://"))
        assert done.returncode == 3
        assert done.stderr.startswith(
            f"error: cannot listen on {first.url.removeprefix('http://')}: "
            "the address is already in use"
        )
        assert first.get("/x").text == "fetch v1"
