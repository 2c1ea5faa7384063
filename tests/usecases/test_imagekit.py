"""examples/imagekit against Pillow and numpy, in Python, Node and Chromium.

Decoding must give Pillow's pixels: exactly for PNG (every colour type and bit
depth, palettes with and without transparency, 16-bit, interlaced), and within
``JPEG_TOLERANCE`` levels for JPEG, where the two decoders' IDCTs and chroma
upsampling differ. Grayscale must equal Pillow's ``convert("L")`` formula; blur
and resize are compared with float64 numpy references of the same definitions
(written below) and may differ by one level, from f32 arithmetic and rounding.
The JPEG encoder's files must open in Pillow, come within 25 % of Pillow's size
at the same quality and reach 35 dB PSNR at quality 90 on a photo-like image.
Bad input must be a ``ReturnedError`` that says why, never a trap. Node and
Chromium run one seeded sequence of calls through ``imagekit_check.mjs``; their
answers must be the bytes the Python instance returns, and the small ones are
checked against the references themselves.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import random
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from usecase_helpers import b64, run_node, unb64

import wasmbridge

pytestmark = pytest.mark.toolchain

HERE = Path(__file__).parent
CHECK = HERE / "imagekit_check.mjs"
PLAIN_CHECK = HERE / "imagekit_plain_check.mjs"
PLAIN_JS = HERE.parents[1] / "examples/imagekit/js/imagekit_plain.js"
SEED = 20261202
# The largest difference from Pillow's decode of a JPEG, in levels, and the
# largest mean difference. Measured on jpeg_cases(): at most 3 levels (4:4:4,
# 4:2:2, 4:2:0, progressive), 1 on gray; means up to 0.12 (4:2:2), 0.07 (4:2:0),
# 0.004 (4:4:4). jpeg-decoder and libjpeg-turbo differ in IDCT rounding and
# in how they upsample chroma.
JPEG_TOLERANCE = 4
JPEG_MEAN_TOLERANCE = 0.2
SIZES = [(1, 1), (2, 3), (3, 2), (1, 9), (9, 1), (7, 5), (31, 17), (64, 1), (129, 255)]
BIG = [(512, 512), (1920, 1080)]

ExamplePkg = Callable[[str], Path]
Array = np.ndarray[Any, Any]


@pytest.fixture(scope="module")
def kit(example_pkg: ExamplePkg) -> Any:
    return wasmbridge.load(example_pkg("imagekit") / "imagekit.wasm")


# The references.


@functools.cache
def synth(width: int, height: int, seed: int) -> Array:
    """A hash of (x, y, channel, seed) per byte, as imagekit_check.mjs computes it."""
    y, x, c = np.meshgrid(
        np.arange(height, dtype=np.uint32),
        np.arange(width, dtype=np.uint32),
        np.arange(4, dtype=np.uint32),
        indexing="ij",
    )
    with np.errstate(over="ignore"):
        h = x * np.uint32(73856093) ^ y * np.uint32(19349663)
        h ^= (np.uint32(seed) * np.uint32(4) + c) * np.uint32(83492791)
        h ^= h >> np.uint32(13)
        h *= np.uint32(0x5BD1E995)
        h ^= h >> np.uint32(15)
    out = (h & np.uint32(255)).astype(np.uint8)
    out.flags.writeable = False  # cached: shared by every caller
    return out


def photo(width: int, height: int, seed: int = 1) -> Array:
    """A photo-like RGBA image: smooth gradients, a few soft-edged discs and luma noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    img = np.stack(
        [
            128 + 90 * np.sin(x / 37 + y / 53),
            128 + 80 * np.cos(x / 23 - y / 41) * np.sin(y / 67),
            128 + 70 * np.sin((x + y) / 29),
        ],
        -1,
    )
    for _ in range(12):
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(1, 1 + width / 6)
        mask = (x - cx) ** 2 + (y - cy) ** 2 < r * r
        img[mask] = img[mask] * 0.5 + rng.uniform(0, 255, 3) * 0.5
    img += rng.normal(0, 4, img.shape[:2])[..., None]
    rgb = np.clip(img, 0, 255).astype(np.uint8)
    return np.dstack([rgb, np.full((height, width), 255, np.uint8)])


