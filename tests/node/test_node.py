"""The generated JS glue in Node: shared vectors, host functions, packaging (node --test)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from build_helpers import HelloBuild
from vector_values import load_cases
from web_helpers import (
    differences,
    python_outcomes,
    run_node_tests,
    tap_failures,
    tap_summary,
)

pytestmark = [pytest.mark.node, pytest.mark.toolchain]

CASES = load_cases("types")
GLUE_TESTS = 13  # the tests of types.test.mjs beyond one per vector case
WebPkg = Callable[[str], Path]
NodeRun = tuple[subprocess.CompletedProcess[str], Path]


@pytest.fixture(scope="module")
def types_run(node: None, web_pkg: WebPkg, tmp_path_factory: pytest.TempPathFactory) -> NodeRun:
    outcomes = tmp_path_factory.mktemp("node") / "outcomes.json"
    proc = run_node_tests("types.test.mjs", web_pkg("types"), WASMBRIDGE_OUTCOMES=str(outcomes))
    return proc, outcomes


def test_every_shared_vector_passes_in_node(
    types_run: NodeRun,
) -> None:
    proc, _ = types_run
    counts = tap_summary(proc.stdout)
    assert proc.returncode == 0, tap_failures(proc.stdout) + proc.stderr
    assert counts.get("tests") == len(CASES) + GLUE_TESTS, proc.stdout[-2000:]
    assert counts.get("pass") == counts.get("tests")


def test_node_results_equal_python(types_run: NodeRun, web_pkg: WebPkg) -> None:
    _, outcomes = types_run
    node = json.loads(outcomes.read_text(encoding="utf-8"))
    python = python_outcomes(web_pkg("types") / "types.wasm", CASES)
    assert differences(node, python, CASES) == []


def test_host_functions_written_in_js(node: None, web_pkg: WebPkg) -> None:
    proc = run_node_tests("imports.test.mjs", web_pkg("imports"))
    assert proc.returncode == 0, tap_failures(proc.stdout) + proc.stderr
    assert tap_summary(proc.stdout).get("fail") == 0


@pytest.mark.parametrize("name", ["hello", "types", "imports"])
def test_node_check_accepts_the_generated_glue(node: None, web_pkg: WebPkg, name: str) -> None:
    for suffix in (".js", ".cjs"):
        path = web_pkg(name) / f"{name}{suffix}"
        proc = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


HELLO_SCRIPT = """
import init, { add, greet } from "hello";
await init(undefined, { imports: { alert: (text) => console.log(text) } });
console.log(add(5, 7));
greet("World");
"""
HELLO_CJS = """
const hello = require("hello");
hello.init(undefined, { imports: { alert: (text) => console.log(text) } })
  .then(() => { console.log(hello.add(5, 7)); hello.greet("World"); });
"""


def _node_in(directory: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", *argv], cwd=directory, capture_output=True, text=True)


def test_package_resolves_by_name_for_import_and_require(
    node: None, web_pkg: WebPkg, tmp_path: Path
) -> None:
    """package.json's exports map: the node condition, ESM through import, CJS through require."""
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "hello").symlink_to(web_pkg("hello"))
    esm = _node_in(tmp_path, "--input-type=module", "-e", HELLO_SCRIPT)
    assert (esm.returncode, esm.stdout, esm.stderr) == (0, "12\nHello, World!\n", "")
    cjs = _node_in(tmp_path, "-e", HELLO_CJS)
    assert (cjs.returncode, cjs.stdout, cjs.stderr) == (0, "12\nHello, World!\n", "")


def test_scaffolded_hello_runs_in_node_from_the_default_build(
    node: None, hello_build: HelloBuild, tmp_path: Path
) -> None:
    """`wasmbridge new hello && wasmbridge build` writes web glue by default."""
    script = tmp_path / "main.mjs"
    script.write_text(
        HELLO_SCRIPT.replace('"hello"', json.dumps(str(hello_build.pkg / "hello.js")))
    )
    proc = _node_in(tmp_path, str(script))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "12\nHello, World!\n", "")


def test_greet_without_an_alert_fails_at_init_naming_it(
    node: None, web_pkg: WebPkg, tmp_path: Path
) -> None:
    script = f"import init from {json.dumps(str(web_pkg('hello') / 'hello.js'))}; await init();"
    proc = _node_in(tmp_path, "--input-type=module", "-e", script)
    assert proc.returncode == 1
    assert (
        "Error: hello.wasm needs host functions it was not given: alert (`alert(msg: &str)`); "
        "pass them as init(input, { imports: { name: function } }) or define globals of those "
        "names"
    ) in proc.stderr
