"""videofx: grayscale with contrast and sepia on a 3840x2160 RGBA frame, in place.

    python bench/usecases/videofx.py [--quick]

or ``videofx.run(report, quick)`` with bench/ on sys.path.

Contenders, each checked against numpy before it is timed: the wasm module through
wasmbridge on a frame that lives in guest memory (a GuestArray: no copy in or out),
the same with the frame passed as a numpy view of that memory (which the runtime
copies in and back), examples/videofx/native through ctypes (rustup's cargo, the
same src/kernels.rs: its SSE2 code and its scalar loop), numpy, pure Python (on a
small frame, scaled per pixel), the plain-JS version in Node and the same .wasm in
Node (videofx.mjs). Then the "avoid the bridge" rows: grayscale of a 1920x1080
frame with one call per pixel, per row and per frame.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

if __name__ == "__main__":  # run as a script: bench/ holds _timing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _timing import Report, Row, Timing, human, measure, verdict  # noqa: E402

import usecases  # noqa: E402
import wasmbridge  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CRATE = REPO / "examples/videofx"
PLAIN_JS = CRATE / "js/videofx_plain.js"
NODE_BENCH = Path(__file__).with_suffix(".mjs")
WORK = Path(tempfile.gettempdir()) / "wasmbridge-bench-videofx"
UHD = (3840, 2160)
HD = (1920, 1080)
CONTRAST = 1.4
SEED = 7
SEPIA = np.array([[101, 197, 48], [89, 176, 43], [70, 137, 34]], dtype=np.int32)
NATIVE_TARGET, PURE_PYTHON_TARGET, FPS_TARGET = 1.5, 50.0, 60.0


# -- references ------------------------------------------------------------------------


def contrast_factor(contrast: float) -> int:
    c = np.float32(contrast)
    if np.isnan(c) or c <= 0:
        return 0
    return 4096 if c >= 16 else int(c * np.float32(256))


def numpy_grayscale_contrast(frame: np.ndarray, contrast: float) -> None:
    """In place, as examples/videofx/README.md defines it."""
    p = frame.reshape(-1, 4)
    rgb = p[:, :3].astype(np.int32)
    y = (77 * rgb[:, 0] + 150 * rgb[:, 1] + 29 * rgb[:, 2] + 128) >> 8
    t = np.clip((((y - 128) * contrast_factor(contrast) + 128) >> 8) + 128, 0, 255)
    p[:, :3] = t.astype(np.uint8)[:, None]


def numpy_sepia(frame: np.ndarray) -> None:
    p = frame.reshape(-1, 4)
    rgb = (p[:, :3].astype(np.int32) @ SEPIA.T + 128) >> 8
    p[:, :3] = np.minimum(rgb, 255).astype(np.uint8)


def python_grayscale_contrast(frame: bytearray, contrast: float) -> None:
    k = contrast_factor(contrast)
    for i in range(0, len(frame), 4):
        y = (77 * frame[i] + 150 * frame[i + 1] + 29 * frame[i + 2] + 128) >> 8
        t = min(255, max(0, (((y - 128) * k + 128) >> 8) + 128))
        frame[i] = frame[i + 1] = frame[i + 2] = t


def python_sepia(frame: bytearray) -> None:
    for i in range(0, len(frame), 4):
        r, g, b = frame[i], frame[i + 1], frame[i + 2]
        frame[i] = min(255, (101 * r + 197 * g + 48 * b + 128) >> 8)
        frame[i + 1] = min(255, (89 * r + 176 * g + 43 * b + 128) >> 8)
        frame[i + 2] = min(255, (70 * r + 137 * g + 34 * b + 128) >> 8)


def synth(nbytes: int, seed: int) -> np.ndarray:
    """videofx.mjs's frame: a 32-bit mix of each byte's index."""
    with np.errstate(over="ignore"):
        x = np.arange(nbytes, dtype=np.uint32) * np.uint32(0x9E3779B1) ^ np.uint32(seed)
        x ^= x >> np.uint32(15)
        x *= np.uint32(0x85EBCA77)
        x ^= x >> np.uint32(13)
    return (x & np.uint32(255)).astype(np.uint8)


# -- builds ----------------------------------------------------------------------------


def build_wasm() -> Path:
    """``wasmbridge build --profile speed --target all`` of examples/videofx."""
    return usecases.build_wasm(CRATE, WORK)


def build_native() -> ctypes.CDLL | str:
    """examples/videofx/native with rustup's cargo (release: opt-level 3, LTO), or why not."""
    lib = usecases.build_native(CRATE, WORK)
    if isinstance(lib, str):
        return lib
    for name in ("videofx_grayscale_contrast", "videofx_grayscale_contrast_scalar"):
        getattr(lib, name).argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_float]
        getattr(lib, name).restype = None
    for name in ("videofx_sepia", "videofx_sepia_scalar"):
        getattr(lib, name).argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        getattr(lib, name).restype = None
    return lib


