"""imagekit: grayscale, Gaussian blur, bilinear resize, JPEG encoding and PNG decoding of a
1920x1080 image.

    python bench/usecases/imagekit.py [--quick]

or ``imagekit.run(report, quick)`` with bench/ on sys.path.

Contenders, each checked against a reference before it is timed: the wasm module
through wasmbridge (the image in guest memory as a GuestArray, and again passed as
a numpy array, which is copied in; the result is copied out either way),
examples/imagekit/native through ctypes (rustup's cargo, the same src/kernels/),
pure Python (written below and, for JPEG encoding, in imagekit_pure_jpeg.py; timed on
a small image and scaled per pixel), numpy (float64 references of the same definitions)
and Pillow (its own convert("L"), GaussianBlur, resize and JPEG encoder, which define
blur and resize a little differently), the plain-JS version in Node
(examples/imagekit/js) and the same .wasm in Node (imagekit.mjs), and for JPEG encoding
jpeg-js in Node (bench/node).
PNG decoding (of Pillow's PNG of the image) has wasm via wasmbridge (decode_rgba), Pillow
and the same .wasm in Node: native/ exports no decoder, and there is no pure-Python one.
"""

from __future__ import annotations

import ctypes
import functools
import io
import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

if __name__ == "__main__":  # run as a script: bench/ holds _timing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _timing import Report, Row, Timing, human, measure, verdict  # noqa: E402

import usecases  # noqa: E402
import wasmbridge  # noqa: E402
from usecases.imagekit_pure_jpeg import encode_jpeg as python_encode_jpeg  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CRATE = REPO / "examples/imagekit"
PLAIN_JS = CRATE / "js/imagekit_plain.js"
NODE_BENCH = Path(__file__).with_suffix(".mjs")
WORK = Path(tempfile.gettempdir()) / "wasmbridge-bench-imagekit"
SIZE = (1920, 1080)
SMALL = (64, 36)  # pure Python's image
JPEG_SMALL, JPEG_CHECK = (64, 48), (256, 144)  # pure Python's JPEG encoder: timed, checked
MIN_PSNR = 30.0
SIGMA, QUALITY = 2.0, 75
NATIVE_TARGET, PURE_PYTHON_TARGET = 1.5, 50.0
Array = np.ndarray[Any, Any]


# -- the image and the references -------------------------------------------------------


def photo(width: int, height: int, seed: int = 1) -> Array:
    """A photo-like RGBA image (tests/usecases/test_imagekit.py's): gradients, discs, noise."""
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
    return np.ascontiguousarray(np.dstack([rgb, np.full((height, width), 255, np.uint8)]))


def weights(sigma: float) -> list[float]:
    """The centre weight, then one side's: exp(-k^2 / 2 sigma^2), |k| <= ceil(3 sigma)."""
    radius = math.ceil(3 * sigma)
    raw = [math.exp(-(k * k) / (2 * sigma * sigma)) for k in range(radius + 1)]
    total = raw[0] + 2 * sum(raw[1:])
    return [w / total for w in raw]


def numpy_grayscale(img: Array) -> Array:
    rgb = img[..., :3].astype(np.uint32)
    luma = (19595 * rgb[..., 0] + 38470 * rgb[..., 1] + 7471 * rgb[..., 2] + 32768) >> 16
    out = img.copy()
    out[..., :3] = luma[..., None].astype(np.uint8)
    return out


def numpy_blur(img: Array, sigma: float) -> Array:
    half = weights(sigma)
    k = half[:0:-1] + half
    radius = len(half) - 1
    out = img.astype(np.float64)
    for axis in (1, 0):
        pad = [(0, 0)] * 3
        pad[axis] = (radius, radius)
        padded = np.pad(out, pad, mode="edge")
        n = out.shape[axis]
        window: list[slice] = [slice(None)] * 3
        out = np.zeros_like(out)
        for i, weight in enumerate(k):
            window[axis] = slice(i, i + n)
            out += weight * padded[tuple(window)]
    result: Array = np.floor(out + 0.5).clip(0, 255).astype(np.uint8)
    return result


def numpy_resize(img: Array, new_width: int, new_height: int) -> Array:
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
    result: Array = np.floor(top * (1 - fy) + bottom * fy + 0.5).clip(0, 255).astype(np.uint8)
    return result


def python_grayscale(rgba: bytes) -> bytearray:
    out = bytearray(rgba)
    for i in range(0, len(out) - 3, 4):
        y = (19595 * out[i] + 38470 * out[i + 1] + 7471 * out[i + 2] + 32768) >> 16
        out[i] = out[i + 1] = out[i + 2] = y
    return out


