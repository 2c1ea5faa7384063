"""The private wasmtime path the fast calls stand on. If this fails after a
wasmtime upgrade, runtime/_capi.py needs updating before anything else works."""

from __future__ import annotations

import wasmtime

import wasmbridge
from wasmbridge.runtime import _capi


def test_installed_wasmtime_is_the_supported_major() -> None:
    assert _capi.check_version() is None, _capi.check_version()


def test_private_bindings_we_use_exist() -> None:
    from wasmtime import _ffi

    for name in (
        "wasmtime_func_call_unchecked",
        "wasmtime_func_new_unchecked",
        "wasmtime_memory_data",
        "wasmtime_memory_data_size",
        "wasmtime_trap_new",
        "wasmtime_caller_export_get",
        "wasmtime_caller_context",
    ):
        assert hasattr(_ffi, name), f"wasmtime._ffi.{name} is gone"
    assert _capi.FUNC_SIZE == 16
    assert hasattr(wasmtime.Func, "_from_raw") and hasattr(wasmtime.Trap, "_from_ptr")


def test_raw_unchecked_call_works_end_to_end() -> None:
    wat = '(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))'
    m = wasmbridge.load(wasmtime.wat2wasm(wat), name="canary.wasm")
    assert m.add(40, 2) == 42
    assert "_wb_call(_wb_ctx, _wb_fn, _wb_buf, 2, _wb_trap)" in m.add.__wasmbridge_source__
