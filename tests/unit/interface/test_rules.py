"""Rules an interface must follow on its own (docs/abi-compound.md, "Refused everywhere").

Each interface goes through the codec first (``decode(encode(...))``), as a
section a module carries would.
"""

from __future__ import annotations

import sys

import pytest
from compound_model import (
    COUNTER,
    F64,
    GEO,
    POINT,
    SHAPE,
    STR,
    U32,
    borrow,
    func,
    method,
    named,
    option,
    tuple_of,
    vec,
)

from wasmbridge.interface import (
    Case,
    ClassDef,
    EnumDef,
    Field,
    Function,
    Interface,
    Kind,
    Param,
    Receiver,
    RecordDef,
    Type,
)
from wasmbridge.interface.rules import interface_problems
from wasmbridge.interface.section import decode, encode


def problems(iface: Interface) -> list[str]:
    return interface_problems(decode(encode(iface)))


def test_the_geo_interface_follows_every_rule() -> None:
    assert problems(GEO) == []


def test_a_record_with_no_fields_is_refused() -> None:
    assert interface_problems(Interface(1, records=(RecordDef("Empty", ()),))) == [
        "record `Empty` has no fields"
    ]


def test_an_enum_with_no_cases_or_a_discriminant_twice_is_refused() -> None:
    twice = EnumDef("E", (Case("A", 1), Case("B", 1), Case("A", 2)))
    assert problems(Interface(1, enums=(twice,))) == [
        "enum `E` has 2 cases named `A`",
        "enum `E` has 2 cases with the discriminant 1",
    ]
    assert interface_problems(Interface(1, enums=(EnumDef("None_", ()),))) == [
        "enum `None_` has no cases"
    ]


def test_fields_and_members_named_twice_are_refused() -> None:
    record = RecordDef("P", (Field("x", F64), Field("x", U32)))
    cls = ClassDef(
        "C",
        methods=(
            method("C", "get", Receiver.REF, {}, U32),
            method("C", "get", Receiver.MUT, {}, U32),
        ),
    )
    assert problems(Interface(1, records=(record,), classes=(cls,))) == [
        "record `P` has 2 fields named `x`",
        "class `C` has 2 members named `get`",
    ]


def test_a_type_name_defined_twice_or_also_a_function_is_refused() -> None:
    iface = Interface(
        1,
        (func("Point", {}),),
        records=(POINT,),
        enums=(EnumDef("Point", (Case("A", 0),)),),
        classes=(ClassDef("Point"),),
    )
    assert problems(iface) == [
        "type `Point` is defined 3 times (record, enum, class)",
        "export `Point` has the name of the record `Point`; hosts show both under one name",
    ]


@pytest.mark.parametrize(
    ("iface", "message"),
    [
        (
            Interface(1, (func("f", {"p": named("Nope")}),)),
            "export `f`, parameter `p`: no record, enum or class named `Nope` is defined",
        ),
        (
            Interface(1, (func("f", {"p": borrow("Nope")}),)),
            "export `f`, parameter `p`: no record, enum or class named `Nope` is defined",
        ),
        (
            Interface(1, (func("f", {}, option(vec(named("Nope")))),)),
            "export `f`, result: no record, enum or class named `Nope` is defined",
        ),
        (
            Interface(1, records=(RecordDef("R", (Field("f", tuple_of(named("Nope"))),)),)),
            "record `R`, field `f`: no record, enum or class named `Nope` is defined",
        ),
    ],
    ids=["param", "borrow", "nested-result", "field"],
)
def test_a_name_nobody_defined_is_refused(iface: Interface, message: str) -> None:
    assert problems(iface) == [message]


def test_an_error_type_nobody_defined_is_a_display_error() -> None:
    parse = func("parse", {"s": STR}, Type(Kind.RESULT_VALUE, U32, name="ParseIntError"))
    assert problems(Interface(1, (parse,))) == []


