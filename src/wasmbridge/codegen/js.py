"""The JavaScript glue beside a built module: ``pkg/NAME.js`` (ESM) and ``NAME.cjs``.

One module works in browsers and in Node: ``init()`` fetches NAME.wasm
beside the glue (streaming when served as application/wasm) or, for a
``file:`` URL, reads it from disk. Each export gets one small shim that
marshals exactly as the Python runtime does (docs/abi.md): text through
TextEncoder/TextDecoder, numeric slices as typed arrays, ``&mut`` slices
written back, ``Option`` as undefined, ``Err`` thrown as ``ReturnedError``,
panics as ``GuestPanic``, traps rethrown with the call named. Records,
tuples and lists cross encoded, enums as frozen objects of numbers, classes
as JS classes over handles (docs/abi-compound.md; _js_types, _js_classes).

    glue = emit_js("hello", "hello.wasm", interface, parse(data))
    Path("pkg/hello.js").write_text(glue)

Only the helpers the module uses are emitted (``_js_helpers.LIBRARY``);
the output is deterministic. Exports keep their names whatever they are
(``new``, ``Object``, ``init``): each shim, enum and class is declared
under a local name that shadows nothing the glue uses
(``_js_helpers.export_locals``) and exported under the module's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..interface import ClassDef, EnumDef, Function, Interface, WasmModule, abi
from ..interface.binary import Import
from ..interface.plan import CallPlan, Lowering, plan_call
from . import _js_helpers as lib
from ._js_checks import require_expressible
from ._js_classes import render_class
from ._js_host import HostWrapper
from ._js_loading import ModuleFormat, render_init, render_loading
from ._js_names import export_specifier, import_key, js_string, literal_key, member
from ._js_shim import Context, Shim, jsdoc
from ._js_types import REGISTRY, TypeTable, enum_object
from ._ts_types import TsTypes
from ._writer import Helpers, Writer, exported_functions, header, type_names


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
    require_expressible(interface, wasm_name)
    helpers = Helpers(lib.LIBRARY, requires=lib.REQUIRES)
    module = _Module(module_name, wasm_name, interface, wasm, helpers, package_name or module_name)
    return module.render(module_format, header(wasm_name, interface, tool=tool))


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
        names = [f.name for f in self.exports] + type_names(self.interface)
        self.locals = lib.export_locals(names)
        self.plans = [plan_call(f, self.interface) for f in self.exports]
        self.plans += [
            plan_call(m.function, self.interface, m) for c in self._classes for m in c.methods
        ]
        self.retarea = max((plan.retarea_size for plan in self.plans), default=0)
        types = None
        if self.interface is not None:
            types = TypeTable(self.interface, self.helpers, self.locals)
            types.register_all()
        if any(plan.result.error for plan in self.plans):
            self.helpers.prefer("ReturnedError", "ReturnedErrorValue")
        if any(_passes_objects(plan) for plan in self.plans):
            self.helpers.prefer("describeCall", "describeCallObjects")
        self.keeps_stack = any(
            e.name == abi.STACK_POINTER_EXPORT and e.kind == "global" for e in self.wasm.exports
        )
        self.context = Context(
            self.helpers,
            self.interface,
            types,
            TsTypes(self.locals),
            keeps_stack=self.keeps_stack,
        )
        self.helpers.need("failureWithPanics" if self.panics else "failure")
        if self.panics:
            self.helpers.need("reportPanic")

    @property
    def _classes(self) -> list[ClassDef]:
        return sorted(self.interface.classes, key=lambda c: c.name) if self.interface else []

    @property
    def _enums(self) -> list[EnumDef]:
        return sorted(self.interface.enums, key=lambda e: e.name) if self.interface else []

    def render(self, module_format: ModuleFormat, header_text: str) -> str:
        # Shims, classes, host functions and init() first: they decide which helpers exist.
        shims = Writer(indent="  ")
        for func in self.exports:
            self._shim(shims, func)
            shims.blank()
        for enum in self._enums:
            shims.line("\n".join(enum_object(enum, self.locals[enum.name])))
            shims.blank()
        for cls in self._classes:
            shims.line("\n".join(render_class(cls, self.locals[cls.name], self.context)))
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
        self._registry(w)
        w.blank()
        self._export_list(w, module_format)
        return w.text()

    def _shim(self, w: Writer, func: Function) -> None:
        plan = self.context.plan(func)
        shim = Shim(plan, self.context)
        body = shim.body()
        for line in jsdoc(plan, shim.params, self.context.ts):
            w.line(line)
        w.line(f"function {self.locals[func.name]}({', '.join(shim.params)}) {{")
        with w.indent():
            for line in body:
                w.line(line)
        w.line("}")

    def _registry(self, w: Writer) -> None:
        types = self.context.types
        if types is None or not types.lines():
            return
        w.blank()
        w.line("// How records, tuples and lists cross (encoded), enums (by case index) and class")
        w.line("// objects (by handle): docs/abi-compound.md. Offsets and sizes are the module's.")
        w.line(f"const {REGISTRY} = Object.create(null);")
        for line in types.lines():
            w.line(line)

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
        for cls in self._classes:
            names += [m.function.name for m in cls.methods] + [cls.destructor]
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
        if self.helpers.used("enterHost"):
            setup.append("stackTop = wasm.__stack_pointer?.value ?? 0;")
        setup_lines = "\n".join("  " + s for s in setup)
        w.line(render_init(self.wasm_name, setup_lines).rstrip())

    def _loading(self, w: Writer, module_format: ModuleFormat) -> None:
        w.line(render_loading(module_format, js_string(self.wasm_name)).rstrip())

    def _export_list(self, w: Writer, module_format: ModuleFormat) -> None:
        records = {r.name for r in self.interface.records} if self.interface else set()
        # Records are only types (plain objects cross); functions, enums and classes are values.
        names = [(local, name) for name, local in self.locals.items() if name not in records]
        # The glue's own names yield to the module's: an export named `init` wins.
        own = ["init"]
        own += [c for c in _GLUE_CLASSES if self.helpers.used(c)]
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
            elif imp.module == abi.HOST_MODULE and imp.name == abi.CALLBACK_IMPORT:
                entry = [f"{literal_key(imp.name)}: {self.helpers.need('runCallback')},"]
            else:
                func = typed.get((imp.module, imp.name))
                key = import_key(imp.module, imp.name)
                signature = func.signature() if func else f"{imp.module}.{imp.name} {imp.type}"
                fields = (key, imp.module, imp.name, signature)
                wanted.append(f"[{', '.join(js_string(s) for s in fields)}],")
                if func is None:
                    entry = [f"{literal_key(imp.name)}: {member('host', key)},"]
                else:
                    wrapper = HostWrapper(
                        func, self.interface, key, self.helpers, keeps_stack=self.keeps_stack
                    )
                    entry = wrapper.lines()
            modules.setdefault(imp.module, []).extend(entry)
        return wanted, modules


# The glue's own classes a module exports, with the helper that defines each.
_GLUE_CLASSES = ("ReturnedError", "GuestPanic", "HandleError")


def _passes_objects(plan: CallPlan) -> bool:
    """Whether a call's arguments may be objects or arrays (error messages show their kind)."""
    for param in plan.params:
        while param.inner is not None:
            param = param.inner
        if param.lowering not in _PLAIN_ARGUMENTS:
            return True
    return False


# Arguments error messages show by value: numbers, text, typed arrays.
_PLAIN_ARGUMENTS = frozenset(
    {
        Lowering.SCALAR,
        Lowering.CHAR,
        Lowering.TEXT,
        Lowering.BYTES,
        Lowering.ELEMENTS,
        Lowering.MUT_ELEMENTS,
    }
)


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
