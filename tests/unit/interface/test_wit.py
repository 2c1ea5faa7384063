"""The interface as a WIT world, checked by the real `wasm-tools component wit`."""

from __future__ import annotations

from pathlib import Path

import pytest
from compound_model import (
    CHAR,
    COUNTER,
    F64,
    GEO,
    POINT,
    SHAPE,
    STR,
    STRING,
    U32,
    UNIT,
    borrow,
    func,
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
    RecordDef,
    Type,
)
from wasmbridge.interface.wit import WitError, to_wit, wit_name
from wit_tools import wit_problem

GEO_WIT = """\
package wasmbridge:geo;

interface types {
  /// A point in the plane.
  record point {
    x: f64,
    y: f64,
  }

  enum shape {
    circle, // = 0
    square, // = 1
    triangle, // = 7
  }

  /// Counts up.
  resource counter {
    constructor(label: string, start: u32);
    incr: func(by: u32) -> u32;
    label: func() -> string;
    check: func() -> result<u32, string>;
    named: static func(name: string) -> counter;
    /// Consumes the Counter (`self`): it cannot be used after.
    merge: static func(self: counter, other: borrow<counter>) -> counter;
  }
}

world geo {
  export types;
  use types.{point, shape, counter};
  export mid: func(a: point, b: point) -> point;
  export centroid: func(points: list<point>) -> option<point>;
  export words: func(s: string) -> list<string>;
  export join: func(parts: list<string>, sep: char) -> string;
  export minmax: func(v: list<f64>) -> tuple<f64, f64>;
  export area: func(s: shape, size: f64) -> f64;
  export count-to: func(n: u32) -> u32;
  export parse-point: func(s: string) -> result<point, shape>;
}
"""


def test_the_geo_interface_is_a_world_wasm_tools_reads(tmp_path: Path) -> None:
    text = to_wit(GEO, "geo")
    assert text == GEO_WIT
    assert wit_problem(text, tmp_path) is None


NUMBERS = [
    Type(k) for k in (Kind.I8, Kind.U8, Kind.I16, Kind.U16, Kind.I32, Kind.U32, Kind.I64, Kind.U64)
] + [Type(Kind.F32), F64]


def _every_type() -> Interface:
    """Each interface type in each place it may be, with names WIT has to work at."""
    params = {f"n{i}": t for i, t in enumerate(NUMBERS)}
    params |= {
        "flag": Type(Kind.BOOL),
        "c": CHAR,
        "text": STR,
        "owned": STRING,
        "bytes": Type(Kind.SLICE, Type(Kind.U8)),
        "floats": vec(F64),
        "out": Type(Kind.MUT_SLICE, Type(Kind.I16)),
        "maybe": option(Type(Kind.MUT_SLICE, Type(Kind.U8))),
        "texts": Type(Kind.SLICE, STR),
        "chars": vec(CHAR),
        "pairs": vec(tuple_of(U32, STRING)),
        "nested": vec(vec(option(named("Shape")))),
        "type": named("Point"),  # a WIT keyword
        "by_ref": borrow("Point"),
        "counter": borrow("Counter"),
        "é": U32,  # WIT cannot spell it: an invented name
        "twelve": tuple_of(*([Type(Kind.U8)] * 12)),
    }
    results = [
        UNIT,
        Type(Kind.BOOL),
        CHAR,
        option(CHAR),
        Type(Kind.RESULT, UNIT),
        Type(Kind.RESULT, vec(Type(Kind.U8))),
        Type(Kind.RESULT_VALUE, option(named("Point")), name="Shape"),
        Type(Kind.RESULT_VALUE, named("Counter"), name="ParseIntError"),
        Type(Kind.RESULT_VALUE, UNIT, name="Wrapper"),
        named("Counter"),
        tuple_of(named("Point"), named("Shape"), named("Wrapper")),
    ]
    exports = [func("every_param", params)]
    exports += [func(f"result_{i}", {}, t) for i, t in enumerate(results)]
    exports += [func("point", {"p": named("Point")}, named("Point"))]  # a type's kebab name
    wrapper = RecordDef(
        "Wrapper",
        (
            Field("points", vec(named("Point"))),
            Field("shape", option(named("Shape"))),
            Field("r#type", tuple_of(CHAR, STRING)),  # `r#type` has no WIT name: invented
            Field("list", Type(Kind.SLICE, F64)),
        ),
        doc="Wraps.\nSecond line with a bidi override \u202e and a tab\t.",
    )
    keywords = EnumDef("Keywords", (Case("Enum", 0), Case("Record", 1), Case("u8", 2)))
    imports = [
        Function("log", (Param("msg", STR), Param("at", CHAR)), module="env"),
        Function("now", (), Type(Kind.U64), module="env"),
        Function(
            "fetch", (Param("url", STRING),), option(vec(Type(Kind.U8))), module="http_client"
        ),
    ]
    return Interface(
        1,
        tuple(exports),
        tuple(imports),
        records=(POINT, wrapper),
        enums=(SHAPE, keywords, EnumDef("Empty_", (Case("Only", 0),))),
        classes=(COUNTER, ClassDef("Handle")),
    )


