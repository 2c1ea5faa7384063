"""TypeScript declarations for the JS glue: ``pkg/NAME.d.ts`` (and ``NAME.d.cts``).

Types follow docs/abi.md's JS column exactly, as the glue accepts and
returns them:

    import init, { add } from "./pkg/hello.js";
    await init();
    const sum: number = add(5, 7);

Parameters accept what the glue converts (an Array for a numeric slice);
results are what it returns (a typed array for a ``Vec``). Records are
interfaces, enums ``declare enum``s (the glue exports a frozen object with
the same members), classes ``declare class``es (_ts_types, _dts_types).
"""

from __future__ import annotations

from ..interface import Interface, WasmModule, abi
from ..interface.plan import CallPlan, Lifting, plan_call
from ._dts_types import declare_callable, declare_types, doc_comment, param_names
from ._js_checks import require_expressible
from ._js_helpers import export_locals
from ._js_names import export_specifier, import_key, property_name
from ._ts_types import TsTypes
from ._writer import Writer, exported_functions, header, type_names

ERROR_CLASSES = {
    "ReturnedError": (
        "ReturnedError",
        "The Rust function returned `Err(e)`.",
        ["/** `e.to_string()`, the guest's own text. */", "readonly error: string;"],
    ),
    "ReturnedErrorValue": (
        "ReturnedError",
        "The Rust function returned `Err(e)`.",
        [
            "/** `e.to_string()`, or for a record or enum of the module a description of it. */",
            "readonly error: string;",
            "/** `e` itself when its type is a record or enum of the module, else undefined. */",
            "readonly value: unknown;",
        ],
    ),
    "HandleError": (
        "HandleError",
        "A class object that cannot be used: freed, moved into the module, or not its own.",
        [],
    ),
    "GuestPanic": (
        "GuestPanic",
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


def emit_dts(
    module_name: str,
    wasm_name: str,
    interface: Interface | None,
    wasm: WasmModule,
    *,
    tool: str | None = None,
) -> str:
    """The declarations matching ``emit_js`` for the same module."""
    require_expressible(interface, wasm_name)
    w = Writer(indent="  ")
    w.line(f"// {header(wasm_name, interface, tool=tool)}")
    w.blank()
    exports = exported_functions(interface, wasm)
    exported_init = any(f.name == "init" for f in exports)
    host = _host_functions(interface, wasm)
    own_types = set(type_names(interface))
    _init_types(w, wasm_name, host, export_init=not exported_init, taken=own_types)
    # The same local names as the glue's: `Object_` declared, exported as `Object`.
    locals_ = export_locals([f.name for f in exports] + type_names(interface))
    ts = TsTypes(locals_)
    renamed = [(local, name) for name, local in sorted(locals_.items()) if local != name]
    if interface is not None:
        declare_types(w, interface, locals_, ts)
    for func in exports:
        w.blank()
        _declare(w, plan_call(func, interface), locals_[func.name], ts)
    for key in _error_classes(interface, wasm):
        if ERROR_CLASSES[key][0] not in locals_:  # the glue's own names yield to the module's
            w.blank()
            _error_class(w, key)
    if renamed:
        w.blank()
        specifiers = ", ".join(export_specifier(local, name) for local, name in renamed)
        w.line(f"export {{ {specifiers} }};")
    return w.text()


def _host_functions(interface: Interface | None, wasm: WasmModule) -> list[tuple[str, str, str]]:
    """(key, TS type, doc) of each host function the module really imports."""
    ts = TsTypes()
    found = []
    for imp in sorted(wasm.imported_funcs, key=lambda i: (i.module, i.name)):
        if imp.module == abi.HOST_MODULE and imp.name in (abi.PANIC_IMPORT, abi.CALLBACK_IMPORT):
            continue
        func = interface.import_(imp.module, imp.name) if interface else None
        key = import_key(imp.module, imp.name)
        if func is None:
            assert imp.type is not None
            params = ", ".join(f"p{i}: {_raw(v)}" for i, v in enumerate(imp.type.params))
            result = _raw(imp.type.results[0]) if imp.type.results else "void"
            found.append((key, f"({params}) => {result}", f"`{imp.module}.{imp.name}` {imp.type}"))
            continue
        plan = plan_call(func, interface)
        names = param_names([p.name for p in func.params])
        params = ", ".join(
            f"{name}: {ts.host_param(p)}" for name, p in zip(names, plan.params, strict=True)
        )
        doc = "\n\n".join(filter(None, [func.doc.strip(), f"`{imp.module}.{func.signature()}`"]))
        found.append((key, f"({params}) => {ts.host_result(plan.result)}", doc))
    return found


def _raw(valtype: str) -> str:
    return "bigint" if valtype == "i64" else "number"


def _init_types(
    w: Writer,
    wasm_name: str,
    host: list[tuple[str, str, str]],
    *,
    export_init: bool,
    taken: set[str],
) -> None:
    """init() and its types; a type the module names itself (a record `Imports`) keeps
    its name, and the glue's type of that name is declared but not exported."""

    def export(name: str) -> str:
        return "" if name in taken else "export "

    w.line("/** Where init() loads the module from; see init(). */")
    w.line(
        f"{export('InitInput')}type InitInput =\n  | string\n  | URL\n  | Request\n  | Response\n"
        "  | ArrayBuffer\n  | ArrayBufferView\n  | WebAssembly.Module;"
    )
    w.blank()
    if host:
        doc_comment(
            w, f"The host functions {wasm_name} calls; each defaults to the global of that name."
        )
        w.line(f"{export('Imports')}interface Imports {{")
        with w.indent():
            for index, (key, signature, doc) in enumerate(host):
                if index:
                    w.blank()
                doc_comment(w, doc)
                w.line(f"{property_name(key)}?: {signature};")
        w.line("}")
    else:
        w.line(f"/** {wasm_name} calls no host functions. */")
        w.line(f"{export('Imports')}type Imports = Record<string, never>;")
    w.blank()
    w.line(f"{export('InitOptions')}interface InitOptions {{")
    with w.indent():
        w.line("/** Host functions by name, instead of the globals of the same name. */")
        w.line("imports?: Imports;")
    w.line("}")
    w.blank()
    doc_comment(
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


def _declare(w: Writer, plan: CallPlan, local: str, ts: TsTypes) -> None:
    keyword = "export declare function" if local == plan.function.name else "declare function"
    declare_callable(w, plan, f"{keyword} {local}", ts)


def _error_classes(interface: Interface | None, wasm: WasmModule) -> list[str]:
    """The glue's error classes this module can throw (keys of ERROR_CLASSES)."""
    names = []
    plans = [plan_call(f, interface) for f in interface.exports] if interface else []
    if interface is not None:
        plans += [plan_call(m.function, interface, m) for c in interface.classes for m in c.methods]
    results = [plan.result for plan in plans if plan.result.lifting is Lifting.RESULT]
    if any(result.error for result in results):
        names.append("ReturnedErrorValue")
    elif results:
        names.append("ReturnedError")
    if any(i.module == abi.HOST_MODULE and i.name == abi.PANIC_IMPORT for i in wasm.imported_funcs):
        names.append("GuestPanic")
    if interface and interface.classes:
        names.append("HandleError")
    return names


def _error_class(w: Writer, key: str) -> None:
    name, summary, members = ERROR_CLASSES[key]
    doc_comment(w, summary)
    if not members:
        w.line(f"export declare class {name} extends Error {{}}")
        return
    w.line(f"export declare class {name} extends Error {{")
    with w.indent():
        for line in members:
            w.line(line)
    w.line("}")
