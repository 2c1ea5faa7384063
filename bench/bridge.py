"""The cost of crossing the bridge, side by side in one process.

    python bench/bridge.py

Builds its crates with the real toolchain (`wasmbridge build`), then times
the scalar call and buffer transfers through wasmbridge next to wasmtime-py's
own call path and the raw C entry point, and reports module sizes. Prints a
table and saves it to bench/results/bridge.md (+ .json). Anchor numbers from
../shared/perf-anchors.md (same machine type) are listed for comparison;
"anchor-scaled" converts a time measured here to the anchor machine's speed
using the raw C entry point measured in both runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import wasmtime

sys.path.insert(0, str(Path(__file__).parent))
from _timing import Report, Row, human, measure, verdict  # noqa: E402

import wasmbridge  # noqa: E402
from wasmbridge import cli  # noqa: E402
from wasmbridge.runtime.bridge.native import NATIVE, PATH  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TARGET_DIR = Path(tempfile.gettempdir()) / "wasmbridge-bench-target"

# ../shared/perf-anchors.md, medians.
ANCHOR = {
    "wasmtime_py_call": 24.0e-6,
    "raw_lean": 0.625e-6,
    "pywasm3": 0.106e-6,
    "python_call": 0.040e-6,
    "memcpy_1mib": 22.6e-6,
}


def median(row: Row) -> float:
    assert row.timing is not None
    return row.timing.median_s


def build(crate: Path, out: Path, *flags: str) -> Path:
    """Build ``crate`` with the CLI, quietly; returns the .wasm path."""
    os.environ["CARGO_TARGET_DIR"] = str(TARGET_DIR)
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = cli.main(["-q", "build", str(crate), "--out-dir", str(out), *flags])
    if code != 0:
        sys.exit(f"building {crate.name} failed:\n{err.getvalue()}")
    return out / f"{crate.name}.wasm"


def python_caller(export: Any) -> Any:
    """The generated Python (ctypes) caller of an export: a compiled caller keeps it as its
    fallback, so both paths are timed side by side in one run."""
    return getattr(export, "fallback", export)


def lean_raw_call(wasm: bytes) -> Any:
    """The anchor's floor: the unchecked C entry point over CFUNCTYPE(c_void_p ints)."""
    from wasmtime import _ffi as ffi

    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    instance = wasmtime.Instance(store, wasmtime.Module(engine, wasm), [])
    func = instance.exports(store)["add"]
    assert isinstance(func, wasmtime.Func)
    proto = ctypes.CFUNCTYPE(
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_void_p,
    )
    call = proto(ctypes.cast(ffi.dll.wasmtime_func_call_unchecked, ctypes.c_void_p).value)
    values = (ffi.wasmtime_val_raw_t * 2)()
    trap = ctypes.c_void_p()
    ctx = ctypes.cast(store._context(), ctypes.c_void_p).value
    fptr, vptr, tptr = (
        ctypes.addressof(func._func),
        ctypes.addressof(values),
        ctypes.addressof(trap),
    )

    def add(a: int, b: int) -> int:
        values[0].i32 = a
        values[1].i32 = b
        call(ctx, fptr, vptr, 2, tptr)
        return int(values[0].i32)

    keep = (store, instance, func, values, trap)
    add.keep = keep  # type: ignore[attr-defined]
    return add


def pywasm3_add(wasm: bytes) -> Any:
    try:
        import wasm3  # type: ignore[import-not-found]
    except ImportError:
        return None
    env = wasm3.Environment()
    runtime = env.new_runtime(1024)
    runtime.load(env.parse_module(wasm))
    return runtime.find_function("add")


