"""Compute kernels as WebAssembly next to the same Rust compiled natively, then the use cases.

    python bench/kernels.py [--only kernels|usecases] [--quick]

Part 1, the kernels. Builds bench/crates/kernels with the CLI three ways (the size profile, the
speed profile, the speed profile without simd128) and its native/ crate, which
includes the same src/kernels.rs, with rustup's cargo for the host (opt-level
3, then again with -C target-cpu=native). Every build is checked against
hashlib and a numpy blur first; a mismatch stops the run. Then SHA-256 (1 MiB,
64 KiB) and a 3x3 box blur of 8-bit grayscale (1920x1080, 512x512) are timed
side by side: wasm through wasmbridge, native through ctypes, hashlib and
numpy. Prints a table and saves it to bench/results/kernels.md (+ .json).

Targets (DESIGN.md): SHA-256, wasm (speed profile) <= 1.3x native; the blur,
wasm (speed, simd128) <= 1.6x native. A newer rustc with the wasm32 target,
when one exists, builds the speed profile once more for its own rows.

Part 2, the use cases (examples/imagekit, videofx, cryptokit, physics; one
module each in bench/usecases/): each workload as wasm through wasmbridge from
Python, the same Rust native, pure Python, the reference library (Pillow,
numpy, hashlib, PyJWT), plain JS in Node and the same .wasm in Node, with the
targets: wasm <= 1.5x native, >= 50x faster than pure Python, faster than plain
JS, a 4K frame filter at >= 60 fps from Python. Saved to
bench/results/usecases.md (+ .json) with a chart, bench/results/usecases.png.
`--quick` times fewer samples (a check that everything runs, not a result).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import hashlib
import importlib
import io
import os
import platform
import random
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _timing import Report, Row, Timing, verdict  # noqa: E402

import wasmbridge  # noqa: E402
from wasmbridge import cli  # noqa: E402
from wasmbridge.build import toolchain  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CRATE = REPO / "bench/crates/kernels"
NATIVE = CRATE / "native"
# Kept between runs (like bench/bridge.py's), one per build, so a rerun only relinks.
TARGET_DIR = Path(tempfile.gettempdir()) / "wasmbridge-bench-kernels"

SEED = 8
SHA_SIZES = (0, 1, 55, 56, 63, 64, 65, 4096, 65535, 65536, 65537, 1 << 20)
BLUR_SIZES = ((1, 1), (2, 3), (3, 2), (1, 9), (9, 1), (7, 13), (31, 17), (512, 512), (1920, 1080))
SAMPLES = 60  # per row; the rows of a workload take turns, one sample each
BATCH_S = 0.01  # a sample: enough calls in a row to last about this long
SHA_TARGET, BLUR_TARGET = 1.3, 1.6


@dataclass
class KernelRow(Row):
    throughput: str = ""
    ratio: str = ""


class KernelReport(Report):
    """bench/_timing's Report with a throughput and a "× native" column."""

    def markdown(self) -> str:
        machine = (
            f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}, load {os.getloadavg()[0]:.2f} "
            f"({time.strftime('%Y-%m-%d %H:%M')}). min / median over {SAMPLES} samples."
        )
        lines = [
            f"## {self.title}",
            "",
            machine,
            "",
            "| measurement | min / median | throughput | × native | target | verdict | note |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in self.rows:
            shown = row.timing.fmt() if row.timing else row.value
            extra = (row.throughput, row.ratio) if isinstance(row, KernelRow) else ("", "")
            cells = [row.name, shown, *extra, row.target, row.verdict, row.note]
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", *[f"- {note}" for note in self.notes]]
        return "\n".join(lines) + "\n"


@dataclass
class WasmBuild:
    label: str  # "speed, simd128 (rustc 1.63.0)"
    path: Path
    compiling: str  # the CLI's Compiling line: profile, simd128, settings it honoured
    simd_ops: int | None
    targeted: bool  # the speed profile with simd128: the DESIGN.md targets apply


@dataclass
class Tools:
    wasm_rustc: toolchain.RustcCheck  # the one `wasmbridge build` picks
    newer: list[toolchain.RustcCheck]  # newer rustcs with the wasm32 target
    others: str  # why the remaining rustcs cannot build wasm32
    cargo: Path  # rustup's, for the native build
    wasm_opt: toolchain.Tool


@dataclass
class Contenders:
    """Everything timed: wasm instances (one per build, one more under a time limit)
    and the native libraries."""

    builds: list[WasmBuild]
    instances: dict[str, Any]
    limited: Any  # builds[0] loaded with Limits(timeout_s=60)
    natives: dict[str, NativeKernels]

    @property
    def speed(self) -> Any:
        return self.instances[self.builds[0].label]


@dataclass
class Impl:
    label: str
    call: Callable[[], object]
    kind: str  # "wasm", "native" (the first is the baseline) or "reference"
    targeted: bool = False
    samples: list[float] = field(default_factory=list)  # seconds per call
    batch: int = 1  # calls per sample

    @property
    def timing(self) -> Timing:
        return Timing(min(self.samples), statistics.median(self.samples), self.batch)


@dataclass
class Workload:
    title: str
    unit: Callable[[float], str]  # seconds per call -> throughput text
    target: float
    impls: list[Impl] = field(default_factory=list)


# -- toolchains ---------------------------------------------------------------


def rustc_info(rustc: Path) -> str:
    """``1.63.0 (LLVM 14.0.6)`` from ``rustc -vV``."""
    out = subprocess.run([str(rustc), "-vV"], capture_output=True, text=True).stdout
    release = re.search(r"^release: (.+)$", out, re.M)
    llvm = re.search(r"^LLVM version: (.+)$", out, re.M)
    return f"{release.group(1) if release else '?'} (LLVM {llvm.group(1) if llvm else '?'})"


def version_key(version: str | None) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version or "")[:3])


