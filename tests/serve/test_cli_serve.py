"""`wasmbridge serve` on the command line: arguments, and the errors before serving."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from build_helpers import CliResult
from wasmbridge.cli import build_parser, cmd_serve
from wasmbridge.serve.server import ServeOptions, parse_listen

Cli = Callable[..., CliResult]


def test_serve_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WASMBRIDGE_LISTEN", raising=False)
    args = build_parser().parse_args(["serve"])
    assert args.handler is cmd_serve
    assert (args.manifest, args.listen, args.workers) == (None, ("127.0.0.1", 3000), 1)
    assert (args.watch, args.debug, args.threads, args.queue) == (False, False, 8, 64)
    assert args.no_access_log is False


def test_listen_env_sets_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WASMBRIDGE_LISTEN", "0.0.0.0:8080")
    assert build_parser().parse_args(["serve"]).listen == ("0.0.0.0", 8080)
    args = build_parser().parse_args(["serve", "--listen", "127.0.0.1:9"])
    assert args.listen == ("127.0.0.1", 9)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:3000", ("127.0.0.1", 3000)),
        ("0.0.0.0:80", ("0.0.0.0", 80)),
        ("[::1]:8080", ("::1", 8080)),
        (":4000", ("127.0.0.1", 4000)),
        ("4000", ("127.0.0.1", 4000)),
        ("localhost:0", ("localhost", 0)),
    ],
    ids=["ipv4", "any", "ipv6", "port-only", "bare-port", "free-port"],
)
def test_parse_listen(text: str, expected: tuple[str, int]) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("host:http", "expected HOST:PORT, got 'host:http'"),
        ("127.0.0.1:70000", "port 70000 is out of range (0 to 65535; 0 picks a free one)"),
        ("::1:80", "write an IPv6 address in brackets: [::1]:80"),
    ],
    ids=["port-not-a-number", "port-out-of-range", "ipv6-without-brackets"],
)
def test_parse_listen_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parse_listen(text)


def test_a_bad_listen_address_is_a_usage_error(cli: Cli) -> None:
    result = cli("serve", "--listen", "nowhere")
    assert result.code == 2
    assert result.err.splitlines()[-1] == (
        "wasmbridge serve: error: argument --listen: expected HOST:PORT, got 'nowhere'"
    )


@pytest.mark.parametrize("flag", ["--workers", "--threads"])
def test_workers_and_threads_are_positive(cli: Cli, flag: str) -> None:
    result = cli("serve", flag, "0")
    assert result.code == 2
    assert result.err.splitlines()[-1].endswith("expected a positive number, got '0'")


def test_a_port_in_use_exits_3_naming_the_cause(cli: Cli, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("serve", str(tmp_path / "wasmbridge.toml"), "--listen", f"127.0.0.1:{port}")
    assert result == CliResult(
        3,
        "",
        f"error: cannot listen on 127.0.0.1:{port}: the address is already in use "
        "(another server is listening there)\n"
        f"  hint:  stop the other server (`ss -ltnp 'sport = :{port}'` names it) "
        "or pick another port with --listen\n",
    )


def test_an_address_not_of_this_machine_exits_3(cli: Cli, tmp_path: Path) -> None:
    result = cli("serve", str(tmp_path / "x.toml"), "--listen", "192.0.2.1:3000")
    assert result.code == 3
    assert result.err.startswith(
        "error: cannot listen on 192.0.2.1:3000: the address is not one of this machine's\n"
    )


def test_a_bad_manifest_exits_1_with_its_location(cli: Cli, tmp_path: Path) -> None:
    manifest = tmp_path / "wasmbridge.toml"
    manifest.write_text('name = "x"\n[[route]]\nrout = "/"\nmodule = "a.wasm"\n')
    result = cli("serve", str(manifest), "--listen", "127.0.0.1:0")
    assert result.code == 1
    lines = result.err.splitlines()
    assert lines[0] == f"     Loading {manifest}"
    assert lines[1] == f'error: {manifest}:3:1: unknown key "rout" in [[route]]'
    assert "Traceback" not in result.err


def test_without_a_manifest_the_default_is_named(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("serve", "--listen", "127.0.0.1:0")
    assert result.code == 1
    assert result.err.splitlines()[0] == "     Loading wasmbridge.toml"
    assert "wasmbridge.toml" in result.err.splitlines()[1]


def test_a_lone_spin_toml_is_the_default(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spin.toml").write_text("spin_manifest_version = 2\nbogus = 1\n")
    result = cli("serve", "--listen", "127.0.0.1:0")
    assert result.code == 1
    assert result.err.splitlines()[0] == "     Loading spin.toml"


def test_options_cross_to_workers_as_json() -> None:
    options = ServeOptions(Path("/srv/app/wasmbridge.toml"), "0.0.0.0", 8080, workers=4, watch=True)
    assert ServeOptions.from_json(options.to_json()) == options
    assert options.url == "http://0.0.0.0:8080"
    assert ServeOptions(Path("x"), "::1", 80).url == "http://[::1]:80"
