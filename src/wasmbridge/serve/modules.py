"""Compiling each route's module once, and checking it can serve before the first request.

A route's ``module`` is a ``.wasm`` file or a crate folder. A crate folder is
built first: a bridge route with the build pipeline ``wasmbridge build``
uses (wasm32-unknown-unknown, the SDK, size profile, ``pkg/``), a wagi
route with ``cargo build --release --target wasm32-wasi`` (a WASI command
is a binary crate, which the pipeline does not build). Compiled code goes
through the on-disk compile cache, so worker processes share it.

Checked at start, each with a message naming the route (``Route.where``)
and the module: a bridge module exports ``handle(Request) -> Response``
with the SDK's record fields; a wagi module exports its entrypoint
(``_start``) as ``() -> ()``; and it imports nothing the server cannot
give (``env.serve_*`` services, and WASI for wagi routes).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import BuildFailed, ManifestError, ModuleError, WasmbridgeError
from ..interface import parse
from ..interface.binary import BinaryFormatError
from ..interface.types import Kind, Type, shown
from .config import Route

if TYPE_CHECKING:
    from ..interface.types import Function, Interface, RecordDef
    from ..runtime.module import Module

__all__ = [
    "REQUEST_FIELDS",
    "RESPONSE_FIELDS",
    "RouteModule",
    "load_route_module",
    "route_label",
]

log = logging.getLogger("wasmbridge.serve")

WASI_TARGET = "wasm32-wasi"
WASI_NAMESPACES = ("wasi_snapshot_preview1", "wasi_unstable")
SERVICE_NAMESPACE = "env"
SDK_NAMESPACE = "wasmbridge"
SERVICE_PREFIX = "serve_"
# The SDK's records (guest/rust/wasmbridge serve feature), field by field, in Rust spelling.
REQUEST_FIELDS = (
    ("method", "String"),
    ("path", "String"),
    ("query", "String"),
    ("params", "Vec<(String, String)>"),
    ("headers", "Vec<(String, String)>"),
    ("body", "Vec<u8>"),
)
RESPONSE_FIELDS = (
    ("status", "u16"),
    ("headers", "Vec<(String, String)>"),
    ("body", "Vec<u8>"),
)
HANDLE = "handle"


@dataclass(frozen=True)
class RouteModule:
    """A route's compiled module, what it imports from the server, and its source file."""

    module: Module
    wasm: Path  # the .wasm served (built from the crate folder when the route names one)
    services: tuple[str, ...]  # the env.serve_* functions it imports
    request_type: Any = None  # bridge: the module's Request record class
    sources: tuple[Path, ...] = ()  # what --watch should look at


def route_label(route: Route) -> str:
    """``route "/api/..." (wasmbridge.toml:12:1)``: how messages name a route."""
    where = f" ({route.where})" if route.where else ""
    return f'route "{route.path}"{where}'


def load_route_module(route: Route, *, cache: bool = True) -> RouteModule:
    """Build (when a crate folder), compile and check the module of a bridge or wagi route."""
    from ..runtime.module import compile

    assert route.module is not None, "bridge and wagi routes name a module"
    source = route.module
    sources: tuple[Path, ...]
    if source.is_dir():
        wasm = build_crate(route, source)
        sources = crate_sources(source)
    elif source.is_file():
        wasm, sources = source, (source,)
    else:
        raise ManifestError(
            f"{route_label(route)}: module {source} does not exist",
            hint="build it first (`wasmbridge build`), or name the crate folder",
        )
    data = wasm.read_bytes()
    services = _check_imports(route, wasm, data)
    try:
        module = compile(data, name=wasm.name, cache=cache)
    except WasmbridgeError as exc:
        raise ModuleError(f"{route_label(route)}: {exc}", hint=exc.hint) from exc
    request_type = None
    if route.kind == "bridge":
        request_type = _check_bridge(route, module)
    else:
        _check_command(route, module, data)
    return RouteModule(module, wasm, services, request_type, sources)


# -- checks ---------------------------------------------------------------------------


