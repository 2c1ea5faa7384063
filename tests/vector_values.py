"""Decoding the shared test vectors (tests/vectors/*.json) into Python values."""

from __future__ import annotations

import array
import json
import math
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).parent / "vectors"

TYPECODES = {
    "i8": "b",
    "u8": "B",
    "i16": "h",
    "u16": "H",
    "i32": "i",
    "u32": "I",
    "i64": "q",
    "u64": "Q",
    "f32": "f",
    "f64": "d",
}


def load_cases(name: str) -> list[dict[str, Any]]:
    data = json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))
    return list(data["cases"])


def case_id(case: dict[str, Any]) -> str:
    args = json.dumps(case["args"], ensure_ascii=True)
    return f"{case['call']}{args[:40]}"


def decode(value: Any) -> Any:
    """A vector value as the Python object passed to or expected from a call."""
    if not isinstance(value, dict):
        return value
    if "int" in value:
        return int(value["int"])
    if "float" in value:
        return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf, "-0": -0.0}[value["float"]]
    if "bytes" in value:
        return bytes.fromhex(value["bytes"])
    if "bytes_repeat" in value:
        unit, count = value["bytes_repeat"]
        return bytes.fromhex(unit) * count
    if "text_repeat" in value:
        unit, count = value["text_repeat"]
        return unit * count
    if "array" in value:
        return array.array(TYPECODES[value["array"]], [decode(v) for v in value["values"]])
    if "mut" in value:
        inner = decode(value["mut"])
        return bytearray(inner) if isinstance(inner, bytes) else inner
    raise ValueError(f"unknown vector value {value!r}")


def same(actual: Any, expected: Any) -> bool:
    """Equality that treats NaN as equal to NaN and -0.0 as distinct from 0.0."""
    if isinstance(expected, float):
        if math.isnan(expected):
            return isinstance(actual, float) and math.isnan(actual)
        return actual == expected and math.copysign(1, actual) == math.copysign(1, expected)
    if isinstance(expected, (bytes, bytearray)):
        return isinstance(actual, (bytes, bytearray)) and bytes(actual) == bytes(expected)
    if isinstance(expected, array.array):
        return (
            isinstance(actual, array.array)
            and actual.typecode == expected.typecode
            and actual.tolist() == expected.tolist()
        )
    return type(actual) is type(expected) and actual == expected


def callback(v: dict[str, Any], convert: Any) -> Any:
    """``{"callback": "echo"}`` returns its first argument; ``{"callback": "returns",
    "values": [...]}`` returns the i-th value (converted) on its i-th call, the last one
    after that, and nothing when there are none."""
    if v["callback"] == "echo":
        return lambda first, *rest: first
    results = [convert(item) for item in v.get("values", [])]
    calls = [0]

    def returns(*args: Any) -> Any:
        if not results:
            return None
        index = min(calls[0], len(results) - 1)
        calls[0] += 1
        return results[index]

    return returns
