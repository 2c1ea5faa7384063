"""The JS glue in Node against a hand-written module whose results lie.

Each export breaks one rule of docs/abi-compound.md: strings and lists that
share bytes (a small buffer claiming gigabytes), option, result and bool
tags out of range, callback pointers outside memory. The glue throws its
usual malformed-result error naming the function, reads nothing outside
the guest's buffer, and builds no value larger than the buffer.
"""

from __future__ import annotations

import json
import struct
import subprocess
from typing import Any

import pytest
import wasmtime

from wasmbridge.codegen.glue import write_glue
from wasmbridge.interface import (
    Case,
    ClassDef,
    EnumDef,
    Field,
    Function,
    Interface,
    Method,
    Param,
    Receiver,
    RecordDef,
    Type,
    parse,
    read_interface,
)
from wasmbridge.interface.abi import class_exports, signature
from wasmbridge.interface.section import SECTION_NAME, VERSION, encode
from wasmbridge.interface.types import Kind

pytestmark = [pytest.mark.node]

U32, F64, STRING, BOOL = Type(Kind.U32), Type(Kind.F64), Type(Kind.STRING), Type(Kind.BOOL)
UNIT = Type(Kind.UNIT)
POINT, SHAPE = Type(Kind.NAMED, name="Point"), Type(Kind.NAMED, name="Shape")


def _vec(t: Type) -> Type:
    return Type(Kind.VEC, t)


def _option(t: Type) -> Type:
    return Type(Kind.OPTION, t)


def _aliased_strings(outer: int, inner: int, text: int) -> bytes:
    """A Vec<Vec<String>> whose lists all share one list, whose strings share one text."""
    inner_at = 8 + 8 * outer
    buf = struct.pack("<II", 8, outer) + struct.pack("<II", inner_at, inner) * outer
    return buf + struct.pack("<II", inner_at + 8 * inner, text) * inner + b"A" * text


BOMB = _aliased_strings(100, 1000, 1 << 16)  # 65 KiB claiming 6.5 GB
BOMB_AT = 0x10000
FINE = struct.pack("<6I", 8, 1, 16, 1, 24, 2) + b"ab"  # [["ab"]]
FINE_AT = 0x2F000

# name: (result type, body of the export)
EXPORTS: dict[str, tuple[Type, dict[int, int]]] = {
    "bomb": (_vec(_vec(STRING)), {0: BOMB_AT, 4: len(BOMB)}),
    "fine": (_vec(_vec(STRING)), {0: FINE_AT, 4: len(FINE)}),
    "option_u32": (_option(U32), {0: 9, 8: 65}),
    "option_enum": (_option(SHAPE), {0: 9, 8: 1}),
    "option_record": (_option(POINT), {0: 9, 8: FINE_AT, 12: 16}),
    "option_string": (_option(STRING), {0: 0xFFFF_FFFF, 8: FINE_AT, 12: 2}),
    "option_bool": (_option(BOOL), {0: 1, 8: 2}),
    "some_u32": (_option(U32), {0: 1, 8: 65}),
    "none_u32": (_option(U32), {0: 0, 8: 65}),
    "result_tag": (Type(Kind.RESULT, U32), {0: 5, 8: 65}),
    "result_value_tag": (Type(Kind.RESULT_VALUE, U32, name="Shape"), {0: 3, 8: 65}),
}
# name: (result type, the i32 it returns)
DIRECT: dict[str, tuple[Type, int]] = {"bool_two": (BOOL, 2), "bool_one": (BOOL, 1)}


def _stores(name: str, words: dict[int, int]) -> str:
    stores = " ".join(
        f"(i32.store offset={at} (local.get $r) (i32.const {value}))" for at, value in words.items()
    )
    return f'(func (export "{name}") (param $r i32) {stores})'


def _data(at: int, buf: bytes) -> str:
    escaped = "".join(f"\\{b:02x}" for b in buf)
    return f'(data (i32.const {at}) "{escaped}")'


def _custom_section(name: str, payload: bytes) -> bytes:
    def uleb(n: int) -> bytes:
        out = bytearray()
        while True:
            byte, n = n & 0x7F, n >> 7
            out.append(byte | (0x80 if n else 0))
            if not n:
                return bytes(out)

    body = uleb(len(name.encode())) + name.encode() + payload
    return b"\x00" + uleb(len(body)) + body


ARGS_AT = 0x2F100  # a callback's (u32,) arguments: 7
MEMORY_END = 4 * 65536
# name: (the callback's result, where its arguments are, their length, where its result goes)
CALLBACKS: dict[str, tuple[Type, int, int, int]] = {
    "args_outside": (UNIT, 0xFFFF_FFF0, 16, ARGS_AT),
    "args_past_the_end": (UNIT, ARGS_AT, 0x7FFF_FFFF, ARGS_AT),
    "result_outside": (U32, ARGS_AT, 4, 0xFFFF_FFFC),
    "result_at_the_end": (STRING, ARGS_AT, 4, MEMORY_END - 4),
    "result_fits": (U32, ARGS_AT, 4, MEMORY_END - 8),
}