def _check_imports(route: Route, wasm: Path, data: bytes) -> tuple[str, ...]:
    try:
        parsed = parse(data)
    except BinaryFormatError as exc:
        detail = str(exc)
        if not detail.startswith("is not WebAssembly"):
            detail = f"is not valid WebAssembly: {detail}"
        raise ModuleError(
            f"{route_label(route)}: {wasm} {detail}",
            hint="name a .wasm file built for this route (or the crate folder to build it)",
        ) from exc
    services: list[str] = []
    refused: list[str] = []
    for imp in parsed.imports:
        if imp.module in WASI_NAMESPACES and route.kind == "wagi":
            continue
        if imp.module == SERVICE_NAMESPACE and imp.name.startswith(SERVICE_PREFIX):
            services.append(imp.name)
            continue
        if imp.module == SDK_NAMESPACE:
            continue  # the SDK's own imports (panic reports), answered by the runtime
        refused.append(f"{imp.module}.{imp.name}")
    if refused:
        what = "WASI" if any(r.split(".")[0] in WASI_NAMESPACES for r in refused) else "these"
        hint = (
            "a bridge handler gets no WASI; build it for wasm32-unknown-unknown "
            '(`wasmbridge build`) or make the route kind = "wagi"'
            if what == "WASI"
            else "a handler may import only the server's env.serve_* services (docs/serve-abi.md)"
        )
        raise ModuleError(
            f"{route_label(route)}: {wasm.name} imports what the server cannot provide: "
            f"{', '.join(sorted(refused)[:8])}",
            hint=hint,
        )
    return tuple(services)


def _check_bridge(route: Route, module: Module) -> Any:
    """The Request record class of a module exporting ``handle(Request) -> Response``."""
    interface = module.interface
    handle = module.exports.get(HANDLE)
    expected = "handle(req: Request) -> Response (the SDK's wasmbridge::serve records)"
    if interface is None or handle is None:
        raise ModuleError(
            f"{route_label(route)}: {module.name} exports no {HANDLE}() "
            f"(a bridge handler exports {expected})",
            hint='export one with #[wasmbridge::export], or make the route kind = "wagi"',
        )
    problem = _handle_problem(interface, handle)
    if problem is not None:
        raise ModuleError(
            f"{route_label(route)}: {module.name}'s handle() {problem}; expected {expected}",
            hint='use wasmbridge::serve::{Request, Response} (SDK feature "serve")',
        )
    return getattr(module, handle.params[0].type.name)


def _handle_problem(interface: Interface, handle: Function) -> str | None:
    params = handle.params
    if len(params) != 1 or params[0].type.kind is not Kind.NAMED:
        return f"takes ({', '.join(p.type.rust() for p in params)})"
    if handle.result.kind is not Kind.NAMED:
        return f"returns {handle.result.rust()}"
    records = {r.name: r for r in interface.records}
    for type_, wanted, what in (
        (params[0].type, REQUEST_FIELDS, "request"),
        (handle.result, RESPONSE_FIELDS, "response"),
    ):
        record = records.get(type_.name)
        if record is None:
            return f"takes or returns {type_.name}, which is not a record"
        found = _fields(record)
        if found != wanted:
            shown = ", ".join(f"{n}: {t}" for n, t in found)
            return f"{what} record {type_.name} has fields {{{shown}}}"
    return None


def _fields(record: RecordDef) -> tuple[tuple[str, str], ...]:
    """The fields in Rust spelling. A field that uses a record of the module's own never
    matches the SDK's, whatever that record is called ("String" is a valid name)."""
    return tuple((f.name, _spelling(f.type)) for f in record.fields)


def _spelling(t: Type) -> str:
    return f"{t.rust()} (a record of the module's)" if _uses_records(t) else t.rust()


def _uses_records(t: Type) -> bool:
    parts = ((t.inner,) if t.inner is not None else ()) + t.items
    return t.kind is Kind.NAMED or any(_uses_records(p) for p in parts)


def _check_command(route: Route, module: Module, data: bytes) -> None:
    entry = parse(data).export_type(route.entrypoint)
    if entry is None or entry.params or entry.results:
        found = "is not exported" if entry is None else f"has the type `{entry}`"
        raise ModuleError(
            f"{route_label(route)}: {module.name} is not a WASI command: its entrypoint "
            f"`{shown(route.entrypoint)}` {found}; a wagi route runs an export of type "
            "`() -> ()`",
            hint='for a bridge (library) module, remove kind = "wagi" (bridge is the default); '
            "for a command, build a binary crate for wasm32-wasi (fn main), or set the route's "
            "entrypoint to its exported function",
        )


# -- building crate folders -------------------------------------------------------------


class _LogReporter:
    """Build progress into the server log (the pipeline's Reporter)."""

    def __init__(self) -> None:
        import io

        self._err = io.StringIO()

    @property
    def err(self) -> Any:
        return self._err

    def step(self, name: str, detail: str = "") -> None:
        log.info("%s %s", name, detail)

    def info(self, message: str) -> None:
        log.debug("%s", message)

    def warn(self, message: str, *, hints: Iterable[str] = ()) -> None:
        log.warning("%s", message)

    def tool_output(self, text: str) -> None:
        self._err.write(text)

    def output(self) -> str:
        return self._err.getvalue()


