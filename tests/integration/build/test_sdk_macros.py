"""The Rust SDK's own checks: its native unit tests (the canonical layout of
every type, callbacks through a native host), the compile errors its macros
write for what cannot cross the bridge, each naming the item and what to do
instead, and the section and wasm signatures of callbacks.

The `unsupported` fixture holds one refused item per macro rule; the rules
rustc enforces for the SDK (a type exported twice, a named type nobody
exported, a class inside a list, an error type that is neither a value nor
`Display`) each get a small crate, since rustc stops at the first phase
that fails.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from build_helpers import SDK_CARGO_TOML, CliResult, write_crate
from wasmbridge.build.sdk import vendor_sdk
from wasmbridge.build.toolchain import diagnose
from wasmbridge.interface import Kind, parse, read_interface

Cli = Callable[..., CliResult]
FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "crates" / "unsupported"

PARAMS = (
    "bool, i8, u8, i16, u16, i32, u32, i64, u64, f32, f64, usize, isize, char, &str, String, "
    "&[T] and Vec<T> (of any of these), &mut [T] (T a number type), tuples of 1 to 12 of these, "
    "records, enums and classes exported with #[wasmbridge::export] (also as &X and &mut X), "
    "Option<T> of these, and callbacks (impl Fn(A) -> R, &dyn Fn(A) -> R, &mut dyn FnMut(A) -> R)"
)
IMPORT_PARAMS = (
    "bool, i8, u8, i16, u16, i32, u32, i64, u64, f32, f64, usize, isize, char, &str, String, "
    "&[T], &mut [T] and Vec<T> (T a number type), and Option<T> of these"
)
NUMBERS = "u8, i8, u16, i16, u32, i32, u64, i64, f32, f64, usize or isize"
STAYS = (
    " (a `pub fn` that stays inside the guest goes in an `impl` block without "
    "#[wasmbridge::export])"
)
I128 = (
    "`i128` cannot cross the bridge (the interface has no 128-bit integers): "
    "use i64/u64, or pass it as a String"
)

CALLBACK_ERRORS = [
    "an imported function cannot take the callback `impl Fn(u32)`: callbacks pass host "
    "functions to exported functions and methods only",
    "the callback `impl Fn(u32) -> u32` cannot be returned: a host function lives only while "
    "the export call that passed it runs; take it as a parameter",
    "the callback `impl Fn(u32)` can only be a whole parameter of an exported function or "
    "method, not inside `Option`, `Result`, lists, tuples, records or another callback",
    "a callback takes records and enums by value: write `Point`, not `&Point`",
    "a callback cannot take or return `Result<u32, String>`: a host function signals failure "
    "by raising, which ends the export call; pass and return plain values (an `Option`, a record)",
    "a callback takes at most 12 arguments, "
    "`impl Fn(u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8)` has 13: group them into a "
    "record or a tuple",
    "a callback lives only while the export call that passed it runs, so the guest cannot own "
    "it: take `impl Fn(u32) -> u32` or `&dyn Fn(u32) -> u32`, not `Box<dyn Fn(u32) -> u32>`",
    "a host function cannot cross as the function pointer `fn(u32) -> u32`: take a callback, "
    "`impl Fn(u32) -> u32` (or `&dyn Fn(..)`)",
    "`&dyn FnMut(u32)` cannot be called (a `FnMut` needs `&mut`): write `&mut dyn FnMut(..)` or "
    "`&dyn Fn(..)`",
    "a callback's result belongs to the guest: write `String`, not `&'static str`",
    "a callback cannot take `&mut [u8]`: the host's changes would not come back; pass the value "
    "and have the callback return the changed one",
]

UNSUPPORTED_ERRORS = [
    f"wasmbridge cannot pass `Box<u8>` as an exported function's parameter; supported: {PARAMS}",
    "wasmbridge cannot pass `BTreeMap<u32, String>` as an exported function's parameter; "
    f"supported: {PARAMS}",
    I128,
    I128,
    "a tuple crosses the bridge with 1 to 12 items, "
    "`(u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8)` has 13: group them into a record",
    "wasmbridge cannot pass `&mut [String]` as an exported function's parameter: the elements "
    f"of `&mut [T]` must be numbers ({NUMBERS}); take a `Vec<T>` and return the changed one",
    "the borrowed `&Point` can only be a whole parameter; inside `Option`, lists, tuples and "
    "records pass `Point` by value",
    "the borrowed `&Point` cannot be returned: return `Point`",
    "`Result` is supported only as the whole result of an exported function, not inside "
    "`Option`, `Result`, tuples, lists or records",
    "field `hidden` of `Secret` is not `pub`: make every field pub to pass `Secret` by value as "
    "a record, or export an `impl Secret` block to make it a class",
    "the tuple struct `Pair` cannot be a record: name its fields "
    "(`pub struct Pair { pub x: f64, ... }`)",
    "a generic struct cannot be exported: the interface needs concrete types; remove the type "
    "and lifetime parameters of `Wrapper`",
    "a record owns its fields: write `String`, not `&'static str`",
    "`Message::Move` carries data, and only C-like enums (cases without data) cross the bridge: "
    "move the data into a record, or make `Message` a class with an exported `impl`",
    "write the discriminant of `One` as an integer literal (`= 5`, `= -3`), not `1<<2`: "
    "the interface records its value",
    "the enum `Nothing` has no cases: there is no value to pass",
    "the class `Counter` crosses the bridge only on its own (hosts hold it by a handle), not "
    "inside `Option<Counter>`: pass or return `Counter` itself",
    f"`async fn` cannot be exported: a host call runs to completion{STAYS}",
    "write the receiver as `&self`, `&mut self` or `self`: a class object crosses as a handle, "
    f"so typed receivers (`self: Box<Self>`) are not supported{STAYS}",
    "the class `Counter` cannot cross in the callback `impl Fn(Counter)`: a callback takes and "
    "returns values (records, enums, lists, ...), never objects of a class; pass the values it "
    "needs",
    "a generic `impl` block cannot be exported: a class needs a concrete type "
    "(no type or lifetime parameters)",
    "a trait `impl` cannot be exported: put #[wasmbridge::export] on an inherent "
    "`impl Type { ... }` block; its methods may call the trait's",
    "an imported function cannot pass `(u32, u32)`: records, enums, classes, tuples and lists "
    f"cross only exported functions; supported: {IMPORT_PARAMS}",
    *CALLBACK_ERRORS,
]


@pytest.fixture(scope="module")
def cargo_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One target directory for the crates below, so the SDK compiles once."""
    target = tmp_path_factory.mktemp("macros-target")
    previous = os.environ.get("CARGO_TARGET_DIR")
    os.environ["CARGO_TARGET_DIR"] = str(target)
    yield target
    if previous is None:
        del os.environ["CARGO_TARGET_DIR"]
    else:
        os.environ["CARGO_TARGET_DIR"] = previous


