"""Host functions called from the guest, with every kind of signature."""

from __future__ import annotations

import array
from pathlib import Path
from typing import Any

import pytest

import wasmbridge

pytestmark = pytest.mark.toolchain


class HostError(Exception):
    pass


def host_fail(code: int) -> int:
    if code < 0:
        raise HostError(f"refused {code}")
    return code * 10


HOST: dict[str, Any] = {
    "host_add": lambda a, b: a + b,
    "host_upper": lambda text: text.upper(),
    "host_bytes": lambda data: bytes(reversed(data)),
    "host_fill": lambda buf: buf.__setitem__(slice(None), b"\x2a" * len(buf)),
    "host_f64": lambda x: x * 2,
    "host_f32": lambda x: x / 2,
    "host_i64": lambda x: -x,
    "host_u64": lambda x: x,
    "host_u8": lambda x: 255 - x,
    "host_i16": lambda x: x - 1,
    "host_opt": lambda x: None if x is None else x + 1,
    "host_opt_text": lambda text: None if text is None else f"<{text}>",
    "host_floats": lambda values: array.array("f", [v * 10 for v in values]),
    "host_bool": lambda b: not b,
    "host_take": lambda text: len(text),
    "host_take_vec": lambda values: sum(values),
    "host_log": lambda message: None,
    "host_fail": host_fail,
    "host": {"now": lambda: 1234.5, "random-bytes": lambda n: bytes(range(n))},
}


@pytest.fixture(scope="module")
def module(imports_wasm: Path) -> Any:
    return wasmbridge.load(imports_wasm, imports=HOST)


@pytest.mark.parametrize(
    ("call", "args", "expected"),
    [
        ("call_add", (2, 3), 5),
        ("call_upper", ("héllo 🦀",), "HÉLLO 🦀"),
        ("call_bytes", (b"\x01\x02\x03",), b"\x03\x02\x01"),
        ("call_fill", (4,), b"\x2a" * 4),
        ("call_f64", (1.25,), 2.5),
        ("call_f32", (3.0,), 1.5),
        ("call_i64", (-(2**63) + 1,), 2**63 - 1),
        ("call_u64", (2**64 - 1,), 2**64 - 1),
        ("call_u8", (5,), 250),
        ("call_i16", (-32767,), -32768),
        ("call_opt", (None,), None),
        ("call_opt", (41,), 42),
        ("call_opt_text", ("x",), "<x>"),
        ("call_opt_text", (None,), None),
        ("call_floats", (array.array("f", [1.5, 2.0]),), array.array("f", [15.0, 20.0])),
        ("call_bool", (True,), False),
        ("call_take", ("four",), 4),
        ("call_take_vec", (array.array("i", [1, 2, 3]),), 6),
        ("call_log", ("quiet",), None),
        ("call_fail", (4,), 41),
        ("call_now", (), 1234.5),
        ("call_random_bytes", (3,), b"\x00\x01\x02"),
        ("round_trip", ("ab",), "ABBA"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_import_round_trip(module: Any, call: str, args: tuple[Any, ...], expected: Any) -> None:
    assert module.exports[call](*args) == expected


def test_host_exception_comes_back_unchanged_and_chained(module: Any) -> None:
    with pytest.raises(HostError, match="refused -1") as info:
        module.call_fail(-1)
    exc = info.value
    assert isinstance(exc.__cause__, wasmbridge.Trap)
    assert "host import `env.host_fail` raised HostError during `call_fail(-1)`" in str(
        exc.__cause__
    )
    assert exc.__notes__ == [
        "raised by host import `env.host_fail`, called from `call_fail(-1)` in imports.wasm"
    ]
    # The instance is still usable after the failure.
    assert module.call_fail(1) == 11


def test_wrong_result_type_from_host_is_a_type_error(imports_wasm: Path) -> None:
    bad = dict(HOST, host_add=lambda a, b: "three")
    module = wasmbridge.load(imports_wasm, imports=bad)
    with pytest.raises(TypeError, match=r"host import env\.host_add returned str, expected i32"):
        module.call_add(1, 2)


def test_missing_import_names_it_and_what_was_supplied(imports_wasm: Path) -> None:
    partial = {k: v for k, v in HOST.items() if k != "host_upper"}
    with pytest.raises(wasmbridge.LinkError) as info:
        wasmbridge.load(imports_wasm, imports=partial)
    assert str(info.value) == (
        "imports.wasm needs host function `host_upper(text: &str) -> String` (env.host_upper) "
        "(imports supplied: host.now, host.random-bytes, host_add, host_bool, host_bytes, "
        "host_f32, host_f64, host_fail and 11 more)"
    )
    assert info.value.hint == "pass them with wasmbridge.load(..., imports={'name': callable})"


def test_many_missing_imports_stay_on_one_readable_line(imports_wasm: Path) -> None:
    with pytest.raises(wasmbridge.LinkError) as info:
        wasmbridge.load(imports_wasm, imports={"host_add": HOST["host_add"]})
    assert str(info.value) == (
        "imports.wasm needs 19 host functions `host_upper(text: &str) -> String` (env.host_upper); "
        "`host_bytes(data: &[u8]) -> Vec<u8>` (env.host_bytes); `host_fill(buf: &mut [u8])` "
        "(env.host_fill) and 16 more (imports supplied: host_add)"
    )


def test_unknown_import_is_refused_with_the_real_names(imports_wasm: Path) -> None:
    with pytest.raises(
        wasmbridge.LinkError, match=r"does not import host_ad \(it imports: .*host_add"
    ):
        wasmbridge.load(imports_wasm, imports=dict(HOST, host_ad=print))


def test_non_callable_import_is_refused(imports_wasm: Path) -> None:
    with pytest.raises(wasmbridge.LinkError, match="import `host_add` must be callable, got int"):
        wasmbridge.load(imports_wasm, imports=dict(HOST, host_add=3))


def test_unknown_import_lists_only_what_a_caller_can_supply(types_wasm: Path) -> None:
    """The SDK's own panic hook is linked by the host; it is never offered to callers."""
    with pytest.raises(wasmbridge.LinkError) as info:
        wasmbridge.load(types_wasm, imports={"alert": print})
    assert "does not import alert (it imports: nothing)" in str(info.value)
    assert "panic" not in str(info.value)
