"""What the JS glue cannot express, refused when it is generated (at build time).

require_expressible(interface, "geo.wasm")  # BuildFailed naming each problem
"""

from __future__ import annotations

from ..errors import BuildFailed
from ..interface import Interface, Type
from ..interface.layout import is_list
from ..interface.types import Kind, shown
from ._js_classes import class_problems
from ._js_types import enum_problems

_HINT = (
    "rename it (or change the type) and build again; docs/web.md, "
    '"Records, enums and classes", lists what the JS glue cannot express'
)
_NEW_KINDS = frozenset({Kind.CHAR, Kind.TUPLE, Kind.NAMED, Kind.BORROW, Kind.RESULT_VALUE})


def glue_problems(interface: Interface) -> list[str]:
    """Each part of ``interface`` the JS glue cannot express, and why."""
    problems = [*class_problems(interface), *enum_problems(interface)]
    for func in interface.imports:
        types = [p.type for p in func.params] + [func.result]
        if any(_is_new(t) for t in types):
            problems.append(
                f"import `{shown(func.module)}.{shown(func.name)}`: host functions written in "
                "JS take numbers, text and numeric slices only (no records, enums, tuples, "
                "lists or char)"
            )
    return problems


def require_expressible(interface: Interface | None, wasm_name: str) -> None:
    """Raises BuildFailed listing what of ``interface`` the JS glue cannot express."""
    problems = glue_problems(interface) if interface is not None else []
    if problems:
        lines = [f"{wasm_name} has parts the JavaScript glue cannot express:", *problems]
        raise BuildFailed("\n  ".join(lines), hint=_HINT)


def _is_new(t: Type) -> bool:
    if t.kind in _NEW_KINDS or is_list(t):
        return True
    return t.inner is not None and _is_new(t.inner)
