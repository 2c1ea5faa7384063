from __future__ import annotations

import pytest

from wasmbridge.interface import Function, Kind, Param, Type
from wasmbridge.interface.names import python_param_names

F32 = Type(Kind.F32)


def _func(*names: str) -> Function:
    return Function("f", tuple(Param(name, F32) for name in names))


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (("scale", "by"), ["scale", "by"]),
        (("from", "to"), ["p0", "to"]),
        (("a b", "1x", ""), ["p0", "p1", "p2"]),
        (("ﬁle",), ["file"]),  # NFKC folds the ligature as the parser does
        (("x", "x"), ["x", "p1"]),
        (("p1", "p1"), ["p1", "p1_"]),
        (("p1", "p0", "p0"), ["p1", "p0", "p2"]),
        (("self", "None"), ["self", "p1"]),
    ],
    ids=["plain", "keyword", "unspellable", "nfkc", "duplicate", "taken-fallback", "chain", "soft"],
)
def test_python_param_names_keep_spellable_names_and_invent_the_rest(
    names: tuple[str, ...], expected: list[str]
) -> None:
    assert python_param_names(_func(*names)) == expected


def test_python_param_names_agree_with_the_runtime() -> None:
    from wasmbridge.runtime.bridge.calls import keyword_names

    for names in (("scale", "by"), ("from", "p0", "p0"), ("ﬁ", "fi")):
        assert python_param_names(_func(*names)) == keyword_names(_func(*names))
