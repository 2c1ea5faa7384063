"""Where a key or value sits in TOML text, for ``file:line:col`` messages.

``tomllib`` parses without positions, so this scanner reads the same text a
second time and remembers where each key, value and table header starts,
by key path: ``("route", 1, "limits", "memory_mb")`` is the ``memory_mb``
of the second ``[[route]]`` table, however it was written (``[route.limits]``,
a dotted key, or an inline table). Array elements are numbered too:
``("route", 0, "files", 0, "host")``.

The scanner is lenient: it never raises, whatever the text, and a path it
did not see falls back to the nearest enclosing table or key it did see.
It does not recurse without bound either: arrays and inline tables nested
more than ``MAX_NESTING`` deep stop the scan, and ``TomlSpots.too_deep``
says where (the loader refuses such a file before tomllib recurses into it).

    >>> spots = scan_toml('name = "shop"\\n[[route]]\\npath = "/"\\n')
    >>> spots.key(("route", 0, "path")), spots.value(("route", 0, "path"))
    ((3, 1), (3, 8))
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ManifestError

__all__ = ["MAX_NESTING", "KeyPath", "ManifestSource", "TomlSpots", "printable", "scan_toml"]

KeyPath = tuple[str | int, ...]

_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}
_SCALAR_END = frozenset(",]}#\n\r")
MAX_NESTING = 32  # arrays and inline tables inside one another; a manifest needs three or four
_SHOWN_LINE = 120  # a longer source line is shown as a window around the caret


def printable(text: str, limit: int | None = None) -> str:
    """``text`` safe for a one-line message: control, format (bidi) and other
    unprintable characters escaped (a newline shows as ``\\n``); with ``limit``,
    cut to that many characters and marked ``...``.

        >>> printable("a\\nb\\u202e"), printable("x" * 10, 4)
        ('a\\\\nb\\\\u202e', 'xxxx...')
    """
    if limit is not None and len(text) > limit:
        return printable(text[:limit]) + "..."
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@dataclass
class TomlSpots:
    """Offsets of keys, values and table headers in one TOML text, by key path."""

    text: str
    keys: dict[KeyPath, int] = field(default_factory=dict)
    values: dict[KeyPath, int] = field(default_factory=dict)
    headers: dict[KeyPath, int] = field(default_factory=dict)
    too_deep: int | None = None  # offset of the first bracket nested past MAX_NESTING
    _line_starts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._line_starts = [0] + [i + 1 for i, c in enumerate(self.text) if c == "\n"]

    def key(self, path: KeyPath) -> tuple[int, int]:
        """(line, column) of the key at ``path``, else of its nearest enclosing key or table."""
        return self.position(self._find(path, (self.keys, self.headers, self.values)))

    def value(self, path: KeyPath) -> tuple[int, int]:
        """(line, column) of the value at ``path``, else where its key is."""
        found = self.values.get(path)
        return self.position(found) if found is not None else self.key(path)

    def header(self, path: KeyPath) -> tuple[int, int]:
        """(line, column) of the table header for ``path`` (its value, when inline)."""
        return self.position(self._find(path, (self.headers, self.values, self.keys)))

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset; columns count characters."""
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    def line_text(self, line: int) -> str:
        """Line ``line`` (1-based) without its line break; "" past the end."""
        if not 1 <= line <= len(self._line_starts):
            return ""
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start : len(self.text) if end < 0 else end].rstrip("\r")

    def _find(self, path: KeyPath, tables: tuple[dict[KeyPath, int], ...]) -> int:
        for size in range(len(path), 0, -1):
            for table in tables:
                found = table.get(path[:size])
                if found is not None:
                    return found
        return 0


def scan_toml(text: str) -> TomlSpots:
    """Scan ``text`` once; never raises, even for text that is not TOML."""
    spots = TomlSpots(text)
    _Scanner(text, spots).document()
    return spots


