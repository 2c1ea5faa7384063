"""The ``spin.toml`` subset ``wasmbridge serve`` runs: HTTP triggers on Wagi components.

A Spin manifest (version 2) maps ``[[trigger.http]]`` routes to
``[component.<id>]`` tables. wasmbridge serves the components that use
Spin's Wagi executor (any WASI command that writes a CGI response), with
their ``source``, ``files``, ``environment``, ``allowed_outbound_hosts`` and
``key_value_stores``. Every other part of Spin's format is refused by name,
at its line and column, rather than ignored: an app never runs differently
from what its manifest says.

    spin_manifest_version = 2
    [application]
    name = "hello"
    [[trigger.http]]
    route = "/hello/..."
    component = "hello"
    executor = { type = "wagi" }
    [component.hello]
    source = "hello.wasm"
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from .config import AppConfig, FileMount, Route
from .manifest_checks import (
    TableReader,
    check_app_name,
    check_env,
    check_folder,
    check_guest_path,
    check_module,
    check_outbound_hosts,
    check_route_path,
    check_unique_guests,
    check_unique_routes,
    default_store,
    describe,
    did_you_mean,
)
from .toml_locate import KeyPath, ManifestSource

__all__ = ["read_spin_app"]

_NOT_SERVED = "wasmbridge serve runs HTTP triggers with the Wagi executor only"
TOP_KEYS = ("spin_manifest_version", "application", "trigger", "component")
TOP_REFUSED = {
    "variables": "application variables are not supported: write the values into "
    "each component's environment table",
}
APPLICATION_KEYS = ("name", "version", "description", "authors")
APPLICATION_REFUSED = {
    "trigger": "application-wide trigger settings are not supported; remove the table",
}
HTTP_TRIGGER_KEYS = ("route", "component", "executor", "id")
EXECUTOR_KEYS = ("type", "argv", "entrypoint")
COMPONENT_KEYS = (
    "source",
    "description",
    "files",
    "environment",
    "allowed_outbound_hosts",
    "key_value_stores",
    # How `spin build` makes `source`: read by that tool, not by the server, which
    # serves the source as built. Accepted so a Spin app is served unchanged.
    "build",
)
COMPONENT_REFUSED = {
    "exclude_files": "files entries name whole folders here; mount a folder "
    "that holds only what the component may read",
    "allowed_http_hosts": "write allowed_outbound_hosts with full origins "
    '(e.g. "https://example.com") instead',
    "variables": "component variables are not supported: use environment instead",
    "dependencies": "component dependencies need the component model, "
    "which wasmbridge serve does not run",
    "dependencies_inherit_configuration": "component dependencies are not supported",
    "sqlite_databases": "SQLite databases are not a wasmbridge serve service; use key_value_stores",
    "ai_models": "AI models are not a wasmbridge serve service",
}
SPIN_EXECUTOR_HINT = (
    "build the component as a WASI command (a main that prints a CGI response) "
    'and set executor = { type = "wagi" }; Spin SDK components need Spin itself'
)


def read_spin_app(source: ManifestSource, data: dict[str, object]) -> AppConfig:
    """The AppConfig of a version 2 spin.toml: one wagi route per HTTP trigger."""
    check_version(source, data)
    top = TableReader(source, data, (), "at the top level", TOP_KEYS, TOP_REFUSED)
    app = TableReader(
        source,
        top.table("application"),
        ("application",),
        "in [application]",
        APPLICATION_KEYS,
        APPLICATION_REFUSED,
    )
    name = check_app_name(app, "name", app.required_text("name", 'e.g. name = "hello"'))
    for metadata in ("version", "description"):
        app.text(metadata)
    app.strings("authors")
    components = top.table("component")
    base = source.path.parent
    located = [
        (("trigger", "http", index, "route"), http_route(source, index, table, components, base))
        for index, table in enumerate(http_triggers(top))
    ]
    check_unique_routes(source, located)
    routes = tuple(route for _, route in located)
    uses_kv = any(route.key_value_stores for route in routes)
    kv = (default_store("default", base),) if uses_kv else ()
    return AppConfig(name=name, manifest=source.path, routes=routes, kv=kv)


def check_version(source: ManifestSource, data: dict[str, object]) -> None:
    """Version 2 only; version 1 (``spin_version = "1"`` or ``= "1"``) is refused."""
    key = "spin_version" if "spin_version" in data else "spin_manifest_version"
    version = data.get(key)
    if version is None:
        message = 'missing "spin_manifest_version" at the top level'
        raise source.error(
            (), message, header=True, hint="start the file with spin_manifest_version = 2"
        )
    if version == 2 and key == "spin_manifest_version":
        return
    if version in (1, "1"):
        message = "spin.toml manifest version 1 is not supported"
        hint = (
            "rewrite it in version 2: [application], [[trigger.http]] and [component.<id>] tables"
        )
    else:
        message = f"spin_manifest_version must be 2, got {describe(version)}"
        hint = "wasmbridge serve reads Spin manifest version 2"
    raise source.error((key,), message, value=True, hint=hint)


def http_triggers(top: TableReader) -> list[dict[str, object]]:
    """The ``[[trigger.http]]`` tables; other trigger types are refused by name."""
    triggers = top.table("trigger")
    for kind in triggers:
        if kind != "http":
            message = f'trigger type "{kind}" is not supported'
            raise top.source.error(("trigger", kind), message, hint=_NOT_SERVED)
    reader = TableReader(top.source, triggers, ("trigger",), "in [trigger]", ("http",))
    tables = reader.tables("http", hint="write each trigger as a [[trigger.http]] table")
    if not tables:
        raise top.source.error((), "no [[trigger.http]] routes", header=True, hint=_NOT_SERVED)
    return tables


def http_route(
    source: ManifestSource,
    index: int,
    table: dict[str, object],
    components: dict[str, object],
    base: Path,
) -> Route:
    """One ``[[trigger.http]]`` and the component it names, as a wagi Route."""
    trigger = TableReader(
        source, table, ("trigger", "http", index), "in [[trigger.http]]", HTTP_TRIGGER_KEYS
    )
    if isinstance(table.get("route"), dict):
        raise trigger.error(
            "route",
            "private routes (route = { private = true }) are not supported",
            value=True,
            hint="give the trigger a path route",
        )
    path = check_route_path(trigger, "route", trigger.required_text("route", 'e.g. "/..."'))
    trigger.text("id")
    argv, entrypoint = executor(trigger)
    component_id = component_name(trigger, components)
    component = components[component_id]
    at: KeyPath = ("component", component_id)
    if not isinstance(component, dict):
        raise source.error(at, f'component "{component_id}" must be a table', value=True)
    reader = TableReader(
        source, component, at, f"in [component.{component_id}]", COMPONENT_KEYS, COMPONENT_REFUSED
    )
    reader.text("description")
    return Route(
        path=path,
        kind="wagi",
        module=component_source(reader, base),
        static=None,
        key_value_stores=store_names(reader),
        allowed_outbound_hosts=check_outbound_hosts(reader, "allowed_outbound_hosts"),
        files=component_files(reader, base),
        env=check_env(reader, "environment"),
        argv=argv,
        entrypoint=entrypoint,
        where=trigger.where(),
    )


def executor(trigger: TableReader) -> tuple[str, str]:
    """(argv, entrypoint) of a Wagi executor; Spin's own executor is refused."""
    if "executor" not in trigger.data:
        message = "this trigger runs Spin's default executor (Spin SDK components), not Wagi"
        raise trigger.source.error(trigger.path, message, header=True, hint=SPIN_EXECUTOR_HINT)
    table = trigger.table("executor")
    at = (*trigger.path, "executor")
    reader = TableReader(trigger.source, table, at, "in executor", EXECUTOR_KEYS)
    kind = reader.choice("type", ("wagi", "spin"))
    if kind is None:
        raise reader.missing("type", 'type = "wagi"')
    if kind == "spin":
        message = 'executor type "spin" (Spin SDK components) is not supported'
        raise reader.error("type", message, value=True, hint=SPIN_EXECUTOR_HINT)
    argv, entrypoint = reader.text("argv"), reader.text("entrypoint")
    return (
        Route.argv if argv is None else argv,
        Route.entrypoint if entrypoint is None else entrypoint,
    )


