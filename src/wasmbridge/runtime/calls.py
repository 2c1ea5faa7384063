"""Export callables, generated once per function at load time.

For each export we write a small Python function specialised to its
signature (like ``dataclasses`` does for ``__init__``): arguments are
stored straight into the raw value buffer through memoryview casts (which
range- and type-check them), buffers are copied into guest memory once,
the raw unchecked call runs, and the result is read back. Nothing is
planned or looked up per call. The generated source is kept on the
function as ``__wasmbridge_source__`` for the curious.
"""

from __future__ import annotations

import array
import functools
import inspect
import reprlib
import struct
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import CodeType
from typing import Any, Optional, Union

from ..interface import abi
from ..interface.layout import is_list
from ..interface.names import python_param_names
from ..interface.types import INT_RANGE, Function, Kind, Type, shown
from . import _capi
from .marshal import ParamInfo, check_scalar

# memoryview format of the raw value buffer used to store/load each scalar kind,
# and the index multiplier from a 16-byte slot number to an item index.
_SLOT_VIEW = {
    Kind.BOOL: ("i", 4),
    Kind.I8: ("i", 4),
    Kind.U8: ("i", 4),
    Kind.I16: ("i", 4),
    Kind.U16: ("i", 4),
    Kind.I32: ("i", 4),
    Kind.U32: ("I", 4),
    Kind.I64: ("q", 2),
    Kind.U64: ("Q", 2),
    Kind.F32: ("f", 4),
    Kind.F64: ("d", 2),
}
_VIEW_NAME = {
    "i": "_wb_vi",
    "I": "_wb_vu",
    "q": "_wb_vq",
    "Q": "_wb_vuq",
    "f": "_wb_vf",
    "d": "_wb_vd",
}
_NARROW = {Kind.I8, Kind.U8, Kind.I16, Kind.U16}

PYTHON_TYPES: dict[Kind, Any] = {
    Kind.BOOL: bool,
    Kind.F32: float,
    Kind.F64: float,
    Kind.STR: str,
    Kind.STRING: str,
}


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
    # The live instance: records, enums, classes and char need its types
    # (classes.InstanceTypes); None for calls that use none of them.
    owner: Any = None


def build_export(
    func: Function, site: CallSite, raw_results: Sequence[str] = ()
) -> Callable[..., Any]:
    """Generate, compile and return the Python callable for one export.

    The generated source names nothing after the module: the function is
    ``_wb_f``, its parameters ``p0..pn``. The names a user sees (and may
    pass as keywords) are attached afterwards as data: the code object's
    parameter names, ``__name__`` and ``__signature__``.
    """
    writer = _Writer(func, site, raw_results)
    source = writer.source()
    namespace = writer.namespace()
    exec(_compiled(source), namespace)  # noqa: S102 - our own generated source, see module docstring
    callable_ = namespace[_FUNC_NAME]
    names = keyword_names(func)
    code = callable_.__code__
    callable_.__code__ = code.replace(
        co_varnames=(*names, *code.co_varnames[len(names) :]),
        co_name=func.name,
        co_qualname=func.name,
    )
    callable_.__name__ = func.name
    callable_.__doc__ = func.doc or None
    callable_.__qualname__ = func.name
    callable_.__module__ = "wasmbridge.exports"
    callable_.__signature__ = _signature(func, names, writer.types)
    callable_.__wasmbridge_source__ = source
    callable_.__wasmbridge_function__ = func
    built: Callable[..., Any] = callable_
    return built


_FUNC_NAME = "_wb_f"
GENERATED_FILENAME = "<wasmbridge export>"  # every generated call's code objects carry it


@functools.lru_cache(maxsize=4096)
def _compiled(source: str) -> CodeType:
    """Compile generated source once per process: the text depends only on the
    signature's shape (addresses and names live in the namespace, not the code)."""
    return compile(source, GENERATED_FILENAME, "exec")