class _Scanner:
    """A forgiving TOML reader that records positions instead of building values."""

    def __init__(self, text: str, spots: TomlSpots) -> None:
        self.text = text
        self.pos = 0
        self.spots = spots
        self.table: KeyPath = ()
        self.array_counts: dict[KeyPath, int] = {}
        self.depth = 0  # arrays and inline tables open around the current value

    def peek(self, ahead: int = 0) -> str:
        at = self.pos + ahead
        return self.text[at] if at < len(self.text) else ""

    def starts(self, token: str) -> bool:
        return self.text.startswith(token, self.pos)

    def document(self) -> None:
        while self.pos < len(self.text):
            self.skip_blank(newlines=True)
            start = self.pos
            char = self.peek()
            if char == "[":
                self.header()
            elif char in _BARE or char in "\"'":
                self.key_value(self.table)
            self.skip_line()
            if self.pos == start:
                self.pos += 1

    def skip_blank(self, *, newlines: bool) -> None:
        """Skip spaces and tabs, and with ``newlines`` also line breaks and comments."""
        while self.pos < len(self.text):
            char = self.peek()
            if char in " \t" or (newlines and char in "\r\n"):
                self.pos += 1
            elif newlines and char == "#":
                self.skip_line()
            else:
                return

    def skip_line(self) -> None:
        end = self.text.find("\n", self.pos)
        self.pos = len(self.text) if end < 0 else end + 1

    def header(self) -> None:
        start = self.pos
        array = self.starts("[[")
        self.pos += 2 if array else 1
        spelled = self.key_names()
        names = [name for name, _ in spelled]
        if not names:
            return
        parents = names[:-1] if array else names
        for size, (_, offset) in enumerate(spelled[: len(parents)], start=1):
            # [a.b.c] also says where keys a and b (of their tables) are spelled.
            self.spots.keys.setdefault(self.resolve(names[:size]), offset)
        resolved = self.resolve(parents)
        if array:
            base = (*resolved, names[-1])
            index = self.array_counts.get(base, -1) + 1
            self.array_counts[base] = index
            self.spots.keys.setdefault(base, start)
            resolved = (*base, index)
        self.table = resolved
        self.spots.headers.setdefault(resolved, start)

    def resolve(self, names: list[str]) -> KeyPath:
        """The key path of a header's names, with the current index of each array of tables."""
        path: KeyPath = ()
        for name in names:
            path = (*path, name)
            if path in self.array_counts:
                path = (*path, self.array_counts[path])
        return path

    def key_names(self) -> list[tuple[str, int]]:
        """A dotted key's names and offsets (recording nothing); [] when there is none."""
        names: list[tuple[str, int]] = []
        while True:
            self.skip_blank(newlines=False)
            start = self.pos
            name = self.one_key()
            if name is None:
                return names
            names.append((name, start))
            self.skip_blank(newlines=False)
            if self.peek() != ".":
                return names
            self.pos += 1

    def one_key(self) -> str | None:
        char = self.peek()
        if char == '"':
            return self.basic_string()
        if char == "'":
            return self.literal_string()
        start = self.pos
        while self.peek() in _BARE and self.peek():
            self.pos += 1
        return self.text[start : self.pos] if self.pos > start else None

    def key_value(self, table: KeyPath) -> None:
        """``a.b = value``: records each dotted prefix, the key, then the value."""
        path = table
        while True:
            self.skip_blank(newlines=False)
            start = self.pos
            name = self.one_key()
            if name is None:
                return
            path = (*path, name)
            self.spots.keys.setdefault(path, start)
            self.skip_blank(newlines=False)
            if self.peek() != ".":
                break
            self.pos += 1
        if self.peek() != "=":
            return
        self.pos += 1
        self.skip_blank(newlines=False)
        self.value(path)

    def value(self, path: KeyPath) -> None:
        self.spots.values.setdefault(path, self.pos)
        if self.starts('"""') or self.starts("'''"):
            self.multiline_string(self.peek())
        elif self.peek() == '"':
            self.basic_string()
        elif self.peek() == "'":
            self.literal_string()
        elif self.peek() in "[{" and self.depth >= MAX_NESTING:
            # Too deep to be a manifest: note where, and end the scan (no recursion past this).
            self.spots.too_deep = self.pos
            self.pos = len(self.text)
        elif self.peek() == "[":
            self.depth += 1
            self.array(path)
            self.depth -= 1
        elif self.peek() == "{":
            self.depth += 1
            self.inline_table(path)
            self.depth -= 1
        else:
            while self.peek() and self.peek() not in _SCALAR_END:
                self.pos += 1

    def array(self, path: KeyPath) -> None:
        self.pos += 1
        index = 0
        while self.pos < len(self.text):
            self.skip_blank(newlines=True)
            if self.peek() in ("]", ""):
                break
            start = self.pos
            self.value((*path, index))
            index += 1
            self.skip_blank(newlines=True)
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != "]" and self.pos == start:
                self.pos += 1
        if self.peek() == "]":
            self.pos += 1

    def inline_table(self, path: KeyPath) -> None:
        self.pos += 1
        while self.pos < len(self.text):
            self.skip_blank(newlines=True)
            if self.peek() in ("}", ""):
                break
            start = self.pos
            self.key_value(path)
            self.skip_blank(newlines=True)
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != "}" and self.pos == start:
                self.pos += 1
        if self.peek() == "}":
            self.pos += 1

    def basic_string(self) -> str:
        """A one-line "..." string, escapes decoded as far as needed for key names."""
        self.pos += 1
        out: list[str] = []
        while self.peek() not in ('"', "\n", ""):
            char = self.peek()
            if char == "\\":
                out.append(self.escape())
            else:
                out.append(char)
                self.pos += 1
        if self.peek() == '"':
            self.pos += 1
        return "".join(out)

    def escape(self) -> str:
        code = self.peek(1)
        self.pos += 2
        width = {"u": 4, "U": 8}.get(code, 0)
        if not width:
            return _ESCAPES.get(code, code)
        digits = self.text[self.pos : self.pos + width]
        self.pos += len(digits)
        try:
            return chr(int(digits, 16))
        except ValueError:
            return digits
        except OverflowError:
            return digits

    def literal_string(self) -> str:
        self.pos += 1
        end = self.pos
        while end < len(self.text) and self.text[end] not in "'\n":
            end += 1
        name = self.text[self.pos : end]
        self.pos = end + 1 if end < len(self.text) and self.text[end] == "'" else end
        return name

    def multiline_string(self, quote: str) -> None:
        self.pos += 3
        while self.pos < len(self.text):
            if quote == '"' and self.peek() == "\\":
                self.pos += 2
            elif self.starts(quote * 3):
                self.pos += 3
                # Up to two more quotes are content: """a""""" ends at the last quote.
                for _ in range(2):
                    if self.peek() == quote:
                        self.pos += 1
                return
            else:
                self.pos += 1
        self.pos = min(self.pos, len(self.text))


