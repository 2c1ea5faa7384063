"""Fuzz fixtures: the hypothesis profiles, a hang watchdog and a corpus of real modules.

``fuzz_support`` registers the profiles (``fuzz-ci`` by default,
``WASMBRIDGE_FUZZ=deep`` for long runs). A property that hangs is a bug
too: the watchdog dumps every thread's stack and ends the run.
"""

from __future__ import annotations

import faulthandler
from collections.abc import Callable, Iterator
from pathlib import Path

import fuzz_support
import pytest
import wasmtime

WATCHDOG_S = 600 if fuzz_support.DEEP else 120

# Small modules made with wat2wasm: each wasm feature the reader knows about.
WAT_CORPUS = {
    "features": """
(module
  (type $t0 (func (param i32 i64 f32 f64) (result i32)))
  (import "env" "ext" (func $ext (param i32) (result i32)))
  (import "env" "mem" (memory 1 2))
  (import "env" "tab" (table 1 funcref))
  (import "env" "g" (global i32))
  (table $t 2 10 funcref)
  (global $gm (mut i64) (i64.const 5))
  (func $f (type $t0) local.get 0)
  (func $start)
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "two") (result i32 i64) i32.const 1 i64.const 2)
  (export "f" (func $f))
  (export "tab" (table $t))
  (export "gm" (global $gm))
  (start $start)
  (elem (table $t) (i32.const 0) func $f)
  (data (i32.const 0) "hello")
)""",
    "sdk": """
(module
  (memory (export "memory") 4)
  (global $top (mut i32) (i32.const 4096))
  (func (export "__wb_alloc") (param i32 i32) (result i32) (local $p i32)
    global.get $top local.set $p
    global.get $top local.get 0 i32.add global.set $top
    local.get $p)
  (func (export "__wb_free") (param i32 i32 i32))
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "len_str") (param i32 i32) (result i32) local.get 1)
  (func (export "echo") (param i32 i32 i32)
    local.get 0 local.get 1 i32.store local.get 0 local.get 2 i32.store offset=8)
)""",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Hypothesis's failure report touches mypy_extensions, whose deprecation warning
    # (an error under filterwarnings=error) would hide the falsifying example.
    ignore = pytest.mark.filterwarnings(
        "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning"
    )
    for item in items:
        if item.path.parent == Path(__file__).parent:
            item.add_marker(ignore)


@pytest.fixture(autouse=True)
def watchdog() -> Iterator[None]:
    """Fail loudly (stacks dumped, run ended) if one fuzz test hangs."""
    faulthandler.dump_traceback_later(WATCHDOG_S, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture(scope="session")
def wat_modules() -> dict[str, bytes]:
    """The WAT corpus compiled; "sdk" carries an interface section, "sdk-bare" none."""
    from wasmbridge.interface import Function, Interface, Param, Type
    from wasmbridge.interface.section import encode
    from wasmbridge.interface.types import Kind

    built = {name: bytes(wasmtime.wat2wasm(text)) for name, text in WAT_CORPUS.items()}
    i32, text = Type(Kind.I32), Type(Kind.STR)
    interface = Interface(
        1,
        (
            Function("add", (Param("a", i32), Param("b", i32)), i32, doc="Adds."),
            Function("len_str", (Param("s", text),), Type(Kind.U32)),
            Function("echo", (Param("s", text),), Type(Kind.STRING)),
        ),
    )
    payload = fuzz_support.name_field(b"wasmbridge") + encode(interface)
    built["sdk-bare"] = built["sdk"]
    built["sdk"] += fuzz_support.section(0, payload)
    return built


@pytest.fixture(scope="session")
def sdk_modules(build_fixture: Callable[..., Path]) -> dict[str, bytes]:
    """Real crates built with the SDK (needs the toolchain): `hello` is small enough to
    compile in-process under limits, `types` has one export per interface type."""
    return {name: build_fixture(name).read_bytes() for name in ("hello", "types")}
