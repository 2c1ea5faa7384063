"""The compiled call path: which one runs, and the compiled callers it makes.

``runtime/_native.c`` is an optional C extension that pip builds where a C
compiler and Python's headers exist. When it is there (and not switched off
with ``WASMBRIDGE_NATIVE=0``), an export whose call plan it can run (numbers,
bools, ``&str`` and ``&[u8]`` in; numbers, bools, text and bytes out) gets
a ``_native.Caller``: a C object that lowers the arguments, calls the guest
with the GIL released and lifts the result. Lent slices (``&[T]``,
``&mut [T]``) take any C-contiguous buffer of their element's format
(numpy arrays, ``array.array``, ``memoryview``); a ``GuestArray``, a list
or anything else goes to the Python caller. Every other export, and every
call the C code does not take (keywords, other argument types, a busy
instance, a full arena, any error), runs the generated Python caller
(calls.py), which each compiled caller keeps as its ``fallback``: one
behaviour, two speeds.

``PATH`` says which path runs (``wasmbridge doctor`` prints it);
``ArenaPositions`` is the storage memory.Arena keeps its positions in,
readable from C.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...interface.plan import CallPlan, Lifting, Lowering, ParamPlan, ResultPlan, ScalarFacts
from ...interface.types import Kind
from .. import _capi
from ..sandbox import interrupt

SWITCH = "WASMBRIDGE_NATIVE"  # "0" (or false, no, off): always the ctypes path
_OFF = frozenset({"0", "false", "no", "off"})
_ALWAYS_CHECK = 1 << 62  # a stack size no thread has: check the thread on every call


class _PythonPositions:
    """``start``, ``top``, ``end``, ``busy`` of an arena (without the C extension)."""

    __slots__ = ("start", "top", "end", "busy")
    start: int
    top: int
    end: int
    busy: int


def _load() -> tuple[Any, str]:
    """The initialised extension, or None and why not."""
    setting = os.environ.get(SWITCH, "").strip()
    if setting.lower() in _OFF:
        return None, f"switched off ({SWITCH}={setting})"
    try:
        from .. import _native  # type: ignore[attr-defined]
    except ImportError:
        return None, "not built (pip builds it where a C compiler and Python's headers exist)"
    major = int(_capi.WASMTIME_VERSION.split(".")[0])
    try:
        _native.init(major, *_capi.native_entry_points())
        if hasattr(_native, "init_oneshot"):  # an extension built before OneShot has none
            _native.init_oneshot(*_capi.oneshot_entry_points())
    except (RuntimeError, ValueError) as exc:
        return None, f"not usable: {exc}"
    return _native, ""


NATIVE, WHY_NOT = _load()
PATH = "compiled" if NATIVE is not None else "ctypes"
if TYPE_CHECKING:
    ArenaPositions = _PythonPositions
else:
    ArenaPositions = NATIVE.Arena if NATIVE is not None else _PythonPositions


def describe() -> str:
    """One line for ``wasmbridge doctor``: the call path in use, and why."""
    if NATIVE is not None:
        return f"compiled (C extension {NATIVE.__file__})"
    return f"ctypes: the C extension is {WHY_NOT}"


# -- what the C caller runs ----------------------------------------------------------------


Param = tuple[str, int, int, int, int, str]  # code, slot, low, high, alignment, formats


def _param_code(p: ParamPlan) -> Param | None:
    """How the C caller lowers a parameter (see _native.c), or None when it does not."""
    if p.lowering is Lowering.SCALAR and p.facts is not None:
        code = _scalar_code(p.facts)
        if code is None:
            return None
        # Only integers carried in an i32 are range-checked here; wider ones by conversion.
        low, high = p.facts.range if code == "n" and p.facts.range else (0, 0)
        return code, p.slot, low, high, 1, ""
    if p.owned:  # the guest keeps it: allocated, not in the arena
        return None
    if p.lowering is Lowering.TEXT:
        return "s", p.slot, 0, 0, 1, ""
    facts = p.facts
    if facts is None or not (facts.is_integer or facts.is_float) or facts.kind is Kind.CHAR:
        return None
    from .marshal import FORMATS  # marshal imports memory, which imports this module

    # A u8 buffer takes any bytes-like object; wider elements their own formats.
    formats = "" if facts.kind is Kind.U8 else "".join(sorted(FORMATS[facts.kind]))
    if p.lowering is Lowering.BYTES:
        return "y", p.slot, 0, 0, 1, ""
    if p.lowering is Lowering.ELEMENTS:
        return "e", p.slot, 0, 0, facts.size, formats
    if p.lowering is Lowering.MUT_ELEMENTS:
        return "m", p.slot, 0, 0, facts.size, formats
    return None


def _scalar_code(facts: ScalarFacts) -> str | None:
    if facts.kind is Kind.CHAR:
        return None
    if facts.python_type == "bool":
        return "?"
    if facts.is_float:
        return "f" if facts.kind is Kind.F32 else "d"
    if facts.valtype == "i64":
        return "q" if facts.is_signed else "Q"
    return "n"


def _result_code(plan: CallPlan) -> tuple[str, int, bool] | None:
    """(code, bits, signed) of a result the C caller lifts, else None."""
    result: ResultPlan = plan.result
    if result.lifting is Lifting.NONE:
        return "v", 32, False
    if result.lifting is Lifting.SCALAR and not plan.retptr and result.facts is not None:
        facts = result.facts
        code = _scalar_code(facts)
        if code is None:
            return None
        return code, 8 * min(facts.size, 4), facts.is_signed
    if plan.retptr and result.offset == 0:
        if result.lifting is Lifting.TEXT:
            return "s", 32, False
        if result.lifting is Lifting.BYTES:
            return "y", 32, False
    return None


def compiled_caller(template: Any, site: Any, python_caller: Callable[..., Any]) -> Any:
    """The ``_native.Caller`` of one export for one instance, or None when the Python
    caller runs it (no extension, or a plan the C code does not run).

    ``template`` is a calls.CallerTemplate, ``site`` its instance's calls.CallSite.
    """
    if NATIVE is None:
        return None
    plan: CallPlan = template.plan
    written = template.written
    if written.needs_types or written.drains or written.multi_value or not site.guarded:
        return None
    if written.nslots > NATIVE.MAX_SLOTS or plan.handle or plan.receiver_param is not None:
        return None
    params = [_param_code(p) for p in plan.inputs]
    result = _result_code(plan)
    if result is None or any(p is None for p in params):
        return None
    marshal = site.marshal
    memory, base, arena, lift = 0, 0, None, None
    name = plan.function.name
    if plan.needs_memory:
        raw = marshal.memory.raw if marshal is not None else None
        if raw is None:
            return None
        memory, base, arena = raw.address, marshal.memory.base, marshal.arena
        if not base:  # no address to copy to: the Python caller's checks decide
            return None
        lifter = marshal.lift_text if result[0] == "s" else marshal.lift_bytes
        lift = functools.partial(lifter, func=name)
    code, bits, signed = result
    limited = site.shape.limited
    for hook in (site.fail, site.before_call, site.check_thread, lift):
        _on_call_path(hook)
    caller = NATIVE.Caller(
        ctx=site.ctx,
        func=site.func.address,
        nslots=max(written.nslots, 1),
        params=tuple(params),
        result=code,
        result_bits=bits,
        result_signed=signed,
        retptr=plan.retptr,
        tokens=site.tokens,
        fallback=python_caller,
        fail=site.fail,
        name=name,
        before=site.before_call if limited else None,
        check_thread=None if limited else site.check_thread,
        need_stack=site.wasm_stack or _ALWAYS_CHECK,
        memory=memory,
        base=base,
        arena=arena,
        lift=lift,
        keep=(site.func, marshal, template),
        guest_array=site.guest_array,
    )
    caller.__dict__.update(python_caller.__dict__)
    for attr in ("__name__", "__qualname__", "__module__", "__doc__"):
        setattr(caller, attr, getattr(python_caller, attr))
    return caller


def _on_call_path(hook: Any) -> None:
    """Mark the code of a Python hook the C caller runs mid-call: a Ctrl-C arriving while
    it runs waits until the call is over (sandbox/interrupt.py), as in generated code."""
    while isinstance(hook, functools.partial):
        hook = hook.func
    code = getattr(getattr(hook, "__func__", hook), "__code__", None)
    if code is not None:
        interrupt.CALL_PATH.add(code)
