"""The body of the JS function (or method) that calls one wasm export.

A shim follows the export's call plan (interface/plan.py): it checks every
argument before anything is allocated, lends or gives buffers to the guest,
calls the export, lifts the result from the return area, and frees what it
lent; a trap becomes an error naming the call (docs/abi.md,
docs/abi-compound.md). Class objects are checked too: a method borrows its
object for the call (``&self``), a by-value argument is moved into the
guest and spent.

    shim = Shim(plan_call(func, interface), context)
    lines = shim.body()  # inside `function add(a, b) { ... }`
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..interface import Function, Interface, Method, Receiver, Type, abi
from ..interface.plan import CallPlan, Lifting, Lowering, ParamPlan, ResultPlan, plan_call
from ..interface.types import Kind
from . import _js_helpers as lib
from ._js_names import js_identifier, js_string, member
from ._js_scalars import check_name, from_wire, optional_to_wire, read_slot, to_wire
from ._js_types import TypeTable
from ._ts_types import TsTypes
from ._writer import Helpers

# Lowerings that lend or give the guest a buffer of text or numbers.
_BUFFERS = frozenset({Lowering.TEXT, Lowering.BYTES, Lowering.ELEMENTS, Lowering.MUT_ELEMENTS})


@dataclass
class Context:
    """What every shim of a module shares."""

    helpers: Helpers
    interface: Interface | None
    types: TypeTable | None
    ts: TsTypes
    keeps_stack: bool = False  # the guest exports its shadow-stack pointer: restore it

    def plan(self, func: Function, method: Method | None = None) -> CallPlan:
        """The call plan of an export (or of a method's export)."""
        return plan_call(func, self.interface, method)


@dataclass
class _Lowered:
    """How a shim passes its parameters: statements around the call and wasm arguments."""

    checks: list[str] = field(default_factory=list)
    loans: list[str] = field(default_factory=list)
    enter: list[str] = field(default_factory=list)  # class objects a call borrows
    wire: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)  # copy-backs of &mut slices
    reclaims: list[str] = field(default_factory=list)


@dataclass
class _Handle:
    state: str
    moved: bool
    what: str


