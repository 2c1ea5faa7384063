"""`wasmbridge new`: names, files, refusals (build/scaffold.py)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from wasmbridge import __version__
from wasmbridge.build.scaffold import crate_files, create_crate, lib_name, name_problem
from wasmbridge.build.sdk import find_sdk
from wasmbridge.errors import WasmbridgeError

_found = find_sdk()
assert _found is not None, "the SDK ships in guest/rust/ of this checkout"
SDK = _found


@pytest.mark.parametrize("name", ["hello", "my-crate", "my_crate", "_private", "Hello2"], ids=str)
def test_valid_crate_names(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "the name is empty"),
        ("2fast", "use letters, digits, `_` and `-`, starting with a letter or `_`"),
        ("my crate", "use letters, digits, `_` and `-`, starting with a letter or `_`"),
        ("fn", "`fn` is a Rust keyword"),
        ("async", "`async` is a Rust keyword"),
        ("lambda", "`lambda` is a Python keyword (the generated stub is a Python module)"),
        ("std", "`std` is the name of a crate every guest uses"),
        ("wasmbridge", "`wasmbridge` is the name of a crate every guest uses"),
    ],
    ids=[
        "empty",
        "digit-first",
        "space",
        "rust-keyword",
        "rust-2018-keyword",
        "python-keyword",
        "std",
        "sdk",
    ],
)
def test_invalid_crate_names_say_why(name: str, problem: str) -> None:
    assert name_problem(name) == problem


def test_lib_name_replaces_dashes() -> None:
    assert lib_name("my-crate") == "my_crate"


def test_cargo_toml_is_a_cdylib_depending_on_the_sdk_copy_by_a_relative_path() -> None:
    files = {f.path: f.text for f in crate_files("hello")}
    manifest = tomllib.loads(files["Cargo.toml"])
    assert manifest["package"]["name"] == "hello"
    assert manifest["lib"] == {"crate-type": ["cdylib"]}
    assert manifest["dependencies"] == {"wasmbridge": {"path": "wasmbridge-sdk/wasmbridge"}}


def test_lib_rs_avoids_format_and_uses_the_sdk_macros() -> None:
    lib = {f.path: f.text for f in crate_files("hello")}["src/lib.rs"]
    assert "#![no_std]" in lib
    assert "extern crate alloc;" in lib
    assert '#[wasmbridge::import]\nextern "C" {' in lib
    assert "    fn alert(msg: &str);" in lib
    assert "#[wasmbridge::export]\npub fn add(a: i32, b: i32) -> i32 {" in lib
    assert "#[wasmbridge::export]\npub fn greet(name: &str) {" in lib
    assert "push_str" in lib
    assert "format!" not in lib.replace("instead of format!", "")
    assert lib.count("/// ") >= 3  # doc comments on alert, add and greet


def test_create_crate_writes_every_file_and_copies_the_sdk(tmp_path: Path) -> None:
    crate = create_crate(tmp_path / "hello", SDK)
    written = sorted(str(p.relative_to(crate)) for p in crate.rglob("*") if p.is_file())
    own = [p for p in written if not p.startswith("wasmbridge-sdk/")]
    assert own == [".gitignore", "Cargo.toml", "README.md", "src/lib.rs"]
    assert (crate / ".gitignore").read_text() == "target/\npkg/\n"
    sdk_files = sorted(
        f"{crate_dir}/{p.relative_to(SDK.parent / crate_dir)}"
        for crate_dir in ("wasmbridge", "wasmbridge-macros")
        for p in (SDK.parent / crate_dir).rglob("*")
        if p.is_file() and "target" not in p.parts and p.name != "Cargo.lock"
    )
    assert [p for p in written if p.startswith("wasmbridge-sdk/")] == [
        "wasmbridge-sdk/README.md",
        *(f"wasmbridge-sdk/{p}" for p in sdk_files),
    ]
    readme = (crate / "wasmbridge-sdk" / "README.md").read_text()
    assert readme.startswith(f"# The wasmbridge SDK, version {__version__}\n")
    assert "wasmbridge-sdk/" in (crate / "README.md").read_text()


def test_create_crate_into_an_empty_existing_directory(tmp_path: Path) -> None:
    (tmp_path / "hello").mkdir()
    create_crate(tmp_path / "hello", SDK)
    assert (tmp_path / "hello" / "Cargo.toml").is_file()


def test_create_crate_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "hello").mkdir()
    (tmp_path / "hello" / "notes.txt").write_text("mine")
    with pytest.raises(WasmbridgeError, match=r"(?m)hello already exists and is not empty$"):
        create_crate(tmp_path / "hello", SDK)
    assert sorted(p.name for p in (tmp_path / "hello").iterdir()) == ["notes.txt"]


def test_create_crate_refuses_an_invalid_name(tmp_path: Path) -> None:
    with pytest.raises(
        WasmbridgeError, match=r"(?m)^`fn` cannot be a crate name: `fn` is a Rust keyword$"
    ):
        create_crate(tmp_path / "fn", SDK)
    assert not (tmp_path / "fn").exists()


def test_name_option_overrides_the_directory_name(tmp_path: Path) -> None:
    crate = create_crate(tmp_path / "some dir", SDK, name="hello")
    assert 'name = "hello"' in (crate / "Cargo.toml").read_text()
