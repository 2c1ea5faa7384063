"""The npm package around the JS glue: ``pkg/package.json`` and the files it lists.

One ``pkg/`` serves browsers and Node (wasm-pack cannot: its issue #313):
the ES module works in both, and the exports map names it under the
``browser`` and ``node`` conditions, with CommonJS for ``require`` when the
``node`` target asks for it.

    files = web_package("hello", "hello.wasm", interface, module, manifest=crate / "Cargo.toml")
    for name, text in files.items():
        (pkg / name).write_text(text)
"""

from __future__ import annotations

import json
import re
import tomllib
from functools import partial
from pathlib import Path
from typing import Any

from ..interface import Interface, WasmModule
from .dts import emit_dts
from .js import emit_js

DEFAULT_VERSION = "0.1.0"


def web_package(
    module_name: str,
    wasm_name: str,
    interface: Interface | None,
    wasm: WasmModule,
    *,
    manifest: Path | None = None,
    commonjs: bool = False,
    tool: str | None = None,
) -> dict[str, str]:
    """File name -> text of every generated file: glue, declarations, package.json."""
    fields = crate_fields(manifest) if manifest is not None else {}
    package = npm_name(fields.get("name", module_name))
    dts = emit_dts(module_name, wasm_name, interface, wasm, tool=tool)
    glue = partial(
        emit_js, module_name, wasm_name, interface, wasm, package_name=package, tool=tool
    )
    files = {f"{module_name}.js": glue(), f"{module_name}.d.ts": dts}
    if commonjs:
        files[f"{module_name}.cjs"] = glue(module_format="cjs")
        files[f"{module_name}.d.cts"] = dts  # the same declarations describe module.exports
    files["package.json"] = emit_package_json(module_name, wasm_name, fields, commonjs=commonjs)
    return files


def crate_fields(manifest: Path) -> dict[str, str]:
    """name, version, description and license from ``[package]`` in Cargo.toml, when given."""
    try:
        package = tomllib.loads(manifest.read_text(encoding="utf-8")).get("package", {})
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    fields = {}
    for key in ("name", "version", "description", "license"):
        value = package.get(key)
        if isinstance(value, str):  # `version.workspace = true` is a table: left out
            fields[key] = value
    return fields


def npm_name(name: str) -> str:
    """A valid npm package name: lowercase, URL-safe characters only."""
    cleaned = re.sub(r"[^a-z0-9._~-]", "-", name.lower()).lstrip("._")
    return cleaned or "wasm-module"


def emit_package_json(
    module_name: str, wasm_name: str, fields: dict[str, str], *, commonjs: bool
) -> str:
    """package.json text: ESM first, an exports map with browser and node conditions."""
    js, dts = f"./{module_name}.js", f"./{module_name}.d.ts"
    esm = {"types": dts, "default": js}
    node: Any = esm
    files = [f"{module_name}.js", f"{module_name}.d.ts", wasm_name]
    if commonjs:
        node = {
            "import": esm,
            "require": {"types": f"./{module_name}.d.cts", "default": f"./{module_name}.cjs"},
        }
        files += [f"{module_name}.cjs", f"{module_name}.d.cts"]
    package: dict[str, Any] = {
        "name": npm_name(fields.get("name", module_name)),
        "version": fields.get("version", DEFAULT_VERSION),
    }
    for key in ("description", "license"):
        if key in fields:
            package[key] = fields[key]
    package |= {
        "type": "module",
        "main": js,
        "module": js,
        "types": dts,
        "files": sorted(files),
        "exports": {
            ".": {"browser": esm, "node": node, "default": esm},
            f"./{wasm_name}": f"./{wasm_name}",
            "./package.json": "./package.json",
        },
        "sideEffects": False,
    }
    return json.dumps(package, indent=2, ensure_ascii=False) + "\n"
