"""A crate from `wasmbridge new` builds wherever it goes: moved, copied, with plain cargo.

The crate carries its SDK (wasmbridge-sdk/) and names it by a relative
path, so nothing ties it to the directory it was made in or to this
wasmbridge's installation.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

import wasmbridge
from build_helpers import CliResult, run_cli
from wasmbridge.build.toolchain import diagnose

pytestmark = pytest.mark.toolchain

Cli = Callable[..., CliResult]


@pytest.fixture(scope="module")
def moved_crate(sdk_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`wasmbridge new hello` in one directory, moved to another (the original removed)."""
    made_in = tmp_path_factory.mktemp("made-here")
    with contextlib.chdir(made_in):
        created = run_cli("new", "hello")
    assert created.code == 0, created.err
    moved = tmp_path_factory.mktemp("moved-there") / "hello-copy"
    shutil.copytree(made_in / "hello", moved)
    shutil.rmtree(made_in)
    return moved


def test_the_crate_names_no_path_outside_itself(moved_crate: Path) -> None:
    toolchain = diagnose().require()
    proc = subprocess.run(
        [str(toolchain.cargo), "metadata", "--format-version", "1", "--offline"],
        cwd=moved_crate,
        capture_output=True,
        text=True,
        check=True,
    )
    manifests = sorted(p["manifest_path"] for p in json.loads(proc.stdout)["packages"])
    assert manifests == sorted(
        str(moved_crate / path / "Cargo.toml")
        for path in (".", "wasmbridge-sdk/wasmbridge", "wasmbridge-sdk/wasmbridge-macros")
    )


def test_the_moved_crate_builds_and_loads(moved_crate: Path, cli: Cli) -> None:
    with contextlib.chdir(moved_crate):
        result = cli("build", "--target", "python")
    assert result.code == 0, result.err
    assert not any(line.startswith(("warning:", "Copying")) for line in result.err_lines)
    module = wasmbridge.load(moved_crate / "pkg" / "hello.wasm", imports={"alert": print})
    assert module.add(5, 7) == 12


def test_a_teammate_builds_it_with_plain_cargo(moved_crate: Path, tmp_path: Path) -> None:
    toolchain = diagnose().require()
    env = {
        **os.environ,
        "RUSTC": str(toolchain.rustc),
        "RUSTC_BOOTSTRAP": "wasmbridge",  # on rustc < 1.81, as the crate's README says
        "CARGO_TARGET_DIR": str(tmp_path / "target"),
    }
    proc = subprocess.run(
        [str(toolchain.cargo), "build", "--release", "--target", "wasm32-unknown-unknown"],
        cwd=moved_crate,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "target" / "wasm32-unknown-unknown" / "release" / "hello.wasm").is_file()


def test_build_copies_a_deleted_sdk_back(moved_crate: Path, cli: Cli) -> None:
    shutil.rmtree(moved_crate / "wasmbridge-sdk")
    with contextlib.chdir(moved_crate):
        result = cli("build", "--target", "python")
    assert result.code == 0, result.err
    assert result.err_lines[:2] == [
        "Checking toolchain",
        f"Copying wasmbridge SDK {wasmbridge.__version__} into wasmbridge-sdk/",
    ]
    assert (moved_crate / "wasmbridge-sdk" / "wasmbridge" / "Cargo.toml").is_file()
