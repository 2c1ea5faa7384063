"""The shared vectors of the geo fixture (tests/vectors/geo.json) through the Python runtime.

Every case runs: calls of exports, and class scripts (objects made, used,
passed, moved and closed in order) on one instance. The notation of
records, enums, tuples and chars becomes the module's own Python values.
"""

from __future__ import annotations

import array
import dataclasses
import enum
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import wasmbridge
from vector_values import VECTORS, callback, case_id, decode

pytestmark = pytest.mark.toolchain
BuildFixture = Callable[..., Path]  # conftest's build_fixture

CALLER_ERRORS = {"TypeError": TypeError, "ValueError": ValueError, "OverflowError": OverflowError}
CASES = json.loads((VECTORS / "geo.json").read_text(encoding="utf-8"))["cases"]


def _id(case: dict[str, Any]) -> str:
    if "script" in case:
        first = case["script"][0]
        return f"script-{first.get('new') or first.get('static') or first.get('call')}"
    return case_id(case)


@pytest.fixture(scope="module")
def geo_wasm(build_fixture: BuildFixture) -> Path:
    return build_fixture("geo")


@pytest.fixture(scope="module")
def geo(geo_wasm: Path) -> Any:
    return wasmbridge.load(geo_wasm)


class Notation:
    """Vector values as the Python values of one instance (``objects`` for scripts)."""

    def __init__(self, module: Any) -> None:
        self.module = module
        self.objects: dict[str, Any] = {}

    def value(self, v: Any) -> Any:
        if isinstance(v, list):
            return [self.value(item) for item in v]
        if not isinstance(v, dict):
            return v
        if "callback" in v:
            return callback(v, self.value)
        if "record" in v:
            cls = getattr(self.module, v["record"])
            return cls(**{name: self.value(field) for name, field in v["fields"].items()})
        if "enum" in v:
            if "value" in v:
                return v["value"]
            return getattr(self.module, v["enum"])[v["case"]]
        if "tuple" in v:
            return tuple(self.value(item) for item in v["tuple"])
        if "char" in v:
            return v["char"]
        if "var" in v:
            return self.objects[v["var"]]
        return decode(v)


def same(actual: Any, expected: Any) -> bool:
    """Deep equality, exact in type; NaN equals NaN, -0.0 is not 0.0."""
    if isinstance(expected, float):
        if math.isnan(expected):
            return isinstance(actual, float) and math.isnan(actual)
        return (
            isinstance(actual, float)
            and actual == expected
            and math.copysign(1, actual) == math.copysign(1, expected)
        )
    if isinstance(expected, enum.Enum):
        return actual is expected
    if dataclasses.is_dataclass(expected):
        return type(actual) is type(expected) and all(
            same(getattr(actual, f.name), getattr(expected, f.name))
            for f in dataclasses.fields(expected)
        )
    if isinstance(actual, bytes) and isinstance(expected, list):
        return list(actual) == expected  # a Vec<u8> inside a list: bytes here, number[] in JS
    if isinstance(expected, (list, tuple)):
        return (
            type(actual) is type(expected)
            and len(actual) == len(expected)
            and all(same(a, e) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(expected, array.array):
        return isinstance(actual, array.array) and actual.tolist() == expected.tolist()
    return type(actual) is type(expected) and bool(actual == expected)


def run_step(notation: Notation, step: dict[str, Any], call: Any) -> Any:
    """Runs one call (a case or a script step) and checks its outcome; returns the result."""
    if "error" not in step:
        result = call(*(notation.value(a) for a in step.get("args", [])))
        if "expect" in step:
            expected = notation.value(step["expect"])
            assert same(result, expected), f"{step} returned {result!r:.300}"
        return result
    error = CALLER_ERRORS.get(step["error"]) or getattr(wasmbridge, step["error"])
    with pytest.raises(error) as info:  # a bad record field is refused as it is made
        call(*(notation.value(a) for a in step.get("args", [])))
    exc: Any = info.value
    if "value" in step:
        assert same(exc.value, notation.value(step["value"])), repr(exc.value)
    if "message" in step and step["error"] == "ReturnedError":
        assert exc.error == step["message"]
    if step["error"] == "GuestPanic":
        assert (exc.panic_message, exc.file) == (step["message"], step["file"])
    return None


def run_script(module: Any, steps: list[dict[str, Any]]) -> None:
    notation = Notation(module)
    objects = notation.objects
    for step in steps:
        if "close" in step:
            objects[step["close"]].close()
            continue
        if "new" in step:
            call = getattr(module, step["new"])
        elif "static" in step:
            call = getattr(getattr(module, step["static"]), step["call"])
        elif "on" in step:
            call = getattr(objects[step["on"]], step["call"])
        else:
            call = module.exports[step["call"]]
        result = run_step(notation, step, call)
        if "let" in step:
            objects[step["let"]] = result


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_vector(geo: Any, case: dict[str, Any]) -> None:
    if "script" in case:
        run_script(geo, case["script"])
    else:
        run_step(Notation(geo), case, geo.exports[case["call"]])