def run_node(pkg: Path, quick: bool) -> dict[str, Any] | str:
    """videofx.mjs's timings, or why there are none."""
    node = shutil.which("node")
    if node is None:
        return "no node on PATH"
    argv = [node, str(NODE_BENCH), str(pkg / "videofx.js"), str(PLAIN_JS), *map(str, UHD)]
    proc = subprocess.run([*argv, "5" if quick else "15"], capture_output=True, text=True)
    if proc.returncode != 0:
        return f"node failed: {proc.stderr.strip()[-300:]}"
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


# -- the run ---------------------------------------------------------------------------


def run(report: Report, quick: bool) -> None:
    repeats, target_s = (3, 0.1) if quick else (7, 0.25)

    def timed(func: Callable[[], object]) -> Timing:
        return measure(func, repeats=repeats, target_s=target_s)

    print("videofx: building examples/videofx (wasm, speed profile) and native/", file=sys.stderr)
    wasm_path = build_wasm()
    native = build_native()
    m = wasmbridge.load(wasm_path)
    n = UHD[0] * UHD[1] * 4
    source = synth(n, SEED)
    expected = {"grayscale": source.copy(), "sepia": source.copy()}
    numpy_grayscale_contrast(expected["grayscale"], CONTRAST)
    numpy_sepia(expected["sepia"])
    label = f"{UHD[0]}x{UHD[1]}"

    with m.array("uint8", n) as guest:
        view = guest.numpy()
        wasm_calls: dict[str, Callable[[], object]] = {
            "grayscale": lambda: m.grayscale_contrast(guest, CONTRAST),
            "sepia": lambda: m.sepia(guest),
        }
        copied_calls: dict[str, Callable[[], object]] = {
            "grayscale": lambda: m.grayscale_contrast(view, CONTRAST),
            "sepia": lambda: m.sepia(view),
        }
        wasm_times: dict[str, Timing] = {}
        for kind in ("grayscale", "sepia"):
            view[:] = source
            wasm_calls[kind]()
            check(f"wasm {kind}", view, expected[kind])
            view[:] = source
            copied_calls[kind]()
            check(f"wasm {kind} (numpy view)", view, expected[kind])
            # In place: later calls filter filtered pixels; the work per pixel is the same.
            wasm_times[kind] = timing = timed(wasm_calls[kind])
            report.add(
                Row(
                    f"{kind} {label}: wasm via wasmbridge",
                    timing,
                    note=f"{fps(timing)}; the frame is a GuestArray in guest memory (no copy)",
                )
            )
            copied = timed(copied_calls[kind])
            report.add(
                Row(
                    f"{kind} {label}: wasm via wasmbridge, numpy view passed",
                    copied,
                    note=f"{fps(copied)}; guest.numpy() instead of guest: copied in and back",
                )
            )
            report.add(
                Row(
                    f"target: {kind} ≥ 60 fps from Python",
                    value=fps(timing),
                    target="≥ 60 fps (median)",
                    verdict=verdict(1 / timing.median_s >= FPS_TARGET),
                )
            )

    frame = source.copy()
    address = frame.ctypes.data
    if isinstance(native, str):
        report.notes.append(f"videofx native rows: {native}")
    else:
        native_calls: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
            "grayscale": (
                lambda: native.videofx_grayscale_contrast(address, n, CONTRAST),
                lambda: native.videofx_grayscale_contrast_scalar(address, n, CONTRAST),
            ),
            "sepia": (
                lambda: native.videofx_sepia(address, n),
                lambda: native.videofx_sepia_scalar(address, n),
            ),
        }
        for kind, (call, scalar) in native_calls.items():
            for func in (call, scalar):
                frame[:] = source
                func()
                check(f"native {kind}", frame, expected[kind])
            timing = timed(call)
            report.add(
                Row(
                    f"{kind} {label}: native (ctypes)",
                    timing,
                    note=f"{fps(timing)}; SSE2, the same steps as the wasm simd128 code",
                )
            )
            slow = timed(scalar)
            report.add(
                Row(
                    f"{kind} {label}: native, scalar loop (ctypes)",
                    slow,
                    note=f"{fps(slow)}; the fallback loop, which the compiler leaves scalar",
                )
            )
            ratio = wasm_times[kind].median_s / timing.median_s
            report.add(
                Row(
                    f"target: {kind} wasm ≤ 1.5× native",
                    value=f"{ratio:.2f}×",
                    target=f"≤ {NATIVE_TARGET}×",
                    verdict=verdict(ratio <= NATIVE_TARGET),
                    note="median wasm (GuestArray) / median native SSE2, same src/kernels.rs",
                )
            )

    numpy_calls: dict[str, Callable[[], object]] = {
        "grayscale": lambda: numpy_grayscale_contrast(frame, CONTRAST),
        "sepia": lambda: numpy_sepia(frame),
    }
    for kind, call in numpy_calls.items():
        timing = timed(call)
        report.add(Row(f"{kind} {label}: numpy", timing, note=fps(timing)))

    pure_python(report, wasm_times, label, n)
    node_rows(report, run_node(wasm_path.parent, quick), wasm_times, expected, label)
    avoid_the_bridge(report, m, timed)
    m.close()


