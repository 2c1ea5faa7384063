"""Outbound HTTP from handlers, only to the origins a route allows.

Allowlist entries take Spin's form ``scheme://host:port``:

* ``scheme``: ``http``, ``https``, another scheme, or ``*`` for any;
* ``host``: a name, an IPv4 address, ``[IPv6]``, ``*`` for any host, or
  ``*.example.com`` for every subdomain of example.com (not example.com);
* ``port``: a number, a range ``8000-8999``, or ``*`` for any; without a port,
  the scheme's default (http 80, https 443).

No entry allows nothing. A URL is parsed once (httpx's parser) and that
same parsed URL is both checked and sent, so no two parsers can disagree
about which host is meant. Redirects are never followed (a 3xx comes back
to the guest, which may send the next request itself, checked again), no
proxy from the environment is used, and a denied URL opens no connection.

    >>> policy = OutboundPolicy(["http://127.0.0.1:9000", "https://*.example.com"])
    >>> policy.allows("https://api.example.com/v1"), policy.allows("http://127.0.0.1:9001/")
    (True, False)
"""

from __future__ import annotations

import functools
import http.cookiejar
import ipaddress
import os
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

import h11
import httpx

from ...errors import OutboundError
from ..http import digits

__all__ = [
    "DEFAULT_PORTS",
    "MAX_REPLY_BYTES",
    "AllowedOrigin",
    "OutboundError",
    "OutboundFailure",
    "OutboundPolicy",
    "OutboundReply",
    "parse_allowed",
    "send",
]

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_REPLY_BYTES = 16 * 1024 * 1024  # a reply body larger than this is refused
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*|\*")
_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token: methods, header names


class OutboundFailure(IntEnum):
    """Why an outbound request failed; the number is the guest-visible kind byte."""

    NOT_ALLOWED = 1
    INVALID_REQUEST = 2
    FAILED = 3
    TIMEOUT = 4
    TOO_LARGE = 5


@dataclass(frozen=True)
class OutboundReply:
    """A whole answer: status, lower-case headers in order, body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class AllowedOrigin:
    """One parsed allowlist entry."""

    scheme: str  # lower-case, or "*"
    host: str  # lower-case name or canonical IP, "*", or "*.suffix"
    ports: tuple[int, int] | None  # inclusive range; None for any port

    def matches(self, scheme: str, host: str, port: int) -> bool:
        if self.scheme not in ("*", scheme):
            return False
        if self.ports is not None and not self.ports[0] <= port <= self.ports[1]:
            return False
        if self.host == "*":
            return True
        if self.host.startswith("*."):
            return host.endswith(self.host[1:]) and len(host) > len(self.host) - 1
        return host == self.host


def parse_allowed(entry: str) -> AllowedOrigin:
    """Parse ``scheme://host[:port]``; ValueError says what is wrong with ``entry``."""
    scheme, sep, rest = entry.strip().partition("://")
    scheme = scheme.lower()
    if not sep or not _SCHEME.fullmatch(scheme):
        raise ValueError(f'{entry!r} is not scheme://host:port (e.g. "https://example.com")')
    if rest.endswith("/"):
        rest = rest[:-1]
    if any(c in rest for c in "/?#@"):
        raise ValueError(
            f"{entry!r}: an allowed host is scheme://host:port, without path, query or user name"
        )
    host, port_text = _split_port(entry, rest)
    return AllowedOrigin(scheme, _entry_host(entry, host), _ports(entry, scheme, port_text))


def _split_port(entry: str, rest: str) -> tuple[str, str | None]:
    if rest.startswith("["):
        close = rest.find("]")
        if close < 0:
            raise ValueError(f"{entry!r}: an IPv6 address needs its closing ']'")
        after = rest[close + 1 :]
        if after and not after.startswith(":"):
            raise ValueError(f"{entry!r}: expected ':port' after the IPv6 address")
        return rest[: close + 1], after[1:] if after else None
    host, sep, port = rest.rpartition(":")
    return (host, port) if sep else (rest, None)