def component_name(trigger: TableReader, components: dict[str, object]) -> str:
    """The id a trigger names; inline component tables are refused."""
    if isinstance(trigger.data.get("component"), dict):
        message = "inline component tables are not supported"
        hint = 'move it to a [component.<id>] table and write component = "<id>"'
        raise trigger.error("component", message, value=True, hint=hint)
    name = trigger.required_text("component", "the id of a [component.<id>] table")
    if name not in components:
        close = did_you_mean(name, list(components))
        raise trigger.error(
            "component",
            f'component "{name}" is not defined{close}',
            value=True,
            hint=f"add a [component.{name}] table with its source",
        )
    return name


def component_source(reader: TableReader, base: Path) -> Path:
    """A local .wasm path; URL and registry sources are refused."""
    value = reader.data.get("source")
    if isinstance(value, dict):
        kind = "registry" if "registry" in value else "url"
        message = f"{kind} sources are not supported"
        hint = "download the .wasm and write its local path as source"
        raise reader.error("source", message, value=True, hint=hint)
    text = reader.required_text("source", "the path of the component's .wasm file")
    return check_module(reader, "source", text, base)


def component_files(reader: TableReader, base: Path) -> tuple[FileMount, ...]:
    """Folders only: "assets" (seen at /assets) or { source, destination }."""
    value = reader.data.get("files", [])
    if not isinstance(value, list):
        message = f'"files" must be an array, got {describe(value)}'
        raise reader.error("files", message, value=True)
    mounts = [mount(reader, index, entry, base) for index, entry in enumerate(value)]
    check_unique_guests(reader.source, (*reader.path, "files"), mounts)
    return tuple(mounts)


