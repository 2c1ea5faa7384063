"""Read and validate a ``wasmbridge.toml`` (or a ``spin.toml``) into an AppConfig.

Everything is checked when the manifest loads, so a server never starts
with a route it cannot serve. Each mistake becomes one ``ManifestError``
naming the file, line and column, the key, and what to write instead::

    wasmbridge.toml:4:1: unknown key "modle" in [[route]] (did you mean "module"?)
      |
    4 | modle = "handlers/cart"
      | ^

Paths in the manifest are relative to the manifest's folder; the AppConfig
holds them absolute. The reference is docs/serve.md.

    >>> app = load_manifest("examples/shop/wasmbridge.toml")  # doctest: +SKIP
    >>> [route.path for route in app.routes]  # doctest: +SKIP
    ['/api/cart/...', '/...']
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path

from ..errors import ManifestError
from .config import AppConfig, FileMount, KvStoreConfig, Route, RouteKind, RouteLimits
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
    redis_url_problem,
    store_name_ok,
)
from .toml_locate import MAX_NESTING, KeyPath, ManifestSource, printable

__all__ = ["load_manifest"]

TOP_KEYS = ("name", "route", "kv")
ROUTE_KEYS = (
    "path",
    "kind",
    "module",
    "static",
    "key_value_stores",
    "allowed_outbound_hosts",
    "files",
    "env",
    "limits",
    "argv",
    "entrypoint",
)
MODULE_ONLY_KEYS = ROUTE_KEYS[4:]
WAGI_ONLY_KEYS = ("argv", "entrypoint")
FILE_KEYS = ("host", "guest", "mode")
KV_KEYS = ("backend", "path", "url")
LIMIT_MAXIMA = {
    "memory_mb": 4096,
    "timeout_ms": 600_000,
    "max_body_kb": 1024 * 1024,
    "max_response_kb": 1024 * 1024,
}
MAX_MANIFEST_BYTES = 1024 * 1024
_CREATE_HINT = "create a wasmbridge.toml (docs/serve.md shows one), or pass the manifest's path"
assert tuple(LIMIT_MAXIMA) == tuple(f.name for f in fields(RouteLimits))

_KEY_TUPLE = re.compile(r"\((?:'[^']*',? ?)+\)")
_TOML_POSITION = re.compile(r"(.*) \(at (?:line (\d+), column (\d+)|end of document)\)", re.S)


def load_manifest(path: Path | str) -> AppConfig:
    """Load and validate the manifest at ``path`` (a file, or a folder holding one).

    A file whose top level has ``spin_manifest_version`` (or which is named
    ``spin.toml``) is read as a Spin manifest; anything else as a
    ``wasmbridge.toml``. Every problem raises ManifestError with
    ``file:line:col`` and a caret line.
    """
    source = read_source(path)
    data = parse_toml(source)
    if "spin_manifest_version" in data or "spin_version" in data or source.path.name == "spin.toml":
        from .spin import read_spin_app

        return read_spin_app(source, data)
    return _WasmbridgeToml(source, data).app()


def read_source(path: Path | str) -> ManifestSource:
    """The manifest's text; a folder stands for its wasmbridge.toml (or spin.toml)."""
    given = Path(path)
    if given.is_dir():
        found = [given / n for n in ("wasmbridge.toml", "spin.toml") if (given / n).is_file()]
        if not found:
            raise ManifestError(
                f"{display_name(given)}: no wasmbridge.toml or spin.toml in this folder",
                hint=_CREATE_HINT,
            )
        given = found[0]
    try:
        size = given.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            raise ManifestError(
                f"{display_name(given)}: {size:,} bytes is too large for a manifest "
                f"(the limit is {MAX_MANIFEST_BYTES:,})",
                hint="a manifest lists routes; keep data in files the routes mount",
            )
        text = given.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(
            f"{display_name(given)}: no such file",
            hint=_CREATE_HINT,
        ) from None
    except UnicodeDecodeError as exc:
        raise ManifestError(
            f"{display_name(given)}: not UTF-8 text (byte {exc.start})",
            hint="save the manifest as UTF-8",
        ) from None
    except OSError as exc:
        raise ManifestError(f"{display_name(given)}: cannot read: {exc.strerror}") from None
    # A byte-order mark (some Windows editors write one) is not part of the TOML.
    return ManifestSource(display_name(given), text.removeprefix("\ufeff"), given.resolve())


def display_name(path: Path) -> str:
    """The path as the user gave it, made relative when it lies under the current folder."""
    if path.is_absolute():
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)
    return str(path)


