"""``wasmbridge build`` as a list of named steps.

``plan`` lays out the steps up front (``--dev`` drops optimizing), then
``build`` runs them in order, reporting each step's name before it runs:

    Checking toolchain · Compiling hello (release, size profile) · Optimizing
    · Validating · Writing pkg/

    result = build(BuildOptions(crate_dir=Path(".")), reporter=terminal, glue=write_glue)
    print(finished_line(result))
    # pkg/hello.wasm 1,204 B (wasm-opt 1,871 → 1,204 B, size profile) in 3.2 s

The glue beside the .wasm (Python stub, JS, .d.ts, package.json) is
written by a ``GlueWriter`` the caller hands in (``codegen.glue.write_glue``
for the CLI): build/ imports nothing of codegen/.
"""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, TextIO

from ..errors import BuildFailed
from ..interface import Interface, SectionFormatError, WasmModule, parse, read_interface
from .cargo import (
    Crate,
    cargo_command,
    crate_settings,
    find_manifest,
    read_crate,
    run_cargo,
)
from .optimize import exports_to_strip, run_wasm_opt, strip_exports, wasm_opt_features
from .profile import Profile, ProfileName, ReleaseSettings
from .report import SizeReport, fmt_bytes, size_report
from .sdk import check_sdk, find_sdk
from .toolchain import (
    BINARYEN_FIX,
    WASM_OPT_ENV,
    Tool,
    Toolchain,
    diagnose,
    display_path,
    wasm_opt_fix,
)
from .validate import validate_module

WasmOpt = Literal["ran", "absent", "failed", "skipped"]
Target = Literal["python", "web", "node"]
TARGETS: tuple[Target, ...] = ("python", "web", "node")
DEFAULT_TARGETS: frozenset[Target] = frozenset({"python", "web"})


class Reporter(Protocol):
    """Where a build reports progress (``_term.Terminal`` is one)."""

    @property
    def err(self) -> TextIO:
        """The stream cargo writes to."""
        ...

    def step(self, name: str, detail: str = "") -> None: ...

    def info(self, message: str) -> None: ...

    def warn(self, message: str, *, hints: Iterable[str] = ()) -> None: ...

    def tool_output(self, text: str) -> None: ...


class GlueWriter(Protocol):
    """Writes the glue of each target beside the built .wasm; returns what it wrote:
    (Python stubs, web glue). ``codegen.glue.write_glue`` is the one the CLI uses."""

    def __call__(
        self,
        lib_name: str,
        wasm: Path,
        interface: Interface | None,
        module: WasmModule,
        *,
        targets: frozenset[Target],
        manifest: Path,
    ) -> tuple[list[Path], list[Path]]: ...


@dataclass(frozen=True)
class BuildOptions:
    """What ``wasmbridge build`` was asked to do."""

    crate_dir: Path = Path(".")
    out_dir: Path | None = None  # relative to the crate; default pkg/
    dev: bool = False
    panic_messages: bool = False
    color: bool = False  # cargo's colours
    quiet: bool = False  # cargo --quiet
    targets: frozenset[Target] = DEFAULT_TARGETS  # which glue to write beside the .wasm
    build_profile: ProfileName | None = None  # --profile; None: size, the user's settings win
    no_simd: bool = False  # --no-simd: the speed profile without simd128

    @property
    def profile(self) -> Profile:
        return Profile(
            dev=self.dev,
            panic_messages=self.panic_messages or self.dev,
            name=self.build_profile or "size",
            explicit=self.build_profile is not None,
            no_simd=self.no_simd,
        )


@dataclass(frozen=True)
class BuildResult:
    """What a build produced, with the numbers for the last line."""

    crate: Crate
    wasm: Path
    stubs: tuple[Path, ...]
    profile: Profile
    toolchain: Toolchain
    interface: Interface | None
    sizes: SizeReport
    before_opt: int  # bytes going into wasm-opt (after dropping unused exports)
    wasm_opt: WasmOpt
    elapsed: float
    glue: tuple[Path, ...] = ()  # the JS glue, .d.ts and package.json, when asked for

    @property
    def outputs(self) -> tuple[Path, ...]:
        return (self.wasm, *self.stubs, *self.glue)


