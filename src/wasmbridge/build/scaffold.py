"""Create a new guest crate: ``wasmbridge new hello``.

The crate is a ``#![no_std]`` cdylib that depends only on the SDK and
shows both directions of the bridge: ``add`` (numbers only) and ``greet``
(text in, calling the host's ``alert``). It builds without ``format!``,
which alone costs ~3.5 KB.

The SDK is copied into the crate (``wasmbridge-sdk/``) and named by a
relative path: crates.io may be out of reach, and a path into this
machine's site-packages would break for a teammate, in CI, or when the
virtual environment moves.

    crate_dir = create_crate(Path("hello"), sdk=require_sdk())
"""

from __future__ import annotations

import json
import keyword
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import WasmbridgeError
from .sdk import VENDOR_DIR, VENDORED_PATH, vendor_sdk

# Rust keywords (strict and reserved, every edition) cannot name a crate.
RUST_KEYWORDS = frozenset(
    """
    abstract as async await become box break const continue crate do dyn else enum extern
    false final fn for gen if impl in let loop macro match mod move mut override priv pub
    ref return self static struct super trait true try type typeof union unsafe unsized use
    virtual where while yield
    """.split()
)
# Names that would shadow a crate every guest links against.
RESERVED_NAMES = frozenset({"alloc", "core", "std", "test", "proc_macro", "wasmbridge"})
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class CrateFile:
    """One file of a new crate, relative to its directory."""

    path: str
    text: str


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a wasmbridge crate name, or None when it can."""
    if not name:
        return "the name is empty"
    if not _NAME_RE.fullmatch(name):
        return "use letters, digits, `_` and `-`, starting with a letter or `_`"
    lib = lib_name(name)
    if lib in RUST_KEYWORDS:
        return f"`{lib}` is a Rust keyword"
    if keyword.iskeyword(lib) or keyword.issoftkeyword(lib):
        return f"`{lib}` is a Python keyword (the generated stub is a Python module)"
    if lib in RESERVED_NAMES:
        return f"`{lib}` is the name of a crate every guest uses"
    return None


def lib_name(name: str) -> str:
    """The library (and .wasm, and stub module) name cargo derives: ``-`` becomes ``_``."""
    return name.replace("-", "_")


def crate_files(name: str) -> list[CrateFile]:
    """The files of a new crate named ``name`` (without the SDK's copy)."""
    return [
        CrateFile("Cargo.toml", _cargo_toml(name)),
        CrateFile("src/lib.rs", LIB_RS.replace("{name}", name)),
        CrateFile(".gitignore", "target/\npkg/\n"),
        CrateFile("README.md", _readme(name)),
    ]


def create_crate(directory: Path, sdk: Path, name: str | None = None) -> Path:
    """Write a new crate into ``directory`` (missing or empty); returns the directory.

    The crate is named after the directory unless ``name`` is given; the
    SDK crate at ``sdk`` is copied into it.
    """
    name = name if name is not None else directory.resolve().name
    if problem := name_problem(name):
        raise WasmbridgeError(
            f"`{name}` cannot be a crate name: {problem}",
            hint="pick another name, e.g. `wasmbridge new my_module`",
        )
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise WasmbridgeError(
            f"{directory} already exists and is not empty",
            hint=f"choose another directory, or `wasmbridge new {directory} --name ...` "
            "after emptying it",
        )
    for file in crate_files(name):
        target = directory / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(file.text, encoding="utf-8")
    vendor_sdk(sdk, directory)
    return directory


def _readme(name: str) -> str:
    text = README.replace("{name}", name).replace("{lib}", lib_name(name))
    return text.replace("{sdk}", VENDOR_DIR)


def _cargo_toml(name: str) -> str:
    # json.dumps writes a valid TOML basic string (quotes and backslashes escaped).
    sdk_path = json.dumps(VENDORED_PATH)
    return f"""\
[package]
name = "{name}"
version = "0.1.0"
edition = "2021"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
wasmbridge = {{ path = {sdk_path} }}
"""


LIB_RS = """\
//! {name}: Rust functions that Python, the browser and Node call through wasmbridge.
//!
//! Build with `wasmbridge build`; the result lands in `pkg/`.
#![no_std]

extern crate alloc;

use alloc::string::String;

#[wasmbridge::import]
extern "C" {
    /// Shows `msg` to the user; the host decides how (Python: any callable).
    fn alert(msg: &str);
}

/// Adds two numbers.
#[wasmbridge::export]
pub fn add(a: i32, b: i32) -> i32 {
    a + b
}

/// Greets `name` through the host's `alert`: "Hello, NAME!".
#[wasmbridge::export]
pub fn greet(name: &str) {
    // push_str instead of format!: core::fmt alone would add ~3.5 KB.
    let mut text = String::with_capacity(name.len() + 8);
    text.push_str("Hello, ");
    text.push_str(name);
    text.push_str("!");
    alert(&text);
}
"""

README = """\
# {name}

Rust functions compiled to a small WebAssembly module with
[wasmbridge](https://pypi.org/project/wasmbridge/).

```
wasmbridge build          # writes pkg/{lib}.wasm and a typed Python stub
```

```python
import wasmbridge

m = wasmbridge.load("pkg/{lib}.wasm", imports={"alert": print})
print(m.add(5, 7))  # 12
m.greet("World")    # Hello, World!
```

The typed stub does the same with completion in your editor:
`from pkg.{lib} import load` (or put `pkg/` on `sys.path`).

`src/lib.rs` holds the functions: mark a `pub fn` with `#[wasmbridge::export]`
to call it from the host, and declare host functions in an
`#[wasmbridge::import] extern "C"` block. `wasmbridge build --dev` builds
quickly with full panic messages; `wasmbridge inspect pkg/{lib}.wasm` shows
the interface and where the bytes go.

`{sdk}/` holds the wasmbridge Rust SDK this crate builds with, copied
here by `wasmbridge new`: commit it, and the crate builds anywhere (plain
`cargo build --release --target wasm32-unknown-unknown` too; on rustc
older than 1.81 with `RUSTC_BOOTSTRAP=wasmbridge`). `{sdk}/README.md`
says how to update it.
"""
