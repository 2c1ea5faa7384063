"""Run cargo for wasm32-unknown-unknown and find what it produced.

The build profile (size: opt-level z, LTO, one codegen unit, panic=abort,
strip; speed: the same at opt-level 3) is applied through cargo's
``CARGO_PROFILE_RELEASE_*`` variables, so the user's ``Cargo.toml`` stays
untouched; a key the user set wins unless ``--profile`` names it
(profile.py). cargo writes straight to the user's stderr, colours and all.

    crate = read_crate(toolchain, find_manifest(Path(".")), os.environ)
    wasm = run_cargo(toolchain, crate, Profile(), color=True, quiet=False)
"""

from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..errors import BuildFailed
from .cargo_failure import cargo_failure
from .profile import SIMD_FLAGS, Profile, ReleaseSettings, release_settings, user_settings
from .toolchain import WASM_TARGET, Toolchain, display_path

# The SDK uses unstable APIs on rustc < 1.81 for panic messages and the
# allocation error handler; this value enables them for the SDK crate only.
RUSTC_BOOTSTRAP = "wasmbridge"
SDK_DEPENDENCY = "wasmbridge"
PANIC_FEATURE = "wasmbridge/panic-messages"
# Exporting a mutable global needs the (universally supported) mutable-globals feature.
STACK_POINTER_FLAGS = (
    "-C",
    "link-arg=--export=__stack_pointer",
    "-C",
    "target-feature=+mutable-globals",
)
CDYLIB_LINES = '[lib]\ncrate-type = ["cdylib"]'


@dataclass(frozen=True)
class Crate:
    """The package ``build`` compiles, as ``cargo metadata`` describes it."""

    name: str
    lib_name: str
    manifest: Path
    target_dir: Path
    uses_sdk: bool
    workspace_manifest: Path  # where cargo reads [profile.release] from

    @property
    def directory(self) -> Path:
        return self.manifest.parent

    def artifact(self, profile: Profile) -> Path:
        return self.target_dir / WASM_TARGET / profile.directory / f"{self.lib_name}.wasm"


def find_manifest(path: Path) -> Path:
    """The Cargo.toml of the crate at or above ``path`` (a directory or a manifest).

    As cargo does, a directory without a manifest is looked up from: the
    nearest Cargo.toml with a ``[package]`` is the crate, so ``wasmbridge
    build`` works from ``src/``. A workspace manifest on the way stops the
    search (crate_from_metadata then asks for a member).
    """
    if path.is_file() and path.name == "Cargo.toml":
        return path.resolve()
    if not path.exists():
        raise BuildFailed(
            f"{path} does not exist",
            hint=f"check the path, or create a crate there: `wasmbridge new {path}`",
        )
    if not path.is_dir():
        raise BuildFailed(
            f"{path} is neither a crate directory nor a Cargo.toml",
            hint="pass the crate's directory: `wasmbridge build path/to/crate`",
        )
    start = path.resolve()
    for directory in (start, *start.parents):
        manifest = directory / "Cargo.toml"
        if manifest.is_file() and _is_package_or_workspace(manifest):
            return manifest
    raise BuildFailed(
        f"no Cargo.toml in {display_path(start)} or any directory above it",
        hint="run `wasmbridge build` in a crate's directory or pass it: "
        "`wasmbridge build path/to/crate`; `wasmbridge new NAME` creates one",
    )


def _is_package_or_workspace(manifest: Path) -> bool:
    """Whether ``manifest`` ends the upward search (unreadable ones do: cargo explains)."""
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True
    return "package" in data or "workspace" in data


