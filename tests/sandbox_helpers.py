"""Helpers for the sandbox tests: WASI fixture builds, WAT modules, process health."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import wasmtime

from wasmbridge.build.toolchain import diagnose

WASI_TARGET = "wasm32-wasi"
FIXTURE_CRATES = Path(__file__).parent / "fixtures" / "crates"


def wasi_toolchain() -> tuple[Path, Path] | str:
    """(rustc, cargo) that can build wasm32-wasi, or why there is none."""
    chosen = diagnose().chosen
    if chosen is None or chosen.cargo is None:
        return "no rustc that can build wasm32"
    out = subprocess.run(
        [str(chosen.path), "--print", "target-libdir", "--target", WASI_TARGET],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if not out or not any(Path(out).glob("libstd-*")):
        return f"{chosen.path} has no {WASI_TARGET} standard library (libstd-rust-dev-wasm32)"
    return chosen.path, chosen.cargo


def build_wasi(rustc: Path, cargo: Path, crate: str, target_dir: Path) -> Path:
    """``cargo build --release --target wasm32-wasi`` of a fixture crate; the .wasm path.

    The build pipeline (``wasmbridge build``) makes wasm32-unknown-unknown
    libraries with the SDK; these fixtures are a plain WASI program and a
    plain WASI library, so cargo is called directly.
    """
    manifest = FIXTURE_CRATES / crate / "Cargo.toml"
    env = dict(os.environ, RUSTC=str(rustc), CARGO_TARGET_DIR=str(target_dir))
    proc = subprocess.run(
        [
            str(cargo),
            "build",
            "--quiet",
            "--release",
            "--target",
            WASI_TARGET,
            "--manifest-path",
            str(manifest),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, f"building {crate} for {WASI_TARGET} failed:\n{proc.stderr}"
    return target_dir / WASI_TARGET / "release" / f"{crate}.wasm"


def wat(text: str) -> bytes:
    return bytes(wasmtime.wat2wasm(text))


def rss_bytes() -> int:
    """Resident set size of this process."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))