# Crate folders built in this process: str(crate) -> (str(wasm), stamp of its sources).
# ``--workers N`` hands them to the workers (``take_built``), which load those .wasm
# files instead of building again while the sources are unchanged.
BUILT: dict[str, tuple[str, str]] = {}
_PREBUILT: dict[str, tuple[str, str]] = {}
_DEP_SPLIT = re.compile(r"(?<!\\) ")  # dep-info names are split by spaces not escaped


def crate_sources(crate: Path) -> tuple[Path, ...]:
    """What a crate folder's build depends on (and ``--watch`` looks at)."""
    return (crate / "Cargo.toml", crate / "Cargo.lock", crate / "src")


def take_built(built: dict[str, tuple[str, str]]) -> None:
    """Use the builds of ``built`` (a parent's ``BUILT``) while their sources are unchanged."""
    _PREBUILT.clear()
    _PREBUILT.update(built)


def _sources_stamp(crate: Path) -> str | None:
    """A digest of every file the crate's builds read (None: not known, so build)."""
    from .watch import snapshot

    inputs = _dep_info_inputs(crate)
    if not inputs:
        return None
    state = sorted(snapshot([*crate_sources(crate), *inputs]).items())
    return hashlib.sha256(json.dumps(state).encode()).hexdigest()


def _dep_info_inputs(crate: Path) -> list[Path]:
    """The files cargo's dep-info lists for the crate's release builds: its sources,
    files it includes (``include_str!``), path dependencies, build scripts."""
    inputs: list[Path] = []
    for dep_info in sorted((crate / "target").glob("*/release/*.d")):
        try:
            rule = dep_info.read_text(errors="replace").partition("\n")[0]
        except OSError:
            return []
        _, _, listed = rule.partition(": ")
        inputs += [Path(name.replace("\\ ", " ")) for name in _DEP_SPLIT.split(listed) if name]
    return inputs


def build_crate(route: Route, crate: Path) -> Path:
    """Build the crate folder a route names; the .wasm it produced."""
    if not (crate / "Cargo.toml").is_file():
        raise ManifestError(
            f"{route_label(route)}: module {crate} is a folder without a Cargo.toml",
            hint="name a .wasm file or a Rust crate folder",
        )
    key = str(crate.resolve())
    prebuilt = _PREBUILT.get(key)
    if prebuilt is not None and prebuilt[1] == _sources_stamp(crate):
        if Path(prebuilt[0]).is_file():
            return Path(prebuilt[0])  # the server's parent built it from these very sources
    try:
        if route.kind == "wagi":
            wasm = _build_wasi_command(crate)
        else:
            from ..build.pipeline import BuildOptions, build

            reporter = _LogReporter()
            options = BuildOptions(crate_dir=crate, targets=frozenset(), quiet=True)
            wasm = build(options, reporter).wasm
    except WasmbridgeError as exc:
        raise BuildFailed(
            f"{route_label(route)}: building {crate} failed: {exc}", hint=exc.hint
        ) from exc
    stamp = _sources_stamp(crate)  # after the build: it writes the dep-info, maybe Cargo.lock
    if stamp is not None:
        BUILT[key] = (str(wasm), stamp)
    return wasm


def _build_wasi_command(crate: Path) -> Path:
    from ..build.toolchain import diagnose

    toolchain = diagnose(cwd=crate).require()
    env = dict(os.environ, RUSTC=str(toolchain.rustc))
    argv = [
        str(toolchain.cargo),
        "build",
        "--release",
        "--quiet",
        "--target",
        WASI_TARGET,
        "--message-format=json",
        "--manifest-path",
        str(crate / "Cargo.toml"),
    ]
    log.info("Building %s for %s", crate, WASI_TARGET)
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise BuildFailed(
            f"cargo build --target {WASI_TARGET} failed:\n{proc.stderr.strip()}",
            hint="sudo apt-get install libstd-rust-dev-wasm32   # the wasm32-wasi std library",
        )
    built = [
        Path(name)
        for line in proc.stdout.splitlines()
        if line.startswith("{")
        for message in [json.loads(line)]
        if message.get("reason") == "compiler-artifact" and "bin" in message["target"]["kind"]
        for name in message.get("filenames", [])
        if name.endswith(".wasm")
    ]
    if not built:
        raise BuildFailed(
            f"cargo built no WASI command in {crate}",
            hint="a wagi handler is a binary crate (src/main.rs with fn main)",
        )
    return built[-1]
