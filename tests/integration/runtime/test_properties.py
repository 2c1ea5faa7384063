"""Property tests: any str, bytes or number survives the round trip."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wasmbridge

pytestmark = pytest.mark.toolchain

SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def m(types_wasm: Path) -> Any:
    return wasmbridge.load(types_wasm)


@SETTINGS
@given(st.text())
def test_text_round_trips(m: Any, text: str) -> None:
    assert m.echo_str(text) == text
    assert m.echo_string(text) == text
    assert m.len_str(text) == len(text.encode("utf-8"))
    assert m.count_chars(text) == len(text)


@SETTINGS
@given(st.binary(max_size=5000))
def test_bytes_round_trip(m: Any, data: bytes) -> None:
    assert m.echo_bytes(data) == data
    assert m.echo_vec_u8(data) == data
    assert m.sum_bytes(data) == sum(data)


@SETTINGS
@given(
    st.integers(-(2**31), 2**31 - 1), st.integers(-(2**63), 2**63 - 1), st.integers(0, 2**64 - 1)
)
def test_integers_round_trip(m: Any, i32: int, i64: int, u64: int) -> None:
    assert m.echo_i32(i32) == i32
    assert m.echo_i64(i64) == i64
    assert m.echo_u64(u64) == u64
    assert m.echo_opt_u64(u64) == u64


@SETTINGS
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_f64_round_trips_bit_for_bit(m: Any, value: float) -> None:
    out = m.echo_f64(value)
    assert (math.isnan(out) and math.isnan(value)) or (
        out == value and math.copysign(1, out) == math.copysign(1, value)
    )


@SETTINGS
@given(st.lists(st.floats(width=32, allow_nan=False), max_size=200))
def test_f32_slices_round_trip(m: Any, values: list[float]) -> None:
    assert m.echo_f32s(values).tolist() == values
