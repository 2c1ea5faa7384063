"""The JavaScript glue beside a built module: ``pkg/NAME.js`` (ESM) and ``NAME.cjs``.

One module works in browsers and in Node: ``init()`` fetches NAME.wasm
beside the glue (streaming when served as application/wasm) or, for a
``file:`` URL, reads it from disk. Each export gets one small shim that
marshals exactly as the Python runtime does (docs/abi.md): text through
TextEncoder/TextDecoder, numeric slices as typed arrays, ``&mut`` slices
written back, ``Option`` as undefined, ``Err`` thrown as ``ReturnedError``,
panics as ``GuestPanic``, traps rethrown with the call named.

    glue = emit_js("hello", "hello.wasm", interface, parse(data))
    Path("pkg/hello.js").write_text(glue)

Only the helpers the module uses are emitted (``_js_helpers.LIBRARY``);
the output is deterministic. Exports keep their names whatever they are
(``new``, ``Object``, ``init``): each shim is declared under a local name
that shadows nothing the glue uses (``_js_helpers.export_locals``) and
exported under the module's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..interface import Function, Interface, Type, WasmModule, abi
from ..interface.binary import Import
from ..interface.types import Kind
from . import _js_helpers as lib
from ._js_loading import ModuleFormat, render_init, render_loading
from ._js_names import (
    TYPED_ARRAYS,
    export_specifier,
    import_key,
    js_identifier,
    js_string,
    literal_key,
    member,
)
from ._writer import Helpers, Writer, exported_functions, header
from .dts import ts_param, ts_result

_DATAVIEW = {
    Kind.I32: "Int32",
    Kind.U32: "Uint32",
    Kind.I64: "BigInt64",
    Kind.U64: "BigUint64",
    Kind.F32: "Float32",
    Kind.F64: "Float64",
}


def emit_js(
    module_name: str,
    wasm_name: str,
    interface: Interface | None,
    wasm: WasmModule,
    *,
    module_format: ModuleFormat = "esm",
    package_name: str | None = None,
    tool: str | None = None,
) -> str:
    """The glue for ``wasm_name`` (a file beside it), as an ES module or CommonJS.

    ``package_name`` is the npm package's name (by default ``module_name``): where
    the glue looks for its .wasm when Vite's dev server has pre-bundled it away.
    """
    helpers = Helpers(lib.LIBRARY, requires=lib.REQUIRES)
    module = _Module(module_name, wasm_name, interface, wasm, helpers, package_name or module_name)
    return module.render(module_format, header(wasm_name, interface, tool=tool))


def _at(base: str, offset: int) -> str:
    return base if offset == 0 else f"{base} + {offset}"


def _zero(kind: Kind) -> str:
    return "0n" if kind in (Kind.I64, Kind.U64) else "0"


# -- the module -------------------------------------------------------------------------


@dataclass
class _Module:
    name: str
    wasm_name: str
    interface: Interface | None
    wasm: WasmModule
    helpers: Helpers
    package: str
    locals: dict[str, str] = field(default_factory=dict)  # export name -> JS function name

    def __post_init__(self) -> None:
        self.exports = exported_functions(self.interface, self.wasm)
        self.panics = any(
            i.module == abi.HOST_MODULE and i.name == abi.PANIC_IMPORT
            for i in self.wasm.imported_funcs
        )
        self.locals = lib.export_locals([f.name for f in self.exports])
        self.retarea = max(
            (abi.retarea_size(f.result) for f in self.exports if abi.uses_retptr(f.result)),
            default=0,
        )
        self.helpers.need("failureWithPanics" if self.panics else "failure")
        if self.panics:
            self.helpers.need("reportPanic")

    def render(self, module_format: ModuleFormat, header_text: str) -> str:
        # Shims, host functions and init() first: they decide which helpers exist.
        shims = Writer(indent="  ")
        for func in self.exports:
            _Shim(func, self.locals[func.name], self.helpers).write(shims)
            shims.blank()
        host = Writer(indent="  ")
        self._link_imports(host)
        init = Writer(indent="  ")
        self._init(init)
        w = Writer(indent="  ")
        w.line(f"// {header_text}")
        w.blank()
        self._state(w, module_format)
        for part in (init, shims, host):
            w.blank()
            w.line(part.text().rstrip("\n"))
        w.blank()
        self._loading(w, module_format)
        for snippet in self.helpers.emit(library_order=True):
            w.blank()
            w.line(snippet)
        w.blank()
        self._export_list(w, module_format)
        return w.text()

    # -- parts ------------------------------------------------------------------------

    def _state(self, w: Writer, module_format: ModuleFormat) -> None:
        if module_format == "cjs":
            w.line('"use strict";')
            w.blank()
        w.line(f"const MODULE = {js_string(self.wasm_name)};")
        w.line(f"const PACKAGE = {js_string(self.package)}; // its npm package")
        w.line(_needed_exports(self._needed()))
        w.blank()
        w.line("// The instance's exports once init() has run; until then any use says so.")
        w.line("let wasm = notLoaded();")
        if self.uses_memory:
            w.line("let memory; // wasm.memory; its buffer changes when it grows")
        if self.retarea:
            w.line("let returnArea = 0; // where results come back (docs/abi.md, return area)")
        w.line("let loading;")

    @property
    def uses_memory(self) -> bool:
        return self.helpers.used("memoryBytes") or self.helpers.used("memoryView")

    def _needed(self) -> list[str]:
        names = [f.name for f in self.exports]
        if self.uses_memory:
            names.append(abi.MEMORY_EXPORT)
        if self.helpers.used("allocate"):
            names.append(abi.ALLOC_EXPORT)
        if self.helpers.used("reclaim"):
            names.append(abi.FREE_EXPORT)
        return names

    def _init(self, w: Writer) -> None:
        setup = []
        if self.retarea:
            self.helpers.need("allocate")
            setup.append(f"returnArea = allocate({self.retarea}, 8);")
        if self.uses_memory or self.retarea:
            setup.insert(0, "memory = wasm.memory;")
        setup_lines = "\n".join("  " + s for s in setup)
        w.line(render_init(self.wasm_name, setup_lines).rstrip())

    def _loading(self, w: Writer, module_format: ModuleFormat) -> None:
        w.line(render_loading(module_format, js_string(self.wasm_name)).rstrip())

    def _export_list(self, w: Writer, module_format: ModuleFormat) -> None:
        names = [(local, name) for name, local in self.locals.items()]
        # The glue's own names yield to the module's: an export named `init` wins.
        own = ["init", *(c for c in ("ReturnedError", "GuestPanic") if self.helpers.used(c))]
        names += [(name, name) for name in own if name not in self.locals]
        if module_format == "esm":
            specifiers = ["init as default"]
            specifiers += [export_specifier(local, name) for local, name in names]
            _wrapped(w, "export { ", specifiers, " };")
        else:
            entries = ["__esModule: true", "default: init"]
            entries += [
                local if local == name else f"{literal_key(name)}: {local}" for local, name in names
            ]
            _wrapped(w, "module.exports = { ", entries, " };")

    # -- host functions ---------------------------------------------------------------

    def _host_imports(self) -> list[tuple[Function, Import]]:
        """Interface imports the module really imports (the linker drops unused ones)."""
        found = []
        for imp in self.wasm.imported_funcs:
            func = self.interface.import_(imp.module, imp.name) if self.interface else None
            if func is not None:
                found.append((func, imp))
        return found

    def _link_imports(self, w: Writer) -> None:
        wanted, modules = self._import_object()
        w.line("// The import object: host functions wrapped to lift what the guest passes.")
        w.line("function linkImports(supplied) {")
        with w.indent():
            _wrapped(w, "const host = resolveHost(supplied, [", wanted, "]);", force=bool(wanted))
            w.line("return {")
            with w.indent():
                for module in sorted(modules):
                    w.line(f"{literal_key(module)}: {{")
                    with w.indent():
                        for entry in modules[module]:
                            w.line(entry)
                    w.line("},")
            w.line("};")
        w.line("}")

    def _import_object(self) -> tuple[list[str], dict[str, list[str]]]:
        wanted: list[str] = []
        modules: dict[str, list[str]] = {}
        typed = {(imp.module, imp.name): func for func, imp in self._host_imports()}
        for imp in sorted(self.wasm.imported_funcs, key=lambda i: (i.module, i.name)):
            entry: list[str]
            if imp.module == abi.HOST_MODULE and imp.name == abi.PANIC_IMPORT:
                entry = [f"{literal_key(imp.name)}: reportPanic,"]
            else:
                func = typed.get((imp.module, imp.name))
                key = import_key(imp.module, imp.name)
                signature = func.signature() if func else f"{imp.module}.{imp.name} {imp.type}"
                fields = (key, imp.module, imp.name, signature)
                wanted.append(f"[{', '.join(js_string(s) for s in fields)}],")
                if func is None:
                    entry = [f"{literal_key(imp.name)}: {member('host', key)},"]
                else:
                    entry = _HostWrapper(func, key, self.helpers).lines()
            modules.setdefault(imp.module, []).extend(entry)
        return wanted, modules


def _needed_exports(names: list[str]) -> str:
    w = Writer(indent="  ")
    _wrapped(w, "const NEEDED = [", [js_string(n) + "," for n in names], "];")
    return w.text().rstrip("\n")


def _wrapped(
    w: Writer, opening: str, items: list[str], closing: str, *, force: bool = False
) -> None:
    """``opening items closing`` on one line when short, else one item per line."""
    bare = [item.rstrip(",") for item in items]
    one_line = opening + ", ".join(bare) + closing
    if not force and (len(one_line) <= 100 or not items):
        w.line(one_line)
        return
    w.line(opening.rstrip())
    with w.indent():
        for item in bare:
            w.line(item + ",")
    w.line(closing.lstrip())


# -- export shims -----------------------------------------------------------------------


@dataclass
class _Lowered:
    """How a shim passes its parameters: statements around the call and wasm arguments."""

    checks: list[str] = field(default_factory=list)
    loans: list[str] = field(default_factory=list)
    wire: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)  # copy-backs of &mut slices
    reclaims: list[str] = field(default_factory=list)


class _Shim:
    """The exported JS function for one wasm export."""

    def __init__(self, func: Function, local: str, helpers: Helpers) -> None:
        self.func = func
        self.local = local
        self.helpers = helpers
        self.taken = set(lib.BODY_NAMES)
        self.params = [js_identifier(p.name, self.taken) for p in func.params]
        self.lowered = _Lowered()
        self.retptr = abi.uses_retptr(func.result)

    def need(self, name: str) -> str:
        return self.helpers.need(name)

    def write(self, w: Writer) -> None:
        for name, param in zip(self.params, self.func.params, strict=True):
            self._lower(name, param.type, f"{self.func.name}() argument '{param.name}'")
        low = self.lowered
        for line in _jsdoc(self.func, self.params):
            w.line(line)
        w.line(f"function {self.local}({', '.join(self.params)}) {{")
        with w.indent():
            for line in low.checks + low.loans:
                w.line(line)
            w.line("try {")
            with w.indent():
                for line in self._call():
                    w.line(line)
            w.line("} catch (error) {")
            with w.indent():
                args = f"[{', '.join(self.params)}]"
                w.line(f"throw failure(error, {js_string(self.func.name)}, {args});")
            if low.reclaims:
                w.line("} finally {")
                with w.indent():
                    for line in low.reclaims:
                        w.line(line)
            w.line("}")
        w.line("}")

    # -- lowering ---------------------------------------------------------------------

    def _lower(self, name: str, t: Type, what: str) -> None:
        low = self.lowered
        if t.kind is Kind.OPTION:
            assert t.inner is not None
            self._lower_option(name, t.inner, what)
        elif t.is_scalar:
            low.checks.append(f"{self._check(t.kind)}({name}, {js_string(what)});")
            low.wire.append(f"{name} ? 1 : 0" if t.kind is Kind.BOOL else name)
        else:
            check, data = self._buffer_check(name, t, what)
            low.checks.append(f"{check};" if data == name else f"const {data} = {check};")
            loan = js_identifier(f"{name}Loan", self.taken)
            low.loans.append(f"const {loan} = {self._loan_call(t, data)};")
            self._use_loan(name, t, loan, present="")

    def _lower_option(self, name: str, inner: Type, what: str) -> None:
        low = self.lowered
        low.wire.append(f"{name} == null ? 0 : 1")
        if inner.is_scalar:
            check = f"{self._check(inner.kind)}({name}, {js_string(what)})"
            low.checks.append(f"if ({name} != null) {check};")
            low.wire.append(
                f"{name} ? 1 : 0" if inner.kind is Kind.BOOL else f"{name} ?? {_zero(inner.kind)}"
            )
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
        return self.need(lib.check_name(kind))

    def _buffer_check(self, name: str, t: Type, what: str) -> tuple[str, str]:
        """The expression validating a buffer argument, and the name of the checked data."""
        if t.kind in (Kind.STR, Kind.STRING):
            return f"{self.need('checkText')}({name}, {js_string(what)})", name
        assert t.inner is not None
        array = TYPED_ARRAYS[t.inner.kind]
        if t.kind is Kind.MUT_SLICE:
            return f"{self.need('mutableOf')}({name}, {array}, {js_string(what)})", name
        data = js_identifier(f"{name}Data", self.taken)
        if t.inner.kind is Kind.U8:
            return f"{self.need('bytesOf')}({name}, {js_string(what)})", data
        check = self._check(t.inner.kind)
        return f"{self.need('arrayOf')}({name}, {array}, {check}, {js_string(what)})", data

    def _loan_call(self, t: Type, data: str) -> str:
        owned = abi.is_owned(t)
        if t.kind in (Kind.STR, Kind.STRING):
            return f"{self.need('giveText' if owned else 'lendText')}({data})"
        return f"{self.need('give' if owned else 'lend')}({data}, {abi.element_size(t)})"

    # -- the call and its result ------------------------------------------------------

    def _call(self) -> list[str]:
        low = self.lowered
        wire = (["returnArea"] if self.retptr else []) + low.wire
        callee = member("wasm", self.func.name)
        result = self.func.result
        if result.kind is Kind.UNIT:
            return [*_call_lines("", callee, wire, ";"), *low.after]
        if not self.retptr:
            if not low.after and result.kind not in _CONVERTED:
                return _call_lines("return ", callee, wire, ";")
            lifted = _from_wire(result.kind, "result")
            call = _call_lines("const result = ", callee, wire, ";")
            return [*call, *low.after, f"return {lifted};"]
        return [*_call_lines("", callee, wire, ";"), *low.after, *self._lift_retarea(result)]

    def _lift_retarea(self, t: Type) -> list[str]:
        if t.kind is not Kind.RESULT:
            return self._returns(t, 0)
        assert t.inner is not None
        args = f"[{', '.join(self.params)}]"
        error = f"{self.need('textAt')}(returnArea + 8)"
        describe = self.need("describeCall")
        lines = [
            f"if ({self.need('memoryView')}().getUint32(returnArea, true) === {abi.RESULT_ERR}) {{",
            f"  throw new {self.need('ReturnedError')}({describe}({js_string(self.func.name)}, "
            f"{args}), {error});",
            "}",
        ]
        if t.inner.kind is not Kind.UNIT:
            lines += self._returns(t.inner, 8)
        return lines

    def _returns(self, t: Type, offset: int) -> list[str]:
        """Statements returning ``t`` from ``returnArea + offset``: an Option's tag first."""
        if t.kind is not Kind.OPTION:
            return [f"return {self._lift(t, offset)};"]
        assert t.inner is not None
        tag = f"{self.need('memoryView')}().getUint32({_at('returnArea', offset)}, true)"
        return [f"if ({tag} === 0) return undefined;", *self._returns(t.inner, offset + 8)]

    def _lift(self, t: Type, offset: int) -> str:
        """The expression reading ``t``'s return-area encoding at ``returnArea + offset``."""
        at = _at("returnArea", offset)
        if t.is_scalar:
            return _read_scalar(t.kind, at, self.need("memoryView"))
        if t.kind in (Kind.STR, Kind.STRING):
            return f"{self.need('textAt')}({at})"
        assert t.inner is not None
        if t.kind is Kind.VEC:
            return f"{self.need('arrayAt')}({TYPED_ARRAYS[t.inner.kind]}, {at})"
        assert t.kind is Kind.OPTION
        tag = f"{self.need('memoryView')}().getUint32({at}, true)"
        return f"{tag} === 0 ? undefined : {self._lift(t.inner, offset + 8)}"


