"""Every export name works in every host, or the build refuses it, saying why.

The `names` fixture exports ~240 functions named like keywords of Rust, JS
and Python, JS globals, Python builtins, the glue's and the stub's own
names, raw identifiers and non-ASCII identifiers. Each is called by its
name through the Python runtime, the Python stub (and mypy), the ES module
and CommonJS glue in Node, the ES module in headless Chromium, and the
.d.ts (tsc). Names that cannot work are refused at build time: by the SDK's
macro when the toolchain owns them, by `wasmbridge build` when a host does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from build_helpers import SDK_CARGO_TOML, CliResult, require, write_crate
from wasmbridge.build.validate import export_name_problems
from wasmbridge.codegen.python import attribute_name
from wasmbridge.devserver import PackageServer
from wasmbridge.interface import Function, Interface, Param, Type, parse, read_interface
from wasmbridge.interface.types import Kind
from web_helpers import CHROMIUM, NODE_TESTS, browser_problem

Cli = Callable[..., CliResult]
WebPkg = Callable[[str], Path]
TSC = shutil.which("tsc")


@pytest.fixture(scope="module")
def pkg(web_pkg: WebPkg) -> Path:
    """names.wasm with every glue: .py/.pyi, .js/.cjs, .d.ts, signatures.json."""
    return web_pkg("names")


def _interface(pkg: Path) -> Interface:
    interface = read_interface(parse((pkg / "names.wasm").read_bytes()))
    assert interface is not None
    return interface


def _answering(pkg: Path) -> list[str]:
    """The exports `NAME(tag: &str) -> String`, which answer `NAME:tag`."""
    text = (Type(Kind.STR),), Type(Kind.STRING)
    found = [
        f.name
        for f in _interface(pkg).exports
        if (tuple(p.type for p in f.params), f.result) == text
    ]
    assert len(found) > 200
    return sorted(found)


@pytest.mark.toolchain
def test_the_fixture_has_the_names_that_once_broke_a_host(pkg: Path) -> None:
    names = set(_answering(pkg))
    assert {"len", "bool", "memory_view", "Object", "URL", "init", "new", "type"} <= names
    assert {"__proto__", "constructor", "toString", "größe", "Uint8Array"} <= {
        f.name for f in _interface(pkg).exports
    }


# -- Python: the runtime and the stub --------------------------------------------------

PYTHON_CHECK = """
import array, json, sys
import wasmbridge
from wasmbridge.codegen.python import attribute_name

pkg, names = sys.argv[1], json.loads(sys.argv[2])
m = wasmbridge.load(pkg + "/names.wasm")
problems = []
for name in names:
    try:
        if m.exports[name]("t") != f"{name}:t":
            problems.append(f"exports[{name!r}] gave {m.exports[name]('t')!r}")
        if attribute_name(name) and getattr(m, name)("u") != f"{name}:u":
            problems.append(f"module.{name} gave {getattr(m, name)('u')!r}")
    except Exception as exc:
        problems.append(f"{name}: {exc!r}")
values = array.array("d", [1, 2])
m.copyBack(values, 3)
results = [m.Uint8Array(b"abc"), m.TextEncoder("a", None), m.memoryView(5, 7),
           list(m.Float64Array([1.5])), m.BigInt(5, False), list(values), m.GuestPanic(1)]
if results != [b"cba", "a:-", 12, [1.5], 2**64 - 5, [3.0, 6.0], 2]:
    problems.append(f"typed exports gave {results!r}")
sys.path.insert(0, pkg)
import names as stub
typed = stub.load()
if (typed.len("x"), typed.int("y"), typed.exports["class"]("z")) != ("len:x", "int:y", "class:z"):
    problems.append("the stub's load() gave another module")
