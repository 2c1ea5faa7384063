"""Check a built module before it is written to ``pkg/``.

Five checks: wasmtime accepts it; its interface section decodes; its
records, enums, classes and signatures follow the rules of
docs/abi-compound.md (``interface_problems``: what the SDK's macros cannot
see, such as a class of another ``impl`` inside an ``Option``); every
function's name works in every host (``export_name_problems``); every
function, method and destructor the interface declares has the wasm
signature the ABI predicts (``interface.abi``), so the SDK and the hosts
cannot disagree silently. Methods are exported as ``Class.member`` and
destructors as ``Class#drop``: names no host calls directly, so only
functions are held to the name rules.

    interface = validate_module(data, "hello.wasm")
"""

from __future__ import annotations

import unicodedata

from ..errors import BuildFailed
from ..interface import (
    BinaryFormatError,
    Interface,
    SectionFormatError,
    WasmModule,
    parse,
    read_interface,
)
from ..interface.abi import DESTRUCTOR_SIGNATURE, Signature, method_signature, signature
from ..interface.binary import FuncType
from ..interface.rules import interface_problems

_REPORT = "this is a bug in wasmbridge or its SDK; please report it with the crate"
_RULES = (
    "the SDK's macros refuse most of this at compile time; a class of another `impl` block "
    "inside an Option, list or tuple, or a type named through an alias, shows only here. "
    "docs/abi-compound.md lists what crosses the bridge"
)
_RENAME = (
    "rename the function, or export it under another name: "
    '`#[wasmbridge::export(name = "...")]`; docs/web.md, "Export names", has the rules'
)

# Names the JS glue cannot export, whatever it does. (Names the toolchain
# uses, such as `memory`, are refused earlier by the SDK's macro.)
HOST_RESERVED = {
    "then": "`await import()` takes a module exporting `then` for a promise and calls it "
    "instead of returning the module",
    "default": "the JS glue's default export is init()",
    "__esModule": "the CommonJS glue uses it to mark itself as an ES module",
}


def validate_module(data: bytes, name: str) -> Interface | None:
    """The module's interface (None without one) once all checks pass; else BuildFailed."""
    engine_problem = wasmtime_problem(data)
    if engine_problem is not None:
        raise BuildFailed(f"{name} is not a valid module: {engine_problem}", hint=_REPORT)
    try:
        module = parse(data)
        interface = read_interface(module)
    except (BinaryFormatError, SectionFormatError) as exc:
        raise BuildFailed(f"{name}: {exc}", hint=_REPORT) from exc
    if interface is not None:
        problems = interface_problems(interface)
        if problems:
            lines = [f"{name} has an interface no host can use:", *problems]
            raise BuildFailed("\n".join(lines), hint=_RULES)
        problems = export_name_problems(interface)
        if problems:
            lines = [f"{name} has exports that some host cannot reach by name:", *problems]
            raise BuildFailed("\n".join(lines), hint=_RENAME)
        problems = signature_problems(module, interface)
        if problems:
            raise BuildFailed(f"{name}: " + "\n".join(problems), hint=_REPORT)
    return interface


def export_name_problems(interface: Interface) -> list[str]:
    """Each export whose name some host cannot use, and why.

    Rust allows any identifier (``r#new``, ``größe``, ``Object``) and the
    glue gives those their own local names, so they work everywhere; what
    is left are names a host itself claims, names that are no identifier
    (from ``name = "..."``) and names Python reads as another.
    """
    problems = []
    for func in sorted(interface.exports, key=lambda f: f.name):
        reason = _name_problem(func.name)
        if reason is not None:
            problems.append(f"`{_shown(func.name)}`: {reason}")
    return problems


def _name_problem(name: str) -> str | None:
    if name in HOST_RESERVED:
        return HOST_RESERVED[name]
    if not name.isidentifier():
        return (
            "it is not an identifier, so TypeScript declarations cannot name it "
            "and Python reaches it only through `exports[...]`"
        )
    folded = unicodedata.normalize("NFKC", name)
    if folded != name:
        return (
            f"Python reads it as `{folded}` (identifiers are NFKC-normalized), "
            f"so `module.{name}` would look up `{folded}`"
        )
    return None


def _shown(name: str) -> str:
    """``name`` for a message: control characters escaped, long names cut."""
    text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in name)
    return text if len(text) <= 60 else text[:57] + "..."


def _export_problems(
    module: WasmModule, what: str, name: str, described: str, expected: Signature
) -> list[str]:
    found: FuncType | None = module.export_type(name)
    if found is None:
        return [f"{what} `{name}` is in the interface but not exported"]
    if (found.params, found.results) != (expected.params, expected.results):
        return [
            f"{what} `{described}` has wasm type {found}, the ABI says "
            f"({', '.join(expected.params)}) -> ({', '.join(expected.results)})"
        ]
    return []


def wasmtime_problem(data: bytes) -> str | None:
    """What wasmtime's validator says is wrong with ``data``, or None."""
    import wasmtime  # lazily: only building needs the engine

    try:
        wasmtime.Module.validate(wasmtime.Engine(), data)
    except wasmtime.WasmtimeError as exc:
        return str(exc).strip().splitlines()[0]
    return None


def signature_problems(module: WasmModule, interface: Interface) -> list[str]:
    """Each interface function, method or destructor whose wasm export (or
    import) disagrees with the ABI."""
    problems = []
    for func in interface.exports:
        problems += _export_problems(module, "export", func.name, func.signature(), signature(func))
    for cls in interface.classes:
        for method in cls.methods:
            func = method.function
            expected = method_signature(method)
            problems += _export_problems(module, "method", func.name, func.signature(), expected)
        problems += _export_problems(
            module, "destructor", cls.destructor, f"{cls.destructor}(handle)", DESTRUCTOR_SIGNATURE
        )
    for func in interface.imports:
        expected = signature(func)
        wasm = next(
            (i for i in module.imported_funcs if (i.module, i.name) == (func.module, func.name)),
            None,
        )
        # An import the guest never calls may be gone after LTO; that is fine.
        if wasm is not None and wasm.type is not None:
            if (wasm.type.params, wasm.type.results) != (expected.params, expected.results):
                problems.append(
                    f"import `{func.module}.{func.signature()}` has wasm type {wasm.type}, "
                    f"the ABI says ({', '.join(expected.params)}) -> "
                    f"({', '.join(expected.results)})"
                )
    return problems
