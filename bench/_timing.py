"""Timing and table helpers shared by the benchmark scripts.

Every number is min | median over ``REPEATS`` repeats of an auto-calibrated
loop (about ``TARGET_S`` seconds each), with the GC disabled inside loops,
as in ../shared/perf-anchors.md, so figures compare directly.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPEATS = int(os.environ.get("WASMBRIDGE_BENCH_REPEATS", "7"))
TARGET_S = float(os.environ.get("WASMBRIDGE_BENCH_TARGET_S", "0.25"))
RESULTS = Path(__file__).parent / "results"


@dataclass
class Timing:
    min_s: float
    median_s: float
    loops: int

    def fmt(self) -> str:
        return f"{human(self.min_s)} / {human(self.median_s)}"

    def scaled(self, factor: float) -> Timing:
        """This timing times ``factor``: a run on a small input scaled to a large one."""
        return Timing(self.min_s * factor, self.median_s * factor, self.loops)


def human(seconds: float) -> str:
    if seconds < 1e-6:
        return f"{seconds * 1e9:.0f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def measure(
    func: Callable[[], object], *, repeats: int = REPEATS, target_s: float = TARGET_S
) -> Timing:
    """Time ``func()`` per call: calibrate a loop count, then take ``repeats`` samples."""
    func()  # warm-up
    loops = 1
    while True:
        elapsed = _loop(func, loops)
        if elapsed >= target_s / 10 or loops >= 1 << 24:
            break
        loops *= 4
    loops = max(1, int(loops * (target_s / max(elapsed, 1e-9))))
    samples = [_loop(func, loops) / loops for _ in range(repeats)]
    return Timing(min(samples), statistics.median(samples), loops)


def _loop(func: Callable[[], object], loops: int) -> float:
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(loops):
            func()
        return time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()


def loop_overhead() -> Timing:
    return measure(lambda: None)


@dataclass
class Row:
    name: str
    timing: Timing | None = None
    value: str = ""
    target: str = ""
    verdict: str = ""
    note: str = ""


@dataclass
class Report:
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        print(
            f"  {row.name}: {row.timing.fmt() if row.timing else row.value} {row.verdict}",
            file=sys.stderr,
            flush=True,
        )
        return row

    def markdown(self) -> str:
        lines = [
            f"## {self.title}",
            "",
            f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}, load {os.getloadavg()[0]:.2f} "
            f"({time.strftime('%Y-%m-%d %H:%M')}). min / median over {REPEATS} repeats.",
            "",
            "| measurement | min / median | target | verdict | note |",
            "|---|---|---|---|---|",
        ]
        for row in self.rows:
            shown = row.timing.fmt() if row.timing else row.value
            lines.append(f"| {row.name} | {shown} | {row.target} | {row.verdict} | {row.note} |")
        lines += ["", *[f"- {note}" for note in self.notes]]
        return "\n".join(lines) + "\n"

    def save(self, stem: str) -> Path:
        RESULTS.mkdir(exist_ok=True)
        md = RESULTS / f"{stem}.md"
        md.write_text(self.markdown())
        data = {"title": self.title, "rows": [asdict(r) for r in self.rows], "notes": self.notes}
        (RESULTS / f"{stem}.json").write_text(json.dumps(data, indent=2))
        return md


def verdict(ok: bool) -> str:
    return "✓ meets" if ok else "✗ misses"
