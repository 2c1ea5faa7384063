"""Route patterns: exact paths, ``:param`` segments and prefixes ending in ``/...``.

The most specific route wins, whatever the manifest's order: an exact path
first, then patterns with ``:param`` segments (more segments first, then, at
the first segment where two differ, a literal before a parameter), then
prefixes (the same order). ``/...`` matches every path.
Matching works on the raw (still percent-encoded) path; parameters are
decoded. For Wagi's CGI variables a match also carries ``script_name``
(the route without ``/...``, at least ``/``) and ``path_info`` (the rest of
the raw path), as Wagi sets them.

    >>> router = Router([("/items/:id", "item"), ("/...", "site")])
    >>> found = router.match("/items/7")
    >>> found.target, found.params
    ('item', (('id', '7'),))
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import unquote

__all__ = ["Match", "Router", "check_pattern"]

T = TypeVar("T")
PREFIX_SUFFIX = "/..."
# Matches of recent paths are kept (a Match is immutable): up to this many paths, each
# at most this long, so a client sending endless distinct paths costs bounded memory.
CACHED_PATHS = 4096
CACHED_PATH_CHARS = 256


@dataclass(frozen=True)
class Match(Generic[T]):
    """A route found for a path: its target, pattern and what the path filled in."""

    target: T
    pattern: str  # the route as written (Wagi's X_MATCHED_ROUTE)
    params: tuple[tuple[str, str], ...]
    script_name: str  # SCRIPT_NAME: the route without "/...", at least "/"
    path_info: str  # raw PATH_INFO: what follows script_name ("" for an exact route)


def check_pattern(pattern: str) -> str | None:
    """Why ``pattern`` is not a route pattern, or None when it is one."""
    if not pattern.startswith("/"):
        return f"route {pattern!r} must start with '/'"
    body = pattern[: -len(PREFIX_SUFFIX)] if pattern.endswith(PREFIX_SUFFIX) else pattern
    if "..." in body:
        return f"route {pattern!r}: '...' may only end a route, as '/...'"
    names: set[str] = set()
    for segment in body.split("/")[1:]:
        if segment.startswith(":"):
            name = segment[1:]
            if not name.isidentifier():
                return f"route {pattern!r}: parameter {segment!r} needs a name (':id')"
            if name in names:
                return f"route {pattern!r}: parameter {segment!r} appears twice"
            names.add(name)
    return None


class _Pattern(Generic[T]):
    """A pattern with parameters, or a prefix: its literal segments and parameter names."""

    __slots__ = ("pattern", "target", "segments")

    def __init__(self, pattern: str, target: T, matched: str) -> None:
        self.pattern = pattern  # as written
        self.target = target
        # Each segment of ``matched`` (the pattern without "/..."): (True, name) for
        # ":name", (False, text) for a literal.
        self.segments = tuple(
            (True, s[1:]) if s.startswith(":") else (False, s) for s in matched.split("/")[1:]
        )

    def match(self, parts: list[str]) -> tuple[tuple[str, str], ...] | None:
        """The parameters when ``parts`` (the path's segments) start with this pattern's."""
        params = []
        for (is_param, text), part in zip(self.segments, parts, strict=False):
            if is_param:
                if not part:
                    return None
                params.append((text, unquote(part)))
            elif text != part:
                return None
        return tuple(params)


def _specificity(pattern: _Pattern[T]) -> tuple[int, tuple[bool, ...]]:
    """Sorts the more specific pattern first."""
    return (-len(pattern.segments), tuple(is_param for is_param, _ in pattern.segments))


class Router(Generic[T]):
    """Finds the most specific route for a path; built once, then read by any thread."""

    def __init__(self, routes: Iterable[tuple[str, T]]) -> None:
        self._exact: dict[str, tuple[str, T]] = {}
        patterns: list[_Pattern[T]] = []
        prefixes: list[_Pattern[T]] = []
        for pattern, target in routes:
            problem = check_pattern(pattern)
            if problem is not None:
                raise ValueError(problem)
            if pattern.endswith(PREFIX_SUFFIX):
                prefix = _Pattern(pattern, target, pattern[: -len(PREFIX_SUFFIX)])
                prefixes.append(prefix)
            elif ":" in pattern:
                patterns.append(_Pattern(pattern, target, pattern))
            else:
                self._exact.setdefault(pattern, (pattern, target))
        # More segments first; then, at the first segment where they differ, a literal
        # before a parameter. Two patterns left tied have literals in the same places,
        # so at most one of them matches a path unless they are the same route.
        patterns.sort(key=_specificity)
        prefixes.sort(key=_specificity)
        self._patterns = tuple(patterns)
        self._prefixes = tuple(prefixes)
        self._cache: dict[str, Match[T] | None] = {}

    def match(self, path: str) -> Match[T] | None:
        """The most specific route for the raw ``path``, or None."""
        try:
            return self._cache[path]
        except KeyError:
            pass
        found = self._find(path)
        if len(path) <= CACHED_PATH_CHARS:
            if len(self._cache) >= CACHED_PATHS:
                self._cache.clear()
            self._cache[path] = found
        return found

    def _find(self, path: str) -> Match[T] | None:
        exact = self._exact.get(path)
        if exact is not None:
            return Match(exact[1], exact[0], (), path, "")
        parts = path.split("/")[1:]
        for compiled in self._patterns:
            if len(parts) == len(compiled.segments):
                params = compiled.match(parts)
                if params is not None:
                    return Match(compiled.target, compiled.pattern, params, path, "")
        for compiled in self._prefixes:
            count = len(compiled.segments)
            if count == 0:
                return Match(compiled.target, compiled.pattern, (), "/", path)
            if len(parts) >= count:
                params = compiled.match(parts)
                if params is not None:
                    script_name = "/" + "/".join(parts[:count])
                    return Match(
                        compiled.target,
                        compiled.pattern,
                        params,
                        script_name,
                        path[len(script_name) :],
                    )
        return None
