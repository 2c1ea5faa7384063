"""The JS glue's per-call cost in Node, side by side with the raw export and Python.

    python bench/web.py

Builds the `types` fixture with `wasmbridge build --target all`, runs
bench/web_calls.mjs in Node (per-call cost of `add` through the glue and
through the raw wasm export of the same instance, a 1 KiB string round trip),
times the same calls through the Python runtime, and reports the glue's
sizes for `hello` and `types`. Prints a table and saves it to
bench/results/web.md (+ .json).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import Report, Row, Timing, measure, verdict  # noqa: E402

import wasmbridge  # noqa: E402
from wasmbridge import cli  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TARGET_DIR = Path(tempfile.gettempdir()) / "wasmbridge-bench-target"
GLUE_RATIO_TARGET = 1.5  # glue add / raw export add


def build(crate: str, out: Path) -> Path:
    """``wasmbridge build --target all`` of a fixture crate, quietly; returns the pkg dir."""
    os.environ["CARGO_TARGET_DIR"] = str(TARGET_DIR)
    err = io.StringIO()
    argv = ["-q", "build", str(REPO / "tests/fixtures/crates" / crate), "--out-dir", str(out)]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = cli.main([*argv, "--target", "all"])
    if code != 0:
        sys.exit(f"building {crate} failed:\n{err.getvalue()}")
    return out


def node_timings(pkg: Path) -> tuple[str, dict[str, Timing]]:
    proc = subprocess.run(
        ["node", str(Path(__file__).parent / "web_calls.mjs"), str(pkg)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.exit(f"node failed:\n{proc.stderr}")
    data = json.loads(proc.stdout)
    return data["node"], {name: Timing(**t) for name, t in data["results"].items()}


def glue_sizes(pkg: Path, name: str) -> str:
    js = (pkg / f"{name}.js").read_bytes()
    dts = (pkg / f"{name}.d.ts").stat().st_size
    wasm = (pkg / f"{name}.wasm").stat().st_size
    packed = len(gzip.compress(js, mtime=0))
    return f"{name}.js {len(js):,} B (gzip {packed:,} B), .d.ts {dts:,} B; .wasm {wasm:,} B"


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="wasmbridge-bench-web-"))
    print("building fixtures ...", file=sys.stderr)
    types = build("types", work / "types")
    hello = build("hello", work / "hello")
    node_version, js = node_timings(types)

    report = Report(f"Web: JS glue call cost in Node {node_version} (bench/web.py)")
    for name, timing in js.items():
        report.add(Row(f"node: {name}", timing))
    raw = js["raw export add (instance.exports.add)"].median_s
    glue = js["glue add"].median_s
    ratio = glue / raw
    report.add(
        Row(
            "glue add / raw export add",
            value=f"{ratio:.2f}x",
            target=f"≤ {GLUE_RATIO_TARGET}x",
            verdict=verdict(ratio <= GLUE_RATIO_TARGET),
            note="medians; argument checks, try/catch naming traps",
        )
    )

    module = wasmbridge.load(types / "types.wasm")
    text = ("wasmbridge " * 94)[:1024]
    report.add(Row("python: wasmbridge add (same module)", measure(lambda: module.add(1, 2))))
    report.add(Row("python: wasmbridge echo_str, 1 KiB", measure(lambda: module.echo_str(text))))
    for pkg, name in ((hello, "hello"), (types, "types")):
        report.add(Row(f"glue size: {name}", value=glue_sizes(pkg, name)))
    report.notes.append(
        "Same types.wasm for every row; node rows are per call, min / median of "
        "auto-calibrated loops (bench/web_calls.mjs)."
    )
    path = report.save("web")
    print(report.markdown())
    print(f"saved {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
