"""Callbacks (docs/abi-compound.md, "Callbacks"): type model, codec, rules, lowering."""

from __future__ import annotations

import pytest
import wasmtime
from compound_model import (
    CHAR,
    COUNTER,
    F64,
    POINT,
    SHAPE,
    STR,
    STRING,
    U32,
    UNIT,
    func,
    method,
    named,
    option,
    tuple_of,
    vec,
)

from wasmbridge.interface import (
    ClassDef,
    Field,
    Function,
    Interface,
    Kind,
    Layout,
    Method,
    Param,
    Receiver,
    RecordDef,
    Type,
    WasmModule,
    abi,
    callback_args_layout,
    field_offsets,
    parse,
    validate,
)
from wasmbridge.interface.abi import Signature
from wasmbridge.interface.binary import uleb
from wasmbridge.interface.rules import interface_problems
from wasmbridge.interface.section import SectionFormatError, decode, encode

U8 = Type(Kind.U8)


def callback(*args: Type, result: Type = UNIT) -> Type:
    return Type(Kind.CALLBACK, result, args)


def record(kind: int, body: bytes) -> bytes:
    return bytes([1, kind]) + uleb(len(body)) + body


def text(value: str) -> bytes:
    raw = value.encode()
    return uleb(len(raw)) + raw


# -- the type model and the section codec ---------------------------------------------------


def test_hand_written_callback_parameters_decode() -> None:
    # apply(f: impl Fn(&str, Point) -> u32, p: Point) -> u32
    apply = record(1, text("apply") + text("") + b"\x02"
                   + text("f") + b"\x1c\x02\x10\x19" + text("Point") + b"\x07"
                   + text("p") + b"\x19" + text("Point") + b"\x07")  # fmt: skip
    # Counter.each(&self, f: impl Fn())
    each = record(6, text("Counter") + b"\x01" + text("each") + text("Counter.each") + text("")
                  + b"\x01" + text("f") + b"\x1c\x00\x00" + b"\x00")  # fmt: skip
    point = record(3, text("Point") + text("") + b"\x01" + text("x") + b"\x0b")
    data = point + record(5, text("Counter") + text("")) + each + apply
    f = callback(STR, named("Point"), result=U32)
    expected = Interface(
        1,
        (func("apply", {"f": f, "p": named("Point")}, U32),),
        records=(RecordDef("Point", (Field("x", F64),)),),
        classes=(
            ClassDef(
                "Counter",
                "",
                (method("Counter", "each", Receiver.REF, {"f": callback()}, UNIT),),
            ),
        ),
    )
    assert decode(data) == expected
    assert encode(expected) == data


@pytest.mark.parametrize(
    ("t", "spelled"),
    [
        (callback(), "impl Fn()"),
        (callback(U32, result=STRING), "impl Fn(u32) -> String"),
        (
            callback(STR, tuple_of(U32), result=option(named("Point"))),
            "impl Fn(&str, (u32,)) -> Option<Point>",
        ),
        (callback(vec(STRING), CHAR), "impl Fn(Vec<String>, char)"),
        (callback(*[U8] * 12), f"impl Fn({', '.join(['u8'] * 12)})"),
    ],
    ids=str,
)
def test_callbacks_spell_themselves_in_rust_and_round_trip(t: Type, spelled: str) -> None:
    assert t.rust() == spelled == str(t)
    iface = Interface(1, (func("f", {"cb": t}),), records=(POINT,))
    assert decode(encode(iface)) == iface


def _export(param: bytes, result: bytes = b"\x00") -> bytes:
    return record(1, text("f") + text("") + b"\x01" + text("a") + param + result)


