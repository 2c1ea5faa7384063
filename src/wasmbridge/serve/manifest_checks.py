"""Typed reading of manifest tables and the checks wasmbridge.toml and spin.toml share.

``TableReader`` rejects unknown keys (with a "did you mean") and reads typed
fields; the ``check_*`` functions validate route paths, modules, mounted
folders, environment variables and outbound hosts. Each failure is a
located ManifestError from the table's ManifestSource.

    >>> outbound_problem("example.com")
    ('has no scheme', 'write "https://example.com" (or http://)')
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from ..errors import ManifestError
from .config import FileMount, KvStoreConfig, Route
from .http import digits
from .services.outbound import parse_allowed
from .toml_locate import KeyPath, ManifestSource, printable

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_PARAM = re.compile(r":[A-Za-z_][A-Za-z0-9_]*")
_SEGMENT = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=@%-]+")
_SCHEME = re.compile(r"\*|[a-z][a-z0-9+.-]*")
_HOST = re.compile(r"\*|(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\]")
_DEFAULT_PORT_SCHEMES = ("http", "https")
_OUTBOUND_SCHEMES = ("http", "https", "*")  # guests send HTTP requests only
MAX_APP_NAME = 64
# The server answers these itself, before any route: a route there would never run.
RESERVED_PATHS = ("/healthz", "/metrics")


def describe(value: object) -> str:
    """A TOML value's type, with the value when it is short: 'an integer (42)'."""
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        kind = "an integer" if isinstance(value, int) else "a float"
        return f"{kind} ({value})"
    if isinstance(value, str):
        return f'a string ("{printable(value)}")' if len(value) <= 40 else "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime | date | time):
        return "a date-time"
    return type(value).__name__


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """' (did you mean "x"?)' for the closest choice, or ''."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


class TableReader:
    """One TOML table under validation: rejects unknown keys, reads typed fields.

    ``label`` completes "unknown key ... <label>": "in [[route]]", "at the top
    level". ``refused`` maps keys that mean something elsewhere (Spin) but are
    not supported here to the hint that says what to do instead.
    """

    def __init__(
        self,
        source: ManifestSource,
        data: Mapping[str, object],
        path: KeyPath,
        label: str,
        known: Sequence[str],
        refused: Mapping[str, str] | None = None,
    ) -> None:
        self.source = source
        self.data = data
        self.path = path
        self.label = label
        for key in data:
            if refused and key in refused:
                raise self.error(key, f'"{key}" {label} is not supported', hint=refused[key])
            if key not in known:
                raise self.error(
                    key,
                    f'unknown key "{printable(key, 60)}" {label}{did_you_mean(key, known)}',
                    hint=f"the keys {label} are: {', '.join(known)}",
                )

    def error(
        self, key: str | int, message: str, *, value: bool = False, hint: str | None = None
    ) -> ManifestError:
        """A located error for ``key`` of this table (at its value with ``value``)."""
        return self.source.error((*self.path, key), message, value=value, hint=hint)

    def missing(self, key: str, what: str) -> ManifestError:
        """The error for a required key that is absent: located at the table's header."""
        return self.source.error(self.path, f'missing "{key}" {self.label} ({what})', header=True)

    def where(self) -> str:
        """``file:line:col`` of this table's header."""
        return self.source.where(self.path, header=True)

    def text(self, key: str) -> str | None:
        """The string at ``key``, or None when absent."""
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            raise self.error(key, f'"{key}" must be a string, got {describe(value)}', value=True)
        return value

    def required_text(self, key: str, what: str) -> str:
        """The string at ``key``; absent is an error that says what it is for."""
        value = self.text(key)
        if value is None:
            raise self.missing(key, what)
        return value

    def choice(self, key: str, choices: Sequence[str]) -> str | None:
        """One of ``choices`` at ``key``, or None when absent."""
        value = self.text(key)
        if value is not None and value not in choices:
            quoted = [f'"{c}"' for c in choices]
            wanted = " or ".join(
                [", ".join(quoted[:-1]), quoted[-1]] if len(quoted) > 2 else quoted
            )
            close = did_you_mean(value, choices)
            message = f'"{key}" must be {wanted}, got "{printable(value, 60)}"{close}'
            raise self.error(key, message, value=True)
        return value

    def integer(self, key: str, default: int, high: int) -> int:
        """An integer from 1 to ``high`` at ``key``, or ``default`` when absent."""
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
            message = f'"{key}" must be an integer from 1 to {high}, got {describe(value)}'
            raise self.error(key, message, value=True)
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        """The array of strings at ``key`` (() when absent)."""
        value = self.data.get(key, [])
        if not isinstance(value, list):
            message = f'"{key}" must be an array of strings, got {describe(value)}'
            raise self.error(key, message, value=True)
        for index, item in enumerate(value):
            if not isinstance(item, str):
                message = (
                    f'"{key}" must be an array of strings; item {index + 1} is {describe(item)}'
                )
                raise self.source.error((*self.path, key, index), message, value=True)
        return tuple(value)

    def table(self, key: str) -> dict[str, object]:
        """The table at ``key`` ({} when absent)."""
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            raise self.error(key, f'"{key}" must be a table, got {describe(value)}', value=True)
        return value

    def tables(self, key: str, hint: str | None = None) -> list[dict[str, object]]:
        """The array of tables at ``key`` ([] when absent)."""
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            message = f'"{key}" must be an array of tables, got {describe(value)}'
            raise self.error(key, message, value=True, hint=hint)
        return value


