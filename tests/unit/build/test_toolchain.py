"""Which rustc a build uses, and the one error when none can (build/toolchain.py).

The candidates here are small shell scripts answering like rustc, so every
case runs anywhere; tests/integration/build/ checks the real toolchains.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from wasmbridge.build.toolchain import (
    FALLBACKS_ENV,
    WASM_OPT_ENV,
    Diagnosis,
    RustcCheck,
    Tool,
    diagnose,
    display_path,
    find_wasm_opt,
    missing_toolchain_error,
    parse_version,
    rustc_candidates,
    wasm_opt_fix,
)
from wasmbridge.errors import MissingToolchain


def fake_rustc(directory: Path, version: str, libdir: Path, *, cargo: bool = True) -> Path:
    """A script answering `--version` and `--print target-libdir` like rustc."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "rustc"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = --version ]; then echo "rustc {version} (fake)"; exit 0; fi\n'
        f'if [ "$1" = --print ]; then echo "{libdir}"; exit 0; fi\n'
        "exit 1\n"
    )
    script.chmod(0o755)
    if cargo:
        (directory / "cargo").write_text("#!/bin/sh\necho 'cargo 1.0.0'\n")
        (directory / "cargo").chmod(0o755)
    return script


def wasm_libdir(root: Path, *, with_core: bool) -> Path:
    libdir = root / "lib"
    libdir.mkdir(parents=True)
    if with_core:
        (libdir / "libcore-0123abcd.rlib").write_bytes(b"")
    return libdir


def env_with(path: list[Path], **extra: str) -> dict[str, str]:
    return {"PATH": os.pathsep.join(map(str, path)), FALLBACKS_ENV: "", **extra}


def test_first_rustc_with_a_wasm32_libcore_wins(tmp_path: Path) -> None:
    without = fake_rustc(tmp_path / "a", "1.95.0", wasm_libdir(tmp_path / "la", with_core=False))
    with_core = fake_rustc(tmp_path / "b", "1.63.0", wasm_libdir(tmp_path / "lb", with_core=True))
    diagnosis = diagnose(env_with([without.parent, with_core.parent]))
    assert [c.problem for c in diagnosis.rustcs] == ["has no wasm32 libcore", None]
    toolchain = diagnosis.require()
    assert (toolchain.rustc, toolchain.cargo) == (with_core, with_core.parent / "cargo")
    assert toolchain.rustc_version == "1.63.0"


def test_a_rustc_without_cargo_beside_it_is_not_used(tmp_path: Path) -> None:
    libdir = wasm_libdir(tmp_path / "l", with_core=True)
    rustc = fake_rustc(tmp_path / "a", "1.70.0", libdir, cargo=False)
    (check,) = diagnose(env_with([rustc.parent])).rustcs
    assert check.problem == f"has no cargo beside it ({rustc.parent / 'cargo'})"


def test_fallbacks_come_after_path_and_a_missing_one_is_named(tmp_path: Path) -> None:
    rustc = fake_rustc(tmp_path / "a", "1.95.0", wasm_libdir(tmp_path / "l", with_core=False))
    env = env_with([rustc.parent], **{FALLBACKS_ENV: str(tmp_path / "nowhere" / "rustc")})
    diagnosis = diagnose(env)
    assert [c.describe() for c in diagnosis.rustcs] == [
        f"{rustc} 1.95.0 has no wasm32 libcore",
        f"{tmp_path / 'nowhere' / 'rustc'} not installed",
    ]


def test_the_same_rustc_reached_twice_is_checked_once(tmp_path: Path) -> None:
    rustc = fake_rustc(tmp_path / "a", "1.70.0", wasm_libdir(tmp_path / "l", with_core=True))
    (tmp_path / "link").symlink_to(tmp_path / "a")
    env = env_with([rustc.parent, tmp_path / "link"], **{FALLBACKS_ENV: str(rustc)})
    assert rustc_candidates(env) == [rustc]


def test_rustc_env_var_comes_first(tmp_path: Path) -> None:
    first = fake_rustc(tmp_path / "a", "1.70.0", wasm_libdir(tmp_path / "la", with_core=True))
    chosen = fake_rustc(tmp_path / "b", "1.80.0", wasm_libdir(tmp_path / "lb", with_core=True))
    env = env_with([first.parent], RUSTC=str(chosen))
    assert diagnose(env).require().rustc == chosen


