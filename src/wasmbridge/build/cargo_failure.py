"""Say what to do when cargo fails for a reason we can recognise.

cargo's own messages are shown as they come; this module reads what passed
and turns a few failures into an error that names the cause and the way
out, instead of "fix the errors cargo printed above":

- a dependency needs a newer rustc (``requires rustc 1.68 or newer``) than
  the one that has the wasm32 target (Debian's 1.63, say);
- cargo cannot reach the package index (no network), even though every
  crate may be on disk already (``[patch]``, path or vendored crates);
- offline, a crate is not on disk.

    error = cargo_failure(output, "hello", toolchain, status=101)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import BuildFailed
from .toolchain import RUSTUP_FIX, Toolchain, display_path

GENERIC_HINT = "fix the errors cargo printed above; `wasmbridge build -v` shows the command"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# cargo up to 1.7x: package `itoa v1.0.15` cannot be built because it requires rustc
# 1.68 or newer, while the currently active rustc version is 1.63.0
_NEEDS_RUSTC_OLD = re.compile(
    r"package `(?P<name>[\w-]+) v(?P<version>[^\s`]+)(?: \((?P<source>[^)]*)\))?` cannot be "
    r"built because it requires rustc (?P<need>[\d.]+) or newer"
)
# later cargo: "rustc 1.63.0 is not supported by the following package:" then
# "  itoa@1.0.15 requires rustc 1.68"
_NEEDS_RUSTC_NEW = re.compile(
    r"^\s+(?P<name>[\w-]+)@(?P<version>[^\s]+) requires rustc (?P<need>[\d.]+)", re.M
)
_EDITION = re.compile(r"feature `edition(?P<edition>\d{4})` is required")
_MANIFEST = re.compile(r"failed to parse manifest at `(?P<path>[^`]+)`")
# What cargo (git index, sparse index, downloads) says when it has no network.
_NETWORK_SIGNS = (
    "Unable to update registry",
    "failed to query replaced source",
    "failed to update replaced source",
    "network failure seems to have happened",
    "spurious network error",
    "Could not resolve host",
    "Couldn't resolve host",
    "failed to resolve address for",
    "Couldn't connect to server",
    "failed to download from",
)
_INDEX_URL = re.compile(r"failed to (?:fetch|download from) `(?P<url>[^`]+)`")
_NOT_OFFLINE = re.compile(r"no matching package named `(?P<name>[\w-]+)` found")
OFFLINE_HINT = (
    "if every dependency is on disk ([patch], path or vendored crates, cargo's cache), "
    "build offline: CARGO_NET_OFFLINE=true wasmbridge build"
)
SOURCES_HINT = (
    "`cargo vendor` where the network works, or a [source] replacement "
    "(https://doc.rust-lang.org/cargo/reference/source-replacement.html)"
)
VENDOR_HINT = (
    "for good: `net.offline = true` under [net] in .cargo/config.toml; "
    f"crates not on disk: {SOURCES_HINT}"
)


@dataclass(frozen=True)
class _NeedsRustc:
    name: str
    version: str
    need: str
    path: str | None  # the source directory of a path dependency


def cargo_failure(output: str, crate: str, toolchain: Toolchain, *, status: int) -> BuildFailed:
    """The error for cargo's failure, recognising the cause in its ``output`` if it can."""
    text = plain_text(output)
    if needs := _needs_rustc(text):
        return _needs_rustc_error(needs, crate, toolchain)
    if edition := _EDITION.search(text):
        return _edition_error(edition["edition"], _MANIFEST.search(text), crate, toolchain)
    if any(sign in text for sign in _NETWORK_SIGNS):
        url = _INDEX_URL.search(text)
        where = f" ({url['url']})" if url else ""
        return BuildFailed(
            f"cargo build failed for {crate}: cargo could not reach the package index{where}",
            hint=f"{OFFLINE_HINT}\n{VENDOR_HINT}",
        )
    if "offline mode" in text and (missing := _NOT_OFFLINE.search(text)):
        return BuildFailed(
            f"cargo build failed for {crate}: {missing['name']} is not on disk, "
            "and cargo is offline",
            hint=f"get it on disk: {SOURCES_HINT}",
        )
    return BuildFailed(f"cargo build failed for {crate} (exit status {status})", hint=GENERIC_HINT)


def plain_text(output: str) -> str:
    """cargo's output without colours, with progress-bar redraws as line ends."""
    return _ANSI.sub("", output).replace("\r\n", "\n").replace("\r", "\n")


def _needs_rustc(text: str) -> _NeedsRustc | None:
    old = _NEEDS_RUSTC_OLD.search(text)
    if old:
        source = old["source"]
        path = source if source and source.startswith("/") else None
        return _NeedsRustc(old["name"], old["version"], old["need"], path)
    new = _NEEDS_RUSTC_NEW.search(text)
    if new:
        return _NeedsRustc(new["name"], new["version"], new["need"], None)
    return None


def _needs_rustc_error(needs: _NeedsRustc, crate: str, toolchain: Toolchain) -> BuildFailed:
    have = toolchain.rustc_version
    message = (
        f"cargo build failed for {crate}: {needs.name} v{needs.version} requires "
        f"rustc {needs.need} or newer; this build uses rustc {have}\n"
        f"where: {_which_rustc(toolchain)}"
    )
    if needs.path:
        older = (
            f"or keep rustc {have} with a version of {needs.name} that supports it "
            f"(its source: {display_path(Path(needs.path))})"
        )
    else:
        older = (
            f"or keep rustc {have} with an older {needs.name}: "
            f"cargo update -p {needs.name}@{needs.version} --precise VERSION   "
            f"# VERSION: the newest {needs.name} that supports rustc {have}"
        )
    return BuildFailed(message, hint=f"{_newer_rustc_fix(toolchain)}\n{older}")


def _edition_error(
    edition: str, manifest: re.Match[str] | None, crate: str, toolchain: Toolchain
) -> BuildFailed:
    where = f" ({display_path(Path(manifest['path']))})" if manifest else ""
    have = toolchain.rustc_version
    return BuildFailed(
        f"cargo build failed for {crate}: a dependency{where} uses Rust edition {edition}, "
        f"which this cargo (with rustc {have}) does not know\n"
        f"where: {_which_rustc(toolchain)}",
        hint=f"{_newer_rustc_fix(toolchain)}\n"
        f"or keep rustc {have} with an older release of that crate: "
        "cargo update -p NAME --precise VERSION",
    )


def _which_rustc(toolchain: Toolchain) -> str:
    """``cargo ran /usr/bin/rustc 1.63.0, the only one here with the wasm32 target; ...``."""
    rustc = f"{display_path(toolchain.rustc)} {toolchain.rustc_version}"
    return f"cargo ran {rustc}, {toolchain.why_this_rustc()}"


def _newer_rustc_fix(toolchain: Toolchain) -> str:
    """Give a newer rustc the wasm32 target: rustup's, when one is installed."""
    order = list(toolchain.candidates)
    rustup = next((r for r in toolchain.skipped if r.rustup and r.version), None)
    if rustup is None:
        return f"use a newer rustc with the wasm32 target: install rustup, then {RUSTUP_FIX}"
    chosen = next((i for i, r in enumerate(order) if r.path == toolchain.rustc), len(order))
    then = (
        "then builds use it"
        if order.index(rustup) < chosen
        else f"then build with RUSTC={rustup.path}"
    )
    name = f"{display_path(rustup.path)} {rustup.version}"
    return f"give {name} the wasm32 target: {RUSTUP_FIX}   # {then}"