def python_blur(rgba: bytes, width: int, height: int, sigma: float) -> bytearray:
    w = weights(sigma)
    r = len(w) - 1
    stride = width * 4
    rows = [0.0] * len(rgba)
    for y in range(height):
        base = y * stride
        for x in range(width):
            for c in range(4):
                total = w[0] * rgba[base + x * 4 + c]
                for k in range(1, r + 1):
                    left, right = max(x - k, 0), min(x + k, width - 1)
                    total += w[k] * (rgba[base + left * 4 + c] + rgba[base + right * 4 + c])
                rows[base + x * 4 + c] = total
    out = bytearray(len(rgba))
    for y in range(height):
        for i in range(stride):
            total = w[0] * rows[y * stride + i]
            for k in range(1, r + 1):
                up, down = max(y - k, 0), min(y + k, height - 1)
                total += w[k] * (rows[up * stride + i] + rows[down * stride + i])
            out[y * stride + i] = min(255, int(total + 0.5))
    return out


def python_resize(rgba: bytes, width: int, height: int, nw: int, nh: int) -> bytearray:
    def taps(src: int, dst: int) -> list[tuple[int, int, float]]:
        out = []
        for i in range(dst):
            s = min(max((i + 0.5) * src / dst - 0.5, 0.0), src - 1.0)
            i0 = int(s)
            out.append((i0, min(i0 + 1, src - 1), s - i0))
        return out

    xs, stride = taps(width, nw), width * 4
    out = bytearray(nw * nh * 4)
    o = 0
    for y0, y1, fy in taps(height, nh):
        top, bottom = y0 * stride, y1 * stride
        for x0, x1, fx in xs:
            a, b = x0 * 4, x1 * 4
            for c in range(4):
                upper = rgba[top + a + c] + (rgba[top + b + c] - rgba[top + a + c]) * fx
                lower = rgba[bottom + a + c] + (rgba[bottom + b + c] - rgba[bottom + a + c]) * fx
                out[o] = int(upper + (lower - upper) * fy + 0.5)
                o += 1
    return out


def check(what: str, got: Any, want: Array, tolerance: int) -> None:
    diff = np.abs(np.frombuffer(bytes(got), np.uint8).astype(np.int16) - want.reshape(-1))
    if diff.size != want.size or diff.max(initial=0) > tolerance:
        sys.exit(f"imagekit: {what} differs from the reference by more than {tolerance}")


def psnr(jpeg: bytes, img: Array) -> float:
    back = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB")).astype(np.float64)
    return 10 * math.log10(255**2 / np.mean((back - img[..., :3]) ** 2))


# -- builds ----------------------------------------------------------------------------


def build_wasm() -> Path:
    """``wasmbridge build --profile speed --target all`` of examples/imagekit."""
    return usecases.build_wasm(CRATE, WORK)


def build_native() -> ctypes.CDLL | str:
    """examples/imagekit/native with rustup's cargo (release: opt-level 3, LTO), or why not."""
    lib = usecases.build_native(CRATE, WORK)
    if isinstance(lib, str):
        return lib
    p, u32 = ctypes.c_void_p, ctypes.c_uint32
    lib.imagekit_grayscale.argtypes = [p, ctypes.c_size_t, p]
    lib.imagekit_grayscale.restype = None
    lib.imagekit_blur.argtypes = [p, u32, u32, ctypes.c_float, p]
    lib.imagekit_resize.argtypes = [p, u32, u32, u32, u32, p]
    lib.imagekit_encode_jpeg.argtypes = [p, u32, u32, ctypes.c_uint8, p, ctypes.c_size_t]
    for name in ("imagekit_blur", "imagekit_resize", "imagekit_encode_jpeg"):
        getattr(lib, name).restype = ctypes.c_int64
    return lib


def run_node(pkg: Path, image: Path, png: Path, out_dir: Path, quick: bool) -> dict[str, Any] | str:
    """imagekit.mjs's timings, or why there are none."""
    node = shutil.which("node")
    if node is None:
        return "no node on PATH"
    try:
        from usecases import node_modules

        modules = str(node_modules())
    except (OSError, subprocess.CalledProcessError) as error:
        modules = f"(jpeg-js could not be installed: {error})"
    argv = [node, str(NODE_BENCH), str(pkg / "imagekit.js"), str(PLAIN_JS), modules, str(image)]
    argv += [*map(str, SIZE), "5" if quick else "11", str(out_dir), str(png)]
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        return f"node failed: {proc.stderr.strip()[-300:]}"
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


