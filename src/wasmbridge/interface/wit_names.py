"""WIT identifiers for the names a module carries.

WIT spells names in kebab case: words of ASCII lowercase letters and
digits, each starting with a letter, joined by ``-``; a keyword gets a
leading ``%``. Rust names convert word by word (``count_to`` ->
``count-to``, ``HttpServer`` -> ``http-server``); a name with no such
form (non-ASCII, starting with a digit) has none.
"""

from __future__ import annotations

import re

from .types import shown

# WIT's keywords (wit-parser's lexer); an identifier spelled like one takes a `%`.
KEYWORDS = frozenset(
    """as async bool borrow char constructor enum error-context export f32 f64 flags float32
    float64 func future import include interface list option own package record resource
    result s16 s32 s64 s8 static stream string tuple type u16 u32 u64 u8 use variant with
    world""".split()
)

_ASCII_NAME = re.compile(r"[A-Za-z0-9_-]+")
# Word boundaries inside a token: lower or digit -> Upper, and the last capital
# of an acronym before a capitalised word (HTTPServer -> HTTP Server).
_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


class WitError(ValueError):
    """The interface cannot be written as WIT; the message names what and why."""


def wit_name(name: str) -> str | None:
    """The WIT identifier for a Rust name, or None when WIT cannot spell it.

    >>> wit_name("count_to"), wit_name("HTTPServer"), wit_name("type"), wit_name("é")
    ('count-to', 'http-server', '%type', None)
    """
    if not _ASCII_NAME.fullmatch(name):
        return None
    words: list[str] = []
    for token in re.split(r"[-_]+", name):
        for word in _BOUNDARY.split(token):
            if not word:
                continue
            if word[0].isdigit():
                if not words:
                    return None
                words[-1] += word.lower()
            else:
                words.append(word.lower())
    if not words:
        return None
    ident = "-".join(words)
    return f"%{ident}" if ident in KEYWORDS else ident


class Scope:
    """The WIT names given in one namespace (a record's fields, a world's items, ...)."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.by_rust: dict[str, str] = {}
        self.taken: set[str] = set()
        self.invented_for: set[str] = set()

    def __contains__(self, name: str) -> bool:
        return name in self.taken

    def reserve(self, name: str) -> None:
        self.taken.add(name)

    def add(self, rust: str) -> str:
        """Name ``rust`` here, or raise WitError when WIT cannot spell it or
        another name already has its WIT form."""
        return self.required(rust, what=f"{self.what} `{shown(rust)}`")

    def required(self, rust: str, *, what: str) -> str:
        """As ``add``, naming the thing ``what`` in the error."""
        if rust in self.by_rust:
            return self.by_rust[rust]
        name = wit_name(rust)
        if name is None:
            raise WitError(
                f"{what} has no WIT name: WIT names are ASCII letters and digits in words "
                "joined by `-`, each word starting with a letter; rename it in the Rust source"
            )
        if name in self.taken:
            raise WitError(
                f"{what} and another name both become `{name}` in WIT; rename one in the "
                "Rust source"
            )
        self.taken.add(name)
        self.by_rust[rust] = name
        return name

    def name(self, rust: str) -> str:
        """The WIT name ``rust`` was given here."""
        return self.by_rust[rust]

    def invented(self, rust: str, fallback: str) -> str:
        """``rust``'s WIT name, or ``fallback`` (made unique) when it has none or
        its WIT name is taken; ``note`` then says so."""
        name = wit_name(rust)
        if name is None or name in self.taken:
            name = fallback
            while name in self.taken:
                name += "-x"
            self.invented_for.add(rust)
        self.taken.add(name)
        self.by_rust.setdefault(rust, name)
        return name

    def rust_note(self, rust: str) -> str:
        """Why an invented name stands for ``rust`` ("" when none was invented)."""
        if rust not in self.invented_for:
            return ""
        return f"named {shown(rust, 40)!r} in the module, which WIT cannot spell here"

    def note(self, rust: str) -> str:
        """``rust_note`` as a trailing comment."""
        text = self.rust_note(rust)
        return f" // {text}" if text else ""
