"""The body of the JS function (or method) that calls one wasm export.

A shim checks every argument before anything is allocated, lends or gives
buffers to the guest, calls the export, lifts the result from the return
area, and frees what it lent; a trap becomes an error naming the call
(docs/abi.md, docs/abi-compound.md). Class objects are checked too: a
method borrows its object for the call (``&self``), a by-value argument is
moved into the guest and spent.

    shim = Shim(func, context)
    lines = shim.body()  # inside `function add(a, b) { ... }`
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..interface import ClassDef, EnumDef, Function, Interface, Receiver, RecordDef, Type, abi
from ..interface.layout import is_compound
from ..interface.plan import SCALAR_FACTS
from ..interface.types import UNIT, Kind
from . import _js_helpers as lib
from ._js_names import js_identifier, js_string, member
from ._js_scalars import check_name, from_wire, optional_to_wire, read_slot, to_wire
from ._js_types import TypeTable
from ._ts_types import TsTypes
from ._writer import Helpers


@dataclass
class Context:
    """What every shim of a module shares."""

    helpers: Helpers
    interface: Interface | None
    types: TypeTable | None
    ts: TsTypes
    keeps_stack: bool = False  # the guest exports its shadow-stack pointer: restore it


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
    """One exported function, or a method of a class when ``receiver`` is given."""

    def __init__(
        self,
        func: Function,
        context: Context,
        *,
        receiver: Receiver | None = None,
        owner: str = "",
    ) -> None:
        self.func = func
        self.context = context
        self.helpers = context.helpers
        self.receiver = receiver
        self.owner = owner  # the class of a method
        self.taken = set(lib.BODY_NAMES)
        self.self_state = js_identifier("self", self.taken) if self._takes_handle else ""
        self.params = [js_identifier(p.name, self.taken) for p in func.params]
        self.lowered = _Lowered()
        self.handles: list[_Handle] = []
        self.retptr = abi.uses_retptr(func.result)

    @property
    def _takes_handle(self) -> bool:
        return self.receiver in (Receiver.REF, Receiver.MUT, Receiver.OWNED)

    def need(self, name: str) -> str:
        return self.helpers.need(name)

    def body(self) -> list[str]:
        """The statements of the JS function: checks, loans, the call, its result."""
        if self._takes_handle:
            self._receiver()
        for name, param in zip(self.params, self.func.params, strict=True):
            what = js_string(f"{self.func.name}() argument '{param.name}'")
            self._lower(name, param.type, what, param.name)
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

    def _receiver(self) -> None:
        assert self.context.types is not None
        what = js_string(f"{self.func.name}()")
        ref = self.context.types.named(self.owner)
        state_of = self.need("stateOf")
        self.lowered.checks.append(f"const {self.self_state} = {state_of}(this, {ref}, {what});")
        self._use_handle(self.self_state, moved=self.receiver is Receiver.OWNED, what=what)

    def _handle(self, name: str, t: Type, what: str) -> None:
        assert self.context.types is not None
        state = js_identifier(f"{name}State", self.taken)
        ref = self.context.types.named(t.name)
        state_of = self.need("stateOf")
        self.lowered.checks.append(f"const {state} = {state_of}({name}, {ref}, {what});")
        self._use_handle(state, moved=t.kind is Kind.NAMED, what=what)

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

    def _definition(self, t: Type) -> RecordDef | EnumDef | ClassDef | None:
        interface = self.context.interface
        return interface.type_def(t.name) if interface is not None and t.name else None

    def _is_compound(self, t: Type) -> bool:
        interface = self.context.interface
        return interface is not None and is_compound(t, interface)

    def _lower(self, name: str, t: Type, what: str, root: str) -> None:
        low = self.lowered
        definition = self._definition(t) if t.kind in (Kind.NAMED, Kind.BORROW) else None
        if t.kind is Kind.OPTION:
            assert t.inner is not None
            self._lower_option(name, t.inner, what, root)
        elif t.is_scalar:
            low.checks.append(f"{self._check(t.kind)}({name}, {what});")
            low.wire.append(to_wire(SCALAR_FACTS[t.kind], name))
        elif isinstance(definition, ClassDef):
            self._handle(name, t, what)
        elif t.kind is Kind.CALLBACK:
            self._callback(name, t, what)
        elif t.kind is Kind.CHAR or isinstance(definition, EnumDef):
            number = self._number_name(name, t)
            low.checks.append(f"const {number} = {self._number_of(name, t, what)};")
            low.wire.append(number)
        elif self._is_compound(t):
            data = js_identifier(f"{name}Data", self.taken)
            low.checks.append(f"const {data} = {self._encode(name, t, what, root)};")
            self._lend_encoded(name, data, present="")
        else:
            check, data = self._buffer_check(name, t, what)
            low.checks.append(f"{check};" if data == name else f"const {data} = {check};")
            loan = js_identifier(f"{name}Loan", self.taken)
            low.loans.append(f"const {loan} = {self._loan_call(t, data)};")
            self._use_loan(name, t, loan, present="")

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

    def _number_name(self, name: str, t: Type) -> str:
        return js_identifier(f"{name}{'Code' if t.kind is Kind.CHAR else 'Index'}", self.taken)

    def _number_of(self, name: str, t: Type, what: str) -> str:
        """The i32 a char or enum argument crosses as: its scalar value or case index."""
        if t.kind is Kind.CHAR:
            return f"{self.need('charCode')}({name}, {what})"
        assert self.context.types is not None
        return f"{self.context.types.named(t.name)}.indexOf({name}, {what})"

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

    def _lower_option(self, name: str, inner: Type, what: str, root: str) -> None:
        low = self.lowered
        low.wire.append(f"{name} == null ? 0 : 1")
        if inner.is_scalar:
            check = f"{self._check(inner.kind)}({name}, {what})"
            low.checks.append(f"if ({name} != null) {check};")
            low.wire.append(optional_to_wire(SCALAR_FACTS[inner.kind], name))
            return
        if inner.kind is Kind.CHAR or isinstance(self._definition(inner), EnumDef):
            number = self._number_name(name, inner)
            low.checks.append(
                f"const {number} = {name} == null ? 0 : {self._number_of(name, inner, what)};"
            )
            low.wire.append(number)
            return
        if self._is_compound(inner):
            data = js_identifier(f"{name}Data", self.taken)
            encoded = self._encode(name, inner, what, root)
            low.checks.append(f"const {data} = {name} == null ? undefined : {encoded};")
            self._lend_encoded(name, data, present="yes")
            return
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

    def _use_loan(self, name: str, t: Type, loan: str, present: str) -> None:
        low = self.lowered
        low.wire += [f"{loan}.ptr", f"{loan}.len"]
        if t.kind is Kind.MUT_SLICE:
            low.after.append(f"{present}{self.need('copyBack')}({loan}, {name});")
        if not abi.is_owned(t):
            low.reclaims.append(f"{self.need('reclaim')}({loan});")

    def _check(self, kind: Kind) -> str:
        return self.need(check_name(SCALAR_FACTS[kind]))

    def _buffer_check(self, name: str, t: Type, what: str) -> tuple[str, str]:
        """The expression validating a buffer argument, and the name of the checked data."""
        if t.kind in (Kind.STR, Kind.STRING):
            return f"{self.need('checkText')}({name}, {what})", name
        assert t.inner is not None
        array = SCALAR_FACTS[t.inner.kind].js_array
        if t.kind is Kind.MUT_SLICE:
            return f"{self.need('mutableOf')}({name}, {array}, {what})", name
        data = js_identifier(f"{name}Data", self.taken)
        if t.inner.kind is Kind.U8:
            return f"{self.need('bytesOf')}({name}, {what})", data
        check = self._check(t.inner.kind)
        return f"{self.need('arrayOf')}({name}, {array}, {check}, {what})", data

    def _loan_call(self, t: Type, data: str) -> str:
        owned = abi.is_owned(t)
        if t.kind in (Kind.STR, Kind.STRING):
            return f"{self.need('giveText' if owned else 'lendText')}({data})"
        return f"{self.need('give' if owned else 'lend')}({data}, {abi.element_size(t)})"

    # -- the call and its result ------------------------------------------------------

    @property
    def result_what(self) -> str:
        return js_string(f"{self.func.name}() result")

    def _call(self) -> list[str]:
        low = self.lowered
        wire = (["returnArea"] if self.retptr else []) + low.wire
        callee = member("wasm", self.func.name)
        result = self.func.result
        if result.kind is Kind.UNIT:
            return [*call_lines("", callee, wire, ";"), *low.after]
        if not self.retptr:
            if result.kind is Kind.CHAR:
                call = call_lines("const result = ", callee, wire, ";")
                lifted = f"{self.need('charFrom')}(result, {self.result_what})"
                return [*call, *low.after, f"return {lifted};"]
            lifted = from_wire(SCALAR_FACTS[result.kind], "result")
            if not low.after and lifted == "result":
                return call_lines("return ", callee, wire, ";")
            call = call_lines("const result = ", callee, wire, ";")
            return [*call, *low.after, f"return {lifted};"]
        return [*call_lines("", callee, wire, ";"), *low.after, *self._lift_retarea(result)]

    def _lift_retarea(self, t: Type) -> list[str]:
        if t.kind not in (Kind.RESULT, Kind.RESULT_VALUE):
            return self._returns(t, 0)
        assert t.inner is not None
        args = f"[{', '.join(self.params)}]"
        call = f"{self.need('describeCall')}({js_string(self.func.name)}, {args})"
        error_class = self.need("ReturnedError")
        error = f"{self.need('textAt')}(returnArea + 8)"
        view = self.need("memoryView")
        if t.kind is Kind.RESULT:
            lines = [
                f"if ({view}().getUint32(returnArea, true) === {abi.RESULT_ERR}) {{",
                f"  throw new {error_class}({call}, {error});",
                "}",
            ]
        else:
            lines = self._result_value_errors(t, call, error_class, error)
        if t.inner.kind is not Kind.UNIT:
            lines += self._returns(t.inner, 8)
        return lines

    def _result_value_errors(self, t: Type, call: str, error_class: str, error: str) -> list[str]:
        tag = js_identifier("tag", self.taken)
        lines = [
            f"const {tag} = {self.need('memoryView')}().getUint32(returnArea, true);",
            f"if ({tag} === {abi.RESULT_ERR}) {{",
            f"  throw new {error_class}({call}, {error});",
            "}",
        ]
        if isinstance(self._definition(t), (RecordDef, EnumDef)):
            assert self.context.types is not None
            ref = self.context.types.named(t.name)
            value = js_identifier("value", self.taken)
            decoded = f"{self.need('decodeAt')}({ref}, returnArea + 8, {self.result_what})"
            lines += [
                f"if ({tag} === {abi.RESULT_ERR_VALUE}) {{",
                f"  const {value} = {decoded};",
                f"  throw new {error_class}({call}, {ref}.describe({value}), {value});",
                "}",
            ]
        bad = f"{self.need('badData')}({self.result_what}, `a result tag of ${{{tag}}}`)"
        return [*lines, f"if ({tag} !== {abi.RESULT_OK}) throw {bad};"]

    def _returns(self, t: Type, offset: int) -> list[str]:
        """Statements returning ``t`` from ``returnArea + offset``: an Option's tag first."""
        if t.kind is not Kind.OPTION:
            return [f"return {self._lift(t, offset)};"]
        assert t.inner is not None
        tag = f"{self.need('memoryView')}().getUint32({at_offset('returnArea', offset)}, true)"
        return [f"if ({tag} === 0) return undefined;", *self._returns(t.inner, offset + 8)]

    def _lift(self, t: Type, offset: int) -> str:
        """The expression reading ``t``'s return-area encoding at ``returnArea + offset``."""
        at = at_offset("returnArea", offset)
        view = self.need("memoryView")
        if t.is_scalar:
            return read_slot(SCALAR_FACTS[t.kind], at, view)
        if t.kind is Kind.CHAR:
            return f"{self.need('charFrom')}({view}().getInt32({at}, true), {self.result_what})"
        if t.kind in (Kind.STR, Kind.STRING):
            return f"{self.need('textAt')}({at})"
        definition = self._definition(t) if t.kind is Kind.NAMED else None
        if definition is not None:
            assert self.context.types is not None
            ref = self.context.types.named(t.name)
            if isinstance(definition, EnumDef):
                index = f"{view}().getUint32({at}, true)"
                return f"{ref}.caseAt({index}, {self.result_what})"
            if isinstance(definition, ClassDef):
                if self.receiver is Receiver.CONSTRUCTOR and definition.name == self.owner:
                    return f"{self.need('adoptAt')}(this, {ref}, {at}, {self.result_what})"
                return f"{self.need('wrapAt')}({ref}, {at}, {self.result_what})"
        if self._is_compound(t):
            assert self.context.types is not None
            ref = self.context.types.ref(t)
            return f"{self.need('decodeAt')}({ref}, {at}, {self.result_what})"
        assert t.inner is not None
        if t.kind is Kind.VEC:
            return f"{self.need('arrayAt')}({SCALAR_FACTS[t.inner.kind].js_array}, {at})"
        assert t.kind is Kind.OPTION
        tag = f"{view}().getUint32({at}, true)"
        return f"{tag} === 0 ? undefined : {self._lift(t.inner, offset + 8)}"