def check_route_path(reader: TableReader, key: str, path: str) -> str:
    """A route pattern: "/", "/exact", "/items/:id", or a prefix "/api/..."."""

    def bad(message: str, hint: str | None = None) -> ManifestError:
        shown = printable(path, 100)
        return reader.error(key, f'route path "{shown}" {message}', value=True, hint=hint)

    if not path.startswith("/"):
        raise bad('must start with "/"', hint=f'write "/{path}"')
    if path == "/":
        return path
    segments = path[1:].split("/")
    params: set[str] = set()
    for index, segment in enumerate(segments):
        if segment == "...":
            if index != len(segments) - 1:
                raise bad(
                    'has "..." before its end',
                    hint='"..." matches the rest of the path, so it comes last: "/api/..."',
                )
        elif not segment:
            trimmed = "/" + "/".join(s for s in segments if s)
            raise bad(
                "has an empty segment",
                hint=f'write "{trimmed}", or "{trimmed.rstrip("/")}/..." for everything under it',
            )
        elif unquote(segment) in (".", ".."):  # "%2e%2e" too: URL parsers resolve it
            raise bad(
                f'has a "{segment}" segment, which clients resolve before they send a path',
                hint="write the path as it is requested, without . or .. segments",
            )
        elif segment.startswith(":"):
            if not _PARAM.fullmatch(segment):
                raise bad(
                    f'has a bad parameter "{segment}"',
                    hint='a parameter is ":" and a name of letters, digits and "_": ":id"',
                )
            if segment in params:
                raise bad(f'names the parameter "{segment}" twice')
            params.add(segment)
        elif "*" in segment:
            under = "/" + "/".join(segments[:index])
            raise bad(
                'has "*", which routes do not use',
                hint=f'"..." as the last segment matches everything under a prefix: '
                f'write "{under.rstrip("/")}/..."',
            )
        elif "..." in segment or not _SEGMENT.fullmatch(segment):
            raise bad(
                f'has a character a route cannot match in "{segment}"',
                hint='routes are plain path segments, ":name" parameters and a final "/..."',
            )
    reserved = path.removesuffix("/...")
    if reserved in RESERVED_PATHS:
        raise bad(
            "is reserved: the server answers /healthz and /metrics itself",
            hint=f'serve the route under another path, e.g. "/app{path}"',
        )
    return path


