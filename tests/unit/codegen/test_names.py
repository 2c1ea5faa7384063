"""Names from a module in the generated glue, declarations and stub (codegen/_js_names.py).

Any export or parameter name must come out as valid code that shadows
nothing the generated code itself uses; the real module with such names
runs in every host in tests/integration/build/test_export_names.py.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from build_helpers import Func, require, stub_fixture_interface, wasm_module
from wasmbridge.codegen._js_helpers import BODY_NAMES, GLUE_NAMES, export_locals
from wasmbridge.codegen._js_names import RESERVED, identifiers
from wasmbridge.codegen.dts import emit_dts
from wasmbridge.codegen.js import ModuleFormat, emit_js
from wasmbridge.codegen.python import MODULE_ATTRIBUTES, attribute_name, emit_python
from wasmbridge.interface import Function, Interface, Param, Type, WasmModule, abi, parse
from wasmbridge.interface.section import encode
from wasmbridge.interface.types import Kind

TOOL = "0.0.0"
STR, STRING, I32 = Type(Kind.STR), Type(Kind.STRING), Type(Kind.I32)
PANIC = (abi.HOST_MODULE, abi.PANIC_IMPORT, ("i32",) * 6, ())
TSC = shutil.which("tsc")
KEYWORDS = RESERVED | {"as", "of"}  # contextual keywords the glue writes


def _wasm(interface: Interface) -> WasmModule:
    imports = [
        (f.module, f.name, abi.signature(f).params, abi.signature(f).results)
        for f in interface.imports
    ]
    return parse(
        wasm_module([], imports=[*imports, PANIC], custom={"wasmbridge": encode(interface)})
    )


# -- reading the glue's own names --------------------------------------------------------


def test_identifiers_skip_comments_strings_and_properties() -> None:
    js = """
    // a comment naming commented
    const first = `text ${second(third.fourth)} more ${ { fifth: 1 }.sixth }`;
    /* block naming blocked */
    let seventh = "a string naming quoted" + 'single ${notInterpolated}';
    const { eighth } = ninth?.tenth ?? [...eleventh];
    twelfth?.[thirteenth] = 0xff + 1.5e3 + 10n;
    """
    assert identifiers(js) == {
        "const", "first", "second", "third", "fifth", "let", "seventh", "eighth", "ninth",
        "eleventh", "twelfth", "thirteenth",
    }  # fmt: skip


def test_glue_names_hold_every_global_the_glue_uses() -> None:
    for name in ("Uint8Array", "TextEncoder", "TextDecoder", "Object", "URL", "WebAssembly"):
        assert name in GLUE_NAMES, name
    for name in ("init", "memoryView", "wasm", "returnArea", "MODULE", "linkImports"):
        assert name in GLUE_NAMES and name in BODY_NAMES, name
    # Parameters may use names only the helpers' own locals have.
    assert {"text", "len", "value"} <= GLUE_NAMES and not {"text", "len", "value"} & BODY_NAMES


def _marked(interface: Interface) -> Interface:
    """``interface`` with every module-chosen name replaced by ``zqN``, to tell them apart."""
    count = iter(range(10_000))

    def rename(func: Function, *, keep_name: bool = False) -> Function:
        params = tuple(Param(f"zq{next(count)}", p.type) for p in func.params)
        name = func.name if keep_name else f"zq{next(count)}"
        return dataclasses.replace(func, name=name, params=params)

    return Interface(
        interface.version,
        tuple(rename(f) for f in interface.exports),
        tuple(rename(f) for f in interface.imports),
    )


@pytest.mark.parametrize("module_format", ["esm", "cjs"])
def test_the_glue_names_nothing_outside_its_own_names(module_format: ModuleFormat) -> None:
    """So an export or parameter kept away from those names shadows nothing it uses."""
    interface = _marked(stub_fixture_interface())
    glue = emit_js(
        "fixture",
        "fixture.wasm",
        interface,
        _wasm(interface),
        tool=TOOL,
        module_format=module_format,
    )
    # Import-object keys name wasm imports: they are keys, never bindings.
    keys = {"env", "console", abi.HOST_MODULE, abi.PANIC_IMPORT}
    own = {name for name in identifiers(glue) if not name.startswith("zq")}
    assert own - GLUE_NAMES - KEYWORDS - keys == set()
    for body in re.findall(r"^function zq\d+\(.*?^\}$", glue, re.M | re.S):
        used = {name for name in identifiers(body) if not name.startswith("zq")}
        assert used - BODY_NAMES - KEYWORDS == set(), body


# -- the JS glue and its declarations ----------------------------------------------------

NAMES = (
    "Object", "Uint8Array", "TextEncoder", "GuestPanic", "ReturnedError", "init", "new",
    "__proto__", "constructor", "größe", "memoryView", "wasm", "then_", "arguments", "len",
)  # fmt: skip


def _names_interface() -> Interface:
    shadowing = (Param("Uint8Array", STR), Param("arguments", Type(Kind.OPTION, I32)))
    exports = [Function(name, (Param("tag", STR),), STRING) for name in NAMES]
    exports.append(Function("fails", shadowing, Type(Kind.RESULT, STRING)))
    return Interface(1, tuple(exports))


def test_exports_keep_their_names_under_local_names_of_their_own() -> None:
    locals_ = export_locals(list(NAMES))
    assert locals_["Object"] == "Object_" and locals_["größe"] == "größe"
    assert locals_["then_"] == "then_" and locals_["init"] == "init_"
    interface = _names_interface()
    glue = emit_js("names", "names.wasm", interface, _wasm(interface), tool=TOOL)
    tail = " ".join(glue[glue.rindex("export {") :].split())
    for specifier in (
        "Object_ as Object",
        "GuestPanic_ as GuestPanic",
        "init_ as init",
        "new_ as new",
        "größe,",
        "__proto__,",
        "init as default",
    ):
        assert specifier in tail, specifier
    assert "function fails(Uint8Array_, arguments_) {" in glue
    cjs = emit_js(
        "names", "names.wasm", interface, _wasm(interface), tool=TOOL, module_format="cjs"
    )
    # `{ __proto__: f }` would set the prototype; the shorthand makes a property.
    assert "\n  __proto__,\n" in cjs and "\n  init: init_,\n" in cjs


@pytest.mark.node
def test_node_checks_glue_full_of_such_names(node: None, tmp_path: Path) -> None:
    interface = _names_interface()
    formats: tuple[tuple[str, ModuleFormat], ...] = ((".mjs", "esm"), (".cjs", "cjs"))
    for suffix, module_format in formats:
        path = tmp_path / f"names{suffix}"
        path.write_text(
            emit_js("names", "names.wasm", interface, _wasm(interface), module_format=module_format)
        )
        proc = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


def test_declarations_yield_the_error_classes_to_exports_of_their_name() -> None:
    interface = _names_interface()
    dts = emit_dts("names", "names.wasm", interface, _wasm(interface), tool=TOOL)
    assert "class GuestPanic" not in dts and "class ReturnedError" not in dts
    assert "declare function GuestPanic_(tag: string): string;" in dts
    assert "export declare function größe(tag: string): string;" in dts


USAGE_TS = """\
import init, * as m from "./names.js";
await init();
const texts: string[] = [m.Object("t"), m.new("t"), m["__proto__"]("t"), m.größe("t")];
const failed: string = m.fails("t", null);
// @ts-expect-error: a number is not a string
m.len(5);
export {};
"""


@pytest.mark.node
def test_declarations_with_such_names_type_check_a_caller(tmp_path: Path) -> None:
    require(None if TSC else "tsc is not installed (apt-get install node-typescript)")
    interface = _names_interface()
    (tmp_path / "names.d.ts").write_text(
        emit_dts("names", "names.wasm", interface, _wasm(interface), tool=TOOL)
    )
    (tmp_path / "use.ts").write_text(USAGE_TS)
    argv = [str(TSC), "--strict", "--noEmit", "--target", "es2022", "--module", "es2022"]
    proc = subprocess.run([*argv, "use.ts"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- the Python stub ---------------------------------------------------------------------

SHADOWING = ("int", "str", "bytes", "bool", "float", "array", "Sequence", "Buffer", "Any")
UNREACHABLE = ("class", "None", "__init__", "name", "exports", "_instance", "ｆｏｏ", "a-b")


def _stub_interface() -> Interface:
    u8s, f64s = Type(Kind.SLICE, Type(Kind.U8)), Type(Kind.VEC, Type(Kind.F64))
    typed = (Param("data", u8s), Param("xs", f64s), Param("flag", Type(Kind.BOOL)))
    exports = [Function(name, typed, f64s, doc=f"`{name}`") for name in SHADOWING]
    exports += [Function(name, (Param("tag", STR),), STRING) for name in UNREACHABLE]
    odd_params = ("self", "class", "a b", "ｘ", "x", "1st", "")
    exports.append(Function("odd", tuple(Param(p, I32) for p in odd_params), I32))
    doc = 'NUL \0, CR \r, FF \x0c, quotes """, a backslash \\ and a newline\nend"'
    exports.append(Function("documented", (), doc=doc))
    imports = (
        Function("str", (Param("text", STR),), module="env"),
        Function('say "hi"\nimport os', (Param("text", STR),), module="env"),
    )
    return Interface(1, tuple(exports), imports)