print(json.dumps(problems))
"""


@pytest.mark.toolchain
def test_every_name_in_the_python_runtime_and_stub(pkg: Path) -> None:
    """In a child process: a wrapper calling itself (once `len`) hangs instead of failing."""
    argv = [sys.executable, "-c", PYTHON_CHECK, str(pkg), json.dumps(_answering(pkg))]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def _stub_usage(names: list[str]) -> str:
    lines = ["from names import load", "", "m = load()"]
    for index, name in enumerate(names):
        if attribute_name(name):
            lines.append(f'r{index}: str = m.{name}("t")')
        else:
            lines.append(f"r{index}: str = m.exports[{json.dumps(name)}](" + '"t")')
    lines += ['data: bytes = m.Uint8Array(b"ab")', "m.len(5)  # type: ignore[arg-type]"]
    return "\n".join(lines) + "\n"


@pytest.mark.toolchain
def test_the_stub_types_every_name_under_mypy_strict(pkg: Path, tmp_path: Path) -> None:
    for suffix in (".py", ".pyi"):
        directory = tmp_path / suffix[1:]
        directory.mkdir()
        shutil.copy(pkg / f"names{suffix}", directory)
        (directory / "use.py").write_text(_stub_usage(_answering(pkg)), encoding="utf-8")
        argv = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "."]
        proc = subprocess.run(argv, cwd=directory, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, suffix + proc.stdout + proc.stderr


# -- JavaScript: Node, Chromium, tsc ------------------------------------------------------

NODE_CHECK = """
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const [harness, pkg] = process.argv.slice(1);
const { checkNames } = await import(pathToFileURL(harness));
const signatures = JSON.parse(readFileSync(`${pkg}/signatures.json`, "utf-8"));
// A dynamic import: a module exporting `then` would never resolve to its namespace.
const esm = await import(pathToFileURL(`${pkg}/names.js`));
await esm.default();
const cjs = createRequire(import.meta.url)(`${pkg}/names.cjs`);
await cjs.default();
const prototype = Object.getPrototypeOf(cjs) === Object.prototype;
console.log(JSON.stringify({ esm: checkNames(esm, signatures), cjs: checkNames(cjs, signatures), prototype }));
"""


@pytest.mark.node
@pytest.mark.toolchain
def test_every_name_in_node_as_es_module_and_commonjs(node: None, pkg: Path) -> None:
    harness = NODE_TESTS / "names.mjs"
    argv = ["node", "--input-type=module", "-e", NODE_CHECK, str(harness), str(pkg)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    # `{ __proto__: f }` in module.exports would have replaced its prototype.
    assert json.loads(proc.stdout) == {"esm": [], "cjs": [], "prototype": True}


@pytest.mark.node
@pytest.mark.toolchain
def test_node_check_accepts_the_glue(node: None, pkg: Path) -> None:
    for name in ("names.js", "names.cjs"):
        proc = subprocess.run(["node", "--check", str(pkg / name)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


def _ts_usage(names: list[str]) -> str:
    lines = ['import init, * as m from "./names.js";', "await init();"]
    lines += [f"const r{i}: string = m[{json.dumps(n)}](" + '"t");' for i, n in enumerate(names)]
    lines += [
        "const data: Uint8Array = m.Uint8Array(new Uint8Array(2));",
        "const sum: bigint | undefined = m.memoryView(1n, null);",
        "// @ts-expect-error: a number is not a string",
        "m.len(5);",
        "export {};",
    ]
    return "\n".join(lines) + "\n"


@pytest.mark.node
@pytest.mark.toolchain
def test_the_declarations_type_every_name_under_tsc(pkg: Path, tmp_path: Path) -> None:
    require(None if TSC else "tsc is not installed (apt-get install node-typescript)")
    shutil.copy(pkg / "names.d.ts", tmp_path)
    (tmp_path / "use.ts").write_text(_ts_usage(_answering(pkg)), encoding="utf-8")
    argv = [str(TSC), "--strict", "--noEmit", "--target", "es2022", "--module", "es2022"]
    argv += ["--lib", "es2022,dom", "use.ts"]
    proc = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
CHROMIUM_CHECK = """async () => {
  const { checkNames } = await import("./names.mjs");
  const glue = await import("./names.js");
  await glue.default();
  const signatures = await (await fetch("./signatures.json")).json();
  return checkNames(glue, signatures);
}"""


@pytest.fixture(scope="module")
def site(pkg: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The package and the harness on loopback, with serve-pkg's demo page at /."""
    root = tmp_path_factory.mktemp("names-site")
    for name in ("names.js", "names.wasm", "signatures.json"):
        shutil.copy(pkg / name, root)
    shutil.copy(NODE_TESTS / "names.mjs", root)
    with PackageServer(root, port=0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield server.url
        server.shutdown()
        thread.join()


@pytest.mark.browser
@pytest.mark.toolchain
def test_every_name_in_chromium(site: str, tmp_path: Path) -> None:
    require(browser_problem())
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS
        )
        try:
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(site)
            page.wait_for_function("window.names !== undefined", timeout=30_000)
            problems: Any = page.evaluate(CHROMIUM_CHECK)
        finally:
            context.close()
    assert (problems, errors) == ([], [])


# -- names refused at build time -------------------------------------------------------


