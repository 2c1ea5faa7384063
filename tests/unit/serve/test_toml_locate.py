"""toml_locate: key paths to line:column in every TOML spelling, and it never raises."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wasmbridge.serve.toml_locate import (
    MAX_NESTING,
    KeyPath,
    TomlSpots,
    caret_block,
    printable,
    scan_toml,
)

SAMPLE = '''\
# a comment with [brackets] and key = "value"
name = "shop"  # trailing comment
"quoted key" = 'literal'

[[route]]
path = "/api/..."
limits = { memory_mb = 64, "timeout_ms" = 500 }
files = [
  { host = "data", guest = "/data" },  # first
  { host = "more", guest = """
[[route]]
not = "a key"
""" },
]

[route.env]
A = "b"

[[route]]
limits.max_body_kb = 8
note = \'\'\'
path = "/hidden"
\'\'\'
path = "/..."
  static.folder = "web"

[kv."default"]
backend = "sqlite"
'''


@pytest.mark.parametrize(
    ("path", "key", "value"),
    [
        (("name",), (2, 1), (2, 8)),
        (("quoted key",), (3, 1), (3, 16)),
        (("route", 0, "path"), (6, 1), (6, 8)),
        (("route", 0, "limits"), (7, 1), (7, 10)),
        (("route", 0, "limits", "memory_mb"), (7, 12), (7, 24)),
        (("route", 0, "limits", "timeout_ms"), (7, 28), (7, 43)),
        (("route", 0, "files", 0, "host"), (9, 5), (9, 12)),
        (("route", 0, "files", 1, "guest"), (10, 20), (10, 28)),
        (("route", 0, "env", "A"), (17, 1), (17, 5)),
        (("route", 1, "limits", "max_body_kb"), (20, 8), (20, 22)),
        (("route", 1, "path"), (24, 1), (24, 8)),
        (("route", 1, "static", "folder"), (25, 10), (25, 19)),
        (("kv", "default", "backend"), (28, 1), (28, 11)),
    ],
    ids=str,
)
def test_keys_and_values_in_every_spelling(
    path: KeyPath, key: tuple[int, int], value: tuple[int, int]
) -> None:
    tomllib.loads(SAMPLE)  # the sample is valid TOML
    spots = scan_toml(SAMPLE)
    assert (spots.key(path), spots.value(path)) == (key, value)


def test_array_elements_have_value_positions() -> None:
    spots = scan_toml(SAMPLE)
    assert spots.value(("route", 0, "files", 0)) == (9, 3)
    assert spots.value(("route", 0, "files", 1)) == (10, 3)


def test_headers_of_tables_and_array_tables() -> None:
    spots = scan_toml(SAMPLE)
    assert spots.header(("route", 0)) == (5, 1)
    assert spots.header(("route", 1)) == (19, 1)
    assert spots.header(("route", 0, "env")) == (16, 1)
    assert spots.header(("kv", "default")) == (27, 1)


def test_unseen_paths_fall_back_to_the_nearest_enclosing_table() -> None:
    spots = scan_toml(SAMPLE)
    assert spots.key(("route", 1, "module")) == (19, 1)
    assert spots.key(("route", 0, "limits", "max_body_kb")) == (7, 1)
    assert spots.value(("kv", "default", "url")) == (27, 5)
    assert spots.header(("kv", "default", "url")) == (27, 1)
    assert spots.key(("nothing", "here")) == (1, 1)


def test_strings_that_look_like_tables_are_skipped() -> None:
    spots = scan_toml(SAMPLE)
    assert ("not",) not in spots.keys and ("route", 2) not in spots.headers
    assert spots.value(("route", 1, "note")) == (21, 8)


def test_inline_route_tables_point_at_their_element() -> None:
    spots = scan_toml('name = "x"\nroute = [\n  { path = "/" },\n  { pth = "/a" },\n]\n')
    assert spots.header(("route", 1)) == (4, 3)
    assert spots.key(("route", 1, "pth")) == (4, 5)
    assert spots.key(("route", 1, "path")) == (4, 3)


def test_escaped_quoted_keys_are_decoded() -> None:
    spots = scan_toml('"a\\"b" = 1\n"\\u00e9t\\u00E9" = 2\n')
    assert spots.key(('a"b',)) == (1, 1)
    assert spots.key(("été",)) == (2, 1)


def test_columns_count_characters_not_bytes() -> None:
    spots = scan_toml('name = "café" ; bad\nkey = "naïve"  x\n')
    assert spots.value(("key",)) == (2, 7)
    assert spots.position(len('name = "café" ; bad\nkey = "naïve"  ')) == (2, 16)


def test_caret_block_aligns_under_the_column() -> None:
    spots = scan_toml('a = 1\n\tb = "x"\n')
    assert caret_block(spots, 2, 2) == '  |\n2 |  b = "x"\n  |  ^'
    assert caret_block(spots, 9, 1) == "  |\n9 | \n  | ^"


def test_crlf_line_endings() -> None:
    spots = scan_toml('a = 1\r\n[[route]]\r\npath = "/"\r\n')
    assert spots.value(("route", 0, "path")) == (3, 8)
    assert spots.line_text(3) == 'path = "/"'


TOML_BITS = st.sampled_from(
    ['"', "'", '"""', "'''", "[", "]", "[[", "]]", "{", "}", "=", ",", ".", "#", "\n",
     "\\", "a", "route", " ", "\t", "1", "\r", "\\u", "é"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), st.lists(TOML_BITS).map("".join)))