def _stub_wasm(interface: Interface) -> WasmModule:
    return parse(wasm_module([], custom={"wasmbridge": encode(interface)}))


def test_stub_aliases_the_types_its_methods_shadow() -> None:
    interface = _stub_interface()
    stub = emit_python("names", "names.wasm", interface, _stub_wasm(interface), tool=TOOL)
    assert "_int = int\n" in stub.pyi and "_bytes = bytes\n" in stub.pyi
    assert "Sequence as _Sequence" in stub.pyi
    assert "from typing_extensions import Buffer as _Buffer" in stub.pyi
    assert (
        "    def int(\n        self,\n        data: _bytes | bytearray | memoryview,\n" in stub.pyi
    )
    # The runtime's keyword names: a name Python cannot spell becomes `pN`.
    params = "self_, self: _int, p1: _int, p2: _int, x: _int, p4: _int, p5: _int, p6: _int"
    assert f"    def odd({params}) -> _int:\n" in stub.py
    # Keys that could shadow a type: the TypedDict is written in its functional form.
    assert 'Imports = TypedDict("Imports", {' in stub.py
    assert '"say \\"hi\\"\\nimport os": imports["say \\"hi\\"\\nimport os"],' in stub.py
    assert (
        '    # "class" is not usable as a Python attribute: call module.exports["class"](...)'
        in stub.py
    )


