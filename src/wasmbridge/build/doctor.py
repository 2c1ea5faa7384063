"""``wasmbridge doctor``: every toolchain piece, whether it works, and its fix.

It shares ``toolchain.diagnose`` (and the fix text) with ``build``, so the
two never disagree about which rustc a build would use.

    report = run_doctor()
    report.ok          # False when `wasmbridge build` cannot work
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

from ..errors import MissingToolchain
from .sdk import SDK_ENV, find_sdk
from .toolchain import (
    BINARYEN_FIX,
    DEBIAN_FIX,
    RUSTUP_FIX,
    WASM_OPT_ENV,
    WASM_TARGET,
    Diagnosis,
    RustcCheck,
    Tool,
    diagnose,
    display_path,
    find_tool,
    missing_toolchain_error,
    parse_version,
    run_tool,
    wasm_opt_fix,
)

# Optional tools: (name, what wasmbridge needs it for, install command).
OPTIONAL_TOOLS = (
    ("wat2wasm", "WebAssembly text fixtures in tests", "sudo apt-get install wabt"),
    ("node", "the generated Node glue and its tests", "sudo apt-get install nodejs"),
    ("chromium", "browser tests of the web glue", "sudo apt-get install chromium"),
)


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report; ``ok`` None means not needed here."""

    name: str
    ok: bool | None
    detail: str
    fix: str | None = None
    required: bool = False


@dataclass(frozen=True)
class DoctorReport:
    checks: tuple[Check, ...]
    diagnosis: Diagnosis

    @property
    def ok(self) -> bool:
        """Whether ``wasmbridge build`` can work (every required piece is there)."""
        return all(c.ok for c in self.checks if c.required)

    def error(self) -> MissingToolchain | None:
        """The error ``build`` would raise for the missing core pieces, if any."""
        if self.diagnosis.chosen is None:
            return missing_toolchain_error(self.diagnosis.rustcs)
        failed = [c for c in self.checks if c.required and not c.ok]
        if not failed:
            return None
        return MissingToolchain(
            f"{failed[0].name} is missing: {failed[0].detail}", hint=failed[0].fix
        )


def run_doctor(environ: Mapping[str, str] | None = None) -> DoctorReport:
    """Check every piece; never raises for a missing one."""
    env = os.environ if environ is None else environ
    diagnosis = diagnose(env)
    checks = [*_rustc_checks(diagnosis), _cargo_check(diagnosis, env)]
    checks.append(_wasm_opt_check(diagnosis.wasm_opt, env))
    for name, purpose, fix in OPTIONAL_TOOLS:
        checks.append(_optional_check(find_tool(name, env), purpose, fix))
    checks += [_wasmtime_check(), _call_path_check(), _sdk_check(env)]
    return DoctorReport(tuple(checks), diagnosis)


def render_doctor(report: DoctorReport, symbol: Callable[[bool | None], str]) -> list[str]:
    """The report as lines: ``✓ name  detail`` and an indented ``fix:`` line."""
    width = max(len(c.name) for c in report.checks)
    lines = []
    for check in report.checks:
        lines.append(f"{symbol(check.ok)} {check.name:<{width}}  {check.detail}")
        if check.fix and check.ok is not True:
            lines.append(f"  {'':<{width}}  fix: {check.fix}")
    chosen = report.diagnosis.chosen
    if report.ok and chosen is not None and chosen.cargo is not None:
        rustc = f"{display_path(chosen.path)} {chosen.version}"
        lines.append(f"ready: `wasmbridge build` uses {rustc} with {display_path(chosen.cargo)}")
    return lines


def _rustc_checks(diagnosis: Diagnosis) -> list[Check]:
    chosen = diagnosis.chosen
    if not diagnosis.rustcs:
        return [Check("rustc", False, "no rustc on PATH", DEBIAN_FIX, required=True)]
    checks = []
    for rustc in diagnosis.rustcs:
        fix = RUSTUP_FIX if rustc.rustup else DEBIAN_FIX
        if rustc.ok:
            used = " (used for builds)" if rustc is chosen else " (not used)"
            checks.append(Check("rustc", True, f"{rustc.describe()}{used}", required=True))
        elif chosen is not None:
            checks.append(Check("rustc", None, f"{_why_not(rustc)}; not needed", fix))
        else:
            checks.append(Check("rustc", False, _why_not(rustc), fix, required=True))
    return checks


def _why_not(rustc: RustcCheck) -> str:
    return rustc.describe().replace("has no wasm32 libcore", f"has no {WASM_TARGET} target")


def _cargo_check(diagnosis: Diagnosis, env: Mapping[str, str]) -> Check:
    chosen = diagnosis.chosen
    if chosen is None or chosen.cargo is None:
        return Check("cargo", False, "no rustc with wasm32 to pair it with", DEBIAN_FIX, True)
    output = run_tool([str(chosen.cargo), "--version"], env)
    found = f"{display_path(chosen.cargo)} {parse_version(output) if output else '(no version)'}"
    return Check("cargo", True, found, required=True)


def _wasm_opt_check(tool: Tool, env: Mapping[str, str]) -> Check:
    if tool.disabled:
        return Check("wasm-opt", None, f"turned off ({WASM_OPT_ENV} is empty)")
    if tool.problem:
        detail = f"{tool.problem}: builds are not size-optimized"
        return Check("wasm-opt", False, detail, wasm_opt_fix(env))
    if tool.path is None:
        return Check("wasm-opt", False, "not found: builds are not size-optimized", BINARYEN_FIX)
    return Check("wasm-opt", True, f"{display_path(tool.path)} {tool.version or ''}".rstrip())


def _optional_check(tool: Tool, purpose: str, fix: str) -> Check:
    if tool.path is None:
        return Check(tool.name, False, f"not found (optional: {purpose})", fix)
    found = f"{display_path(tool.path)} {tool.version or ''}".rstrip()
    return Check(tool.name, True, f"{found} (optional: {purpose})")


def _wasmtime_check() -> Check:
    try:
        return Check("wasmtime", True, f"wasmtime-py {version('wasmtime')}", required=True)
    except PackageNotFoundError:
        return Check(
            "wasmtime", False, "wasmtime-py is not installed", "pip install wasmtime", True
        )


def _call_path_check() -> Check:
    """Which call path runs exports: the compiled one, or ctypes (and why)."""
    try:
        from ..runtime.bridge import native
    except Exception as exc:  # noqa: BLE001 - wasmtime missing or broken: its own check says
        return Check("calls", None, f"unknown ({type(exc).__name__})")
    if native.NATIVE is not None:
        return Check("calls", True, native.describe())
    fix = "reinstall wasmbridge where a C compiler and Python's headers exist"
    if native.WHY_NOT.startswith("switched off"):
        fix = f"unset {native.SWITCH}"
    return Check("calls", None, native.describe(), fix)


def _sdk_check(env: Mapping[str, str]) -> Check:
    sdk = find_sdk(env)
    if sdk is None:
        fix = f"reinstall wasmbridge, or set {SDK_ENV} to the SDK crate's directory"
        return Check("SDK", False, "the Rust guest SDK is missing", fix, required=True)
    return Check("SDK", True, f"{display_path(sdk)} (Rust guest SDK)", required=True)