def read_crate(toolchain: Toolchain, manifest: Path, environ: Mapping[str, str]) -> Crate:
    """Ask ``cargo metadata`` for the package's library name and target directory."""
    argv = [str(toolchain.cargo), "metadata", "--no-deps", "--format-version", "1"]
    argv += ["--manifest-path", str(manifest)]
    proc = subprocess.run(
        argv, capture_output=True, text=True, env=cargo_env(toolchain, None, environ), check=False
    )
    if proc.returncode != 0:
        raise BuildFailed(
            f"cargo cannot read {display_path(manifest)}\n{proc.stderr.strip()}",
            hint="fix the manifest as cargo says above",
        )
    return crate_from_metadata(json.loads(proc.stdout), manifest)


def crate_from_metadata(metadata: dict[str, Any], manifest: Path) -> Crate:
    """The Crate for ``manifest`` out of ``cargo metadata`` JSON."""
    package = next(
        (p for p in metadata["packages"] if Path(p["manifest_path"]).resolve() == manifest), None
    )
    if package is None:
        raise BuildFailed(
            f"{display_path(manifest)} is a workspace manifest, not a package",
            hint="build one member: `wasmbridge build path/to/member`",
        )
    name = package["name"]
    lib = next((t for t in package["targets"] if _is_library(t)), None)
    if lib is None or "cdylib" not in lib.get("crate_types", lib["kind"]):
        raise BuildFailed(
            f"{name} builds no cdylib library, so cargo makes no .wasm\n"
            f"where: {display_path(manifest)}",
            hint=f"add these lines to Cargo.toml:\n{CDYLIB_LINES}",
        )
    uses_sdk = any(d["name"] == SDK_DEPENDENCY for d in package.get("dependencies", []))
    return Crate(
        name=name,
        lib_name=lib["name"].replace("-", "_"),
        manifest=manifest,
        target_dir=Path(metadata["target_directory"]),
        uses_sdk=uses_sdk,
        workspace_manifest=Path(metadata.get("workspace_root", manifest.parent)) / "Cargo.toml",
    )


def _is_library(target: dict[str, Any]) -> bool:
    kinds = set(target["kind"])
    return bool(kinds & {"lib", "rlib", "dylib", "cdylib", "staticlib"})


def cargo_env(
    toolchain: Toolchain, settings: ReleaseSettings | None, environ: Mapping[str, str]
) -> dict[str, str]:
    """The environment cargo runs in: our rustc, and the profile's release settings."""
    env = dict(environ)
    env["RUSTC"] = str(toolchain.rustc)
    env["RUSTC_BOOTSTRAP"] = _bootstrap_value(env.get("RUSTC_BOOTSTRAP", ""))
    if settings is not None:
        env.update(settings.env)
    return env


def crate_settings(
    crate: Crate, profile: Profile, environ: Mapping[str, str]
) -> ReleaseSettings | None:
    """The release settings cargo gets for ``crate``; None for a dev build."""
    if profile.dev:
        return None
    user = user_settings(crate.workspace_manifest, crate.directory, environ)
    return release_settings(profile, user)


def _bootstrap_value(current: str) -> str:
    """Add the SDK to a ``RUSTC_BOOTSTRAP`` crate list the user may already have."""
    names = [n.strip() for n in current.split(",") if n.strip()]
    if current.strip() == "1" or RUSTC_BOOTSTRAP in names:
        return current
    return ",".join([*names, RUSTC_BOOTSTRAP])


def cargo_command(
    toolchain: Toolchain, crate: Crate, profile: Profile, *, color: bool, quiet: bool
) -> list[str]:
    """``cargo rustc --lib --target wasm32-unknown-unknown ...`` for this crate.

    ``cargo rustc`` passes the flags after ``--`` to this crate alone: a crate
    using the SDK exports its shadow-stack pointer, so a host can restore it
    after a trap (a trap unwinds no frames; without this, every panic would
    leak its frame of the guest's stack until the stack runs out). The speed
    profile adds ``+simd128`` (dependencies are compiled without it).
    """
    argv = [str(toolchain.cargo), "rustc", "--lib", "--target", WASM_TARGET]
    argv += ["--manifest-path", str(crate.manifest), "--color", "always" if color else "never"]
    if not profile.dev:
        argv.append("--release")
    if crate.uses_sdk and (profile.dev or profile.panic_messages):
        argv += ["--features", PANIC_FEATURE]
    if quiet:
        argv.append("--quiet")
    flags = list(STACK_POINTER_FLAGS) if crate.uses_sdk else []
    if profile.simd128:
        flags += SIMD_FLAGS
    if flags:
        argv += ["--", *flags]
    return argv


