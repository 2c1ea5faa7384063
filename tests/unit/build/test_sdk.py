"""The SDK a crate carries: its copy, its version against this wasmbridge's (build/sdk.py)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from pathlib import Path

import pytest

from wasmbridge import __version__
from wasmbridge.build.sdk import check_sdk, find_sdk, sdk_version, vendor_sdk
from wasmbridge.errors import MissingToolchain, ToolchainError

REPO = Path(__file__).resolve().parents[3]


class Recorder:
    """A Reporter that keeps what the check said."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def step(self, name: str, detail: str = "") -> None:
        self.said.append(f"{name} {detail}")

    def warn(self, message: str, *, hints: Iterable[str] = ()) -> None:
        self.said.append("\n".join([f"warning: {message}", *(f"hint: {h}" for h in hints)]))


def _sdk() -> Path:
    sdk = find_sdk()
    assert sdk is not None
    return sdk


def _crate(directory: Path, sdk_path: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    manifest = directory / "Cargo.toml"
    manifest.write_text(
        f'[package]\nname = "c"\nversion = "0.1.0"\n\n[dependencies]\n'
        f'wasmbridge = {{ path = "{sdk_path}" }}\n'
    )
    return manifest


def _set_version(sdk_copy: Path, version: str) -> None:
    toml = sdk_copy / "Cargo.toml"
    toml.write_text(
        re.sub(r'(?m)^version = "[^"]+"', f'version = "{version}"', toml.read_text(), count=1)
    )


def test_the_sdk_crates_and_the_package_share_one_version() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    macros = tomllib.loads((_sdk().parent / "wasmbridge-macros" / "Cargo.toml").read_text())
    assert sdk_version(_sdk()) == __version__ == project["version"]
    assert macros["package"]["version"] == __version__


def test_vendor_sdk_copies_both_crates_without_build_output(tmp_path: Path) -> None:
    target = vendor_sdk(_sdk(), tmp_path)
    assert target == tmp_path / "wasmbridge-sdk"
    assert sdk_version(target / "wasmbridge") == __version__
    assert (target / "wasmbridge-macros" / "src" / "lib.rs").is_file()
    assert not list(target.rglob("target")) and not list(target.rglob("Cargo.lock"))
    assert [p.name for p in tmp_path.iterdir()] == ["wasmbridge-sdk"]  # no staging left


def test_a_missing_vendored_copy_is_made_again(tmp_path: Path) -> None:
    manifest = _crate(tmp_path, "wasmbridge-sdk/wasmbridge")
    said = Recorder()
    check_sdk(manifest, _sdk(), said)
    assert said.said == [f"Copying wasmbridge SDK {__version__} into wasmbridge-sdk/"]
    assert sdk_version(tmp_path / "wasmbridge-sdk" / "wasmbridge") == __version__


def test_a_matching_sdk_says_nothing(tmp_path: Path) -> None:
    vendor_sdk(_sdk(), tmp_path)
    said = Recorder()
    check_sdk(_crate(tmp_path, "wasmbridge-sdk/wasmbridge"), _sdk(), said)
    assert said.said == []


def test_an_sdk_of_another_release_series_is_refused_naming_both_versions(tmp_path: Path) -> None:
    copy = vendor_sdk(_sdk(), tmp_path) / "wasmbridge"
    _set_version(copy, "0.0.9")
    with pytest.raises(ToolchainError) as info:
        check_sdk(_crate(tmp_path, "wasmbridge-sdk/wasmbridge"), _sdk(), Recorder())
    assert str(info.value) == (
        f"the crate's wasmbridge SDK is 0.0.9, this wasmbridge is {__version__}: "
        f"releases this far apart may not work together\nwhere: {copy}"
    )
    assert info.value.hint == (
        f"take this wasmbridge's SDK: rm -r wasmbridge-sdk && wasmbridge build   # in {tmp_path}\n"
        "or keep SDK 0.0.9 with its wasmbridge: pip install wasmbridge==0.0.9"
    )


def test_an_sdk_of_another_patch_release_is_a_warning(tmp_path: Path) -> None:
    copy = vendor_sdk(_sdk(), tmp_path) / "wasmbridge"
    major, minor, _ = __version__.split(".")
    other = f"{major}.{minor}.99"
    _set_version(copy, other)
    said = Recorder()
    check_sdk(_crate(tmp_path, "wasmbridge-sdk/wasmbridge"), _sdk(), said)
    assert said.said == [
        f"warning: the crate's wasmbridge SDK is {other}, this wasmbridge is {__version__}\n"
        f"where: {copy}\n"
        f"hint: take this wasmbridge's SDK: rm -r wasmbridge-sdk && wasmbridge build   "
        f"# in {tmp_path}\n"
        f"hint: or keep SDK {other} with its wasmbridge: pip install wasmbridge=={other}"
    ]


def test_an_absolute_sdk_path_is_a_warning_with_the_portable_line(tmp_path: Path) -> None:
    manifest = _crate(tmp_path / "c", _sdk().as_posix())
    said = Recorder()
    check_sdk(manifest, _sdk(), said)
    assert said.said == [
        f"warning: {manifest} names the wasmbridge SDK by an absolute path ({_sdk()}): "
        "the crate builds only where that path exists\n"
        'hint: wasmbridge = { path = "wasmbridge-sdk/wasmbridge" } in Cargo.toml; '
        "the next `wasmbridge build` copies this wasmbridge's SDK there"
    ]


def test_a_path_to_no_sdk_that_is_not_the_copy_is_refused(tmp_path: Path) -> None:
    manifest = _crate(tmp_path, "../elsewhere/wasmbridge")
    with pytest.raises(MissingToolchain) as info:
        check_sdk(manifest, _sdk(), Recorder())
    assert str(info.value) == (
        f"{manifest} depends on the wasmbridge SDK at ../elsewhere/wasmbridge, which does not exist"
    )
    assert info.value.hint == (
        'wasmbridge = { path = "wasmbridge-sdk/wasmbridge" } in Cargo.toml; '
        "the next `wasmbridge build` copies this wasmbridge's SDK there"
    )


def test_a_crate_without_the_sdk_is_left_alone(tmp_path: Path) -> None:
    manifest = tmp_path / "Cargo.toml"
    manifest.write_text('[package]\nname = "plain"\nversion = "0.1.0"\n')
    said = Recorder()
    check_sdk(manifest, _sdk(), said)
    assert said.said == [] and not (tmp_path / "wasmbridge-sdk").exists()
