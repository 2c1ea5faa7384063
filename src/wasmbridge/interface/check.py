"""Does an interface section agree with the module that carries it?

The section is untrusted input, like the rest of the module: it can
describe a function twice, describe one the module does not export, or
give an export interface types whose lowering is not its wasm type. A
host that trusted it would misread arguments and results. ``validate``
lists every disagreement, one line each, naming the function; it is pure,
so loaders, builders and ``inspect`` can share it.

    problems = validate(parse(data), interface)
    if problems:
        raise InterfaceError(...)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from . import abi
from .binary import BinaryFormatError, Export, FuncType, WasmModule
from .rules import interface_problems
from .section import type_problem
from .types import ClassDef, Function, Interface, Method, shown

_ALLOCATOR = {
    abi.ALLOC_EXPORT: (("i32", "i32"), ("i32",)),
    abi.FREE_EXPORT: (("i32", "i32", "i32"), ()),
}


def validate(wasm: WasmModule, interface: Interface | None) -> list[str]:
    """Every way ``interface`` disagrees with ``wasm`` (empty when they agree).

    Without an interface (a module built without the SDK), only the
    imports the host itself provides are checked: ``wasmbridge.panic`` and
    ``wasmbridge.callback`` must have the ABI's types, whatever the section
    says.

    >>> validate(parse(data), decode(section))
    ['export `nope` is described, but the module does not export it']
    """
    problems = list(_host_imports(wasm))
    if interface is not None:
        problems += [
            *interface_problems(interface),
            *_duplicates(interface),
            *_exports(wasm, interface),
            *_classes(wasm, interface),
            *_imports(wasm, interface),
        ]
    return problems


def _host_imports(wasm: WasmModule) -> Iterator[str]:
    for imp in wasm.imports:
        expected = abi.SDK_IMPORTS.get(imp.name) if imp.module == abi.HOST_MODULE else None
        if expected is None:
            continue
        label = f"import `{abi.HOST_MODULE}.{imp.name}`"
        if imp.kind != "func" or imp.type is None:
            yield f"{label} is a {imp.kind}, not a function"
        elif (imp.type.params, imp.type.results) != (expected.params, expected.results):
            yield (
                f"{label} has type {imp.type}, the ABI's is ({', '.join(expected.params)}) -> "
                f"({', '.join(expected.results)})"
            )


def _label(func: Function, imported: bool) -> str:
    if imported:
        return f"import `{shown(func.module)}.{shown(func.name)}`"
    return f"export `{shown(func.name)}`"


def _duplicates(interface: Interface) -> Iterator[str]:
    exports = Counter(name for name, _ in _export_names(interface))
    for name, count in exports.items():
        if count > 1:
            yield f"export `{shown(name)}` is described {count} times"
    imports = Counter((f.module, f.name) for f in interface.imports)
    for (module, name), count in imports.items():
        if count > 1:
            yield f"import `{shown(module)}.{shown(name)}` is described {count} times"
    methods = tuple(m.function for c in interface.classes for m in c.methods)
    for funcs, imported in (
        (interface.exports, False),
        (methods, False),
        (interface.imports, True),
    ):
        for func in funcs:
            params = Counter(p.name for p in func.params)
            for name, count in params.items():
                if count > 1:  # Rust refuses this; the SDK cannot have written it
                    yield f"{_label(func, imported)} has {count} parameters named `{shown(name)}`"


def _export_names(interface: Interface) -> Iterator[tuple[str, str]]:
    """Every wasm export the interface describes, with what describes it."""
    for func in interface.exports:
        yield func.name, "function"
    for cls in interface.classes:
        for method in cls.methods:
            yield method.function.name, "method"
        yield cls.destructor, "destructor"


def _exported(wasm: WasmModule) -> dict[str, Export]:
    exported: dict[str, Export] = {}
    for export in wasm.exports:
        exported.setdefault(export.name, export)
    return exported


def _exports(wasm: WasmModule, interface: Interface) -> Iterator[str]:
    exported = _exported(wasm)
    memory_problem = _memory_problem(wasm, exported)
    for func in interface.exports:
        label = _label(func, imported=False)
        found = _export_func(wasm, exported, label, func.name)
        if isinstance(found, str):
            yield found
            continue
        yield from _signature(label, func, found, imported=False)
        if memory_problem and abi.needs_memory(func, interface):
            yield f"{label} passes data through memory, but {memory_problem}"


def _classes(wasm: WasmModule, interface: Interface) -> Iterator[str]:
    exported = _exported(wasm)
    memory_problem = _memory_problem(wasm, exported)
    for cls in interface.classes:
        for method in cls.methods:
            func = method.function
            label = f"method `{shown(func.name)}`"
            found = _export_func(wasm, exported, label, func.name)
            if isinstance(found, str):
                yield found
                continue
            yield from _signature(label, func, found, imported=False, method=method)
            if memory_problem and abi.needs_memory(func, interface):
                yield f"{label} passes data through memory, but {memory_problem}"
        yield from _destructor(wasm, exported, cls)


def _destructor(wasm: WasmModule, exported: dict[str, Export], cls: ClassDef) -> Iterator[str]:
    label = f"class `{shown(cls.name)}`"
    found = exported.get(cls.destructor)
    if found is None or found.kind != "func":
        yield (
            f"{label} has no destructor: the module does not export the function "
            f"`{shown(cls.destructor)}`"
        )
        return
    found_type = _func_type(wasm, found.index)
    expected = abi.DESTRUCTOR_SIGNATURE
    if isinstance(found_type, str):
        yield f"{label}, destructor `{shown(cls.destructor)}`: {found_type}"
    elif (found_type.params, found_type.results) != (expected.params, expected.results):
        yield (
            f"{label}: its destructor `{shown(cls.destructor)}` has type {found_type}, "
            "not (i32) -> ()"
        )


def _export_func(
    wasm: WasmModule, exported: dict[str, Export], label: str, name: str
) -> FuncType | str:
    """The type of the exported function ``name``, or the message saying why none."""
    found = exported.get(name)
    if found is None:
        return f"{label} is described, but the module does not export it"
    if found.kind != "func":
        return f"{label} is described as a function, but the module exports a {found.kind}"
    found_type = _func_type(wasm, found.index)
    return f"{label}: {found_type}" if isinstance(found_type, str) else found_type


def _imports(wasm: WasmModule, interface: Interface) -> Iterator[str]:
    imported = {(i.module, i.name): i for i in reversed(wasm.imports)}  # first one wins
    for func in interface.imports:
        label = _label(func, imported=True)
        found = imported.get((func.module, func.name))
        # An import the guest never calls may be gone after LTO (docs/abi.md): fine.
        if found is None:
            continue
        if found.kind != "func":
            yield f"{label} is described as a function, but the module imports a {found.kind}"
            continue
        if found.type is None:
            yield f"{label}: it has no type"
            continue
        yield from _signature(label, func, found.type, imported=True)


def _func_type(wasm: WasmModule, index: int) -> FuncType | str:
    """The type of function ``index``, or why it has none."""
    try:
        return wasm.func_type(index)
    except BinaryFormatError as exc:
        return str(exc)


def _signature(
    label: str, func: Function, found: FuncType, *, imported: bool, method: Method | None = None
) -> Iterator[str]:
    problem = type_problem(func, imported=imported)
    if problem is not None:  # no lowering to compare with
        yield problem
        return
    expected = abi.signature(func) if method is None else abi.method_signature(method)
    if (expected.params, expected.results) != (found.params, found.results):
        yield (
            f"{label}: its interface types lower to ({', '.join(expected.params)}) -> "
            f"({', '.join(expected.results)}), but the wasm function has type {found}"
        )


def _memory_problem(wasm: WasmModule, exported: dict[str, Export]) -> str | None:
    """Why calls that pass data through memory cannot work, or None."""
    memory = exported.get(abi.MEMORY_EXPORT)
    if memory is None or memory.kind != "memory":
        return f"the module exports no memory named `{abi.MEMORY_EXPORT}`"
    for name, (params, results) in _ALLOCATOR.items():
        export = exported.get(name)
        if export is None or export.kind != "func":
            return f"the module exports no allocator function `{name}`"
        found = _func_type(wasm, export.index)
        if isinstance(found, str):
            return f"the allocator `{name}` is broken: {found}"
        if (found.params, found.results) != (params, results):
            return (
                f"its allocator `{name}` has type {found}, not "
                f"({', '.join(params)}) -> ({', '.join(results)})"
            )
    return None
