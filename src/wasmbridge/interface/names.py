"""The names hosts show for what a module names (one rule per host language).

A name read from a module is data: hosts use it as given where the host
language can spell it, and fall back to a name they invent otherwise. The
Python runtime and the Python stub must agree on these names, so both take
them from here.
"""

from __future__ import annotations

import enum
import keyword
import unicodedata
from collections.abc import Callable, Sequence

from .types import Function


def python_param_names(func: Function) -> list[str]:
    """The parameter names a Python caller sees and may pass as keywords.

    A name from the module is used as given when Python source could spell
    it (an identifier, in NFKC form since the parser folds identifiers so,
    and not a keyword); otherwise it becomes ``p<index>``. Duplicates get
    the index too, with ``_`` appended until the name is free.

    >>> python_param_names(Function("f", (Param("from", I32), Param("x", I32))))
    ['p0', 'x']
    """
    names: list[str] = []
    for index, param in enumerate(func.params):
        name = unicodedata.normalize("NFKC", param.name)
        if not name.isidentifier() or keyword.iskeyword(name) or name in names:
            name = f"p{index}"
            while name in names:
                name += "_"
        names.append(name)
    return names


def python_special(name: str) -> bool:
    """``__x__`` as Python spells its special names (``__x___`` is not one)."""
    return len(name) > 4 and name[:2] == name[-2:] == "__" and name[2] != "_" and name[-3] != "_"


def python_field_names(names: Sequence[str]) -> list[str]:
    """The attribute of each record field: its name, unless it is a special name or
    ``mro`` (the record class needs those) or taken; then with ``_`` appended."""
    return _spelled(names, lambda name: python_special(name) or name == "mro")


# Members a class wrapper has itself (runtime/bridge/classes.py ClassBase); a method named
# like one of these, or like a special name, is reached with ``_`` appended.
PYTHON_CLASS_MEMBERS = frozenset(
    {"close", "mro", "_wb_h", "_wb_busy", "_wb_gone", "_wb_types", "_wb_def", "_wb_drop"}
)


def python_method_names(names: Sequence[str]) -> list[str]:
    """The attribute of each method of a class (``close`` of the guest is ``close_``)."""
    return _spelled(names, lambda name: python_special(name) or name in PYTHON_CLASS_MEMBERS)


_ENUM_MEMBERS = frozenset(dir(enum.IntEnum)) | frozenset(dir(int)) | {"mro", "name", "value"}


def python_case_names(names: Sequence[str]) -> list[str]:
    """The member name of each enum case: as given when Python's enum machinery takes
    it, else with ``_`` appended (``_sunder_``, special names, ``mro``, ``name``,
    private ``_X__y``, attributes of int and IntEnum, duplicates); ``case<i>`` for an
    empty name."""
    cases = [name or f"case{index}" for index, name in enumerate(names)]
    return _spelled(cases, lambda name: not _enum_member(name))


def _enum_member(name: str) -> bool:
    sunder = len(name) > 2 and name[0] == "_" and name[1] != "_" and name[-1] == "_"
    sunder = sunder and name[-2] != "_"
    private = name.startswith("_") and "__" in name[1:] and not name.endswith("__")
    return not (sunder or python_special(name) or private or name in _ENUM_MEMBERS)


def _spelled(names: Sequence[str], refused: Callable[[str], bool]) -> list[str]:
    taken: set[str] = set()
    spelled = []
    for name in names:
        while refused(name) or name in taken:
            name += "_"
        taken.add(name)
        spelled.append(name)
    return spelled
