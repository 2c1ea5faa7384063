"""What a WASI program is granted: arguments, environment, directories, stdio.

Plain data and parsing only (no wasmtime), shared by ``run()``, the
``wasmbridge run`` command line and the process isolation protocol.
Nothing is granted unless asked: no files, no host environment, no
network, empty stdin, and output to the host's own stdout/stderr.

    grants = Grants.build("tool.wasm", args=["x"], dirs={"/in": ("./in", "ro")},
                          env={"MODE": "fast"}, stdin=b"...")
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ...errors import SandboxError

Mode = Literal["ro", "rw"]
MODES: tuple[Mode, ...] = ("ro", "rw")
INHERIT: Literal["inherit"] = "inherit"

DirSource = str | os.PathLike[str] | tuple[str | os.PathLike[str], str]
# Where stdout/stderr go: None inherits the host's, "capture" keeps it in memory,
# an int is a host file descriptor, a path is a file (created or truncated).
Output = Literal["capture"] | int | str | os.PathLike[str] | None
Stdin = bytes | Literal["inherit"] | None


@dataclass(frozen=True)
class Preopen:
    """A host directory the guest sees at ``guest`` (read-only unless ``writable``)."""

    host: Path
    guest: str
    writable: bool

    def describe(self) -> str:
        return f"{self.host}::{self.guest}:{'rw' if self.writable else 'ro'}"


@dataclass(frozen=True)
class Grants:
    """Everything a WASI program may touch; ``argv[0]`` is the module's name."""

    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    dirs: tuple[Preopen, ...] = ()
    stdin: Stdin = None
    stdout: Output = None
    stderr: Output = None

    @classmethod
    def build(
        cls,
        name: str,
        *,
        args: Sequence[str] = (),
        dirs: Mapping[str, DirSource] | None = None,
        env: Mapping[str, str] | None = None,
        stdin: Stdin = None,
        stdout: Output = None,
        stderr: Output = None,
    ) -> Grants:
        """Check and normalise what ``run()`` was given (caller mistakes raise ValueError)."""
        if isinstance(args, (str, bytes)):
            raise TypeError("run() argument 'args': expected a list of str, got a single string")
        for arg in args:
            if not _text(arg):
                raise ValueError(f"run() argument 'args': {arg!r} is not a str without NUL bytes")
        given: object = stdin
        if given is not None and given != INHERIT and not isinstance(given, bytes):
            raise TypeError(
                f"run() argument 'stdin': expected bytes, 'inherit' or None, "
                f"got {type(given).__name__}"
            )
        return cls(
            argv=(name, *args),
            env=tuple(_check_env(env or {})),
            dirs=tuple(preopen(guest, source) for guest, source in (dirs or {}).items()),
            stdin=stdin,
            stdout=_check_output("stdout", stdout),
            stderr=_check_output("stderr", stderr),
        )


def preopen(guest: str, source: DirSource) -> Preopen:
    """One ``dirs`` entry: ``"./in"`` (read-write) or ``("./in", "ro")``."""
    if isinstance(source, tuple):
        host, mode = source
        if mode not in MODES:
            raise ValueError(
                f"run() argument 'dirs': mode {mode!r} for {guest!r} is not 'ro' or 'rw'"
            )
    else:
        host, mode = source, "rw"
    if not guest or "\0" in guest:
        raise ValueError(f"run() argument 'dirs': {guest!r} is not a guest path")
    path = Path(host)
    if not path.is_dir():
        what = "does not exist" if not path.exists() else "is not a directory"
        raise SandboxError(
            f"cannot grant {path} as {guest}: it {what}",
            hint="create it first, or fix the host side of the grant (--dir HOST::GUEST)",
        )
    return Preopen(path.resolve(), guest, mode == "rw")


def _check_env(env: Mapping[str, str]) -> list[tuple[str, str]]:
    pairs = []
    for name, value in env.items():
        if not _text(name) or not name or "=" in name:
            raise ValueError(f"run() argument 'env': {name!r} is not a variable name")
        if not _text(value):
            raise ValueError(f"run() argument 'env': the value of {name} is not a str without NUL")
        pairs.append((name, value))
    return pairs


def _text(value: object) -> bool:
    return isinstance(value, str) and "\0" not in value


def _check_output(stream: str, target: Output) -> Output:
    given: object = target
    if given is None or isinstance(given, (str, os.PathLike)):
        return target
    if isinstance(given, int) and not isinstance(given, bool) and given >= 0:
        return target
    raise TypeError(
        f"run() argument '{stream}': expected None, 'capture', a path or a file descriptor, "
        f"got {target!r}"
    )


# -- the command line's spellings ------------------------------------------------------


def parse_dir(text: str) -> tuple[str, DirSource]:
    """``HOST::GUEST[:ro|:rw]`` (or just ``HOST``, seen at the same path) -> (guest, source).

    >>> parse_dir("./in::/in:ro")
    ('/in', ('./in', 'ro'))
    """
    host, sep, guest = text.partition("::")
    mode: str = "rw"
    if not sep:
        guest = host
    for suffix in (":ro", ":rw"):
        if guest.endswith(suffix):
            guest, mode = guest[: -len(suffix)], suffix[1:]
            if not sep:
                host = guest
    if not host or not guest:
        raise ValueError(f"expected HOST::GUEST[:ro|:rw], got {text!r}")
    return guest, (host, mode)


def parse_env(text: str) -> tuple[str, str]:
    """``NAME=VALUE`` -> (name, value); the value may be empty or contain '='."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise ValueError(f"expected NAME=VALUE, got {text!r}")
    return name, value