def test_scanning_never_raises(text: str) -> None:
    spots = scan_toml(text)
    for table in (spots.keys, spots.values, spots.headers):
        for path, offset in table.items():
            assert 0 <= offset <= len(text)
            line, column = spots.key(path)
            assert line >= 1 and column >= 1
    assert isinstance(spots, TomlSpots)
    caret_block(spots, *spots.key(("route", 0, "path")))


def test_nesting_past_the_limit_stops_the_scan() -> None:
    ok = "x = " + "[" * MAX_NESTING + "]" * MAX_NESTING + "\ny = 1\n"
    spots = scan_toml(ok)
    assert spots.too_deep is None and spots.key(("y",)) == (2, 1)
    tomllib.loads(ok)  # the limit is well inside what tomllib parses
    deep = "a = 1\nx = " + "[{k = " * 50_000 + "\ny = 1\n"
    spots = scan_toml(deep)
    assert spots.too_deep is not None
    assert spots.position(spots.too_deep) == (2, 5 + 3 * MAX_NESTING)
    assert ("y",) not in spots.keys  # the scan ended there


def test_large_text_scans_in_linear_time() -> None:
    text = "x = [" + "1, " * 300_000 + "]\n" + "# c\n" * 100_000 + "[[route]]\npath = '/'\n"
    spots = scan_toml(text)
    assert spots.value(("route", 0, "path")) == (100_003, 8)


def test_caret_block_escapes_and_cuts_the_line() -> None:
    spots = scan_toml('a = "\u202e\x1b" x\n' + "b = " + "y" * 500 + "!\n")
    _, line, caret = caret_block(spots, 1, 10).splitlines()
    assert line == '1 | a = "\\u202e\\x1b" x'
    assert caret.index("^") == line.rindex("x")
    block = caret_block(spots, 2, 505)
    shown = block.splitlines()[1]
    assert shown.startswith("2 | ...y") and shown.endswith("!") and len(shown) < 140
    assert block.splitlines()[2].index("^") == shown.index("!")


def test_printable() -> None:
    assert printable("plain") == "plain"
    assert printable("a\nb\tc\u202e") == "a\\nb\\tc\\u202e"
    assert printable("x" * 10, 4) == "xxxx..."