def python_annotation(t: Type, *, param: bool = False, types: Any = None) -> Any:
    """The annotation shown in signatures for a parameter (``param``) or result type."""
    if t.kind is Kind.CALLBACK:
        return Callable[..., Any]
    if types is not None and (t.kind in _VALUE_KINDS or is_list(t)):
        if t.kind is Kind.RESULT_VALUE:
            assert t.inner is not None
            return python_annotation(t.inner, param=param, types=types)
        return types.annotation(t, param=param)
    if t.kind in INT_RANGE:
        return int
    if t.kind in PYTHON_TYPES:
        return PYTHON_TYPES[t.kind]
    if t.kind is Kind.UNIT:
        return None
    assert t.inner is not None
    if t.kind is Kind.OPTION:
        inner = python_annotation(t.inner, param=param, types=types)
        return Optional[inner]  # noqa: UP045 - shown as Optional[...]
    if t.kind is Kind.RESULT:
        return python_annotation(t.inner, param=param, types=types)
    if not param:
        return bytes if t.inner.kind is Kind.U8 else array.array
    if t.kind is Kind.MUT_SLICE:
        return Union[bytearray, memoryview, array.array]  # noqa: UP007
    if t.inner.kind is Kind.U8:
        return Union[bytes, bytearray, memoryview]  # noqa: UP007
    element = float if t.inner.kind in (Kind.F32, Kind.F64) else int
    return Union[array.array, memoryview, Sequence[element]]  # type: ignore[valid-type]  # noqa: UP007


def _signature(func: Function, names: list[str], types: Any) -> inspect.Signature:
    params = [
        inspect.Parameter(
            name,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            annotation=python_annotation(p.type, param=True, types=types),
        )
        for name, p in zip(names, func.params, strict=True)
    ]
    result = python_annotation(func.result, types=types)
    return inspect.Signature(params, return_annotation=result)


def keyword_names(func: Function) -> list[str]:
    """The parameter names a caller sees and may pass as keywords (``python_param_names``:
    the stub uses the same). These names are only data: see ``build_export``."""
    return python_param_names(func)


_VALUE_KINDS = frozenset(
    {Kind.CHAR, Kind.TUPLE, Kind.NAMED, Kind.BORROW, Kind.RESULT_VALUE, Kind.CALLBACK}
)


def _needs_values(t: Type) -> bool:
    """``t`` involves records, enums, classes, tuples, lists or char (classes.py's work)."""
    if t.kind in _VALUE_KINDS or is_list(t):
        return True
    return t.inner is not None and _needs_values(t.inner)