_OWNED = "the guest owns what a callback returns (use String or Vec<T>)"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            _export(b"\x1c\x0d" + b"\x06" * 13 + b"\x00"),
            "a callback of 13 arguments is not an interface type (at most 12; type at byte 9)",
        ),
        (_export(b"\x1c\x01\x00\x00"), "`()` cannot be a callback argument (type at byte 9)"),
        (
            _export(b"\x1c\x01\x14\x03\x00"),
            "`&mut [u8]` cannot be a callback argument (type at byte 9)",
        ),
        (
            _export(b"\x1c\x01\x15\x14\x03\x00"),
            "`&mut [u8]` cannot be a callback argument (in `Option<&mut [u8]>`) (type at byte 9)",
        ),
        (_export(b"\x1c\x01\x1a\x01P\x00"), "`&P` cannot be a callback argument (type at byte 9)"),
        (
            _export(b"\x1c\x01\x16\x07\x00"),
            "`Result<u32, E>` cannot be a callback argument (type at byte 9)",
        ),
        (
            _export(b"\x1c\x01\x1c\x00\x00\x00"),
            "`impl Fn()` cannot be a callback argument (type at byte 9)",
        ),
        (
            _export(b"\x1c\x00\x10"),
            f"a callback cannot return the borrowed `&str`: {_OWNED} (type at byte 9)",
        ),
        (
            _export(b"\x1c\x00\x13\x10"),
            f"a callback cannot return the borrowed `&str` (in `Vec<&str>`): {_OWNED} "
            "(type at byte 9)",
        ),
        (
            _export(b"\x1c\x00\x12\x03"),
            f"a callback cannot return the borrowed `&[u8]`: {_OWNED} (type at byte 9)",
        ),
        (_export(b"\x1c\x00\x1a\x01P"), "`&P` cannot be a callback's result (type at byte 9)"),
        (
            _export(b"\x1c\x00\x1b\x07\x01E"),
            "`Result<u32, E>` cannot be a callback's result (type at byte 9)",
        ),
        (
            _export(b"\x1c\x00\x1c\x00\x00"),
            "`impl Fn()` cannot be a callback's result (type at byte 9)",
        ),
        (_export(b"\x13\x1c\x00\x00"), "`impl Fn()` cannot be a list element (type at byte 9)"),
        (
            _export(b"\x15\x1c\x00\x00"),
            "Option<impl Fn()> is not an interface type (type at byte 9)",
        ),
        (_export(b"\x18\x01\x1c\x00\x00"), "`impl Fn()` cannot be a tuple item (type at byte 9)"),
        (
            _export(b"\x06", b"\x1c\x00\x00"),
            "export `f`: the callback `impl Fn()` cannot be returned",
        ),
        (
            _export(b"\x06", b"\x16\x1c\x00\x00"),
            "export `f`: the callback `impl Fn()` cannot be returned",
        ),
        (
            record(
                2, text("env") + text("f") + text("") + b"\x01" + text("a") + b"\x1c\x00\x00\x00"
            ),
            "import `env.f`, parameter `a`: an imported function cannot take the callback "
            "`impl Fn()`; only exported functions and methods take callbacks",
        ),
        (_export(b"\x1c", b""), "unexpected end of data at byte 10"),
        (_export(b"\x1c\x01\x06", b""), "unexpected end of data at byte 12"),
    ],
    ids=[
        "13-arguments",
        "unit-argument",
        "mut-slice-argument",
        "mut-slice-in-option-argument",
        "borrow-argument",
        "result-argument",
        "callback-argument",
        "str-result",
        "str-in-list-result",
        "slice-result",
        "borrow-result",
        "result-value-result",
        "callback-result",
        "list-of-callbacks",
        "option-of-callback",
        "tuple-of-callback",
        "export-returns-callback",
        "export-returns-result-of-callback",
        "import-takes-callback",
        "no-count",
        "no-result",
    ],
)
def test_callbacks_the_sdk_cannot_write_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(SectionFormatError) as caught:
        decode(data)
    assert str(caught.value) == message


def test_a_callback_needs_a_result_type_and_keeps_to_twelve_arguments() -> None:
    with pytest.raises(ValueError, match="^CALLBACK needs inner type$"):
        Type(Kind.CALLBACK)
    with pytest.raises(ValueError, match="^a callback of 13 arguments is not an interface type"):
        callback(*[U8] * 13)
    with pytest.raises(ValueError, match="^U32 takes no items$"):
        Type(Kind.U32, items=(U8,))