class ManifestSource:
    """One manifest's text and name, turning key paths into located ``ManifestError``s.

    Messages start ``name:line:col:`` and end with the offending line and a
    caret under the column, the way rustc and Spin show TOML errors::

        wasmbridge.toml:3:1: unknown key "pth" in [[route]] (did you mean "path"?)
          |
        3 | pth = "/"
          | ^
    """

    def __init__(self, name: str, text: str, path: Path) -> None:
        self.name = name
        self.text = text
        self.path = path
        self.spots = scan_toml(text)

    def where(self, path: KeyPath, *, value: bool = False, header: bool = False) -> str:
        """``name:line:col`` of a key (or its value, or its table header)."""
        line, column = self._spot(path, value=value, header=header)
        return f"{self.name}:{line}:{column}"

    def error(
        self,
        path: KeyPath,
        message: str,
        *,
        value: bool = False,
        header: bool = False,
        hint: str | None = None,
    ) -> ManifestError:
        """A ManifestError for the key at ``path`` (or its value or table header)."""
        line, column = self._spot(path, value=value, header=header)
        return self.error_at(line, column, message, hint=hint)

    def error_at(
        self, line: int, column: int, message: str, *, hint: str | None = None
    ) -> ManifestError:
        """A ManifestError at a known line and column (TOML syntax errors)."""
        # Messages quote keys and values from the file, and tomllib's own text:
        # escaped here, so a message is always one line and then the caret block.
        shown = printable(message)
        text = f"{self.name}:{line}:{column}: {shown}\n{caret_block(self.spots, line, column)}"
        return ManifestError(text, hint=None if hint is None else printable(hint))

    def _spot(self, path: KeyPath, *, value: bool, header: bool) -> tuple[int, int]:
        if header:
            return self.spots.header(path)
        return self.spots.value(path) if value else self.spots.key(path)


def caret_block(spots: TomlSpots, line: int, column: int) -> str:
    """The source line under a gutter with its number, and a caret under ``column``.

    Tabs show as one space and other unprintable characters escaped, with the
    caret still under its character; a line longer than ``_SHOWN_LINE`` shows
    as a window around the column, its cut ends marked ``...``.
    """
    text = spots.line_text(line)
    start = max(0, min(column - 1 - _SHOWN_LINE // 2, len(text) - _SHOWN_LINE))
    end = start + _SHOWN_LINE
    before = "..." if start > 0 else ""
    after = "..." if end < len(text) else ""
    lead = before + _shown_source(text[start : column - 1])
    source = lead + _shown_source(text[column - 1 : end]) + after
    gutter = " " * len(str(line))
    return f"{gutter} |\n{line} | {source}\n{gutter} | {' ' * len(lead)}^"


def _shown_source(text: str) -> str:
    return printable(text.expandtabs(1))