_CONVERTED = frozenset({Kind.BOOL, Kind.I8, Kind.U8, Kind.I16, Kind.U16, Kind.U32, Kind.U64})


def _call_lines(prefix: str, callee: str, args: list[str], suffix: str) -> list[str]:
    """``prefix callee(args) suffix``, one argument per line when that is too long."""
    line = f"{prefix}{callee}({', '.join(args)}){suffix}"
    if len(line) <= 96:
        return [line]
    return [f"{prefix}{callee}(", *(f"  {arg}," for arg in args), f"){suffix}"]


def _from_wire(kind: Kind, value: str) -> str:
    """A scalar as JS sees it, from the i32/i64/f32/f64 the wasm function gave."""
    return {
        Kind.BOOL: f"{value} !== 0",
        Kind.I8: f"{value} << 24 >> 24",
        Kind.U8: f"{value} & 0xff",
        Kind.I16: f"{value} << 16 >> 16",
        Kind.U16: f"{value} & 0xffff",
        Kind.U32: f"{value} >>> 0",
        Kind.U64: f"BigInt.asUintN(64, {value})",
    }.get(kind, value)


def _read_scalar(kind: Kind, at: str, view: str) -> str:
    if kind in _DATAVIEW:
        return f"{view}().get{_DATAVIEW[kind]}({at}, true)"
    return _from_wire(kind, f"{view}().getInt32({at}, true)")


