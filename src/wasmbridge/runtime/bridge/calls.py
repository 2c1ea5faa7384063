"""Export callables: code made once per compiled module, bound once per instance.

For each export we write a small Python function specialised to its call
plan (like ``dataclasses`` does for ``__init__``; call_source.py writes
it): arguments are stored straight into the raw value buffer through
memoryview casts (which range- and type-check them), buffers are copied
into guest memory once, the raw unchecked call runs, and the result is
read back. Nothing is planned or looked up per call.

``caller_template`` does the work that depends only on the module: the
source, its compiled code (parameter names attached as data), the
signature. ``bind`` makes one instance's callable from it with
``types.FunctionType``: the code's globals are that instance's call
buffer, memory, token and the values its recipes make. The generated
source is kept on the function as ``__wasmbridge_source__``.
"""

from __future__ import annotations

import array
import builtins
import functools
import inspect
import struct
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import CodeType, FunctionType
from typing import Any, Optional, Union

from ...interface.layout import is_list
from ...interface.names import python_param_names
from ...interface.plan import SCALAR_FACTS, CallPlan, plan_call
from ...interface.types import RESULTS, ClassDef, Function, Interface, Kind, Type
from .. import _capi
from . import native
from ._short import describe_call
from .call_source import VIEW_NAMES, CallerSource, CallShape, has_class, write_caller
from .records import TypeSpace

__all__ = [
    "GENERATED_FILENAME",
    "CallShape",
    "CallSite",
    "CallerTemplate",
    "bind",
    "build_export",
    "caller_template",
    "describe_call",
    "keyword_names",
    "python_annotation",
]

GENERATED_FILENAME = "<wasmbridge export>"  # every generated call's code objects carry it


@dataclass
class CallSite:
    """What generated code needs from the instance it calls into."""

    ctx: int
    func: _capi.RawFunc
    module_name: str
    fail: Callable[[str, tuple[Any, ...], Any, int], BaseException]  # (func, args, err, trap)
    enter: Callable[[], Any]  # slow path when the instance is busy; returns a token
    leave: Callable[[], None]  # ends a nested call (one whose enter() returned None)
    tokens: list[object]
    marshal: Any  # marshal.Marshal, or None for modules without memory
    guest_array: type  # memory.GuestArray, passed through without copying
    guarded: bool = True  # False for the allocator, called while a guarded call runs
    # Runs right before each guarded call (per-call limits: epoch deadline, fuel).
    before_call: Callable[[], None] | None = None
    # Without limits: a thread-local whose ``checked`` attribute exists on the
    # threads whose stack was checked, and the check that refuses a thread too
    # small for the wasm stack (and sets the attribute on the others).
    checked_threads: threading.local | None = None
    check_thread: Callable[[], None] | None = None
    # The instance's classes.InstanceTypes (made on first use): records, enums,
    # classes, tuples, lists, chars and callbacks need it; None without an interface.
    types: Callable[[], Any] | None = None
    # Python code may run during a call (the module imports host functions).
    reentrant: bool = False
    # The engine's wasm stack in bytes: a calling thread's stack must hold it.
    wasm_stack: int = 0

    @property
    def shape(self) -> CallShape:
        return CallShape(
            guarded=self.guarded,
            limited=self.check_thread is None,
            memory=self.marshal is not None,
            reentrant=self.reentrant,
        )


@dataclass(frozen=True)
class CallerTemplate:
    """One export's caller, ready to bind to any instance of its module."""

    plan: CallPlan
    written: CallerSource
    code: CodeType  # the function's code, with the parameter names a caller sees
    # None when annotations name the instance's own classes: made per instance.
    signature: inspect.Signature | None
    space: TypeSpace | None

    @property
    def source(self) -> str:
        return self.written.source