def gray_ref(img: Array) -> Array:
    """Pillow's convert("L"): (19595 R + 38470 G + 7471 B + 32768) >> 16."""
    rgb = img[..., :3].astype(np.uint32)
    luma = (19595 * rgb[..., 0] + 38470 * rgb[..., 1] + 7471 * rgb[..., 2] + 32768) >> 16
    out = img.copy()
    out[..., :3] = luma[..., None].astype(np.uint8)
    return out


def blur_ref(img: Array, sigma: float) -> Array:
    """Gaussian weights for |k| <= ceil(3 sigma), normalised; rows then columns; edges clamped."""
    sigma = float(np.float32(sigma))  # the export takes an f32
    radius = math.ceil(3 * sigma)
    if radius == 0:
        return img.copy()
    k = np.exp(-(np.arange(-radius, radius + 1, dtype=np.float64) ** 2) / (2 * sigma * sigma))
    k /= k.sum()
    out = img.astype(np.float64)
    for axis in (1, 0):
        pad = [(0, 0)] * 3
        pad[axis] = (radius, radius)
        padded = np.pad(out, pad, mode="edge")
        n = out.shape[axis]
        window = [slice(None)] * 3
        out = np.zeros_like(out)
        for i, weight in enumerate(k):
            window[axis] = slice(i, i + n)
            out += weight * padded[tuple(window)]
    return np.clip(np.floor(out + 0.5), 0, 255).astype(np.uint8)


def resize_ref(img: Array, new_width: int, new_height: int) -> Array:
    """Bilinear, output pixel i sampling the source at (i + 0.5) * src / dst - 0.5, clamped."""

    def taps(src: int, dst: int) -> tuple[Array, Array, Array]:
        s = np.clip((np.arange(dst) + 0.5) * (src / dst) - 0.5, 0, src - 1)
        i0 = np.floor(s).astype(np.intp)
        return i0, np.minimum(i0 + 1, src - 1), s - i0

    x0, x1, fx = taps(img.shape[1], new_width)
    y0, y1, fy = taps(img.shape[0], new_height)
    f = img.astype(np.float64)
    fx, fy = fx[None, :, None], fy[:, None, None]
    top = f[y0][:, x0] * (1 - fx) + f[y0][:, x1] * fx
    bottom = f[y1][:, x0] * (1 - fx) + f[y1][:, x1] * fx
    out: Array = np.clip(np.floor(top * (1 - fy) + bottom * fy + 0.5), 0, 255)
    return out.astype(np.uint8)


def pillow_rgba(data: bytes) -> Array:
    """Pillow's decode as RGBA8; 16-bit gray (mode I;16) keeps the high byte."""
    with Image.open(io.BytesIO(data)) as im:
        if im.mode.startswith("I"):
            luma = (np.asarray(im).astype(np.uint32) >> 8).astype(np.uint8)
            return np.dstack([luma, luma, luma, np.full_like(luma, 255)])
        return np.asarray(im.convert("RGBA"))


def psnr(a: Array, b: Array) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * math.log10(255**2 / mse)


def pillow_jpeg(img: Array, quality: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(img[..., :3])).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def assert_close(got: Array, want: Array, tolerance: int, what: str) -> None:
    assert got.shape == want.shape, f"{what}: shape {got.shape}, want {want.shape}"
    diff = int(np.abs(got.astype(np.int16) - want.astype(np.int16)).max(initial=0))
    assert diff <= tolerance, f"{what}: off by {diff} levels (at most {tolerance})"


# PNG files written here, for what Pillow cannot write (16-bit RGB, interlacing, tRNS).

