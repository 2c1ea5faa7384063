"""How callbacks are shown: left out of the WIT world with a comment, spelled by inspect."""

from __future__ import annotations

from pathlib import Path

from compound_model import POINT, STR, U32, UNIT, func, method, named

from build_helpers import Func, wasm_module
from wasmbridge.build.report import describe_module, module_json, render_module
from wasmbridge.build.report_types import render_types
from wasmbridge.interface import ClassDef, Interface, Kind, Receiver, Type
from wasmbridge.interface.section import encode
from wasmbridge.interface.wit import to_wit
from wit_tools import wit_problem


def callback(*args: Type, result: Type = UNIT) -> Type:
    return Type(Kind.CALLBACK, result, args)


WALKER = ClassDef(
    "Walker",
    "Walks a path.",
    (
        method("Walker", "new", Receiver.CONSTRUCTOR, {"f": callback(U32)}, named("Walker")),
        method("Walker", "each", Receiver.REF, {"f\u202e": callback(named("Point"))}, UNIT),
        method("Walker", "len", Receiver.REF, {}, U32),
    ),
)
WALKERS = Interface(
    1,
    (
        func("apply", {"p": named("Point"), "f": callback(STR, result=U32)}, U32),
        func("mid", {"a": named("Point")}, named("Point")),
    ),
    records=(POINT,),
    classes=(WALKER,),
)
WALKERS_WIT = """\
package wasmbridge:walkers;

interface types {
  /// A point in the plane.
  record point {
    x: f64,
    y: f64,
  }

  /// Walks a path.
  resource walker {
    // method 'Walker.new' is left out: its parameter 'f' is a callback, and WIT has no function values
    // method 'Walker.each' is left out: its parameter 'f\\\\u202e' is a callback, and WIT has no function values
    len: func() -> u32;
  }
}

world walkers {
  export types;
  use types.{point, walker};
  // export 'apply' is left out: its parameter 'f' is a callback, and WIT has no function values
  export mid: func(a: point) -> point;
}
"""


def test_functions_taking_callbacks_are_left_out_of_the_wit_world(tmp_path: Path) -> None:
    text = to_wit(WALKERS, "walkers")
    assert text == WALKERS_WIT
    assert wit_problem(text, tmp_path) is None


def test_a_resource_whose_every_method_takes_a_callback_is_still_wit(tmp_path: Path) -> None:
    only = ClassDef("Only", "", (method("Only", "run", Receiver.STATIC, {"f": callback()}, UNIT),))
    text = to_wit(Interface(1, (func("go", {"f": callback()}),), classes=(only,)), "only")
    assert "  resource only {\n    // method 'Only.run' is left out:" in text
    assert "  // export 'go' is left out: its parameter 'f' is a callback" in text
    assert wit_problem(text, tmp_path) is None


def test_inspect_spells_callbacks_in_rust_with_their_one_i32() -> None:
    data = wasm_module(
        [Func("apply", ("i32", "i32"), ("i32",)), Func("mid", ("i32", "i32"), ())],
        imports=[("wasmbridge", "callback", ("i32", "i32", "i32", "i32"), ())],
        custom={"wasmbridge": encode(Interface(1, WALKERS.exports, records=(POINT,)))},
    )
    report = describe_module(data, "walkers.wasm")
    text = "\n".join(render_module(report))
    assert "interface exports:\n  apply(p: Point, f: impl Fn(&str) -> u32) -> u32\n" in text
    assert "wasmbridge.callback  func    (i32, i32, i32, i32) -> ()" in text
    apply = module_json(report)["interface"]["exports"][0]
    assert apply["params"][1] == {"name": "f", "type": "impl Fn(&str) -> u32"}
    assert apply["wasm_type"] == {"params": ["i32", "i32"], "results": ["i32"]}
    assert render_types(WALKERS)[-3:] == [
        "    new(f: impl Fn(u32)) -> Walker  (constructor)",
        "    each(&self, f\u202e: impl Fn(Point))",
        "    len(&self) -> u32",
    ]