def test_no_rustc_at_all_names_both_install_commands(tmp_path: Path) -> None:
    message = "no rustc can build wasm32-unknown-unknown\nwhere: no rustc on PATH"
    with pytest.raises(MissingToolchain, match=f"(?m)^{re.escape(message)}$") as info:
        diagnose(env_with([tmp_path])).require()
    assert info.value.hint == (
        "rustup target add wasm32-unknown-unknown   # rustup\n"
        "sudo apt-get install rustc cargo libstd-rust-dev-wasm32 lld   # Debian, Ubuntu\n"
        "`wasmbridge doctor` re-checks every toolchain piece"
    )


def test_missing_toolchain_error_lists_every_candidate_on_one_line() -> None:
    checks = (
        RustcCheck(Path("/x/rustc"), "1.95.0", problem="has no wasm32 libcore"),
        RustcCheck(Path("/usr/bin/rustc"), problem="not installed"),
    )
    error = missing_toolchain_error(checks)
    assert str(error) == (
        "no rustc can build wasm32-unknown-unknown\n"
        "where: /x/rustc 1.95.0 has no wasm32 libcore; /usr/bin/rustc not installed"
    )
    assert Diagnosis(checks, Tool("wasm-opt")).chosen is None


@pytest.mark.parametrize(
    ("output", "version"),
    [
        ("rustc 1.95.0 (59807616e 2026-04-14)", "1.95.0"),
        ("rustc 1.63.0", "1.63.0"),
        ("rustc 1.84.0-nightly (abc 2024-10-01)", "1.84.0-nightly"),
        ("wasm-opt version 108", "wasm-opt version 108"),
    ],
    ids=["rustup", "debian", "nightly", "no-semver"],
)
def test_parse_version(output: str, version: str) -> None:
    assert parse_version(output) == version


def test_display_path_abbreviates_home() -> None:
    assert display_path(Path.home() / ".cargo" / "bin" / "rustc") == "~/.cargo/bin/rustc"
    assert display_path(Path("/usr/bin/rustc")) == "/usr/bin/rustc"


def _wasm_opt_env(tmp_path: Path, value: str) -> dict[str, str]:
    return env_with([tmp_path / "empty-bin"], **{WASM_OPT_ENV: value})


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("{tmp}/binaryen/wasm-opt", "no such file"),
        ("{tmp}/plain-file", "not an executable file"),
        ("{tmp}", "not a file"),
        ("wasm-opt-108", "not found on PATH"),
    ],
    ids=["missing", "not-executable", "directory", "bare-name"],
)
def test_wasm_opt_env_that_names_no_program_says_so_with_its_value(
    tmp_path: Path, value: str, problem: str
) -> None:
    (tmp_path / "plain-file").write_text("")
    value = value.replace("{tmp}", str(tmp_path))
    tool = find_wasm_opt(_wasm_opt_env(tmp_path, value))
    assert (tool.path, tool.disabled) == (None, False)
    assert tool.problem == f"WASMBRIDGE_WASM_OPT={value} ({problem})"


def test_wasm_opt_env_empty_turns_it_off(tmp_path: Path) -> None:
    tool = find_wasm_opt(_wasm_opt_env(tmp_path, ""))
    assert (tool.path, tool.problem, tool.disabled) == (None, None, True)


def test_wasm_opt_fix_names_the_one_on_path_or_the_install(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    assert wasm_opt_fix({"PATH": str(bin_dir)}) == (
        "point WASMBRIDGE_WASM_OPT at a wasm-opt program, "
        "or unset it and install one: sudo apt-get install binaryen"
    )
    (bin_dir / "wasm-opt").write_text("#!/bin/sh\n")
    (bin_dir / "wasm-opt").chmod(0o755)
    assert wasm_opt_fix({"PATH": str(bin_dir)}) == (
        f"point WASMBRIDGE_WASM_OPT at a wasm-opt program, or unset it to use "
        f"{bin_dir / 'wasm-opt'} from PATH"
    )


def test_the_toolchain_says_why_its_rustc_was_chosen(tmp_path: Path) -> None:
    without = fake_rustc(tmp_path / "a", "1.95.0", wasm_libdir(tmp_path / "la", with_core=False))
    with_core = fake_rustc(tmp_path / "b", "1.63.0", wasm_libdir(tmp_path / "lb", with_core=True))
    only = diagnose(env_with([without.parent, with_core.parent])).require()
    assert only.why_this_rustc() == (
        f"the only one here with the wasm32 target; {without} 1.95.0 has no wasm32 libcore"
    )
    second = fake_rustc(tmp_path / "c", "1.70.0", wasm_libdir(tmp_path / "lc", with_core=True))
    env = env_with([without.parent, with_core.parent, second.parent])
    assert diagnose(env).require().why_this_rustc() == "the first one found with the wasm32 target"
