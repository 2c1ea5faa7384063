"""The call plan: how each function's arguments are lowered and its results lifted.

Every host derives its calling code from one description per function
instead of keeping its own tables of types: ``SCALAR_FACTS`` holds every
per-kind fact (sizes, wasm value types, struct codes, Python, JS, TS and
WIT spellings), and ``plan_call`` says, for each parameter and for the
result, how the value crosses (docs/abi.md, docs/abi-compound.md). The
plan is derived from abi.py and layout.py, never a second copy of them.

    >>> i32 = Type(Kind.I32)
    >>> plan = plan_call(Function("add", (Param("a", i32), Param("b", i32)), i32), None)
    >>> [p.lowering for p in plan.params], plan.result.lifting
    ([<Lowering.SCALAR: 1>, <Lowering.SCALAR: 1>], <Lifting.SCALAR: 1>)
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType

from . import abi
from .layout import Layout, callback_args_layout, is_list, layout
from .names import python_param_names
from .types import (
    NUMBERS,
    ClassDef,
    EnumDef,
    Function,
    Interface,
    Kind,
    Method,
    Param,
    Receiver,
    RecordDef,
    Type,
    shown_type,
)


@dataclass(frozen=True)
class ScalarFacts:
    """Everything a host needs to know about one scalar kind (numbers, bool, char).

    ``size`` is the value's size (and alignment) inside an encoded buffer or
    a typed buffer; ``code`` its ``array``/``struct``/``memoryview`` format
    there (``struct_code`` with the little-endian prefix); ``slot_code`` the
    format that reads it from a raw wasm value slot (``valtype`` wide) and
    ``slot_step`` how many items of that format one 16-byte slot holds.
    ``range`` is the inclusive value range of an integer (None for floats and
    bool; char is checked as a scalar value, not by range).
    """

    kind: Kind
    size: int
    valtype: abi.ValType
    code: str
    slot_code: str
    python_type: str
    js_array: str
    js_view: str
    ts_type: str
    wit_name: str
    rust_name: str
    range: tuple[int, int] | None = None

    @property
    def struct_code(self) -> str:
        return "<" + self.code

    @property
    def slot_step(self) -> int:
        return 16 // _CODE_SIZES[self.slot_code]

    @property
    def is_float(self) -> bool:
        return self.kind in (Kind.F32, Kind.F64)

    @property
    def is_integer(self) -> bool:
        return self.range is not None

    @property
    def is_signed(self) -> bool:
        return self.range is not None and self.range[0] < 0

    @property
    def is_narrow(self) -> bool:
        """An integer narrower than its wasm value: the guest reads only its low bits."""
        return self.range is not None and self.size < 4

    @property
    def is_big(self) -> bool:
        """Crosses JS as a BigInt (i64, u64)."""
        return self.valtype == "i64"

    @property
    def name(self) -> str:
        """The kind's interface name, e.g. ``i32``, ``f64``, ``bool``, ``char``."""
        return self.kind.name.lower()


_CODE_SIZES = {"i": 4, "I": 4, "q": 8, "Q": 8, "f": 4, "d": 8}


def _int(kind: Kind, size: int, signed: bool) -> ScalarFacts:
    bits = size * 8
    codes = {1: "b", 2: "h", 4: "i", 8: "q"}[size]
    code = codes if signed else codes.upper()
    prefix = "Int" if signed else "Uint"
    big = "Big" if size == 8 else ""
    low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    return ScalarFacts(
        kind=kind,
        size=size,
        valtype="i64" if size == 8 else "i32",
        code=code,
        slot_code=code if size == 8 else ("I" if kind is Kind.U32 else "i"),
        python_type="int",
        js_array=f"{big}{prefix}{bits}Array",
        js_view=f"{big}{prefix}{bits}",
        ts_type="bigint" if size == 8 else "number",
        wit_name=f"{'s' if signed else 'u'}{bits}",
        rust_name=kind.name.lower(),
        range=(low, high),
    )


def _float(kind: Kind, size: int) -> ScalarFacts:
    bits = size * 8
    return ScalarFacts(
        kind=kind,
        size=size,
        valtype="f32" if size == 4 else "f64",
        code="f" if size == 4 else "d",
        slot_code="f" if size == 4 else "d",
        python_type="float",
        js_array=f"Float{bits}Array",
        js_view=f"Float{bits}",
        ts_type="number",
        wit_name=f"f{bits}",
        rust_name=f"f{bits}",
    )


