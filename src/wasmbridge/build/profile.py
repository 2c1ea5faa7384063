"""Build profiles (``--profile size|speed``) and the user's own release settings.

A profile is five cargo release settings, the rustc target features and
the wasm-opt level. The settings go to cargo as ``CARGO_PROFILE_RELEASE_*``
variables, which cargo ranks above ``Cargo.toml``; so a variable is set
only for a key the user has not set, and what the user wrote is respected:

1. ``--profile`` named on the command line wins for the key it names
   (``opt-level``);
2. otherwise the user's own setting wins, as cargo ranks them: a
   ``CARGO_PROFILE_RELEASE_*`` variable in the environment, then
   ``[profile.release]`` in ``.cargo/config.toml`` (nearest first, then
   ``$CARGO_HOME``), then ``[profile.release]`` in the workspace's
   ``Cargo.toml``;
3. otherwise the profile's value.

    settings = release_settings(Profile(name="speed", explicit=True), user_settings(...))
    settings.env        # {"CARGO_PROFILE_RELEASE_OPT_LEVEL": "3", ...}
    settings.describe() # 'opt-level = "s" from Cargo.toml overridden by --profile speed'
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .toolchain import display_path

ProfileName = Literal["size", "speed"]
DEFAULT_PROFILE: ProfileName = "size"

_SHARED = {"lto": "true", "codegen-units": "1", "panic": "abort", "strip": "true"}
RELEASE_SETTINGS: dict[ProfileName, dict[str, str]] = {
    "size": {"opt-level": "z", **_SHARED},
    "speed": {"opt-level": "3", **_SHARED},
}
# The keys a profile is about: named with --profile, they win over the user's settings.
NAMED_BY_PROFILE = frozenset({"opt-level"})
WASM_OPT_LEVEL: dict[ProfileName, str] = {"size": "-Oz", "speed": "-O3"}
SIMD_FLAGS = ("-C", "target-feature=+simd128")


@dataclass(frozen=True)
class Profile:
    """How to compile: a release profile (size by default, or speed) or ``--dev``."""

    dev: bool = False
    panic_messages: bool = False
    name: ProfileName = DEFAULT_PROFILE
    explicit: bool = False  # named with --profile: wins over the user's opt-level
    no_simd: bool = False  # speed without simd128 (--no-simd)

    @property
    def directory(self) -> str:
        """cargo's output directory under ``target/<triple>/``."""
        return "debug" if self.dev else "release"

    @property
    def simd128(self) -> bool:
        """Whether the crate is compiled with ``+simd128`` (speed, unless --no-simd)."""
        return not self.dev and self.name == "speed" and not self.no_simd

    @property
    def wasm_opt_level(self) -> str:
        """``-Oz`` or ``-O3``."""
        return WASM_OPT_LEVEL[self.name]

    def label(self) -> str:
        """``size profile``, ``speed profile, simd128`` or ``speed profile, no simd128``."""
        if self.name == "size":
            return "size profile"
        return "speed profile, " + ("simd128" if self.simd128 else "no simd128")

    def describe(self) -> str:
        """``release, size profile`` — as shown in the Compiling step."""
        if self.dev:
            return "dev, unoptimized, panic messages"
        return f"release, {self.label()}" + (", panic messages" if self.panic_messages else "")


@dataclass(frozen=True)
class Setting:
    """One ``[profile.release]`` key the user set, and where."""

    key: str
    value: str  # as cargo reads it: TOML text (``3``, ``"s"``, ``false``) or the variable's
    source: str  # ``Cargo.toml``, ``.cargo/config.toml`` or ``CARGO_PROFILE_RELEASE_OPT_LEVEL``


@dataclass(frozen=True)
class ReleaseSettings:
    """What cargo is told, and which of the user's settings won or lost."""

    flag: str  # ``--profile speed``, or "" when the profile was not named
    env: dict[str, str]  # the CARGO_PROFILE_RELEASE_* variables we set
    kept: tuple[Setting, ...]  # the user's settings that differ from the profile and win
    overridden: tuple[Setting, ...]  # the user's settings --profile replaced

    def describe(self) -> str:
        """``opt-level = 3 from Cargo.toml``, grouped by source; "" when nothing differs."""
        parts = [f"{_joined(group)} from {source}" for source, group in _by_source(self.kept)]
        parts += [
            f"{_joined(group)} from {source} overridden by {self.flag}"
            for source, group in _by_source(self.overridden)
        ]
        return "; ".join(parts)