ADAM7 = [
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
]


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def write_png(
    samples: Array,
    color_type: int,
    depth: int,
    *,
    interlace: bool = False,
    palette: Array | None = None,
    trns: bytes | None = None,
) -> bytes:
    """A PNG of ``samples`` (height, width, channels), every row with filter 0."""

    def rows(sub: Array) -> bytes:
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            return b""
        out = []
        for row in sub:
            flat = row.reshape(-1)
            if depth == 16:
                data = flat.astype(">u2").tobytes()
            elif depth == 8:
                data = flat.astype(np.uint8).tobytes()
            else:
                bits = np.unpackbits(flat.astype(np.uint8)[:, None], axis=1)[:, 8 - depth :]
                data = np.packbits(bits.reshape(-1)).tobytes()
            out.append(b"\0" + data)
        return b"".join(out)

    height, width = samples.shape[:2]
    if interlace:
        body = b"".join(rows(samples[y0::dy, x0::dx]) for x0, y0, dx, dy in ADAM7)
    else:
        body = rows(samples)
    parts = [
        chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, interlace))
    ]
    if palette is not None:
        parts.append(chunk(b"PLTE", palette.astype(np.uint8).tobytes()))
    if trns is not None:
        parts.append(chunk(b"tRNS", trns))
    parts += [chunk(b"IDAT", zlib.compress(body)), chunk(b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(parts)


@functools.cache
def png_cases(width: int = 37, height: int = 23) -> dict[str, bytes]:
    """PNG files of every colour type and depth: name -> file."""
    rng = np.random.default_rng(SEED)

    def samples(channels: int, depth: int) -> Array:
        return rng.integers(0, 1 << depth, (height, width, channels), dtype=np.uint32)

    palette = rng.integers(0, 256, (16, 3))
    cases = {}
    for depth in (1, 2, 4, 8, 16):
        cases[f"gray{depth}"] = write_png(samples(1, depth), 0, depth)
    for depth in (1, 2, 4, 8):
        cases[f"palette{depth}"] = write_png(
            samples(1, min(depth, 4)), 3, depth, palette=palette[: 1 << min(depth, 4)]
        )
    cases["palette4-trns"] = write_png(
        samples(1, 4), 3, 4, palette=palette, trns=bytes(rng.integers(0, 256, 11).tolist())
    )
    for depth in (8, 16):
        cases[f"gray-alpha{depth}"] = write_png(samples(2, depth), 4, depth)
        cases[f"rgb{depth}"] = write_png(samples(3, depth), 2, depth)
        cases[f"rgba{depth}"] = write_png(samples(4, depth), 6, depth)
        cases[f"rgba{depth}-interlaced"] = write_png(samples(4, depth), 6, depth, interlace=True)
    cases["gray8-trns"] = write_png(samples(1, 8) // 64 * 64, 0, 8, trns=b"\x00\x40")
    cases["rgb8-trns"] = write_png(samples(3, 1) * 255, 2, 8, trns=b"\x00\xff\x00\x00\x00\xff")
    cases["gray1-interlaced"] = write_png(samples(1, 1), 0, 1, interlace=True)
    cases["palette8-interlaced"] = write_png(samples(1, 4), 3, 8, palette=palette, interlace=True)
    for mode in ("L", "LA", "RGB", "RGBA", "P"):
        buf = io.BytesIO()
        Image.fromarray(photo(width, height)[..., :3]).convert(mode).save(buf, "PNG")
        cases[f"pillow-{mode}"] = buf.getvalue()
    return cases


@functools.cache
def jpeg_cases() -> dict[str, bytes]:
    """JPEG files Pillow writes: qualities, subsamplings, gray, progressive, odd sizes."""
    cases = {}
    img = Image.fromarray(photo(203, 117)[..., :3])
    for quality in (50, 75, 95):
        for subsampling, name in ((0, "444"), (1, "422"), (2, "420")):
            buf = io.BytesIO()
            img.save(buf, "JPEG", quality=quality, subsampling=subsampling)
            cases[f"q{quality}-{name}"] = buf.getvalue()
    for name, options in (("gray", {}), ("progressive", {"progressive": True})):
        buf = io.BytesIO()
        (img.convert("L") if name == "gray" else img).save(buf, "JPEG", quality=85, **options)
        cases[name] = buf.getvalue()
    buf = io.BytesIO()
    Image.fromarray(photo(1, 1)[..., :3]).save(buf, "JPEG")
    cases["1x1"] = buf.getvalue()
    return cases


def decoded(kit: Any, data: bytes) -> Array:
    """The image through ``decode`` (a record), checked equal to ``dimensions`` and
    ``decode_rgba`` (the pixels as one bytes object)."""
    image = kit.decode(data)
    pixels = kit.decode_rgba(data)
    assert isinstance(pixels, bytes) and pixels == bytes(image.rgba)
    assert kit.dimensions(data) == (image.width, image.height)
    return np.frombuffer(pixels, np.uint8).reshape(image.height, image.width, 4)


# Python.


@pytest.mark.parametrize("name", sorted(png_cases()))
def test_png_decodes_as_pillow_does(kit: Any, name: str) -> None:
    data = png_cases()[name]
    got, want = decoded(kit, data), pillow_rgba(data)
    assert got.shape == want.shape and np.array_equal(got, want), name


def test_jpeg_decodes_within_the_tolerance_of_pillow(kit: Any) -> None:
    for name, data in jpeg_cases().items():
        got, want = decoded(kit, data), pillow_rgba(data)
        assert_close(got, want, JPEG_TOLERANCE, f"JPEG {name}")
        mean = float(np.abs(got.astype(np.int16) - want).mean())
        assert mean <= JPEG_MEAN_TOLERANCE, f"JPEG {name}: mean difference {mean:.2f}"


def test_grayscale_is_pillows_formula(kit: Any) -> None:
    for (w, h), seed in zip(SIZES + BIG, range(100), strict=False):
        img = synth(w, h, seed)
        got = np.frombuffer(kit.grayscale(img), np.uint8).reshape(img.shape)
        assert np.array_equal(got, gray_ref(img)), (w, h)
    img = photo(64, 48)
    luma = np.asarray(Image.fromarray(img[..., :3]).convert("L"))
    assert np.array_equal(gray_ref(img)[..., 0], luma)  # the formula is Pillow's
    assert kit.grayscale(b"") == b""
    assert kit.grayscale(b"\x10\x20\x30\x40\x50\x60") == b"\x1d\x1d\x1d\x40\x50\x60"


@pytest.mark.parametrize("sigma", [0.0, 0.3, 1.0, 2.5, 6.0])
def test_blur_matches_numpy(kit: Any, sigma: float) -> None:
    for (w, h), seed in zip(SIZES, range(100), strict=False):
        img = synth(w, h, seed)
        got = np.frombuffer(kit.gaussian_blur(img, w, h, sigma), np.uint8).reshape(img.shape)
        assert_close(got, blur_ref(img, sigma), 1, f"blur {w}x{h} sigma {sigma}")


@pytest.mark.parametrize(("w", "h"), SIZES)
def test_resize_matches_numpy(kit: Any, w: int, h: int) -> None:
    img = synth(w, h, w * 31 + h)
    for nw, nh in [
        (1, 1),
        (w, h),
        (2 * w + 1, h),
        (w, 3 * h),
        (max(1, w // 3), max(1, h // 2)),
        (5, 7),
    ]:
        got = np.frombuffer(kit.resize(img, w, h, nw, nh), np.uint8).reshape(nh, nw, 4)
        assert_close(got, resize_ref(img, nw, nh), 1, f"resize {w}x{h} -> {nw}x{nh}")


def test_jpeg_encoding_compares_with_pillow(kit: Any) -> None:
    img = photo(640, 480)
    for quality in (50, 75, 90):
        ours = kit.encode_jpeg(img, 640, 480, quality)
        theirs = pillow_jpeg(img, quality)
        ratio = len(ours) / len(theirs)
        assert 0.75 <= ratio <= 1.25, f"q{quality}: {len(ours)} B vs Pillow's {len(theirs)} B"
        back = pillow_rgba(ours)
        assert back.shape == img.shape
        if quality == 90:
            assert psnr(back[..., :3], img[..., :3]) >= 35
    for (w, h), quality in zip(SIZES, (1, 2, 10, 49, 50, 51, 99, 100, 75), strict=True):
        img = synth(w, h, quality)
        back = pillow_rgba(kit.encode_jpeg(img, w, h, quality))
        assert back.shape == img.shape, (w, h, quality)


def test_empty_images(kit: Any) -> None:
    assert kit.grayscale(b"") == b""
    assert kit.gaussian_blur(b"", 0, 0, 2.0) == b""
    assert kit.gaussian_blur(b"", 0, 7, 2.0) == b""
    assert kit.resize(b"", 0, 0, 0, 0) == b""
    assert kit.resize(synth(3, 2, 1), 3, 2, 0, 5) == b""
    assert kit.resize(synth(3, 2, 1), 3, 2, 4, 0) == b""


BAD_CALLS = [
    ("gaussian_blur", (b"\0" * 11, 1, 3, 1.0), "rgba has 11 bytes, but a 1x3 image needs 12"),
    ("gaussian_blur", (b"\0" * 4, 1, 1, -1.0), "sigma must be between 0 and 200, got -1"),
    ("gaussian_blur", (b"\0" * 4, 1, 1, float("nan")), "sigma must be between 0 and 200"),
    ("resize", (b"\0" * 8, 2, 2, 1, 1), "rgba has 8 bytes, but a 2x2 image needs 16"),
    ("resize", (b"", 0, 5, 3, 3), "cannot resize an empty 0x5 image to 3x3"),
    # Sizes whose byte count wraps a 64-bit product must not pass for small buffers.
    ("resize", (b"", 2**31, 2**31, 1, 1), "rgba has 0 bytes, but a 2147483648x2147483648"),
    ("gaussian_blur", (b"", 2**31, 2**31, 1.0), "rgba has 0 bytes"),
    ("resize", (b"\0" * 4, 2147418113, 2147549185, 1, 1), "rgba has 4 bytes"),
    ("resize", (b"\0" * 4, 1, 1, 2**28, 1), "at most 65536 on a side"),
    ("encode_jpeg", (b"\0" * 4, 1, 1, 0), "quality must be 1..=100, got 0"),
    ("encode_jpeg", (b"\0" * 4, 1, 1, 101), "quality must be 1..=100, got 101"),
    ("encode_jpeg", (b"", 0, 0, 75), "JPEG needs a size from 1x1 to 65535x65535, got 0x0"),
    ("decode", (b"",), "not a PNG or JPEG file (starts empty)"),
    ("decode", (b"GIF89a",), "not a PNG or JPEG file (starts 47 49 46 38)"),
    ("decode", (b"\x89PNG\r\n\x1a\n",), "invalid PNG"),
    ("decode", (b"\xff\xd8",), "invalid JPEG"),
    (
        "decode",
        (
            write_png(np.zeros((1, 1, 1), np.uint32), 0, 8)[:16]
            + struct.pack(">II", 100_000, 100_000),
        ),
        "invalid PNG",
    ),
]


@pytest.mark.parametrize(("name", "args", "why"), BAD_CALLS, ids=[c[2][:30] for c in BAD_CALLS])
def test_bad_input_is_an_error_that_says_why(
    kit: Any, name: str, args: tuple[Any, ...], why: str
) -> None:
    with pytest.raises(wasmbridge.ReturnedError) as caught:
        getattr(kit, name)(*args)
    assert why in caught.value.error


def test_corrupt_and_truncated_files_never_trap(kit: Any) -> None:
    rng = random.Random(SEED)
    files = [png_cases(19, 13)["rgba8"], png_cases(19, 13)["palette4-trns"]]
    files += [
        jpeg_cases()["q75-420"],
        jpeg_cases()["progressive"],
        kit.encode_jpeg(photo(40, 24), 40, 24, 80),
    ]
    outcomes = {"error": 0, "decoded": 0}
    for data in files:
        variants = [data[:n] for n in sorted(rng.sample(range(len(data)), 40))]
        for _ in range(60):
            mutated = bytearray(data)
            for _ in range(rng.randint(1, 4)):
                mutated[rng.randrange(2, len(data))] = rng.randrange(256)
            variants.append(bytes(mutated))
        for variant in variants:
            try:
                image = kit.decode(variant)
            except wasmbridge.ReturnedError as e:
                assert e.error.startswith(
                    ("invalid PNG: ", "invalid JPEG: ", "not a PNG or JPEG")
                ), e.error
                outcomes["error"] += 1
            else:
                assert len(image.rgba) == image.width * image.height * 4
                outcomes["decoded"] += 1
    assert outcomes["error"] > 100
    img = synth(3, 2, 1)
    assert np.array_equal(
        np.frombuffer(kit.grayscale(img), np.uint8).reshape(img.shape), gray_ref(img)
    )


# One seeded sequence, checked the same way in Python, Node and Chromium.

Call = list[Any]  # [name, image, *args]: image as ["synth", w, h, seed] or base64


def image_of(spec: Any) -> Array:
    """The call's input image, flat."""
    if isinstance(spec, str):
        return np.frombuffer(unb64(spec), np.uint8)
    return synth(spec[1], spec[2], spec[3]).reshape(-1)


def calls(rng: random.Random, big: bool) -> list[Call]:
    """A shuffled mix of every export on every size, bad calls among them."""
    out: list[Call] = []
    for (w, h), seed in zip(SIZES + (BIG if big else []), range(1000), strict=False):
        spec = ["synth", w, h, seed]
        out.append(["grayscale", spec])
        out.append(["gaussian_blur", spec, w, h, rng.choice([0.0, 0.5, 1.0, 1.7, 3.0])])
        out.append(["resize", spec, w, h, rng.randint(1, 2 * w + 1), rng.randint(1, 2 * h + 1)])
        out.append(["encode_jpeg", spec, w, h, rng.randint(1, 100)])
    for name in ("gray8", "palette4-trns", "rgba16-interlaced", "rgb8"):
        out.append(["decode", b64(png_cases(19, 13)[name])])
    for name in ("q75-420", "gray", "progressive"):
        out.append(["decode", b64(jpeg_cases()[name])])
    out.append(["encode_jpeg", b64(photo(96, 64).tobytes()), 96, 64, 90])
    out.append(["decode", b64(b"\x89PNG\r\n\x1a\nshort")])
    out.append(["gaussian_blur", ["synth", 2, 2, 1], 3, 2, 1.0])
    out.append(["encode_jpeg", ["synth", 2, 2, 1], 2, 2, 0])
    rng.shuffle(out)
    return out


def run_python(kit: Any, call: Call) -> dict[str, Any]:
    """What imagekit_check.mjs answers for ``call``, computed with the Python instance."""
    name, spec, *args = call
    try:
        if name == "decode":
            image = kit.decode(unb64(spec))
            out, extra = bytes(image.rgba), {"width": image.width, "height": image.height}
        else:
            out, extra = getattr(kit, name)(image_of(spec), *args), {}
    except wasmbridge.ReturnedError as e:
        return {"error": e.error, "name": "ReturnedError"}
    return {**extra, "sha256": hashlib.sha256(out).hexdigest(), "bytes": out}


def check_answer(call: Call, answer: dict[str, Any]) -> None:
    """``answer``'s output (bytes) against the reference for ``call``."""
    name, spec, *args = call
    out = answer["bytes"]
    if name == "decode":
        want = pillow_rgba(unb64(spec))
        got = np.frombuffer(out, np.uint8).reshape(answer["height"], answer["width"], 4)
        tolerance = JPEG_TOLERANCE if unb64(spec)[:2] == b"\xff\xd8" else 0
        assert_close(got, want, tolerance, f"decode of {unb64(spec)[:4]!r}")
        return
    if name == "grayscale":
        assert out == gray_ref(image_of(spec).reshape(-1, 1, 4)).tobytes()
        return
    w, h = args[0], args[1]
    img = image_of(spec).reshape(h, w, 4)
    if name == "gaussian_blur":
        got = np.frombuffer(out, np.uint8).reshape(h, w, 4)
        assert_close(got, blur_ref(img, args[2]), 1, f"blur {call[2:]}")
    elif name == "resize":
        nw, nh = args[2], args[3]
        got = np.frombuffer(out, np.uint8).reshape(nh, nw, 4)
        assert_close(got, resize_ref(img, nw, nh), 1, f"resize {call[2:]}")
    elif name == "encode_jpeg":
        back = pillow_rgba(out)
        assert back.shape == (h, w, 4)
        # As close to the original as Pillow's file at the same quality.
        pillows = pillow_rgba(pillow_jpeg(img, args[2]))
        assert psnr(back, img) >= psnr(pillows, img) - 1, f"encode {call[2:]}"


def test_random_sequence_on_one_instance(kit: Any) -> None:
    for call in calls(random.Random(SEED), big=True):
        answer = run_python(kit, call)
        if "error" not in answer:
            check_answer(call, answer)


def check_host(sequence: list[Call], expected: list[dict[str, Any]], result: Any) -> None:
    """A host's answers: the Python instance's bytes; the small ones also checked anew."""
    answers = result["answers"]
    assert len(answers) == len(sequence)
    for call, answer, want in zip(sequence, answers, expected, strict=True):
        if "error" in want:
            assert answer == want, call[:1] + call[2:]
            continue
        assert answer["sha256"] == want["sha256"], f"{call[0]} {call[2:]}: other bytes"
        assert answer.get("width") == want.get("width")
        if "bytes" in answer:
            check_answer(call, {**answer, "bytes": unb64(answer["bytes"])})
    assert any("bytes" in a for a in answers) and any("error" in a for a in answers)


@pytest.fixture(scope="module")
def host_calls(kit: Any) -> tuple[list[Call], list[dict[str, Any]]]:
    """The hosts' sequence and what the Python instance answers to it."""
    sequence = calls(random.Random(SEED + 1), big=True)
    return sequence, [run_python(kit, call) for call in sequence]


def test_node(example_pkg: ExamplePkg, node_host: None, host_calls: Any) -> None:
    sequence, expected = host_calls
    result = run_node(CHECK, example_pkg("imagekit"), "imagekit", {"calls": sequence})
    check_host(sequence, expected, result)


def test_chromium(example_pkg: ExamplePkg, chromium: Any, host_calls: Any) -> None:
    sequence, expected = host_calls
    result = chromium.run(CHECK, example_pkg("imagekit"), "imagekit", {"calls": sequence})
    check_host(sequence, expected, result)


def test_plain_js_in_node(example_pkg: ExamplePkg, node_host: None) -> None:
    """examples/imagekit/js/imagekit_plain.js against the same references."""
    sequence = [
        call
        for call in calls(random.Random(SEED + 2), big=False)
        if call[0] in ("grayscale", "gaussian_blur", "resize") and not isinstance(call[1], str)
    ]
    sequence.append(["resize", ["synth", 512, 512, 3], 512, 512, 301, 799])
    payload = {"calls": sequence, "plain": str(PLAIN_JS)}
    answers = run_node(PLAIN_CHECK, example_pkg("imagekit"), "imagekit", payload)
    assert len(answers) == len(sequence)
    for call, answer in zip(sequence, answers, strict=True):
        if "error" in answer:
            assert answer["name"] == "RangeError" and "rgba has" in answer["error"], answer
            continue
        check_answer(call, {"bytes": unb64(answer["bytes"])})