def run_cargo(
    toolchain: Toolchain,
    crate: Crate,
    profile: Profile,
    *,
    color: bool,
    quiet: bool,
    stderr: IO[str] | None = None,
    environ: Mapping[str, str] | None = None,
    on_output: Callable[[str], None] | None = None,
    settings: ReleaseSettings | None = None,
) -> Path:
    """Compile the crate; cargo's output goes to ``stderr`` as cargo prints it.

    The output also passes through us (a pipe), so a failure we recognise
    (a dependency needing a newer rustc, no network) gets its own error and
    fix. When ``stderr`` has no file descriptor (a StringIO under a test),
    the output goes to ``on_output`` instead. ``settings`` (crate_settings's
    by default) are the release settings. Returns the .wasm cargo wrote.
    """
    stream = sys.stderr if stderr is None else stderr
    environ = os.environ if environ is None else environ
    if settings is None:
        settings = crate_settings(crate, profile, environ)
    env = cargo_env(toolchain, settings, environ)
    argv = cargo_command(toolchain, crate, profile, color=color, quiet=quiet)
    fd = _fileno(stream)
    if fd is not None and not quiet:
        env.update(progress_env(fd, env))
    stream.flush()
    status, output = _run_teed(argv, env, crate.directory, fd, on_output)
    if status != 0:
        raise cargo_failure(output, crate.name, toolchain, status=status)
    artifact = crate.artifact(profile)
    if not artifact.is_file():
        raise BuildFailed(
            f"cargo succeeded but wrote no {display_path(artifact)}",
            hint='check [lib] crate-type in Cargo.toml includes "cdylib"',
        )
    return artifact


def progress_env(fd: int, env: Mapping[str, str]) -> dict[str, str]:
    """Keep cargo's progress bar on a terminal, although cargo now writes to a pipe."""
    if "CARGO_TERM_PROGRESS_WHEN" in env or not os.isatty(fd):
        return {}
    try:
        width = os.get_terminal_size(fd).columns
    except OSError:
        return {}
    return {"CARGO_TERM_PROGRESS_WHEN": "always", "CARGO_TERM_PROGRESS_WIDTH": str(width)}


def _run_teed(
    argv: list[str],
    env: Mapping[str, str],
    cwd: Path,
    fd: int | None,
    on_output: Callable[[str], None] | None,
) -> tuple[int, str]:
    """Run cargo, forwarding its output as it comes; returns its status and last output."""
    kept = bytearray()
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(env), cwd=cwd
    ) as proc:
        assert proc.stdout is not None
        pipe = proc.stdout.fileno()
        while chunk := os.read(pipe, _CHUNK):  # what has arrived, without waiting for more
            if fd is not None:
                fd = _forward(fd, chunk)
            elif on_output is not None:
                on_output(decoder.decode(chunk))
            kept += chunk
            del kept[:-_KEPT]  # the causes we look for are in cargo's last lines
        if fd is None and on_output is not None:
            on_output(decoder.decode(b"", final=True))
    return proc.returncode, kept.decode("utf-8", "replace")


_CHUNK = 64 * 1024
_KEPT = 256 * 1024


def _forward(fd: int, data: bytes) -> int | None:
    """Write all of ``data`` to ``fd``; None (stop forwarding) once the reader is gone."""
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(fd, view) :]
    except OSError:  # a closed pipe (`wasmbridge build 2>&1 | head`): keep draining cargo
        return None
    return fd


def _fileno(stream: IO[str]) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None
