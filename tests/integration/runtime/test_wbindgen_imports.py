"""A module built with wasm-bindgen dependencies is refused with one message saying so.

Its ``__wbindgen_placeholder__`` imports (``wbg`` and ``__wbg_*`` once wasm-bindgen's
CLI ran) are only ever provided by wasm-bindgen's JS glue, so listing them as
missing host functions would send the user looking for functions to write.
"""

from __future__ import annotations

import pytest
import wasmtime

import wasmbridge

PLACEHOLDER = """
(module
  (import "__wbindgen_placeholder__" "__wbindgen_describe" (func (param i32)))
  (import "__wbindgen_placeholder__" "__wbindgen_throw" (func (param i32 i32)))
  (import "env" "alert" (func (param i32)))
  (memory (export "memory") 1)
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
"""

# What wasm-bindgen's CLI leaves in a module it processed (--target web).
PROCESSED = """
(module
  (import "wbg" "__wbg_log_5bb5f88f245d7762" (func (param i32 i32)))
  (memory (export "memory") 1))
"""


@pytest.mark.parametrize(
    ("wat", "named"),
    [
        (PLACEHOLDER, "__wbindgen_placeholder__.__wbindgen_describe"),
        (PROCESSED, "wbg.__wbg_log_5bb5f88f245d7762"),
    ],
    ids=["placeholder", "processed"],
)
def test_wasm_bindgen_imports_are_refused_with_one_message(wat: str, named: str) -> None:
    with pytest.raises(wasmbridge.LinkError) as raised:
        wasmbridge.load(wasmtime.wat2wasm(wat), name="rand.wasm")
    text = str(raised.value)
    assert text.startswith("rand.wasm was built with wasm-bindgen dependencies: it imports ")
    assert named in text
    assert "env.alert" not in text  # an ordinary import is not blamed
    hint = raised.value.hint or ""
    assert "`getrandom/js`" in hint and "wasmbridge modules do not use wasm-bindgen" in hint


def test_the_message_names_two_imports_then_counts() -> None:
    imports = "".join(
        f'(import "__wbindgen_placeholder__" "__wbindgen_f{i}" (func))' for i in range(5)
    )
    with pytest.raises(wasmbridge.LinkError, match=r"__wbindgen_f1 and 3 more, which only"):
        wasmbridge.load(wasmtime.wat2wasm(f"(module {imports})"), name="x.wasm")


def test_similar_names_are_ordinary_imports() -> None:
    wat = '(module (import "env" "wbindgen_like" (func)) (import "bindgen" "__wbg" (func)))'
    with pytest.raises(wasmbridge.LinkError, match="needs 2 host functions"):
        wasmbridge.load(wasmtime.wat2wasm(wat), name="x.wasm")
