"""The glue beside a built .wasm, for each target: what ``wasmbridge build`` writes.

``write_glue`` is the build pipeline's glue writer (build/pipeline.py,
``GlueWriter``): the CLI hands it to ``build()``, so build/ never imports
codegen/.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from ..interface import Interface, WasmModule
from .package_json import web_package
from .python import emit_python


def write_glue(
    lib_name: str,
    wasm: Path,
    interface: Interface | None,
    module: WasmModule,
    *,
    targets: Collection[str],
    manifest: Path,
) -> tuple[list[Path], list[Path]]:
    """Write the Python stub (``python``) and the JS package (``web``, ``node``) beside
    ``wasm``; returns (Python stubs, web glue), each in the order written."""
    stubs: list[Path] = []
    if "python" in targets:
        stub = emit_python(lib_name, wasm.name, interface, module)
        py, pyi = wasm.with_name(f"{lib_name}.py"), wasm.with_name(f"{lib_name}.pyi")
        py.write_text(stub.py, encoding="utf-8")
        pyi.write_text(stub.pyi, encoding="utf-8")
        stubs += [py, pyi]
    glue: list[Path] = []
    if "web" in targets or "node" in targets:
        files = web_package(
            lib_name,
            wasm.name,
            interface,
            module,
            manifest=manifest,
            commonjs="node" in targets,
        )
        for name, text in files.items():
            path = wasm.parent / name
            path.write_text(text, encoding="utf-8")
            glue.append(path)
    return stubs, glue