SCALAR_FACTS: Mapping[Kind, ScalarFacts] = MappingProxyType(
    {
        Kind.BOOL: ScalarFacts(
            Kind.BOOL, 1, "i32", "B", "i", "bool", "Uint8Array", "Uint8", "boolean", "bool", "bool"
        ),
        Kind.I8: _int(Kind.I8, 1, True),
        Kind.U8: _int(Kind.U8, 1, False),
        Kind.I16: _int(Kind.I16, 2, True),
        Kind.U16: _int(Kind.U16, 2, False),
        Kind.I32: _int(Kind.I32, 4, True),
        Kind.U32: _int(Kind.U32, 4, False),
        Kind.I64: _int(Kind.I64, 8, True),
        Kind.U64: _int(Kind.U64, 8, False),
        Kind.F32: _float(Kind.F32, 4),
        Kind.F64: _float(Kind.F64, 8),
        Kind.CHAR: ScalarFacts(
            Kind.CHAR, 4, "i32", "I", "i", "str", "Uint32Array", "Uint32", "string", "char", "char"
        ),
    }
)

# The facts of the kind each wasm value type carries unchanged (i32, i64, f32, f64):
# how a function known only by its wasm signature crosses.
VALTYPE_FACTS: Mapping[abi.ValType, ScalarFacts] = MappingProxyType(
    {f.valtype: f for f in (SCALAR_FACTS[k] for k in (Kind.I32, Kind.I64, Kind.F32, Kind.F64))}
)

# The largest Unicode scalar value; a char is never a surrogate (0xD800..0xDFFF).
MAX_CHAR = 0x10FFFF


class Lowering(Enum):
    """How one parameter crosses into the guest."""

    SCALAR = 1  # a number or bool: one wasm value
    CHAR = 2  # one i32, the scalar value
    TEXT = 3  # &str / String: UTF-8 (ptr, len)
    BYTES = 4  # &[u8] / Vec<u8>: (ptr, len) from any bytes-like object
    ELEMENTS = 5  # &[T] / Vec<T> of other numbers: (ptr, len in elements)
    MUT_ELEMENTS = 6  # &mut [T]: (ptr, len), copied back after the call
    OPTION = 7  # is_some: i32, then the inner parameter's values
    ENCODED = 8  # a tuple, list or (borrowed) record: one i32, an encoded buffer
    ENUM = 9  # a (borrowed) enum: one i32, the case index
    HANDLE = 10  # a class object moved into the guest: one i32
    BORROW = 11  # a class object lent for the call (&C, &mut C): one i32
    CALLBACK = 12  # a callable: one i32, the callback id for the call


class Lifting(Enum):
    """How a result (or a part of one in the return area) comes back."""

    NONE = 0  # unit
    SCALAR = 1
    CHAR = 2
    TEXT = 3
    BYTES = 4  # Vec<u8>
    ELEMENTS = 5  # Vec<T> of other numbers
    OPTION = 6
    RESULT = 7
    ENCODED = 8
    ENUM = 9
    HANDLE = 10


@dataclass(frozen=True)
class ParamPlan:
    """How one parameter is lowered.

    ``name`` is the Python keyword name (interface/names.py). ``wire`` are
    the wasm values it takes and ``slot`` the index of the first one among
    the function's wasm parameters. ``size``/``align`` are the element size
    and buffer alignment of text, bytes and elements, the encoded layout of
    ENCODED, the tuple of a callback's arguments for CALLBACK. ``owned``:
    the guest takes ownership of the buffer (String, Vec<T> of an export);
    otherwise it is lent for the call.
    """

    param: Param
    name: str
    index: int
    lowering: Lowering
    wire: tuple[abi.ValType, ...]
    slot: int
    facts: ScalarFacts | None = None  # SCALAR and CHAR: the value; buffers: the element
    size: int = 0
    align: int = 1
    owned: bool = False
    inner: ParamPlan | None = None  # OPTION: the payload
    definition: RecordDef | EnumDef | ClassDef | None = None

    @property
    def type(self) -> Type:
        return self.param.type


@dataclass(frozen=True)
class ResultPlan:
    """How a result (or a part of one) is lifted.

    ``offset`` is where its slot starts in the return area (for a direct
    result, 0 and unused); ``size`` the return-area bytes it spans. An
    OPTION's payload and a RESULT's Ok value sit at ``offset + 8`` (``inner``);
    a RESULT's error (a message, or for RESULT_VALUE an encoded value of
    ``error``) too.
    """

    type: Type
    lifting: Lifting
    offset: int = 0
    size: int = 0
    facts: ScalarFacts | None = None
    inner: ResultPlan | None = None
    definition: RecordDef | EnumDef | ClassDef | None = None
    layout: Layout | None = None  # ENCODED: the value's layout
    error: str = ""  # RESULT of a RESULT_VALUE: the error type's name
    error_definition: RecordDef | EnumDef | None = None  # when the error can be a value

    @property
    def error_values(self) -> bool:
        """An Err may carry a typed value (tag 2), not only a message."""
        return self.error_definition is not None


