"""The cost of a fresh instance, side by side with wasmtime-py's floor, in one process.

    python bench/instances.py [--no-build] [--out NAME]

Builds bench/crates/bridge and tests/fixtures/crates/geo (and the hello
scaffold) with `wasmbridge build`, then times for each module:

- ``Module.instantiate()`` alone (instances closed outside the timed part),
- ``Module.instantiate()`` + ``close()``,
- ``wasmbridge.load()`` from the memory cache + ``close()``,
- wasmtime-py's bare ``Store(engine)`` + ``InstancePre.instantiate(store)`` and
  ``Store(engine)`` + ``Linker.instantiate(store, module)`` of the same module, on
  a default ``wasmtime.Engine()`` (the floor: no limits, no bridge, nothing bound).

Prints a table and saves it to bench/results/instances.md (+ .json).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import wasmtime

sys.path.insert(0, str(Path(__file__).parent))
from _timing import REPEATS, Report, Row, Timing, measure, verdict  # noqa: E402

import wasmbridge  # noqa: E402
from wasmbridge import cli  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CRATES = {
    "bridge": REPO / "bench" / "crates" / "bridge",
    "geo": REPO / "tests" / "fixtures" / "crates" / "geo",
    "hello": REPO / "tests" / "fixtures" / "crates" / "hello",
}
BATCH = 200
TARGET_DIR = Path(tempfile.gettempdir()) / "wasmbridge-bench-target"


def build(crate: Path, out: Path) -> Path:
    """Build ``crate`` with the CLI, quietly; returns the .wasm path."""
    os.environ["CARGO_TARGET_DIR"] = str(TARGET_DIR)
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = cli.main(["-q", "build", str(crate), "--out-dir", str(out)])
    if code != 0:
        sys.exit(f"building {crate.name} failed:\n{err.getvalue()}")
    return out / f"{crate.name}.wasm"


def imports_for(module: wasmbridge.Module) -> dict[str, Any]:
    """A do-nothing host function for each import the module wants from the user."""
    found: dict[str, Any] = {}
    for key in module.imports:
        namespace, name = key.split(".", 1)
        if namespace == "wasmbridge" and name == "callback":
            continue  # geo's callback trampoline: wasmbridge's own
        found.setdefault(namespace, {})[name] = lambda *args: None
    return found


def batched(make: Any, close: Any) -> Timing:
    """Per-instance time of ``make()`` alone: batches of BATCH, closed outside the timing."""
    for item in [make() for _ in range(BATCH)]:
        close(item)
    samples = []
    rounds = max(REPEATS, 15)
    for _ in range(rounds):
        gc.disable()
        start = time.perf_counter()
        made = [make() for _ in range(BATCH)]
        elapsed = time.perf_counter() - start
        gc.enable()
        for item in made:
            close(item)
        samples.append(elapsed / BATCH)
    return Timing(min(samples), statistics.median(samples), BATCH)


def floor_rows(report: Report, label: str, wasm: Path) -> Row:
    engine = wasmtime.Engine()
    compiled = wasmtime.Module(engine, wasm.read_bytes())
    linker = wasmtime.Linker(engine)
    for imp in compiled.imports:
        assert isinstance(imp.type, wasmtime.FuncType)
        linker.define_func(imp.module, imp.name, imp.type, lambda *args: None)
    pre = linker.instantiate_pre(compiled)
    floor = report.add(
        Row(
            f"{label}: wasmtime-py Store + InstancePre.instantiate (floor)",
            measure(lambda: pre.instantiate(wasmtime.Store(engine))),
        )
    )
    report.add(
        Row(
            f"{label}: wasmtime-py Store + Linker.instantiate (floor)",
            measure(lambda: linker.instantiate(wasmtime.Store(engine), compiled)),
        )
    )
    return floor


def c_calls_row(module: wasmbridge.Module, imports: dict[str, Any]) -> Timing | None:
    """What ``instantiate()`` + ``close()`` cost in C calls alone: store, pre-instantiation
    and deletion, through wasmbridge's lean ctypes declarations (its pooled engine)."""
    try:
        from wasmbridge.runtime import _capi

        live = module.instantiate(imports)._instance
        linked = module._code_for(live.settings, None).linked(module._parts)
    except (AttributeError, ImportError):
        return None  # an older wasmbridge
    if linked is None:
        return None
    engine, engine_at, pre_at = linked.engine, linked.engine_at, linked.pre_at

    def calls() -> None:
        store, ctx = _capi.new_store(engine, engine_at)
        _capi.instantiate_pre(pre_at, ctx)
        store.close()

    return measure(calls)


def module_rows(report: Report, label: str, wasm: Path) -> None:
    module = wasmbridge.compile(wasm)
    imports = imports_for(module)
    alone = report.add(
        Row(
            f"{label}: Module.instantiate() alone",
            batched(lambda: module.instantiate(imports), lambda m: m.close()),
        )
    )
    ours = report.add(
        Row(
            f"{label}: Module.instantiate() + close()",
            measure(lambda: module.instantiate(imports).close()),
        )
    )
    report.add(
        Row(
            f"{label}: load() from the memory cache + close()",
            measure(lambda: wasmbridge.load(wasm, imports=imports).close()),
        )
    )
    floor = floor_rows(report, label, wasm)
    c_calls = c_calls_row(module, imports)
    if c_calls is not None:
        report.add(Row(f"{label}: the same C calls alone, on wasmbridge's engine", c_calls))
    assert alone.timing and ours.timing and floor.timing
    alone.target = "≤ 10 µs; ≤ 1x wasmtime-py Store + InstancePre"
    alone.verdict = (
        f"{verdict(alone.timing.median_s <= 10e-6)} / "
        f"{verdict(alone.timing.median_s <= floor.timing.median_s)}"
    )
    alone.note = f"{alone.timing.median_s / floor.timing.median_s:.2f}x the floor"
    ours.note = f"{ours.timing.median_s / floor.timing.median_s:.2f}x the floor"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-build", action="store_true", help="reuse /tmp/wasmbridge-bench-*")
    parser.add_argument("--out", default="instances", help="file name under bench/results")
    parser.add_argument("--only", nargs="*", default=list(CRATES), help="modules to time")
    args = parser.parse_args()
    report = Report("Fresh instances")
    for label in args.only:
        out = Path(f"/tmp/wasmbridge-bench-{label}")
        wasm = out / f"{label}.wasm"
        if not (args.no_build and wasm.exists()):
            wasm = build(CRATES[label], out)
        module_rows(report, label, wasm)
    print(report.markdown())
    print(f"saved {report.save(args.out)}", file=sys.stderr)


if __name__ == "__main__":
    main()
