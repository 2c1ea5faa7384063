"""Profiles, strategies and module builders shared by the fuzz tests.

Profiles: ``fuzz-ci`` (the default) is deterministic (``derandomize``, no
example database) and bounded so tests/fuzz runs in about a minute on two
cores; ``WASMBRIDGE_FUZZ=deep`` selects ``fuzz-deep``: random seeds and 50x
the examples (``WASMBRIDGE_FUZZ_SCALE`` changes the factor).

Every strategy here is attacker-minded: LEB128 numbers take edge values
and overlong encodings, counts lie, names carry invalid UTF-8, NUL,
controls, bidi overrides, fullwidth look-alikes of wasmbridge's own
internal names, Python keywords and dunders.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from wasmbridge.errors import WasmbridgeError
from wasmbridge.interface.binary import uleb

# -- profiles ------------------------------------------------------------------------------

_QUIET = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
    HealthCheck.function_scoped_fixture,
    HealthCheck.large_base_example,
]
settings.register_profile(
    "fuzz-ci", derandomize=True, database=None, deadline=None, suppress_health_check=_QUIET
)
settings.register_profile(
    "fuzz-deep", derandomize=False, database=None, deadline=None, suppress_health_check=_QUIET
)
DEEP = os.environ.get("WASMBRIDGE_FUZZ") == "deep"
SCALE = int(os.environ.get("WASMBRIDGE_FUZZ_SCALE", "50")) if DEEP else 1


def budget(examples: int) -> settings:
    """Settings for one property: ``examples`` under the CI profile, scaled when deep."""
    return settings(
        settings.get_profile("fuzz-deep" if DEEP else "fuzz-ci"), max_examples=examples * SCALE
    )


# -- what may come out ----------------------------------------------------------------------


def is_ours(exc: BaseException) -> bool:
    """A wasmbridge error with a message (never an empty or foreign one)."""
    return isinstance(exc, WasmbridgeError) and bool(str(exc).strip())


def is_caller_error(exc: BaseException) -> bool:
    """The documented caller mistakes: TypeError/ValueError/OverflowError with a message,
    but never a codec error (UnicodeError is a ValueError too)."""
    documented = isinstance(exc, (TypeError, ValueError, OverflowError))
    return documented and not isinstance(exc, UnicodeError) and bool(str(exc).strip())


# -- LEB128 ---------------------------------------------------------------------------------

EDGE_NUMBERS = (
    0,
    1,
    2,
    0x7F,
    0x80,
    0xFF,
    0x3FFF,
    0x4000,
    2**31 - 1,
    2**31,
    2**32 - 1,
    2**32,
    2**35 - 1,
    2**63 - 1,
    2**64 - 1,
)


def leb(value: int, extra: int = 0) -> bytes:
    """``value`` as unsigned LEB128, made ``extra`` bytes longer than needed (overlong)."""
    out = bytearray(uleb(value))
    if extra:
        out[-1] |= 0x80
        out += b"\x80" * (extra - 1) + b"\x00"
    return bytes(out)


_EDGE = st.sampled_from(EDGE_NUMBERS)
_SMALL = st.integers(0, 300)
_EXTRA = st.sampled_from((0, 0, 0, 0, 0, 0, 1, 2, 5, 10))
_PICK = st.integers(0, 5)
COUNT = st.integers(0, 4)
ONE_IN_TEN = st.integers(0, 9)


def draw_leb(draw: st.DrawFn, true_value: int | None = None) -> bytes:
    """A LEB128 field: mostly ``true_value`` (when given), else edge or small values,
    sometimes overlong."""
    pick = draw(_PICK)
    if true_value is not None and pick < 4:
        value = true_value
    else:
        value = draw(_EDGE) if pick % 2 else draw(_SMALL)
    return leb(value, draw(_EXTRA))


@st.composite
def lebs(draw: st.DrawFn, true_value: int | None = None) -> bytes:
    return draw_leb(draw, true_value)


# -- names ----------------------------------------------------------------------------------

TRICKY_NAMES = (
    "_\uff57b_buf",  # fullwidth w: NFKC folds it to the internal _wb_buf
    "_\uff57b_ctx",
    "_\uff57b_f",
    "_wb_buf",
    "_wb_ctx",
    "_wb_f",
    "_wb_arena",
    "p0",
    "p1",
    "p0_",
    "__class__",
    "__init__",
    "__dict__",
    "__getattr__",
    "__wb_alloc",
    "__wb_free",
    "_initialize",
    "len",
    "bool",
    "self",
    "None",
    "True",
    "from",
    "lambda",
    "class",
    "import",
    "async",
    "match",
    "exports",
    "interface",
    "memory",
    "array",
    "name",
    "default",
    "Object",
    "",
    " ",
    "a b",
    "1x",
    "a-b",
    "\0",
    "a\0b",
    "\x1b[31mred\x1b[0m",
    "line\nbreak",
    "\u202egnp.exe",  # right-to-left override
    "\u200bzero",
    "\ufeffbom",
    "\uff46\uff55\uff4c\uff4c",  # fullwidth "full"
    "\U0001d51e",  # mathematical fraktur a: NFKC "a"
    "\ufb01le",  # the fi ligature
    "\u0663",  # Arabic-Indic digit three
    "\u00e9t\u00e9",
    "e\u0301",  # combining accent: not NFC
    "x" * 10240,
)
INVALID_UTF8 = (
    b"\xff",
    b"\xc0\x80",  # overlong NUL
    b"\xed\xa0\x80",  # a surrogate
    b"\xf4\x90\x80\x80",  # past U+10FFFF
    b"a\x80",
    b"\xe2\x82",  # truncated sequence
)


_IDENTIFIER_START = "abcxyz_ABZ\u00e9\uff57"
_IDENTIFIER_REST = _IDENTIFIER_START + "0129"
# Names a module may carry: tricky ones, identifiers, any text.
NAMES = st.one_of(
    st.sampled_from(TRICKY_NAMES),
    st.builds(
        lambda head, tail: head + tail,
        st.sampled_from(_IDENTIFIER_START),
        st.text(_IDENTIFIER_REST, max_size=8),
    ),
    st.text(st.characters(codec="utf-8"), max_size=12),
)
# The bytes of a name field: valid UTF-8 names and invalid sequences.
NAME_BYTES = st.one_of(
    NAMES.map(lambda s: s.encode("utf-8")),
    st.sampled_from(INVALID_UTF8),
    st.binary(max_size=8),
)


def draw_name(draw: st.DrawFn) -> bytes:
    """A name field whose length may lie."""
    raw = draw(NAME_BYTES)
    return draw_leb(draw, len(raw)) + raw


def name_field(raw: bytes, length: bytes | None = None) -> bytes:
    return (length if length is not None else leb(len(raw))) + raw


def section(section_id: int, payload: bytes, size: bytes | None = None) -> bytes:
    return bytes([section_id]) + (size if size is not None else leb(len(payload))) + payload


@st.composite
def mutations(draw: st.DrawFn, data: bytes, max_edits: int = 4) -> bytes:
    """``data`` with a few byte flips, insertions, deletions, LEB edge values or truncation."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, max_edits))):
        where = draw(st.integers(0, max(len(out) - 1, 0)))
        edit = draw(st.integers(0, 5))
        if edit == 0 and out:
            out[where] ^= 1 << draw(st.integers(0, 7))
        elif edit == 1 and out:
            out[where] = draw(st.sampled_from((0x00, 0x01, 0x7F, 0x80, 0xFF)))
        elif edit == 2:
            out[where:where] = draw(st.binary(min_size=1, max_size=4))
        elif edit == 3 and out:
            del out[where : where + draw(st.integers(1, 8))]
        elif edit == 4:
            out[where : where + 1] = draw(lebs())
        else:
            del out[draw(st.integers(8, max(len(out), 8))) :]
    return bytes(out)