def fresh_instance_rows(report: Report, hello: Path) -> None:
    """A fresh instance of the hello scaffold (memory, allocator, one import), three ways.

    Each loop closes (or drops) the instance it made, so all three include teardown.
    """
    imports = {"alert": lambda text: None}
    module = wasmbridge.compile(hello)
    ours = report.add(
        Row(
            "fresh instance: Module.instantiate() + close()",
            measure(lambda: module.instantiate(imports).close()),
        )
    )
    loaded = report.add(
        Row(
            "fresh instance: load() from the memory cache + close()",
            measure(lambda: wasmbridge.load(hello, imports=imports).close()),
        )
    )
    engine = wasmtime.Engine()
    compiled = wasmtime.Module(engine, hello.read_bytes())
    linker = wasmtime.Linker(engine)
    for imp in compiled.imports:
        assert isinstance(imp.type, wasmtime.FuncType)
        linker.define_func(imp.module, imp.name, imp.type, lambda *args: None)
    bare = report.add(
        Row(
            "fresh instance: wasmtime-py Store + Linker.instantiate (floor)",
            measure(lambda: linker.instantiate(wasmtime.Store(engine), compiled)),
        )
    )
    assert ours.timing is not None and loaded.timing is not None and bare.timing is not None
    ours.target = "≤ 10 µs; ≤ 1x wasmtime-py Store + Instance"
    ours.verdict = (
        f"{verdict(ours.timing.median_s <= 10e-6)} / "
        f"{verdict(ours.timing.median_s <= bare.timing.median_s)}"
    )
    ours.note = (
        f"{ours.timing.median_s / bare.timing.median_s:.1f}x wasmtime-py; load() is "
        f"{loaded.timing.median_s / ours.timing.median_s:.1f}x this"
    )


def first_call_rows(report: Report, hello: Path, bridge_wasm: Path) -> None:
    """A fresh instance and its first call: what each instance pays for an export's
    callable (its code is made once per compiled module; the instance binds it)."""
    imports = {"alert": lambda text: None}
    module = wasmbridge.compile(hello)
    bridge = wasmbridge.compile(bridge_wasm)
    a, b = bridge.Point(0.0, 0.0), bridge.Point(2.0, 4.0)

    def add() -> None:
        with module.instantiate(imports) as m:
            m.add(1, 2)

    def mid() -> None:
        with bridge.instantiate() as m:
            m.mid(a, b)

    def counter() -> None:
        with bridge.instantiate() as m:
            m.Counter().bump(1)

    rows = [
        ("first call: instantiate() + m.add(1, 2) + close()", add),
        ("first call: instantiate() + m.mid(Point, Point) + close()", mid),
        ("first call: instantiate() + m.Counter().bump(1) + close()", counter),
    ]
    for label, call in rows:
        report.add(Row(label, measure(call)))


def paired(first: Any, second: Any, rounds: int = 3) -> tuple[Any, Any]:
    """Two timings taken in turns, each the round with the lowest median: a ratio of
    neighbours on a shared machine, not of whatever load each happened to meet."""
    a, b = [], []
    for _ in range(rounds):
        a.append(measure(first))
        b.append(measure(second))
    return min(a, key=lambda t: t.median_s), min(b, key=lambda t: t.median_s)