def caller_template(
    plan: CallPlan,
    shape: CallShape,
    space: TypeSpace | None,
    raw_results: Sequence[str] = (),
) -> CallerTemplate:
    """Write, compile and describe the caller of ``plan`` (once per module and shape).

    The generated source names nothing after the module: the function is
    ``_wb_f``, its parameters ``p0..pn``. The names a user sees (and may
    pass as keywords) are attached afterwards as data: the code object's
    parameter names and ``co_name``.
    """
    written = write_caller(plan, shape, space, raw_results)
    code = _function_code(written.source)
    names = [p.name for p in plan.inputs]
    name = plan.function.name
    code = code.replace(
        co_varnames=(*names, *code.co_varnames[len(names) :]), co_name=name, co_qualname=name
    )
    signature = None if has_class(plan) else _signature(plan, space, None)
    return CallerTemplate(plan, written, code, signature, space)


def bind(template: CallerTemplate, site: CallSite) -> Callable[..., Any]:
    """The callable of ``template`` for the instance ``site`` belongs to."""
    written = template.written
    buffer = _capi.CallBuffer(written.nslots)
    call, ctx, fn, buf, trap = _capi.call_parts(site.ctx, site.func, buffer)
    ns: dict[str, Any] = {
        "__builtins__": builtins,
        "_wb_call": call,
        "_wb_ctx": ctx,
        "_wb_fn": fn,
        "_wb_buf": buf,
        "_wb_trap": trap,
        "_wb_trap_view": buffer.view("Q"),
        "_wb_trap_addr": buffer.trap_address,
        "_wb_fail": site.fail,
        "_wb_pop": site.tokens.pop,
        "_wb_push": site.tokens.append,
        "_wb_enter": site.enter,
        "_wb_leave": site.leave,
        "_wb_thread": site.checked_threads,
        "_wb_check_thread": site.check_thread,
        "_wb_before": site.before_call,
        "_wb_keep": (buffer, site.func, site),
    }
    for fmt, name in VIEW_NAMES.items():
        ns[name] = buffer.view(fmt)
    marshal = site.marshal
    if marshal is not None:
        ns.update(
            _wb_m=marshal,
            _wb_arena=marshal.arena,
            _wb_lower_text=marshal.lower_text,
            _wb_lower_bytes=marshal.lower_bytes,
            _wb_lower_elems=marshal.lower_elements,
            _wb_lower_mut=marshal.lower_mut,
            _wb_copy_back=marshal.copy_back,
            _wb_free_pending=marshal.free_pending,
            _wb_pending=marshal.pending_frees,
            _wb_lift=marshal.lift,
            _wb_lift_bytes=marshal.lift_bytes,
            _wb_lift_text=marshal.lift_text,
            _wb_u32=_U32.unpack_from,
            _wb_u32x2=_U32X2.unpack_from,
            _wb_ga=site.guest_array,
            _wb_mem=marshal.memory,
        )
    types = _instance_types(template, site) if written.needs_types else None
    if written.drains and types is not None:
        ns.update(_wb_queue=types.queue, _wb_drain=types.drain)
    ns.update(written.consts)
    for recipe in written.recipes:
        ns.update(recipe(types, site))
    func = template.plan.function
    callable_: Any = FunctionType(template.code, ns, func.name)
    callable_.__doc__ = func.doc or None
    callable_.__qualname__ = func.name
    callable_.__module__ = "wasmbridge.exports"
    signature = template.signature
    callable_.__signature__ = signature or _signature(template.plan, template.space, types)
    callable_.__wasmbridge_source__ = written.source
    callable_.__wasmbridge_function__ = func
    built: Callable[..., Any] = callable_
    # The compiled call path runs it when it can, this function when it cannot.
    compiled = native.compiled_caller(template, site, built)
    return built if compiled is None else compiled


def build_export(
    func: Function,
    site: CallSite,
    raw_results: Sequence[str] = (),
    interface: Interface | None = None,
    space: TypeSpace | None = None,
) -> Callable[..., Any]:
    """Write, compile and bind one export's callable (what ``caller_template`` and
    ``bind`` do, for a caller that keeps no template)."""
    template = caller_template(plan_call(func, interface), site.shape, space, raw_results)
    return bind(template, site)


