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
from .section import type_problem
from .types import Function, Interface, shown

# (msg_ptr, msg_len, file_ptr, file_len, line, column) -> (), docs/abi.md "Panics"
_PANIC: tuple[tuple[str, ...], tuple[str, ...]] = (("i32",) * 6, ())
_ALLOCATOR = {
    abi.ALLOC_EXPORT: (("i32", "i32"), ("i32",)),
    abi.FREE_EXPORT: (("i32", "i32", "i32"), ()),
}


def validate(wasm: WasmModule, interface: Interface | None) -> list[str]:
    """Every way ``interface`` disagrees with ``wasm`` (empty when they agree).

    Without an interface (a module built without the SDK), only the
    imports the host itself provides are checked: ``wasmbridge.panic``
    must have the ABI's type, whatever the section says.

    >>> validate(parse(data), decode(section))
    ['export `nope` is described, but the module does not export it']
    """
    problems = list(_host_imports(wasm))
    if interface is not None:
        problems += [
            *_duplicates(interface),
            *_exports(wasm, interface),
            *_imports(wasm, interface),
        ]
    return problems


def _host_imports(wasm: WasmModule) -> Iterator[str]:
    for imp in wasm.imports:
        if (imp.module, imp.name) != (abi.HOST_MODULE, abi.PANIC_IMPORT):
            continue
        if imp.kind != "func" or imp.type is None:
            yield f"import `{abi.HOST_MODULE}.{abi.PANIC_IMPORT}` is a {imp.kind}, not a function"
        elif (imp.type.params, imp.type.results) != _PANIC:
            yield (
                f"import `{abi.HOST_MODULE}.{abi.PANIC_IMPORT}` has type {imp.type}, "
                f"the ABI's is ({', '.join(_PANIC[0])}) -> ()"
            )


def _label(func: Function, imported: bool) -> str:
    if imported:
        return f"import `{shown(func.module)}.{shown(func.name)}`"
    return f"export `{shown(func.name)}`"


def _duplicates(interface: Interface) -> Iterator[str]:
    exports = Counter(f.name for f in interface.exports)
    for name, count in exports.items():
        if count > 1:
            yield f"export `{shown(name)}` is described {count} times"
    imports = Counter((f.module, f.name) for f in interface.imports)
    for (module, name), count in imports.items():
        if count > 1:
            yield f"import `{shown(module)}.{shown(name)}` is described {count} times"
    for funcs, imported in ((interface.exports, False), (interface.imports, True)):
        for func in funcs:
            params = Counter(p.name for p in func.params)
            for name, count in params.items():
                if count > 1:  # Rust refuses this; the SDK cannot have written it
                    yield f"{_label(func, imported)} has {count} parameters named `{shown(name)}`"


def _exports(wasm: WasmModule, interface: Interface) -> Iterator[str]:
    exported: dict[str, Export] = {}
    for export in wasm.exports:
        exported.setdefault(export.name, export)
    memory_problem = _memory_problem(wasm, exported)
    for func in interface.exports:
        label = _label(func, imported=False)
        found = exported.get(func.name)
        if found is None:
            yield f"{label} is described, but the module does not export it"
        elif found.kind != "func":
            yield f"{label} is described as a function, but the module exports a {found.kind}"
        else:
            yield from _signature(label, func, _func_type(wasm, found.index), imported=False)
            if memory_problem and abi.needs_memory(func):
                yield f"{label} passes data through memory, but {memory_problem}"


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
        yield from _signature(
            label, func, found.type if found.type is not None else "it has no type", imported=True
        )


def _func_type(wasm: WasmModule, index: int) -> FuncType | str:
    """The type of function ``index``, or why it has none."""
    try:
        return wasm.func_type(index)
    except BinaryFormatError as exc:
        return str(exc)


def _signature(
    label: str, func: Function, found: FuncType | str, *, imported: bool
) -> Iterator[str]:
    problem = type_problem(func, imported=imported)
    if problem is not None:  # no lowering to compare with
        yield problem
        return
    if isinstance(found, str):
        yield f"{label}: {found}"
        return
    expected = abi.signature(func)
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