class _Writer:
    """Writes the source of one export's callable."""

    def __init__(self, func: Function, site: CallSite, raw_results: Sequence[str]) -> None:
        self.func = func
        self.site = site
        self.raw_results = tuple(raw_results)
        self.param_names = [f"p{i}" for i in range(len(func.params))]
        self.signature = abi.signature(func)
        self.retptr = abi.uses_retptr(func.result)
        self.types = _instance_types(func, site)
        interface = self.types.interface if self.types is not None else None
        self.uses_memory = abi.needs_memory(func, interface)
        self.nslots = max(
            len(self.signature.params), len(self.signature.results), len(self.raw_results)
        )
        self.buffer = _capi.CallBuffer(self.nslots)
        self.consts: dict[str, Any] = {}
        self.lines: list[str] = []
        self.after: list[str] = []  # copy-backs, run after a successful call
        self.slot = 1 if self.retptr else 0
        self.temp = 0
        self.prelude: list[str] = []  # run first, before anything can raise
        self.callbacks: list[str] = []  # ids of callables passed as callbacks, ended after
        self.borrowed: list[str] = []  # class objects the call borrows: marked busy
        self.moved: list[tuple[str, str]] = []  # (spend, parameter) of objects moved into it
        # Calls with class objects first drain the instance's queue of collected ones.
        self.drains = self.types is not None and any(
            self.types.involves_class(t) for t in (*(p.type for p in func.params), func.result)
        )

    # -- namespace ------------------------------------------------------------------

    def const(self, name: str, value: Any) -> str:
        self.consts[name] = value
        return name

    def namespace(self) -> dict[str, Any]:
        site = self.site
        call, ctx, fn, buf, trap = _capi.call_parts(site.ctx, site.func, self.buffer)
        ns: dict[str, Any] = {
            "_wb_call": call,
            "_wb_ctx": ctx,
            "_wb_fn": fn,
            "_wb_buf": buf,
            "_wb_trap": trap,
            "_wb_trap_view": self.buffer.view("Q"),
            "_wb_trap_addr": self.buffer.trap_address,
            "_wb_fail": site.fail,
            "_wb_pop": site.tokens.pop,
            "_wb_push": site.tokens.append,
            "_wb_enter": site.enter,
            "_wb_leave": site.leave,
            "_wb_thread": site.checked_threads,
            "_wb_check_thread": site.check_thread,
            "_wb_args_error": self._args_error,
            "_wb_before": site.before_call,
            "_wb_keep": (self.buffer, site.func, site),
            "_wb_name": self.func.name,
        }
        for fmt, name in _VIEW_NAME.items():
            ns[name] = self.buffer.view(fmt)
        if site.marshal is not None:
            m = site.marshal
            ns.update(
                _wb_m=m,
                _wb_arena=m.arena,
                _wb_lower_text=m.lower_text,
                _wb_lower_bytes=m.lower_bytes,
                _wb_lower_elems=m.lower_elements,
                _wb_lower_mut=m.lower_mut,
                _wb_copy_back=m.copy_back,
                _wb_free_pending=m.free_pending,
                _wb_pending=m.pending_frees,
                _wb_lift=m.lift,
                _wb_lift_bytes=m.lift_bytes,
                _wb_lift_text=m.lift_text,
                _wb_u32=struct.Struct("<I").unpack_from,
                _wb_u32x2=struct.Struct("<II").unpack_from,
                _wb_ga=site.guest_array,
                _wb_mem=m.memory,
            )
        if self.drains and self.types is not None:
            ns.update(_wb_queue=self.types.queue, _wb_drain=self.types.drain)
        ns.update(self.consts)
        return ns

    def _args_error(self, exc: BaseException, args: tuple[Any, ...]) -> BaseException:
        """Turn a store failure into a TypeError naming the parameter."""
        prefix = f"{shown(self.func.name)}() argument"
        if str(exc).startswith(prefix):
            return exc
        for param, value in zip(self.func.params, args, strict=True):
            problem = _check_param(shown(self.func.name), shown(param.name), param.type, value)
            if problem is not None:
                return problem
        return exc

    # -- source -----------------------------------------------------------------------

    def source(self) -> str:
        self._lower_params()
        params = ", ".join(self.param_names)
        args = "(" + "".join(f"{n}, " for n in self.param_names) + ")"
        body = [f"def {_FUNC_NAME}({params}):"]
        body += [f"    {line}" for line in self.prelude]
        if self.drains:
            body += ["    if _wb_queue:", "        _wb_drain()"]
        if self.site.guarded and self.site.check_thread is not None:
            # One thread-local attribute per call (zero-cost try); a thread's
            # first call asks its stack size once.
            body += [
                "    try:",
                "        _wb_thread.checked",
                "    except AttributeError:",
                "        _wb_check_thread()",
            ]
        if self.site.guarded:
            body += [
                "    try:",
                "        _wb_tok = _wb_pop()",
                "    except IndexError:",
                "        _wb_tok = _wb_enter()",
            ]
        body += ["    try:"]
        if self.uses_memory:
            # The mark is an offset: lowering a large first argument may move
            # the whole arena (Arena.take regrows it while it is idle).
            body += [
                "        _wb_mark = _wb_arena.top - _wb_arena.start",
                "        _wb_fmark = len(_wb_pending)",
            ]
        body += ["        try:"]
        body += [f"            {line}" for line in self.lines or ["pass"]]
        body += [
            "        except (TypeError, ValueError, OverflowError) as _wb_exc:",
            f"            raise _wb_args_error(_wb_exc, {args}) from None",
        ]
        # Without busy marks (nothing can run Python during the call), an object moved
        # into the call is checked against those the same call borrows.
        tracked = self.borrowed if self.types is not None and self.types.reentrant else []
        others = "" if tracked else "".join(f"{b}, " for b in self.borrowed)
        rest = [f"{spend}({name}, ({others}))" for spend, name in self.moved]
        if self.retptr:
            # Read after lowering: a large argument may have moved the arena.
            rest += ["_wb_ret = _wb_arena.start", "_wb_vi[0] = _wb_ret"]
        rest += [
            *(["_wb_before()"] if self.site.before_call and self.site.guarded else []),
            f"_wb_err = _wb_call(_wb_ctx, _wb_fn, _wb_buf, {self.nslots}, _wb_trap)",
            f"if _wb_err or _wb_trap_view[{self.buffer.trap_index}]:",
            f"    raise _wb_fail(_wb_name, {args}, _wb_err, _wb_trap_addr)",
            *self.after,
            *self._lift_result(),
        ]
        if tracked:
            # Busy while the guest may use them: closing or moving them from a
            # host function this call runs is refused (classes.py).
            body += [f"        {name}._wb_busy += 1" for name in tracked]
            body += ["        try:", *(f"            {line}" for line in rest), "        finally:"]
            body += [f"            {name}._wb_busy -= 1" for name in tracked]
        else:
            body += [f"        {line}" for line in rest]
        # Cleanup restores the arena before anything that can raise, and gives
        # the call token back last, in its own finally, so no exception
        # (KeyboardInterrupt included) can leave the instance locked.
        cleanup = [f"        if {c}: _wb_unregister({c})" for c in self.callbacks]
        if self.uses_memory:
            cleanup += [
                "        _wb_arena.top = _wb_arena.start + _wb_mark",
                "        if len(_wb_pending) > _wb_fmark:",
                "            _wb_free_pending(_wb_fmark)",
            ]
        if self.site.guarded:
            cleanup = [
                "        try:",
                *["    " + line for line in cleanup or ["        pass"]],
                "        finally:",
                "            if _wb_tok is not None:",
                "                _wb_push(_wb_tok)",
                "            else:",
                "                _wb_leave()",
            ]
        body += ["    finally:", *(cleanup or ["        pass"])]
        return "\n".join(body) + "\n"

    def _lower_params(self) -> None:
        for index, (name, param) in enumerate(zip(self.param_names, self.func.params, strict=True)):
            self._lower(name, param.type, index, indent="")

    def _store(self, kind: Kind, expr: str, indent: str) -> None:
        fmt, mult = _SLOT_VIEW[kind]
        self.lines.append(f"{indent}{_VIEW_NAME[fmt]}[{mult * self.slot}] = {expr}")
        self.slot += 1

    def _lower(self, name: str, t: Type, index: int, indent: str) -> None:
        kind = t.kind
        if kind in _SLOT_VIEW:
            if kind is Kind.BOOL:
                self.lines.append(f"{indent}if {name}.__class__ is not bool: raise TypeError()")
            self._store(kind, name, indent)
            if kind in _NARROW:
                low, high = INT_RANGE[kind]
                self.lines.append(
                    f"{indent}if not {low} <= {name} <= {high}: raise OverflowError()"
                )
            return
        if kind is Kind.OPTION:
            assert t.inner is not None
            start = self.slot
            self.lines.append(f"{indent}if {name} is None:")
            self._store(Kind.I32, "0", indent + "    ")
            for wire_index, wire in enumerate(abi.param_wire(t.inner)):
                self.lines.append(f"{indent}    {_zero_store(wire, start + 1 + wire_index)}")
            self.lines.append(f"{indent}else:")
            self.slot = start
            self._store(Kind.I32, "1", indent + "    ")
            self._lower(name, t.inner, index, indent + "    ")
            return
        if kind is Kind.CALLBACK:
            self._lower_callback(name, t, index, indent)
            return
        if kind in (Kind.CHAR, Kind.NAMED, Kind.BORROW, Kind.TUPLE) or is_list(t):
            self._lower_value(name, t, index, indent)
            return
        self._lower_buffer(name, t, index, indent)

    def _lower_callback(self, name: str, t: Type, index: int, indent: str) -> None:
        """A callable: an id the guest calls it by, valid until this call returns."""
        assert self.types is not None
        n = self.temp
        self.temp += 1
        param = self.func.params[index]
        register = self.const(
            f"_wb_cb{n}", self.types.callback_registrar(t, self.func.name, param.name)
        )
        self.const("_wb_unregister", self.types.unregister)
        self.prelude.append(f"_wb_c{n} = 0")
        self.lines.append(f"{indent}_wb_c{n} = {register}({name})")
        self._store(Kind.U32, f"_wb_c{n}", indent)
        self.callbacks.append(f"_wb_c{n}")

    def _lower_value(self, name: str, t: Type, index: int, indent: str) -> None:
        """A char, enum, record, tuple, list or class object: one i32."""
        n = self.temp
        self.temp += 1
        types = self.types
        assert types is not None
        param = self.func.params[index]
        if types.is_class(t):
            check = types.handle_param(t, self.func.name, param.name)
            cls = self.const(f"_wb_cls{n}", check.cls)
            wrong = self.const(f"_wb_wrong{n}", check.wrong)
            gone = self.const(f"_wb_gone{n}", check.gone)
            self.lines += [
                f"{indent}if {name}.__class__ is not {cls}: raise {wrong}({name})",
                f"{indent}_wb_h{n} = {name}._wb_h",
                f"{indent}if not _wb_h{n}: raise {gone}({name})",
            ]
            self._store(Kind.U32, f"_wb_h{n}", indent)
            if check.spend is not None:
                self.moved.append((self.const(f"_wb_spend{n}", check.spend), name))
            else:
                self.borrowed.append(name)
            return
        info = ParamInfo(shown(self.func.name), shown(param.name), t)
        lower = self.const(f"_wb_lv{n}", types.param_lowerer(t, info))
        flat = types.flat_record(t)
        if flat is None:
            self._store(Kind.U32, f"{lower}({name})", indent)
            return
        # A record of numbers packed straight into the arena, no call in between;
        # anything else (a mapping, a full arena) takes the general path.
        cls = self.const(f"_wb_rc{n}", flat.cls)
        pack = self.const(f"_wb_rp{n}", flat.struct.pack_into)
        self.lines += [
            f"{indent}if {name}.__class__ is {cls} and "
            f"_wb_arena.top + {flat.size + 7} <= _wb_arena.end:",
            f"{indent}    _wb_a{n} = (_wb_arena.top + 7) & -8",
            f"{indent}    {pack}(_wb_mem.view, _wb_a{n}, *{name})",  # a record is its values
            f"{indent}    _wb_arena.top = _wb_a{n} + {flat.size}",
            f"{indent}else:",
            f"{indent}    _wb_a{n} = {lower}({name})",
        ]
        self._store(Kind.U32, f"_wb_a{n}", indent)

    def _lower_buffer(self, name: str, t: Type, index: int, indent: str) -> None:
        n = self.temp
        self.temp += 1
        ptr, length, data = f"_wb_p{n}", f"_wb_l{n}", f"_wb_d{n}"
        param = self.func.params[index]
        info = self.const(f"_wb_i{n}", ParamInfo(shown(self.func.name), shown(param.name), t))
        if t.kind in (Kind.STR, Kind.STRING):
            self.lines.append(f"{indent}{ptr}, {length} = _wb_lower_text({name}, {info})")
        else:
            assert t.inner is not None
            inner = indent
            if t.kind in (Kind.SLICE, Kind.MUT_SLICE):  # a GuestArray passes without a copy
                kind = self.const(f"_wb_k{n}", t.inner.kind)
                self.lines += [
                    f"{indent}if {name}.__class__ is _wb_ga and {name}._memory is _wb_mem "
                    f"and {name}.kind is {kind}:",
                    f"{indent}    {ptr}, {length} = {name}.address, {name}.count",
                    f"{indent}else:",
                ]
                inner = indent + "    "
            if t.kind is Kind.MUT_SLICE:
                # Bound up front: under an Option or for a GuestArray it stays None.
                self.lines.insert(0, f"{data} = None")
                self.lines.append(f"{inner}{ptr}, {length}, {data} = _wb_lower_mut({name}, {info})")
                self.after.append(f"if {data} is not None: _wb_copy_back({data}, {ptr})")
            elif t.inner.kind is Kind.U8:
                self.lines.append(f"{inner}{ptr}, {length} = _wb_lower_bytes({name}, {info})")
            else:
                self.lines.append(f"{inner}{ptr}, {length} = _wb_lower_elems({name}, {info})")
        self._store(Kind.I32, ptr, indent)
        self._store(Kind.I32, length, indent)

    def _lift_result(self) -> list[str]:
        result = self.func.result
        if self.raw_results and len(self.raw_results) > 1:
            reads = ", ".join(_raw_read(v, i) for i, v in enumerate(self.raw_results))
            return [f"return ({reads})"]
        kind = result.kind
        if kind is Kind.UNIT:
            return ["return None"]
        if kind is Kind.CHAR:
            assert self.types is not None
            lift = self.const("_wb_chr", self.types.char_result(self.func.name))
            return [f"return {lift}(_wb_vi[0])"]
        if kind is Kind.RESULT_VALUE:
            return self._lift_result_value(result)
        if kind in _SLOT_VIEW:
            fmt, _ = _SLOT_VIEW[kind]
            read = f"{_VIEW_NAME[fmt]}[0]"
            if kind is Kind.BOOL:
                return [f"return {read} != 0"]
            if kind in _NARROW:
                self.const("_wb_narrow", _narrow_fn(kind))
                return [f"return _wb_narrow({read})"]
            return [f"return {read}"]
        tname = self.const("_wb_tr", result)
        flat = self.types.flat_record(result) if self.types is not None else None
        if flat is not None:
            # A record of numbers read straight from guest memory when its buffer is whole.
            unpack = self.const("_wb_unpack", flat.struct.unpack_from)
            cls = self.const("_wb_rcls", flat.cls)
            self.const("_wb_tuple", tuple.__new__)
            return [
                "_wb_view = _wb_mem.view",
                "_wb_rp, _wb_rn = _wb_u32x2(_wb_view, _wb_ret)",
                f"if _wb_rn >= {flat.size} and _wb_rp + _wb_rn <= _wb_mem.size:",
                f"    return _wb_tuple({cls}, {unpack}(_wb_view, _wb_rp))",
                f"return {self._lift_expr(result, tname, '_wb_ret')}",
            ]
        if kind is not Kind.RESULT:
            return [f"return {self._lift_expr(result, tname, '_wb_ret')}"]
        assert result.inner is not None
        inner = self.const("_wb_tr_inner", result.inner)
        self.const("_wb_returned_error", self._returned_error)
        lines = [
            "if _wb_u32(_wb_mem.view, _wb_ret)[0]:",
            "    raise _wb_returned_error("
            f"_wb_lift_text(_wb_ret + 8), {_args_tuple(self.param_names)})",
        ]
        if result.inner.kind is Kind.UNIT:
            return [*lines, "return None"]
        return [*lines, f"return {self._lift_expr(result.inner, inner, '_wb_ret + 8')}"]

    def _lift_result_value(self, result: Type) -> list[str]:
        """``Result<T, E>`` (0x1b): Ok's slot, or ReturnedError with the message or value."""
        assert result.inner is not None and self.types is not None
        describe = functools.partial(_describe_call, self.func.name)
        error = self.const("_wb_rerr", self.types.result_error(result, self.func.name, describe))
        inner = self.const("_wb_tr_inner", result.inner)
        lines = [
            "_wb_tag = _wb_u32(_wb_mem.view, _wb_ret)[0]",
            "if _wb_tag:",
            f"    raise {error}(_wb_ret, _wb_tag, {_args_tuple(self.param_names)})",
        ]
        if result.inner.kind is Kind.UNIT:
            return [*lines, "return None"]
        return [*lines, f"return {self._lift_expr(result.inner, inner, '_wb_ret + 8')}"]

    def _lift_expr(self, t: Type, tname: str, at: str) -> str:
        """The expression reading a return-area value of type ``t`` at ``at``."""
        if _needs_values(t):
            assert self.types is not None
            n = self.temp
            self.temp += 1
            lift = self.const(f"_wb_lr{n}", self.types.slot_lifter(t, self.func.name))
            return f"{lift}({at})"
        return _lift_expr(t, tname, at)

    def _returned_error(self, message: str, args: tuple[Any, ...]) -> BaseException:
        from ..errors import ReturnedError

        call = _describe_call(self.func.name, args)
        return ReturnedError(
            f"{call} in {self.site.module_name} returned an error: {message}", error=message
        )


