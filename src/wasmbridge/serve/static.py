"""Static routes: files under a folder, with MIME types, HEAD, ETag and Last-Modified.

A request path is decoded, then resolved under the folder; anything that
leaves it is a 404: ``..`` segments, encoded slashes or backslashes, NUL
bytes, and symlinks pointing outside. A folder is served as its
``index.html``. ``If-None-Match`` and ``If-Modified-Since`` give a 304.
"""

from __future__ import annotations

import mimetypes
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from .config import Route
from .http import HttpRequest, HttpResponse
from .router import Match

__all__ = ["StaticHandler", "content_type"]

# Types the browser needs exactly (application/wasm for instantiateStreaming), whatever
# the host's /etc/mime.types says.
MIME_TYPES = {
    ".wasm": "application/wasm",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".cjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ts": "text/plain; charset=utf-8",  # .d.ts glue, shown rather than an MPEG stream
    ".xml": "application/xml",
    ".pdf": "application/pdf",
}
INDEX = "index.html"
ALLOWED = ("GET", "HEAD")


def content_type(path: Path) -> str:
    """The Content-Type a file is served with."""
    known = MIME_TYPES.get(path.suffix.lower())
    if known is not None:
        return known
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


class StaticHandler:
    """Serves one static route's folder."""

    def __init__(self, route: Route) -> None:
        assert route.static is not None, "a static route names a folder"
        self.route = route
        self.root = route.static.resolve()

    def __call__(self, request: HttpRequest, match: Match[Any], request_id: str) -> HttpResponse:
        if request.method not in ALLOWED:
            return HttpResponse.text(405, "method not allowed", headers=[("allow", "GET, HEAD")])
        found = self.find(match.path_info if match.path_info else "/")
        if found is None:
            return HttpResponse.text(404, "not found")
        return self._serve(found, request)

    def find(self, raw: str) -> Path | None:
        """The file a raw path names under the root, or None (missing or outside)."""
        lowered = raw.lower()
        if "%2f" in lowered or "%5c" in lowered or "%00" in lowered or "\\" in raw:
            return None
        try:
            path = unquote(raw, errors="strict") if "%" in raw else raw
        except UnicodeDecodeError:
            return None
        if "\0" in path:
            return None
        parts = [p for p in path.split("/") if p not in ("", ".")]
        if any(p == ".." for p in parts):
            return None
        candidate = self.root.joinpath(*parts)
        try:
            resolved = candidate.resolve(strict=True)
        except (OSError, RuntimeError, ValueError):
            return None
        if resolved != self.root and not resolved.is_relative_to(self.root):
            return None  # a symlink out of the folder
        if resolved.is_dir():
            resolved = resolved / INDEX
            try:
                resolved = resolved.resolve(strict=True)
            except (OSError, RuntimeError):
                return None
            if not resolved.is_relative_to(self.root):
                return None
        elif path.endswith("/"):
            return None  # "/file.txt/" names a folder, and there is none
        return resolved if resolved.is_file() else None

    def _serve(self, path: Path, request: HttpRequest) -> HttpResponse:
        try:
            stat = path.stat()
        except OSError:
            return HttpResponse.text(404, "not found")
        etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
        modified = formatdate(stat.st_mtime, usegmt=True)
        headers = [
            ("content-type", content_type(path)),
            ("etag", etag),
            ("last-modified", modified),
        ]
        if _not_modified(request, etag, stat.st_mtime):
            return HttpResponse(304, headers, b"")
        if request.method == "HEAD":
            return HttpResponse(200, [*headers, ("content-length", str(stat.st_size))], b"")
        try:
            body = path.read_bytes()
        except OSError:
            return HttpResponse.text(404, "not found")
        return HttpResponse(200, headers, body)


def _not_modified(request: HttpRequest, etag: str, mtime: float) -> bool:
    given = request.header("if-none-match")
    if given is not None:
        return any(tag.strip() in (etag, "*", f"W/{etag}") for tag in given.split(","))
    since = request.header("if-modified-since")
    if since is None:
        return False
    try:
        return int(mtime) <= parsedate_to_datetime(since).timestamp()
    except (TypeError, ValueError, OverflowError):
        return False
