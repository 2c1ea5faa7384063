"""`wasmbridge new hello` + `wasmbridge build` with the real toolchain and SDK."""

from __future__ import annotations

import contextlib
import importlib.util
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from build_helpers import CliResult, HelloBuild
from wasmbridge.interface import parse, read_interface

pytestmark = pytest.mark.toolchain

Cli = Callable[..., CliResult]
SCAFFOLD_BUDGET = 2048  # bytes: DESIGN.md's target for the add + greet module
FINISHED = re.compile(
    r"^Finished pkg/hello\.wasm (?P<size>[\d,]+) B "
    r"\(wasm-opt (?P<before>[\d,]+) → (?P=size) B, size profile\) in \d+\.\d s$"
)


def _subsequence(lines: list[str], expected: list[str]) -> bool:
    it = iter(lines)
    return all(any(line == want for line in it) for want in expected)


def test_new_prints_the_crate_directory(hello_build: HelloBuild) -> None:
    assert hello_build.created.out == "hello\n"
    assert hello_build.created.err_lines == ["Created crate `hello` in hello"]


def test_build_writes_wasm_and_typed_stub(hello_build: HelloBuild) -> None:
    assert hello_build.built.code == 0, hello_build.built.err
    assert sorted(p.name for p in hello_build.pkg.iterdir()) == [
        "hello.d.ts",
        "hello.js",
        "hello.py",
        "hello.pyi",
        "hello.wasm",
        "package.json",
    ]
    assert hello_build.built.out_lines == [
        "pkg/hello.wasm",
        "pkg/hello.py",
        "pkg/hello.pyi",
        "pkg/hello.js",
        "pkg/hello.d.ts",
        "pkg/package.json",
    ]


def test_build_reports_named_steps_then_the_numbers(hello_build: HelloBuild) -> None:
    lines = hello_build.built.err_lines
    assert _subsequence(
        lines,
        [
            "Checking toolchain",
            "Compiling hello (release, size profile)",
            "Optimizing wasm-opt -Oz",
            "Validating hello.wasm",
            "Writing pkg/",
        ],
    ), lines
    assert any(line.startswith("Compiling wasmbridge v") for line in lines)  # cargo's own
    match = FINISHED.match(lines[-1])
    assert match, lines[-1]
    size = (hello_build.pkg / "hello.wasm").stat().st_size
    assert int(match["size"].replace(",", "")) == size
    assert int(match["before"].replace(",", "")) > size


def test_scaffold_module_fits_the_size_budget(hello_build: HelloBuild) -> None:
    size = (hello_build.pkg / "hello.wasm").stat().st_size
    assert size <= SCAFFOLD_BUDGET, f"hello.wasm is {size} B, the budget is {SCAFFOLD_BUDGET} B"


def test_built_module_carries_its_interface_and_only_needed_exports(
    hello_build: HelloBuild,
) -> None:
    module = parse((hello_build.pkg / "hello.wasm").read_bytes())
    interface = read_interface(module)
    assert interface is not None
    assert [f.signature() for f in interface.exports] == [
        "add(a: i32, b: i32) -> i32",
        "greet(name: &str)",
    ]
    assert [f"{f.module}.{f.signature()}" for f in interface.imports] == ["env.alert(msg: &str)"]
    # __stack_pointer stays: greet's code moves the shadow stack (wasm-ld writes
    # `global.set` with a padded index), so a host restores it after a trap.
    assert sorted(e.name for e in module.exports) == [
        "__stack_pointer",
        "__wb_alloc",
        "__wb_free",
        "add",
        "greet",
        "memory",
    ]


def test_the_stub_loads_the_module_and_calls_it(hello_build: HelloBuild) -> None:
    spec = importlib.util.spec_from_file_location("hello", hello_build.pkg / "hello.py")
    assert spec is not None and spec.loader is not None
    stub = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stub)
    alerts: list[str] = []
    module = stub.load({"alert": alerts.append})
    assert module.add(5, 7) == 12
    module.greet("World")
    assert alerts == ["Hello, World!"]


