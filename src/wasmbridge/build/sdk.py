"""The Rust guest SDK: where wasmbridge ships it, and the copy each crate carries.

An installed wheel carries the SDK at ``wasmbridge/_guest/rust/wasmbridge``
(pyproject's force-include); an editable install or a source checkout has
it at ``<repo>/guest/rust/wasmbridge``. ``WASMBRIDGE_SDK`` overrides both.

``wasmbridge new`` copies it into the crate (``wasmbridge-sdk/``, beside
``src/``) and names it by a relative path, so the crate builds for a
teammate, in CI and after a virtual environment moves, with ``wasmbridge
build`` or plain cargo. ``wasmbridge build`` checks the crate's SDK before
compiling: a missing copy is made again, an SDK of another version is named
next to this wasmbridge's with the fix.

    sdk = find_sdk()                       # this wasmbridge's SDK crate directory
    vendor_sdk(sdk, Path("hello"))         # hello/wasmbridge-sdk/{wasmbridge,wasmbridge-macros}
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .. import __version__
from ..errors import MissingToolchain, ToolchainError
from .toolchain import display_path

SDK_ENV = "WASMBRIDGE_SDK"
SDK_CRATE = "wasmbridge"
MACROS_CRATE = "wasmbridge-macros"
VENDOR_DIR = "wasmbridge-sdk"
VENDORED_PATH = f"{VENDOR_DIR}/{SDK_CRATE}"  # as the scaffold's Cargo.toml writes it
REFRESH = f"rm -r {VENDOR_DIR} && wasmbridge build"
_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # .../wasmbridge
_NOT_COPIED = shutil.ignore_patterns("target", "Cargo.lock", "*.orig", "*.rej")

VENDOR_README = """\
# The wasmbridge SDK, version {version}

`wasmbridge new` copied the wasmbridge Rust SDK here, and `Cargo.toml`
names it by a relative path (`wasmbridge = {{ path = "{path}" }}`), so
this crate builds on any machine, in CI and with plain cargo, whatever
wasmbridge is installed there. Commit this directory with the crate.

`wasmbridge build` checks that this SDK's version matches the installed
wasmbridge's. To take the SDK of the installed wasmbridge, delete this
directory and build again; `wasmbridge build` copies it back:

    {refresh}
