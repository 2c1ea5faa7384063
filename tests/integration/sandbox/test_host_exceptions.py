"""A host function raising the same exception object on every call costs what one call does."""

from __future__ import annotations

import gc
import os
import traceback

import pytest
from sandbox_corpus import W

import wasmbridge

CALLER = W(
    '(module (import "env" "check" (func $check (param i32)))'
    ' (func (export "run") (param i32) local.get 0 call $check))'
)


class Refused(Exception):
    pass


REFUSED = Refused("refused")  # one object, raised by every call


def _refuse(value: int) -> None:
    raise REFUSED


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _fail(module: wasmbridge.Instance, calls: int) -> None:
    for n in range(calls):
        try:
            module.run(n)
        except Refused:
            continue
        pytest.fail(f"run({n}) returned instead of raising")


def _depth(exc: BaseException) -> int:
    return len(traceback.extract_tb(exc.__traceback__))


def test_reused_exception_keeps_one_note_and_flat_memory() -> None:
    module = wasmbridge.load(CALLER, name="caller.wasm", imports={"check": _refuse})
    _fail(module, 1_000)
    depth = _depth(REFUSED)
    gc.collect()
    before = _rss()
    _fail(module, 100_000)
    gc.collect()
    grown = _rss() - before
    assert grown < 8 << 20, f"RSS grew {grown / (1 << 20):.1f} MiB over 100,000 failing calls"
    assert REFUSED.__notes__ == [
        "raised by host import `env.check`, called from `run(99999)` in caller.wasm"
    ]
    assert str(REFUSED) == "refused"
    assert isinstance(REFUSED.__cause__, wasmbridge.Trap)
    assert "during `run(99999)`" in str(REFUSED.__cause__)
    assert _depth(REFUSED) == depth  # this call's frames only, none left from earlier raises
    assert traceback.extract_tb(REFUSED.__traceback__)[-1].name == "_refuse"


def test_notes_and_cause_of_the_host_function_are_kept() -> None:
    def check(value: int) -> None:
        error = ValueError(f"bad {value}")
        error.add_note("the host's own note")
        raise error from KeyError("why")

    module = wasmbridge.load(CALLER, name="caller.wasm", imports={"check": check})
    with pytest.raises(ValueError, match="bad 7") as info:
        module.run(7)
    assert info.value.__notes__ == [
        "the host's own note",
        "raised by host import `env.check`, called from `run(7)` in caller.wasm",
    ]
    assert isinstance(info.value.__cause__, KeyError)