def test_every_type_makes_valid_wit(tmp_path: Path) -> None:
    text = to_wit(_every_type(), "every_type")
    assert wit_problem(text, tmp_path) is None, text
    lines = [line.strip() for line in text.splitlines()]
    assert "package wasmbridge:every-type;" in lines
    assert "world every-type {" in lines
    assert (
        "use types.{point as point-type, wrapper, shape, keywords, empty, counter, handle};"
        in lines
    )
    assert "export point: func(p: point-type) -> point-type;" in lines
    assert (
        "field2: tuple<char, string>, // named 'r#type' in the module, which has no WIT name here"
        in lines
    )
    assert "%list: list<f64>," in lines
    assert "%enum," in lines and "%u8," in lines
    assert "resource handle;" in lines
    assert "/// Second line with a bidi override \\u{202e} and a tab\\u{9}." in lines
    assert "import env: interface {" in lines and "import http-client: interface {" in lines
    assert "log: func(msg: string, at: char);" in lines
    assert "fetch: func(url: string) -> option<list<u8>>;" in lines
    assert "export result6: func() -> result<option<point-type>, shape>;" in lines
    assert "export result7: func() -> result<counter, string>;" in lines
    assert "export result8: func() -> result<_, wrapper>;" in lines
    assert "export result4: func() -> result<_, string>;" in lines
    (every,) = [line for line in lines if line.startswith("export every-param:")]
    assert "%type: point-type, by-ref: point-type, counter: borrow<counter>, p25: u32" in every
    assert "// parameter p25: named 'é' in the module, which has no WIT name here" in lines
    assert "n0: s8, n1: u8, n2: s16, n3: u16, n4: s32, n5: u32, n6: s64, n7: u64, n8: f32" in every


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("count_to", "count-to"),
        ("HTTPServer", "http-server"),
        ("Point3D", "point3-d"),
        ("x_1", "x1"),
        ("__private", "private"),
        ("type", "%type"),
        ("Type", "%type"),
        ("list_", "%list"),
        ("é", None),
        ("3d", None),
        ("_", None),
        ("", None),
        ("a.b", None),
    ],
    ids=str,
)
def test_names_become_kebab_case_or_nothing(name: str, expected: str | None) -> None:
    assert wit_name(name) == expected


def test_a_recursive_record_has_no_wit_form() -> None:
    node = RecordDef("Node", (Field("next", option(named("Node"))),))
    with pytest.raises(WitError) as caught:
        to_wit(Interface(1, records=(node,)), "w")
    assert str(caught.value) == (
        "the interface has no WIT form: record `Node` contains itself (Node -> Node); "
        "WIT has no recursive types; use a class for recursive data"
    )


def test_names_wit_cannot_spell_or_that_clash_are_left_out_or_invented(tmp_path: Path) -> None:
    exports = (
        func("größe", {}),
        func("count_to", {}),
        func("countTo", {}),
        func("memoryview", {}),
        func("memory_view", {}),
        func("map", {"from": U32}),
        func("uses", {"u": named("Ünit"), "k": named("Keys")}),
    )
    keys = EnumDef("Keys", (Case("a_b", 0), Case("ab", 1), Case("π", 2)))
    unit = RecordDef("Ünit", (Field("x", U32),))
    imports = (
        Function("log", (), module="wörld"),
        Function("tell", (), module="env"),
        Function("Tell", (), module="env"),
    )
    text = to_wit(Interface(1, exports, imports, records=(unit,), enums=(keys,)), "w")
    assert wit_problem(text, tmp_path) is None, text
    lines = [line.strip() for line in text.splitlines()]
    for expected in (
        "// named 'Ünit' in the module, which has no WIT name here",
        "record type0 {",
        "a-b,",
        "case1, // named 'ab' in the module, which has no WIT name here",
        "case2, // named 'π' in the module, which has no WIT name here",
        "// the imports of namespace 'wörld' are left out: WIT cannot spell its name",
        "// import 'Tell' is left out: its WIT name `tell` clashes with that of 'tell'",
        "// export 'größe' is left out: WIT cannot spell its name",
        "// export 'countTo' is left out: its WIT name `count-to` clashes with that of 'count_to'",
        "// export 'memory_view' is left out: its WIT name `memory-view` clashes with that of "
        "'memoryview'",
        "export %map: func(%from: u32);",
        "export uses: func(u: type0, k: keys);",
    ):
        assert expected in lines, expected


def test_a_world_name_wit_cannot_spell_is_refused() -> None:
    with pytest.raises(WitError, match=r"^the world name `9lives` cannot be spelled in WIT"):
        to_wit(Interface(1), "9lives")


def test_an_interface_without_types_is_a_world_of_functions(tmp_path: Path) -> None:
    text = to_wit(Interface(1, (func("add", {"a": U32, "b": U32}, U32),)), "add")
    assert text == (
        "package wasmbridge:add;\n\nworld add {\n  export add: func(a: u32, b: u32) -> u32;\n}\n"
    )
    assert wit_problem(text, tmp_path) is None
