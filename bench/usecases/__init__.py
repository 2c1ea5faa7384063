"""The use-case kernels of bench/kernels.py, one module each.

Each module's ``run(report, quick)`` adds its rows: the kernel as wasm through
wasmbridge from Python, the same Rust native, pure Python, the reference
library, plain JS in Node and the same .wasm in Node. Row names read
``WORKLOAD: CONTENDER``, which the chart (bench/kernels.py) groups by.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

NODE_PACKAGE = Path(__file__).resolve().parents[1] / "node"


def node_modules() -> Path:
    """The ``node_modules`` of bench/node (jpeg-js, ...): ``npm ci`` once into
    ~/.cache/wasmbridge/bench-node-KEY, reused while package-lock.json holds."""
    lock = (NODE_PACKAGE / "package.json").read_bytes() + (
        NODE_PACKAGE / "package-lock.json"
    ).read_bytes()
    key = hashlib.sha256(lock).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "wasmbridge"
    home = cache / f"bench-node-{key}"
    if not (home / ".installed").exists():
        scratch = cache / f"bench-node-{key}.tmp-{os.getpid()}"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(NODE_PACKAGE / name, scratch)
        subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=scratch,
            check=True,
        )
        (scratch / ".installed").touch()
        shutil.rmtree(home, ignore_errors=True)
        scratch.rename(home)
    return home / "node_modules"


def build_wasm(crate: Path, work: Path) -> Path:
    """``wasmbridge build --profile speed --target all`` of ``crate`` into ``work/pkg``
    (cargo's target in ``work/wasm-target``): the path of its .wasm; exits on failure."""
    import contextlib
    import io
    import sys

    from wasmbridge import cli

    out = work / "pkg"
    err = io.StringIO()
    saved = os.environ.get("CARGO_TARGET_DIR")
    os.environ["CARGO_TARGET_DIR"] = str(work / "wasm-target")
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            argv = ["build", str(crate), "--profile", "speed", "--target", "all"]
            code = cli.main([*argv, "--out-dir", str(out)])
    finally:
        if saved is None:
            os.environ.pop("CARGO_TARGET_DIR", None)
        else:
            os.environ["CARGO_TARGET_DIR"] = saved
    if code != 0:
        sys.exit(f"building {crate} failed:\n{err.getvalue()}")
    return out / f"{crate.name}.wasm"


def build_native(crate: Path, work: Path) -> ctypes.CDLL | str:
    """``crate/native`` built with rustup's cargo (release) into ``work/native-target``
    and loaded (``libNAME_native.so``), or why it could not be."""
    cargo = Path.home() / ".cargo/bin/cargo"
    found = str(cargo) if cargo.exists() else shutil.which("cargo")
    if found is None:
        return "no cargo for the native build (install Rust with rustup)"
    env = {k: v for k, v in os.environ.items() if k not in ("RUSTC", "RUSTFLAGS")}
    env["CARGO_TARGET_DIR"] = str(work / "native-target")
    manifest = str(crate / "native/Cargo.toml")
    argv = [found, "build", "--release", "--quiet", "--manifest-path", manifest]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        return f"the native build failed: {proc.stderr.strip()[-300:]}"
    return ctypes.CDLL(str(work / f"native-target/release/lib{crate.name}_native.so"))