TAIL = "WIT has no recursive types; use a class for recursive data"


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ((RecordDef("Node", (Field("next", named("Node")),)),), "Node -> Node"),
        ((RecordDef("Tree", (Field("kids", vec(named("Tree"))),)),), "Tree -> Tree"),
        (
            (
                RecordDef("A", (Field("b", option(named("B"))),)),
                RecordDef(
                    "B",
                    (Field("x", U32), Field("a", tuple_of(U32, named("A")))),
                ),
            ),
            "A -> B -> A",
        ),
    ],
    ids=["direct", "list", "option-tuple-record"],
)
def test_a_record_that_contains_itself_is_refused(
    records: tuple[RecordDef, ...], message: str
) -> None:
    assert problems(Interface(1, records=records)) == [
        f"record `{records[0].name}` contains itself ({message}); {TAIL}"
    ]


def test_a_long_chain_of_records_is_walked_without_recursion() -> None:
    count = sys.getrecursionlimit() * 5
    chain = tuple(
        RecordDef(f"R{i}", (Field("next", named(f"R{(i + 1) % count}")),)) for i in range(count)
    )
    assert problems(Interface(1, records=chain)) == [
        f"record `R0` contains itself (R0 -> R1 -> R2 -> R3 -> ... -> R{count - 1} -> R0: "
        f"{count:,} records); {TAIL}"
    ]
    open_chain = (*chain[:-1], RecordDef(f"R{count - 1}", (Field("x", U32),)))
    assert problems(Interface(1, (func("f", {"r": named("R0")}),), records=open_chain)) == [
        "record `R0` nests deeper than 32 levels (counting through records) "
        f"(and {count - 33:,} more records)",
        "export `f`, `R0` nests deeper than 32 levels (counting through records)",
    ]


def test_a_cycle_is_named_by_a_record_on_it() -> None:
    records = (
        RecordDef("Root", (Field("a", named("A")),)),
        RecordDef("A", (Field("b", named("B")),)),
        RecordDef("B", (Field("a", vec(named("A"))),)),
    )
    assert problems(Interface(1, records=records)) == [
        f"record `A` contains itself (A -> B -> A); {TAIL}"
    ]


def test_a_type_32_levels_deep_is_accepted() -> None:
    # R0 -> R1 -> ... -> R30 -> u32: 32 levels
    chain = [RecordDef("R30", (Field("x", U32),))]
    chain += [RecordDef(f"R{i}", (Field("next", named(f"R{i + 1}")),)) for i in range(29, -1, -1)]
    assert problems(Interface(1, (func("f", {"r": named("R0")}),), records=tuple(chain))) == []
    deeper = Interface(1, (func("f", {"r": option(named("R0"))}),), records=tuple(chain))
    assert problems(deeper) == [
        "export `f`, `Option<R0>` nests deeper than 32 levels (counting through records)"
    ]


CLASS_ONLY = "a class crosses only as a whole parameter or result"


@pytest.mark.parametrize(
    ("iface", "message"),
    [
        (
            Interface(1, records=(RecordDef("R", (Field("c", named("Counter")),)),)),
            f"record `R`, field `c`: the class `Counter` cannot be a record field; {CLASS_ONLY}",
        ),
        (
            Interface(1, (func("f", {"c": tuple_of(U32, named("Counter"))}),)),
            "export `f`, parameter `c`: the class `Counter` cannot be inside "
            f"`(u32, Counter)`; {CLASS_ONLY}",
        ),
        (
            Interface(1, (func("f", {}, vec(named("Counter"))),)),
            "export `f`, result: the class `Counter` cannot be inside `Vec<Counter>`; "
            f"{CLASS_ONLY}",
        ),
        (
            Interface(1, (func("f", {"c": option(named("Counter"))}),)),
            "export `f`, parameter `c`: the class `Counter` cannot be inside "
            f"`Option<Counter>`; {CLASS_ONLY}",
        ),
    ],
    ids=["record", "tuple", "list", "option"],
)
def test_a_class_inside_a_record_tuple_list_or_option_is_refused(
    iface: Interface, message: str
) -> None:
    iface = Interface(1, iface.exports, records=iface.records, classes=(COUNTER,))
    assert problems(iface) == [message]


