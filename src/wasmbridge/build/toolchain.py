"""Find a Rust toolchain that can really build wasm32-unknown-unknown.

rustup's ``rustc`` usually comes first on PATH but often lacks the wasm32
standard library, while Debian's ``/usr/bin/rustc`` may have it (package
``libstd-rust-dev-wasm32``). So every candidate is asked for its wasm32
target libdir, and only one whose libdir holds a ``libcore`` is used,
together with the ``cargo`` beside it (a newer cargo may pass flags an
older rustc does not know).

Candidates, in order: ``$RUSTC`` when set, every ``rustc`` on PATH, then
the fallbacks (``/usr/bin/rustc``; ``WASMBRIDGE_RUSTC_FALLBACKS`` replaces
the list, ``os.pathsep``-separated, empty for none).

    toolchain = diagnose().require()   # raises MissingToolchain with the fix
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import MissingToolchain

WASM_TARGET = "wasm32-unknown-unknown"
DEFAULT_RUSTC_FALLBACKS = ("/usr/bin/rustc",)
FALLBACKS_ENV = "WASMBRIDGE_RUSTC_FALLBACKS"
WASM_OPT_ENV = "WASMBRIDGE_WASM_OPT"  # a path, or empty to build without wasm-opt

RUSTUP_FIX = f"rustup target add {WASM_TARGET}"
DEBIAN_FIX = "sudo apt-get install rustc cargo libstd-rust-dev-wasm32 lld"
BINARYEN_FIX = "sudo apt-get install binaryen"
DOCTOR_HINT = "`wasmbridge doctor` re-checks every toolchain piece"
TOOL_TIMEOUT = 60.0  # seconds; rustup may install a toolchain on first use


@dataclass(frozen=True)
class RustcCheck:
    """What one rustc candidate offers; ``problem`` is None when it can build wasm32."""

    path: Path
    version: str | None = None
    libdir: Path | None = None
    cargo: Path | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def rustup(self) -> bool:
        """Whether this rustc is a rustup proxy (so ``rustup target add`` is its fix)."""
        return (self.path.parent / "rustup").exists() or "rustup" in str(self.path.resolve())

    def describe(self) -> str:
        """``~/.cargo/bin/rustc 1.95.0 has no wasm32 libcore``-style summary."""
        name = display_path(self.path)
        if self.version:
            name = f"{name} {self.version}"
        return f"{name} {self.problem}" if self.problem else f"{name} can build {WASM_TARGET}"


@dataclass(frozen=True)
class Tool:
    """An optional external program; ``path`` is None when it is not installed.

    ``problem`` says why a program the environment named cannot be used
    (``WASMBRIDGE_WASM_OPT=/x/wasm-opt (no such file)``); ``disabled`` is
    set when the environment turned the tool off.
    """

    name: str
    path: Path | None = None
    version: str | None = None
    problem: str | None = None
    disabled: bool = False


@dataclass(frozen=True)
class Toolchain:
    """The programs a build uses."""

    rustc: Path
    cargo: Path
    rustc_version: str
    wasm_opt: Tool
    candidates: tuple[RustcCheck, ...] = ()  # every rustc looked at, this one included

    def describe(self) -> str:
        return f"{display_path(self.rustc)} {self.rustc_version} with {display_path(self.cargo)}"

    @property
    def skipped(self) -> tuple[RustcCheck, ...]:
        """The candidates that cannot build wasm32."""
        return tuple(r for r in self.candidates if not r.ok)

    def why_this_rustc(self) -> str:
        """Why builds use this rustc: ``the only one here with the wasm32 target; ...``."""
        usable = [r for r in self.candidates if r.ok]
        if len(usable) > 1 or not self.skipped:
            return "the first one found with the wasm32 target"
        others = "; ".join(r.describe() for r in self.skipped)
        return f"the only one here with the wasm32 target; {others}"


@dataclass(frozen=True)
class Diagnosis:
    """Every rustc candidate and wasm-opt, as ``build`` and ``doctor`` both see them."""

    rustcs: tuple[RustcCheck, ...]
    wasm_opt: Tool

    @property
    def chosen(self) -> RustcCheck | None:
        """The first candidate that can build wasm32, if any."""
        return next((r for r in self.rustcs if r.ok), None)

    def require(self) -> Toolchain:
        """The toolchain to build with, or MissingToolchain naming what was found."""
        chosen = self.chosen
        if chosen is None or chosen.cargo is None or chosen.version is None:
            raise missing_toolchain_error(self.rustcs)
        return Toolchain(chosen.path, chosen.cargo, chosen.version, self.wasm_opt, self.rustcs)


def missing_toolchain_error(rustcs: tuple[RustcCheck, ...]) -> MissingToolchain:
    """The one error for "no rustc can build wasm32", with both install commands."""
    found = "; ".join(r.describe() for r in rustcs) or "no rustc on PATH"
    return MissingToolchain(
        f"no rustc can build {WASM_TARGET}\nwhere: {found}",
        hint="\n".join(
            [
                f"{RUSTUP_FIX}   # rustup",
                f"{DEBIAN_FIX}   # Debian, Ubuntu",
                DOCTOR_HINT,
            ]
        ),
    )


def diagnose(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Diagnosis:
    """Check every rustc candidate and look for wasm-opt."""
    env = os.environ if environ is None else environ
    checks = tuple(check_rustc(path, env, cwd) for path in rustc_candidates(env))
    return Diagnosis(checks, find_wasm_opt(env))


def rustc_candidates(environ: Mapping[str, str]) -> list[Path]:
    """$RUSTC, each rustc on PATH, then the fallbacks; duplicates (same file) once."""
    found: list[Path] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        key = path.resolve() if path.exists() else path
        if key not in seen:
            seen.add(key)
            found.append(path)

    if rustc := environ.get("RUSTC"):
        add(Path(shutil.which(rustc, path=environ.get("PATH")) or rustc))
    for directory in environ.get("PATH", "").split(os.pathsep):
        candidate = Path(directory or ".") / "rustc"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            add(candidate)
    for fallback in rustc_fallbacks(environ):
        add(fallback)
    return found


def rustc_fallbacks(environ: Mapping[str, str]) -> list[Path]:
    """Paths tried after PATH (``/usr/bin/rustc`` unless the environment says otherwise)."""
    value = environ.get(FALLBACKS_ENV)
    if value is None:
        return [Path(p) for p in DEFAULT_RUSTC_FALLBACKS]
    return [Path(p) for p in value.split(os.pathsep) if p]


def check_rustc(path: Path, environ: Mapping[str, str], cwd: Path | None = None) -> RustcCheck:
    """Ask one rustc for its version and wasm32 libdir, and find the cargo beside it."""
    if not path.exists():
        return RustcCheck(path, problem="not installed")
    version_out = run_tool([str(path), "--version"], environ, cwd)
    if version_out is None:
        return RustcCheck(path, problem="does not run (`rustc --version` failed)")
    version = parse_version(version_out)
    libdir_out = run_tool(
        [str(path), "--print", "target-libdir", "--target", WASM_TARGET], environ, cwd
    )
    if libdir_out is None:
        return RustcCheck(path, version, problem=f"does not know the {WASM_TARGET} target")
    libdir = Path(libdir_out.strip())
    if not any(libdir.glob("libcore-*.rlib")):
        return RustcCheck(path, version, libdir, problem="has no wasm32 libcore")
    cargo = path.parent / "cargo"
    if not cargo.exists():
        return RustcCheck(path, version, libdir, problem=f"has no cargo beside it ({cargo})")
    return RustcCheck(path, version, libdir, cargo)


def find_wasm_opt(environ: Mapping[str, str]) -> Tool:
    """wasm-opt from ``$WASMBRIDGE_WASM_OPT`` (empty: none) or PATH, with its version."""
    override = environ.get(WASM_OPT_ENV)
    if override is None:
        return find_tool("wasm-opt", environ)
    if override == "":
        return Tool("wasm-opt", disabled=True)
    tool = find_tool("wasm-opt", environ, program=override)
    if tool.path is None:
        problem = f"{WASM_OPT_ENV}={override} ({_why_not_runnable(override)})"
        return Tool("wasm-opt", problem=problem)
    return tool


def wasm_opt_fix(environ: Mapping[str, str] | None = None) -> str:
    """What to do when ``$WASMBRIDGE_WASM_OPT`` names no usable program."""
    env = os.environ if environ is None else environ
    on_path = shutil.which("wasm-opt", path=env.get("PATH"))
    instead = (
        f"unset it to use {display_path(Path(on_path))} from PATH"
        if on_path
        else f"unset it and install one: {BINARYEN_FIX}"
    )
    return f"point {WASM_OPT_ENV} at a wasm-opt program, or {instead}"


def _why_not_runnable(program: str) -> str:
    if os.sep not in program:
        return "not found on PATH"
    path = Path(program)
    if not path.exists():
        return "no such file"
    return "not an executable file" if path.is_file() else "not a file"


def find_tool(
    name: str,
    environ: Mapping[str, str] | None = None,
    *,
    program: str | None = None,
    version_args: tuple[str, ...] = ("--version",),
) -> Tool:
    """Locate ``name`` on PATH (or ``program``) and read its version line."""
    env = os.environ if environ is None else environ
    found = shutil.which(program or name, path=env.get("PATH"))
    if found is None:
        return Tool(name)
    output = run_tool([found, *version_args], env)
    return Tool(name, Path(found), tool_version(output) if output else None)


def run_tool(argv: list[str], environ: Mapping[str, str], cwd: Path | None = None) -> str | None:
    """A tool's stdout, or None when it cannot run or exits non-zero."""
    try:
        proc = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            env=dict(environ),
            cwd=cwd,
            timeout=TOOL_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None


def parse_version(output: str) -> str:
    """``rustc 1.95.0 (59807616e 2026-04-14)`` → ``1.95.0``."""
    match = re.search(r"\d+\.\d+\.\d+(?:-[\w.]+)?", output)
    return match.group(0) if match else _first_line(output)


def tool_version(output: str) -> str:
    """The version in a ``--version`` line: ``1.0.32``, ``v20.20.2``, ``version 108``."""
    match = re.search(r"v?\d+\.\d+\.\d+(?:\.\d+)*(?:-[\w.]+)?", output) or re.search(
        r"version \d+", output
    )
    return match.group(0) if match else _first_line(output)


def display_path(path: Path) -> str:
    """``path`` with the home directory shown as ``~``."""
    home = str(Path.home())
    text = str(path)
    if home != "/" and (text == home or text.startswith(home + os.sep)):
        return "~" + text[len(home) :]
    return text


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""
