"""The shared vectors (tests/vectors/types.json) through the Python runtime."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import wasmbridge
from vector_values import case_id, decode, load_cases, same

CASES = load_cases("types")

pytestmark = pytest.mark.toolchain


@pytest.fixture(scope="module")
def types_module(types_wasm: Path) -> Any:
    return wasmbridge.load(types_wasm)


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_vector(types_module: Any, case: dict[str, Any]) -> None:
    args = [decode(a) for a in case["args"]]
    func = types_module.exports[case["call"]]
    if "error" in case:
        error = getattr(wasmbridge, case["error"])
        with pytest.raises(error) as info:
            func(*args)
        exc = info.value
        if case["error"] == "ReturnedError":
            assert exc.error == case["message"]
        if case["error"] == "GuestPanic":
            assert exc.panic_message == case["message"]
            assert exc.file == case["file"]
        if case["error"] == "Trap":
            assert exc.kind == case["kind"]
        return
    result = func(*args)
    assert same(result, decode(case["expect"])), f"{case['call']} returned {result!r:.200}"
    if "after" in case:
        index, expected = case["after"]
        assert same(
            bytes(args[index]) if isinstance(args[index], bytearray) else args[index],
            decode(expected),
        )