class Shim:
    """The JS body of one call plan: an exported function, or a method of ``owner``."""

    def __init__(self, plan: CallPlan, context: Context, *, owner: str = "") -> None:
        self.plan = plan
        self.func = plan.function
        self.context = context
        self.helpers = context.helpers
        self.receiver = plan.receiver
        self.owner = owner  # the class of a method: what its constructor makes
        self.taken = set(lib.BODY_NAMES)
        this = plan.receiver_param
        self.self_state = js_identifier("self", self.taken) if this is not None else ""
        self.params = [js_identifier(p.param.name, self.taken) for p in plan.params]
        self.lowered = _Lowered()
        self.handles: list[_Handle] = []

    def need(self, name: str) -> str:
        return self.helpers.need(name)

    def body(self) -> list[str]:
        """The statements of the JS function: checks, loans, the call, its result."""
        if self.plan.receiver_param is not None:
            self._receiver(self.plan.receiver_param)
        for name, param in zip(self.params, self.plan.params, strict=True):
            what = js_string(f"{self.func.name}() argument '{param.param.name}'")
            self._lower(name, param, what, param.param.name)
        self._handle_moves()
        low = self.lowered
        lines = [*low.checks, *low.loans, *low.enter, "try {"]
        lines += [f"  {line}" for line in self._call()]
        args = f"[{', '.join(self.params)}]"
        lines.append("} catch (error) {")
        if self.context.keeps_stack:
            self.need("enterHost")  # the snippet that defines restoreStack()
            lines.append("  restoreStack();")
        lines.append(f"  throw failure(error, {js_string(self.func.name)}, {args});")
        if low.reclaims:
            lines += ["} finally {", *(f"  {line}" for line in low.reclaims)]
        return [*lines, "}"]

    # -- class objects ----------------------------------------------------------------

    def _receiver(self, this: ParamPlan) -> None:
        """The method's object, borrowed for the call (``&self``) or moved (``self``)."""
        what = js_string(f"{self.func.name}()")
        self.lowered.checks.append(
            f"const {self.self_state} = {self._state_of('this', this.type.name, what)};"
        )
        self._use_handle(self.self_state, moved=this.lowering is Lowering.HANDLE, what=what)

    def _handle(self, name: str, param: ParamPlan, what: str) -> None:
        state = js_identifier(f"{name}State", self.taken)
        self.lowered.checks.append(
            f"const {state} = {self._state_of(name, param.type.name, what)};"
        )
        self._use_handle(state, moved=param.lowering is Lowering.HANDLE, what=what)

    def _state_of(self, value: str, class_name: str, what: str) -> str:
        return f"{self.need('stateOf')}({value}, {self._named(class_name)}, {what})"

    def _use_handle(self, state: str, *, moved: bool, what: str) -> None:
        self.handles.append(_Handle(state, moved, what))
        low = self.lowered
        if moved:
            low.wire.append(f"{self.need('spend')}({state}, {js_string(self.func.name)})")
        else:
            low.wire.append(f"{state}.handle")
            low.enter.append(f"{state}.busy += 1;")
            low.reclaims.append(f"{state}.busy -= 1;")

    def _handle_moves(self) -> None:
        for handle in self.handles:
            if handle.moved:
                others = ", ".join(h.state for h in self.handles if h is not handle)
                check = self.need("checkMove")
                self.lowered.checks.append(f"{check}({handle.state}, [{others}], {handle.what});")

    # -- lowering ---------------------------------------------------------------------

    def _named(self, name: str) -> str:
        """The registry entry of a record, enum or class."""
        assert self.context.types is not None
        return self.context.types.named(name)

    def _lower(self, name: str, param: ParamPlan, what: str, root: str) -> None:
        low = self.lowered
        how = param.lowering
        if how is Lowering.OPTION:
            assert param.inner is not None
            self._lower_option(name, param.inner, what, root)
        elif how is Lowering.SCALAR:
            assert param.facts is not None
            low.checks.append(f"{self._check(param)}({name}, {what});")
            low.wire.append(to_wire(param.facts, name))
        elif how in (Lowering.HANDLE, Lowering.BORROW):
            self._handle(name, param, what)
        elif how is Lowering.CALLBACK:
            self._callback(name, param.type, what)
        elif how in (Lowering.CHAR, Lowering.ENUM):
            number = self._number_name(name, param)
            low.checks.append(f"const {number} = {self._number_of(name, param, what)};")
            low.wire.append(number)
        elif how is Lowering.ENCODED:
            data = js_identifier(f"{name}Data", self.taken)
            low.checks.append(f"const {data} = {self._encode(name, param.type, what, root)};")
            self._lend_encoded(name, data, present="")
        else:
            assert how in _BUFFERS
            check, data = self._buffer_check(name, param, what)
            low.checks.append(f"{check};" if data == name else f"const {data} = {check};")
            loan = js_identifier(f"{name}Loan", self.taken)
            low.loans.append(f"const {loan} = {self._loan_call(param, data)};")
            self._use_loan(name, param, loan, present="")

    def _callback(self, name: str, t: Type, what: str) -> None:
        """A function argument, lent to the guest under an id until the call returns."""
        assert self.context.types is not None and t.inner is not None
        types = self.context.types
        low = self.lowered
        low.checks.append(f"{self.need('checkFunction')}({name}, {what});")
        args = types.ref(Type(Kind.TUPLE, items=t.items)) if t.items else "undefined"
        result = "undefined" if t.inner.kind is Kind.UNIT else types.ref(t.inner)
        lent = js_identifier(f"{name}Id", self.taken)
        lend = self.need("lendCallback")
        low.loans.append(f"const {lent} = {lend}({name}, {args}, {result}, {what});")
        low.wire.append(lent)
        low.reclaims.append(f"callbacks.delete({lent});")

    def _number_name(self, name: str, param: ParamPlan) -> str:
        suffix = "Code" if param.lowering is Lowering.CHAR else "Index"
        return js_identifier(f"{name}{suffix}", self.taken)

    def _number_of(self, name: str, param: ParamPlan, what: str) -> str:
        """The i32 a char or enum argument crosses as: its scalar value or case index."""
        if param.lowering is Lowering.CHAR:
            return f"{self.need('charCode')}({name}, {what})"
        return f"{self._named(param.type.name)}.indexOf({name}, {what})"

    def _encode(self, name: str, t: Type, what: str, root: str) -> str:
        assert self.context.types is not None
        ref = self.context.types.ref(t)
        return f"{self.need('encode')}({ref}, {name}, {what}, {js_string(root)})"

    def _lend_encoded(self, name: str, data: str, present: str) -> None:
        loan = js_identifier(f"{name}Loan", self.taken)
        lend = f"{self.need('lendEncoded')}({data})"
        if present:
            lend = f"{name} == null ? {self.need('NO_LOAN')} : {lend}"
        self.lowered.loans.append(f"const {loan} = {lend};")
        self.lowered.wire.append(f"{loan}.ptr")
        self.lowered.reclaims.append(f"{self.need('reclaim')}({loan});")

    def _lower_option(self, name: str, inner: ParamPlan, what: str, root: str) -> None:
        low = self.lowered
        low.wire.append(f"{name} == null ? 0 : 1")
        how = inner.lowering
        if how is Lowering.SCALAR:
            assert inner.facts is not None
            check = f"{self._check(inner)}({name}, {what})"
            low.checks.append(f"if ({name} != null) {check};")
            low.wire.append(optional_to_wire(inner.facts, name))
            return
        if how in (Lowering.CHAR, Lowering.ENUM):
            number = self._number_name(name, inner)
            low.checks.append(
                f"const {number} = {name} == null ? 0 : {self._number_of(name, inner, what)};"
            )
            low.wire.append(number)
            return
        if how is Lowering.ENCODED:
            data = js_identifier(f"{name}Data", self.taken)
            encoded = self._encode(name, inner.type, what, root)
            low.checks.append(f"const {data} = {name} == null ? undefined : {encoded};")
            self._lend_encoded(name, data, present="yes")
            return
        assert how in _BUFFERS
        check, data = self._buffer_check(name, inner, what)
        if data == name:
            low.checks.append(f"if ({name} != null) {check};")
        else:
            low.checks.append(f"const {data} = {name} == null ? undefined : {check};")
        loan = js_identifier(f"{name}Loan", self.taken)
        self.need("NO_LOAN")
        low.loans.append(
            f"const {loan} = {name} == null ? NO_LOAN : {self._loan_call(inner, data)};"
        )
        self._use_loan(name, inner, loan, present=f"if ({name} != null) ")

    def _use_loan(self, name: str, param: ParamPlan, loan: str, present: str) -> None:
        low = self.lowered
        low.wire += [f"{loan}.ptr", f"{loan}.len"]
        if param.lowering is Lowering.MUT_ELEMENTS:
            low.after.append(f"{present}{self.need('copyBack')}({loan}, {name});")
        if not param.owned:
            low.reclaims.append(f"{self.need('reclaim')}({loan});")

    def _check(self, param: ParamPlan) -> str:
        """The helper checking a scalar argument, or each element of a numeric buffer."""
        assert param.facts is not None
        return self.need(check_name(param.facts))

    def _buffer_check(self, name: str, param: ParamPlan, what: str) -> tuple[str, str]:
        """The expression validating a buffer argument, and the name of the checked data."""
        if param.lowering is Lowering.TEXT:
            return f"{self.need('checkText')}({name}, {what})", name
        assert param.facts is not None
        array = param.facts.js_array
        if param.lowering is Lowering.MUT_ELEMENTS:
            return f"{self.need('mutableOf')}({name}, {array}, {what})", name
        data = js_identifier(f"{name}Data", self.taken)
        if param.lowering is Lowering.BYTES:
            return f"{self.need('bytesOf')}({name}, {what})", data
        check = self._check(param)
        return f"{self.need('arrayOf')}({name}, {array}, {check}, {what})", data

    def _loan_call(self, param: ParamPlan, data: str) -> str:
        if param.lowering is Lowering.TEXT:
            return f"{self.need('giveText' if param.owned else 'lendText')}({data})"
        return f"{self.need('give' if param.owned else 'lend')}({data}, {param.size})"

    # -- the call and its result ------------------------------------------------------

    @property
    def result_what(self) -> str:
        return js_string(f"{self.func.name}() result")

    def _call(self) -> list[str]:
        low = self.lowered
        wire = (["returnArea"] if self.plan.retptr else []) + low.wire
        callee = member("wasm", self.func.name)
        result = self.plan.result
        if result.lifting is Lifting.NONE:
            return [*call_lines("", callee, wire, ";"), *low.after]
        if not self.plan.retptr:
            call = call_lines("const result = ", callee, wire, ";")
            if result.lifting is Lifting.CHAR:
                lifted = f"{self.need('charFrom')}(result, {self.result_what})"
                return [*call, *low.after, f"return {lifted};"]
            assert result.facts is not None
            lifted = from_wire(result.facts, "result")
            if result.facts.kind is Kind.BOOL:
                lifted = f"{self.need('boolFrom')}(result, {self.result_what})"
            if not low.after and lifted == "result":
                return call_lines("return ", callee, wire, ";")
            return [*call, *low.after, f"return {lifted};"]
        return [*call_lines("", callee, wire, ";"), *low.after, *self._lift_retarea(result)]

    def _lift_retarea(self, result: ResultPlan) -> list[str]:
        if result.lifting is not Lifting.RESULT:
            return self._returns(result)
        ok = result.inner
        assert ok is not None
        args = f"[{', '.join(self.params)}]"
        call = f"{self.need('describeCall')}({js_string(self.func.name)}, {args})"
        error_class = self.need("ReturnedError")
        # The error, a message or a value, sits where the Ok value would.
        error = f"{self.need('textAt')}({at_offset('returnArea', ok.offset)})"
        lines = self._result_errors(result, call, error_class, error)
        if ok.lifting is not Lifting.NONE:
            lines += self._returns(ok)
        return lines

    def _result_errors(
        self, result: ResultPlan, call: str, error_class: str, error: str
    ) -> list[str]:
        """Statements throwing the error a result's tag names; a tag past Err's (or Err
        with a value's, for a record or enum error) is malformed."""
        assert result.inner is not None
        tag_at = at_offset("returnArea", result.offset)
        most = abi.RESULT_ERR_VALUE if result.error_values else abi.RESULT_ERR
        read = f"{self.need('resultTag')}({tag_at}, {self.result_what}, {most})"
        if not result.error_values:
            return [
                f"if ({read} === {abi.RESULT_ERR}) {{",
                f"  throw new {error_class}({call}, {error});",
                "}",
            ]
        tag = js_identifier("tag", self.taken)
        ref = self._named(result.error)
        value = js_identifier("value", self.taken)
        at = at_offset("returnArea", result.inner.offset)
        decoded = f"{self.need('decodeAt')}({ref}, {at}, {self.result_what})"
        return [
            f"const {tag} = {read};",
            f"if ({tag} === {abi.RESULT_ERR}) {{",
            f"  throw new {error_class}({call}, {error});",
            "}",
            f"if ({tag} === {abi.RESULT_ERR_VALUE}) {{",
            f"  const {value} = {decoded};",
            f"  throw new {error_class}({call}, {ref}.describe({value}), {value});",
            "}",
        ]

    def _returns(self, result: ResultPlan) -> list[str]:
        """Statements returning ``result`` from the return area: an Option's tag first."""
        if result.lifting is not Lifting.OPTION:
            return [f"return {self._lift(result)};"]
        assert result.inner is not None
        at = at_offset("returnArea", result.offset)
        some = f"{self.need('someAt')}({at}, {self.result_what})"
        return [f"if (!{some}) return undefined;", *self._returns(result.inner)]

    def _lift(self, result: ResultPlan) -> str:
        """The expression reading ``result``'s slot in the return area."""
        at = at_offset("returnArea", result.offset)
        view = self.need("memoryView")
        how = result.lifting
        if how is Lifting.SCALAR:
            assert result.facts is not None
            if result.facts.kind is Kind.BOOL:
                read = f"{view}().getInt32({at}, true)"
                return f"{self.need('boolFrom')}({read}, {self.result_what})"
            return read_slot(result.facts, at, view)
        if how is Lifting.CHAR:
            return f"{self.need('charFrom')}({view}().getInt32({at}, true), {self.result_what})"
        if how is Lifting.TEXT:
            return f"{self.need('textAt')}({at})"
        if how is Lifting.ENUM:
            index = f"{view}().getUint32({at}, true)"
            return f"{self._named(result.type.name)}.caseAt({index}, {self.result_what})"
        if how is Lifting.HANDLE:
            ref = self._named(result.type.name)
            if self.receiver is Receiver.CONSTRUCTOR and result.type.name == self.owner:
                return f"{self.need('adoptAt')}(this, {ref}, {at}, {self.result_what})"
            return f"{self.need('wrapAt')}({ref}, {at}, {self.result_what})"
        if how is Lifting.ENCODED:
            assert self.context.types is not None
            ref = self.context.types.ref(result.type)
            return f"{self.need('decodeAt')}({ref}, {at}, {self.result_what})"
        if how in (Lifting.BYTES, Lifting.ELEMENTS):
            assert result.facts is not None
            return f"{self.need('arrayAt')}({result.facts.js_array}, {at})"
        assert how is Lifting.OPTION and result.inner is not None
        some = f"{self.need('someAt')}({at}, {self.result_what})"
        return f"{some} ? {self._lift(result.inner)} : undefined"


