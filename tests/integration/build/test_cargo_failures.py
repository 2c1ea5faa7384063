"""Failures cargo reports, recognised and explained: real cargo, real crates on disk.

No test reaches a network: an unreachable index is a registry on a `.invalid`
host (RFC 2606: it never resolves), so the result is the same everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from build_helpers import CliResult, write_crate
from wasmbridge.build.toolchain import diagnose, display_path

pytestmark = pytest.mark.toolchain

Cli = Callable[..., CliResult]


def _too_new_rustc() -> str:
    """A rust-version above the rustc builds use: 1.68 (Debian's is 1.63) or newer."""
    minor = int(diagnose().require().rustc_version.split(".")[1])
    return f"1.{max(68, minor + 1)}"


def _dependency(directory: Path, name: str, version: str, rust_version: str) -> Path:
    directory.mkdir(parents=True)
    (directory / "Cargo.toml").write_text(
        f'[package]\nname = "{name}"\nversion = "{version}"\nedition = "2021"\n'
        f'rust-version = "{rust_version}"\n'
    )
    (directory / "src").mkdir()
    (directory / "src" / "lib.rs").write_text("")
    return directory


def _cargo_config(crate: Path, text: str) -> None:
    (crate / ".cargo").mkdir()
    (crate / ".cargo" / "config.toml").write_text(text)


def _where_line(result: CliResult) -> str:
    toolchain = diagnose().require()
    rustc = f"{display_path(toolchain.rustc)} {toolchain.rustc_version}"
    line = f"  where: cargo ran {rustc}, {toolchain.why_this_rustc()}\n"
    assert line in result.err
    return toolchain.rustc_version


def test_a_registry_crate_needing_a_newer_rustc_gets_both_ways_out(
    wasm_toolchain: None, tmp_path: Path, cli: Cli
) -> None:
    need = _too_new_rustc()
    # crates.io replaced by a directory of crates on disk, as Debian's registry is.
    vendor = _dependency(tmp_path / "vendor" / "newdep-0.2.0", "newdep", "0.2.0", need)
    checksum = {"files": {}, "package": "0" * 64}
    (vendor / ".cargo-checksum.json").write_text(json.dumps(checksum))
    crate = write_crate(tmp_path / "app", "app", dependencies='newdep = "0.2"')
    _cargo_config(
        crate,
        '[source.crates-io]\nreplace-with = "disk"\n'
        f'[source.disk]\ndirectory = "{tmp_path / "vendor"}"\n',
    )
    result = cli("build", str(crate))
    assert (result.code, result.out) == (1, "")
    assert f"package `newdep v0.2.0` cannot be built because it requires rustc {need}" in (
        result.err
    )  # cargo's own words, shown as they came
    have = _where_line(result)
    ours = result.err[result.err.index("error: cargo build failed") :]
    lines = ours.splitlines()
    assert lines[0] == (
        f"error: cargo build failed for app: newdep v0.2.0 requires rustc {need} or newer; "
        f"this build uses rustc {have}"
    )
    assert "rustup target add wasm32-unknown-unknown" in lines[2]
    assert lines[3:] == [
        f"  hint:  or keep rustc {have} with an older newdep: "
        "cargo update -p newdep@0.2.0 --precise VERSION   "
        f"# VERSION: the newest newdep that supports rustc {have}"
    ]


def test_a_path_dependency_needing_a_newer_rustc_names_its_source(
    wasm_toolchain: None, tmp_path: Path, cli: Cli
) -> None:
    need = _too_new_rustc()
    crate = write_crate(tmp_path / "app", "app", dependencies='newdep = { path = "newdep" }')
    _dependency(crate / "newdep", "newdep", "0.2.0", need)
    result = cli("build", str(crate))
    assert result.code == 1
    have = _where_line(result)
    assert result.err.endswith(
        f"  hint:  or keep rustc {have} with a version of newdep that supports it "
        f"(its source: {display_path(crate / 'newdep')})\n"
    )


def test_an_unreachable_index_suggests_offline_and_offline_builds(
    wasm_toolchain: None, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    crate = write_crate(
        tmp_path / "app",
        "app",
        dependencies='itoa = "1"\n\n[patch.crates-io]\nitoa = { path = "itoa" }',
    )
    _dependency(crate / "itoa", "itoa", "1.0.99", "1.56")
    _cargo_config(
        crate,
        '[source.crates-io]\nreplace-with = "mirror"\n'
        '[source.mirror]\nregistry = "https://index.invalid/crates.io-index"\n',
    )
    monkeypatch.setenv("CARGO_HOME", str(tmp_path / "cargo-home"))  # no index cached
    monkeypatch.delenv("CARGO_NET_OFFLINE", raising=False)
    result = cli("build", str(crate))
    assert result.code == 1
    assert "Unable to update registry `crates-io`" in result.err  # cargo's own words
    assert result.err.endswith(
        "error: cargo build failed for app: cargo could not reach the package index "
        "(https://index.invalid/crates.io-index)\n"
        "  hint:  if every dependency is on disk ([patch], path or vendored crates, "
        "cargo's cache), build offline: CARGO_NET_OFFLINE=true wasmbridge build\n"
        "  hint:  for good: `net.offline = true` under [net] in .cargo/config.toml; "
        "crates not on disk: `cargo vendor` where the network works, or a [source] "
        "replacement (https://doc.rust-lang.org/cargo/reference/source-replacement.html)\n"
    )
    monkeypatch.setenv("CARGO_NET_OFFLINE", "true")  # the hint, followed
    offline = cli("build", str(crate))
    assert offline.code == 0, offline.err
    assert (crate / "pkg" / "app.wasm").is_file()