def check_unique_routes(source: ManifestSource, routes: Sequence[tuple[KeyPath, Route]]) -> None:
    """No two routes may match the same requests ("/items/:id" and "/items/:name" do)."""
    seen: dict[str, tuple[str, Route]] = {}
    for path, route in routes:
        shape = "/".join(":" if s.startswith(":") else s for s in route.path.split("/"))
        if shape in seen:
            first_path, first = seen[shape]
            same = "duplicate route path" if first_path == route.path else "route path"
            clash = (
                "" if first_path == route.path else f' matches the same requests as "{first_path}"'
            )
            message = f'{same} "{route.path}"{clash} (first at {first.where})'
            raise source.error(
                path, message, value=True, hint="give each route its own path, or merge the two"
            )
        seen[shape] = (route.path, route)


def check_module(reader: TableReader, key: str, value: str, base: Path) -> Path:
    """A route's module: an existing .wasm file or crate folder (with Cargo.toml)."""
    module = (base / value).resolve()
    hint = "give the path of a .wasm file or of a crate folder, relative to the manifest's folder"
    if not module.exists():
        raise reader.error(key, f'{key} "{value}" not found', value=True, hint=hint)
    if module.is_dir() and not (module / "Cargo.toml").is_file():
        raise reader.error(
            key, f'{key} "{value}" is a folder without Cargo.toml', value=True, hint=hint
        )
    if module.is_file() and module.suffix != ".wasm":
        raise reader.error(
            key, f'{key} "{value}" is not a .wasm file or a crate folder', value=True, hint=hint
        )
    return module


def check_folder(source: ManifestSource, path: KeyPath, what: str, value: str, base: Path) -> Path:
    """An existing folder named relative to the manifest's folder."""
    folder = (base / value).resolve()
    if not folder.exists():
        message = f'{what} "{value}" not found'
        raise source.error(
            path, message, value=True, hint="name a folder relative to the manifest's folder"
        )
    if not folder.is_dir():
        message = f'{what} "{value}" is not a folder'
        raise source.error(path, message, value=True, hint="mount the folder that holds it")
    return folder


def check_guest_path(source: ManifestSource, path: KeyPath, guest: str) -> str:
    """An absolute guest path without "..": where a mounted folder appears to the guest."""
    if not guest.startswith("/"):
        raise source.error(
            path, f'guest path "{guest}" must be absolute', value=True, hint=f'write "/{guest}"'
        )
    if ".." in PurePosixPath(guest).parts:
        raise source.error(path, f'guest path "{guest}" must not contain ".."', value=True)
    return guest


def check_unique_guests(source: ManifestSource, path: KeyPath, mounts: Sequence[FileMount]) -> None:
    """Two mounts at one guest path would hide one another."""
    seen: set[str] = set()
    for index, mount in enumerate(mounts):
        guest = str(PurePosixPath(mount.guest))
        if guest in seen:
            raise source.error((*path, index), f'two files entries mount at "{guest}"', value=True)
        seen.add(guest)


def check_env(reader: TableReader, key: str) -> tuple[tuple[str, str], ...]:
    """A table of environment variables: names without "=", string values."""
    table = reader.table(key)
    env = TableReader(reader.source, table, (*reader.path, key), f"in {key}", tuple(table))
    for name, value in table.items():
        if not name or "=" in name or "\0" in name:
            raise env.error(
                name, f'environment variable name "{name}" is not usable (empty, or has "=")'
            )
        if not isinstance(value, str):
            message = f'environment variable "{name}" must be a string, got {describe(value)}'
            shown = str(value).lower() if isinstance(value, bool) else str(value)
            raise env.error(name, message, value=True, hint=f'quote it: {name} = "{shown}"')
    return tuple((name, str(value)) for name, value in table.items())


def check_outbound_hosts(reader: TableReader, key: str) -> tuple[str, ...]:
    """Spin's allowlist form: "scheme://host[:port]", "*" for a host or port."""
    hosts = reader.strings(key)
    for index, entry in enumerate(hosts):
        problem = outbound_problem(entry)
        if problem:
            message, hint = problem
            raise reader.source.error(
                (*reader.path, key, index),
                f'outbound host "{entry}" {message}',
                value=True,
                hint=hint,
            )
    return hosts


