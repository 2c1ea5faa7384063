"""``HttpRequest`` and ``HttpResponse``: one HTTP exchange as plain data.

The ASGI app (``app.py``) turns a scope and its body into an ``HttpRequest``,
handlers answer with an ``HttpResponse``; nothing here knows ASGI, so the
benchmark and the tests can call ``ServeApp.respond`` directly.

    >>> HttpResponse.text(404, "not found").headers
    [('content-type', 'text/plain; charset=utf-8')]
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["HttpRequest", "HttpResponse", "digits"]


def digits(text: str) -> bool:
    """Whether ``text`` is ASCII digits only, as HTTP and URLs write numbers
    (``str.isdigit`` also takes "²" and "٣", which ``int`` may refuse)."""
    return text.isascii() and text.isdigit()


@dataclass
class HttpRequest:
    """A request as received: raw path and query, lower-case header names."""

    method: str
    path: str  # raw (still percent-encoded), without the query
    query: str = ""  # raw, without the "?"
    headers: list[tuple[str, str]] = field(default_factory=list)  # names lower-case
    body: bytes = b""
    scheme: str = "http"
    host: str = ""  # the Host header, else the server address
    client: tuple[str, int] | None = None
    server: tuple[str, int] | None = None
    http_version: str = "1.1"  # as the client spoke it: "1.0", "1.1", "2"
    root_path: str = ""  # where the app is mounted inside another (Starlette's Mount)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (lower-case), or None."""
        for key, value in self.headers:
            if key == name:
                return value
        return None


@dataclass
class HttpResponse:
    """A response to send: status, headers in order, the whole body."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def text(
        cls, status: int, body: str, *, headers: list[tuple[str, str]] | None = None
    ) -> HttpResponse:
        """A ``text/plain`` response (UTF-8)."""
        return cls(
            status, [("content-type", "text/plain; charset=utf-8"), *(headers or [])], body.encode()
        )

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (compared case-insensitively), or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None
