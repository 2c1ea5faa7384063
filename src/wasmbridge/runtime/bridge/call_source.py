"""The source of one export's Python caller, written from its call plan.

``write_caller`` follows the plan (interface/plan.py) parameter by
parameter: each ``Lowering`` becomes a few lines storing the argument into
the raw value buffer (memoryview casts range- and type-check numbers) or
placing it in guest memory, and the ``Lifting`` of the result becomes the
lines reading it back. The text names nothing after the module: the
function is ``_wb_f``, its parameters ``p0..pn``, every value it uses a
global the caller binds (calls.py).

Globals are of two sorts: ``consts``, the same for every instance of the
module (parameter descriptions, record structs, the plan's parts), and
``recipes``, made per instance from its ``InstanceTypes`` and ``CallSite``
(lowerers bound to its memory, its class wrappers, its callbacks).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ...errors import ProtocolError, ReturnedError
from ...interface.plan import (
    SCALAR_FACTS,
    VALTYPE_FACTS,
    CallPlan,
    Lifting,
    Lowering,
    ParamPlan,
    ResultPlan,
    ScalarFacts,
)
from ...interface.types import Kind, RecordDef, shown
from ._short import describe_call
from .marshal import Marshal, ParamInfo, check_scalar, narrow
from .records import TypeSpace
from .values import Enum, Record

FUNC_NAME = "_wb_f"
# The memoryview (of the raw value buffer) that stores each slot format.
VIEW_NAMES = {
    "i": "_wb_vi",
    "I": "_wb_vu",
    "q": "_wb_vq",
    "Q": "_wb_vuq",
    "f": "_wb_vf",
    "d": "_wb_vd",
}
_PTR = SCALAR_FACTS[Kind.U32]  # addresses and lengths: unsigned (memories past 2 GiB)
_U32 = SCALAR_FACTS[Kind.U32]  # handles, indexes, scalar values, buffer addresses
# Per-instance values: (InstanceTypes or None, CallSite) -> {global name: value}.
Recipe = Callable[[Any, Any], Mapping[str, Any]]


@dataclass(frozen=True)
class CallShape:
    """What a caller's code depends on besides its plan (the same for every instance of a
    module, except ``limited``: an instance made with limits arms each call)."""

    guarded: bool = True  # takes the call token (every export; not the allocator)
    limited: bool = False  # arms per-call limits first (``CallSite.before_call``)
    memory: bool = True  # the module exports memory and the allocator
    reentrant: bool = False  # Python can run during a call (the module imports functions)


@dataclass
class CallerSource:
    """The text of one caller and the globals it needs."""

    source: str
    nslots: int
    consts: dict[str, Any] = field(default_factory=dict)
    recipes: list[Recipe] = field(default_factory=list)
    needs_types: bool = False  # recipes (or annotations) need the instance's InstanceTypes
    drains: bool = False  # first runs the instance's queue of collected class objects
    multi_value: bool = False  # returns a tuple of the wasm results (``raw_results``)


def write_caller(
    plan: CallPlan, shape: CallShape, space: TypeSpace | None, raw_results: Sequence[str] = ()
) -> CallerSource:
    """The caller of ``plan`` (``raw_results``: the wasm results of a multi-value export
    known only by its wasm signature)."""
    return _Writer(plan, shape, space, tuple(raw_results)).write()


def needs_types(plan: CallPlan) -> bool:
    """The plan involves chars, records, enums, classes, tuples, lists or callbacks."""
    return any(_param_needs_types(p) for p in plan.inputs) or _result_needs_types(plan.result)


_TYPED_LOWERINGS = frozenset(
    {
        Lowering.CHAR,
        Lowering.ENCODED,
        Lowering.ENUM,
        Lowering.HANDLE,
        Lowering.BORROW,
        Lowering.CALLBACK,
    }
)
_TYPED_LIFTINGS = frozenset({Lifting.CHAR, Lifting.ENCODED, Lifting.ENUM, Lifting.HANDLE})
_BUFFERS = frozenset({Lowering.TEXT, Lowering.BYTES, Lowering.ELEMENTS, Lowering.MUT_ELEMENTS})


def _param_needs_types(p: ParamPlan) -> bool:
    return p.lowering in _TYPED_LOWERINGS or (p.inner is not None and _param_needs_types(p.inner))


def _result_needs_types(r: ResultPlan) -> bool:
    if r.lifting in _TYPED_LIFTINGS or r.error:
        return True
    return r.inner is not None and _result_needs_types(r.inner)


def _param_has_class(p: ParamPlan) -> bool:
    if p.lowering in (Lowering.HANDLE, Lowering.BORROW):
        return True
    return p.inner is not None and _param_has_class(p.inner)


def _result_has_class(r: ResultPlan) -> bool:
    return r.lifting is Lifting.HANDLE or (r.inner is not None and _result_has_class(r.inner))


def has_class(plan: CallPlan) -> bool:
    """A class object crosses (a parameter, the receiver, the result or its Ok value)."""
    return any(_param_has_class(p) for p in plan.inputs) or _result_has_class(plan.result)


def flat_record(space: TypeSpace | None, definition: object) -> Record | None:
    """The codec of a record of numbers (one struct), packed inline; else None."""
    if space is None or not isinstance(definition, RecordDef):
        return None
    codec = space.named(definition.name)
    return codec if isinstance(codec, Record) and codec.struct is not None else None


def _store(facts: ScalarFacts, slot: int, expr: str) -> str:
    return f"{VIEW_NAMES[facts.slot_code]}[{facts.slot_step * slot}] = {expr}"


def raw_read(facts: ScalarFacts, slot: int) -> str:
    return f"{VIEW_NAMES[facts.slot_code]}[{facts.slot_step * slot}]"


def _args_tuple(names: Sequence[str]) -> str:
    return "(" + "".join(f"{n}, " for n in names) + ")"


class _Writer:
    def __init__(
        self,
        plan: CallPlan,
        shape: CallShape,
        space: TypeSpace | None,
        raw_results: tuple[str, ...],
    ) -> None:
        self.plan = plan
        self.func = plan.function
        self.shape = shape
        self.space = space
        self.raw_results = raw_results
        self.inputs = plan.inputs
        self.param_names = [f"p{i}" for i in range(len(self.inputs))]
        signature = plan.signature
        nslots = max(len(signature.params), len(signature.results), len(raw_results))
        self.out = CallerSource("", nslots, needs_types=needs_types(plan))
        self.out.drains = has_class(plan)
        self.out.multi_value = len(raw_results) > 1
        self.uses_memory = plan.needs_memory
        self.lines: list[str] = []
        self.after: list[str] = []  # copy-backs, run after a successful call
        self.temp = 0
        self.prelude: list[str] = []  # run first, before anything can raise
        self.callbacks: list[str] = []  # ids of callables passed as callbacks, ended after
        self.borrowed: list[str] = []  # class objects the call borrows: marked busy
        self.moved: list[tuple[str, str]] = []  # (spend, parameter) of objects moved into it
        self.label = shown(self.func.name)

    def const(self, name: str, value: Any) -> str:
        self.out.consts[name] = value
        return name

    def recipe(self, recipe: Recipe) -> None:
        self.out.recipes.append(recipe)

    def next_temp(self) -> int:
        n = self.temp
        self.temp += 1
        return n

    # -- the function -----------------------------------------------------------------

    def write(self) -> CallerSource:
        for name, p in zip(self.param_names, self.inputs, strict=True):
            self._lower(name, p, indent="")
        self.const("_wb_args_error", functools.partial(_args_error, self.label, self.inputs))
        self.const("_wb_name", self.func.name)
        self.out.source = self._source()
        return self.out

    def _source(self) -> str:
        shape = self.shape
        params = ", ".join(self.param_names)
        args = _args_tuple(self.param_names)
        body = [f"def {FUNC_NAME}({params}):"]
        body += [f"    {line}" for line in self.prelude]
        if self.out.drains:
            body += ["    if _wb_queue:", "        _wb_drain()"]
        if shape.guarded and not shape.limited:
            # One thread-local attribute per call (zero-cost try); a thread's
            # first call asks its stack size once.
            body += [
                "    try:",
                "        _wb_thread.checked",
                "    except AttributeError:",
                "        _wb_check_thread()",
            ]
        if shape.guarded:
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
                "        if not _wb_arena.start:  # the instance's first call with memory",
                "            _wb_arena.open()",
                "            _wb_mark = _wb_arena.top - _wb_arena.start",
            ]
        body += ["        try:"]
        body += [f"            {line}" for line in self.lines or ["pass"]]
        body += [
            "        except (TypeError, ValueError, OverflowError) as _wb_exc:",
            f"            raise _wb_args_error(_wb_exc, {args}) from None",
        ]
        # Without busy marks (nothing can run Python during the call), an object moved
        # into the call is checked against those the same call borrows.
        tracked = self.borrowed if shape.reentrant else []
        others = "" if tracked else "".join(f"{b}, " for b in self.borrowed)
        rest = [f"{spend}({name}, ({others}))" for spend, name in self.moved]
        if self.plan.retptr:
            # Read after lowering: a large argument may have moved the arena.
            rest += ["_wb_ret = _wb_arena.start", _store(_PTR, 0, "_wb_ret")]
        trap_index = 2 * max(self.out.nslots, 1)  # _capi.CallBuffer: the slot after the values
        rest += [
            *(["_wb_before()"] if shape.limited and shape.guarded else []),
            f"_wb_err = _wb_call(_wb_ctx, _wb_fn, _wb_buf, {self.out.nslots}, _wb_trap)",
            f"if _wb_err or _wb_trap_view[{trap_index}]:",
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
        if shape.guarded:
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

    # -- lowering ---------------------------------------------------------------------

    def _lower(self, name: str, p: ParamPlan, indent: str) -> None:
        lowering = p.lowering
        if lowering is Lowering.SCALAR:
            facts = p.facts
            assert facts is not None
            if facts.python_type == "bool":
                self.lines.append(f"{indent}if {name}.__class__ is not bool: raise TypeError()")
            self.lines.append(indent + _store(facts, p.slot, name))
            if facts.is_narrow and facts.range is not None:
                low, high = facts.range
                self.lines.append(
                    f"{indent}if not {low} <= {name} <= {high}: raise OverflowError()"
                )
        elif lowering is Lowering.OPTION:
            assert p.inner is not None
            self.lines.append(f"{indent}if {name} is None:")
            self.lines.append(f"{indent}    {_store(_PTR, p.slot, '0')}")
            for index, wire in enumerate(p.inner.wire):
                self.lines.append(
                    f"{indent}    {_store(VALTYPE_FACTS[wire], p.slot + 1 + index, '0')}"
                )
            self.lines.append(f"{indent}else:")
            self.lines.append(f"{indent}    {_store(_PTR, p.slot, '1')}")
            self._lower(name, p.inner, indent + "    ")
        elif lowering is Lowering.CALLBACK:
            self._lower_callback(name, p, indent)
        elif lowering in (Lowering.HANDLE, Lowering.BORROW):
            self._lower_handle(name, p, indent)
        elif lowering in _BUFFERS:
            self._lower_buffer(name, p, indent)
        else:
            self._lower_value(name, p, indent)

    def _info(self, p: ParamPlan) -> ParamInfo:
        return ParamInfo.of(self.label, p)

    def _lower_callback(self, name: str, p: ParamPlan, indent: str) -> None:
        """A callable: an id the guest calls it by, valid until this call returns."""
        n = self.next_temp()
        register = f"_wb_cb{n}"
        t, func, param = p.type, self.func.name, p.param.name
        self.recipe(
            lambda types, site: {
                register: types.callback_registrar(t, func, param),
                "_wb_unregister": types.unregister,
            }
        )
        self.prelude.append(f"_wb_c{n} = 0")
        self.lines.append(f"{indent}_wb_c{n} = {register}({name})")
        self.lines.append(indent + _store(_U32, p.slot, f"_wb_c{n}"))
        self.callbacks.append(f"_wb_c{n}")

    def _lower_handle(self, name: str, p: ParamPlan, indent: str) -> None:
        """A class object: its handle, checked (this instance's, this class, still open)."""
        n = self.next_temp()
        cls, wrong, gone, spend = f"_wb_cls{n}", f"_wb_wrong{n}", f"_wb_gone{n}", f"_wb_spend{n}"
        t, func, param = p.type, self.func.name, p.param.name

        def recipe(types: Any, site: Any) -> Mapping[str, Any]:
            check = types.handle_param(t, func, param)
            found = {cls: check.cls, wrong: check.wrong, gone: check.gone}
            if check.spend is not None:
                found[spend] = check.spend
            return found

        self.recipe(recipe)
        self.lines += [
            f"{indent}if {name}.__class__ is not {cls}: raise {wrong}({name})",
            f"{indent}_wb_h{n} = {name}._wb_h",
            f"{indent}if not _wb_h{n}: raise {gone}({name})",
            indent + _store(_U32, p.slot, f"_wb_h{n}"),
        ]
        if p.lowering is Lowering.HANDLE:
            self.moved.append((spend, name))
        else:
            self.borrowed.append(name)

    def _lower_value(self, name: str, p: ParamPlan, indent: str) -> None:
        """A char, enum, record, tuple or list: one i32."""
        n = self.next_temp()
        info = self._info(p)
        lower = f"_wb_lv{n}"
        if p.lowering is Lowering.CHAR:
            self.const(lower, Marshal.char_lowerer(info))
        else:
            assert self.space is not None
            codec = self.space.codec(p.type)
            if p.lowering is Lowering.ENUM:
                assert isinstance(codec, Enum)
                self.const(lower, Marshal.index_lowerer(codec, info))
            else:
                self.recipe(lambda types, site: {lower: types.marshal.value_lowerer(codec, info)})
        flat = flat_record(self.space, p.definition) if p.lowering is Lowering.ENCODED else None
        if flat is None:
            self.lines.append(indent + _store(_U32, p.slot, f"{lower}({name})"))
            return
        # A record of numbers packed straight into the arena, no call in between;
        # anything else (a mapping, a full arena) takes the general path.
        assert flat.struct is not None
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
            indent + _store(_U32, p.slot, f"_wb_a{n}"),
        ]

    def _lower_buffer(self, name: str, p: ParamPlan, indent: str) -> None:
        n = self.next_temp()
        ptr, length, data = f"_wb_p{n}", f"_wb_l{n}", f"_wb_d{n}"
        info = self.const(f"_wb_i{n}", self._info(p))
        lowering = p.lowering
        if lowering is Lowering.TEXT:
            self.lines.append(f"{indent}{ptr}, {length} = _wb_lower_text({name}, {info})")
        else:
            assert p.facts is not None
            inner = indent
            if not p.owned:  # a lent buffer: a GuestArray passes without a copy
                kind = self.const(f"_wb_k{n}", p.facts.kind)
                self.lines += [
                    f"{indent}if {name}.__class__ is _wb_ga and {name}._memory is _wb_mem "
                    f"and {name}.kind is {kind}:",
                    f"{indent}    {ptr}, {length} = {name}.address, {name}.count",
                    f"{indent}else:",
                ]
                inner = indent + "    "
            if lowering is Lowering.MUT_ELEMENTS:
                # Bound up front: under an Option or for a GuestArray it stays None.
                self.lines.insert(0, f"{data} = None")
                self.lines.append(f"{inner}{ptr}, {length}, {data} = _wb_lower_mut({name}, {info})")
                self.after.append(f"if {data} is not None: _wb_copy_back({data}, {ptr})")
            elif lowering is Lowering.BYTES:
                self.lines.append(f"{inner}{ptr}, {length} = _wb_lower_bytes({name}, {info})")
            else:
                self.lines.append(f"{inner}{ptr}, {length} = _wb_lower_elems({name}, {info})")
        self.lines.append(indent + _store(_PTR, p.slot, ptr))
        self.lines.append(indent + _store(_PTR, p.slot + 1, length))

    # -- lifting ----------------------------------------------------------------------

    def _lift_result(self) -> list[str]:
        result = self.plan.result
        if len(self.raw_results) > 1:
            reads = ", ".join(
                raw_read(VALTYPE_FACTS[v], i)  # type: ignore[index]
                for i, v in enumerate(self.raw_results)
            )
            return [f"return ({reads})"]
        lifting = result.lifting
        if lifting is Lifting.NONE:
            return ["return None"]
        if lifting is Lifting.CHAR:
            func = self.func.name
            self.recipe(lambda types, site: {"_wb_chr": types.char_result(func)})
            return [f"return _wb_chr({raw_read(_PTR, 0)})"]
        if lifting is Lifting.SCALAR:
            facts = result.facts
            assert facts is not None
            read = raw_read(facts, 0)
            if facts.python_type == "bool":
                return [f"return {read} != 0"]
            if facts.is_narrow:
                self.const("_wb_narrow", functools.partial(narrow, facts))
                return [f"return _wb_narrow({read})"]
            return [f"return {read}"]
        if lifting is Lifting.RESULT:
            return self._lift_failing(result)
        flat = flat_record(self.space, result.definition) if lifting is Lifting.ENCODED else None
        if flat is not None:
            # A record of numbers read straight from guest memory when its buffer is whole.
            assert flat.struct is not None
            unpack = self.const("_wb_unpack", flat.struct.unpack_from)
            cls = self.const("_wb_rcls", flat.cls)
            self.const("_wb_tuple", tuple.__new__)
            return [
                "_wb_view = _wb_mem.view",
                "_wb_rp, _wb_rn = _wb_u32x2(_wb_view, _wb_ret)",
                f"if _wb_rn >= {flat.size} and _wb_rp + _wb_rn <= _wb_mem.size:",
                f"    return _wb_tuple({cls}, {unpack}(_wb_view, _wb_rp))",
                f"return {self._lift_expr(result, '_wb_tr', '_wb_ret')}",
            ]
        return [f"return {self._lift_expr(result, '_wb_tr', '_wb_ret')}"]

    def _lift_failing(self, result: ResultPlan) -> list[str]:
        """``Result<T, E>``: Ok's slot, or ReturnedError with the message (or value)."""
        assert result.inner is not None
        args = _args_tuple(self.param_names)
        if result.error:  # a result with value (0x1b): the instance lifts the error
            func, whole = self.func.name, result
            self.recipe(
                lambda types, site: {
                    "_wb_rerr": types.result_error(
                        whole, func, functools.partial(describe_call, func)
                    )
                }
            )
            lines = [
                "_wb_tag = _wb_u32(_wb_mem.view, _wb_ret)[0]",
                "if _wb_tag:",
                f"    raise _wb_rerr(_wb_ret, _wb_tag, {args})",
            ]
        else:
            func = self.func.name
            self.recipe(
                lambda types, site: {
                    "_wb_returned_error": functools.partial(returned_error, func, site.module_name)
                }
            )
            self.const("_wb_err_fn", func)
            lines = [
                "_wb_tag = _wb_u32(_wb_mem.view, _wb_ret)[0]",
                "if _wb_tag:",
                "    raise _wb_returned_error(",
                f"        _wb_tag, _wb_lift_text(_wb_ret + 8, _wb_err_fn), {args}",
                "    )",
            ]
        if result.inner.lifting is Lifting.NONE:
            return [*lines, "return None"]
        return [*lines, f"return {self._lift_expr(result.inner, '_wb_tr_inner', '_wb_ret + 8')}"]

    def _lift_expr(self, r: ResultPlan, tname: str, at: str) -> str:
        """The expression reading the return-area slot of ``r`` at ``at``."""
        if _result_needs_types(r):
            n = self.next_temp()
            lift, func = f"_wb_lr{n}", self.func.name
            self.recipe(lambda types, site: {lift: types.slot_lifter(r, func)})
            return f"{lift}({at})"
        self.const(f"{tname}_fn", self.func.name)
        if r.lifting is Lifting.TEXT:
            return f"_wb_lift_text({at}, {tname}_fn)"
        if r.lifting is Lifting.BYTES:
            return f"_wb_lift_bytes({at}, {tname}_fn)"
        self.const(tname, r)
        return f"_wb_lift({tname}, {at}, {tname}_fn)"


def _args_error(
    func: str, inputs: tuple[ParamPlan, ...], exc: BaseException, args: tuple[Any, ...]
) -> BaseException:
    """Turn a store failure into a TypeError naming the parameter."""
    if str(exc).startswith(f"{func}() argument"):
        return exc
    for p, value in zip(inputs, args, strict=True):
        problem = _check_param(func, shown(p.param.name), p, value)
        if problem is not None:
            return problem
    return exc


def _check_param(func: str, param: str, p: ParamPlan, value: Any) -> BaseException | None:
    if p.lowering is Lowering.OPTION:
        return (
            None if value is None or p.inner is None else _check_param(func, param, p.inner, value)
        )
    if p.lowering is Lowering.SCALAR:
        return check_scalar(func, param, p.type, value)
    return None


def returned_error(
    func: str, module: str, tag: int, message: str, args: tuple[Any, ...]
) -> BaseException:
    call = describe_call(func, args)
    if tag != 1:
        return ProtocolError(
            f"{module}: `{shown(func)}` returned a malformed result: a result tag is {tag:,}, "
            "not 0 (Ok) or 1 (Err)",
            hint="this is a bug in the guest module or a mismatched interface",
        )
    return ReturnedError(f"{call} in {module} returned an error: {message}", error=message)
