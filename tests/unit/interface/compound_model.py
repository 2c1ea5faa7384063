"""The geo interface of GitHub issue 12, built with the type model (shared by tests)."""

from __future__ import annotations

from wasmbridge.interface import (
    Case,
    ClassDef,
    EnumDef,
    Field,
    Function,
    Interface,
    Kind,
    Method,
    Param,
    Receiver,
    RecordDef,
    Type,
)

U32, F64, STR, STRING = Type(Kind.U32), Type(Kind.F64), Type(Kind.STR), Type(Kind.STRING)
CHAR, UNIT = Type(Kind.CHAR), Type(Kind.UNIT)


def named(name: str) -> Type:
    return Type(Kind.NAMED, name=name)


def borrow(name: str) -> Type:
    return Type(Kind.BORROW, name=name)


def vec(t: Type) -> Type:
    return Type(Kind.VEC, t)


def option(t: Type) -> Type:
    return Type(Kind.OPTION, t)


def tuple_of(*items: Type) -> Type:
    return Type(Kind.TUPLE, items=items)


def func(name: str, params: dict[str, Type], result: Type = UNIT) -> Function:
    return Function(name, tuple(Param(n, t) for n, t in params.items()), result)


def method(
    cls: str, member: str, receiver: Receiver, params: dict[str, Type], result: Type
) -> Method:
    return Method(member, receiver, func(f"{cls}.{member}", params, result))


POINT = RecordDef("Point", (Field("x", F64), Field("y", F64)), doc="A point in the plane.")
SHAPE = EnumDef("Shape", (Case("Circle", 0), Case("Square", 1), Case("Triangle", 7)))
COUNTER = ClassDef(
    "Counter",
    "Counts up.",
    (
        method(
            "Counter", "new", Receiver.CONSTRUCTOR, {"label": STR, "start": U32}, named("Counter")
        ),
        method("Counter", "incr", Receiver.MUT, {"by": U32}, U32),
        method("Counter", "label", Receiver.REF, {}, STRING),
        method("Counter", "check", Receiver.REF, {}, Type(Kind.RESULT, U32)),
        method("Counter", "named", Receiver.STATIC, {"name": STR}, named("Counter")),
        method("Counter", "merge", Receiver.OWNED, {"other": borrow("Counter")}, named("Counter")),
    ),
)
GEO = Interface(
    1,
    (
        func("mid", {"a": named("Point"), "b": named("Point")}, named("Point")),
        func("centroid", {"points": vec(named("Point"))}, option(named("Point"))),
        func("words", {"s": STR}, vec(STRING)),
        func("join", {"parts": vec(STRING), "sep": CHAR}, STRING),
        func("minmax", {"v": Type(Kind.SLICE, F64)}, tuple_of(F64, F64)),
        func("area", {"s": named("Shape"), "size": F64}, F64),
        func("count_to", {"n": U32}, U32),
        func("parse_point", {"s": STR}, Type(Kind.RESULT_VALUE, named("Point"), name="Shape")),
    ),
    records=(POINT,),
    enums=(SHAPE,),
    classes=(COUNTER,),
)
