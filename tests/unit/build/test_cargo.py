"""Finding the crate, and what a failed cargo run is told to do (build/cargo.py, cargo_failure.py).

The cargo outputs below are real, captured from cargo 1.65 (Debian) and
1.95 (rustup); tests/integration/build/test_cargo_failures.py runs cargo.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wasmbridge.build.cargo import find_manifest, progress_env
from wasmbridge.build.cargo_failure import GENERIC_HINT, cargo_failure, plain_text
from wasmbridge.build.toolchain import RustcCheck, Tool, Toolchain
from wasmbridge.errors import BuildFailed

NEEDS_RUSTC_1_65 = """\
\x1b[0m\x1b[1m\x1b[31merror\x1b[0m\x1b[1m:\x1b[0m package `newdep v0.2.0` cannot be built because it \
requires rustc 1.68 or newer, while the currently active rustc version is 1.63.0
Either upgrade to rustc 1.68 or newer, or use
cargo update -p newdep@0.2.0 --precise ver
where `ver` is the latest version of `newdep` supporting rustc 1.63.0
"""
NEEDS_RUSTC_PATH_DEP = (
    "error: package `newdep v0.2.0 (/work/app/newdep)` cannot be built because it requires "
    "rustc 1.68 or newer, while the currently active rustc version is 1.63.0\n"
)
NEEDS_RUSTC_1_95 = """\
     Locking 1 package to latest Rust 1.95.0 compatible version
error: rustc 1.95.0 is not supported by the following package:
  newdep@0.2.0 requires rustc 1.999
"""
GIT_INDEX_UNREACHABLE = """\
    Updating `mirror` index
warning: spurious network error (2 tries remaining): failed to resolve address for index.invalid: Name or service not known; class=Net (12)
error: failed to get `itoa` as a dependency of package `net v0.1.0 (/tmp/net)`

Caused by:
  failed to load source for dependency `itoa`

Caused by:
  Unable to update registry `crates-io`

Caused by:
  failed to update replaced source registry `crates-io`

Caused by:
  failed to fetch `https://index.invalid/crates.io-index`

Caused by:
  network failure seems to have happened
"""
SPARSE_INDEX_UNREACHABLE = """\
Caused by:
  download of config.json failed

Caused by:
  failed to download from `https://index.crates.io/config.json`

Caused by:
  [6] Could not resolve hostname (Could not resolve host: index.crates.io)
"""
OFFLINE_NOT_ON_DISK = """\
error: no matching package named `itoa` found
location searched: crates.io index
required by package `new2 v0.1.0 (/tmp/new2)`
As a reminder, you're using offline mode (--offline) which can sometimes cause surprising \
resolution failures, if this error is too confusing you may wish to retry without `--offline`.
"""
EDITION_2024 = """\
error: failed to download `itoa v1.0.99`

Caused by:
  failed to parse manifest at `/home/me/.cargo/registry/src/index/itoa-1.0.99/Cargo.toml`

Caused by:
  feature `edition2024` is required
"""
OFFLINE_HINTS = (
    "if every dependency is on disk ([patch], path or vendored crates, cargo's cache), "
    "build offline: CARGO_NET_OFFLINE=true wasmbridge build\n"
    "for good: `net.offline = true` under [net] in .cargo/config.toml; crates not on disk: "
    "`cargo vendor` where the network works, or a [source] replacement "
    "(https://doc.rust-lang.org/cargo/reference/source-replacement.html)"
)


def _rustup(tmp_path: Path) -> Path:
    """A rustup-style rustc: a `rustup` program beside it."""
    bin_dir = tmp_path / "cargo-bin"
    bin_dir.mkdir()
    (bin_dir / "rustup").write_text("")
    return bin_dir / "rustc"


def debian_toolchain(*candidates: RustcCheck) -> Toolchain:
    debian = RustcCheck(Path("/usr/bin/rustc"), "1.63.0", Path("/lib"), Path("/usr/bin/cargo"))
    everyone = candidates or (debian,)
    return Toolchain(debian.path, Path("/usr/bin/cargo"), "1.63.0", Tool("wasm-opt"), everyone)


def test_a_dependency_needing_a_newer_rustc_names_the_rustc_and_both_ways_out(
    tmp_path: Path,
) -> None:
    rustup = RustcCheck(_rustup(tmp_path), "1.95.0", problem="has no wasm32 libcore")
    debian = RustcCheck(Path("/usr/bin/rustc"), "1.63.0", Path("/lib"), Path("/usr/bin/cargo"))
    error = cargo_failure(NEEDS_RUSTC_1_65, "hello", debian_toolchain(rustup, debian), status=101)
    assert str(error) == (
        "cargo build failed for hello: newdep v0.2.0 requires rustc 1.68 or newer; "
        "this build uses rustc 1.63.0\n"
        "where: cargo ran /usr/bin/rustc 1.63.0, the only one here with the wasm32 target; "
        f"{rustup.path} 1.95.0 has no wasm32 libcore"
    )
    assert error.hint == (
        f"give {rustup.path} 1.95.0 the wasm32 target: "
        "rustup target add wasm32-unknown-unknown   # then builds use it\n"
        "or keep rustc 1.63.0 with an older newdep: "
        "cargo update -p newdep@0.2.0 --precise VERSION   "
        "# VERSION: the newest newdep that supports rustc 1.63.0"
    )


def test_a_rustup_rustc_after_the_chosen_one_is_picked_with_rustc(tmp_path: Path) -> None:
    rustup = RustcCheck(_rustup(tmp_path), "1.95.0", problem="has no wasm32 libcore")
    debian = RustcCheck(Path("/usr/bin/rustc"), "1.63.0", Path("/lib"), Path("/usr/bin/cargo"))
    error = cargo_failure(NEEDS_RUSTC_1_65, "hello", debian_toolchain(debian, rustup), status=101)
    assert error.hint is not None
    assert error.hint.splitlines()[0] == (
        f"give {rustup.path} 1.95.0 the wasm32 target: rustup target add "
        f"wasm32-unknown-unknown   # then build with RUSTC={rustup.path}"
    )


def test_without_rustup_the_fix_is_to_install_it() -> None:
    error = cargo_failure(NEEDS_RUSTC_1_65, "hello", debian_toolchain(), status=101)
    assert str(error).endswith(
        "\nwhere: cargo ran /usr/bin/rustc 1.63.0, the first one found with the wasm32 target"
    )
    assert error.hint is not None
    assert error.hint.splitlines()[0] == (
        "use a newer rustc with the wasm32 target: install rustup, then "
        "rustup target add wasm32-unknown-unknown"
    )


def test_a_path_dependency_needing_a_newer_rustc_names_its_source() -> None:
    error = cargo_failure(NEEDS_RUSTC_PATH_DEP, "hello", debian_toolchain(), status=101)
    assert str(error).startswith(
        "cargo build failed for hello: newdep v0.2.0 requires rustc 1.68 or newer;"
    )
    assert error.hint is not None
    assert error.hint.splitlines()[1] == (
        "or keep rustc 1.63.0 with a version of newdep that supports it "
        "(its source: /work/app/newdep)"
    )


def test_newer_cargos_wording_is_recognised_too() -> None:
    error = cargo_failure(NEEDS_RUSTC_1_95, "hello", debian_toolchain(), status=101)
    assert str(error).splitlines()[0] == (
        "cargo build failed for hello: newdep v0.2.0 requires rustc 1.999 or newer; "
        "this build uses rustc 1.63.0"
    )


@pytest.mark.parametrize(
    ("output", "index"),
    [
        (GIT_INDEX_UNREACHABLE, "https://index.invalid/crates.io-index"),
        (SPARSE_INDEX_UNREACHABLE, "https://index.crates.io/config.json"),
    ],
    ids=["git-index", "sparse-index"],
)
def test_an_unreachable_index_suggests_building_offline(output: str, index: str) -> None:
    error = cargo_failure(output, "net", debian_toolchain(), status=101)
    assert (
        str(error)
        == f"cargo build failed for net: cargo could not reach the package index ({index})"
    )
    assert error.hint == OFFLINE_HINTS


def test_offline_a_crate_not_on_disk_is_named() -> None:
    error = cargo_failure(OFFLINE_NOT_ON_DISK, "new2", debian_toolchain(), status=101)
    assert str(error) == "cargo build failed for new2: itoa is not on disk, and cargo is offline"
    assert error.hint == (
        "get it on disk: `cargo vendor` where the network works, or a [source] replacement "
        "(https://doc.rust-lang.org/cargo/reference/source-replacement.html)"
    )


def test_a_dependency_on_a_newer_edition_names_its_manifest() -> None:
    error = cargo_failure(EDITION_2024, "hello", debian_toolchain(), status=101)
    assert str(error).splitlines()[0] == (
        "cargo build failed for hello: a dependency "
        "(/home/me/.cargo/registry/src/index/itoa-1.0.99/Cargo.toml) uses Rust edition 2024, "
        "which this cargo (with rustc 1.63.0) does not know"
    )


def test_any_other_failure_keeps_the_generic_hint() -> None:
    error = cargo_failure(
        "error[E0308]: mismatched types\n", "hello", debian_toolchain(), status=101
    )
    assert isinstance(error, BuildFailed)
    assert (str(error), error.hint) == (
        "cargo build failed for hello (exit status 101)",
        GENERIC_HINT,
    )


def test_plain_text_drops_colours_and_progress_redraws() -> None:
    assert plain_text("\x1b[1m\x1b[32m   Building\x1b[0m [=> ] 1/2\r\x1b[K  ok\r\n") == (
        "   Building [=> ] 1/2\n  ok\n"
    )


# -- finding the crate ------------------------------------------------------------------


def _manifest(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Cargo.toml").write_text(text)
    return directory / "Cargo.toml"


def test_the_crate_is_found_from_a_directory_below_it(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path / "hello", '[package]\nname = "hello"\n')
    (tmp_path / "hello" / "src" / "deep").mkdir(parents=True)
    assert find_manifest(tmp_path / "hello" / "src" / "deep") == manifest
    assert find_manifest(tmp_path / "hello") == manifest
    assert find_manifest(manifest) == manifest


def test_a_manifest_without_package_or_workspace_is_passed_over(tmp_path: Path) -> None:
    outer = _manifest(tmp_path, '[package]\nname = "outer"\n')
    _manifest(tmp_path / "odd", "[dependencies]\n")
    assert find_manifest(tmp_path / "odd") == outer


def test_a_workspace_manifest_ends_the_search(tmp_path: Path) -> None:
    _manifest(tmp_path, '[package]\nname = "outer"\n')
    workspace = _manifest(tmp_path / "ws", '[workspace]\nmembers = ["a"]\n')
    (tmp_path / "ws" / "docs").mkdir()
    assert find_manifest(tmp_path / "ws" / "docs") == workspace


def test_no_crate_at_or_above_a_directory(tmp_path: Path) -> None:
    message = f"no Cargo.toml in {tmp_path} or any directory above it"
    with pytest.raises(BuildFailed, match=f"(?m)^{re.escape(message)}$"):
        find_manifest(tmp_path)


def test_a_missing_directory_is_named_as_missing(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(
        BuildFailed, match=f"(?m)^{re.escape(str(missing))} does not exist$"
    ) as info:
        find_manifest(missing)
    assert info.value.hint == f"check the path, or create a crate there: `wasmbridge new {missing}`"


def test_a_file_other_than_cargo_toml_is_refused(tmp_path: Path) -> None:
    (tmp_path / "lib.rs").write_text("")
    with pytest.raises(
        BuildFailed, match="(?m)lib.rs is neither a crate directory nor a Cargo.toml$"
    ):
        find_manifest(tmp_path / "lib.rs")


def test_progress_bar_env_only_for_a_terminal_and_never_over_the_users(tmp_path: Path) -> None:
    import pty

    main, child = pty.openpty()
    try:
        env = progress_env(child, {})
        assert env["CARGO_TERM_PROGRESS_WHEN"] == "always"
        assert int(env["CARGO_TERM_PROGRESS_WIDTH"]) >= 0
        assert progress_env(child, {"CARGO_TERM_PROGRESS_WHEN": "never"}) == {}
    finally:
        import os

        os.close(main)
        os.close(child)
    with (tmp_path / "log").open("w") as log:
        assert progress_env(log.fileno(), {}) == {}
