"""Records, enums, classes, tuples, lists and char through the JS glue in Node (geo fixture).

The shared vectors (tests/vectors/geo.json) and the glue's own behaviour run in
`node --test --expose-gc` (geo.test.mjs), and every case's outcome equals the
Python runtime's; the issue's JS example runs as written; tsc type-checks a
caller against the generated geo.d.ts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from build_helpers import require
from web_compound import python_outcomes, write_interface_json
from web_helpers import NODE_TESTS, tap_failures, tap_summary

pytestmark = [pytest.mark.node, pytest.mark.toolchain]

VECTORS = Path(__file__).parents[1] / "vectors" / "geo.json"
CASES = json.loads(VECTORS.read_text(encoding="utf-8"))["cases"]
GLUE_TESTS = 17  # the tests of geo.test.mjs beyond one per vector case
TSC = shutil.which("tsc")
WebPkg = Callable[[str], Path]
NodeRun = tuple[subprocess.CompletedProcess[str], Path]


@pytest.fixture(scope="module")
def geo_pkg(web_pkg: WebPkg) -> Path:
    pkg = web_pkg("geo")
    if not (pkg / "interface.json").exists():
        write_interface_json(pkg / "geo.wasm")
    return pkg


@pytest.fixture(scope="module")
def geo_run(node: None, geo_pkg: Path, tmp_path_factory: pytest.TempPathFactory) -> NodeRun:
    outcomes = tmp_path_factory.mktemp("geo-node") / "outcomes.json"
    argv = ["node", "--expose-gc", "--test", "--test-reporter=tap"]
    proc = subprocess.run(
        [*argv, str(NODE_TESTS / "geo.test.mjs")],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "WASMBRIDGE_PKG": str(geo_pkg),
            "WASMBRIDGE_VECTORS": str(VECTORS),
            "WASMBRIDGE_OUTCOMES": str(outcomes),
        },
        timeout=600,
        check=False,
    )
    return proc, outcomes


def test_every_geo_vector_and_glue_test_passes_in_node(geo_run: NodeRun) -> None:
    proc, _ = geo_run
    counts = tap_summary(proc.stdout)
    assert proc.returncode == 0, tap_failures(proc.stdout) + proc.stderr
    assert counts.get("tests") == len(CASES) + GLUE_TESTS, proc.stdout[-2000:]
    assert counts.get("pass") == counts.get("tests")


def test_node_outcomes_equal_python(geo_run: NodeRun, geo_pkg: Path) -> None:
    """Both hosts, the same cases, the same values and errors (in the vectors' notation)."""
    _, outcomes = geo_run
    node = json.loads(outcomes.read_text(encoding="utf-8"))
    python = python_outcomes(geo_pkg / "geo.wasm", CASES)
    differ = [
        f"case {i}: node {json.dumps(a)[:300]} != python {json.dumps(b)[:300]}"
        for i, (a, b) in enumerate(zip(node, python, strict=True))
        if a != b
    ]
    assert differ == []


ISSUE_EXAMPLE = """\
import init, { mid, Counter, Shape, words } from "./pkg/geo.js";
await init();
mid({ x: 0, y: 0 }, { x: 2, y: 4 });         // { x: 1, y: 2 }
const c = new Counter("c", 5); c.incr(2); c.free();   // also Symbol.dispose and a FinalizationRegistry
"""
ISSUE_CHECKS = """\
console.log(JSON.stringify(mid({ x: 0, y: 0 }, { x: 2, y: 4 })));
const d = new Counter("d", 5);
console.log(d.incr(2), d.label(), Shape.Square, Shape[1], words("a b").join("|"));
d[Symbol.dispose]();
try { c.incr(1); } catch (error) { console.log(error.name); }
"""


def test_the_issue_example_runs_as_written(node: None, geo_pkg: Path, tmp_path: Path) -> None:
    (tmp_path / "pkg").symlink_to(geo_pkg)
    (tmp_path / "main.mjs").write_text(ISSUE_EXAMPLE + ISSUE_CHECKS, encoding="utf-8")
    proc = subprocess.run(["node", "main.mjs"], cwd=tmp_path, capture_output=True, text=True)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.splitlines() == ['{"x":1,"y":2}', "7 d 1 Square a|b", "HandleError"]


def test_node_check_accepts_the_geo_glue(node: None, geo_pkg: Path) -> None:
    for name in ("geo.js", "geo.cjs"):
        proc = subprocess.run(["node", "--check", str(geo_pkg / name)], capture_output=True)
        assert proc.returncode == 0, proc.stderr


USAGE_TS = """\
import init, { mid, centroid, words, join, minmax, area, count_to, Counter, Shape, Level,
  Point, Feature, Sample, echo_sample, checked_mid, swap, nest, maybe_nums, ReturnedError,
  HandleError, Token, progress, classify, summarize } from "./geo.js";
await init();
const p: Point = mid({ x: 0, y: 0 }, { x: 2, y: 4 });
const c: Point | undefined = centroid([p, { x: 1, y: 1 }]);
const w: string[] = words("a b");
const j: string = join(w, "-");
const mm: [number, number] = minmax([3, 1]);
const a: number = area(Shape.Square, 2) + count_to(3);
const s: Shape = Shape.Triangle;
const name: string = Shape[s];
const counter = new Counter("c", 5);
const n: number = counter.incr(2);
const split: Counter = counter.split();
const pair: [string, number] = counter.pair();
const named: Counter = Counter.named("x");
counter.merge(named);
counter.free();
counter[Symbol.dispose]();
const f: Feature = { name: "f", tags: [], span: [1, 2.5], shape: Shape.Circle };
const sample: Sample = echo_sample({
  flag: true, wide: 1n, small: 1, letter: "x", count: 1, level: Level.Max, data: [1], ratio: 1,
});
const wide: bigint = sample.wide;
const swapped: [number, string] = swap(["a", 1]);
const nested: [[number, boolean], [number, string]] = nest([[1, "x"], [1.5, true]]);
const maybe: (number | undefined)[] = maybe_nums([1, null]);
try { checked_mid(p, p); } catch (e) { if (e instanceof ReturnedError) console.log(e.value, e.error); }
const h: Error = new HandleError("x");
const accepted: number = progress(3, (i) => i < 2);
const shapes: Shape[] = classify(["a"], (word, index) => (index > 0 ? undefined : Shape.Circle));
const text: string = summarize([1, 2], (values, [lo, hi]) => `${values.length} ${lo} ${hi}`);
counter.each((i) => console.log(i + 1));
// @ts-expect-error: the callback must give a boolean
progress(3, (i) => "yes");
// @ts-expect-error: a Point has two fields
mid({ x: 1 }, p);
// @ts-expect-error: Token objects come only from new Token(id)
counter.absorb(new Token(1));
"""


@pytest.mark.parametrize("target", ["es2022", "esnext"])
def test_declarations_type_check_a_caller(geo_pkg: Path, tmp_path: Path, target: str) -> None:
    require(None if TSC else "tsc is not installed (apt-get install node-typescript)")
    shutil.copy(geo_pkg / "geo.d.ts", tmp_path)
    (tmp_path / "use.ts").write_text(USAGE_TS, encoding="utf-8")
    argv = [str(TSC), "--strict", "--noEmit", "--target", target, "--module", "es2022"]
    argv += ["--lib", f"{target},dom", "use.ts"]
    proc = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