"""


class Say(Protocol):
    """Where the SDK check reports what it did (a build's Reporter)."""

    def step(self, name: str, detail: str = "") -> None: ...

    def warn(self, message: str, *, hints: Iterable[str] = ()) -> None: ...


# -- this wasmbridge's SDK -----------------------------------------------------------------


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


def sdk_version(sdk: Path) -> str | None:
    """The ``[package] version`` of the SDK crate at ``sdk``, or None when unreadable."""
    try:
        data = tomllib.loads((sdk / "Cargo.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    version = data.get("package", {}).get("version")
    return version if isinstance(version, str) else None


# -- the crate's copy ----------------------------------------------------------------------


def vendor_sdk(sdk: Path, crate_dir: Path) -> Path:
    """Copy the SDK (and its macros crate beside it) into ``crate_dir/wasmbridge-sdk``.

    The copy is made in a temporary directory and renamed into place, so an
    interrupted copy never leaves half an SDK behind.
    """
    target = crate_dir / VENDOR_DIR
    with tempfile.TemporaryDirectory(prefix=".wasmbridge-sdk-", dir=crate_dir) as tmp:
        staging = Path(tmp) / VENDOR_DIR
        for crate in (SDK_CRATE, MACROS_CRATE):
            shutil.copytree(sdk.parent / crate, staging / crate, ignore=_NOT_COPIED)
        readme = VENDOR_README.format(
            version=sdk_version(sdk) or "unknown", path=VENDORED_PATH, refresh=REFRESH
        )
        (staging / "README.md").write_text(readme, encoding="utf-8")
        staging.rename(target)
    return target


@dataclass(frozen=True)
class SdkDependency:
    """A crate's ``wasmbridge = { path = ... }`` dependency."""

    manifest: Path
    written: str  # the path as Cargo.toml spells it

    @property
    def path(self) -> Path:
        return (self.manifest.parent / self.written).resolve()

    @property
    def vendored(self) -> bool:
        """Whether it is the copy ``wasmbridge new`` makes (``wasmbridge-sdk/wasmbridge``)."""
        return Path(self.written) == Path(VENDORED_PATH)


def sdk_dependency(manifest: Path) -> SdkDependency | None:
    """The crate's path dependency on the SDK, if it has one."""
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None  # cargo reports a broken manifest better than we could
    dep = data.get("dependencies", {}).get(SDK_CRATE)
    if not isinstance(dep, dict) or not isinstance(dep.get("path"), str):
        return None
    return SdkDependency(manifest, dep["path"])


def check_sdk(manifest: Path, installed: Path | None, say: Say) -> None:
    """Make sure the crate's SDK exists and matches this wasmbridge, before cargo runs.

    A missing vendored copy is made again; an SDK from another release is
    refused (another minor version) or warned about (another patch release).
    """
    dep = sdk_dependency(manifest)
    if dep is None:
        return
    if not (dep.path / "Cargo.toml").is_file():
        if not (dep.vendored and installed is not None):
            raise _missing_sdk_error(dep, installed)
        say.step("Copying", f"wasmbridge SDK {sdk_version(installed)} into {VENDOR_DIR}/")
        vendor_sdk(installed, manifest.parent)
        return
    if Path(dep.written).is_absolute():
        say.warn(
            f"{display_path(manifest)} names the wasmbridge SDK by an absolute path "
            f"({dep.written}): the crate builds only where that path exists",
            hints=[_portable_fix()],
        )
    _check_version(dep, say)


def _check_version(dep: SdkDependency, say: Say) -> None:
    found = sdk_version(dep.path)
    if found is None or found == __version__:
        return
    versions = f"the crate's wasmbridge SDK is {found}, this wasmbridge is {__version__}"
    where = f"\nwhere: {display_path(dep.path)}"
    hints = _version_fixes(dep, found)
    if _series(found) != _series(__version__):
        raise ToolchainError(
            f"{versions}: releases this far apart may not work together{where}",
            hint="\n".join(hints),
        )
    say.warn(versions + where, hints=hints)


def _version_fixes(dep: SdkDependency, found: str) -> list[str]:
    keep = f"or keep SDK {found} with its wasmbridge: pip install wasmbridge=={found}"
    if dep.vendored:
        take = f"take this wasmbridge's SDK: {REFRESH}   # in {display_path(dep.manifest.parent)}"
    else:
        take = f"take this wasmbridge's SDK: {_portable_fix()}"
    return [take, keep]


def _series(version: str) -> tuple[int, ...]:
    """The releases that stay compatible: 0.MINOR before 1.0, then MAJOR (semver, as cargo)."""
    numbers = []
    for part in version.split(".")[:2]:
        digits = "".join(c for c in part if c.isdigit())
        numbers.append(int(digits or 0))
    return tuple(numbers) if numbers and numbers[0] == 0 else tuple(numbers[:1])


def _portable_fix() -> str:
    return (
        f"wasmbridge = {{ path = {json.dumps(VENDORED_PATH)} }} in Cargo.toml; "
        "the next `wasmbridge build` copies this wasmbridge's SDK there"
    )


def _missing_sdk_error(dep: SdkDependency, installed: Path | None) -> MissingToolchain:
    fix = (
        _portable_fix()
        if installed is not None
        else "reinstall wasmbridge, then point the dependency at its SDK"
    )
    return MissingToolchain(
        f"{display_path(dep.manifest)} depends on the wasmbridge SDK at {dep.written}, "
        "which does not exist",
        hint=fix,
    )
