"""examples/videofx against numpy: the integer formulas of its README, bit for bit.

Python calls one instance with frames of many sizes (1 pixel, odd widths, lengths
that are no multiple of 16 bytes, 4K) and contrasts across the range, in a seeded
random order, from bytearrays, numpy arrays and GuestArrays; Node and Chromium run
tests/usecases/videofx_check.mjs on the same module and on the plain-JS version
(examples/videofx/js/videofx_plain.js), and their digests must equal numpy's.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from usecase_helpers import EXAMPLES, HERE, b64, run_node

import wasmbridge

pytestmark = pytest.mark.toolchain

NAME = "videofx"
CHECK = HERE / "videofx_check.mjs"
PLAIN = EXAMPLES / NAME / "js/videofx_plain.js"
SEED = 20261202
UHD = (2160, 3840)  # height, width
# (height, width): one pixel, odd widths, pixel counts that leave a partial 16-byte block,
# and frames around 4 KiB, 64 KiB and 4 MiB (the runtime's scratch space starts at 64 KiB
# and grows to 4 MiB; larger buffers take another path).
SHAPES = [(1, 1), (1, 2), (1, 3), (1, 4), (1, 5), (2, 3), (3, 5), (7, 13), (31, 17), (9, 641)]
SHAPES += [(1, 1023), (1, 1024), (1, 16383), (1, 16384), (1, 16385), (1024, 1024), (1, 1048577)]
CONTRASTS = [0.0, 1e-9, 0.003, 0.5, 1.0, 1.0039, 1.5, 2.0, 3.7, 15.99, 16.0, 17.0, 1e30]
ODD_CONTRASTS = [-1.0, -0.0, math.inf, -math.inf, math.nan]
SEPIA = np.array([[101, 197, 48], [89, 176, 43], [70, 137, 34]], dtype=np.int32)


# -- the reference: README.md's formulas in numpy -----------------------------------------


def contrast_factor(contrast: float) -> int:
    c = np.float32(contrast)
    if np.isnan(c) or c <= 0:
        return 0
    if c >= 16:
        return 16 * 256
    return int(c * np.float32(256))


def luma(frame: np.ndarray) -> np.ndarray:
    p = frame.reshape(-1, 4).astype(np.int32)
    return (77 * p[:, 0] + 150 * p[:, 1] + 29 * p[:, 2] + 128) >> 8


def ref_grayscale_contrast(frame: np.ndarray, contrast: float) -> np.ndarray:
    y = luma(frame)
    t = np.clip((((y - 128) * contrast_factor(contrast) + 128) >> 8) + 128, 0, 255)
    out = frame.reshape(-1, 4).copy()
    out[:, :3] = t.astype(np.uint8)[:, None]
    return out.reshape(-1)


def ref_sepia(frame: np.ndarray) -> np.ndarray:
    rgb = (frame.reshape(-1, 4)[:, :3].astype(np.int32) @ SEPIA.T + 128) >> 8
    out = frame.reshape(-1, 4).copy()
    out[:, :3] = np.minimum(rgb, 255).astype(np.uint8)
    return out.reshape(-1)


def synth(nbytes: int, seed: int) -> np.ndarray:
    """videofx_check.mjs's ``synth``: a 32-bit mix of each byte's index."""
    with np.errstate(over="ignore"):
        x = np.arange(nbytes, dtype=np.uint32) * np.uint32(0x9E3779B1) ^ np.uint32(seed)
        x ^= x >> np.uint32(15)
        x *= np.uint32(0x85EBCA77)
        x ^= x >> np.uint32(13)
    return (x & np.uint32(255)).astype(np.uint8)


def random_frame(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    frame = rng.integers(0, 256, shape[0] * shape[1] * 4, dtype=np.uint8)
    # Saturated and flat pixels too, where rounding and clamping show.
    frame[: min(len(frame), 64)] = rng.choice([0, 1, 127, 128, 254, 255], min(len(frame), 64))
    return frame


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pkg(example_pkg: Any) -> Path:
    path: Path = example_pkg(NAME)
    return path


@pytest.fixture(scope="module")
def m(pkg: Path) -> Iterator[Any]:
    with wasmbridge.load(pkg / f"{NAME}.wasm") as instance:
        yield instance


# -- Python --------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_every_size_and_contrast_is_bit_exact(m: Any, shape: tuple[int, int]) -> None:
    rng = np.random.default_rng([SEED, *shape])
    frame = random_frame(rng, shape)
    for contrast in CONTRASTS + ODD_CONTRASTS:
        out = bytearray(frame.tobytes())
        m.grayscale_contrast(out, contrast)
        expected = ref_grayscale_contrast(frame, contrast)
        assert np.frombuffer(out, np.uint8).tobytes() == expected.tobytes(), (shape, contrast)
    out = bytearray(frame.tobytes())
    m.sepia(out)
    assert bytes(out) == ref_sepia(frame).tobytes(), shape


def test_every_pixel_value_through_both_filters(m: Any) -> None:
    """All 2^24 colours once (64 MiB of RGBA) would be slow; every (r, g, b) on a
    17-step grid plus every grey and every pure channel covers the corners."""
    grid = np.arange(0, 256, 15, dtype=np.uint8)
    r, g, b = (a.ravel() for a in np.meshgrid(grid, grid, grid, indexing="ij"))
    ramp = np.arange(256, dtype=np.uint8)
    zeros = np.zeros(256, np.uint8)
    reds, greens, blues = [r, ramp, ramp, zeros, zeros], [g, ramp, zeros, ramp, zeros], [
        b, ramp, zeros, zeros, ramp,
    ]  # fmt: skip
    rgb = np.stack([np.concatenate(reds), np.concatenate(greens), np.concatenate(blues)], 1)
    frame = np.concatenate([rgb, np.full((len(rgb), 1), 200, np.uint8)], 1).ravel()
    for contrast in (0.0, 1.0, 2.5, 16.0):
        out = frame.copy()
        m.grayscale_contrast(out, contrast)
        assert np.array_equal(out, ref_grayscale_contrast(frame, contrast)), contrast
    out = frame.copy()
    m.sepia(out)
    assert np.array_equal(out, ref_sepia(frame))


def test_many_frames_on_one_instance_in_random_order(m: Any) -> None:
    rng = np.random.default_rng(SEED)
    order = random.Random(SEED)
    arrays = {size: m.array("uint8", size) for size in (4, 4 * 1001, 4 * 65536)}
    try:
        for step in range(300):
            shape = order.choice(SHAPES[:-2] + [(1, 1001), (64, 1024), (3, 16385)])
            frame = random_frame(rng, shape)
            op = order.choice(["grayscale_contrast", "sepia", "grayscale_row"])
            contrast = order.choice(CONTRASTS + ODD_CONTRASTS + [float(rng.uniform(0, 20))])
            holder = order.choice(["bytearray", "numpy", "guest"])
            target: Any
            if holder == "guest" and frame.nbytes in arrays:
                target = arrays[frame.nbytes]
                target.numpy()[:] = frame
            elif holder == "numpy":
                target = frame.copy()
            else:
                target = bytearray(frame.tobytes())
            if op == "grayscale_contrast":
                m.grayscale_contrast(target, contrast)
                expected = ref_grayscale_contrast(frame, contrast)
            elif op == "sepia":
                m.sepia(target)
                expected = ref_sepia(frame)
            else:
                m.grayscale_row(target)
                expected = ref_grayscale_contrast(frame, 1.0)
            got = target.numpy() if isinstance(target, wasmbridge.GuestArray) else target
            assert bytes(got) == expected.tobytes(), (step, op, shape, contrast, holder)
    finally:
        for array in arrays.values():
            array.free()


def test_a_4k_frame_in_guest_memory(m: Any) -> None:
    n = UHD[0] * UHD[1] * 4
    frame = synth(n, SEED)
    with m.array("uint8", n) as guest:
        view = guest.numpy()
        for contrast in (1.0, 0.0, 2.25, 16.0):
            view[:] = frame
            m.grayscale_contrast(guest, contrast)
            assert np.array_equal(view, ref_grayscale_contrast(frame, contrast)), contrast
        view[:] = frame
        m.sepia(guest)
        assert np.array_equal(view, ref_sepia(frame))


def test_a_guest_array_crosses_without_a_copy(m: Any) -> None:
    """A GuestArray is handed over by address: guest memory does not grow however
    often a 4K frame is filtered. A numpy view of the same bytes is an ordinary
    buffer, copied into a fresh guest allocation for the call (and back)."""
    n = UHD[0] * UHD[1] * 4
    with m.module.instantiate() as fresh, fresh.array("uint8", n) as guest:
        guest.numpy()[:] = synth(n, SEED)
        fresh.grayscale_contrast(guest, 1.0)  # the first call sets up its scratch space
        before = len(fresh.memory_view())
        for _ in range(3):
            fresh.grayscale_contrast(guest, 1.0)
            fresh.sepia(guest)
        assert len(fresh.memory_view()) == before
        fresh.sepia(guest.numpy())
        assert len(fresh.memory_view()) >= before + n


def test_grayscale_pixel_and_row_agree_with_the_frame_call(m: Any) -> None:
    rng = np.random.default_rng(SEED + 1)
    rgb = rng.integers(0, 256, (2000, 3))
    lumas = [m.grayscale_pixel(int(r), int(g), int(b)) for r, g, b in rgb]
    assert lumas == ((77 * rgb[:, 0] + 150 * rgb[:, 1] + 29 * rgb[:, 2] + 128) >> 8).tolist()
    frame = random_frame(rng, (13, 37))
    rows = frame.copy()
    for row in rows.reshape(13, 37 * 4):
        m.grayscale_row(row)
    whole = frame.copy()
    m.grayscale_contrast(whole, 1.0)
    assert np.array_equal(rows, whole)
    assert np.array_equal(rows, ref_grayscale_contrast(frame, 1.0))


@pytest.mark.parametrize("nbytes", [1, 2, 3, 5, 6, 7, 4 * 1001 + 2, 65535, 65537, (4 << 20) + 1])
def test_a_partial_pixel_is_a_clear_error(m: Any, nbytes: int) -> None:
    data = bytearray(range(256)) * (nbytes // 256 + 1)
    frame = data[:nbytes]
    for name, args in (("grayscale_contrast", (frame, 1.0)), ("sepia", (frame,))):
        with pytest.raises(wasmbridge.ReturnedError, match=f"frame length {nbytes} is not a mul"):
            getattr(m, name)(*args)
        assert frame == data[:nbytes]  # untouched
    with pytest.raises(wasmbridge.ReturnedError, match=f"row length {nbytes} is not a multiple"):
        m.grayscale_row(frame)
    # The instance carries on.
    ok = bytearray(b"\x10\x20\x30\x40")
    m.grayscale_contrast(ok, 1.0)
    assert ok == bytes([29, 29, 29, 0x40])  # (77*16 + 150*32 + 29*48 + 128) >> 8


def test_an_empty_frame_is_fine(m: Any) -> None:
    m.grayscale_contrast(bytearray(), 2.0)
    m.sepia(bytearray())


def test_wrong_types_are_refused_with_the_parameter_named(m: Any) -> None:
    with pytest.raises(TypeError, match="frame"):
        m.sepia(b"\x00\x00\x00\x00")  # read-only: &mut [u8] needs a writable buffer
    with pytest.raises(OverflowError, match="'r'"):
        m.grayscale_pixel(256, 0, 0)


# -- Node and Chromium ---------------------------------------------------------------------


def host_cases() -> tuple[list[dict[str, Any]], list[np.ndarray | None]]:
    """The cases for videofx_check.mjs and numpy's answer to each (None: an error)."""
    rng = np.random.default_rng(SEED + 2)
    order = random.Random(SEED + 2)
    cases: list[dict[str, Any]] = []
    answers: list[np.ndarray | None] = []
    shapes = SHAPES[:10] + [(120, 161)]
    for _ in range(60):
        shape = order.choice(shapes)
        frame = random_frame(rng, shape)
        op = order.choice(["grayscale_contrast", "grayscale_contrast", "sepia", "grayscale_row"])
        contrast = order.choice(CONTRASTS + [-1.0, math.inf, float(rng.uniform(0, 20))])
        case: dict[str, Any] = {"op": op, "frame": b64(frame.tobytes()), "width": shape[1]}
        if op == "grayscale_contrast":
            case["contrast"] = contrast
            answers.append(ref_grayscale_contrast(frame, contrast))
        elif op == "sepia":
            answers.append(ref_sepia(frame))
        else:
            answers.append(ref_grayscale_contrast(frame, 1.0))
        cases.append(case)
    frame = random_frame(rng, (5, 7))
    cases.append({"op": "grayscale_pixel", "frame": b64(frame.tobytes())})
    answers.append(luma(frame).astype(np.uint8))
    for nbytes in (3, 6, 4005):
        cases.append({"op": "sepia", "frame": b64(bytes(nbytes))})
        answers.append(None)
    n = UHD[0] * UHD[1] * 4
    uhd = synth(n, SEED)
    cases.append({"op": "grayscale_contrast", "synth": {"bytes": n, "seed": SEED}, "contrast": 1.5})
    answers.append(ref_grayscale_contrast(uhd, 1.5))
    cases.append({"op": "sepia", "synth": {"bytes": n, "seed": SEED}})
    answers.append(ref_sepia(uhd))
    return cases, answers


