"""The use-case chart: one panel per workload, each contender's median time as a bar.

Rows are grouped by their name, ``WORKLOAD: CONTENDER``; only rows with a timing
are drawn. The x axis is logarithmic (pure Python is often 1000x slower), and
each bar is labelled with its time and its ratio to wasm through wasmbridge.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

from _timing import Row, human

# Bar colours by the contender's kind, matched on words in its name (first match wins).
KINDS = (
    ("wasmbridge", "#4a6fe3"),
    ("plain js", "#f0ad4e"),
    ("jpeg-js", "#f0ad4e"),
    ("node", "#8aa34a"),
    ("native", "#555555"),
    ("pure python", "#d9534f"),
)
OTHER = "#9b59b6"  # the reference library (Pillow, hashlib, numpy, PyJWT)


def colour(contender: str) -> str:
    lowered = contender.lower()
    for word, shade in KINDS:
        if word in lowered:
            return shade
    return OTHER


def ratio(value: float) -> str:
    return f"{value:,.0f}x" if value >= 100 else f"{value:.3g}x"


def workloads(rows: list[Row]) -> dict[str, list[tuple[str, float]]]:
    """Median seconds by workload, then contender, in the rows' order."""
    grouped: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for row in rows:
        if row.timing is None or ": " not in row.name:
            continue
        workload, contender = row.name.split(": ", 1)
        grouped[workload].append((contender, row.timing.median_s))
    return {name: found for name, found in grouped.items() if len(found) > 1}


def draw(rows: list[Row], path: Path, title: str) -> Path | None:
    """Save the chart as a PNG; None without matplotlib or without comparable rows."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    groups = workloads(rows)
    if not groups:
        return None
    columns = 2
    lines = math.ceil(len(groups) / columns)
    heights = [max(len(found) for found in groups.values()) * 0.32 + 0.9] * lines
    figure, axes = plt.subplots(
        lines, columns, figsize=(13, sum(heights)), squeeze=False, constrained_layout=True
    )
    for panel, (workload, found) in zip(axes.flat, groups.items(), strict=False):
        base = next((s for c, s in found if "wasmbridge" in c.lower()), found[0][1])
        names = [c for c, _ in found][::-1]
        seconds = [s for _, s in found][::-1]
        bars = panel.barh(names, seconds, color=[colour(c) for c in names])
        panel.set_xscale("log")
        panel.set_title(workload, fontsize=10, loc="left")
        panel.tick_params(axis="y", labelsize=8)
        panel.tick_params(axis="x", labelsize=7)
        panel.set_xlim(min(seconds) / 3, max(seconds) * 40)
        for bar, value in zip(bars, seconds, strict=True):
            label = f" {human(value)}  ({ratio(value / base)})"
            panel.text(value, bar.get_y() + bar.get_height() / 2, label, va="center", fontsize=7)
    for panel in list(axes.flat)[len(groups) :]:
        panel.axis("off")
    figure.suptitle(f"{title}: median time per call (log scale; ratio to wasm through wasmbridge)")
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