def _entry_host(entry: str, host: str) -> str:
    if host == "*":
        return host
    if host.startswith("*."):
        return "*." + _name(entry, host[2:])
    if host.startswith("["):
        try:
            return str(ipaddress.IPv6Address(host[1:-1]))
        except ValueError:
            raise ValueError(f"{entry!r}: {host} is not an IPv6 address") from None
    if "*" in host:
        raise ValueError(f"{entry!r}: '*' stands for a whole host or a leading label ('*.a.com')")
    return _name(entry, host)


def _name(entry: str, host: str) -> str:
    """A host name or IPv4 address, lower-case and IDNA-encoded as httpx sends it."""
    try:
        raw = httpx.URL(f"http://{host}/").raw_host.decode("ascii").lower()
    except (httpx.InvalidURL, UnicodeError):
        raw = ""
    if not raw or not all(_LABEL.fullmatch(label) for label in raw.split(".")):
        raise ValueError(f"{entry!r}: {host!r} is not a host name or address")
    return canonical_host(raw)


def _ports(entry: str, scheme: str, text: str | None) -> tuple[int, int] | None:
    if text is None or text == "":
        default = DEFAULT_PORTS.get(scheme)
        if default is None:
            raise ValueError(f"{entry!r}: give a port (only http and https have a default)")
        return (default, default)
    if text == "*":
        return None
    low, sep, high = text.partition("-")
    if not digits(low) or (sep and not digits(high)):
        raise ValueError(f"{entry!r}: port {text!r} is not a number, a range a-b or '*'")
    ports = (int(low), int(high) if sep else int(low))
    if not 0 < ports[0] <= ports[1] <= 65535:
        raise ValueError(f"{entry!r}: port {text!r} is outside 1-65535")
    return ports


def canonical_host(host: str) -> str:
    """A host as compared: lower-case; an IP address in its canonical form."""
    host = host.lower()
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


class OutboundPolicy:
    """A route's ``allowed_outbound_hosts``, parsed once; ``allows(url)`` checks a URL."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        self.entries = tuple(entries)
        self.origins = tuple(parse_allowed(entry) for entry in self.entries)

    @staticmethod
    @functools.lru_cache(maxsize=256)
    def for_entries(entries: tuple[str, ...]) -> OutboundPolicy:
        """The policy of ``entries``, parsed once per process (a route's allowlist)."""
        return OutboundPolicy(entries)

    def check(self, url: str) -> httpx.URL:
        """``url`` parsed, if allowed; else OutboundError (NOT_ALLOWED or INVALID_REQUEST)."""
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, UnicodeError) as exc:
            raise OutboundError(
                OutboundFailure.INVALID_REQUEST, f"bad URL {url!r:.200}: {exc}"
            ) from None
        scheme = parsed.scheme
        if scheme not in DEFAULT_PORTS or not parsed.raw_host:
            raise OutboundError(
                OutboundFailure.INVALID_REQUEST,
                f"bad URL {url!r:.200}: only absolute http:// and https:// URLs can be sent",
            )
        if parsed.userinfo:
            raise OutboundError(
                OutboundFailure.INVALID_REQUEST,
                f"bad URL {url!r:.200}: user names and passwords in URLs are not sent; "
                "use an authorization header",
            )
        host = canonical_host(parsed.raw_host.decode("ascii"))
        port = parsed.port or DEFAULT_PORTS[scheme]
        if not any(origin.matches(scheme, host, port) for origin in self.origins):
            origin = f"{scheme}://{_show_host(host)}:{port}"
            allowed = ", ".join(self.entries) or "none"
            raise OutboundError(
                OutboundFailure.NOT_ALLOWED,
                f"outbound request to {origin} is not allowed for this route "
                f"(allowed_outbound_hosts: {allowed})",
                hint=f'add "{origin}" to the route\'s allowed_outbound_hosts',
            )
        return parsed

    def allows(self, url: str) -> bool:
        """True if ``url`` may be sent (an absolute http(s) URL to an allowed origin)."""
        try:
            self.check(url)
        except OutboundError:
            return False
        return True

    def send(
        self,
        method: str,
        url: str,
        headers: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
        *,
        timeout: float = 30.0,
        max_bytes: int = MAX_REPLY_BYTES,
    ) -> OutboundReply:
        """Check ``url``, then send; OutboundError for a refusal or a failure."""
        return send(method, self.check(url), headers, body, timeout=timeout, max_bytes=max_bytes)


