"""Export and method callers are written and compiled once per module, bound per instance."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import wasmbridge
from wasmbridge import Limits

pytestmark = pytest.mark.toolchain
BuildFixture = Callable[..., Path]  # conftest's build_fixture


@pytest.fixture(scope="module")
def geo_wasm(build_fixture: BuildFixture) -> Path:
    return build_fixture("geo")


def test_instances_share_an_exports_code_but_not_its_state(geo_wasm: Path) -> None:
    module = wasmbridge.compile(geo_wasm)
    first, second = module.instantiate(), module.instantiate()
    assert first.mid is not second.mid
    assert first.mid.__code__ is second.mid.__code__
    assert first.mid.__wasmbridge_source__ is second.mid.__wasmbridge_source__
    assert first.mid(first.Point(0, 0), first.Point(2, 4)) == first.Point(1.0, 2.0)
    assert second.words("a b") == ["a", "b"] and first.words("c") == ["c"]
    assert inspect.signature(first.mid) == inspect.signature(second.mid)


def test_methods_share_code_and_each_instance_checks_its_own_objects(geo_wasm: Path) -> None:
    module = wasmbridge.compile(geo_wasm)
    first, second = module.instantiate(), module.instantiate()
    with first.Counter("a", 1) as a, second.Counter("b", 10) as b:
        assert type(a).incr.__code__ is type(b).incr.__code__
        assert (a.incr(1), b.incr(1)) == (2, 11)
        # The signature names each instance's own class.
        assert inspect.signature(type(a).incr).parameters["self"].annotation is type(a)
        assert inspect.signature(type(b).incr).parameters["self"].annotation is type(b)
        with pytest.raises(wasmbridge.HandleError, match="belongs to geo.wasm instance"):
            type(a).incr(b, 1)


def test_limited_instances_get_callers_that_arm_their_limits(geo_wasm: Path) -> None:
    module = wasmbridge.compile(geo_wasm)
    plain = module.instantiate()
    limited = module.instantiate(limits=Limits(timeout_s=5))
    again = module.instantiate(limits=Limits(timeout_s=5))
    assert "_wb_before()" not in plain.count_to.__wasmbridge_source__
    assert "_wb_before()" in limited.count_to.__wasmbridge_source__
    # The generated caller (the compiled call path keeps it as its fallback).
    assert python_caller(limited.count_to).__code__ is python_caller(again.count_to).__code__
    assert (plain.count_to(3), limited.count_to(4), again.count_to(5)) == (3, 4, 5)


def test_closing_an_instance_leaves_the_modules_callers_to_the_others(geo_wasm: Path) -> None:
    module = wasmbridge.compile(geo_wasm)
    m = module.instantiate()
    assert m.count_to(7) == 7
    m.close()
    fresh = module.instantiate()
    assert fresh.count_to(8) == 8
    with pytest.raises(wasmbridge.ModuleError, match="this instance was closed"):
        m.count_to(1)


def python_caller(export: Any) -> Any:
    """The generated Python caller of an export, also behind a compiled one."""
    return getattr(export, "fallback", export)