def compound_rows(report: Report, bridge: Any) -> None:
    """Records, methods and lists of strings next to the scalar calls they compare to.

    Targets (this project's issue 12): a method call <= 1.3x the function with
    the same wasm arguments; a Point round trip (two records in, one out)
    <= 3x a function taking two f64 and returning one; 1,000 words each way
    reported beside plain Python's str.split / str.join.
    """
    counter = bridge.Counter()
    assert counter.bump(2) == 2 and bridge.bump(2, 3) == 5
    # Methods and records run on the ctypes path: compared with the function's ctypes caller.
    bump, mid1 = python_caller(bridge.bump), python_caller(bridge.mid1)
    plain, bound = paired(lambda: bump(0, 1), lambda: counter.bump(1))
    function = report.add(Row("function bump(n, by) -> u32, ctypes path", plain))
    method = report.add(Row("method counter.bump(by) -> u32", bound))
    assert function.timing is not None and method.timing is not None
    ratio = method.timing.median_s / function.timing.median_s
    method.target = "≤ 1.3x the function"
    method.verdict = verdict(ratio <= 1.3)
    method.note = f"{ratio:.2f}x the function (the handle checked on each call)"

    a, b = bridge.Point(0.0, 0.0), bridge.Point(2.0, 4.0)
    assert bridge.mid(a, b) == bridge.Point(1.0, 2.0) and bridge.mid1(1.0, 3.0) == 2.0
    numbers, points = paired(lambda: mid1(1.0, 2.0), lambda: bridge.mid(a, b))
    scalar = report.add(Row("mid1(a: f64, b: f64) -> f64, ctypes path", numbers))
    record = report.add(Row("mid(a: Point, b: Point) -> Point", points))
    assert scalar.timing is not None and record.timing is not None
    ratio = record.timing.median_s / scalar.timing.median_s
    record.target = "≤ 3x mid1"
    record.verdict = verdict(ratio <= 3)
    record.note = f"{ratio:.2f}x mid1 (two records packed in, one unpacked into a Point)"

    words = [f"word{i}" for i in range(1000)]
    text = " ".join(words)
    assert bridge.words(text) == words and bridge.join(words, " ") == text
    assert bridge.echo_strs(words) == words and bridge.count_strs(words) == 1000
    split = report.add(Row("python: text.split() (1,000 words)", measure(text.split)))
    joined = report.add(
        Row("python: ' '.join(words) (1,000 words)", measure(lambda: " ".join(words)))
    )
    rows = [
        ("words(text) -> Vec<String>: 1,000 words out", lambda: bridge.words(text), split),
        ("join(words, ' ') : Vec<String> of 1,000 in", lambda: bridge.join(words, " "), joined),
        (
            "count_strs(&[&str]): 1,000 strings in, a u32 out",
            lambda: bridge.count_strs(words),
            None,
        ),
        ("echo_strs(Vec<String>): 1,000 strings in and out", lambda: bridge.echo_strs(words), None),
    ]
    for label, call, python in rows:
        row = report.add(Row(label, measure(call)))
        assert row.timing is not None
        per_word = row.timing.median_s / 1000
        row.note = f"{human(per_word)} a word"
        if python is not None and python.timing is not None:
            row.note += f"; {row.timing.median_s / python.timing.median_s:.1f}x plain Python"


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="wasmbridge-bench-"))
    print("building bench crates ...", file=sys.stderr)
    add_wasm = build(REPO / "tests/fixtures/crates/add", work / "add")
    bridge_wasm = build(REPO / "bench/crates/bridge", work / "bridge")
    hello = build(REPO / "tests/fixtures/crates/hello", work / "hello")
    hello_full = build(
        REPO / "tests/fixtures/crates/hello", work / "hello-full", "--panic-messages"
    )

    report = Report("Bridge: Python → wasm call cost (bench/bridge.py)")
    add_bytes = add_wasm.read_bytes()

    def plain(a: int, b: int) -> int:
        return a + b

    python_call = report.add(Row("python: plain def add(a, b)", measure(lambda: plain(1, 2))))

    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    w_add = wasmtime.Instance(store, wasmtime.Module(engine, add_bytes), []).exports(store)["add"]
    assert isinstance(w_add, wasmtime.Func)
    wpy = report.add(Row("wasmtime-py Func.__call__ add", measure(lambda: w_add(store, 1, 2))))

    raw = lean_raw_call(add_bytes)
    assert raw(5, 7) == 12
    lean = report.add(
        Row("raw unchecked C call, CFUNCTYPE over ints (anchor floor)", measure(lambda: raw(1, 2)))
    )
    scale = ANCHOR["raw_lean"] / median(lean)

    m = wasmbridge.load(add_bytes, name="add.wasm")
    assert m.add(5, 7) == 12
    python_add = python_caller(m.add)
    ours = report.add(Row(f"wasmbridge m.add(1, 2), {PATH} path", measure(lambda: m.add(1, 2))))
    t = ours.timing
    assert t is not None and wpy.timing is not None
    speedup = wpy.timing.median_s / t.median_s
    plain_s = median(python_call)
    ours.target = "≤ 0.12 µs; ≥ 150x wasmtime-py; ≤ 4x a Python call"
    ours.verdict = " / ".join(
        verdict(ok)
        for ok in (
            t.median_s * scale <= 0.12e-6,
            speedup >= 150,
            t.median_s <= 4 * plain_s,
        )
    )
    lean_s = median(lean)
    ours.note = (
        f"anchor-scaled {human(t.median_s * scale)}; {speedup:.0f}x faster than wasmtime-py; "
        f"{t.median_s / plain_s:.1f}x a Python call"
    )
    if NATIVE is not None:
        previous = NATIVE.set_release_gil(False)
        held = report.add(
            Row("wasmbridge m.add(1, 2), compiled, GIL held", measure(lambda: m.add(1, 2)))
        )
        NATIVE.set_release_gil(previous)
        assert held.timing is not None
        held.note = (
            f"releasing the GIL costs {human(t.median_s - held.timing.median_s)} a call "
            "(kept: other threads run during guest code)"
        )
    fallback = report.add(
        Row("wasmbridge m.add(1, 2), ctypes path", measure(lambda: python_add(1, 2)))
    )
    assert fallback.timing is not None
    fallback.target = "≤ the raw floor (as before)"
    fallback.verdict = verdict(fallback.timing.median_s <= lean_s)
    fallback.note = (
        f"{fallback.timing.median_s / lean_s:.2f}x the raw floor; "
        f"anchor-scaled {human(fallback.timing.median_s * scale)}"
    )

    w3 = pywasm3_add(add_bytes)
    if w3 is not None:
        report.add(Row("pywasm3 add (interpreter, the floor to aim at)", measure(lambda: w3(1, 2))))
    else:
        report.add(Row("pywasm3 add", value="not installed", note="pip install pywasm3"))

    bridge = wasmbridge.load(bridge_wasm)
    kib = bytes(range(256)) * 4
    assert bridge.edges32(kib) == kib[:16] + kib[-16:]
    python_edges = python_caller(bridge.edges32)
    row = report.add(
        Row(
            f"wasmbridge edges32(1 KiB bytes) -> 32 B, {PATH}", measure(lambda: bridge.edges32(kib))
        )
    )
    assert row.timing is not None
    row.target = "≤ 0.3 µs"
    row.verdict = verdict(row.timing.median_s * scale <= 0.3e-6)
    row.note = f"anchor-scaled {human(row.timing.median_s * scale)}"
    slow = report.add(
        Row("wasmbridge edges32(1 KiB bytes) -> 32 B, ctypes", measure(lambda: python_edges(kib)))
    )
    assert slow.timing is not None
    slow.note = f"anchor-scaled {human(slow.timing.median_s * scale)}"

    mib = bytes(range(256)) * 4096
    dst = memoryview(bytearray(len(mib)))

    def copy() -> None:
        dst[:] = mib  # the same memoryview slice copy the bridge does into linear memory

    memcpy = report.add(Row("reference: plain 1 MiB memcpy (memoryview slice copy)", measure(copy)))
    big = report.add(
        Row(
            f"wasmbridge edges32(1 MiB bytes) -> 32 B, {PATH}", measure(lambda: bridge.edges32(mib))
        )
    )
    assert big.timing is not None and memcpy.timing is not None
    budget = 1.1 * (memcpy.timing.median_s + t.median_s)
    big.target = "≤ 1.1x (memcpy + call)"
    big.verdict = verdict(big.timing.median_s <= budget)
    big.note = f"{big.timing.median_s / (memcpy.timing.median_s + t.median_s):.2f}x memcpy + call"

    with bridge.array("u8", len(mib)) as zero_copy:
        zero_copy.view[:] = mib
        report.add(
            Row(
                "wasmbridge edges32(GuestArray 1 MiB), zero copy",
                measure(lambda: bridge.edges32(zero_copy)),
                note="the array already lives in linear memory",
            )
        )
    text = "é" * 512
    report.add(
        Row(
            f"wasmbridge echo_str(1 KiB text) round trip, {PATH}",
            measure(lambda: bridge.echo_str(text)),
        )
    )

    compound_rows(report, bridge)
    fresh_instance_rows(report, hello)
    first_call_rows(report, hello, bridge_wasm)

    sizes = [
        ("add alone (tests/fixtures/crates/add)", add_wasm, 120),
        ("hello scaffold: add + greet (default build)", hello, 2048),
        ("hello scaffold with --panic-messages", hello_full, None),
    ]
    for label, path, limit in sizes:
        size = path.stat().st_size
        report.add(
            Row(
                f"size: {label}",
                value=f"{size:,} B",
                target=f"≤ {limit:,} B" if limit else "report",
                verdict=verdict(size <= limit) if limit else "",
            )
        )

    report.notes += [
        "Anchors (perf-anchors.md medians): "
        f"wasmtime-py {human(ANCHOR['wasmtime_py_call'])}, raw floor {human(ANCHOR['raw_lean'])}, "
        f"pywasm3 {human(ANCHOR['pywasm3'])}, plain call {human(ANCHOR['python_call'])}.",
        "This run vs the anchor machine: "
        f"plain call {median(python_call) / ANCHOR['python_call']:.2f}x, "
        f"raw floor {median(lean) / ANCHOR['raw_lean']:.2f}x, "
        f"wasmtime-py {wpy.timing.median_s / ANCHOR['wasmtime_py_call']:.2f}x the anchor times; "
        "'anchor-scaled' divides by the raw-floor factor.",
    ]
    path = report.save("bridge")
    print(report.markdown())
    print(f"saved {path.relative_to(REPO)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
