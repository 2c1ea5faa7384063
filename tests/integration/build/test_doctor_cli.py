"""`wasmbridge doctor` on this machine and on a PATH that really lacks a toolchain."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from build_helpers import INSTALL_HINTS, CliResult, path_with, rustup_rustc_without_wasm32
from wasmbridge.build.sdk import find_sdk
from wasmbridge.build.toolchain import FALLBACKS_ENV

Cli = Callable[..., CliResult]


def test_doctor_fails_with_the_same_message_as_build(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", path_with(tmp_path, {}))
    monkeypatch.setenv(FALLBACKS_ENV, "")
    monkeypatch.delenv("RUSTC", raising=False)
    result = cli("doctor")
    assert result.code == 1
    assert result.out_lines[:2] == [
        "✗ rustc     no rustc on PATH",
        "            fix: sudo apt-get install rustc cargo libstd-rust-dev-wasm32 lld",
    ]
    assert result.err == (
        "error: no rustc can build wasm32-unknown-unknown\n  where: no rustc on PATH\n"
        + INSTALL_HINTS
    )


@pytest.mark.toolchain
def test_doctor_lists_every_piece(wasm_toolchain: None, cli: Cli) -> None:
    result = cli("doctor")
    assert (result.code, result.err) == (0, "")
    lines = result.out_lines
    names = [line.split()[1] for line in lines if not line.startswith((" ", "ready:"))]
    pieces = ["cargo", "wasm-opt", "wat2wasm", "node", "chromium", "wasmtime", "calls", "SDK"]
    assert names[-8:] == pieces
    assert set(names[:-8]) == {"rustc"}
    used = [line for line in lines if line.endswith("(used for builds)")]
    assert len(used) == 1 and used[0].startswith("✓ rustc ")
    assert any(re.match(r"^✓ wasmtime\s+wasmtime-py \d+\.\d+\.\d+$", line) for line in lines)
    sdk = find_sdk()
    assert sdk is not None
    assert any(line.startswith("✓ SDK") and line.endswith("(Rust guest SDK)") for line in lines)
    assert lines[-1].startswith("ready: `wasmbridge build` uses ")


@pytest.mark.toolchain
def test_doctor_marks_an_unusable_rustc_not_needed(
    wasm_toolchain: None, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    version, rustc = rustup_rustc_without_wasm32()
    path = path_with(tmp_path, {"rustc": rustc})
    monkeypatch.setenv("PATH", os.pathsep.join([path, os.environ["PATH"]]))
    lines = cli("doctor").out_lines
    assert lines[:2] == [
        f"– rustc     {path}/rustc {version} has no wasm32-unknown-unknown target; not needed",
        "            fix: rustup target add wasm32-unknown-unknown",
    ]


@pytest.mark.toolchain
def test_doctor_names_a_wasm_opt_env_that_points_nowhere(
    wasm_toolchain: None, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "wasm-opt"
    monkeypatch.setenv("WASMBRIDGE_WASM_OPT", str(missing))
    result = cli("doctor")
    assert result.code == 0  # wasm-opt is optional
    line = next(i for i, text in enumerate(result.out_lines) if "wasm-opt" in text)
    assert result.out_lines[line] == (
        f"✗ wasm-opt  WASMBRIDGE_WASM_OPT={missing} (no such file): builds are not size-optimized"
    )
    assert result.out_lines[line + 1].startswith(
        "            fix: point WASMBRIDGE_WASM_OPT at a wasm-opt program, or unset it"
    )
