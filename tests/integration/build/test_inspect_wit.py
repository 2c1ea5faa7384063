"""`wasmbridge inspect --wit`: a module's interface as WIT that `wasm-tools` reads."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from build_helpers import CliResult, Func, wasm_module
from wasmbridge.interface import Field, Function, Interface, Kind, Param, RecordDef, Type
from wasmbridge.interface.section import encode
from wit_tools import wit_problem

Cli = Callable[..., CliResult]
U32 = Type(Kind.U32)


def _module(tmp_path: Path, name: str, interface: Interface | None) -> Path:
    custom = None if interface is None else {"wasmbridge": encode(interface)}
    path = tmp_path / name
    path.write_bytes(wasm_module([Func("f", ("i32",), ("i32",))], custom=custom))
    return path


def test_a_hand_built_module_prints_wit_that_wasm_tools_reads(cli: Cli, tmp_path: Path) -> None:
    point = RecordDef("Point", (Field("x", U32), Field("y", U32)))
    interface = Interface(
        1,
        (Function("scale_point", (Param("p", Type(Kind.NAMED, name="Point")),), U32),),
        records=(point,),
    )
    result = cli("inspect", "--wit", str(_module(tmp_path, "my_shapes.wasm", interface)))
    assert (result.code, result.err) == (0, "")
    assert result.out == (
        "package wasmbridge:my-shapes;\n\n"
        "interface types {\n  record point {\n    x: u32,\n    y: u32,\n  }\n}\n\n"
        "world my-shapes {\n  export types;\n  use types.{point};\n"
        "  export scale-point: func(p: point) -> u32;\n}\n"
    )
    assert wit_problem(result.out, tmp_path) is None


def test_a_module_without_an_interface_has_no_wit(cli: Cli, tmp_path: Path) -> None:
    path = _module(tmp_path, "plain.wasm", None)
    assert cli("inspect", "--wit", str(path)) == CliResult(
        1,
        "",
        f"error: {path} has no wasmbridge interface section, so there is no WIT to show\n"
        "  hint:  build the module with `wasmbridge build` (its #[wasmbridge::export] items "
        "make the interface)\n",
    )


def test_a_name_wit_cannot_spell_is_left_out_with_a_comment(cli: Cli, tmp_path: Path) -> None:
    path = _module(tmp_path, "odd.wasm", Interface(1, (Function("größe", ()),)))
    result = cli("inspect", "--wit", str(path))
    assert (result.code, result.err) == (0, "")
    assert "  // export 'größe' is left out: WIT cannot spell its name\n" in result.out
    assert wit_problem(result.out, tmp_path) is None


def test_an_interface_without_a_wit_form_is_an_error_naming_the_problem(
    cli: Cli, tmp_path: Path
) -> None:
    node = RecordDef("Node", (Field("next", Type(Kind.NAMED, name="Node")),))
    path = _module(tmp_path, "rec.wasm", Interface(1, records=(node,)))
    result = cli("inspect", "--wit", str(path))
    assert result.code == 1
    assert result.err_lines == [
        f"error: {path}: the interface has no WIT form: record `Node` contains itself "
        "(Node -> Node); WIT has no recursive types; use a class for recursive data",
        "hint:  the SDK never writes such an interface: rebuild the module with `wasmbridge build`",
    ]


def test_wit_and_json_are_one_or_the_other(cli: Cli, tmp_path: Path) -> None:
    result = cli("inspect", "--wit", "--json", str(tmp_path / "x.wasm"))
    assert result.code == 2
    assert result.err.endswith(
        "wasmbridge inspect: error: argument --json: not allowed with argument --wit\n"
    )


@pytest.fixture(scope="session")
def geo_wasm(build_fixture: Callable[..., Path]) -> Path:
    return build_fixture("geo")


def test_the_geo_fixture_is_a_wit_world_wasm_tools_reads(
    cli: Cli, geo_wasm: Path, tmp_path: Path
) -> None:
    result = cli("inspect", "--wit", str(geo_wasm))
    assert result.code == 0, result.err
    assert wit_problem(result.out, tmp_path) is None, result.out
    lines = [line.strip() for line in result.out.splitlines()]
    for expected in (
        "package wasmbridge:geo;",
        "record point {",
        "enum shape {",
        "resource counter {",
        "constructor(label: string, start: u32);",
        "incr: func(by: u32) -> u32;",
        "export mid: func(a: point, b: point) -> point;",
        "export centroid: func(points: list<point>) -> option<point>;",
        "export words: func(s: string) -> list<string>;",
        "export join: func(parts: list<string>, sep: char) -> string;",
        "export minmax: func(v: list<f64>) -> tuple<f64, f64>;",
        "export area: func(s: shape, size: f64) -> f64;",
        "export count-to: func(n: u32) -> u32;",
    ):
        assert expected in lines, expected


def test_inspect_lists_the_geo_records_enums_and_classes(cli: Cli, geo_wasm: Path) -> None:
    text = cli("inspect", str(geo_wasm))
    assert text.code == 0, text.err
    lines = text.out.splitlines()
    start = lines.index("interface types:")
    types = lines[start:]
    for expected in (
        "  record Point",
        "    x: f64",
        "  enum Shape",
        "    Square = 1",
        "  class Counter",
        "    new(label: &str, start: u32) -> Counter  (constructor)",
        "    incr(&mut self, by: u32) -> u32",
        "    label(&self) -> String",
    ):
        assert expected in types, expected
    data = json.loads(cli("inspect", "--json", str(geo_wasm)).out)["interface"]
    assert {"name": "x", "type": "f64"} in data["records"][0]["fields"]
    (counter,) = [c for c in data["classes"] if c["name"] == "Counter"]
    assert counter["destructor"] == {
        "name": "Counter#drop",
        "wasm_type": {"params": ["i32"], "results": []},
    }
    incr = next(m for m in counter["methods"] if m["member"] == "incr")
    assert (incr["receiver"], incr["name"]) == ("mut", "Counter.incr")
    assert incr["wasm_type"] == {"params": ["i32", "i32"], "results": ["i32"]}