def parse_toml(source: ManifestSource) -> dict[str, object]:
    """tomllib's parse; a syntax error becomes a ManifestError at its line and column.

    Arrays and inline tables nested past MAX_NESTING are refused first (the
    scan of the text found them), since tomllib would recurse once per level.
    """
    if source.spots.too_deep is not None:
        raise _too_deep(source, *source.spots.position(source.spots.too_deep))
    try:
        return tomllib.loads(source.text)
    except RecursionError:
        raise _too_deep(source, 1, 1) from None
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_POSITION.fullmatch(str(exc))
        what = _KEY_TUPLE.sub(_dotted, match.group(1) if match else str(exc))
        if match and match.group(2):
            line, column = int(match.group(2)), int(match.group(3))
        else:
            lines = source.text.split("\n")
            line, column = len(lines), len(lines[-1]) + 1
        what = printable(what, 200)
        raise source.error_at(line, column, f"invalid TOML: {what[:1].lower()}{what[1:]}") from None


def _too_deep(source: ManifestSource, line: int, column: int) -> ManifestError:
    too_deep = f"nest too deeply (more than {MAX_NESTING} levels)"
    return source.error_at(
        line,
        column,
        f"invalid TOML: arrays and inline tables {too_deep}",
        hint="a manifest needs only a few levels: flatten the value",
    )


def _dotted(found: re.Match[str]) -> str:
    """tomllib names keys as tuples, ('route', 'limits'); users write route.limits."""
    return ".".join(re.findall(r"'([^']*)'", found.group(0)))


# ------------------------------------------------------------- wasmbridge.toml


