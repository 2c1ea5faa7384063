"""Size report and module description (build/report.py)."""

from __future__ import annotations

import pytest

from build_helpers import Func, wasm_module
from wasmbridge.build.report import (
    demangle,
    describe_module,
    module_json,
    render_module,
    render_sizes,
    size_report,
)
from wasmbridge.errors import InterfaceError, InvalidModule
from wasmbridge.interface import Function, Interface, Param, Type
from wasmbridge.interface.section import encode
from wasmbridge.interface.types import Kind

I32 = Type(Kind.I32)
ADD = Function("add", (Param("a", I32), Param("b", I32)), I32, doc="Adds two numbers.")
ALERT = Function("alert", (Param("msg", Type(Kind.STR)),), module="env", doc="Shows it.")


def _module(**kwargs: object) -> bytes:
    funcs = [Func("add", ("i32", "i32"), ("i32",)), Func("helper", padding=20, export=False)]
    return wasm_module(funcs, **kwargs)  # type: ignore[arg-type]


def test_section_sizes_add_up_to_the_file_size() -> None:
    data = _module()
    report = size_report(data)
    assert 8 + sum(s.size for s in report.sections) == report.total == len(data)
    assert [s.name for s in report.sections] == [
        "type",
        "function",
        "memory",
        "global",
        "export",
        "code",
    ]


def test_functions_are_listed_largest_first_with_export_names() -> None:
    report = size_report(_module())
    assert [(f.name, f.size) for f in report.functions] == [("func[1]", 23), ("add", 5)]


def test_function_names_come_from_the_name_section() -> None:
    report = size_report(_module(names=True))
    assert [f.name for f in report.functions] == ["helper", "add"]


@pytest.mark.parametrize(
    ("symbol", "name"),
    [
        ("_ZN4core9panicking5panic17h118149a781a98a78E", "core::panicking::panic"),
        (
            "_ZN36_$LT$T$u20$as$u20$core..any..Any$GT$7type_id17h1eb33050df948c2cE",
            "<T as core::any::Any>::type_id",
        ),
        (
            "_ZN4core3ptr28drop_in_place$LT$$RF$u64$GT$17h1d02b19a6a06a02bE.llvm.511546355",
            "core::ptr::drop_in_place<&u64>",
        ),
        ("add", "add"),
        ("_ZN3bad", "_ZN3bad"),
    ],
    ids=["path", "trait-impl", "llvm-suffix", "plain", "not-mangled"],
)
def test_demangle_rust_legacy_symbols(symbol: str, name: str) -> None:
    assert demangle(symbol) == name


def test_render_sizes_shows_sections_total_and_top_functions() -> None:
    data = _module()
    lines = render_sizes(size_report(data), top=1)
    assert lines[0] == "size by section:"
    assert lines[1].split() == ["header", "8", "B", f"{800 / len(data):.1f}%"]
    assert f"total {len(data)} B" in " ".join(" ".join(line.split()) for line in lines)
    assert lines[-2] == "size by function (largest first, 1 of 2):"
    assert lines[-1].split()[-1] == "func[1]"


def test_inspect_text_shows_interface_and_wasm_types() -> None:
    section = encode(Interface(1, exports=(ADD,), imports=(ALERT,)))
    data = wasm_module(
        [Func("add", ("i32", "i32"), ("i32",))],
        imports=[("env", "alert", ("i32", "i32"), ())],
        custom={"wasmbridge": section},
    )
    lines = render_module(describe_module(data, "x.wasm"))
    assert lines[0] == f"x.wasm: {len(data)} B, interface v1"
    text = "\n".join(lines)
    assert "interface exports:\n  add(a: i32, b: i32) -> i32\n      Adds two numbers.\n" in text
    assert "interface imports:\n  env.alert(msg: &str)\n      Shows it.\n" in text
    assert "  add          func    (i32, i32) -> (i32)" in text
    assert "  memory       memory  1 pages" in text
    assert "wasm imports:\n  env.alert  func    (i32, i32) -> ()" in text


def test_inspect_json_carries_signatures_and_sizes() -> None:
    section = encode(Interface(1, exports=(ADD,)))
    data = wasm_module([Func("add", ("i32", "i32"), ("i32",))], custom={"wasmbridge": section})
    doc = module_json(describe_module(data, "x.wasm"))
    assert doc["interface"]["exports"] == [
        {
            "name": "add",
            "signature": "add(a: i32, b: i32) -> i32",
            "params": [{"name": "a", "type": "i32"}, {"name": "b", "type": "i32"}],
            "result": "i32",
            "doc": "Adds two numbers.",
            "wasm_type": {"params": ["i32", "i32"], "results": ["i32"]},
        }
    ]
    assert doc["size"] == len(data)
    assert {"name": "wasmbridge", "custom": True, "size": len(section) + 13} in doc["sizes"][
        "sections"
    ]


def test_module_without_interface_says_so() -> None:
    lines = render_module(describe_module(_module(), "plain.wasm"))
    assert lines[0].endswith(", no interface")
    assert lines[2] == (
        "no wasmbridge interface section: numeric exports are callable with their wasm types"
    )


def test_an_elf_file_is_not_webassembly() -> None:
    with pytest.raises(
        InvalidModule,
        match=r"(?m)^x\.wasm is not WebAssembly \(starts 7f 45 4c 46: an ELF file\?\)$",
    ):
        describe_module(b"\x7fELF\x02\x01\x01\x00", "x.wasm")


def test_a_newer_interface_version_is_refused_first() -> None:
    data = _module(custom={"wasmbridge": b"\x02\x01\x00"})
    with pytest.raises(
        InterfaceError, match=r"(?m)^x\.wasm has interface v2, this wasmbridge reads v1$"
    ):
        describe_module(data, "x.wasm")
