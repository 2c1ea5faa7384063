"""Helpers for the build/CLI tests: running the CLI, golden files, crates, tiny modules."""

from __future__ import annotations

import contextlib
import difflib
import io
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from wasmbridge.build.toolchain import diagnose
from wasmbridge.cli import main
from wasmbridge.interface import Function, Interface, Param, Type
from wasmbridge.interface.types import Kind

REPO = Path(__file__).resolve().parents[1]
SDK_CARGO_TOML = REPO / "guest" / "rust" / "wasmbridge" / "Cargo.toml"


# -- running the CLI ----------------------------------------------------------------


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        """stderr lines with the step alignment stripped."""
        return [line.strip() for line in self.err.splitlines()]

    @property
    def out_lines(self) -> list[str]:
        return self.out.splitlines()


def run_cli(*argv: str) -> CliResult:
    """``wasmbridge.cli.main(argv)`` with stdout and stderr captured (cargo's too)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return CliResult(code, out.getvalue(), err.getvalue())


@dataclass(frozen=True)
class HelloBuild:
    """The scaffolded crate and what ``new`` and ``build`` printed (conftest's hello_build)."""

    crate: Path
    created: CliResult
    built: CliResult

    @property
    def pkg(self) -> Path:
        return self.crate / "pkg"


# -- skipping -------------------------------------------------------------------------


def require(problem: str | None) -> None:
    """Skip with ``problem``, or fail when CI demands every test (WASMBRIDGE_REQUIRE_ALL=1)."""
    if problem is None:
        return
    if os.environ.get("WASMBRIDGE_REQUIRE_ALL") == "1":
        pytest.fail(f"required but unavailable: {problem}")
    pytest.skip(problem)


def toolchain_problem() -> str | None:
    return None if diagnose().chosen is not None else "no rustc that can build wasm32"


RUSTUP_RUSTC = Path.home() / ".cargo" / "bin" / "rustc"


def path_with(tmp_path: Path, tools: dict[str, Path]) -> str:
    """A PATH of one directory holding only symlinks to ``tools``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, target in tools.items():
        (bin_dir / name).symlink_to(target)
    return str(bin_dir)


INSTALL_HINTS = (
    "  hint:  rustup target add wasm32-unknown-unknown   # rustup\n"
    "  hint:  sudo apt-get install rustc cargo libstd-rust-dev-wasm32 lld   # Debian, Ubuntu\n"
    "  hint:  `wasmbridge doctor` re-checks every toolchain piece\n"
)


def rustup_rustc_without_wasm32() -> tuple[str, Path]:
    if not RUSTUP_RUSTC.exists():
        pytest.skip("rustup's rustc is not installed")
    out = subprocess.run([RUSTUP_RUSTC, "--version"], capture_output=True, text=True, check=True)
    libdir = subprocess.run(
        [RUSTUP_RUSTC, "--print", "target-libdir", "--target", "wasm32-unknown-unknown"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if libdir and any(Path(libdir).glob("libcore-*.rlib")):
        pytest.skip("rustup's rustc has the wasm32 target here")
    return out.stdout.split()[1], RUSTUP_RUSTC


# -- golden files ---------------------------------------------------------------------


class Golden:
    """Expected texts under tests/golden/; ``update`` rewrites them (UPDATE_GOLDEN=1)."""

    def __init__(self, root: Path, *, update: bool) -> None:
        self.root = root
        self.update = update

    def check(self, name: str, actual: str) -> None:
        path = self.root / name
        if self.update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            return
        if not path.exists():
            pytest.fail(f"no golden file {path}; run with UPDATE_GOLDEN=1 to create it")
        expected = path.read_text(encoding="utf-8")
        if actual != expected:
            diff = difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                f"golden/{name}",
                "actual",
            )
            pytest.fail(f"{name} differs (UPDATE_GOLDEN=1 rewrites it):\n{''.join(diff)}")


# -- crates -----------------------------------------------------------------------------

PLAIN_LIB_RS = """\
#![no_std]

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

#[no_mangle]
pub extern "C" fn add(a: i32, b: i32) -> i32 {
    a.wrapping_add(b)
}
"""


def write_crate(
    directory: Path,
    name: str,
    lib_rs: str = PLAIN_LIB_RS,
    *,
    crate_type: str | None = '["cdylib"]',
    dependencies: str = "",
) -> Path:
    """A crate without the SDK (or with ``dependencies``) in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    lib = f"\n[lib]\ncrate-type = {crate_type}\n" if crate_type else ""
    deps = f"\n[dependencies]\n{dependencies}\n" if dependencies else ""
    (directory / "Cargo.toml").write_text(
        f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n{lib}{deps}'
    )
    (directory / "src").mkdir(exist_ok=True)
    (directory / "src" / "lib.rs").write_text(lib_rs)
    return directory


# -- tiny modules, byte by byte ---------------------------------------------------------

_VALTYPE = {"i32": 0x7F, "i64": 0x7E, "f32": 0x7D, "f64": 0x7C}
_CONST = {
    "i32": b"\x41\x00",
    "i64": b"\x42\x00",
    "f32": b"\x43" + bytes(4),
    "f64": b"\x44" + bytes(8),
}


def uleb(value: int) -> bytes:
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        out.append(b | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _name(text: str) -> bytes:
    raw = text.encode()
    return uleb(len(raw)) + raw


def _section(section_id: int, body: bytes) -> bytes:
    return bytes([section_id]) + uleb(len(body)) + body


def _vec(items: list[bytes]) -> bytes:
    return uleb(len(items)) + b"".join(items)


def _functype(params: list[str], results: list[str]) -> bytes:
    return (
        b"\x60"
        + _vec([bytes([_VALTYPE[p]]) for p in params])
        + _vec([bytes([_VALTYPE[r]]) for r in results])
    )


@dataclass(frozen=True)
class Func:
    """A function for ``wasm_module``: exported under ``name`` unless ``export`` is False."""

    name: str
    params: tuple[str, ...] = ()
    results: tuple[str, ...] = ()
    export: bool = True
    padding: int = 0  # extra `nop`s to give the body a size


def wasm_module(
    funcs: list[Func],
    *,
    imports: Sequence[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = (),
    custom: dict[str, bytes] | None = None,
    rust_globals: bool = True,
    names: bool = False,
) -> bytes:
    """A valid module: imports, funcs returning zeros, memory, rustc's globals, customs."""
    types = [_functype(list(p), list(r)) for _, _, p, r in imports]
    types += [_functype(list(f.params), list(f.results)) for f in funcs]
    out = b"\0asm\1\0\0\0" + _section(1, _vec(types))
    if imports:
        entries = [
            _name(m) + _name(n) + b"\x00" + uleb(i) for i, (m, n, _, _) in enumerate(imports)
        ]
        out += _section(2, _vec(entries))
    out += _section(3, _vec([uleb(len(imports) + i) for i in range(len(funcs))]))
    out += _section(5, _vec([b"\x00\x01"]))
    if rust_globals:
        glob = b"\x7f\x00\x41" + uleb(1024) + b"\x0b"
        out += _section(6, _vec([glob, glob]))
    exports = [_name("memory") + b"\x02\x00"]
    exports += [
        _name(f.name) + b"\x00" + uleb(len(imports) + i) for i, f in enumerate(funcs) if f.export
    ]
    if rust_globals:
        exports += [_name("__data_end") + b"\x03\x00", _name("__heap_base") + b"\x03\x01"]
    out += _section(7, _vec(exports))
    bodies = []
    for f in funcs:
        code = b"\x00" + b"\x01" * f.padding + b"".join(_CONST[r] for r in f.results) + b"\x0b"
        bodies.append(uleb(len(code)) + code)
    out += _section(10, _vec(bodies))
    if names:
        entries = [uleb(len(imports) + i) + _name(f.name) for i, f in enumerate(funcs)]
        sub = _vec(entries)
        out += _section(0, _name("name") + b"\x01" + uleb(len(sub)) + sub)
    for section_name, payload in (custom or {}).items():
        out += _section(0, _name(section_name) + payload)
    return out


# -- an interface with every kind of type, for the stub generators -----------------


def _t(kind: str, inner: Type | None = None) -> Type:
    return Type(Kind[kind], inner)


def stub_fixture_interface() -> Interface:
    """Exports and imports covering each interface type (docs/abi.md's table)."""
    u8, f32, f64, i32 = _t("U8"), _t("F32"), _t("F64"), _t("I32")
    exports = (
        Function("add", (Param("a", i32), Param("b", i32)), i32, doc="Adds two numbers."),
        Function(
            "greet",
            (Param("name", _t("STR")),),
            doc='Greets `name` through the host\'s `alert`: "Hello, NAME!".',
        ),
        Function("flags", (Param("on", _t("BOOL")), Param("big", _t("U64"))), _t("I64")),
        Function(
            "upper",
            (Param("text", _t("STRING")),),
            _t("STRING"),
            doc="Uppercases.\n\nTwo paragraphs, a \\ backslash.",
        ),
        Function(
            "digest", (Param("data", _t("SLICE", u8)),), _t("VEC", u8), doc="SHA-256 of `data`."
        ),
        Function("scale", (Param("xs", _t("SLICE", f32)), Param("k", f32)), _t("VEC", f32)),
        Function("ints", (Param("xs", _t("VEC", i32)),), _t("VEC", _t("I32"))),
        Function("invert", (Param("buf", _t("MUT_SLICE", u8)),)),
        Function("normalize", (Param("xs", _t("MUT_SLICE", f64)),)),
        Function(
            "find",
            (Param("hay", _t("STR")), Param("needle", _t("OPTION", _t("STR")))),
            _t("OPTION", _t("U32")),
        ),
        Function(
            "parse", (Param("text", _t("STR")),), _t("RESULT", _t("F64")), doc="Parses a number."
        ),
        Function("version", (), _t("STR")),
        Function("lambda", (Param("x", i32),), i32),
        Function("span", (Param("from", i32), Param("to", i32)), _t("VEC", i32)),
        Function(
            "clamp",
            (
                Param("value_to_be_clamped", f64),
                Param("lowest_allowed", f64),
                Param("highest_allowed", f64),
            ),
            f64,
        ),
    )
    imports = (
        Function("alert", (Param("msg", _t("STR")),), module="env", doc="Shows `msg` to the user."),
        Function("now", (), f64, module="env"),
        Function("fetch", (Param("url", _t("STR")),), _t("VEC", u8), module="env"),
        Function("fill", (Param("buf", _t("MUT_SLICE", u8)),), module="env"),
        Function(
            "smooth",
            (Param("xs", _t("MUT_SLICE", f32)), Param("xs2", _t("SLICE", f64))),
            module="env",
        ),
        Function("log", (Param("level", i32), Param("msg", _t("STRING"))), module="console"),
        Function("lookup", (Param("key", _t("STR")),), _t("OPTION", _t("STRING")), module="env"),
    )
    return Interface(1, exports=exports, imports=imports)