def _show_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


# Request headers the server sets itself, from the URL and the body; a guest may not.
FRAMING_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "upgrade"}
)
# httpx's default request headers the guest's requests do not carry.
UNSENT_DEFAULT_HEADERS = ("accept", "accept-encoding", "user-agent")
# One client per process: connection pools and TLS contexts are costly to make.
_client: tuple[int, httpx.Client] | None = None
_client_lock = threading.Lock()


def _shared_client() -> httpx.Client:
    global _client
    pid = os.getpid()
    with _client_lock:
        if _client is None or _client[0] != pid:
            # trust_env=False: no proxy or .netrc from the environment; the policy
            # checked the origin the connection really goes to.
            # A jar that accepts no cookie: the client is shared by every request and
            # route of the process, and no state may pass from one request to another.
            jar = http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
            client = httpx.Client(follow_redirects=False, trust_env=False, cookies=jar)
            # A request carries the guest's headers, not the client's defaults: no
            # Accept-Encoding the guest did not ask for, no User-Agent naming httpx.
            for name in UNSENT_DEFAULT_HEADERS:
                del client.headers[name]
            _client = (pid, client)
        return _client[1]


def send(
    method: str,
    url: httpx.URL,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    *,
    timeout: float,
    max_bytes: int = MAX_REPLY_BYTES,
) -> OutboundReply:
    """Send a request to an already checked ``url``; the whole reply, at most ``max_bytes``."""
    _check_request(method, headers)
    where = (
        f"{method} {url.scheme}://{_show_host(url.host)}:{url.port or DEFAULT_PORTS[url.scheme]}"
    )
    client = _shared_client()
    try:
        request = client.build_request(
            method, url, headers=list(headers), content=body, timeout=timeout
        )
        response = client.send(request, stream=True)
        try:
            data = _read_capped(response, max_bytes, where)
        finally:
            response.close()
    except httpx.TimeoutException as exc:
        message = f"{where} timed out after {timeout:g} s ({exc})"
        raise OutboundError(OutboundFailure.TIMEOUT, message) from None
    except (
        httpx.InvalidURL,
        httpx.UnsupportedProtocol,
        httpx.LocalProtocolError,
        h11.LocalProtocolError,  # raised through httpx's transport unwrapped in some cases
    ) as exc:
        message = f"{where} is malformed: {exc}"
        raise OutboundError(OutboundFailure.INVALID_REQUEST, message) from None
    except httpx.HTTPError as exc:
        message = f"{where} failed: {str(exc) or type(exc).__name__}"
        raise OutboundError(OutboundFailure.FAILED, message) from None
    found = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in response.headers.raw]
    return OutboundReply(response.status_code, found, data)


def _read_capped(response: httpx.Response, max_bytes: int, where: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    # The body as sent (a gzip body stays gzip): its headers describe these bytes.
    for chunk in response.iter_raw():
        size += len(chunk)
        if size > max_bytes:
            raise OutboundError(
                OutboundFailure.TOO_LARGE,
                f"{where}: the reply body is larger than {max_bytes:,} bytes",
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _check_request(method: str, headers: Sequence[tuple[str, str]]) -> None:
    if not _TOKEN.fullmatch(method):
        raise OutboundError(OutboundFailure.INVALID_REQUEST, f"bad HTTP method {method!r:.40}")
    for name, value in headers:
        if not _TOKEN.fullmatch(name):
            raise OutboundError(OutboundFailure.INVALID_REQUEST, f"bad header name {name!r:.60}")
        if name.lower() in FRAMING_HEADERS:
            # The server frames the request from the URL and the body it sends; a guest's
            # own framing could contradict it (two lengths: a smuggled request).
            raise OutboundError(
                OutboundFailure.INVALID_REQUEST,
                f"header {name} is set by the server from the URL and the body; leave it out",
            )
        if any(c in value for c in "\r\n\0"):
            raise OutboundError(
                OutboundFailure.INVALID_REQUEST,
                f"header {name} has a line break or NUL in its value",
            )