@pytest.fixture(scope="module")
def cargo_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One target directory for the crates below, so the SDK compiles once."""
    target = tmp_path_factory.mktemp("names-target")
    previous = os.environ.get("CARGO_TARGET_DIR")
    os.environ["CARGO_TARGET_DIR"] = str(target)
    yield target
    if previous is None:
        del os.environ["CARGO_TARGET_DIR"]
    else:
        os.environ["CARGO_TARGET_DIR"] = previous


def _sdk_crate(directory: Path, lib_rs: str) -> Path:
    sdk = SDK_CARGO_TOML.parent.as_posix()
    return write_crate(
        directory, directory.name, lib_rs, dependencies=f'wasmbridge = {{ path = "{sdk}" }}'
    )


TOOLCHAIN_NAMES = """\
#![no_std]
#[wasmbridge::export]
pub fn memory(a: i32) -> i32 { a }
#[wasmbridge::export]
pub fn fmod(x: f64, y: f64) -> f64 { x % y }
#[wasmbridge::export]
pub fn __wb_alloc(a: i32) -> i32 { a }
#[wasmbridge::export(name = "__heap_base")]
pub fn heap_base(a: i32) -> i32 { a }
#[wasmbridge::export(name = "memset")]
pub fn fill(a: i32) -> i32 { a }
#[wasmbridge::export]
pub fn __proto__(a: i32) -> i32 { a }
"""
BUILTINS = (
    "names starting with `__` belong to the linker, the SDK and the compiler's builtins "
    "(`__heap_base`, `__wb_alloc`, `__multi3`)"
)


def _c_function(name: str) -> str:
    return (
        f"`{name}` is a C function the compiler itself calls (for float `%`, `powf`, `sin`, "
        "memory copies, ...); an export of that name would replace it, and could end up "
        "calling itself"
    )


@pytest.mark.toolchain
def test_names_the_toolchain_owns_are_compile_errors_naming_the_function(
    sdk_ready: None, cargo_target: Path, tmp_path: Path, cli: Cli
) -> None:
    """Once: `memory` failed validation, `__wb_alloc` LTO, and `fmod` called itself forever."""
    result = cli("build", str(_sdk_crate(tmp_path / "owned", TOOLCHAIN_NAMES)))
    assert result.code == 1
    rename = "rename the function, or export it under another name"
    for line in (
        "error: cannot export `memory`: the module's linear memory is exported as `memory`; "
        f'{rename}: `#[wasmbridge::export(name = "memory_")]`',
        f"error: cannot export `fmod`: {_c_function('fmod')}; "
        f'{rename}: `#[wasmbridge::export(name = "fmod_")]`',
        f"error: cannot export `__wb_alloc`: {BUILTINS}; "
        f'{rename}: `#[wasmbridge::export(name = "wb_alloc")]`',
        f"error: cannot export `heap_base` as `__heap_base`: {BUILTINS}; "
        'export it under another name: `#[wasmbridge::export(name = "heap_base")]`',
        f"error: cannot export `fill` as `memset`: {_c_function('memset')}; "
        'export it under another name: `#[wasmbridge::export(name = "memset_")]`',
    ):
        assert line in result.err_lines, line
    refused = [line for line in result.err_lines if line.startswith("error: cannot export")]
    assert len(refused) == 5  # `__proto__` is not among them


HOST_NAMES = """\
#![no_std]
#![allow(uncommon_codepoints)]
#[wasmbridge::export]
pub fn then(a: i32) -> i32 { a }
#[wasmbridge::export]
pub fn default(a: i32) -> i32 { a }
#[wasmbridge::export(name = "random-bytes")]
pub fn random_bytes(a: i32) -> i32 { a }
#[wasmbridge::export]
pub fn ｆｏｏ(a: i32) -> i32 { a }
#[wasmbridge::export]
pub fn fine(a: i32) -> i32 { a }
"""


@pytest.mark.toolchain
def test_names_a_host_owns_are_refused_by_the_build(
    sdk_ready: None, cargo_target: Path, tmp_path: Path, cli: Cli
) -> None:
    crate = _sdk_crate(tmp_path / "hostile", HOST_NAMES)
    result = cli("build", str(crate))
    assert (result.code, result.out) == (1, "")
    assert result.err.endswith(
        "error: hostile.wasm has exports that some host cannot reach by name:\n"
        "  `default`: the JS glue's default export is init()\n"
        "  `random-bytes`: it is not an identifier, so TypeScript declarations cannot name it "
        "and Python reaches it only through `exports[...]`\n"
        "  `then`: `await import()` takes a module exporting `then` for a promise and calls it "
        "instead of returning the module\n"
        "  `ｆｏｏ`: Python reads it as `foo` (identifiers are NFKC-normalized), so `module.ｆｏｏ` "
        "would look up `foo`\n"
        "  hint:  rename the function, or export it under another name: "
        '`#[wasmbridge::export(name = "...")]`; docs/web.md, "Export names", has the rules\n'
    )
    assert not (crate / "pkg").exists()


def test_name_rules_accept_what_every_host_reaches() -> None:
    names = ["new", "Object", "__proto__", "größe", "len", "then_", "__esModule", "a\nb", "π"]
    interface = Interface(1, tuple(Function(n, (Param("x", Type(Kind.I32)),)) for n in names))
    assert export_name_problems(interface) == [
        "`__esModule`: the CommonJS glue uses it to mark itself as an ES module",
        "`a\\nb`: it is not an identifier, so TypeScript declarations cannot name it "
        "and Python reaches it only through `exports[...]`",
    ]