# -- the run ---------------------------------------------------------------------------


def run(report: Report, quick: bool) -> None:
    repeats, target_s = (3, 0.1) if quick else (7, 0.25)

    def timed(func: Callable[[], object]) -> Timing:
        return measure(func, repeats=repeats, target_s=target_s)

    print("imagekit: building examples/imagekit (wasm, speed profile) and native/", file=sys.stderr)
    wasm_path = build_wasm()
    native = build_native()
    m = wasmbridge.load(wasm_path)
    width, height = SIZE
    img = photo(width, height)
    nw, nh = width // 2, height // 2
    label = f"{width}x{height}"
    names = {
        "grayscale": f"grayscale {label}",
        "blur": f"gaussian blur σ={SIGMA:g} {label}",
        "resize": f"bilinear resize {label} → {nw}x{nh}",
        "encode": f"JPEG encode q{QUALITY} {label}",
        "decode": f"PNG decode {label}",
    }
    expected = {
        "grayscale": (numpy_grayscale(img), 0),
        "blur": (numpy_blur(img, SIGMA), 1),
        "resize": (numpy_resize(img, nw, nh), 1),
    }
    pillow_rgb = Image.fromarray(img[..., :3])
    pillow_jpeg = io.BytesIO()
    pillow_rgb.save(pillow_jpeg, "JPEG", quality=QUALITY)
    pillow_size = len(pillow_jpeg.getvalue())

    guest = m.array("uint8", img.nbytes)  # the image in guest memory: no copy in
    guest.numpy()[:] = img.reshape(-1)
    wasm_calls: dict[str, Callable[[Any], Any]] = {
        "grayscale": lambda src: m.grayscale(src),
        "blur": lambda src: m.gaussian_blur(src, width, height, SIGMA),
        "resize": lambda src: m.resize(src, width, height, nw, nh),
        "encode": lambda src: m.encode_jpeg(src, width, height, QUALITY),
    }
    wasm_times: dict[str, Timing] = {}
    wasm_jpeg = wasm_calls["encode"](img)
    for kind, call in wasm_calls.items():
        if kind in expected:
            check(f"wasm {kind}", call(guest), *expected[kind])
            check(f"wasm {kind} (numpy)", call(img), *expected[kind])
        elif call(guest) != wasm_jpeg:
            sys.exit("imagekit: encode_jpeg of a GuestArray wrote another file")
        wasm_times[kind] = timing = timed(functools.partial(call, guest))
        note = "the image is a GuestArray in guest memory (no copy in); the result copied out"
        if kind == "encode":
            note += (
                f"; {len(wasm_jpeg):,} B (Pillow {pillow_size:,} B), "
                f"PSNR {psnr(wasm_jpeg, img):.1f} dB "
                f"(Pillow {psnr(pillow_jpeg.getvalue(), img):.1f})"
            )
        report.add(Row(f"{names[kind]}: wasm via wasmbridge", timing, note=note))
        copied = timed(functools.partial(call, img))
        note = "a numpy array passed: copied into guest memory for each call"
        report.add(Row(f"{names[kind]}: wasm via wasmbridge, numpy array", copied, note=note))
    wasm_guest: dict[str, Callable[[], object]] = {
        kind: functools.partial(call, guest) for kind, call in wasm_calls.items()
    }
    native_rows(report, native, img, names, expected, wasm_guest, 3 if quick else 15)
    guest.free()
    reference_rows(report, img, pillow_rgb, names, timed)
    pure_python(report, names, wasm_times)
    pure_python_jpeg(report, names, wasm_times)
    png = decode_rows(report, m, img, names, timed)
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "image.rgba"
        source.write_bytes(img.tobytes())
        png_path = Path(scratch) / "image.png"
        png_path.write_bytes(png)
        node = run_node(wasm_path.parent, source, png_path, Path(scratch), quick)
        node_rows(report, node, Path(scratch), names, expected, wasm_times, wasm_jpeg, img)
    m.close()


