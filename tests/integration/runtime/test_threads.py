"""Threads: a shared module serialises callers; separate modules run in parallel."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

import wasmbridge

pytestmark = pytest.mark.toolchain


def _hammer(func: Any, results: list[bool], rounds: int, seed: int) -> None:
    ok = True
    for i in range(rounds):
        text = f"thread {seed} round {i} 🦀"
        ok &= func.echo_str(text) == text
        ok &= func.add(seed, i) == seed + i
        ok &= func.digest32(text.encode()) == func.digest32(text.encode())
    results.append(ok)


def test_one_module_shared_by_threads_gives_correct_results(types_wasm: Path) -> None:
    m = wasmbridge.load(types_wasm)
    results: list[bool] = []
    threads = [threading.Thread(target=_hammer, args=(m, results, 300, n)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert results == [True] * 6


def test_module_per_thread(types_wasm: Path) -> None:
    modules = [wasmbridge.load(types_wasm) for _ in range(4)]
    results: list[bool] = []
    threads = [
        threading.Thread(target=_hammer, args=(mod, results, 200, n))
        for n, mod in enumerate(modules)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert results == [True] * 4


def test_nested_call_from_a_host_import_on_the_same_instance(imports_wasm: Path) -> None:
    holder: dict[str, Any] = {}

    def host_add(a: int, b: int) -> int:
        # Re-enter the same instance from inside its own import.
        return holder["m"].call_upper("x") == "X" and a + b

    from test_imports import HOST

    holder["m"] = wasmbridge.load(imports_wasm, imports=dict(HOST, host_add=host_add))
    assert holder["m"].call_add(20, 22) == 42