def _errors(result: CliResult) -> list[str]:
    return [line[len("error: ") :] for line in result.err_lines if line.startswith("error: ")]


@pytest.mark.toolchain
def test_each_unsupported_item_is_one_compile_error_saying_what_to_do(
    sdk_ready: None, cargo_target: Path, cli: Cli
) -> None:
    result = cli("build", str(FIXTURE), "--color", "never")
    assert result.code == 1
    errors = _errors(result)
    assert errors[: len(UNSUPPORTED_ERRORS)] == UNSUPPORTED_ERRORS
    assert errors[len(UNSUPPORTED_ERRORS) :] == [
        f"could not compile `unsupported` due to {len(UNSUPPORTED_ERRORS)} previous errors",
        "cargo build failed for unsupported (exit status 101)",
    ]


def _sdk_crate(directory: Path, lib_rs: str) -> Path:
    sdk = SDK_CARGO_TOML.parent.as_posix()
    return write_crate(
        directory, directory.name, lib_rs, dependencies=f'wasmbridge = {{ path = "{sdk}" }}'
    )


EXPORTED_TWICE = """\
#![no_std]
pub struct Counter { n: u32 }

#[wasmbridge::export]
impl Counter {
    pub fn get(&self) -> u32 { self.n }
}

#[wasmbridge::export]
impl Counter {
    pub fn set(&mut self, n: u32) { self.n = n }
}

#[wasmbridge::export]
pub struct Both { pub a: u32 }

#[wasmbridge::export]
impl Both {
    pub fn a(&self) -> u32 { self.a }
}
"""

NOT_EXPORTED = """\
#![no_std]
extern crate alloc;
use alloc::vec::Vec;

pub struct Counter { n: u32 }

#[wasmbridge::export]
impl Counter {
    pub fn get(&self) -> u32 { self.n }
}

pub struct Plain(pub u32);

#[wasmbridge::export]
pub fn plain(p: Plain) -> u32 { p.0 }

#[wasmbridge::export]
pub fn counters(v: Vec<Counter>) -> u32 { v.len() as u32 }
"""

CLASS_IN_CALLBACK = """\
#![no_std]
pub struct Counter { n: u32 }

#[wasmbridge::export]
impl Counter {
    pub fn get(&self) -> u32 { self.n }
}

#[wasmbridge::export]
pub fn visit(f: impl Fn(u32, Counter)) { let _ = f; }
"""

NO_ERROR_TYPE = """\
#![no_std]
pub struct Plain;

#[wasmbridge::export]
pub fn fails() -> Result<u32, Plain> { Err(Plain) }
"""