def _callback_export(name: str, args: int, length: int, ret: int) -> str:
    """An export calling its callback parameter, and returning what its result slot holds."""
    call = (
        f"(call $callback (local.get $f) (i32.const {args}) (i32.const {length}) (i32.const {ret}))"
    )
    return f'(func (export "{name}") (param $f i32) {call})'


# Functions that take numbers, for arguments of the wrong JS type (their bodies do nothing).
TAKERS = (
    Function("take_u32", (Param("n", U32),), UNIT),
    Function("take_i8", (Param("n", Type(Kind.I8)),), UNIT),
    Function("take_pair", (Param("t", Type(Kind.TUPLE, items=(Type(Kind.U8), _vec(U32)))),), UNIT),
)


def _does_nothing(func: Function) -> str:
    params = " ".join(f"(param {v})" for v in signature(func).params)
    return f'(func (export "{func.name}") {params})'


def _class_method(member: str, receiver: Receiver, result: Type = UNIT) -> Method:
    return Method(member, receiver, Function(f"K.{member}", (), result))


# A class whose static method `name` hides the JS class's own name.
CLASS = ClassDef(
    "K",
    "",
    (
        _class_method("new", Receiver.CONSTRUCTOR, Type(Kind.NAMED, name="K")),
        _class_method("name", Receiver.STATIC),
        _class_method("get", Receiver.REF),
    ),
)


def _class_exports() -> list[str]:
    made = _stores("K.new", {0: 64})  # the handle 64
    bodies = []
    for name, sig in class_exports(CLASS):
        params = " ".join(f"(param {v})" for v in sig.params)
        bodies.append(made if name == "K.new" else f'(func (export "{name}") {params})')
    return bodies


def _interface() -> Interface:
    exports = [Function(n, (), t) for n, (t, _) in [*EXPORTS.items(), *DIRECT.items()]]
    exports += [
        Function(name, (Param("f", Type(Kind.CALLBACK, result, (U32,))),), UNIT)
        for name, (result, _, _, _) in CALLBACKS.items()
    ]
    exports.append(Function("stray", (Param("f", Type(Kind.CALLBACK, UNIT, ())),), UNIT))
    exports += TAKERS
    return Interface(
        VERSION,
        tuple(exports),
        records=(RecordDef("Point", (Field("x", F64), Field("y", F64))),),
        enums=(EnumDef("Shape", (Case("Circle", 0), Case("Square", 1))),),
        classes=(CLASS,),
    )


def _module(interface: Interface) -> bytes:
    funcs = [_stores(name, words) for name, (_, words) in EXPORTS.items()]
    funcs += [
        f'(func (export "{name}") (result i32) (i32.const {value}))'
        for name, (_, value) in DIRECT.items()
    ]
    funcs += [_callback_export(name, *where) for name, (_, *where) in CALLBACKS.items()]
    funcs.append(_callback_export("stray", 0, 0, 0).replace("(local.get $f)", "(i32.const -1)"))
    funcs += [_does_nothing(func) for func in TAKERS]
    funcs += _class_exports()
    wat = f"""
(module
  (import "wasmbridge" "callback" (func $callback (param i32 i32 i32 i32)))
  (memory (export "memory") 4)
  (global $top (mut i32) (i32.const 0x30000))
  (func (export "__wb_alloc") (param $size i32) (param $align i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $top) (i32.sub (local.get $align) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get $align))))
    (global.set $top (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "__wb_free") (param i32 i32 i32))
  {" ".join(funcs)}
  {_data(BOMB_AT, BOMB)}
  {_data(FINE_AT, FINE)}
  {_data(ARGS_AT, struct.pack("<I", 7))}
)
"""
    return wasmtime.wat2wasm(wat) + _custom_section(SECTION_NAME, encode(interface))


CHECKS = """\
import init, * as m from "./hostile.js";
await init();
const outcome = (run) => {
  try {
    const value = run();
    return `ok ${JSON.stringify(value) ?? "undefined"}`;
  } catch (error) {
    return `${error.name}: ${error.message}`;
  }
};
const outcomes = {};
for (const name of NAMES) outcomes[name] = outcome(m[name]);
const seen = [];
for (const name of CALLBACK_NAMES) {
  outcomes[name] = outcome(() => m[name]((x) => (seen.push(x), name === "result_at_the_end" ? "a" : 5)));
}
outcomes.stray = outcome(() => m.stray(() => 0));
outcomes.bigints = [
  outcome(() => m.take_u32(5n)),
  outcome(() => m.take_i8(5n)),
  outcome(() => m.take_pair([5n, [1]])),
  outcome(() => m.take_pair([5, [1, 2n]])),
  outcome(() => m.result_fits(() => 5n)),
  outcome(() => m.take_pair([5, [1, 2]])),
];
outcomes.seen = seen;
const object = new m.K();
outcomes.names = [
  outcome(() => m.K.prototype.get.call(Object.create(m.K.prototype))),
  outcome(() => m.take_u32(object)),
  outcome(() => object.get()),
];
console.log(JSON.stringify(outcomes));
"""


