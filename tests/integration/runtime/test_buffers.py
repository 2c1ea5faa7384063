"""Buffers: zero-copy arrays in guest memory, memory growth, numpy, write-back."""

from __future__ import annotations

import array
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import wasmbridge

pytestmark = pytest.mark.toolchain


@pytest.fixture(scope="module")
def m(types_wasm: Path) -> Any:
    return wasmbridge.load(types_wasm)


def test_numpy_arrays_cross_as_buffers(m: Any) -> None:
    values = np.arange(10, dtype=np.float32)
    assert m.echo_f32s(values).tolist() == values.tolist()
    assert m.sum_f64s(np.array([0.5, 0.25])) == 0.75
    image = np.zeros((4, 4), dtype=np.uint8)  # 2-D and C-contiguous: accepted as bytes
    m.fill(image, 9)
    assert (image == 9).all()


def test_non_contiguous_numpy_input_is_copied_but_mut_refuses(m: Any) -> None:
    strided = np.arange(8, dtype=np.int32)[::2]
    assert m.echo_i32s(strided).tolist() == [0, 2, 4, 6]
    with pytest.raises(TypeError, match="not contiguous"):
        m.scale_i32(strided, 2)


def test_mut_write_back_into_numpy_and_array(m: Any) -> None:
    data = np.array([1, 2, 3], dtype=np.int32)
    assert m.scale_i32(data, 3) == 18
    assert data.tolist() == [3, 6, 9]
    floats = array.array("f", [1, 2, 3])
    m.reverse_f32(floats)
    assert floats.tolist() == [3, 2, 1]
    view = memoryview(bytearray(b"abc"))
    m.reverse(view)
    assert view.tobytes() == b"cba"


def test_guest_array_is_passed_without_copy(m: Any) -> None:
    with m.array("f32", 1000) as buf:
        np_view = buf.numpy()
        np_view[:] = np.arange(1000, dtype=np.float32)
        m.reverse_f32(buf)  # the guest reverses its own memory in place
        assert np_view[0] == 999.0 and np_view[-1] == 0.0
        assert m.echo_f32s(buf)[:3].tolist() == [999.0, 998.0, 997.0]


def test_guest_array_survives_memory_growth(m: Any) -> None:
    buf = m.array(np.uint8, 4096)
    view = buf.numpy()
    view[:] = 7
    pages = m.memory_pages()
    assert m.grow_memory(64) == pages  # memory.grow returns the old size
    assert m.memory_pages() == pages + 64
    m.big_alloc(2 * 1024 * 1024)  # the allocator uses the new pages
    assert int(view.sum()) == 7 * 4096  # the old view still reads the same bytes
    assert m.sum_bytes(buf) == 7 * 4096
    buf.free()
    with pytest.raises(ValueError, match="freed"):
        buf.view  # noqa: B018


def test_guest_array_of_another_kind_is_copied_not_reinterpreted(m: Any) -> None:
    with m.array("i32", 2) as ints:
        ints[0], ints[1] = 1, 2
        with pytest.raises(TypeError, match="buffer of format 'i'"):
            m.echo_f32s(ints.view)
        assert m.echo_i32s(ints).tolist() == [1, 2]


def test_large_buffers_round_trip(m: Any) -> None:
    big = bytes(range(256)) * (40 * 1024)  # 10 MiB
    assert m.echo_bytes(big) == big
    text = "🦀" * (2 * 1024 * 1024)  # 8 MiB of UTF-8
    assert m.echo_string(text) == text
    assert m.sum_bytes(bytearray(big)) == sum(range(256)) * 40 * 1024


def test_allocator_reuses_memory_across_many_calls(m: Any) -> None:
    payload = b"x" * 100_000
    for _ in range(30):
        assert len(m.echo_bytes(payload)) == 100_000
        m.upper("a" * 50_000)
    pages_after_warmup = m.memory_pages()
    for _ in range(300):
        m.echo_bytes(payload)
        m.upper("a" * 50_000)
    assert m.memory_pages() == pages_after_warmup