def _lift_expr(t: Type, tname: str, at: str) -> str:
    """The expression reading a return-area value of type ``t`` at ``at``."""
    if t.kind in (Kind.STR, Kind.STRING):
        return f"_wb_lift_text({at})"
    if t.kind is Kind.VEC and t.inner is not None and t.inner.kind is Kind.U8:
        return f"_wb_lift_bytes({at})"
    return f"_wb_lift({tname}, {at})"


def _instance_types(func: Function, site: CallSite) -> Any:
    """The owner's InstanceTypes when ``func`` uses the types of docs/abi-compound.md."""
    types = [p.type for p in func.params] + [func.result]
    if not any(_needs_values(t) for t in types):
        return None
    from .classes import instance_types

    found = instance_types(site.owner) if site.owner is not None else None
    if found is None:
        raise AssertionError(f"{func.name}: a call using records or classes needs its instance")
    return found


def _args_tuple(names: list[str]) -> str:
    return "(" + "".join(f"{n}, " for n in names) + ")"


def _zero_store(wire: str, slot: int) -> str:
    fmt = {"i32": "i", "i64": "q", "f32": "f", "f64": "d"}[wire]
    mult = 4 if fmt in "if" else 2
    return f"{_VIEW_NAME[fmt]}[{mult * slot}] = 0"