@dataclass
class _State:
    """What the steps hand each other."""

    options: BuildOptions
    reporter: Reporter
    manifest: Path | None = None
    toolchain: Toolchain | None = None
    crate: Crate | None = None
    settings: ReleaseSettings | None = None  # None for a dev build
    data: bytes = b""
    interface: Interface | None = None
    before_opt: int = 0
    wasm_opt: WasmOpt = "skipped"
    outputs: list[Path] = field(default_factory=list)
    glue: list[Path] = field(default_factory=list)
    glue_writer: GlueWriter | None = None  # None: the .wasm alone

    def need_crate(self) -> Crate:
        assert self.crate is not None, "the toolchain step runs first"
        return self.crate

    def need_toolchain(self) -> Toolchain:
        assert self.toolchain is not None, "the toolchain step runs first"
        return self.toolchain


@dataclass(frozen=True)
class Step:
    """A named build step; ``detail`` is computed when the step starts."""

    name: str
    detail: Callable[[_State], str]
    run: Callable[[_State], None]


def plan(options: BuildOptions) -> list[Step]:
    """The steps for these options, in order."""
    steps = [
        Step("Checking", lambda s: "toolchain", check_toolchain),
        Step("Compiling", _compiling_detail, compile_crate),
    ]
    if not options.dev:
        steps.append(Step("Optimizing", _optimizing_detail, optimize))
    steps += [
        Step("Validating", lambda s: s.need_crate().lib_name + ".wasm", validate),
        Step("Writing", lambda s: show_path(out_dir(s)) + "/", write_outputs),
    ]
    return steps


def build(options: BuildOptions, reporter: Reporter, glue: GlueWriter | None = None) -> BuildResult:
    """Run every step of ``plan(options)``; raises a ToolchainError on failure.

    ``glue`` writes the glue of ``options.targets`` beside the .wasm; without
    it, the build writes the .wasm alone.
    """
    started = time.monotonic()
    state = _State(options, reporter, glue_writer=glue)
    for step in plan(options):
        reporter.step(step.name, step.detail(state))
        step.run(state)
    crate = state.need_crate()
    return BuildResult(
        crate=crate,
        wasm=state.outputs[0],
        stubs=tuple(state.outputs[1:]),
        glue=tuple(state.glue),
        profile=options.profile,
        toolchain=state.need_toolchain(),
        interface=state.interface,
        sizes=size_report(state.data),
        before_opt=state.before_opt,
        wasm_opt=state.wasm_opt,
        elapsed=time.monotonic() - started,
    )


def glue_line(result: BuildResult) -> str:
    """``hello.js 6,012 B (gzip 2,101 B), hello.d.ts 1,502 B, ...``: the glue's sizes."""
    import gzip

    parts = []
    for path in result.glue:
        data = path.read_bytes()
        size = f"{path.name} {fmt_bytes(len(data))}"
        if path.suffix in (".js", ".cjs"):
            size += f" (gzip {fmt_bytes(len(gzip.compress(data, mtime=0)))})"
        parts.append(size)
    return ", ".join(parts)


def finished_line(result: BuildResult) -> str:
    """``pkg/hello.wasm 1,204 B (wasm-opt 1,871 → 1,204 B, size profile) in 3.2 s``."""
    size = result.sizes.total
    how = {
        "ran": f"wasm-opt {result.before_opt:,} → {fmt_bytes(size)}",
        "absent": "no wasm-opt",
        "failed": "wasm-opt failed",
        "skipped": "not optimized",
    }[result.wasm_opt]
    how = "dev, unoptimized" if result.profile.dev else f"{how}, {result.profile.label()}"
    return f"{show_path(result.wasm)} {fmt_bytes(size)} ({how}) in {result.elapsed:.1f} s"


# -- steps ------------------------------------------------------------------------


def check_toolchain(state: _State) -> None:
    """Find the crate, a rustc that can build wasm32 (with its cargo), and the SDK."""
    manifest = find_manifest(state.options.crate_dir)
    diagnosis = diagnose(cwd=manifest.parent)
    toolchain = diagnosis.require()
    state.reporter.info(f"rustc: {toolchain.describe()}")
    for skipped in diagnosis.rustcs:
        if skipped.path != toolchain.rustc and not skipped.ok:
            state.reporter.info(f"skipped: {skipped.describe()}")
    check_sdk(manifest, find_sdk(), state.reporter)
    state.manifest, state.toolchain = manifest, toolchain
    state.crate = read_crate(toolchain, manifest, os.environ)
    state.settings = crate_settings(state.crate, state.options.profile, os.environ)


