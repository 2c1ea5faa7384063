"""Fixtures of the use-case tests: each example built once, Node, one shared Chromium."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from build_helpers import require
from web_helpers import browser_problem, node_problem

ExamplePkg = Callable[[str], Path]


@pytest.fixture(scope="session")
def example_pkg(sdk_ready: None, tmp_path_factory: pytest.TempPathFactory) -> ExamplePkg:
    """``example_pkg("cryptokit") -> Path`` of a pkg/ with cryptokit.wasm, .py, .js, .cjs."""
    from usecase_helpers import build_example

    built: dict[str, Path] = {}

    def build(name: str) -> Path:
        if name not in built:
            built[name] = build_example(name, tmp_path_factory.mktemp(f"pkg-{name}")).parent
        return built[name]

    return build


@pytest.fixture(scope="session")
def node_host() -> None:
    """Skip (or fail under WASMBRIDGE_REQUIRE_ALL=1) without Node.js."""
    require(node_problem())


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A ``usecase_helpers.ChromiumChecks`` shared by every use-case test."""
    require(browser_problem())
    from usecase_helpers import chromium_checks

    with chromium_checks(tmp_path_factory.mktemp("usecase-site")) as checks:
        yield checks