def _raw_read(valtype: str, slot: int) -> str:
    fmt = {"i32": "i", "i64": "q", "f32": "f", "f64": "d"}[valtype]
    mult = 4 if fmt in "if" else 2
    return f"{_VIEW_NAME[fmt]}[{mult * slot}]"


def _narrow_fn(kind: Kind) -> Callable[[int], int]:
    from .marshal import narrow

    return lambda value: narrow(kind, value)


def _check_param(func: str, param: str, t: Type, value: Any) -> BaseException | None:
    if t.kind is Kind.OPTION:
        return (
            None if value is None or t.inner is None else _check_param(func, param, t.inner, value)
        )
    if t.kind in _SLOT_VIEW:
        return check_scalar(func, param, t, value)
    return None


class _ShortRepr(reprlib.Repr):
    """Arguments as shown in error messages: their size never matters."""

    def __init__(self) -> None:
        super().__init__()
        self.maxstring = 24
        self.maxother = 24
        self.maxlist = self.maxtuple = 4

    def repr_bytes(self, value: bytes, level: int) -> str:
        return _short_buffer(value)

    def repr_bytearray(self, value: bytearray, level: int) -> str:
        return _short_buffer(value)

    def repr_memoryview(self, value: memoryview, level: int) -> str:
        return f"<memoryview {value.nbytes:,} bytes>"

    def repr_ndarray(self, value: Any, level: int) -> str:
        return f"<ndarray {value.dtype} {value.shape}>"


def _short_buffer(value: bytes | bytearray) -> str:
    if len(value) <= 16:
        return repr(value)
    head = repr(bytes(value[:8]))
    return f"{type(value).__name__}({head}... {len(value):,} bytes)"


_SHORT = _ShortRepr()


def _describe_call(name: str, args: tuple[Any, ...]) -> str:
    return f"`{shown(name)}({', '.join(_SHORT.repr(a) for a in args)})`"


describe_call = _describe_call
