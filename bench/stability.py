"""Stability and the compile cache: many load/instantiate/call/drop cycles, cold vs cached.

    python bench/stability.py            # 10,000 cycles each
    WASMBRIDGE_BENCH_CYCLES=1000 python bench/stability.py

Runs ``CYCLES`` cycles of load-from-cache + instantiate + call + drop, with
the disk cache (a fresh ``CompileCache`` each cycle: read, verify the HMAC,
deserialize, as another process would), with the in-memory cache, and with
limits on (guard, epoch ticker, store limiter), and reports time per cycle
and the RSS before and after (it must stay within 10%). Then times a cold
compile against a disk-cache hit and a memory hit for a generated module of
about 200 KB. Also times one call with and without limits (the cost of arming).
Prints a table and saves bench/results/stability.md (+ .json).
"""

from __future__ import annotations

import gc
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import wasmtime

sys.path.insert(0, str(Path(__file__).parent))
from _timing import Report, Row, human, measure, verdict  # noqa: E402

import wasmbridge  # noqa: E402
from wasmbridge.runtime.engine.cache import CompileCache  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CYCLES = int(os.environ.get("WASMBRIDGE_BENCH_CYCLES", "10000"))
WARMUP = 1000
SMALL = wasmtime.wat2wasm(
    '(module (memory (export "memory") 1)'
    ' (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)'
    ' (func (export "sum") (param i32) (result i32) (local $s i32)'
    "  (block $done (loop $l (br_if $done (i32.eqz (local.get 0)))"
    "   (local.set $s (i32.add (local.get $s) (local.get 0)))"
    "   (local.set 0 (i32.sub (local.get 0) (i32.const 1))) (br $l)))"
    "  local.get $s))"
)


def large_module(target_bytes: int = 200_000) -> bytes:
    """A valid module of about ``target_bytes``: many small arithmetic functions."""
    body = " ".join(
        f"local.get 0 i32.const {k * 7919 % 65521} i32.mul i32.const {k} i32.xor local.set 0"
        for k in range(12)
    )
    funcs = []
    size = 0
    n = 0
    while size < target_bytes:
        funcs.append(f'(func (export "f{n}") (param i32) (result i32) {body} local.get 0)')
        n += 1
        if n % 200 == 0:
            size = len(wasmtime.wat2wasm("(module " + " ".join(funcs) + ")"))
    return bytes(wasmtime.wat2wasm("(module " + " ".join(funcs) + ")"))


def rss() -> int:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def cycles(label: str, once: Callable[[], None], report: Report) -> None:
    """Warm up, then run ``CYCLES`` cycles; one row with time per cycle and RSS."""
    for _ in range(WARMUP):
        once()
    gc.collect()
    before = rss()
    start = time.perf_counter()
    for _ in range(CYCLES):
        once()
    elapsed = time.perf_counter() - start
    gc.collect()
    after = rss()
    growth = (after - before) / before
    report.add(
        Row(
            f"{label}: {CYCLES:,} cycles",
            value=f"{human(elapsed / CYCLES)} per cycle",
            target="RSS flat within 10%",
            verdict=verdict(abs(growth) <= 0.10),
            note=f"RSS {before / 2**20:.1f} → {after / 2**20:.1f} MiB ({growth:+.1%})",
        )
    )


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="wasmbridge-stability-"))
    report = Report("Stability and compile cache (bench/stability.py)")
    path = work / "small.wasm"
    path.write_bytes(SMALL)
    disk_dir = work / "cache"
    wasmbridge.load(path, cache=CompileCache(disk_dir))  # the entry every cycle reads back

    def disk_cycle() -> None:
        m = wasmbridge.load(path, cache=CompileCache(disk_dir))
        assert m.add(2, 3) == 5 and m.sum(10) == 55

    memory = CompileCache(disk_dir)

    def memory_cycle() -> None:
        m = wasmbridge.load(path, cache=memory)
        assert m.add(2, 3) == 5

    limits = wasmbridge.Limits(timeout_s=1.0, memory_mb=16, table_elements=1000)

    def limited_cycle() -> None:
        m = wasmbridge.load(path, cache=memory, limits=limits)
        assert m.add(2, 3) == 5 and m.sum(10) == 55

    print(f"running {CYCLES:,} cycles x 3 ...", file=sys.stderr)
    cycles("load from disk cache + instantiate + call + drop", disk_cycle, report)
    cycles("load from memory cache + instantiate + call + drop", memory_cycle, report)
    cycles("same, with Limits(timeout, memory, tables)", limited_cycle, report)

    plain_m = wasmbridge.load(path, cache=memory)
    base = report.add(Row("call m.add(1, 2), no limits", measure(lambda: plain_m.add(1, 2))))
    for label, lim in [
        ("Limits(timeout_s=1)", wasmbridge.Limits(timeout_s=1.0)),
        ("Limits(fuel=10**6)", wasmbridge.Limits(fuel=10**6)),
        ("Limits(memory_mb=16) (thread check only)", wasmbridge.Limits(memory_mb=16)),
    ]:
        limited_m = wasmbridge.load(path, cache=memory, limits=lim)
        row = report.add(
            Row(f"call m.add(1, 2), {label}", measure(lambda m=limited_m: m.add(1, 2)))
        )
        assert row.timing and base.timing
        row.note = f"+{human(row.timing.median_s - base.timing.median_s)} per call"

    big = large_module()
    kb = len(big) / 1000
    big_dir = work / "big-cache"
    cold = report.add(
        Row(
            f"cold compile, {kb:.0f} KB module",
            measure(lambda: CompileCache(disk=False).module(big, _settings()), repeats=5,
                    target_s=1.0),
        )
    )  # fmt: skip
    CompileCache(big_dir).module(big, _settings())
    hit = report.add(
        Row(
            f"disk cache hit (read + HMAC + deserialize), {kb:.0f} KB module",
            measure(lambda: CompileCache(big_dir).module(big, _settings())),
        )
    )
    shared = CompileCache(big_dir)
    shared.module(big, _settings())
    mem = report.add(
        Row(
            f"memory cache hit, {kb:.0f} KB module",
            measure(lambda: shared.module(big, _settings())),
        )
    )
    assert cold.timing and hit.timing and mem.timing
    hit.note = f"{cold.timing.median_s / hit.timing.median_s:.0f}x faster than a cold compile"
    mem.note = f"{cold.timing.median_s / mem.timing.median_s:.0f}x faster than a cold compile"
    entry = next((big_dir / "modules").glob("*/*.cwasm")).stat().st_size
    report.notes += [
        f"Cache entry for the {kb:.0f} KB module: {entry / 1000:.0f} KB on disk (HMAC + artifact).",
        "Cycles drop each module right away; RSS is measured after a warm-up of "
        f"{WARMUP} cycles and a gc.collect() on both sides.",
    ]
    shutil.rmtree(work, ignore_errors=True)
    saved = report.save("stability")
    print(report.markdown())
    print(f"saved {saved.relative_to(REPO)}", file=sys.stderr)
    return 0


def _settings() -> wasmbridge.runtime.engine.EngineSettings:
    from wasmbridge.runtime.engine import EngineSettings

    return EngineSettings()


if __name__ == "__main__":
    raise SystemExit(main())
