"""TypeScript declarations for the JS glue: ``pkg/NAME.d.ts`` (and ``NAME.d.cts``).

Types follow docs/abi.md's JS column exactly, as the glue accepts and
returns them:

    import init, { add } from "./pkg/hello.js";
    await init();
    const sum: number = add(5, 7);

Parameters accept what the glue converts (an Array for a numeric slice);
results are what it returns (a typed array for a ``Vec``).
"""

from __future__ import annotations

from ..interface import Function, Interface, Type, WasmModule, abi
from ..interface.types import FLOATS, INTEGERS, Kind
from ._js_helpers import BODY_NAMES, export_locals
from ._js_names import (
    TYPED_ARRAYS,
    export_specifier,
    import_key,
    js_identifier,
    property_name,
)
from ._writer import Writer, exported_functions, header

BYTES_IN = "Uint8Array | ArrayBufferView | ArrayBuffer | readonly number[]"

ERROR_CLASSES = {
    "ReturnedError": (
        "The Rust function returned `Err(e)`.",
        ["/** `e.to_string()`, the guest's own text. */", "readonly error: string;"],
    ),
    "GuestPanic": (
        "The Rust function panicked; the trap is the `cause`.",
        [
            "/** The panic message; empty when the build left it out. */",
            "readonly panicMessage: string;",
            "readonly file: string;",
            "readonly line: number;",
            "readonly column: number;",
        ],
    ),
}


def _scalar(kind: Kind) -> str:
    if kind is Kind.BOOL:
        return "boolean"
    if kind in (Kind.I64, Kind.U64):
        return "bigint"
    assert kind in INTEGERS or kind in FLOATS
    return "number"


def ts_param(t: Type) -> str:
    """What a caller may pass for a parameter (or a host function may return) of type ``t``."""
    if t.kind is Kind.OPTION:
        assert t.inner is not None
        return f"{ts_param(t.inner)} | null | undefined"
    if t.kind in (Kind.STR, Kind.STRING):
        return "string"
    if t.kind in (Kind.SLICE, Kind.VEC, Kind.MUT_SLICE):
        assert t.inner is not None
        array = TYPED_ARRAYS[t.inner.kind]
        if t.kind is Kind.MUT_SLICE:
            return array
        if t.inner.kind is Kind.U8:
            return BYTES_IN
        return f"{array} | readonly {_scalar(t.inner.kind)}[]"
    if t.kind is Kind.RESULT:
        assert t.inner is not None
        return ts_param(t.inner)
    return "void" if t.kind is Kind.UNIT else _scalar(t.kind)


def ts_result(t: Type) -> str:
    """What a call returns (or a host function receives) for type ``t``."""
    if t.kind in (Kind.OPTION, Kind.RESULT):
        assert t.inner is not None
        inner = ts_result(t.inner)
        return f"{inner} | undefined" if t.kind is Kind.OPTION else inner
    if t.kind in (Kind.STR, Kind.STRING):
        return "string"
    if t.kind in (Kind.SLICE, Kind.VEC, Kind.MUT_SLICE):
        assert t.inner is not None
        return TYPED_ARRAYS[t.inner.kind]
    return "void" if t.kind is Kind.UNIT else _scalar(t.kind)


def emit_dts(
    module_name: str,
    wasm_name: str,
    interface: Interface | None,
    wasm: WasmModule,
    *,
    tool: str | None = None,
) -> str:
    """The declarations matching ``emit_js`` for the same module."""
    w = Writer(indent="  ")
    w.line(f"// {header(wasm_name, interface, tool=tool)}")
    w.blank()
    exports = exported_functions(interface, wasm)
    exported_init = any(f.name == "init" for f in exports)
    _init_types(w, wasm_name, _host_functions(interface, wasm), export_init=not exported_init)
    # The same local names as the glue's: `Object_` declared, exported as `Object`.
    locals_ = export_locals([f.name for f in exports])
    renamed: list[tuple[str, str]] = []
    for func in exports:
        local = locals_[func.name]
        w.blank()
        _declare(w, func, local)
        if local != func.name:
            renamed.append((local, func.name))
    for name in _error_classes(interface, wasm):
        if name not in locals_:  # the glue's own names yield to the module's
            w.blank()
            _error_class(w, name)
    if renamed:
        w.blank()
        specifiers = ", ".join(export_specifier(local, name) for local, name in renamed)
        w.line(f"export {{ {specifiers} }};")
    return w.text()