def outbound_problem(entry: str) -> tuple[str, str] | None:
    """(what is wrong, the fix) for an allowed_outbound_hosts entry, or None when valid."""
    if entry == "*":
        return (
            "allows nothing by itself",
            'write "*://*:*" to allow every host (or list each origin)',
        )
    scheme, found, rest = entry.partition("://")
    if not found:
        return "has no scheme", f'write "https://{entry}" (or http://)'
    if not _SCHEME.fullmatch(scheme):
        return f'has a bad scheme "{scheme}"', 'a scheme is "http", "https" or "*"'
    if scheme not in _OUTBOUND_SCHEMES:
        return (
            f'has the scheme "{scheme}"; guests make HTTP requests only',
            f'write "http://{rest}" or "https://{rest}" (a scheme is "http", "https" or "*")',
        )
    origin, slash, _ = rest.partition("/")
    if slash:
        return "has a path; entries name an origin only", f'write "{scheme}://{origin}"'
    if "@" in origin or "?" in origin or "#" in origin:
        return (
            "must be scheme://host[:port] only",
            f'write "{scheme}://{origin.rpartition("@")[2]}"',
        )
    host, port = split_host_port(origin)
    if not host or not _HOST.fullmatch(host):
        return "has a bad host", 'a host is a name, an IP address, "*", or "*.example.com"'
    if port is None and scheme not in _DEFAULT_PORT_SCHEMES:
        return "needs a port", f'write "{scheme}://{host}:<port>" or "{scheme}://{host}:*"'
    if port is not None and port != "*" and not all(_port_ok(p) for p in port.split("-", 1)):
        return (
            f'has a bad port "{port}"',
            'a port is a number from 1 to 65535, a range such as "8000-8999", or "*"',
        )
    try:  # what the server will read it as (services/outbound.py) must take it too
        parse_allowed(entry)
    except ValueError as exc:
        return f"cannot be read ({exc})", 'write "scheme://host:port", e.g. "http://[::1]:8080"'
    return None


def _port_ok(text: str) -> bool:
    return digits(text) and 1 <= int(text) <= 65535


def split_host_port(origin: str) -> tuple[str, str | None]:
    """("host", "port") or ("host", None); IPv6 hosts keep their brackets."""
    if origin.startswith("["):
        host, _, tail = origin.partition("]")
        return host + "]", tail[1:] if tail.startswith(":") else None
    host, colon, port = origin.partition(":")
    return host, port if colon else None


def redis_url_problem(url: str) -> str | None:
    """What is wrong with a Redis store's url, or None."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. an IPv6 host without its "]"
        return f"cannot be read ({exc})"
    if parts.scheme not in ("redis", "rediss", "unix"):
        return "is not a Redis URL"
    if parts.scheme == "unix":
        return None if parts.path else "names no socket file"
    # No host or no port is fine: the Redis client's localhost and 6379.
    port = parts.netloc.rpartition("@")[2].rpartition("]")[2].partition(":")[2]
    if port and not _port_ok(port):
        return "has a bad port (a number from 1 to 65535)"
    database = parts.path.strip("/")
    if database and not digits(database):
        return f'has a bad database "{database}" (a number, e.g. /0)'
    return None


def default_store(name: str, base: Path) -> KvStoreConfig:
    """An SQLite store in the app's own ``.wasmbridge/kv.sqlite``."""
    return KvStoreConfig(name=name, backend="sqlite", path=base / ".wasmbridge" / "kv.sqlite")


def check_app_name(reader: TableReader, key: str, name: str) -> str:
    """A plain word of at most MAX_APP_NAME characters: stores are keyed by it."""
    if not _NAME.fullmatch(name):
        message = f'app name "{printable(name, 60)}" must be letters, digits, "-" and "_"'
        raise reader.error(
            key,
            message,
            value=True,
            hint="stores are keyed by app name, so it must be a plain word",
        )
    if len(name) > MAX_APP_NAME:
        message = f"app name is {len(name)} characters long; the limit is {MAX_APP_NAME}"
        raise reader.error(
            key, message, value=True, hint="stores are keyed by app name: a short word is enough"
        )
    return name


def store_name_ok(name: str) -> bool:
    """A store (or app) name is a plain word: letters, digits, "-" and "_"."""
    return _NAME.fullmatch(name) is not None