def native_rows(
    report: Report,
    native: ctypes.CDLL | str,
    img: Array,
    names: dict[str, str],
    expected: dict[str, tuple[Array, int]],
    wasm: dict[str, Callable[[], object]],
    samples: int,
) -> None:
    """Native rows, each timed in turns with the wasm call (GuestArray in): sample by
    sample, so that a burst of load from elsewhere slows both alike."""
    if isinstance(native, str):
        report.notes.append(f"imagekit native rows: {native}")
        return
    height, width = img.shape[:2]
    nw, nh = width // 2, height // 2
    src = img.ctypes.data
    out = np.zeros(img.nbytes + (1 << 20), np.uint8)
    dst = out.ctypes.data
    calls: dict[str, tuple[Callable[[], object], int]] = {
        "grayscale": (lambda: native.imagekit_grayscale(src, img.nbytes, dst), img.nbytes),
        "blur": (lambda: native.imagekit_blur(src, width, height, SIGMA, dst), img.nbytes),
        "resize": (lambda: native.imagekit_resize(src, width, height, nw, nh, dst), nw * nh * 4),
        "encode": (
            lambda: native.imagekit_encode_jpeg(src, width, height, QUALITY, dst, out.nbytes),
            0,
        ),
    }
    for kind, (call, size) in calls.items():
        call()
        if kind in expected:
            check(f"native {kind}", out[:size], *expected[kind])
        wasm_timing, timing = in_turns(wasm[kind], call, samples)
        report.add(Row(f"{names[kind]}: native (ctypes)", timing, note="same src/kernels/, x86-64"))
        ratio = wasm_timing.median_s / timing.median_s
        report.add(
            Row(
                f"target: {kind} wasm ≤ 1.5× native",
                value=f"{ratio:.2f}×",
                target=f"≤ {NATIVE_TARGET}×",
                verdict=verdict(ratio <= NATIVE_TARGET),
                note=f"medians of {samples} samples taken in turns: wasm via wasmbridge "
                f"(GuestArray in, result out; {human(wasm_timing.median_s)}) / native",
            )
        )


def in_turns(
    first: Callable[[], object], second: Callable[[], object], samples: int
) -> tuple[Timing, Timing]:
    """Both timed one call at a time, alternating (after one warm-up call each)."""
    first()
    second()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(samples):
        for func, found in zip((first, second), times, strict=True):
            start = time.perf_counter()
            func()
            found.append(time.perf_counter() - start)
    first_timing, second_timing = (Timing(min(t), statistics.median(t), 1) for t in times)
    return first_timing, second_timing


