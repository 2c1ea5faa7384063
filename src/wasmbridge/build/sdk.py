"""Locate the Rust guest SDK crate that scaffolded crates depend on.

An installed wheel carries it at ``wasmbridge/_guest/rust/wasmbridge``
(pyproject's force-include); an editable install or a source checkout has
it at ``<repo>/guest/rust/wasmbridge``. ``WASMBRIDGE_SDK`` overrides both.

    sdk = find_sdk()   # Path to the directory holding the SDK's Cargo.toml
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ..errors import MissingToolchain

SDK_ENV = "WASMBRIDGE_SDK"
SDK_CRATE = "wasmbridge"
_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # .../wasmbridge


def sdk_candidates(environ: Mapping[str, str] | None = None) -> list[Path]:
    """Where the SDK may be, most specific first."""
    env = os.environ if environ is None else environ
    candidates = [
        _PACKAGE_DIR / "_guest" / "rust" / SDK_CRATE,  # installed wheel
        _PACKAGE_DIR.parent.parent / "guest" / "rust" / SDK_CRATE,  # src layout checkout
    ]
    if override := env.get(SDK_ENV):
        candidates.insert(0, Path(override))
    return candidates


def find_sdk(environ: Mapping[str, str] | None = None) -> Path | None:
    """The SDK crate directory (holding its Cargo.toml), or None."""
    for candidate in sdk_candidates(environ):
        if (candidate / "Cargo.toml").is_file():
            return candidate.resolve()
    return None


def require_sdk(environ: Mapping[str, str] | None = None) -> Path:
    """The SDK crate directory, or MissingToolchain saying where it was looked for."""
    found = find_sdk(environ)
    if found is not None:
        return found
    looked = "; ".join(str(p) for p in sdk_candidates(environ))
    raise MissingToolchain(
        f"the wasmbridge Rust SDK is not installed with this wasmbridge\nwhere: looked in {looked}",
        hint=f"reinstall wasmbridge (pip install --force-reinstall wasmbridge), "
        f"or set {SDK_ENV} to the SDK crate's directory",
    )