def test_stub_escapes_control_characters_in_docstrings_and_comments() -> None:
    interface = _stub_interface()
    stub = emit_python("names", "names.wasm", interface, _stub_wasm(interface), tool=TOOL)
    for text in (stub.py, stub.pyi):
        assert "\0" not in text and "\r" not in text and "\x0c" not in text
        compile(text, "names.py", "exec")
    namespace: dict[str, Any] = {"__file__": "names.py"}
    exec(compile(stub.py, "names.py", "exec"), namespace)
    method = namespace["Names"].documented
    assert inspect.getdoc(method) == f"{interface.exports[-1].doc}\n\n``documented()``"


USAGE_PY = """\
import array

from names import load

m = load({"str": print, 'say "hi"\\nimport os': print})
result: array.array[float] = m.int(b"x", [1.0], True)
text: str = m.exports["class"]("t")
total: int = m.odd(1, 2, 3, 4, 5, 6, 7)
m.str(b"x", [1.0], 1.5)  # type: ignore[arg-type]
"""


def test_stub_with_such_names_passes_mypy_strict(tmp_path: Path) -> None:
    interface = _stub_interface()
    stub = emit_python("names", "names.wasm", interface, _stub_wasm(interface), tool=TOOL)
    for suffix, text in ((".py", stub.py), (".pyi", stub.pyi)):
        directory = tmp_path / suffix[1:]
        directory.mkdir()
        (directory / f"names{suffix}").write_text(text)
        (directory / "use.py").write_text(USAGE_PY)
        argv = [sys.executable, "-m", "mypy", "--strict", "--no-incremental"]
        proc = subprocess.run(
            [*argv, f"names{suffix}", "use.py"], cwd=directory, capture_output=True, text=True
        )
        assert proc.returncode == 0, suffix + proc.stdout + proc.stderr


def test_stub_parameters_are_the_keywords_the_runtime_accepts() -> None:
    from wasmbridge.runtime.bridge.calls import keyword_names

    interface = _stub_interface()
    odd = next(f for f in interface.exports if f.name == "odd")
    twice = dataclasses.replace(odd, params=(*odd.params, Param("p2", I32), Param("from", I32)))
    stub = emit_python("names", "names.wasm", Interface(1, (twice,)), _stub_wasm(interface))
    signature = " ".join(stub.pyi[stub.pyi.index("def odd(") :].split())
    names = ", ".join(f"{name}: int" for name in keyword_names(twice))
    assert signature.startswith(f"def odd( self_, {names}, ) -> int:")


def test_stub_knows_every_attribute_of_the_runtime_module() -> None:
    """An export named like one of these is reached through ``exports[...]``."""
    import wasmbridge

    module = wasmbridge.load(wasm_module([Func("add", ("i32", "i32"), ("i32",))]), cache=False)
    own = {*vars(module), *dir(type(module))}
    assert {n for n in own if not n.startswith("__")} <= MODULE_ATTRIBUTES
    assert not any(attribute_name(n) for n in MODULE_ATTRIBUTES)
    assert attribute_name("len") and attribute_name("größe") and not attribute_name("ｆｏｏ")
