"""Check a built module before it is written to ``pkg/``.

Three checks: wasmtime accepts it; its interface section decodes; every
function the interface declares has the wasm signature the ABI predicts
(``interface.abi.signature``), so the SDK and the hosts cannot disagree
silently.

    interface = validate_module(data, "hello.wasm")
"""

from __future__ import annotations

from ..errors import BuildFailed
from ..interface import (
    BinaryFormatError,
    Interface,
    SectionFormatError,
    WasmModule,
    parse,
    read_interface,
)
from ..interface.abi import signature

_REPORT = "this is a bug in wasmbridge or its SDK; please report it with the crate"


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
        problems = signature_problems(module, interface)
        if problems:
            raise BuildFailed(f"{name}: " + "\n".join(problems), hint=_REPORT)
    return interface


def wasmtime_problem(data: bytes) -> str | None:
    """What wasmtime's validator says is wrong with ``data``, or None."""
    import wasmtime  # lazily: only building needs the engine

    try:
        wasmtime.Module.validate(wasmtime.Engine(), data)
    except wasmtime.WasmtimeError as exc:
        return str(exc).strip().splitlines()[0]
    return None


def signature_problems(module: WasmModule, interface: Interface) -> list[str]:
    """Each interface function whose wasm export/import disagrees with the ABI."""
    problems = []
    for func in interface.exports:
        expected = signature(func)
        found = module.export_type(func.name)
        if found is None:
            problems.append(f"export `{func.name}` is in the interface but not exported")
        elif (found.params, found.results) != (expected.params, expected.results):
            problems.append(
                f"export `{func.signature()}` has wasm type {found}, the ABI says "
                f"({', '.join(expected.params)}) -> ({', '.join(expected.results)})"
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