def mount(reader: TableReader, index: int, entry: object, base: Path) -> FileMount:
    at = (*reader.path, "files", index)
    source = reader.source
    if isinstance(entry, str):
        if any(c in entry for c in "*?[{"):
            message = f'files pattern "{entry}" is not supported; files entries are folders'
            root = folder_of(entry)
            seen = "/" + (PurePosixPath(root).name or "files")
            hint = f'mount the folder: {{ source = "{root}", destination = "{seen}" }}'
            raise source.error(at, message, value=True, hint=hint)
        folder = check_folder(source, at, "files folder", entry, base)
        seen_at = check_guest_path(source, at, "/" + PurePosixPath(entry).as_posix().strip("/"))
        return FileMount(host=folder, guest=seen_at, writable=False)
    if not isinstance(entry, dict):
        message = f"a files entry must be a string or a table, got {describe(entry)}"
        raise source.error(at, message, value=True)
    item = TableReader(source, entry, at, "in a files entry", ("source", "destination"))
    host = item.required_text("source", "the folder to mount, relative to the manifest")
    guest = item.required_text("destination", 'where the component sees it, e.g. "/data"')
    return FileMount(
        host=check_folder(source, (*at, "source"), "files source folder", host, base),
        guest=check_guest_path(source, (*at, "destination"), guest),
        writable=False,
    )


def folder_of(pattern: str) -> str:
    """The folder part of a glob, for the hint: "static/*.html" -> "static"."""
    plain: list[str] = []
    for part in PurePosixPath(pattern).parts:
        if any(c in part for c in "*?[{"):
            break
        plain.append(part)
    return "/".join(plain) or "."


def store_names(reader: TableReader) -> tuple[str, ...]:
    """Only Spin's built-in "default" store: others need Spin's runtime config."""
    names = reader.strings("key_value_stores")
    for index, name in enumerate(names):
        if name != "default":
            message = f'key-value store "{name}" is not available to a spin.toml app'
            hint = 'use "default" (an SQLite file under .wasmbridge/), or write a wasmbridge.toml'
            raise reader.source.error(
                (*reader.path, "key_value_stores", index), message, value=True, hint=hint
            )
    return tuple(dict.fromkeys(names))