def reference_rows(
    report: Report,
    img: Array,
    pillow_rgb: Image.Image,
    names: dict[str, str],
    timed: Callable[[Callable[[], object]], Timing],
) -> None:
    height, width = img.shape[:2]
    pillow_rgba = Image.fromarray(img)

    def save() -> None:
        pillow_rgb.save(io.BytesIO(), "JPEG", quality=QUALITY)

    rows: list[tuple[str, Callable[[], object], str]] = [
        ("grayscale", lambda: numpy_grayscale(img), "numpy, the same formula"),
        ("grayscale", lambda: pillow_rgba.convert("L"), "Pillow convert('L'), 1 channel out"),
        ("blur", lambda: numpy_blur(img, SIGMA), "numpy float64, the same definition"),
        (
            "blur",
            lambda: pillow_rgba.filter(ImageFilter.GaussianBlur(SIGMA)),
            "Pillow GaussianBlur (box-filter approximation)",
        ),
        ("resize", lambda: numpy_resize(img, width // 2, height // 2), "numpy float64"),
        (
            "resize",
            lambda: pillow_rgba.resize((width // 2, height // 2), Image.Resampling.BILINEAR),
            "Pillow BILINEAR (antialiased: a wider filter when shrinking)",
        ),
        ("encode", save, "Pillow (libjpeg-turbo, SIMD)"),
    ]
    for kind, call, what in rows:
        contender = what.split(" ", 1)[0].rstrip(",")
        report.add(Row(f"{names[kind]}: {contender}", timed(call), note=what))


def pure_python(report: Report, names: dict[str, str], wasm_times: dict[str, Timing]) -> None:
    """Pure Python on a 64x36 image, scaled per pixel to 1920x1080."""
    w, h = SMALL
    small = photo(w, h)
    data = small.tobytes()
    calls: dict[str, tuple[Callable[[], bytearray], Array, int]] = {
        "grayscale": (lambda: python_grayscale(data), numpy_grayscale(small), 0),
        "blur": (lambda: python_blur(data, w, h, SIGMA), numpy_blur(small, SIGMA), 1),
        "resize": (
            lambda: python_resize(data, w, h, w // 2, h // 2),
            numpy_resize(small, w // 2, h // 2),
            1,
        ),
    }
    scale = (SIZE[0] * SIZE[1]) / (w * h)
    for kind, (call, want, tolerance) in calls.items():
        check(f"pure Python {kind}", call(), want, tolerance)
        per_small = measure(call, repeats=3, target_s=0.1)
        timing = per_small.scaled(scale)
        report.add(
            Row(
                f"{names[kind]}: pure Python",
                timing,
                note=f"timed on {w}x{h} ({human(per_small.median_s)}), scaled ×{scale:.0f}",
            )
        )
        speedup = timing.median_s / wasm_times[kind].median_s
        report.add(
            Row(
                f"target: {kind} wasm ≥ 50× faster than pure Python",
                value=f"{speedup:,.0f}×",
                target=f"≥ {PURE_PYTHON_TARGET:.0f}×",
                verdict=verdict(speedup >= PURE_PYTHON_TARGET),
            )
        )


def pure_python_jpeg(report: Report, names: dict[str, str], wasm_times: dict[str, Timing]) -> None:
    """imagekit_pure_jpeg's encoder on a 64x48 image, scaled per pixel to 1920x1080;
    checked on that image (Pillow opens it; PSNR near Pillow's own at the same quality)
    and on a 256x144 one (PSNR >= 30 dB: at 64x48 the synthetic photo has so much detail
    per pixel that Pillow's own file is under 30 dB too)."""
    psnrs: dict[tuple[int, int], tuple[float, float]] = {}
    for w, h in (JPEG_CHECK, JPEG_SMALL):
        small = photo(w, h)
        try:
            jpeg = python_encode_jpeg(small.tobytes(), w, h, QUALITY)
            opened = Image.open(io.BytesIO(jpeg))
            opened.load()
        except Exception as error:  # noqa: BLE001 - any failure to encode or open
            sys.exit(f"imagekit: Pillow cannot open pure Python's JPEG ({w}x{h}): {error}")
        if opened.size != (w, h):
            sys.exit(f"imagekit: pure Python's JPEG is {opened.size}, not {(w, h)}")
        pillow = io.BytesIO()
        Image.fromarray(small[..., :3]).save(pillow, "JPEG", quality=QUALITY)
        got, theirs = psnrs[w, h] = psnr(jpeg, small), psnr(pillow.getvalue(), small)
        if (w, h) == JPEG_CHECK and got < MIN_PSNR:
            sys.exit(f"imagekit: pure Python's JPEG ({w}x{h}) has PSNR {got:.1f} dB < {MIN_PSNR}")
        if got < theirs - 0.5:
            sys.exit(
                f"imagekit: pure Python's JPEG ({w}x{h}): PSNR {got:.1f} dB, Pillow {theirs:.1f}"
            )
    w, h = JPEG_SMALL
    data = small.tobytes()
    scale = (SIZE[0] * SIZE[1]) / (w * h)
    per_small = measure(lambda: python_encode_jpeg(data, w, h, QUALITY), repeats=3, target_s=0.1)
    timing = per_small.scaled(scale)
    report.add(
        Row(
            f"{names['encode']}: pure Python",
            timing,
            note=f"timed on {w}x{h} ({human(per_small.median_s)}), scaled ×{scale:.0f}; "
            f"imagekit_pure_jpeg.py (4:2:0, separable float DCT); {len(jpeg):,} B at {w}x{h}, "
            f"PSNR {got:.1f} dB (Pillow {theirs:.1f}); at {JPEG_CHECK[0]}x{JPEG_CHECK[1]} "
            f"{psnrs[JPEG_CHECK][0]:.1f} dB (Pillow {psnrs[JPEG_CHECK][1]:.1f})",
        )
    )
    speedup = timing.median_s / wasm_times["encode"].median_s
    report.add(
        Row(
            "target: encode wasm ≥ 50× faster than pure Python",
            value=f"{speedup:,.0f}×",
            target=f"≥ {PURE_PYTHON_TARGET:.0f}×",
            verdict=verdict(speedup >= PURE_PYTHON_TARGET),
        )
    )


def decode_rows(
    report: Report,
    m: Any,
    img: Array,
    names: dict[str, str],
    timed: Callable[[Callable[[], object]], Timing],
) -> bytes:
    """PNG decoding of Pillow's PNG of the image; returns the PNG (for Node)."""
    buffer = io.BytesIO()
    Image.fromarray(img).save(buffer, "PNG")
    png = buffer.getvalue()
    want = img.tobytes()

    def pillow() -> bytes:
        return Image.open(io.BytesIO(png)).convert("RGBA").tobytes()

    if bytes(m.decode_rgba(png)) != want:
        sys.exit("imagekit: wasm decode_rgba of the PNG is not the image")
    if pillow() != want:
        sys.exit("imagekit: Pillow's decoding of the PNG is not the image")
    rows: list[tuple[str, Callable[[], object], str]] = [
        (
            "wasm via wasmbridge",
            lambda: m.decode_rgba(png),
            f"decode_rgba: the {len(png):,} B PNG (Pillow's, RGBA) copied in, the pixels out",
        ),
        ("Pillow", pillow, "Image.open(...).convert('RGBA').tobytes() (libpng/zlib)"),
    ]
    for name, call, note in rows:
        report.add(Row(f"{names['decode']}: {name}", timed(call), note=note))
    report.notes.append(
        "imagekit: no native PNG decode row (examples/imagekit/native exports no decoder)."
    )
    return png


def node_rows(
    report: Report,
    node: dict[str, Any] | str,
    outputs: Path,
    names: dict[str, str],
    expected: dict[str, tuple[Array, int]],
    wasm_times: dict[str, Timing],
    wasm_jpeg: bytes,
    img: Array,
) -> None:
    if isinstance(node, str):
        report.notes.append(f"imagekit Node rows: {node}")
        return
    for kind in ("grayscale", "blur", "resize"):
        check(f"plain JS {kind}", (outputs / f"plain_{kind}.bin").read_bytes(), *expected[kind])
        check(f"Node wasm {kind}", (outputs / f"wasm_{kind}.bin").read_bytes(), *expected[kind])
    if (outputs / "wasm_encode.bin").read_bytes() != wasm_jpeg:
        sys.exit("imagekit: the .wasm in Node wrote another JPEG than in Python")
    if "wasm_decode" in node and (outputs / "wasm_decode.bin").read_bytes() != img.tobytes():
        sys.exit("imagekit: the .wasm in Node decoded the PNG to another image")
    rows = [
        ("grayscale", "plain", "plain JS in Node", "examples/imagekit/js/imagekit_plain.js"),
        ("grayscale", "wasm", "same .wasm in Node", "the generated module: copied in and out"),
        ("blur", "plain", "plain JS in Node", "examples/imagekit/js/imagekit_plain.js"),
        ("blur", "wasm", "same .wasm in Node", "the generated module: copied in and out"),
        ("resize", "plain", "plain JS in Node", "examples/imagekit/js/imagekit_plain.js"),
        ("resize", "wasm", "same .wasm in Node", "the generated module: copied in and out"),
        ("encode", "wasm", "same .wasm in Node", "the generated module: copied in and out"),
        ("encode", "jpegjs", "jpeg-js in Node", "jpeg-js 0.4 (bench/node), pure JS, 4:4:4"),
        ("decode", "wasm", "same .wasm in Node", "decode_rgba: the PNG copied in, pixels out"),
    ]
    for kind, contender, name, note in rows:
        seconds = node.get(f"{contender}_{kind}")
        if seconds is None:
            missing = "jpeg-js row (bench/node's modules are missing)"
            if contender != "jpegjs":
                missing = f"Node {contender} {kind} row (imagekit.mjs did not time it)"
            report.notes.append(f"imagekit: no {missing}")
            continue
        if contender == "jpegjs":
            jpeg = (outputs / "jpegjs_encode.bin").read_bytes()
            note += f"; {len(jpeg):,} B, PSNR {psnr(jpeg, img):.1f} dB"
        report.add(
            Row(f"{names[kind]}: {name}", Timing(seconds["min"], seconds["median"], 1), note=note)
        )
    for kind, contender, what in (
        ("grayscale", "plain", "plain JS"),
        ("blur", "plain", "plain JS"),
        ("resize", "plain", "plain JS"),
        ("encode", "jpegjs", "jpeg-js"),
    ):
        if f"{contender}_{kind}" not in node:
            continue
        theirs = node[f"{contender}_{kind}"]["median"]
        report.add(
            Row(
                f"target: {kind} wasm faster than {what}",
                value=f"{theirs / wasm_times[kind].median_s:.1f}×",
                target="> 1×",
                verdict=verdict(wasm_times[kind].median_s < theirs),
                note=f"{what} in Node / wasm via wasmbridge from Python, medians",
            )
        )


if __name__ == "__main__":
    quick = "--quick" in sys.argv[1:]
    result = Report("imagekit (bench/usecases/imagekit.py)")
    run(result, quick)
    print(result.markdown())
