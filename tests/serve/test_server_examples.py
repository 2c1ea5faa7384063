"""The examples, served end to end: `wasmbridge serve` as a subprocess on loopback, real HTTP.

The examples are copied once per session into a temporary folder (their
builds and key-value files stay out of the checkout); the C handler is built
by examples/serve/build.sh as the README says, the Rust crates by the server.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from server_helpers import (
    EXAMPLES,
    ServeProcess,
    copy_tree,
    toml_path,
    wait_for,
    write_manifest,
)

from build_helpers import require

EXAMPLE_FOLDERS = ("serve", "serve-counter", "serve-wagi-rust", "serve-wagi-c", "serve-static")


def clang_problem() -> str | None:
    if shutil.which("clang") is None:
        return "no clang (sudo apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32)"
    return None


@pytest.fixture(scope="session")
def examples(sdk_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The serve examples copied to a temporary folder, the C handler built."""
    from sandbox_helpers import wasi_toolchain

    found = wasi_toolchain()
    require(found if isinstance(found, str) else None)
    require(clang_problem())
    root = tmp_path_factory.mktemp("examples")
    for name in EXAMPLE_FOLDERS:
        copy_tree(EXAMPLES / name, root / name)
    sdk = root.parent / "guest"  # the crates name the SDK as ../../guest/rust/wasmbridge
    if not sdk.exists():
        shutil.copytree(EXAMPLES.parent / "guest", sdk, ignore=shutil.ignore_patterns("target"))
    done = subprocess.run(
        [str(root / "serve" / "build.sh")], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return root


def test_the_readme_example_answers(examples: Path) -> None:
    manifest = examples / "serve" / "wasmbridge.toml"
    with ServeProcess(manifest) as server:
        assert server.request("DELETE", "/api/counter").json() == {"count": 0}
        assert [server.get("/api/counter").json() for _ in range(3)] == [
            {"count": 1},
            {"count": 2},
            {"count": 3},
        ]
        echo = server.request(
            "POST",
            "/api/echo?x=1",
            content=b'{"a": 1}',
            headers={"content-type": "application/json"},
        )
        assert echo.status_code == 200
        assert echo.json() == {
            "method": "POST",
            "path": "/api/echo",
            "query": "x=1",
            "params": {},
            "content_type": "application/json",
            "body": '{"a": 1}',
        }
        assert server.get("/api/nothing").status_code == 404

        rust = server.get("/wagi/rust", params={"name": "Ada Lovelace"})
        assert (rust.status_code, rust.headers["x-handler"]) == (200, "serve-wagi-rust")
        assert rust.text.splitlines()[:3] == [
            "Hello, Ada Lovelace!",
            "REQUEST_METHOD=GET",
            "PATH_INFO=",
        ]
        c = server.get("/wagi/c", params={"a": "1"})
        assert c.text == "Hello from C!\nmethod=GET path= query=a=1\n"
        assert server.request("POST", "/wagi/c", content=b"shout").text == "SHOUT"
        redirect = server.get("/wagi/c", params={"go": "home"})
        assert (redirect.status_code, redirect.headers["location"]) == (302, "/")

        page = server.get("/")
        assert page.status_code == 200 and "<h1>wasmbridge serve</h1>" in page.text
        assert server.get("/style.css").headers["content-type"].startswith("text/css")
        assert server.get("/healthz").text == "ok"
        assert "x-request-id" in page.headers

    assert server.stdout == f"{server.url}\n"
    routes = [line.split()[1:3] for line in server.stderr.splitlines() if "Route " in line]
    assert routes == [
        ["/api/...", "bridge"],
        ["/wagi/rust", "wagi"],
        ["/wagi/c", "wagi"],
        ["/...", "static"],
    ]
    assert f"Serving examples at {server.url} (1 worker); Ctrl+C stops" in server.stderr


def test_kv_persists_across_a_restart(examples: Path, tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path,
        f"""name = "persist"
[[route]]
path = "/api/..."
module = {toml_path(examples / "serve-counter")}
key_value_stores = ["default"]
""",
    )
    with ServeProcess(manifest) as first:
        assert [first.get("/api/counter").json()["count"] for _ in range(2)] == [1, 2]
        assert first.stop() == 0
    assert (tmp_path / ".wasmbridge" / "kv.sqlite").is_file()
    with ServeProcess(manifest) as second:
        assert second.get("/api/counter").json() == {"count": 3}


def test_workers_load_the_crates_the_server_built_at_start(examples: Path, tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path,
        f"""name = "built-once"
[[route]]
path = "/api/..."
module = {toml_path(examples / "serve-counter")}
key_value_stores = ["default"]

[[route]]
path = "/wagi/rust"
module = {toml_path(examples / "serve-wagi-rust")}
kind = "wagi"
""",
    )
    with ServeProcess(manifest, "--workers", "2") as server:
        wait_for(lambda: server.stderr.count("Application startup complete") == 2, "two workers")
        assert server.get("/wagi/rust", params={"name": "W"}).text.startswith("Hello, W!")
        assert [server.get("/api/counter").json()["count"] for _ in range(3)] == [1, 2, 3]
        assert server.stop() == 0
    assert server.stderr.count("Compiling serve-counter") == 1, server.stderr
    assert server.stderr.count("Building ") == 1, server.stderr


def test_a_spin_toml_wagi_app_is_served_unchanged(examples: Path) -> None:
    spin = examples / "serve-wagi-c" / "spin.toml"
    assert spin.read_text() == (EXAMPLES / "serve-wagi-c" / "spin.toml").read_text()
    with ServeProcess(spin) as server:
        reply = server.get("/anything/here", params={"q": "1"})
        assert reply.status_code == 200
        assert reply.text.splitlines()[0] == "Hello from C!"
        assert "query=q=1" in reply.text


@pytest.mark.redis
def test_two_servers_share_kv_through_redis(examples: Path, tmp_path: Path) -> None:
    from redis_helpers import redis_server, redis_server_problem

    require(redis_server_problem())
    with redis_server() as redis:
        manifest = write_manifest(
            tmp_path,
            f"""name = "shared"
[[route]]
path = "/api/..."
module = {toml_path(examples / "serve-counter")}
key_value_stores = ["default"]

[kv.default]
backend = "redis"
url = "{redis.url}"
""",
        )
        with ServeProcess(manifest) as a, ServeProcess(manifest) as b:
            counts = [server.get("/api/counter").json()["count"] for server in (a, b, a, b, b)]
            assert counts == [1, 2, 3, 4, 5]
            assert a.request("DELETE", "/api/counter").json() == {"count": 0}
            assert b.get("/api/counter").json() == {"count": 1}
