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

# WIT's keywords (those of wasm-tools 1.262, plus the older float32/float64); an
# identifier spelled like one takes a `%`, which WIT allows before any identifier.
KEYWORDS = frozenset(
    """as async bool borrow char constructor enum error-context export f32 f64 flags float32
    float64 from func future import include interface list map option own package record
    resource result s16 s32 s64 s8 static stream string tuple type u16 u32 u64 u8 use variant
    with world""".split()
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


def name_key(name: str) -> str:
    """What WIT compares when it checks names in one namespace for clashes: the
    name without `%` and `-`, lowercased (`memory-view` clashes with `memoryview`)."""
    return name.replace("%", "").replace("-", "").lower()


class Scope:
    """The WIT names given in one namespace (a record's fields, a world's items, ...).

    ``rust_of`` is keyed by ``name_key``, so two names WIT would take for one
    clash here too.
    """

    def __init__(self) -> None:
        self.by_rust: dict[str, str] = {}
        self.rust_of: dict[str, str] = {}
        self.invented_for: set[str] = set()

    def __contains__(self, name: str) -> bool:
        return name_key(name) in self.rust_of

    def reserve(self, name: str, rust: str = "") -> None:
        self.rust_of.setdefault(name_key(name), rust)

    def pick(self, rust: str) -> tuple[str | None, str]:
        """``rust``'s WIT name here, or None and why it has none (it cannot be
        spelled, or another name of this namespace already became it)."""
        name = wit_name(rust)
        if name is None:
            return None, "WIT cannot spell its name"
        if name in self:
            other = self.rust_of[name_key(name)]
            if not other:
                return None, f"its WIT name `{name}` is taken"
            return None, f"its WIT name `{name}` clashes with that of {shown(other, 40)!r}"
        self.reserve(name, rust)
        self.by_rust.setdefault(rust, name)
        return name, ""

    def name(self, rust: str) -> str:
        """The WIT name ``rust`` was given here."""
        return self.by_rust[rust]

    def invented(self, rust: str, fallback: str) -> str:
        """``rust``'s WIT name, or ``fallback`` (made unique) when it has none or
        its WIT name is taken; ``rust_note`` then says so."""
        name, _ = self.pick(rust)
        if name is not None:
            return name
        name = fallback
        while name in self:
            name += "-x"
        self.reserve(name, rust)
        self.by_rust.setdefault(rust, name)
        self.invented_for.add(rust)
        return name

    def rust_note(self, rust: str) -> str:
        """Why an invented name stands for ``rust`` ("" when none was invented)."""
        if rust not in self.invented_for:
            return ""
        return f"named {shown(rust, 40)!r} in the module, which has no WIT name here"

    def note(self, rust: str) -> str:
        """``rust_note`` as a trailing comment."""
        text = self.rust_note(rust)
        return f" // {text}" if text else ""