def compile_crate(state: _State) -> None:
    """cargo build, its output straight to the user's terminal."""
    options, crate = state.options, state.need_crate()
    argv = cargo_command(
        state.need_toolchain(), crate, options.profile, color=options.color, quiet=options.quiet
    )
    if state.settings is not None:
        variables = " ".join(f"{k}={v}" for k, v in state.settings.env.items())
        state.reporter.info(f"cargo environment: {variables or 'nothing set, every key is yours'}")
    state.reporter.info(f"cargo: {shlex.join(argv)}")
    artifact = run_cargo(
        state.need_toolchain(),
        crate,
        options.profile,
        color=options.color,
        quiet=options.quiet,
        stderr=state.reporter.err,
        on_output=state.reporter.tool_output,
        settings=state.settings,
    )
    state.data = artifact.read_bytes()
    state.reporter.info(f"cargo wrote {display_path(artifact)} ({fmt_bytes(len(state.data))})")
    state.interface = _interface_of(state.data, crate.lib_name + ".wasm")


def optimize(state: _State) -> None:
    """Drop exports no host needs, then wasm-opt -Oz (speed: -O3) when it is installed."""
    stripped = exports_to_strip(state.data, state.interface)
    if stripped:
        state.reporter.info(f"dropping exports: {', '.join(sorted(stripped))}")
    state.data = strip_exports(state.data, state.interface)
    state.before_opt = len(state.data)
    wasm_opt = state.need_toolchain().wasm_opt
    if wasm_opt.path is None:
        state.wasm_opt = "absent"
        _report_no_wasm_opt(state.reporter, wasm_opt)
        return
    profile = state.options.profile
    features = wasm_opt_features(profile)
    try:
        state.data = run_wasm_opt(
            wasm_opt.path, state.data, level=profile.wasm_opt_level, features=features
        )
        state.wasm_opt = "ran"
    except BuildFailed as exc:
        state.wasm_opt = "failed"
        state.reporter.warn(str(exc), hints=[exc.hint] if exc.hint else [])


def _report_no_wasm_opt(reporter: Reporter, wasm_opt: Tool) -> None:
    if wasm_opt.disabled:  # the user's choice: no warning
        reporter.info(f"wasm-opt is turned off ({WASM_OPT_ENV} is empty)")
    elif wasm_opt.problem:
        reporter.warn(
            f"wasm-opt not found: {wasm_opt.problem}; the module is not size-optimized",
            hints=[wasm_opt_fix()],
        )
    else:
        reporter.warn(
            "wasm-opt not found: the module is not size-optimized",
            hints=[f"{BINARYEN_FIX}   # then build again"],
        )


def validate(state: _State) -> None:
    """wasmtime accepts the module and its interface matches its wasm signatures."""
    state.interface = validate_module(state.data, state.need_crate().lib_name + ".wasm")


def write_outputs(state: _State) -> None:
    """``pkg/NAME.wasm`` plus the glue of each target (written by the glue writer)."""
    crate, directory = state.need_crate(), out_dir(state)
    directory.mkdir(parents=True, exist_ok=True)
    wasm = directory / f"{crate.lib_name}.wasm"
    wasm.write_bytes(state.data)
    state.outputs = [wasm]
    if state.glue_writer is None or not state.options.targets:
        return
    stubs, glue = state.glue_writer(
        crate.lib_name,
        wasm,
        state.interface,
        parse(state.data),
        targets=state.options.targets,
        manifest=crate.manifest,
    )
    state.outputs += stubs
    state.glue = glue


def out_dir(state: _State) -> Path:
    """Where outputs go: ``--out-dir`` relative to the crate, default ``pkg/``."""
    crate_dir = state.need_crate().directory
    return crate_dir / (state.options.out_dir or Path("pkg"))


def _compiling_detail(state: _State) -> str:
    """``hello (release, size profile)``, then the user's settings that won or lost."""
    detail = state.options.profile.describe()
    if state.settings is not None and (settings := state.settings.describe()):
        detail += f"; {settings}"
    return f"{state.need_crate().name} ({detail})"


def _optimizing_detail(state: _State) -> str:
    wasm_opt = state.need_toolchain().wasm_opt
    return f"wasm-opt {state.options.profile.wasm_opt_level}" if wasm_opt.path else "exports only"


def _interface_of(data: bytes, name: str) -> Interface | None:
    try:
        return read_interface(parse(data))
    except (ValueError, SectionFormatError) as exc:
        raise BuildFailed(f"{name}: {exc}", hint="please report this with the crate") from exc


def show_path(path: Path) -> str:
    """``path`` relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return display_path(path)