def _host_functions(interface: Interface | None, wasm: WasmModule) -> list[tuple[str, str, str]]:
    """(key, TS type, doc) of each host function the module really imports."""
    found = []
    for imp in sorted(wasm.imported_funcs, key=lambda i: (i.module, i.name)):
        if imp.module == abi.HOST_MODULE and imp.name == abi.PANIC_IMPORT:
            continue
        func = interface.import_(imp.module, imp.name) if interface else None
        key = import_key(imp.module, imp.name)
        if func is None:
            assert imp.type is not None
            params = ", ".join(f"p{i}: {_raw(v)}" for i, v in enumerate(imp.type.params))
            result = _raw(imp.type.results[0]) if imp.type.results else "void"
            found.append((key, f"({params}) => {result}", f"`{imp.module}.{imp.name}` {imp.type}"))
            continue
        names = _param_names([p.name for p in func.params])
        params = ", ".join(
            f"{name}: {ts_result(p.type)}" for name, p in zip(names, func.params, strict=True)
        )
        doc = "\n\n".join(filter(None, [func.doc.strip(), f"`{imp.module}.{func.signature()}`"]))
        found.append((key, f"({params}) => {ts_param(func.result)}", doc))
    return found


def _raw(valtype: str) -> str:
    return "bigint" if valtype == "i64" else "number"


def _init_types(
    w: Writer, wasm_name: str, host: list[tuple[str, str, str]], *, export_init: bool
) -> None:
    w.line("/** Where init() loads the module from; see init(). */")
    w.line(
        "export type InitInput =\n  | string\n  | URL\n  | Request\n  | Response\n"
        "  | ArrayBuffer\n  | ArrayBufferView\n  | WebAssembly.Module;"
    )
    w.blank()
    if host:
        _doc(w, f"The host functions {wasm_name} calls; each defaults to the global of that name.")
        w.line("export interface Imports {")
        with w.indent():
            for index, (key, signature, doc) in enumerate(host):
                if index:
                    w.blank()
                _doc(w, doc)
                w.line(f"{property_name(key)}?: {signature};")
        w.line("}")
    else:
        w.line(f"/** {wasm_name} calls no host functions. */")
        w.line("export type Imports = Record<string, never>;")
    w.blank()
    w.line("export interface InitOptions {")
    with w.indent():
        w.line("/** Host functions by name, instead of the globals of the same name. */")
        w.line("imports?: Imports;")
    w.line("}")
    w.blank()
    _doc(
        w,
        f"Loads {wasm_name} and links its host functions; await it once before calling an "
        "export.\n\n"
        "`input`: a URL to fetch (a `file:` URL is read from disk), a Request or Response, "
        f"the bytes, or a compiled WebAssembly.Module; by default {wasm_name} beside the glue. "
        "Resolves to the module's raw exports.",
    )
    w.line(
        "declare function init(\n  input?: InitInput | Promise<InitInput>,\n"
        "  options?: InitOptions,\n): Promise<WebAssembly.Exports>;"
    )
    w.line("export default init;")
    if export_init:
        w.line("export { init };")


def _declare(w: Writer, func: Function, local: str) -> None:
    doc = [func.doc.strip()] if func.doc.strip() else []
    doc.append(f"`{func.signature()}`")
    if func.result.kind is Kind.RESULT:
        doc.append("@throws {ReturnedError} when it returns `Err`")
    _doc(w, "\n\n".join(doc))
    names = _param_names([p.name for p in func.params])
    typed = [f"{name}: {ts_param(p.type)}" for name, p in zip(names, func.params, strict=True)]
    params = ", ".join(typed)
    keyword = "export declare function" if local == func.name else "declare function"
    one_line = f"{keyword} {local}({params}): {ts_result(func.result)};"
    if len(one_line) <= 100:
        w.line(one_line)
        return
    w.line(f"{keyword} {local}(")
    with w.indent():
        for param in typed:
            w.line(f"{param},")
    w.line(f"): {ts_result(func.result)};")


def _param_names(names: list[str]) -> list[str]:
    """Parameter names as the glue's shims spell them (valid and distinct)."""
    taken = set(BODY_NAMES)
    return [js_identifier(name, taken) for name in names]


def _error_classes(interface: Interface | None, wasm: WasmModule) -> list[str]:
    names = []
    if interface and any(f.result.kind is Kind.RESULT for f in interface.exports):
        names.append("ReturnedError")
    if any(i.module == abi.HOST_MODULE and i.name == abi.PANIC_IMPORT for i in wasm.imported_funcs):
        names.append("GuestPanic")
    return names


def _error_class(w: Writer, name: str) -> None:
    summary, members = ERROR_CLASSES[name]
    _doc(w, summary)
    w.line(f"export declare class {name} extends Error {{")
    with w.indent():
        for line in members:
            w.line(line)
    w.line("}")


def _doc(w: Writer, text: str) -> None:
    """A JSDoc comment: ``/** text */`` when short, else one `` * line`` per line."""
    lines = [line.rstrip().replace("*/", "*\\/") for line in text.splitlines()]
    if len(lines) == 1 and len(lines[0]) < 87:
        w.line(f"/** {lines[0]} */")
        return
    w.line("/**")
    for line in lines:
        w.line(f" * {line}".rstrip())
    w.line(" */")