class _WasmbridgeToml:
    """The wasmbridge.toml schema: name, [[route]] tables and [kv.NAME] stores."""

    def __init__(self, source: ManifestSource, data: dict[str, object]) -> None:
        self.source = source
        self.base = source.path.parent
        self.top = TableReader(source, data, (), "at the top level", TOP_KEYS)

    def app(self) -> AppConfig:
        name = check_app_name(
            self.top, "name", self.top.required_text("name", 'the app\'s name, e.g. name = "shop"')
        )
        stores = self.stores()
        hint = "write each route as a [[route]] table (two brackets)"
        tables = self.top.tables("route", hint=hint)
        if not tables:
            raise self.source.error(
                (),
                "no routes",
                header=True,
                hint='add a [[route]] table with path = "/..." and a module or static folder',
            )
        located = [
            (("route", i, "path"), self.route(i, table, stores)) for i, table in enumerate(tables)
        ]
        check_unique_routes(self.source, located)
        routes = tuple(route for _, route in located)
        named = sorted({store for route in routes for store in route.key_value_stores})
        kv = tuple(stores.get(s) or default_store(s, self.base) for s in named)
        return AppConfig(name=name, manifest=self.source.path, routes=routes, kv=kv)

    def stores(self) -> dict[str, KvStoreConfig]:
        stores: dict[str, KvStoreConfig] = {}
        for name, table in self.top.table("kv").items():
            path: KeyPath = ("kv", name)
            if not isinstance(table, dict):
                message = f'"kv.{name}" must be a table, got {describe(table)}'
                raise self.source.error(
                    path, message, value=True, hint=f"write [kv.{name}] with backend = ..."
                )
            if not store_name_ok(name):
                raise self.source.error(
                    path, f'store name "{name}" must be letters, digits, "-" and "_"'
                )
            stores[name] = self.store(
                name, TableReader(self.source, table, path, f"in [kv.{name}]", KV_KEYS)
            )
        return stores

    def store(self, name: str, reader: TableReader) -> KvStoreConfig:
        backend = reader.choice("backend", ("sqlite", "redis")) or "sqlite"
        file, url = reader.text("path"), reader.text("url")
        if backend == "sqlite":
            if url is not None:
                raise reader.error(
                    "url",
                    '"url" is for backend = "redis"; an SQLite store takes "path"',
                    hint='add backend = "redis", or remove url',
                )
            if file is None:
                return replace(default_store(name, self.base), where=reader.where())
            if (self.base / file).is_dir():
                raise reader.error(
                    "path",
                    f'path "{file}" is a folder; an SQLite store needs a file name',
                    value=True,
                )
            path = (self.base / file).resolve()
            return KvStoreConfig(name, "sqlite", path=path, where=reader.where())
        if file is not None:
            raise reader.error(
                "path", '"path" is for backend = "sqlite"; a Redis store takes "url"'
            )
        if url is None:
            raise reader.missing("url", 'a Redis store needs url = "redis://host:port/db"')
        problem = redis_url_problem(url)
        if problem is not None:
            raise reader.error(
                "url",
                f'url "{printable(url, 80)}" {problem}',
                value=True,
                hint='write "redis://host:port/db" (rediss:// for TLS, unix:///path for a socket)',
            )
        return KvStoreConfig(name, "redis", url=url, where=reader.where())

    def route(
        self, index: int, table: dict[str, object], stores: Mapping[str, KvStoreConfig]
    ) -> Route:
        reader = TableReader(self.source, table, ("route", index), "in [[route]]", ROUTE_KEYS)
        path = check_route_path(
            reader,
            "path",
            reader.required_text("path", 'the URL path it serves, e.g. path = "/api/..."'),
        )
        kind = self.kind(reader, path)
        if kind == "static":
            static = check_folder(
                self.source,
                (*reader.path, "static"),
                "static folder",
                reader.required_text("static", ""),
                self.base,
            )
            return Route(path=path, kind="static", module=None, static=static, where=reader.where())
        for key in WAGI_ONLY_KEYS:
            if kind != "wagi" and key in table:
                raise reader.error(
                    key,
                    f'"{key}" applies to kind = "wagi" routes only',
                    hint='add kind = "wagi", or remove it',
                )
        module = check_module(reader, "module", reader.required_text("module", ""), self.base)
        files = self.files(reader)
        return Route(
            path=path,
            kind=kind,
            module=module,
            static=None,
            key_value_stores=self.store_names(reader, stores),
            allowed_outbound_hosts=check_outbound_hosts(reader, "allowed_outbound_hosts"),
            files=files,
            env=check_env(reader, "env"),
            limits=self.limits(reader),
            argv=_or(reader.text("argv"), Route.argv),
            entrypoint=_or(reader.text("entrypoint"), Route.entrypoint),
            where=reader.where(),
        )

    def kind(self, reader: TableReader, path: str) -> RouteKind:
        """bridge, wagi or static: as written, else from whether module or static is given."""
        kind = reader.choice("kind", ("bridge", "wagi", "static"))
        module, static = reader.text("module"), reader.text("static")
        if module is not None and static is not None:
            raise reader.error(
                "static",
                'a route has "module" or "static", not both',
                hint="split it into two [[route]] tables",
            )
        if module is None and static is None:
            raise reader.missing(
                "module", 'a .wasm file or crate folder; or "static" with a folder'
            )
        if kind is None:
            kind = "bridge" if module is not None else "static"
        if kind == "static" and module is not None:
            raise reader.error(
                "kind",
                'kind = "static" serves a folder given as "static", not "module"',
                value=True,
            )
        if kind != "static" and static is not None:
            raise reader.error(
                "kind",
                f'kind = "{kind}" runs a "module", not a "static" folder',
                value=True,
                hint="remove kind to serve the folder",
            )
        if kind == "static":
            for key in MODULE_ONLY_KEYS:
                if key in reader.data:
                    message = (
                        f'"{key}" applies to module routes; static route "{path}" serves files'
                    )
                    raise reader.error(key, message)
        return "bridge" if kind == "bridge" else "wagi" if kind == "wagi" else "static"

    def files(self, reader: TableReader) -> tuple[FileMount, ...]:
        mounts: list[FileMount] = []
        hint = 'write files = [{ host = "data", guest = "/data" }]'
        for index, entry in enumerate(reader.tables("files", hint=hint)):
            path = (*reader.path, "files", index)
            item = TableReader(self.source, entry, path, "in a files entry", FILE_KEYS)
            host = item.required_text("host", "the folder to mount, relative to the manifest")
            guest = item.required_text("guest", 'where the guest sees it, e.g. "/data"')
            mode = item.choice("mode", ("ro", "rw")) or "ro"
            mounts.append(
                FileMount(
                    host=check_folder(
                        self.source, (*path, "host"), "files host folder", host, self.base
                    ),
                    guest=check_guest_path(self.source, (*path, "guest"), guest),
                    writable=mode == "rw",
                )
            )
        check_unique_guests(self.source, (*reader.path, "files"), mounts)
        return tuple(mounts)

    def store_names(
        self, reader: TableReader, stores: Mapping[str, KvStoreConfig]
    ) -> tuple[str, ...]:
        names = reader.strings("key_value_stores")
        for index, name in enumerate(names):
            at = (*reader.path, "key_value_stores", index)
            if name != "default" and name not in stores:
                close = did_you_mean(name, [*stores, "default"])
                message = f'key-value store "{name}" is not declared{close}'
                raise self.source.error(
                    at, message, value=True, hint=f'add a [kv.{name}] table, or use "default"'
                )
            if name in names[:index]:
                raise self.source.error(at, f'key-value store "{name}" is listed twice', value=True)
        return names

    def limits(self, reader: TableReader) -> RouteLimits:
        table = reader.table("limits")
        limits = TableReader(
            self.source, table, (*reader.path, "limits"), "in limits", tuple(LIMIT_MAXIMA)
        )
        defaults = RouteLimits()
        values = {
            key: limits.integer(key, getattr(defaults, key), high)
            for key, high in LIMIT_MAXIMA.items()
        }
        return RouteLimits(**values)


def _or(value: str | None, default: str) -> str:
    return default if value is None else value