def test_the_readme_one_liner_prints_12_and_hello_world(hello_build: HelloBuild) -> None:
    code = (
        "import wasmbridge; m = wasmbridge.load('pkg/hello.wasm', imports={'alert': print}); "
        "print(m.add(5, 7)); m.greet('World')"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=hello_build.crate,
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout == "12\nHello, World!\n"


USAGE = """\
from hello import Imports, load

imports: Imports = {"alert": print}
m = load(imports)
total: int = m.add(5, 7)
m.greet("World")
m.add("5", 7)  # type: ignore[arg-type]
"""


def test_generated_stub_passes_mypy_strict(hello_build: HelloBuild, tmp_path: Path) -> None:
    py_dir, pyi_dir = tmp_path / "py", tmp_path / "pyi"
    py_dir.mkdir()
    pyi_dir.mkdir()
    (py_dir / "hello.py").write_bytes((hello_build.pkg / "hello.py").read_bytes())
    (pyi_dir / "hello.pyi").write_bytes((hello_build.pkg / "hello.pyi").read_bytes())
    (pyi_dir / "use.py").write_text(USAGE)
    for cwd, files in ((py_dir, ["hello.py"]), (pyi_dir, ["hello.pyi", "use.py"])):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "mypy",
                "--strict",
                "--cache-dir",
                str(tmp_path / "cache"),
                *files,
            ],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dev_build_is_unoptimized_with_names(hello_build: HelloBuild, cli: Cli) -> None:
    with contextlib.chdir(hello_build.crate):
        result = cli("build", "--dev", "--out-dir", "pkg-dev")
    assert result.code == 0, result.err
    assert "Compiling hello (dev, unoptimized, panic messages)" in result.err_lines
    assert not any(line.startswith("Optimizing") for line in result.err_lines)
    assert re.match(
        r"^Finished pkg-dev/hello\.wasm [\d,]+ B \(dev, unoptimized\) in \d+\.\d s$",
        result.err_lines[-1],
    ), result.err_lines[-1]
    module = parse((hello_build.crate / "pkg-dev" / "hello.wasm").read_bytes())
    assert "greet" in module.func_names.values()


def test_panic_messages_build_is_release_with_the_feature(
    hello_build: HelloBuild, cli: Cli
) -> None:
    with contextlib.chdir(hello_build.crate):
        result = cli("build", "--panic-messages", "--out-dir", "pkg-panic")
    assert result.code == 0, result.err
    assert "Compiling hello (release, size profile, panic messages)" in result.err_lines
    size = (hello_build.crate / "pkg-panic" / "hello.wasm").stat().st_size
    assert size > (hello_build.pkg / "hello.wasm").stat().st_size


def test_inspect_shows_the_built_interface_and_sizes(hello_build: HelloBuild, cli: Cli) -> None:
    result = cli("inspect", str(hello_build.pkg / "hello.wasm"))
    assert result.code == 0, result.err
    lines = result.out_lines
    size = (hello_build.pkg / "hello.wasm").stat().st_size
    assert lines[0] == f"{hello_build.pkg / 'hello.wasm'}: {size:,} B, interface v1"
    text = result.out
    assert "interface exports:\n  add(a: i32, b: i32) -> i32\n      Adds two numbers.\n" in text
    assert "interface imports:\n  env.alert(msg: &str)\n" in text
    assert re.search(
        r"^  wasmbridge\.panic\s+func\s+\(i32, i32, i32, i32, i32, i32\) -> \(\)$", text, re.M
    )
    assert re.search(r"^  greet\s+func\s+\(i32, i32\) -> \(\)$", text, re.M)
    assert re.search(r"^  code\s+[\d,]+ B\s+[\d.]+%$", text, re.M)
    assert re.search(r"^\s+[\d,]+ B\s+[\d.]+%  greet$", text, re.M)


def test_inspect_json(hello_build: HelloBuild, cli: Cli) -> None:
    import json

    result = cli("inspect", "--json", str(hello_build.pkg / "hello.wasm"))
    doc = json.loads(result.out)
    assert [f["signature"] for f in doc["interface"]["exports"]] == [
        "add(a: i32, b: i32) -> i32",
        "greet(name: &str)",
    ]
    assert doc["interface"]["imports"][0]["module"] == "env"
    assert sum(s["size"] for s in doc["sizes"]["sections"]) + 8 == doc["size"]


def test_build_reports_the_glue_sizes(hello_build: HelloBuild) -> None:
    glue = next(line for line in hello_build.built.err_lines if line.startswith("Glue "))
    assert re.fullmatch(
        r"Glue hello\.js [\d,]+ B \(gzip [\d,]+ B\), hello\.d\.ts [\d,]+ B, package\.json [\d,]+ B",
        glue,
    ), glue


def test_build_target_selects_the_glue(hello_build: HelloBuild, cli: Cli) -> None:
    with contextlib.chdir(hello_build.crate):
        web = cli("build", "--target", "web", "--out-dir", "pkg-web")
        node = cli("build", "--target", "node,python", "--out-dir", "pkg-node")
    assert web.code == 0, web.err
    assert [Path(p).name for p in web.out_lines] == [
        "hello.wasm", "hello.js", "hello.d.ts", "package.json"
    ]  # fmt: skip
    assert node.code == 0, node.err
    assert [Path(p).name for p in node.out_lines] == [
        "hello.wasm", "hello.py", "hello.pyi", "hello.js", "hello.d.ts", "hello.cjs",
        "hello.d.cts", "package.json",
    ]  # fmt: skip


def test_an_unknown_target_is_a_usage_error(cli: Cli) -> None:
    result = cli("build", "--target", "deno")
    assert result.code == 2
    assert result.err.splitlines()[-1] == (
        "wasmbridge build: error: argument --target: unknown target 'deno' "
        "(choose from python, web, node, all)"
    )