@dataclass(frozen=True)
class CallPlan:
    """How to call one export, method or import."""

    function: Function
    method: Method | None
    params: tuple[ParamPlan, ...]
    result: ResultPlan
    signature: abi.Signature
    retptr: bool  # the wasm function takes a return area address first
    retarea_size: int
    handle: bool  # the wasm function takes the receiver's handle (after retptr)
    needs_memory: bool
    imported: bool
    # A method's object as its first wasm parameter after retptr (``&self``, ``&mut self``:
    # BORROW; ``self``: HANDLE), named ``self`` (``self_`` when a parameter is named
    # ``self``); None for functions and static methods.
    receiver_param: ParamPlan | None = None

    @property
    def receiver(self) -> Receiver | None:
        return None if self.method is None else self.method.receiver

    @property
    def names(self) -> tuple[str, ...]:
        """The Python keyword name of each parameter."""
        return tuple(p.name for p in self.params)

    @property
    def inputs(self) -> tuple[ParamPlan, ...]:
        """Everything the caller passes, in wasm order: the receiver, then the parameters."""
        if self.receiver_param is None:
            return self.params
        return (self.receiver_param, *self.params)

    @property
    def first_param_slot(self) -> int:
        """Index of the first parameter's wasm value (after retptr and handle)."""
        return int(self.retptr) + int(self.handle)


_MEMO_KEY = "plan"


def plan_call(func: Function, iface: Interface | None, method: Method | None = None) -> CallPlan:
    """The call plan of an export or import (or, with ``method``, of a method export).

    Plans are memoized per interface and function. Raises ValueError for a
    type with no lowering (``validate`` reports those first, naming the
    function) and for a named type ``iface`` does not define.
    """
    if method is not None and method.function is not func:
        raise ValueError(f"`{func.name}` is not the function of method `{method.member}`")
    if iface is None:
        return _plan_unnamed(func, method)
    memo = iface.memo.get(_MEMO_KEY)
    if not isinstance(memo, dict):
        memo = iface.memo[_MEMO_KEY] = {}
    key = (func, method)
    found = memo.get(key)
    if found is None:
        found = memo[key] = _plan(func, iface, method)
    assert isinstance(found, CallPlan)
    return found


@functools.lru_cache(maxsize=512)
def _plan_unnamed(func: Function, method: Method | None) -> CallPlan:
    return _plan(func, None, method)


def _plan(func: Function, iface: Interface | None, method: Method | None) -> CallPlan:
    imported = bool(func.module)
    handle = method is not None and method.takes_handle
    signature = abi.method_signature(method) if method is not None else abi.signature(func)
    retptr = abi.uses_retptr(func.result)
    planner = _Planner(iface, imported)
    names = python_param_names(func)
    receiver = None
    if method is not None and handle:
        own = Kind.NAMED if method.receiver is Receiver.OWNED else Kind.BORROW
        this = Type(own, name=_class_name(iface, method))
        receiver = planner.param(Param("self", this), _receiver_name(names), -1, int(retptr))
    slot = int(retptr) + int(handle)
    params = []
    for index, (param, name) in enumerate(zip(func.params, names, strict=True)):
        plan = planner.param(param, name, index, slot)
        params.append(plan)
        slot += len(plan.wire)
    return CallPlan(
        function=func,
        method=method,
        params=tuple(params),
        result=planner.result(func.result, 0, direct=not retptr),
        signature=signature,
        retptr=retptr,
        retarea_size=abi.retarea_size(func.result) if retptr else 0,
        handle=handle,
        needs_memory=abi.needs_memory(func, iface),
        imported=imported,
        receiver_param=receiver,
    )


def _receiver_name(names: list[str]) -> str:
    """A method's object as Python names it: ``self``, unless a parameter has that name."""
    name = "self"
    while name in names:
        name += "_"
    return name


def _class_name(iface: Interface | None, method: Method) -> str:
    """The name of the class that defines ``method`` (its export is ``Class.member``)."""
    if iface is not None:
        owners = iface.memo.get(_OWNERS_KEY)
        if not isinstance(owners, dict):
            owners = {m: c.name for c in iface.classes for m in c.methods}
            iface.memo[_OWNERS_KEY] = owners
        found = owners.get(method)
        if isinstance(found, str):
            return found
    return method.function.name.rsplit(".", 1)[0]


_OWNERS_KEY = "plan-owners"


