"""What `wasmbridge build` says when it cannot build, with real cargo and real PATHs."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from build_helpers import (
    INSTALL_HINTS,
    CliResult,
    path_with,
    rustup_rustc_without_wasm32,
    write_crate,
)
from wasmbridge.build.sdk import find_sdk
from wasmbridge.build.toolchain import FALLBACKS_ENV, WASM_OPT_ENV

Cli = Callable[..., CliResult]


@pytest.mark.toolchain
def test_plain_crate_without_sdk_builds(wasm_toolchain: None, tmp_path: Path, cli: Cli) -> None:
    crate = write_crate(tmp_path / "plain", "plain")
    result = cli("build", str(crate))
    assert result.code == 0, result.err
    assert result.out_lines == [
        str(crate / "pkg" / n)
        for n in ("plain.wasm", "plain.py", "plain.pyi", "plain.js", "plain.d.ts", "package.json")
    ]
    assert (crate / "pkg" / "plain.wasm").stat().st_size < 120


@pytest.mark.toolchain
def test_a_compile_error_shows_cargo_output_and_exits_1(
    wasm_toolchain: None, tmp_path: Path, cli: Cli
) -> None:
    crate = write_crate(
        tmp_path / "broken",
        "broken",
        '#![no_std]\n#[no_mangle]\npub extern "C" fn f() -> i32 { "text" }\n',
    )
    result = cli("build", str(crate))
    assert result.code == 1
    assert "error[E0308]: mismatched types" in result.err  # cargo's own message, unchanged
    assert result.err.endswith(
        "error: cargo build failed for broken (exit status 101)\n"
        "  hint:  fix the errors cargo printed above; `wasmbridge build -v` shows the command\n"
    )
    assert result.out == ""


@pytest.mark.toolchain
def test_a_crate_without_cdylib_gets_the_lines_to_paste(
    wasm_toolchain: None, tmp_path: Path, cli: Cli
) -> None:
    crate = write_crate(tmp_path / "rlib", "rlib_only", crate_type=None)
    result = cli("build", str(crate))
    assert (result.code, result.out) == (1, "")
    manifest = crate / "Cargo.toml"
    assert result.err.endswith(
        "error: rlib_only builds no cdylib library, so cargo makes no .wasm\n"
        f"  where: {manifest}\n"
        "  hint:  add these lines to Cargo.toml:\n"
        "  hint:  [lib]\n"
        '  hint:  crate-type = ["cdylib"]\n'
    )


def test_no_cargo_toml(tmp_path: Path, cli: Cli) -> None:
    result = cli("build", str(tmp_path))
    assert result.code == 1
    assert result.err == (
        f"    Checking toolchain\nerror: no Cargo.toml in {tmp_path}\n"
        "  hint:  run `wasmbridge build` in a crate's directory or pass it: "
        "`wasmbridge build path/to/crate`; `wasmbridge new NAME` creates one\n"
    )


@pytest.mark.toolchain
def test_a_stale_sdk_path_names_the_current_sdk(
    wasm_toolchain: None, tmp_path: Path, cli: Cli
) -> None:
    crate = write_crate(
        tmp_path / "stale", "stale", dependencies='wasmbridge = { path = "/old/site-packages/sdk" }'
    )
    result = cli("build", str(crate))
    sdk = find_sdk()
    assert sdk is not None
    assert result.code == 1
    assert result.err.endswith(
        f"error: {crate / 'Cargo.toml'} depends on the wasmbridge SDK at /old/site-packages/sdk, "
        "which does not exist\n"
        f'  hint:  point it at this wasmbridge\'s SDK: wasmbridge = {{ path = "{sdk}" }}\n'
    )


@pytest.mark.toolchain
def test_without_wasm_opt_the_build_warns_and_says_so(
    wasm_toolchain: None, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(WASM_OPT_ENV, "")
    crate = write_crate(tmp_path / "noopt", "noopt")
    result = cli("build", str(crate))
    assert result.code == 0, result.err
    assert "Optimizing exports only" in result.err_lines
    assert "warning: wasm-opt not found: the module is not size-optimized" in result.err_lines
    assert "hint:  sudo apt-get install binaryen   # then build again" in result.err_lines
    assert re.match(
        r"^Finished .*noopt\.wasm [\d,]+ B \(no wasm-opt\) in \d+\.\d s$", result.err_lines[-1]
    )


def test_build_without_any_rustc_names_both_install_commands(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    crate = write_crate(tmp_path / "c", "c")
    monkeypatch.setenv("PATH", path_with(tmp_path, {}))
    monkeypatch.setenv(FALLBACKS_ENV, "")
    monkeypatch.delenv("RUSTC", raising=False)
    result = cli("build", str(crate))
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        "    Checking toolchain\n"
        "error: no rustc can build wasm32-unknown-unknown\n"
        "  where: no rustc on PATH\n" + INSTALL_HINTS
    )


def test_build_with_only_rustups_rustc_lacking_wasm32(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    version, rustc = rustup_rustc_without_wasm32()
    crate = write_crate(tmp_path / "c", "c")
    path = path_with(tmp_path, {"rustc": rustc, "cargo": rustc.parent / "cargo"})
    monkeypatch.setenv("PATH", path)
    monkeypatch.setenv(FALLBACKS_ENV, "")
    monkeypatch.delenv("RUSTC", raising=False)
    result = cli("build", str(crate))
    assert result.code == 1
    assert result.err == (
        "    Checking toolchain\n"
        "error: no rustc can build wasm32-unknown-unknown\n"
        f"  where: {path}/rustc {version} has no wasm32 libcore\n" + INSTALL_HINTS
    )


def test_new_refuses_a_non_empty_directory(tmp_path: Path, cli: Cli) -> None:
    (tmp_path / "hello").mkdir()
    (tmp_path / "hello" / "keep.txt").write_text("x")
    with contextlib.chdir(tmp_path):
        result = cli("new", "hello")
    assert result == CliResult(
        1,
        "",
        "error: hello already exists and is not empty\n"
        "  hint:  choose another directory, or `wasmbridge new hello --name ...` "
        "after emptying it\n",
    )


def test_new_refuses_an_invalid_name(tmp_path: Path, cli: Cli) -> None:
    with contextlib.chdir(tmp_path):
        result = cli("new", "2fast")
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        "error: `2fast` cannot be a crate name: use letters, digits, `_` and `-`, "
        "starting with a letter or `_`"
    )
    assert not (tmp_path / "2fast").exists()