_U32 = struct.Struct("<I")
_U32X2 = struct.Struct("<II")


@functools.lru_cache(maxsize=4096)
def _compiled(source: str) -> CodeType:
    """Compile generated source once per process: the text depends only on the
    plan's shape (addresses and names live in the globals, not the code)."""
    return compile(source, GENERATED_FILENAME, "exec")


def _function_code(source: str) -> CodeType:
    """The code of the one function ``source`` defines."""
    return next(c for c in _compiled(source).co_consts if isinstance(c, CodeType))


def _instance_types(template: CallerTemplate, site: CallSite) -> Any:
    found = site.types() if site.types is not None else None
    if found is None:
        name = template.plan.function.name
        raise AssertionError(f"{name}: a call using records or classes needs its instance")
    return found


def keyword_names(func: Function) -> list[str]:
    """The parameter names a caller sees and may pass as keywords (``python_param_names``:
    the stub uses the same). These names are only data: see ``caller_template``."""
    return python_param_names(func)


# -- signatures -------------------------------------------------------------------------

_PYTHON_TYPES: dict[str, Any] = {"int": int, "float": float, "bool": bool, "str": str}


def _signature(plan: CallPlan, space: TypeSpace | None, types: Any) -> inspect.Signature:
    annotate = functools.partial(_annotation, space=space, types=types)
    params = [
        inspect.Parameter(
            p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=annotate(p.type, param=True)
        )
        for p in plan.inputs
    ]
    return inspect.Signature(params, return_annotation=annotate(plan.function.result))


def _annotation(t: Type, *, param: bool = False, space: TypeSpace | None, types: Any) -> Any:
    named = _named_annotation(t, space, types)
    if named is not None:
        return named
    inner = functools.partial(_annotation, param=param, space=space, types=types)
    return python_annotation(t, param=param, named=inner)


def _named_annotation(t: Type, space: TypeSpace | None, types: Any) -> Any:
    """A class (the instance's wrapper), or a record, enum, tuple or list (the module's
    classes and annotations); None for every other type."""
    if space is None:
        return None
    if t.kind in (Kind.NAMED, Kind.BORROW):
        if isinstance(space.interface.type_def(t.name), ClassDef):
            return types.wrapper(t.name) if types is not None else Any
        return space.codec(t).annotation
    if t.kind is Kind.TUPLE or is_list(t):
        return space.codec(t).annotation
    return None


def python_annotation(
    t: Type, *, param: bool = False, named: Callable[[Type], Any] | None = None
) -> Any:
    """The annotation shown in signatures for a parameter (``param``) or result type;
    ``named`` annotates the types inside an option or result."""
    inner_of = named or functools.partial(python_annotation, param=param)
    facts = SCALAR_FACTS.get(t.kind)
    if facts is not None:
        return _PYTHON_TYPES[facts.python_type]
    if t.kind is Kind.CALLBACK:
        return Callable[..., Any]
    if t.kind in (Kind.STR, Kind.STRING):
        return str
    if t.kind is Kind.UNIT:
        return None
    assert t.inner is not None
    if t.kind is Kind.OPTION:
        return Optional[inner_of(t.inner)]  # noqa: UP045 - shown as Optional[...]
    if t.kind in RESULTS:
        return inner_of(t.inner)
    if not param:
        return bytes if t.inner.kind is Kind.U8 else array.array
    if t.kind is Kind.MUT_SLICE:
        return Union[bytearray, memoryview, array.array]  # noqa: UP007
    if t.inner.kind is Kind.U8:
        return Union[bytes, bytearray, memoryview]  # noqa: UP007
    element = _PYTHON_TYPES[SCALAR_FACTS[t.inner.kind].python_type]
    return Union[array.array, memoryview, Sequence[element]]  # type: ignore[valid-type]  # noqa: UP007