def at_offset(base: str, offset: int) -> str:
    return base if offset == 0 else f"{base} + {offset}"


def call_lines(prefix: str, callee: str, args: list[str], suffix: str) -> list[str]:
    """``prefix callee(args) suffix``, one argument per line when that is too long."""
    line = f"{prefix}{callee}({', '.join(args)}){suffix}"
    if len(line) <= 96:
        return [line]
    return [f"{prefix}{callee}(", *(f"  {arg}," for arg in args), f"){suffix}"]


def jsdoc(
    func: Function, params: list[str], ts: TsTypes, *, returns: bool = True, consumes: bool = False
) -> list[str]:
    """The JSDoc comment of a shim: the Rust doc, the signature, parameter and result types."""
    lines = [line.rstrip() for line in func.doc.strip().splitlines()] if func.doc.strip() else []
    if lines:
        lines.append("")
    lines.append(f"`{func.signature()}`")
    moved = [f"`{name}`" for name in ts.moves(func)]
    if moved or consumes:
        spent = " and ".join((["this object"] if consumes else []) + moved)
        lines.append(f"Moves {spent} into the module: using it afterwards throws HandleError.")
    for name, param in zip(params, func.params, strict=True):
        lines.append(f"@param {{{ts.param(param.type)}}} {name}")
    result = func.result
    failing = result.kind in (Kind.RESULT, Kind.RESULT_VALUE)
    if returns and result.kind is not Kind.UNIT and not (failing and result.inner == UNIT):
        lines.append(f"@returns {{{ts.result(result)}}}")
    if result.kind is Kind.RESULT:
        lines.append("@throws {ReturnedError} when it returns `Err`; `.error` holds the message")
    elif result.kind is Kind.RESULT_VALUE:
        lines.append(
            f"@throws {{ReturnedError}} when it returns `Err`; `.value` is the {result.name}"
        )
    body = [f" * {line}".rstrip().replace("*/", "*\\/") for line in lines]
    return ["/**", *body, " */"]