def _jsdoc(func: Function, params: list[str]) -> list[str]:
    lines = [line.rstrip() for line in func.doc.strip().splitlines()] if func.doc.strip() else []
    if lines:
        lines.append("")
    lines.append(f"`{func.signature()}`")
    for name, param in zip(params, func.params, strict=True):
        lines.append(f"@param {{{ts_param(param.type)}}} {name}")
    if func.result.kind is not Kind.UNIT and not (
        func.result.kind is Kind.RESULT and func.result.inner == Type(Kind.UNIT)
    ):
        lines.append(f"@returns {{{ts_result(func.result)}}}")
    if func.result.kind is Kind.RESULT:
        lines.append("@throws {ReturnedError} when it returns `Err`; `.error` holds the message")
    body = [f" * {line}".rstrip().replace("*/", "*\\/") for line in lines]
    return ["/**", *body, " */"]


# -- host function wrappers -------------------------------------------------------------


class _HostWrapper:
    """The import-object method that lifts a guest call for one host function."""

    def __init__(self, func: Function, key: str, helpers: Helpers) -> None:
        self.func = func
        self.key = key
        self.helpers = helpers
        self.taken = set(lib.BODY_NAMES)
        self.wire: list[str] = ["retptr"] if abi.uses_retptr(func.result) else []
        self.before: list[str] = []
        self.after: list[str] = []
        self.what = f"the result of host function `{func.name}`"

    def need(self, name: str) -> str:
        return self.helpers.need(name)

    def lines(self) -> list[str]:
        args = [self._lift_param(p.name, p.type) for p in self.func.params]
        call = f"{member('host', self.key)}({', '.join(args)})"
        body = [*self.before, *self._result(call)]
        w = Writer(indent="  ")
        w.line(f"{literal_key(self.func.name)}({', '.join(self.wire)}) {{")
        with w.indent():
            for line in body:
                w.line(line)
        w.line("},")
        return w.text().rstrip("\n").split("\n")

    def _wire(self, name: str) -> str:
        wire = js_identifier(name, self.taken)
        self.wire.append(wire)
        return wire

    def _lift_param(self, name: str, t: Type) -> str:
        if t.kind is Kind.OPTION:
            assert t.inner is not None
            some = self._wire(f"{name}_some")
            inner = self._lift_param(name, t.inner)
            return f"{some} === 0 ? undefined : {inner}"
        if t.is_scalar:
            return _from_wire(t.kind, self._wire(name))
        ptr, length = self._wire(f"{name}_ptr"), self._wire(f"{name}_len")
        if t.kind in (Kind.STR, Kind.STRING):
            return f"{self.need('readText')}({ptr}, {length})"
        assert t.inner is not None
        read = f"{self.need('readArray')}({TYPED_ARRAYS[t.inner.kind]}, {ptr}, {length})"
        if t.kind is not Kind.MUT_SLICE:
            return read
        copy = js_identifier(name, self.taken)
        self.before.append(f"const {copy} = {read};")
        self.after.append(f"{self.need('writeBack')}({ptr}, {copy});")
        return copy

    def _result(self, call: str) -> list[str]:
        t = self.func.result
        if t.kind is Kind.UNIT:
            return [f"{call};", *self.after]
        if not abi.uses_retptr(t):
            if self.after:
                lowered = self._to_wire(t.kind, "result")
                return [f"const result = {call};", *self.after, f"return {lowered};"]
            return [f"return {self._to_wire(t.kind, call)};"]
        return [f"const result = {call};", *self.after, *self._store(t, "result", "retptr", 0)]

    def _to_wire(self, kind: Kind, value: str) -> str:
        checked = f"{self.need(lib.check_name(kind))}({value}, {js_string(self.what)})"
        return f"{checked} ? 1 : 0" if kind is Kind.BOOL else checked

    def _store(self, t: Type, value: str, base: str, offset: int) -> list[str]:
        at = _at(base, offset)
        what = js_string(self.what)
        if t.is_scalar:
            setter = "Int32" if t.kind not in _DATAVIEW else _DATAVIEW[t.kind]
            view = self.need("memoryView")
            return [f"{view}().set{setter}({at}, {self._to_wire(t.kind, value)}, true);"]
        if t.kind in (Kind.STR, Kind.STRING):
            return [f"{self.need('storeText')}({at}, {value}, {what});"]
        assert t.inner is not None
        if t.kind is Kind.VEC:
            if t.inner.kind is Kind.U8:
                data = f"{self.need('bytesOf')}({value}, {what})"
            else:
                check = self.need(lib.check_name(t.inner.kind))
                array = TYPED_ARRAYS[t.inner.kind]
                data = f"{self.need('arrayOf')}({value}, {array}, {check}, {what})"
            return [f"{self.need('storeArray')}({at}, {data}, {abi.element_size(t)});"]
        assert t.kind is Kind.OPTION
        view = self.need("memoryView")
        inner = self._store(t.inner, value, base, offset + 8)
        return [
            f"if ({value} == null) {{",
            f"  {view}().setUint32({at}, 0, true);",
            "} else {",
            f"  {view}().setUint32({at}, 1, true);",
            *(f"  {line}" for line in inner),
            "}",
        ]
