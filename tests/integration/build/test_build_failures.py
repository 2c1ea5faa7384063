"""What `wasmbridge build` says when it cannot build, with real cargo and real PATHs."""

from __future__ import annotations

import contextlib
import re
import shutil
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
from wasmbridge.build.toolchain import FALLBACKS_ENV, WASM_OPT_ENV, diagnose

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
        f"    Checking toolchain\nerror: no Cargo.toml in {tmp_path} or any directory above it\n"
        "  hint:  run `wasmbridge build` in a crate's directory or pass it: "
        "`wasmbridge build path/to/crate`; `wasmbridge new NAME` creates one\n"
    )


def test_a_missing_directory_is_named_as_missing(tmp_path: Path, cli: Cli) -> None:
    with contextlib.chdir(tmp_path):
        result = cli("build", "helo")
    assert result == CliResult(
        1,
        "",
        "    Checking toolchain\nerror: helo does not exist\n"
        "  hint:  check the path, or create a crate there: `wasmbridge new helo`\n",
    )


@pytest.mark.toolchain
def test_build_inside_src_finds_the_crate_above(
    wasm_toolchain: None, tmp_path: Path, cli: Cli
) -> None:
    crate = write_crate(tmp_path / "plain", "plain")
    with contextlib.chdir(crate / "src"):
        result = cli("build", "--target", "python")
    assert result.code == 0, result.err
    assert "Compiling plain (release, size profile)" in result.err_lines
    assert result.out_lines == [
        str(crate / "pkg" / n) for n in ("plain.wasm", "plain.py", "plain.pyi")
    ]
    assert not (crate / "src" / "pkg").exists()


@pytest.mark.toolchain
def test_a_stale_sdk_path_gets_the_portable_dependency_line(
    wasm_toolchain: None, tmp_path: Path, cli: Cli
) -> None:
    crate = write_crate(
        tmp_path / "stale", "stale", dependencies='wasmbridge = { path = "/old/site-packages/sdk" }'
    )
    result = cli("build", str(crate))
    assert result.code == 1
    assert result.err.endswith(
        f"error: {crate / 'Cargo.toml'} depends on the wasmbridge SDK at /old/site-packages/sdk, "
        "which does not exist\n"
        '  hint:  wasmbridge = { path = "wasmbridge-sdk/wasmbridge" } in Cargo.toml; '
        "the next `wasmbridge build` copies this wasmbridge's SDK there\n"
    )


def _path_without_wasm_opt(tmp_path: Path) -> str:
    """A PATH holding the wasm32 rustc, its cargo and linker, and no wasm-opt."""
    toolchain = diagnose().require()
    tools = {"rustc": toolchain.rustc, "cargo": toolchain.cargo}
    if linker := shutil.which("rust-lld"):  # Debian's rustc links wasm32 with the one on PATH
        tools["rust-lld"] = Path(linker)
    return path_with(tmp_path, tools)


@pytest.mark.toolchain
def test_without_wasm_opt_the_build_warns_and_says_so(
    wasm_toolchain: None, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", _path_without_wasm_opt(tmp_path))
    monkeypatch.setenv(FALLBACKS_ENV, "")
    monkeypatch.delenv("RUSTC", raising=False)
    monkeypatch.delenv(WASM_OPT_ENV, raising=False)
    crate = write_crate(tmp_path / "noopt", "noopt")
    result = cli("build", str(crate))
    assert result.code == 0, result.err
    assert "Optimizing exports only" in result.err_lines
    assert "warning: wasm-opt not found: the module is not size-optimized" in result.err_lines
    assert "hint:  sudo apt-get install binaryen   # then build again" in result.err_lines
    assert re.match(
        r"^Finished .*noopt\.wasm [\d,]+ B \(no wasm-opt, size profile\) in \d+\.\d s$",
        result.err_lines[-1],
    )


@pytest.mark.toolchain
def test_wasm_opt_env_naming_a_missing_file_is_named_with_its_value(
    wasm_toolchain: None, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "binaryen" / "wasm-opt"
    monkeypatch.setenv(WASM_OPT_ENV, str(missing))
    crate = write_crate(tmp_path / "c", "c")
    result = cli("build", str(crate))
    assert result.code == 0, result.err
    on_path = shutil.which("wasm-opt")
    instead = (
        f"unset it to use {on_path} from PATH"
        if on_path
        else "unset it and install one: sudo apt-get install binaryen"
    )
    assert (
        f"warning: wasm-opt not found: {WASM_OPT_ENV}={missing} (no such file); "
        "the module is not size-optimized\n"
        f"  hint:  point {WASM_OPT_ENV} at a wasm-opt program, or {instead}\n"
    ) in result.err


@pytest.mark.toolchain
def test_wasm_opt_turned_off_by_an_empty_env_is_no_warning(
    wasm_toolchain: None, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(WASM_OPT_ENV, "")
    crate = write_crate(tmp_path / "c", "c")
    result = cli("build", "-v", str(crate))
    assert result.code == 0, result.err
    assert "wasm-opt is turned off (WASMBRIDGE_WASM_OPT is empty)" in result.err_lines
    assert "warning:" not in result.err
    assert re.search(r"\(no wasm-opt, size profile\) in \d+\.\d s$", result.err_lines[-1])


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
