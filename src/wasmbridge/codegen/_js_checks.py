"""What the JS glue cannot express, refused when it is generated (at build time).

require_expressible(interface, "geo.wasm")  # BuildFailed naming each problem
"""

from __future__ import annotations

from ..errors import BuildFailed
from ..interface import Function, Interface
from ..interface.plan import Lifting, Lowering, ParamPlan, ResultPlan, plan_call
from ..interface.types import shown
from ._js_classes import class_problems
from ._js_types import enum_problems

_HINT = (
    "rename it (or change the type) and build again; docs/web.md, "
    '"Records, enums and classes", lists what the JS glue cannot express'
)
# What a host function written in JS lifts from the guest and lowers back (_js_host).
_HOST_LOWERINGS = frozenset(
    {
        Lowering.SCALAR,
        Lowering.TEXT,
        Lowering.BYTES,
        Lowering.ELEMENTS,
        Lowering.MUT_ELEMENTS,
        Lowering.OPTION,
    }
)
_HOST_LIFTINGS = frozenset(
    {Lifting.NONE, Lifting.SCALAR, Lifting.TEXT, Lifting.BYTES, Lifting.ELEMENTS, Lifting.OPTION}
)


def glue_problems(interface: Interface) -> list[str]:
    """Each part of ``interface`` the JS glue cannot express, and why."""
    problems = [*class_problems(interface), *enum_problems(interface)]
    for func in interface.imports:
        if not _host_can_take(func, interface):
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


def _host_can_take(func: Function, interface: Interface) -> bool:
    """Whether a host function written in JS can stand behind the import ``func``."""
    try:
        plan = plan_call(func, interface)
    except ValueError:  # a named type nobody defined: no lowering at all
        return False
    return all(_plain_param(p) for p in plan.params) and _plain_result(plan.result)


def _plain_param(param: ParamPlan) -> bool:
    inner = param.inner
    return param.lowering in _HOST_LOWERINGS and (inner is None or _plain_param(inner))


def _plain_result(result: ResultPlan) -> bool:
    inner = result.inner
    return result.lifting in _HOST_LIFTINGS and (inner is None or _plain_result(inner))