def find_tools() -> Tools:
    """The rustc `wasmbridge build` uses, any newer one with the wasm32 target (PATH,
    fallbacks and rustup's toolchains), rustup's cargo and wasm-opt."""
    diagnosis = toolchain.diagnose()
    chosen = diagnosis.chosen
    if chosen is None:
        sys.exit(str(toolchain.missing_toolchain_error(diagnosis.rustcs)))
    checks = list(diagnosis.rustcs)
    seen = {check.path.resolve() for check in checks if check.path.exists()}
    for path in sorted(Path.home().glob(".rustup/toolchains/*/bin/rustc")):
        if path.resolve() not in seen:
            checks.append(toolchain.check_rustc(path, os.environ))
    newer = [c for c in checks if c.ok and version_key(c.version) > version_key(chosen.version)]
    others = "; ".join(c.describe() for c in checks if not c.ok)
    return Tools(chosen, newer, others, native_cargo(), diagnosis.wasm_opt)


def native_cargo() -> Path:
    cargo = Path.home() / ".cargo/bin/cargo"
    found = cargo if cargo.exists() else shutil.which("cargo")
    if found is None:
        sys.exit("no cargo for the native build: install Rust with rustup (https://rustup.rs)")
    return Path(found)


# -- builds -------------------------------------------------------------------


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    """Set environment variables for the block, then put back what was there."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def build_wasm(
    label: str, key: str, *flags: str, rustc: Path | None = None, targeted: bool = False
) -> WasmBuild:
    """``wasmbridge build`` of the kernels crate, in its own target dir; ``rustc`` sets
    $RUSTC, the first rustc the CLI considers."""
    out = TARGET_DIR / "pkg" / key
    variables = {"CARGO_TARGET_DIR": str(TARGET_DIR / key)}
    if rustc is not None:
        variables["RUSTC"] = str(rustc)
    err = io.StringIO()
    started = time.perf_counter()
    with (
        environment(**variables),
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(err),
    ):
        argv = ["build", str(CRATE), "--out-dir", str(out), "--target", "python", *flags]
        code = cli.main(argv)
    if code != 0:
        sys.exit(f"building {CRATE.name} ({label}) failed:\n{err.getvalue()}")
    lines = [line.strip() for line in err.getvalue().splitlines()]
    compiling = next((line for line in lines if line.startswith("Compiling")), "")
    path = out / "kernels.wasm"
    print(
        f"  {label}: {path.stat().st_size:,} B in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return WasmBuild(label, path, compiling, simd_ops(path), targeted)


def simd_ops(wasm: Path) -> int | None:
    """How many SIMD instructions the module holds (None without wabt's wasm2wat)."""
    wasm2wat = shutil.which("wasm2wat")
    if wasm2wat is None:
        return None
    text = subprocess.run([wasm2wat, str(wasm)], capture_output=True, text=True).stdout
    return len(re.findall(r"\b(?:v128|i8x16|i16x8|i32x4|i64x2|f32x4|f64x2)\.", text))


def build_native(cargo: Path, key: str, rustflags: str | None = None) -> NativeKernels:
    """The native crate with rustup's cargo, release (opt-level 3, LTO), loaded."""
    env = {k: v for k, v in os.environ.items() if k not in ("RUSTC", "RUSTFLAGS")}
    env["CARGO_TARGET_DIR"] = str(TARGET_DIR / key)
    if rustflags:
        env["RUSTFLAGS"] = rustflags
    started = time.perf_counter()
    manifest = str(NATIVE / "Cargo.toml")
    argv = [str(cargo), "build", "--release", "--quiet", "--manifest-path", manifest]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"building {NATIVE} ({key}) failed:\n{proc.stderr}")
    name = {"darwin": "libkernels_native.dylib", "win32": "kernels_native.dll"}.get(
        sys.platform, "libkernels_native.so"
    )
    print(f"  native {key}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    lib = ctypes.CDLL(str(TARGET_DIR / key / "release" / name))
    lib.kernels_sha256.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p]
    lib.kernels_blur.argtypes = [ctypes.c_char_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_void_p]
    lib.kernels_sha256.restype = lib.kernels_blur.restype = None
    return NativeKernels(lib)