def pure_python(report: Report, wasm_times: dict[str, Timing], label: str, n: int) -> None:
    """Pure Python on a 160x90 frame, scaled per pixel to the big one."""
    small = synth(160 * 90 * 4, SEED)
    calls: dict[str, tuple[Callable[[bytearray], None], Callable[[np.ndarray], None]]] = {
        "grayscale": (
            functools.partial(python_grayscale_contrast, contrast=CONTRAST),
            functools.partial(numpy_grayscale_contrast, contrast=CONTRAST),
        ),
        "sepia": (python_sepia, numpy_sepia),
    }
    scale = n / small.nbytes
    for kind, (python, reference) in calls.items():
        data = bytearray(small.tobytes())
        python(data)
        want = small.copy()
        reference(want)
        check(f"pure Python {kind}", np.frombuffer(data, np.uint8), want)
        buffer = bytearray(small.tobytes())
        per_small = measure(functools.partial(python, buffer), repeats=3, target_s=0.1)
        timing = per_small.scaled(scale)
        report.add(
            Row(
                f"{kind} {label}: pure Python",
                timing,
                note=f"timed on 160x90 ({human(per_small.median_s)}), "
                f"scaled ×{scale:.0f} per pixel",
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


def node_rows(
    report: Report,
    node: dict[str, Any] | str,
    wasm_times: dict[str, Timing],
    expected: dict[str, np.ndarray],
    label: str,
) -> None:
    if isinstance(node, str):
        report.notes.append(f"videofx Node rows: {node}")
        return
    for kind in ("grayscale", "sepia"):
        want = hash_of(expected[kind])
        for contender in ("plain", "glue", "raw"):
            got = node["digests"][f"{contender}_{kind}"]
            if got != want:
                sys.exit(f"videofx: Node's {contender} {kind} differs from numpy")
        rows = {
            "plain": ("plain JS in Node", "examples/videofx/js/videofx_plain.js"),
            "glue": ("same .wasm in Node", "the generated module: copied in and back"),
            "raw": ("same .wasm in Node, raw exports", "frame in guest memory, no copies"),
        }
        for contender, (name, note) in rows.items():
            seconds = node[f"{contender}_{kind}"]
            timing = Timing(seconds["min"], seconds["median"], 1)
            report.add(Row(f"{kind} {label}: {name}", timing, note=f"{fps(timing)}; {note}"))
        plain = node[f"plain_{kind}"]["median"]
        report.add(
            Row(
                f"target: {kind} wasm faster than plain JS",
                value=f"{plain / wasm_times[kind].median_s:.1f}×",
                target="> 1×",
                verdict=verdict(wasm_times[kind].median_s < plain),
                note="plain JS in Node / wasm via wasmbridge, medians",
            )
        )
        glue = node[f"glue_{kind}"]["median"]
        report.add(
            Row(
                f"target: {kind} wasm in Node faster than plain JS in Node",
                value=f"{plain / glue:.1f}×",
                target="> 1×",
                verdict=verdict(glue < plain),
                note="plain JS / the generated module (with its two copies), medians",
            )
        )


def avoid_the_bridge(
    report: Report, m: Any, timed: Callable[[Callable[[], object]], Timing]
) -> None:
    """Grayscale of one 1920x1080 frame: one call per pixel, per row, per frame."""
    width, height = HD
    source = synth(width * height * 4, SEED + 1)
    want = source.copy()
    numpy_grayscale_contrast(want, 1.0)
    label = f"grayscale {width}x{height}, calls"
    pixel = m.grayscale_pixel

    # One call per pixel: a sample of rows, scaled to the frame.
    rows_timed = 8
    frame = source.reshape(height, width, 4).copy()

    def per_pixel() -> None:
        for row in frame[:rows_timed].tolist():
            for r, g, b, _ in row:
                pixel(r, g, b)

    lumas = [pixel(r, g, b) for r, g, b, _ in frame[0].tolist()]
    if lumas != want.reshape(height, width, 4)[0, :, 0].tolist():
        sys.exit("videofx: grayscale_pixel differs from numpy")
    sample = measure(per_pixel, repeats=3, target_s=0.1)
    scale = height / rows_timed
    timing = sample.scaled(scale)
    report.add(
        Row(
            f"{label}: one per pixel (wasmbridge)",
            timing,
            note=f"{width * height:,} calls; {rows_timed} rows timed and scaled; "
            "reading the pixels and the calls only, the lumas are not stored",
        )
    )

    rows = source.reshape(height, width * 4).copy()
    grayscale_row = m.grayscale_row

    def per_row() -> None:
        for row in rows:
            grayscale_row(row)

    per_row()
    check("grayscale_row", rows.reshape(-1), want)
    report.add(
        Row(
            f"{label}: one per row (wasmbridge)",
            timed(per_row),
            note=f"{height:,} calls on numpy rows: each row copied in and back",
        )
    )

    whole = source.copy()
    m.grayscale_row(whole)
    check("grayscale_row, whole frame", whole, want)
    report.add(
        Row(
            f"{label}: one per frame (wasmbridge)",
            timed(lambda: m.grayscale_row(whole)),
            note="1 call on a numpy array: copied in and back",
        )
    )
    with m.array("uint8", whole.nbytes) as guest:
        guest.numpy()[:] = source
        m.grayscale_row(guest)
        check("grayscale_row, GuestArray", guest.numpy(), want)
        report.add(
            Row(
                f"{label}: one per frame, GuestArray (wasmbridge)",
                timed(lambda: m.grayscale_row(guest)),
                note="1 call, the frame in guest memory: no copies",
            )
        )


# -- helpers ---------------------------------------------------------------------------


def fps(timing: Timing) -> str:
    return f"{1 / timing.median_s:,.1f} fps"


def hash_of(data: np.ndarray) -> str:
    return hashlib.sha256(data.tobytes()).hexdigest()


def check(what: str, got: np.ndarray, want: np.ndarray) -> None:
    if not np.array_equal(got, want):
        at = int(np.nonzero(got != want)[0][0])
        sys.exit(f"videofx: {what} differs from numpy at byte {at}: {got[at]} != {want[at]}")


if __name__ == "__main__":
    started = time.perf_counter()
    report = Report("videofx: filters on RGBA frames")
    run(report, quick="--quick" in sys.argv)
    print(report.markdown())
    print(f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