def env_name(key: str) -> str:
    """``opt-level`` -> ``CARGO_PROFILE_RELEASE_OPT_LEVEL``."""
    return "CARGO_PROFILE_RELEASE_" + key.upper().replace("-", "_")


def release_settings(profile: Profile, user: Mapping[str, Setting]) -> ReleaseSettings:
    """Decide each key between ``profile`` and the ``user``'s settings (see the module doc)."""
    env: dict[str, str] = {}
    kept: list[Setting] = []
    overridden: list[Setting] = []
    for key, value in RELEASE_SETTINGS[profile.name].items():
        mine = user.get(key)
        if mine is not None and profile.explicit and key in NAMED_BY_PROFILE:
            if _normal(mine.value) != value:
                overridden.append(mine)
            env[env_name(key)] = value
        elif mine is not None:
            if _normal(mine.value) != value:
                kept.append(mine)
        else:
            env[env_name(key)] = value
    flag = f"--profile {profile.name}" if profile.explicit else ""
    return ReleaseSettings(flag, env, tuple(kept), tuple(overridden))


def user_settings(
    workspace_manifest: Path, cwd: Path, environ: Mapping[str, str]
) -> dict[str, Setting]:
    """The user's release setting of each key, the one cargo would use (see the module doc)."""
    found: dict[str, Setting] = {}
    for key in RELEASE_SETTINGS[DEFAULT_PROFILE]:
        if (text := environ.get(env_name(key))) is not None:
            found[key] = Setting(key, _env_literal(text), env_name(key))
    for path in (*config_files(cwd, environ), workspace_manifest):
        for key, value in _release_table(path).items():
            if key in RELEASE_SETTINGS[DEFAULT_PROFILE] and key not in found:
                found[key] = Setting(key, _toml_literal(value), _source_name(path, cwd))
    return found


def config_files(cwd: Path, environ: Mapping[str, str]) -> list[Path]:
    """cargo's configuration files, highest precedence first.

    cargo reads ``.cargo/config.toml`` (or the older ``.cargo/config``, which
    it prefers when both exist) in ``cwd`` and every directory above it, then
    the one in ``$CARGO_HOME`` (``~/.cargo``).
    """
    home = Path(environ.get("CARGO_HOME") or Path.home() / ".cargo")
    directories = [d / ".cargo" for d in (cwd, *cwd.parents)]
    if home not in directories:
        directories.append(home)
    files = []
    for directory in directories:
        for name in ("config", "config.toml"):
            if (directory / name).is_file():
                files.append(directory / name)
                break
    return files


def _release_table(path: Path) -> dict[str, object]:
    """``[profile.release]`` of a TOML file; empty when unreadable (cargo will say why)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    profiles = data.get("profile")
    table = profiles.get("release") if isinstance(profiles, dict) else None
    return table if isinstance(table, dict) else {}


def _source_name(path: Path, cwd: Path) -> str:
    """``Cargo.toml`` or ``.cargo/config.toml`` in the crate, a full path elsewhere."""
    try:
        return str(path.relative_to(cwd))
    except ValueError:
        return display_path(path)


def _toml_literal(value: object) -> str:
    """A TOML value as written: ``3``, ``"s"``, ``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def _env_literal(value: str) -> str:
    """A variable's text shown as cargo reads it: ``3`` and ``false`` bare, words quoted."""
    return value if value.isdigit() or value in ("true", "false") else f'"{value}"'


def _normal(literal: str) -> str:
    return literal.strip('"')


def _by_source(settings: tuple[Setting, ...]) -> list[tuple[str, list[Setting]]]:
    groups: dict[str, list[Setting]] = {}
    for setting in settings:
        groups.setdefault(setting.source, []).append(setting)
    return list(groups.items())


def _joined(settings: list[Setting]) -> str:
    return ", ".join(f"{s.key} = {s.value}" for s in settings)