def test_a_class_may_be_a_whole_parameter_or_result_or_the_ok_of_a_result() -> None:
    fallible = func("open", {"c": borrow("Counter")}, Type(Kind.RESULT, named("Counter")))
    valued = func(
        "take", {"c": named("Counter")}, Type(Kind.RESULT_VALUE, named("Counter"), name="Shape")
    )
    assert problems(Interface(1, (fallible, valued), enums=(SHAPE,), classes=(COUNTER,))) == []


def test_borrows_valued_results_and_mut_slices_in_a_record_are_refused() -> None:
    record = RecordDef(
        "R",
        (
            Field("p", borrow("Point")),
            Field("r", Type(Kind.RESULT_VALUE, U32, name="Point")),
            Field("m", option(Type(Kind.MUT_SLICE, U32))),
            Field("u", Type(Kind.UNIT)),
        ),
    )
    assert problems(Interface(1, records=(POINT, record))) == [
        "record `R`, field `p`: the borrowed `&Point` can only be a whole parameter",
        "record `R`, field `r`: `Result<u32, Point>` can only be a whole export result",
        "record `R`, field `m`: `&mut [u32]` can only be a parameter, not part of a record",
        "record `R`, field `u`: `()` cannot be a record field",
    ]


def test_a_valued_result_whose_error_is_a_class_is_refused() -> None:
    f = func("f", {}, Type(Kind.RESULT_VALUE, U32, name="Counter"))
    assert problems(Interface(1, (f,), classes=(COUNTER,))) == [
        "export `f`, result: the error type of `Result<u32, Counter>` is the class `Counter`; "
        "errors cross by value, so use a record or enum"
    ]


def test_an_import_takes_and_returns_only_the_types_of_abi_md_and_char() -> None:
    imports = tuple(
        Function(name, tuple(Param(p, t) for p, t in params.items()), result, module="env")
        for name, params, result in (
            ("take", {"c": borrow("Counter")}, Type(Kind.UNIT)),
            ("give", {}, named("Counter")),
            ("point", {"p": named("Point")}, Type(Kind.UNIT)),
            ("pair", {}, option(tuple_of(U32, U32))),
            ("words", {"w": vec(Type(Kind.STRING))}, Type(Kind.UNIT)),
            ("fine", {"c": Type(Kind.CHAR), "v": vec(F64)}, Type(Kind.CHAR)),
        )
    )
    why = "imports use the types of abi.md and char (no records, enums, classes, tuples or lists)"
    assert problems(Interface(1, (), imports, records=(POINT,), classes=(COUNTER,))) == [
        f"import `env.take`, parameter `c`: an imported function cannot take or return "
        f"`&Counter`: {why}",
        f"import `env.give`, result: an imported function cannot take or return `Counter`: {why}",
        f"import `env.point`, parameter `p`: an imported function cannot take or return "
        f"`Point`: {why}",
        f"import `env.pair`, result: an imported function cannot take or return `(u32, u32)`: "
        f"{why}",
        f"import `env.words`, parameter `w`: an imported function cannot take or return "
        f"`Vec<String>`: {why}",
    ]


def test_the_method_rules_name_the_method() -> None:
    from wasmbridge.interface import Method

    wrong_name = Method("get", Receiver.REF, func("C_get", {}, U32))
    cls = ClassDef(
        "C",
        methods=(method("C", "new", Receiver.CONSTRUCTOR, {}, U32), wrong_name),
    )
    assert problems(Interface(1, classes=(cls,))) == [
        "method `C.new` is a constructor but returns `u32`, not `C`",
        "method `C.get` is exported as `C_get`, not `C.get`",
    ]