@pytest.mark.toolchain
@pytest.mark.parametrize(
    ("lib_rs", "expected"),
    [
        (
            EXPORTED_TWICE,
            [
                "conflicting implementations of trait `wasmbridge::__rt::Exported` "
                "for type `Counter`",
                "conflicting implementations of trait `wasmbridge::__rt::Exported` for type `Both`",
            ],
        ),
        (
            NOT_EXPORTED,
            [
                "the trait bound `Plain: Exported` is not satisfied",
                "the trait bound `Counter: Canonical` is not satisfied",
            ],
        ),
        (
            NO_ERROR_TYPE,
            [
                "evaluation of `wasmbridge::__rt::Unusable::<Plain>::REFUSED` failed",
                "the evaluated program panicked at 'wasmbridge: the error type `E` of an exported "
                "`Result<T, E>` (named in `Unusable::<E>` above) must be `String`, `&str`, a "
                "record or enum with #[wasmbridge::export], or implement `Display`'",
            ],
        ),
        (CLASS_IN_CALLBACK, ["the trait bound `Counter: Canonical` is not satisfied"]),
    ],
    ids=[
        "exported-twice",
        "not-exported-or-class-in-list",
        "error-neither-value-nor-display",
        "class-in-callback",
    ],
)
def test_what_rustc_checks_for_the_sdk_names_the_type(
    sdk_ready: None,
    cargo_target: Path,
    tmp_path: Path,
    cli: Cli,
    lib_rs: str,
    expected: list[str],
) -> None:
    result = cli("build", str(_sdk_crate(tmp_path / "crate", lib_rs)), "--color", "never")
    assert result.code == 1
    for text in expected:
        assert text in result.err, text


CALLBACKS = """\
#![no_std]
extern crate alloc;
use alloc::string::String;
use alloc::vec::Vec;

#[wasmbridge::export]
pub struct Point { pub x: f64, pub y: f64 }

#[wasmbridge::export]
pub fn forms(
    a: impl Fn(u32) -> bool + Send,
    b: &dyn Fn(&str, &[u8]) -> String,
    c: &mut dyn FnMut(Point, (u8, char)),
    d: impl FnMut() -> Option<Vec<String>>,
) -> u32 {
    let mut d = d;
    c(Point { x: 1.0, y: 2.0 }, (3, 'x'));
    a(1) as u32 + b("text", &[1]).len() as u32 + d().map_or(0, |v| v.len() as u32)
}

pub struct Tally { n: u32 }

#[wasmbridge::export]
impl Tally {
    pub fn new() -> Self { Tally { n: 3 } }
    pub fn each(&self, f: impl Fn(u32)) { (0..self.n).for_each(f) }
}
"""


@pytest.mark.toolchain
def test_callbacks_cross_as_ids_with_their_types_in_the_section(
    sdk_ready: None, cargo_target: Path, tmp_path: Path, cli: Cli
) -> None:
    crate = _sdk_crate(tmp_path / "callbacks", CALLBACKS)
    result = cli("build", str(crate), "--color", "never")
    assert result.code == 0, result.err
    module = parse((crate / "pkg" / "callbacks.wasm").read_bytes())
    interface = read_interface(module)
    assert interface is not None
    (forms,) = interface.exports
    assert [str(p.type) for p in forms.params] == [
        "impl Fn(u32) -> bool",
        "impl Fn(&str, &[u8]) -> String",
        "impl Fn(Point, (u8, char))",
        "impl Fn() -> Option<Vec<String>>",
    ]
    assert all(p.type.kind is Kind.CALLBACK for p in forms.params)
    (tally,) = interface.classes
    each = next(m for m in tally.methods if m.member == "each")
    assert str(each.function.params[0].type) == "impl Fn(u32)"
    exports = {e.name: e for e in module.exports}
    assert str(module.func_type(exports["forms"].index)) == "(i32, i32, i32, i32) -> (i32)"
    assert str(module.func_type(exports["Tally.each"].index)) == "(i32, i32) -> ()"
    imported = {(i.module, i.name): str(i.type) for i in module.imported_funcs}
    assert imported[("wasmbridge", "callback")] == "(i32, i32, i32, i32) -> ()"


@pytest.mark.toolchain
@pytest.mark.parametrize("crate", ["wasmbridge", "wasmbridge-macros"])
def test_the_sdk_crates_pass_their_native_tests(
    sdk_ready: None, cargo_target: Path, tmp_path: Path, crate: str
) -> None:
    """The canonical layout of every type, round-tripped on the host target (in a
    copy of the SDK, so that cargo's lock file stays out of the source tree)."""
    copy = vendor_sdk(SDK_CARGO_TOML.parent, tmp_path)
    chosen = diagnose().chosen
    assert chosen is not None and chosen.cargo is not None
    rustdoc = chosen.path.with_name("rustdoc")
    env = {**os.environ, "RUSTC": str(chosen.path), "CARGO_NET_OFFLINE": "true"}
    if rustdoc.exists():
        env["RUSTDOC"] = str(rustdoc)
    proc = subprocess.run(
        [str(chosen.cargo), "test", "--offline", "--quiet"],
        cwd=copy / crate,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "test result: FAILED" not in proc.stdout
