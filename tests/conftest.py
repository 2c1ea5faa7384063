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


# --- runtime fixtures (runtime engineer) ------------------------------------------------
# Fixture crates from tests/fixtures/crates built once per session with the real
# pipeline (`wasmbridge build`), sharing one cargo target directory outside the repo.

FIXTURE_CRATES = Path(__file__).parent / "fixtures" / "crates"
VECTORS = Path(__file__).parent / "vectors"

BuildFixture = Callable[..., Path]


@pytest.fixture(scope="session")
def build_fixture(sdk_ready: None, tmp_path_factory: pytest.TempPathFactory) -> BuildFixture:
    """``build_fixture("types", "--panic-messages") -> Path`` of the built .wasm."""
    target = tmp_path_factory.mktemp("cargo-target")
    built: dict[tuple[str, ...], Path] = {}

    def build(name: str, *flags: str) -> Path:
        key = (name, *flags)
        if key not in built:
            out = tmp_path_factory.mktemp(f"pkg-{name}")
            previous = os.environ.get("CARGO_TARGET_DIR")
            os.environ["CARGO_TARGET_DIR"] = str(target)
            try:
                result = run_cli("build", str(FIXTURE_CRATES / name), "--out-dir", str(out), *flags)
            finally:
                if previous is None:
                    del os.environ["CARGO_TARGET_DIR"]
                else:
                    os.environ["CARGO_TARGET_DIR"] = previous
            assert result.code == 0, f"building fixture {name} failed:\n{result.err}"
            built[key] = out / f"{name}.wasm"
        return built[key]

    return build


@pytest.fixture(scope="session")
def types_wasm(build_fixture: BuildFixture) -> Path:
    return build_fixture("types")


@pytest.fixture(scope="session")
def imports_wasm(build_fixture: BuildFixture) -> Path:
    return build_fixture("imports")


# --- end of runtime fixtures ------------------------------------------------------------


# --- web fixtures (web engineer) ------------------------------------------------------
# Fixture crates built with every glue target (`--target all`), with signatures.json
# beside them for the JS harness (tests/node/vectors.mjs).


@pytest.fixture(scope="session")
def web_pkg(build_fixture: BuildFixture) -> Callable[[str], Path]:
    """``web_pkg("types") -> Path`` of a pkg/ holding types.wasm, .js, .cjs, .d.ts, ..."""
    from web_helpers import write_signatures

    def build(name: str) -> Path:
        wasm = build_fixture(name, "--target", "all")
        if not wasm.with_name("signatures.json").exists():
            write_signatures(wasm)
        return wasm.parent

    return build


@pytest.fixture(scope="session")
def node() -> None:
    """Skip (or fail under WASMBRIDGE_REQUIRE_ALL=1) without Node.js."""
    from web_helpers import node_problem

    require(node_problem())


# --- end of web fixtures --------------------------------------------------------------


# --- sandbox fixtures (sandbox engineer) ------------------------------------------------
# WASI fixture crates (a command and a library) built with cargo for wasm32-wasi, once
# per session; helpers live in tests/sandbox_helpers.py.


@pytest.fixture(scope="session")
def wasi_build(wasm_toolchain: None, tmp_path_factory: pytest.TempPathFactory) -> BuildFixture:
    """``wasi_build("wasi_tool") -> Path`` of tests/fixtures/crates/wasi_tool built for WASI."""
    from sandbox_helpers import build_wasi, wasi_toolchain

    found = wasi_toolchain()
    require(found if isinstance(found, str) else None)
    assert not isinstance(found, str)
    target = tmp_path_factory.mktemp("wasi-target")
    built: dict[str, Path] = {}

    def build(name: str) -> Path:
        if name not in built:
            built[name] = build_wasi(*found, name, target)
        return built[name]

    return build


@pytest.fixture(scope="session")
def wasi_tool(wasi_build: BuildFixture) -> Path:
    return wasi_build("wasi_tool")


@pytest.fixture(scope="session")
def wasi_lib(wasi_build: BuildFixture) -> Path:
    return wasi_build("wasi_lib")


# --- end of sandbox fixtures ------------------------------------------------------------