# -- references and checks ----------------------------------------------------


def numpy_blur(image: np.ndarray) -> np.ndarray:
    """The reference: edges clamp (np.pad "edge"), sums in uint16, floor division by 9."""
    padded = np.pad(image, 1, mode="edge").astype(np.uint16)
    columns = padded[:-2] + padded[1:-1] + padded[2:]
    sums = columns[:, :-2] + columns[:, 1:-1] + columns[:, 2:]
    blurred: np.ndarray = (sums // 9).astype(np.uint8)
    return blurred


def check_div9() -> None:
    """The kernel's multiply-shift equals the reference's floor division for every sum."""
    sums = np.arange(9 * 255 + 1, dtype=np.uint32)
    bad = np.nonzero((sums * 7282) >> 16 != sums // 9)[0]
    if bad.size:
        sys.exit(f"(sum * 7282) >> 16 differs from sum // 9 at sum = {int(bad[0])}")


class NativeKernels:
    """The native library's entry points through ctypes; results go into buffers made
    once (the timed calls), and ``sha256`` / ``blur`` read them back for the checks."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self.lib = lib
        self.digest = ctypes.create_string_buffer(32)
        self.image = ctypes.create_string_buffer(1)

    def sha256_into(self, data: bytes) -> None:
        self.lib.kernels_sha256(data, len(data), self.digest)

    def blur_into(self, pixels: bytes, width: int, height: int) -> None:
        if len(self.image) < len(pixels):
            self.image = ctypes.create_string_buffer(len(pixels))
        self.lib.kernels_blur(pixels, width, height, self.image)

    def sha256(self, data: bytes) -> bytes:
        self.sha256_into(data)
        return self.digest.raw

    def blur(self, pixels: bytes, width: int, height: int) -> bytes:
        self.blur_into(pixels, width, height)
        return ctypes.string_at(self.image, width * height)


def verify(name: str, sha256: Callable[[bytes], bytes], blur: Callable[..., bytes]) -> None:
    """Stop the run unless ``name`` matches hashlib and numpy_blur on every input."""
    rng = random.Random(SEED)
    for size in SHA_SIZES:
        data = rng.randbytes(size)
        got, want = sha256(data), hashlib.sha256(data).digest()
        if got != want:
            sys.exit(
                f"SHA-256 mismatch: {name} on {size:,} random bytes (seed {SEED}) gave "
                f"{got.hex()}, hashlib gives {want.hex()}"
            )
    images = np.random.default_rng(SEED)
    for width, height in BLUR_SIZES:
        image = images.integers(0, 256, (height, width), dtype=np.uint8)
        blurred = np.frombuffer(blur(image.tobytes(), width, height), np.uint8)
        reference = numpy_blur(image).ravel()
        if not np.array_equal(blurred, reference):
            same_size = blurred.shape == reference.shape
            wrong = np.nonzero(blurred != reference)[0] if same_size else [-1]
            sys.exit(
                f"blur mismatch: {name} on a {width}x{height} image (seed {SEED}): "
                f"{len(wrong):,} pixels differ from numpy, the first at index {wrong[0]}"
            )


def build_all(tools: Tools) -> tuple[list[WasmBuild], dict[str, NativeKernels]]:
    print("building the kernels crate ...", file=sys.stderr)
    version = tools.wasm_rustc.version
    builds = [
        build_wasm(
            f"speed, simd128 (rustc {version})", "speed", "--profile", "speed", targeted=True
        ),
        build_wasm(
            f"speed, no simd (rustc {version})", "nosimd", "--profile", "speed", "--no-simd"
        ),
        build_wasm(f"size profile (rustc {version})", "size"),
    ]
    for rustc in tools.newer:
        label = f"speed, simd128 (rustc {rustc.version})"
        key = f"speed-{rustc.version}"
        builds.append(build_wasm(label, key, "--profile", "speed", rustc=rustc.path, targeted=True))
    baseline = "native (x86-64 baseline)" if platform.machine() == "x86_64" else "native"
    natives = {
        baseline: build_native(tools.cargo, "native"),
        "native, -C target-cpu=native": build_native(
            tools.cargo, "native-cpu", "-C target-cpu=native"
        ),
    }
    return builds, natives


def load_and_verify(builds: list[WasmBuild], natives: dict[str, NativeKernels]) -> Contenders:
    """Load every build (without limits, as a caller would) and check each one."""
    print("checking every build against hashlib and numpy ...", file=sys.stderr)
    instances = {b.label: wasmbridge.load(b.path, cache=False) for b in builds}
    limits = wasmbridge.Limits(timeout_s=60)
    limited = wasmbridge.load(builds[0].path, cache=False, limits=limits)
    for label, m in [*instances.items(), (f"{builds[0].label}, {limits}", limited)]:
        verify(f"wasm {label}", m.sha256, m.blur)
    for label, native in natives.items():
        verify(label, native.sha256, native.blur)
    return Contenders(builds, instances, limited, natives)


# -- timing -------------------------------------------------------------------


def sha_workload(contenders: Contenders, data: bytes, title: str) -> Workload:
    work = Workload(title, mb_per_s(len(data)), SHA_TARGET)
    work.impls = wasm_impls(contenders, "sha256", data)
    for label, native in contenders.natives.items():
        work.impls.append(Impl(label, _bind(native.sha256_into, data), "native"))
    digest = Impl("hashlib.sha256 (OpenSSL)", lambda: hashlib.sha256(data).digest(), "reference")
    work.impls.append(digest)
    return work


def blur_workload(contenders: Contenders, image: np.ndarray, in_guest: Any) -> Workload:
    height, width = image.shape
    pixels = image.tobytes()
    work = Workload(f"blur {width}x{height}", mpx_per_s(width * height), BLUR_TARGET)
    work.impls = wasm_impls(contenders, "blur", pixels, width, height)
    label = f"wasm {contenders.builds[0].label}, input already in guest memory"
    in_place = Impl(label, _bind(contenders.speed.blur, in_guest, width, height), "wasm")
    work.impls.insert(2, in_place)
    for label, native in contenders.natives.items():
        blur = _bind(native.blur_into, pixels, width, height)
        work.impls.append(Impl(label, blur, "native"))
    work.impls.append(Impl("numpy, same algorithm", lambda: numpy_blur(image), "reference"))
    return work


def wasm_impls(contenders: Contenders, export: str, *args: object) -> list[Impl]:
    """One row per build, and the speed build under a time limit second."""
    impls = [
        Impl(f"wasm {b.label}", _bind(getattr(m, export), *args), "wasm", b.targeted)
        for b, m in zip(contenders.builds, contenders.instances.values(), strict=True)
    ]
    label = f"wasm {contenders.builds[0].label}, Limits(timeout_s=60)"
    impls.insert(1, Impl(label, _bind(getattr(contenders.limited, export), *args), "wasm"))
    return impls


def _bind(func: Callable[..., object], *args: object) -> Callable[[], object]:
    return lambda: func(*args)


def time_workload(work: Workload) -> None:
    """Sample the rows in turns, one batch of calls each, so that every row meets the
    same load; a ratio is then the median of the per-turn ratios. The references
    (hashlib, numpy) take their turns afterwards: numpy's large temporaries would
    evict the next row's data from the caches."""
    print(f"timing {work.title} ({len(work.impls)} rows) ...", file=sys.stderr)
    for impl in work.impls:
        impl.batch = calibrate(impl.call)
    for group in (
        [impl for impl in work.impls if impl.kind != "reference"],
        [impl for impl in work.impls if impl.kind == "reference"],
    ):
        for _ in range(SAMPLES):
            for impl in group:
                impl.samples.append(run_batch(impl.call, impl.batch) / impl.batch)


def calibrate(call: Callable[[], object]) -> int:
    """How many calls make a batch of about BATCH_S (after a warm-up call)."""
    call()
    once = run_batch(call, 1)
    return max(1, round(BATCH_S / max(once, 1e-9)))


def run_batch(call: Callable[[], object], count: int) -> float:
    """CPU seconds this thread spends on ``count`` calls (wasm runs on the calling thread):
    on a shared machine, time spent waiting for a CPU is left out."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.thread_time()
        for _ in range(count):
            call()
        return time.thread_time() - start
    finally:
        if enabled:
            gc.enable()


def report_workload(report: KernelReport, work: Workload) -> None:
    native = next(impl for impl in work.impls if impl.kind == "native")
    for impl in work.impls:
        t = impl.timing
        if impl.kind == "reference":  # not sampled in the same turns: medians compared
            ratio = t.median_s / native.timing.median_s
        else:
            pairs = zip(impl.samples, native.samples, strict=True)
            ratio = statistics.median(mine / theirs for mine, theirs in pairs)
        row = KernelRow(f"{work.title}: {impl.label}", t, throughput=work.unit(t.median_s))
        row.ratio = f"{ratio:.2f}x"
        if impl.kind == "wasm":
            row.note = f"min / min: {t.min_s / native.timing.min_s:.2f}x"
        if impl.targeted:
            row.target = f"≤ {work.target}x native"
            row.verdict = verdict(ratio <= work.target)
        report.add(row)


def mb_per_s(size: int) -> Callable[[float], str]:
    return lambda seconds: f"{size / seconds / 1e6:,.0f} MB/s"


def mpx_per_s(pixels: int) -> Callable[[float], str]:
    return lambda seconds: f"{pixels / seconds / 1e6:,.0f} Mpx/s"


# -- main ---------------------------------------------------------------------


USECASES = ("imagekit", "videofx", "cryptokit", "physics")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("kernels", "usecases"), help="run one part")
    parser.add_argument("--quick", action="store_true", help="fewer samples: a smoke run")
    args = parser.parse_args(argv)
    failed = 0
    if args.only != "usecases":
        failed |= kernels_part()
    if args.only != "kernels":
        failed |= usecases_part(args.quick)
    return failed


def usecases_part(quick: bool) -> int:
    """Every use-case module's rows in one report, its table and its chart."""
    from usecases import chart

    report = Report("Use cases: image, video, crypto and physics (bench/kernels.py)")
    failed = 0
    for name in USECASES:
        print(f"use case {name}", file=sys.stderr)
        try:
            module = importlib.import_module(f"usecases.{name}")
            module.run(report, quick)
        except Exception as error:  # one broken example leaves the others' rows
            failed = 1
            report.add(Row(f"{name}: the run failed", value=f"{type(error).__name__}: {error}"))
    report.notes.append(f"CPU: {cpu_model()}, {os.cpu_count()} CPUs.")
    path = report.save("usecases")
    picture = chart.draw(report.rows, path.with_suffix(".png"), "Use cases")
    print(report.markdown())
    print(f"saved {path.relative_to(REPO)}", file=sys.stderr)
    if picture is not None:
        print(f"saved {picture.relative_to(REPO)}", file=sys.stderr)
    return failed


def kernels_part() -> int:
    load_start = os.getloadavg()[0]
    check_div9()
    tools = find_tools()
    contenders = load_and_verify(*build_all(tools))
    report = KernelReport("Kernels: SHA-256 and a 3x3 box blur, wasm vs native (bench/kernels.py)")

    data = random.Random(SEED).randbytes(1 << 20)
    for work in (
        sha_workload(contenders, data, "SHA-256 1 MiB"),
        sha_workload(contenders, data[: 1 << 16], "SHA-256 64 KiB"),
    ):
        time_workload(work)
        report_workload(report, work)

    images = np.random.default_rng(SEED)
    for width, height in ((1920, 1080), (512, 512)):
        image = images.integers(0, 256, (height, width), dtype=np.uint8)
        with contenders.speed.array("u8", width * height) as in_guest:
            in_guest.view[:] = image.tobytes()
            work = blur_workload(contenders, image, in_guest)
            time_workload(work)
        report_workload(report, work)

    for build in contenders.builds:
        size = f"{build.path.stat().st_size:,} B"
        simd = "?" if build.simd_ops is None else f"{build.simd_ops:,}"
        note = f"{simd} SIMD instructions; `{build.compiling}`"
        report.add(KernelRow(f"module size: {build.label}", value=size, note=note))

    report.notes += notes(tools, load_start)
    path = report.save("kernels")
    print(report.markdown())
    print(f"saved {path.relative_to(REPO)}", file=sys.stderr)
    return 0


def notes(tools: Tools, load_start: float) -> list[str]:
    wasm_rustc = tools.wasm_rustc.path
    native_rustc = tools.cargo.parent / "rustc"
    if tools.newer:
        newer = "also built by " + ", ".join(
            f"{toolchain.display_path(r.path)} {rustc_info(r.path)}" for r in tools.newer
        )
    else:
        newer = (
            f"no newer rustc with the wasm32 target exists here ({tools.others or 'none found'})"
        )
    return [
        f"CPU: {cpu_model()}, {os.cpu_count()} CPUs; load (1-min average) {load_start:.2f} "
        f"at the start, {os.getloadavg()[0]:.2f} at the end.",
        f"wasm: built by {toolchain.display_path(wasm_rustc)} {rustc_info(wasm_rustc)} and "
        f"{tools.wasm_opt.version and 'wasm-opt ' + tools.wasm_opt.version or 'no wasm-opt'}; "
        f"{newer}. Run by wasmtime-py {package_version('wasmtime')}; {epoch_note()}",
        f"native: {toolchain.display_path(native_rustc)} {rustc_info(native_rustc)}, release "
        "with the speed profile's settings (opt-level 3, LTO, one codegen unit, "
        "panic=abort); the x86-64 baseline (SSE2) unless -C target-cpu=native.",
        f"Timing: {SAMPLES} samples a row, each a batch of calls taking about "
        f"{BATCH_S * 1e3:.0f} ms of the calling thread's CPU time (time.thread_time, GC off, "
        "so waiting for a CPU on a shared machine is left out); the rows of a workload take "
        "turns, one sample each, so all meet the same load (hashlib and numpy afterwards). "
        "× native: the median of the per-turn ratios to the baseline native row (for "
        "hashlib and numpy, of the medians); min / min: the fastest samples' ratio.",
        "Calls: wasm through wasmbridge copies the input into guest memory and the result "
        "out (a new bytes object); 'input already in guest memory' passes a GuestArray. "
        "Native (ctypes) gets the pointer of the bytes object and copies its result into a "
        f"buffer made once. hashlib ({ssl.OPENSSL_VERSION}) hashes the bytes; numpy "
        f"{np.__version__} blurs a uint8 array (sums in uint16).",
        "Blur: edges clamp (a pixel outside the image reads as the nearest one inside, "
        "np.pad mode 'edge'); the division by 9 is (sum * 7282) >> 16, checked equal to "
        "sum // 9 for every sum 0..=2295 here and at compile time in the crate.",
        f"Checked before timing (seed {SEED}), for every build: SHA-256 of "
        f"{', '.join(f'{n:,}' for n in SHA_SIZES)} random bytes equals hashlib; the blur of "
        f"random {', '.join(f'{w}x{h}' for w, h in BLUR_SIZES)} images equals numpy.",
    ]


def epoch_note() -> str:
    """Whether code loaded without limits carries epoch-interruption checks."""
    from wasmbridge.runtime.engine.settings import EngineSettings

    if getattr(EngineSettings.for_limits(None), "epoch", True):
        return (
            "this runtime compiles epoch-interruption checks into every module, "
            "with or without limits."
        )
    return (
        "modules loaded without limits are compiled without epoch-interruption checks; "
        "the Limits(timeout_s=60) rows have them (the cost of a time limit)."
    )


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    raise SystemExit(main())