def test_names_in_callback_refusals_are_escaped() -> None:
    with pytest.raises(SectionFormatError) as caught:
        decode(_export(b"\x1c\x01\x1a\x02P\x1b\x00"))
    assert str(caught.value) == "`&P\\x1b` cannot be a callback argument (type at byte 9)"


# -- the rules an interface follows on its own ----------------------------------------------


def test_callbacks_of_records_enums_lists_and_text_follow_the_rules() -> None:
    f = callback(named("Point"), named("Shape"), vec(STRING), STR, result=option(named("Point")))
    iface = Interface(
        1,
        (func("apply", {"f": f}, U32),),
        records=(POINT,),
        enums=(SHAPE,),
        classes=(COUNTER,),
    )
    assert interface_problems(iface) == []


def test_classes_and_undefined_names_in_callbacks_are_named() -> None:
    iface = Interface(
        1,
        (
            func("each", {"f": callback(named("Counter"))}),
            func("make", {"f": callback(result=vec(named("Counter")))}),
            func("ghost", {"f": callback(option(named("Ghost")))}),
        ),
        classes=(COUNTER,),
    )
    tail = "callbacks take and return values (records, enums, tuples, lists, text, numbers), not objects"
    assert interface_problems(iface) == [
        f"export `each`, parameter `f`: the class `Counter` cannot cross in the callback "
        f"`impl Fn(Counter)`; {tail}",
        f"export `make`, parameter `f`: the class `Counter` cannot cross in the callback "
        f"`impl Fn() -> Vec<Counter>`; {tail}",
        "export `ghost`, parameter `f`: no record, enum or class named `Ghost` is defined",
    ]


def test_a_callback_cannot_be_a_record_field() -> None:
    bad = RecordDef("Handler", (Field("on_event", callback(U32)),))
    assert interface_problems(Interface(1, records=(bad,))) == [
        "record `Handler`, field `on_event`: the callback `impl Fn(u32)` can only be a whole "
        "parameter of an exported function or method"
    ]
    data = record(3, text("Handler") + text("") + b"\x01" + text("on_event") + b"\x1c\x01\x07\x00")
    assert decode(data) == Interface(1, records=(bad,))  # the codec reads it; rules refuse it


# -- lowering -------------------------------------------------------------------------------


def test_a_callback_is_one_i32_the_id_of_the_call() -> None:
    f = callback(STR, result=U32)
    assert abi.param_wire(f) == ("i32",)
    assert abi.is_single_i32(f)
    apply = func("apply", {"s": STR, "f": f}, STRING)
    assert abi.signature(apply) == Signature(("i32", "i32", "i32", "i32"), ())
    each = Method("each", Receiver.REF, func("Counter.each", {"f": f}, U32))
    assert abi.method_signature(each) == Signature(("i32", "i32"), ("i32",))


def test_the_sdk_import_is_named_next_to_the_panic_import() -> None:
    assert (abi.HOST_MODULE, abi.CALLBACK_IMPORT) == ("wasmbridge", "callback")
    assert abi.CALLBACK_SIGNATURE == Signature(("i32", "i32", "i32", "i32"), ())
    assert abi.SDK_IMPORTS == {
        "panic": Signature(("i32",) * 6, ()),
        "callback": abi.CALLBACK_SIGNATURE,
    }
    assert (abi.CALLBACK_RET_SIZE, abi.CALLBACK_RESULT_ALIGN) == (8, 8)


@pytest.mark.parametrize(
    ("f", "uses"),
    [
        (callback(), False),  # no argument buffer, nothing handed back
        (callback(U32), True),
        (callback(result=U32), True),
    ],
    ids=str,
)
def test_a_callback_needs_memory_when_anything_crosses(f: Type, uses: bool) -> None:
    assert abi.needs_memory(func("run", {"f": f})) is uses