def check_answers(answers: list[dict[str, Any]], expected: list[np.ndarray | None]) -> None:
    assert len(answers) == len(expected)
    for i, (answer, want) in enumerate(zip(answers, expected, strict=True)):
        for side in ("wasm", "plain"):
            got = answer[side]
            if want is None:
                assert "not a multiple of 4" in got.get("error", ""), (i, side, got)
            else:
                assert got == {"digest": hashlib.sha256(want.tobytes()).hexdigest()}, (i, side)


Payload = tuple[dict[str, Any], list[np.ndarray | None]]


@pytest.fixture(scope="module")
def payload() -> Payload:
    """videofx_check.mjs's input and numpy's answers, made once for both hosts."""
    cases, expected = host_cases()
    plain = base64.b64encode(PLAIN.read_bytes()).decode("ascii")
    return {"plain": plain, "cases": cases}, expected


@pytest.mark.node
def test_node_matches_numpy(pkg: Path, node_host: None, payload: Payload) -> None:
    data, expected = payload
    check_answers(run_node(CHECK, pkg, NAME, data), expected)


@pytest.mark.browser
def test_chromium_matches_numpy(pkg: Path, chromium: Any, payload: Payload) -> None:
    data, expected = payload
    check_answers(chromium.run(CHECK, pkg, NAME, data), expected)
