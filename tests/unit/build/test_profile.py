"""Build profiles and the user's release settings (build/profile.py), without cargo.

tests/integration/build/test_build_profiles.py builds real crates with them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from build_helpers import CliResult
from wasmbridge.build.cargo import STACK_POINTER_FLAGS, Crate, cargo_command, cargo_env
from wasmbridge.build.optimize import wasm_opt_features
from wasmbridge.build.pipeline import BuildOptions
from wasmbridge.build.profile import (
    Profile,
    Setting,
    config_files,
    release_settings,
    user_settings,
)
from wasmbridge.build.toolchain import Tool, Toolchain

Cli = Callable[..., CliResult]
SIZE_ENV = {
    "CARGO_PROFILE_RELEASE_OPT_LEVEL": "z",
    "CARGO_PROFILE_RELEASE_LTO": "true",
    "CARGO_PROFILE_RELEASE_CODEGEN_UNITS": "1",
    "CARGO_PROFILE_RELEASE_PANIC": "abort",
    "CARGO_PROFILE_RELEASE_STRIP": "true",
}
SPEED = Profile(name="speed", explicit=True)
CARGO_TOML_O3 = Setting("opt-level", "3", "Cargo.toml")


def _toolchain() -> Toolchain:
    return Toolchain(Path("/usr/bin/rustc"), Path("/usr/bin/cargo"), "1.63.0", Tool("wasm-opt"), ())


def _crate(tmp_path: Path, *, uses_sdk: bool = True) -> Crate:
    manifest = tmp_path / "Cargo.toml"
    return Crate("k", "k", manifest, tmp_path / "target", uses_sdk, manifest)


# -- which setting wins -----------------------------------------------------------------


def test_without_user_settings_the_size_profile_sets_all_five_variables() -> None:
    settings = release_settings(Profile(), {})
    assert settings.env == SIZE_ENV
    assert settings.describe() == ""


def test_the_speed_profile_differs_from_size_in_opt_level_only() -> None:
    assert release_settings(SPEED, {}).env == {**SIZE_ENV, "CARGO_PROFILE_RELEASE_OPT_LEVEL": "3"}


def test_without_the_flag_the_users_opt_level_wins_and_is_reported() -> None:
    settings = release_settings(Profile(), {"opt-level": CARGO_TOML_O3})
    assert "CARGO_PROFILE_RELEASE_OPT_LEVEL" not in settings.env  # cargo reads Cargo.toml's
    assert settings.env["CARGO_PROFILE_RELEASE_LTO"] == "true"
    assert settings.describe() == "opt-level = 3 from Cargo.toml"


def test_the_named_profile_wins_over_the_users_opt_level_and_says_so() -> None:
    mine = Setting("opt-level", '"s"', "CARGO_PROFILE_RELEASE_OPT_LEVEL")
    settings = release_settings(SPEED, {"opt-level": mine})
    assert settings.env["CARGO_PROFILE_RELEASE_OPT_LEVEL"] == "3"
    assert settings.describe() == (
        'opt-level = "s" from CARGO_PROFILE_RELEASE_OPT_LEVEL overridden by --profile speed'
    )


def test_the_named_profile_leaves_the_other_user_settings_alone() -> None:
    user = {"lto": Setting("lto", "false", "Cargo.toml"), "opt-level": CARGO_TOML_O3}
    settings = release_settings(SPEED, user)
    assert "CARGO_PROFILE_RELEASE_LTO" not in settings.env
    assert settings.describe() == "lto = false from Cargo.toml"  # opt-level 3 is speed's too


def test_user_settings_equal_to_the_profile_are_not_reported() -> None:
    user = {"opt-level": Setting("opt-level", '"z"', "Cargo.toml")}
    assert release_settings(Profile(), user).describe() == ""


def test_settings_are_reported_grouped_by_source() -> None:
    user = {
        "opt-level": Setting("opt-level", "2", "CARGO_PROFILE_RELEASE_OPT_LEVEL"),
        "lto": Setting("lto", '"thin"', "Cargo.toml"),
        "strip": Setting("strip", "false", "Cargo.toml"),
    }
    assert release_settings(Profile(), user).describe() == (
        "opt-level = 2 from CARGO_PROFILE_RELEASE_OPT_LEVEL; "
        'lto = "thin", strip = false from Cargo.toml'
    )


# -- where the user's settings come from ------------------------------------------------


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_user_settings_rank_environment_then_config_then_cargo_toml(tmp_path: Path) -> None:
    crate = tmp_path / "ws" / "crate"
    manifest = _write(
        crate / "Cargo.toml",
        '[profile.release]\nopt-level = 3\nlto = "thin"\nstrip = false\ndebug = true\n',
    )
    _write(crate / ".cargo" / "config.toml", '[profile.release]\nlto = "fat"\n')
    _write(tmp_path / "ws" / ".cargo" / "config.toml", "[profile.release]\nlto = false\n")
    environ = {"CARGO_PROFILE_RELEASE_STRIP": "debuginfo", "CARGO_HOME": str(tmp_path / "home")}
    found = user_settings(manifest, crate, environ)
    assert found == {
        "strip": Setting("strip", '"debuginfo"', "CARGO_PROFILE_RELEASE_STRIP"),
        "lto": Setting("lto", '"fat"', ".cargo/config.toml"),
        "opt-level": Setting("opt-level", "3", "Cargo.toml"),
    }


def test_a_workspace_manifest_elsewhere_is_named_by_its_path(tmp_path: Path) -> None:
    manifest = _write(tmp_path / "Cargo.toml", "[profile.release]\nopt-level = 's'\n")
    crate = tmp_path / "member"
    crate.mkdir()
    found = user_settings(manifest, crate, {"CARGO_HOME": str(tmp_path / "home")})
    assert found == {"opt-level": Setting("opt-level", '"s"', str(manifest))}


def test_config_files_prefer_the_nearest_and_the_old_name(tmp_path: Path) -> None:
    crate = tmp_path / "a" / "b"
    crate.mkdir(parents=True)
    old = _write(crate / ".cargo" / "config", "")
    _write(crate / ".cargo" / "config.toml", "")
    parent = _write(tmp_path / "a" / ".cargo" / "config.toml", "")
    home = _write(tmp_path / "home" / "config.toml", "")
    found = config_files(crate, {"CARGO_HOME": str(home.parent)})
    assert found[:2] == [old, parent] and found[-1] == home


def test_an_unreadable_manifest_gives_no_settings(tmp_path: Path) -> None:
    manifest = _write(tmp_path / "Cargo.toml", "[profile.release\n")
    assert user_settings(manifest, tmp_path, {"CARGO_HOME": str(tmp_path / "h")}) == {}


# -- what cargo and wasm-opt are told ---------------------------------------------------


def test_speed_passes_simd128_to_the_crate_after_the_sdk_flags(tmp_path: Path) -> None:
    argv = cargo_command(_toolchain(), _crate(tmp_path), SPEED, color=False, quiet=False)
    assert argv[argv.index("--") + 1 :] == [
        *STACK_POINTER_FLAGS,
        "-C",
        "target-feature=+simd128",
    ]


@pytest.mark.parametrize(
    "profile",
    [Profile(), Profile(name="speed", no_simd=True), Profile(name="speed", dev=True)],
    ids=["size", "speed-no-simd", "dev"],
)
def test_no_simd128_outside_the_speed_profile(tmp_path: Path, profile: Profile) -> None:
    argv = cargo_command(_toolchain(), _crate(tmp_path), profile, color=False, quiet=False)
    assert "target-feature=+simd128" not in argv


def test_a_crate_without_the_sdk_gets_only_simd128(tmp_path: Path) -> None:
    crate = _crate(tmp_path, uses_sdk=False)
    argv = cargo_command(_toolchain(), crate, SPEED, color=False, quiet=False)
    assert argv[argv.index("--") :] == ["--", "-C", "target-feature=+simd128"]


def test_cargo_env_keeps_the_users_variable_it_does_not_override() -> None:
    environ = {"CARGO_PROFILE_RELEASE_OPT_LEVEL": "2"}
    user = {"opt-level": Setting("opt-level", "2", "CARGO_PROFILE_RELEASE_OPT_LEVEL")}
    env = cargo_env(_toolchain(), release_settings(Profile(), user), environ)
    assert env["CARGO_PROFILE_RELEASE_OPT_LEVEL"] == "2"
    env = cargo_env(_toolchain(), release_settings(SPEED, user), environ)
    assert env["CARGO_PROFILE_RELEASE_OPT_LEVEL"] == "3"


def test_wasm_opt_levels_and_features() -> None:
    assert (Profile().wasm_opt_level, wasm_opt_features(Profile())) == ("-Oz", ())
    assert (SPEED.wasm_opt_level, wasm_opt_features(SPEED)) == (
        "-O3",
        ("--enable-mutable-globals", "--enable-simd"),
    )
    no_simd = Profile(name="speed", no_simd=True)
    assert wasm_opt_features(no_simd) == ("--enable-mutable-globals",)


@pytest.mark.parametrize(
    ("options", "described"),
    [
        (BuildOptions(), "release, size profile"),
        (BuildOptions(build_profile="speed"), "release, speed profile, simd128"),
        (BuildOptions(build_profile="speed", no_simd=True), "release, speed profile, no simd128"),
        (BuildOptions(build_profile="speed", panic_messages=True), "release, speed profile, "
         "simd128, panic messages"),
        (BuildOptions(dev=True), "dev, unoptimized, panic messages"),
    ],
    ids=["default", "speed", "no-simd", "panic-messages", "dev"],
)  # fmt: skip
def test_the_compiling_step_names_the_profile(options: BuildOptions, described: str) -> None:
    assert options.profile.describe() == described


def test_only_a_named_profile_is_explicit() -> None:
    assert not BuildOptions().profile.explicit
    assert BuildOptions(build_profile="size").profile.explicit


# -- the command line -------------------------------------------------------------------


def test_no_simd_without_the_speed_profile_is_a_usage_error(cli: Cli) -> None:
    assert cli("build", "--no-simd") == CliResult(
        2,
        "",
        "error: --no-simd applies to the speed profile; the size profile never uses simd128\n"
        "  hint:  wasmbridge build --profile speed --no-simd\n",
    )


def test_dev_and_a_profile_exclude_each_other(cli: Cli) -> None:
    result = cli("build", "--dev", "--profile", "speed")
    assert result.code == 2
    assert result.err_lines[-1] == (
        "wasmbridge build: error: argument --profile: not allowed with argument --dev"
    )


def test_an_unknown_profile_is_a_usage_error(cli: Cli) -> None:
    result = cli("build", "--profile", "fast")
    assert result.code == 2
    assert result.err_lines[-1].startswith(  # Python versions quote the choices differently
        "wasmbridge build: error: argument --profile: invalid choice: 'fast' (choose from "
    )
