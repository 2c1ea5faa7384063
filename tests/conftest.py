"""Shared pytest fixtures. Each block is owned by one part of the code base."""

from __future__ import annotations

# --- build / CLI fixtures (build engineer) -----------------------------------------
# Golden files, running `cli.main` with captured output, and crates built once per
# session with the real toolchain. Helpers live in tests/build_helpers.py.
import contextlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from build_helpers import (
    SDK_CARGO_TOML,
    CliResult,
    Golden,
    HelloBuild,
    require,
    run_cli,
    toolchain_problem,
)

GOLDEN_DIR = Path(__file__).parent / "golden"


@pytest.fixture
def golden() -> Golden:
    """Compare text with tests/golden/NAME; ``UPDATE_GOLDEN=1`` rewrites the files."""
    return Golden(GOLDEN_DIR, update=os.environ.get("UPDATE_GOLDEN") == "1")


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    """``cli("build", "--dev") -> CliResult``: ``cli.main`` with stdout/stderr captured."""
    return run_cli


@pytest.fixture(scope="session")
def wasm_toolchain() -> None:
    """Skip (or fail under WASMBRIDGE_REQUIRE_ALL=1) without a rustc that builds wasm32."""
    require(toolchain_problem())


@pytest.fixture(scope="session")
def sdk_ready(wasm_toolchain: None) -> None:
    """Skip until the Rust SDK exists in guest/rust/ (it is written in parallel)."""
    require(None if SDK_CARGO_TOML.is_file() else f"no SDK yet at {SDK_CARGO_TOML}")


@pytest.fixture(scope="session")
def hello_build(sdk_ready: None, tmp_path_factory: pytest.TempPathFactory) -> HelloBuild:
    """``wasmbridge new hello`` then ``wasmbridge build`` in it, once per session."""
    root = tmp_path_factory.mktemp("scaffold")
    with contextlib.chdir(root):
        created = run_cli("new", "hello")
    assert created.code == 0, created.err
    with contextlib.chdir(root / "hello"):
        built = run_cli("build")
    return HelloBuild(root / "hello", created, built)


# --- end of build / CLI fixtures ------------------------------------------------------