class _Planner:
    def __init__(self, iface: Interface | None, imported: bool) -> None:
        self.iface = iface
        self.imported = imported

    def definition(self, t: Type) -> RecordDef | EnumDef | ClassDef:
        found = None if self.iface is None else self.iface.type_def(t.name)
        if found is None:
            raise ValueError(f"no record, enum or class named `{shown_type(t)}` is defined")
        return found

    def param(self, param: Param, name: str, index: int, slot: int) -> ParamPlan:
        t = param.type
        wire = abi.param_wire(t)
        plan = functools.partial(ParamPlan, param, name, index, wire=wire, slot=slot)
        kind = t.kind
        if kind in NUMBERS or kind is Kind.BOOL:
            return plan(Lowering.SCALAR, facts=SCALAR_FACTS[kind])
        if kind is Kind.CHAR:
            return plan(Lowering.CHAR, facts=SCALAR_FACTS[kind])
        owned = abi.is_owned(t) and not self.imported
        if abi.is_buffer(t):
            if t.inner is None:
                return plan(Lowering.TEXT, owned=owned)
            facts = SCALAR_FACTS[t.inner.kind]
            if kind is Kind.MUT_SLICE:
                lowering = Lowering.MUT_ELEMENTS
            else:
                lowering = Lowering.BYTES if t.inner.kind is Kind.U8 else Lowering.ELEMENTS
            return plan(lowering, facts=facts, size=facts.size, align=facts.size, owned=owned)
        if kind is Kind.OPTION:
            assert t.inner is not None
            inner = self.param(Param(param.name, t.inner), name, index, slot + 1)
            return plan(Lowering.OPTION, inner=inner)
        if kind is Kind.CALLBACK:
            shape = self.layout_of(t, callback=True)
            return plan(Lowering.CALLBACK, size=shape.size, align=shape.align)
        if kind is Kind.TUPLE or is_list(t):
            shape = self.layout_of(t)
            return plan(Lowering.ENCODED, size=shape.size, align=shape.align)
        if kind in (Kind.NAMED, Kind.BORROW):
            found = self.definition(t)
            if isinstance(found, RecordDef):
                shape = self.layout_of(Type(Kind.NAMED, name=t.name))
                return plan(Lowering.ENCODED, size=shape.size, align=shape.align, definition=found)
            if isinstance(found, EnumDef):
                return plan(Lowering.ENUM, definition=found)
            lowering = Lowering.HANDLE if kind is Kind.NAMED else Lowering.BORROW
            return plan(lowering, definition=found)
        raise ValueError(f"`{shown_type(t)}` cannot be a parameter")

    def layout_of(self, t: Type, *, callback: bool = False) -> Layout:
        # Without an interface only unnamed types can appear; they need no definitions.
        iface = self.iface if self.iface is not None else Interface(1)
        return callback_args_layout(t, iface) if callback else layout(t, iface)

    def result(self, t: Type, offset: int, *, direct: bool = False) -> ResultPlan:
        kind = t.kind
        size = 0 if direct else abi.retarea_size(t)
        plan = functools.partial(ResultPlan, t, offset=offset, size=size)
        if kind is Kind.UNIT:
            return plan(Lifting.NONE)
        if kind in NUMBERS or kind is Kind.BOOL:
            return plan(Lifting.SCALAR, facts=SCALAR_FACTS[kind])
        if kind is Kind.CHAR:
            return plan(Lifting.CHAR, facts=SCALAR_FACTS[kind])
        if kind in (Kind.STR, Kind.STRING):
            return plan(Lifting.TEXT)
        if abi.is_buffer(t):
            assert t.inner is not None
            lifting = Lifting.BYTES if t.inner.kind is Kind.U8 else Lifting.ELEMENTS
            return plan(lifting, facts=SCALAR_FACTS[t.inner.kind])
        if kind is Kind.OPTION:
            assert t.inner is not None
            return plan(Lifting.OPTION, inner=self.result(t.inner, offset + 8))
        if kind in (Kind.RESULT, Kind.RESULT_VALUE):
            assert t.inner is not None
            inner = self.result(t.inner, offset + 8)
            if kind is Kind.RESULT:
                return plan(Lifting.RESULT, inner=inner)
            found = None if self.iface is None else self.iface.type_def(t.name)
            value = found if isinstance(found, (RecordDef, EnumDef)) else None
            return plan(Lifting.RESULT, inner=inner, error=t.name, error_definition=value)
        if kind is Kind.TUPLE or is_list(t):
            return plan(Lifting.ENCODED, layout=self.layout_of(t))
        if kind is Kind.NAMED:
            found = self.definition(t)
            if isinstance(found, RecordDef):
                return plan(Lifting.ENCODED, definition=found, layout=self.layout_of(t))
            if isinstance(found, EnumDef):
                return plan(Lifting.ENUM, definition=found)
            return plan(Lifting.HANDLE, definition=found)
        raise ValueError(f"`{shown_type(t)}` cannot be a result")