@pytest.fixture(scope="module")
def outcomes(node: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    pkg = tmp_path_factory.mktemp("hostile-node")
    wasm = pkg / "hostile.wasm"
    wasm.write_bytes(_module(_interface()))
    module = parse(wasm.read_bytes())
    manifest = pkg / "Cargo.toml"
    manifest.write_text('[package]\nname = "hostile"\nversion = "0.1.0"\n', encoding="utf-8")
    write_glue("hostile", wasm, read_interface(module), module, targets={"web"}, manifest=manifest)
    names = json.dumps([*EXPORTS, *DIRECT])
    script = CHECKS.replace("NAMES", names, 1).replace("CALLBACK_NAMES", json.dumps([*CALLBACKS]))
    (pkg / "checks.mjs").write_text(script, encoding="utf-8")
    argv = ["node", "--max-old-space-size=256", "checks.mjs"]
    proc = subprocess.run(argv, cwd=pkg, capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stderr) == (0, "")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def test_strings_and_lists_sharing_bytes_are_refused_before_they_are_decoded(
    outcomes: dict[str, Any],
) -> None:
    assert outcomes["bomb"] == (
        "TypeError: bomb() result: hostile.wasm handed back strings and lists that claim "
        f"{800 + 8000 + 2 * 65536} bytes in all, more than the {len(BOMB)} bytes of the value "
        "(they share bytes) (a bug in the module)"
    )


def test_a_buffer_whose_pieces_fit_decodes(outcomes: dict[str, Any]) -> None:
    assert outcomes["fine"] == 'ok [["ab"]]'


def _malformed(function: str, problem: str) -> str:
    return (
        f"TypeError: {function}() result: hostile.wasm handed back {problem} (a bug in the module)"
    )


@pytest.mark.parametrize(
    ("function", "problem"),
    [
        ("option_u32", "an option tag of 9, not 0 or 1"),
        ("option_enum", "an option tag of 9, not 0 or 1"),
        ("option_record", "an option tag of 9, not 0 or 1"),
        ("option_string", "an option tag of 4294967295, not 0 or 1"),
        ("option_bool", "a bool of 2, not 0 or 1"),
        ("bool_two", "a bool of 2, not 0 or 1"),
        ("result_tag", "a result tag of 5, not 0 or 1"),
        ("result_value_tag", "a result tag of 3, not 0, 1 or 2"),
    ],
)
def test_tags_and_bools_out_of_range_are_malformed_results(
    outcomes: dict[str, Any], function: str, problem: str
) -> None:
    assert outcomes[function] == _malformed(function, problem)


def test_tags_and_bools_in_range_are_values(outcomes: dict[str, Any]) -> None:
    found = {name: outcomes[name] for name in ("some_u32", "none_u32", "bool_one")}
    assert found == {"some_u32": "ok 65", "none_u32": "ok undefined", "bool_one": "ok true"}


def _outside(function: str, role: str, size: int, at: int) -> str:
    return (
        f"RangeError: {function}() argument 'f': hostile.wasm placed {role} outside its memory "
        f"({size} bytes at {at}, the memory has {MEMORY_END}): a bug in the module"
    )


def test_callback_pointers_outside_memory_name_the_callback_and_function(
    outcomes: dict[str, Any],
) -> None:
    found = {name: outcomes[name] for name in CALLBACKS}
    assert found == {
        "args_outside": _outside("args_outside", "its arguments", 16, 0xFFFF_FFF0),
        "args_past_the_end": _outside("args_past_the_end", "its arguments", 0x7FFF_FFFF, ARGS_AT),
        "result_outside": _outside("result_outside", "its result's (ptr, len)", 8, 0xFFFF_FFFC),
        "result_at_the_end": _outside(
            "result_at_the_end", "its result's (ptr, len)", 8, MEMORY_END - 4
        ),
        "result_fits": "ok undefined",
    }
    assert outcomes["seen"] == [7]  # only the call that fits ran the function


def test_a_callback_id_nobody_lent_is_shown_unsigned(outcomes: dict[str, Any]) -> None:
    assert outcomes["stray"] == (
        "Error: hostile.wasm called function 4294967295, which no running call lent it "
        "(a bug in the module)"
    )


def test_a_bigint_where_a_number_is_expected_names_the_argument(
    outcomes: dict[str, Any],
) -> None:
    assert outcomes["bigints"] == [
        "TypeError: take_u32() argument 'n': expected number (u32), got bigint",
        "TypeError: take_i8() argument 'n': expected number (i8), got bigint",
        "TypeError: take_pair() argument 't' at t[0]: expected number (u8), got bigint",
        "TypeError: take_pair() argument 't' at t[1] item: expected number (u32), got bigint",
        "TypeError: result_fits() argument 'f' (its result): expected number (u32), got bigint",
        "ok undefined",
    ]


def test_errors_name_a_class_whose_static_method_is_called_name(
    outcomes: dict[str, Any],
) -> None:
    assert outcomes["names"] == [
        "HandleError: K.get(): this K was not made by this instance of hostile.wasm "
        "(another copy of its glue?); pass one it made",
        "TypeError: take_u32() argument 'n': expected number (u32), got K",
        "ok undefined",
    ]