def at_offset(base: str, offset: int) -> str:
    return base if offset == 0 else f"{base} + {offset}"


def call_lines(prefix: str, callee: str, args: list[str], suffix: str) -> list[str]:
    """``prefix callee(args) suffix``, one argument per line when that is too long."""
    line = f"{prefix}{callee}({', '.join(args)}){suffix}"
    if len(line) <= 96:
        return [line]
    return [f"{prefix}{callee}(", *(f"  {arg}," for arg in args), f"){suffix}"]


def jsdoc(
    plan: CallPlan, params: list[str], ts: TsTypes, *, returns: bool = True, consumes: bool = False
) -> list[str]:
    """The JSDoc comment of a shim: the Rust doc, the signature, parameter and result types."""
    func = plan.function
    lines = [line.rstrip() for line in func.doc.strip().splitlines()] if func.doc.strip() else []
    if lines:
        lines.append("")
    lines.append(f"`{func.signature()}`")
    moved = [f"`{name}`" for name in ts.moves(plan)]
    if moved or consumes:
        spent = " and ".join((["this object"] if consumes else []) + moved)
        lines.append(f"Moves {spent} into the module: using it afterwards throws HandleError.")
    for name, param in zip(params, plan.params, strict=True):
        lines.append(f"@param {{{ts.param(param)}}} {name}")
    result = plan.result
    failing = result.lifting is Lifting.RESULT
    value = result.inner if failing else result
    if returns and value is not None and value.lifting is not Lifting.NONE:
        lines.append(f"@returns {{{ts.result(result)}}}")
    if failing and not result.error:
        lines.append("@throws {ReturnedError} when it returns `Err`; `.error` holds the message")
    elif failing:
        lines.append(
            f"@throws {{ReturnedError}} when it returns `Err`; `.value` is the {result.error}"
        )
    body = [f" * {line}".rstrip().replace("*/", "*\\/") for line in lines]
    return ["/**", *body, " */"]
