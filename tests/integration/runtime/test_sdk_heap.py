"""The SDK allocator: short calls grow no memory, and memory the crate grows for
itself is never handed out (tests/fixtures/crates/heap_probe)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import wasmbridge

pytestmark = pytest.mark.toolchain

PAGE = 65536


@pytest.fixture(scope="module")
def probe(build_fixture: Callable[..., Path]) -> wasmbridge.Module:
    return wasmbridge.compile(build_fixture("heap_probe"))


@pytest.mark.parametrize(
    ("pages", "size"),
    [(1, 1), (1, 100), (4, PAGE // 2), (4, 2 * PAGE), (16, 16 * PAGE), (2, 60_000)],
)
def test_pages_the_crate_grew_first_are_left_alone(
    probe: wasmbridge.Module, pages: int, size: int
) -> None:
    with probe.instantiate() as m:  # the crate's growth comes before any allocation
        assert m.own_pages_clobbered(pages, size) == 0


def test_small_blocks_come_from_the_initial_memory(probe: wasmbridge.Module) -> None:
    with probe.instantiate() as m:
        assert m.pages_grown_by(16, 64) == 0  # 1 KiB: room left in the initial memory
    with probe.instantiate() as m:
        assert m.pages_grown_by(4, PAGE) >= 4  # past that room, memory grows
