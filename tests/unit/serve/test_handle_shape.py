"""Which `handle` a bridge route takes: the SDK's Request and Response, field by field,
by structure (a module's own record called "String" is not a string)."""

from __future__ import annotations

from wasmbridge.interface import Field, Interface, Kind, RecordDef, Type
from wasmbridge.interface.types import Function, Param
from wasmbridge.serve.modules import _handle_problem

STRING, U8, U16 = Type(Kind.STRING), Type(Kind.U8), Type(Kind.U16)
PAIRS = Type(Kind.VEC, Type(Kind.TUPLE, items=(STRING, STRING)))
BYTES = Type(Kind.VEC, U8)


def named(name: str) -> Type:
    return Type(Kind.NAMED, name=name)


def request(method: Type = STRING) -> RecordDef:
    fields = [("method", method), ("path", STRING), ("query", STRING), ("params", PAIRS)]
    fields += [("headers", PAIRS), ("body", BYTES)]
    return RecordDef("Request", tuple(Field(n, t) for n, t in fields))


RESPONSE = RecordDef(
    "Response", (Field("status", U16), Field("headers", PAIRS), Field("body", BYTES))
)
HANDLE = Function("handle", (Param("req", named("Request")),), named("Response"))


def problem(*records: RecordDef) -> str | None:
    return _handle_problem(Interface(1, records=records), HANDLE)


def test_the_sdk_records_are_taken() -> None:
    assert problem(request(), RESPONSE) is None


def test_a_record_named_like_a_builtin_type_is_refused() -> None:
    fake = RecordDef("String", (Field("a", U8),))
    found = problem(request(method=named("String")), RESPONSE, fake)
    assert found is not None and "method: String (a record of the module's)" in found
    pair = RecordDef("u8", (Field("a", U8),))
    inner = Type(Kind.VEC, named("u8"))
    wrong_body = RecordDef(
        "Response", (Field("status", U16), Field("headers", PAIRS), Field("body", inner))
    )
    assert problem(request(), wrong_body, pair) is not None