@pytest.mark.parametrize(
    ("f", "layout", "offsets"),
    [
        (callback(), Layout(0, 1), ()),
        (callback(U8, F64), Layout(16, 8), (0, 8)),
        (callback(STR, named("Point"), CHAR), Layout(32, 8), (0, 8, 24)),
        (callback(named("Shape"), result=STRING), Layout(1, 1), (0,)),
    ],
    ids=str,
)
def test_the_arguments_cross_as_one_tuple(
    f: Type, layout: Layout, offsets: tuple[int, ...]
) -> None:
    iface = Interface(1, records=(POINT,), enums=(SHAPE,))
    assert callback_args_layout(f, iface) == layout
    assert field_offsets(f.items, iface) == offsets


def test_only_a_callback_has_an_argument_layout() -> None:
    with pytest.raises(ValueError, match="^`u32` is not a callback$"):
        callback_args_layout(U32, Interface(1))


# -- validate: the module and its section agree ---------------------------------------------

ALLOCATOR = """
  (memory (export "memory") 1)
  (func (export "__wb_alloc") (param i32 i32) (result i32) i32.const 8)
  (func (export "__wb_free") (param i32 i32 i32))"""
APPLY = Interface(1, (func("apply", {"f": callback(STR, result=U32)}, U32),))


def _wasm(*parts: str, allocator: str = ALLOCATOR) -> WasmModule:
    return parse(bytes(wasmtime.wat2wasm(f"(module {' '.join(parts)} {allocator})")))


def test_a_module_calling_its_callbacks_through_the_sdk_import_validates() -> None:
    module = _wasm(
        '(import "wasmbridge" "callback" (func (param i32 i32 i32 i32)))',
        '(func (export "apply") (param i32) (result i32) local.get 0)',
    )
    assert validate(module, APPLY) == []


def test_the_callback_import_must_have_the_abi_type_with_or_without_an_interface() -> None:
    odd = _wasm('(import "wasmbridge" "callback" (func (param i32)))', allocator="")
    message = (
        "import `wasmbridge.callback` has type (i32) -> (), the ABI's is (i32, i32, i32, i32) -> ()"
    )
    assert validate(odd, None) == [message]
    assert validate(odd, Interface(1)) == [message]
    returns = _wasm(
        '(import "wasmbridge" "callback" (func (param i32 i32 i32 i32) (result i32)))',
        allocator="",
    )
    assert validate(returns, None) == [
        "import `wasmbridge.callback` has type (i32, i32, i32, i32) -> (i32), "
        "the ABI's is (i32, i32, i32, i32) -> ()"
    ]
    glob = _wasm('(import "wasmbridge" "callback" (global i32))', allocator="")
    assert validate(glob, None) == ["import `wasmbridge.callback` is a global, not a function"]


def test_an_export_whose_callback_passes_data_needs_the_allocator() -> None:
    module = _wasm('(func (export "apply") (param i32) (result i32) local.get 0)', allocator="")
    assert validate(module, APPLY) == [
        "export `apply` passes data through memory, but the module exports no memory named `memory`"
    ]
    bare = Interface(1, (func("run", {"f": callback()}),))
    assert validate(_wasm('(func (export "run") (param i32))', allocator=""), bare) == []


def test_a_callback_lowered_to_anything_but_one_i32_is_named() -> None:
    module = _wasm('(func (export "apply") (param i32 i32) (result i32) local.get 0)')
    assert validate(module, APPLY) == [
        "export `apply`: its interface types lower to (i32) -> (i32), "
        "but the wasm function has type (i32, i32) -> (i32)"
    ]


def test_a_python_built_import_taking_a_callback_is_refused_by_validate() -> None:
    module = _wasm('(import "env" "on" (func (param i32)))', allocator="")
    iface = Interface(1, imports=(Function("on", (Param("f", callback()),), module="env"),))
    assert validate(module, iface) == [
        "import `env.on`, parameter `f`: an imported function cannot take the callback "
        "`impl Fn()`; only exported functions and methods take callbacks"
    ]
