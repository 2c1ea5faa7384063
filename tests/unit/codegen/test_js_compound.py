"""The JS glue and .d.ts of records, enums, classes, tuples, lists and char.

Golden files pin the text for a hand-encoded interface; the rest checks what
the text must guarantee: only names of its own, refusals of what JavaScript
cannot express, and (on a small hand-written module) class objects with odd
names and calls that re-enter the glue while a method runs.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from build_helpers import Golden, require, uleb, wasm_module
from wasmbridge.codegen._js_helpers import GLUE_NAMES
from wasmbridge.codegen._js_names import RESERVED, identifiers
from wasmbridge.codegen.dts import emit_dts
from wasmbridge.codegen.js import ModuleFormat, emit_js
from wasmbridge.errors import BuildFailed
from wasmbridge.interface import (
    Case,
    ClassDef,
    EnumDef,
    Field,
    Function,
    Interface,
    Method,
    Param,
    Receiver,
    RecordDef,
    Type,
    WasmModule,
    parse,
)
from wasmbridge.interface.section import encode
from wasmbridge.interface.types import Kind

TOOL = "0.0.0"
TSC = shutil.which("tsc")
WAT2WASM = shutil.which("wat2wasm")
KEYWORDS = RESERVED | {"as", "of", "this", "static", "get", "set"}

F64, U32, I64, STR, STRING = (
    Type(k) for k in (Kind.F64, Kind.U32, Kind.I64, Kind.STR, Kind.STRING)
)
CHAR, BOOL = Type(Kind.CHAR), Type(Kind.BOOL)


def named(name: str) -> Type:
    return Type(Kind.NAMED, name=name)


def borrowed(name: str) -> Type:
    return Type(Kind.BORROW, name=name)


def _method(
    cls: str, member: str, receiver: Receiver, params: tuple[Param, ...], result: Type
) -> Method:
    return Method(member, receiver, Function(f"{cls}.{member}", params, result))


def compound_interface() -> Interface:
    """One function of each shape docs/abi-compound.md adds, a record, an enum, a class."""
    point, shape = named("Point"), named("Shape")
    pair = Type(Kind.TUPLE, items=(STRING, U32))
    exports = (
        Function("mid", (Param("a", point), Param("b", point)), point, doc="The midpoint."),
        Function("centroid", (Param("points", Type(Kind.VEC, point)),), Type(Kind.OPTION, point)),
        Function("words", (Param("s", STR),), Type(Kind.VEC, STRING)),
        Function("join", (Param("parts", Type(Kind.SLICE, STR)), Param("sep", CHAR)), STRING),
        Function("first", (Param("s", STR),), Type(Kind.OPTION, CHAR)),
        Function(
            "minmax", (Param("v", Type(Kind.SLICE, F64)),), Type(Kind.TUPLE, items=(F64, F64))
        ),
        Function("area", (Param("s", shape), Param("size", F64)), F64),
        Function("next", (Param("s", Type(Kind.OPTION, shape)),), Type(Kind.OPTION, shape)),
        Function("pairs", (Param("v", Type(Kind.VEC, pair)),), Type(Kind.VEC, pair)),
        Function(
            "checked",
            (Param("p", borrowed("Point")),),
            Type(Kind.RESULT_VALUE, F64, name="GeoError"),
        ),
        Function("total", (Param("c", borrowed("Counter")),), U32),
    )
    records = (
        RecordDef("Point", (Field("x", F64), Field("y", F64)), doc="A point."),
        RecordDef(
            "GeoError",
            (
                Field("code", U32),
                Field("where", Type(Kind.OPTION, point)),
                Field("tags", Type(Kind.VEC, STRING)),
                Field("wide", I64),
                Field("flag", BOOL),
                Field("xs", Type(Kind.VEC, F64)),
            ),
        ),
    )
    enums = (EnumDef("Shape", (Case("Circle", 0), Case("Square", 1), Case("Back", -3))),)
    counter = named("Counter")
    methods = (
        _method("Counter", "new", Receiver.CONSTRUCTOR, (Param("label", STR),), counter),
        _method("Counter", "incr", Receiver.MUT, (Param("by", U32),), U32),
        _method("Counter", "label", Receiver.REF, (), STRING),
        _method("Counter", "named", Receiver.STATIC, (Param("label", STRING),), counter),
        _method("Counter", "merge", Receiver.MUT, (Param("other", counter),), U32),
        _method("Counter", "finish", Receiver.OWNED, (), STRING),
    )
    classes = (ClassDef("Counter", "A counter in the guest.", methods),)
    return Interface(1, exports, records=records, enums=enums, classes=classes)


def _wasm(interface: Interface) -> WasmModule:
    return parse(wasm_module([], custom={"wasmbridge": encode(interface)}))


def _glue(interface: Interface, module_format: ModuleFormat = "esm") -> str:
    wasm = _wasm(interface)
    return emit_js(
        "compound", "compound.wasm", interface, wasm, tool=TOOL, module_format=module_format
    )


def _dts(interface: Interface) -> str:
    return emit_dts("compound", "compound.wasm", interface, _wasm(interface), tool=TOOL)


def test_compound_glue_js(golden: Golden) -> None:
    golden.check("js/compound.js", _glue(compound_interface()))


def test_compound_declarations(golden: Golden) -> None:
    golden.check("js/compound.d.ts", _dts(compound_interface()))


def test_only_the_helpers_a_module_uses() -> None:
    enums_only = Interface(
        1,
        (Function("area", (Param("s", named("Shape")),), F64),),
        enums=compound_interface().enums,
    )
    glue = _glue(enums_only)
    assert "enumType(" in glue and "const Shape = Object.freeze({" in glue
    for absent in ("recordType", "Encoding", "HandleError", "classType", "decodeAt", "memory"):
        assert absent not in glue, absent


def _marked(interface: Interface) -> Interface:
    """Every name the module chooses replaced by ``zqN``, kept consistent."""
    renamed: dict[str, str] = {}

    def mark(name: str) -> str:
        return renamed.setdefault(name, f"zq{len(renamed)}")

    def mark_type(t: Type) -> Type:
        inner = mark_type(t.inner) if t.inner is not None else None
        items = tuple(mark_type(i) for i in t.items)
        return Type(t.kind, inner, items, mark(t.name) if t.name else "")

    def mark_function(func: Function, name: str | None = None) -> Function:
        params = tuple(Param(mark(p.name), mark_type(p.type)) for p in func.params)
        return Function(name or mark(func.name), params, mark_type(func.result), doc=func.doc)

    classes = []
    for cls in interface.classes:
        methods = []
        for m in cls.methods:
            member = mark(m.member)
            func = mark_function(m.function, f"{mark(cls.name)}.{member}")
            methods.append(Method(member, m.receiver, func))
        classes.append(dataclasses.replace(cls, name=mark(cls.name), methods=tuple(methods)))
    return Interface(
        1,
        tuple(mark_function(f) for f in interface.exports),
        records=tuple(
            RecordDef(mark(r.name), tuple(Field(mark(f.name), mark_type(f.type)) for f in r.fields))
            for r in interface.records
        ),
        enums=tuple(
            EnumDef(mark(e.name), tuple(Case(mark(c.name), c.value) for c in e.cases))
            for e in interface.enums
        ),
        classes=tuple(classes),
    )


@pytest.mark.parametrize("module_format", ["esm", "cjs"])
def test_the_glue_names_nothing_outside_its_own_names(module_format: ModuleFormat) -> None:
    """Names from the module are data or keys; every other name is the glue's own."""
    glue = _glue(_marked(compound_interface()), module_format)
    own = {name for name in identifiers(glue) if not name.startswith("zq")}
    assert own - GLUE_NAMES - KEYWORDS == set()
    assert re.search(r"\bconst zq\d+ = Object\.freeze", glue)  # the enum's own local


@pytest.mark.node
@pytest.mark.parametrize("name", ["compound.js"])
def test_node_check_accepts_the_golden_glue(node: None, name: str, tmp_path: Path) -> None:
    path = Path(__file__).parents[2] / "golden" / "js" / name
    proc = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    cjs = tmp_path / "compound.cjs"
    cjs.write_text(_glue(compound_interface(), "cjs"))
    proc = subprocess.run(["node", "--check", str(cjs)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


USAGE_TS = """\
import init, { mid, centroid, words, join, first, minmax, area, next, pairs, checked, total,
  Counter, Shape, Point, GeoError, ReturnedError, HandleError } from "./compound.js";
await init();
const p: Point = mid({ x: 0, y: 0 }, { x: 2, y: 4 });
const c: Point | undefined = centroid([p]);
const w: string[] = words("a b");
const j: string = join(w, "-");
const f: string | undefined = first("abc");
const mm: [number, number] = minmax(new Float64Array(2));
const a: number = area(Shape.Square, 2) + area(Shape.Back, 1);
const s: Shape | undefined = next(null);
const name: string = Shape[Shape.Circle];
const pr: [string, number][] = pairs([["a", 1]]);
const counter = new Counter("c");
const n: number = counter.incr(1) + total(counter) + counter.merge(Counter.named("d"));
const label: string = counter.finish();
counter.free();
counter[Symbol.dispose]();
const error: GeoError = { code: 1, tags: [], wide: 1n, flag: true, xs: [1.5] };
try { checked(p); } catch (e) { if (e instanceof ReturnedError) console.log(e.value, e.error); }
const h: Error = new HandleError("gone");
// @ts-expect-error: a Point has two fields
mid({ x: 1 }, p);
// @ts-expect-error: the enum's values only
const wrong: Shape = "Square";
"""


@pytest.mark.node
def test_declarations_type_check_a_caller(tmp_path: Path) -> None:
    require(None if TSC else "tsc is not installed (apt-get install node-typescript)")
    (tmp_path / "compound.d.ts").write_text(_dts(compound_interface()))
    (tmp_path / "use.ts").write_text(USAGE_TS)
    argv = [str(TSC), "--strict", "--noEmit", "--target", "es2022", "--module", "es2022"]
    argv += ["--lib", "es2022,dom", "use.ts"]
    proc = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _init_named_interface() -> Interface:
    """Types named like the glue's own init() types: InitInput, InitOptions, Imports."""
    made = named("InitInput")
    methods = (
        _method("InitInput", "new", Receiver.CONSTRUCTOR, (Param("n", U32),), made),
        _method("InitInput", "get", Receiver.REF, (), U32),
    )
    bump = Function(
        "bump", (Param("i", named("Imports")), Param("o", named("InitOptions"))), named("Imports")
    )
    return Interface(
        1,
        (bump,),
        records=(RecordDef("Imports", (Field("n", U32),)),),
        enums=(EnumDef("InitOptions", (Case("A", 0), Case("B", 1))),),
        classes=(ClassDef("InitInput", "", methods),),
    )


INIT_NAMED_TS = """\
import init, { bump, Imports, InitOptions, InitInput } from "./compound.js";
await init(new URL("file:///compound.wasm"), {});
const i: Imports = bump({ n: 1 }, InitOptions.B);
const n: number = i.n + new InitInput(3).get();
"""


@pytest.mark.node
def test_types_named_like_the_glue_init_types_keep_their_names(tmp_path: Path) -> None:
    require(None if TSC else "tsc is not installed (apt-get install node-typescript)")
    dts = _dts(_init_named_interface())
    assert "\ntype InitInput =" in dts and "\ninterface InitOptions {" in dts
    (tmp_path / "compound.d.ts").write_text(dts)
    (tmp_path / "use.ts").write_text(INIT_NAMED_TS)
    argv = [str(TSC), "--strict", "--noEmit", "--target", "es2022", "--module", "es2022"]
    argv += ["--lib", "es2022,dom", "use.ts"]
    proc = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- what JavaScript cannot express --------------------------------------------------


def _with_class(name: str, *methods: tuple[str, Receiver]) -> Interface:
    made = tuple(
        _method(
            name, member, receiver, (), U32 if receiver is not Receiver.CONSTRUCTOR else named(name)
        )
        for member, receiver in methods
    )
    return Interface(1, classes=(ClassDef(name, methods=made),))


@pytest.mark.parametrize(
    ("interface", "problem"),
    [
        (
            _with_class("Counter", ("free", Receiver.REF)),
            "method `Counter.free`: the glue's free() releases the object",
        ),
        (
            _with_class("Counter", ("then", Receiver.MUT)),
            "method `Counter.then`: every object would be a thenable: `await` and "
            "Promise.resolve() would call it",
        ),
        (
            _with_class("Counter", ("constructor", Receiver.REF)),
            "method `Counter.constructor`: it would replace the class's prototype.constructor",
        ),
        (
            _with_class("Counter", ("prototype", Receiver.STATIC)),
            "static method `Counter.prototype`: a JavaScript class cannot have a static "
            "member `prototype`",
        ),
        (_with_class("default"), "`default`: the JS glue's default export is init()"),
        (
            Interface(1, enums=(EnumDef("then", (Case("A", 0),)),)),
            "`then`: `await import()` would call it instead of returning the module",
        ),
        (
            Interface(1, enums=(EnumDef("Big", (Case("Huge", 2**60),)),)),
            "enum `Big`: the discriminant of `Huge` (1152921504606846976) is beyond 2^53, "
            "which a JavaScript number cannot hold exactly",
        ),
        (
            Interface(
                1,
                imports=(Function("log_point", (Param("p", named("Point")),), module="env"),),
                records=(RecordDef("Point", (Field("x", F64),)),),
            ),
            "import `env.log_point`: host functions written in JS take numbers, text and "
            "numeric slices only (no records, enums, tuples, lists or char)",
        ),
    ],
)
def test_what_js_cannot_express_is_refused_at_build(interface: Interface, problem: str) -> None:
    wasm = parse(wasm_module([]))
    for emit in (emit_js, emit_dts):
        with pytest.raises(BuildFailed) as caught:
            emit("m", "m.wasm", interface, wasm)
        assert (
            str(caught.value)
            == f"m.wasm has parts the JavaScript glue cannot express:\n  {problem}"
        )
        assert caught.value.hint is not None and "docs/web.md" in caught.value.hint


def test_static_members_named_like_instance_members_are_fine() -> None:
    interface = _with_class(
        "Counter",
        ("new", Receiver.CONSTRUCTOR),
        ("free", Receiver.STATIC),
        ("then", Receiver.STATIC),
    )
    glue = _glue(interface)
    assert "  static free() {" in glue and "  static then() {" in glue


# -- class objects on a small hand-written module ------------------------------------

WAT = """\
(module
  (import "env" "callback" (func $callback))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (global $objects (mut i32) (i32.const 8))
  (func (export "__wb_alloc") (param $size i32) (param $align i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (i32.add (local.get $size) (i32.const 8))))
    (local.get $at))
  (func (export "__wb_free") (param i32 i32 i32))
  (func $new (param $ret i32)
    (i32.store (local.get $ret) (global.get $objects))
    (global.set $objects (i32.add (global.get $objects) (i32.const 8))))
  (func (export "Object.new") (param $ret i32) (call $new (local.get $ret)))
  (func (export "Object.__proto__") (param $self i32) (result i32) (local.get $self))
  (func (export "Object.constructor") (result i32) (i32.const 7))
  (func (export "Object.poke") (param $self i32) (result i32) (call $callback) (i32.const 1))
  (func (export "Object.take") (param $other i32) (result i32) (i32.const 2))
  (func (export "Object#drop") (param i32))
  (func (export "Promise.new") (param $ret i32) (call $new (local.get $ret)))
  (func (export "Promise.id") (param $self i32) (result i32) (local.get $self))
  (func (export "Promise#drop") (param i32))
  (func (export "init") (result i32) (i32.const 3)))
"""


def _odd_interface() -> Interface:
    obj, promise = named("Object"), named("Promise")
    methods = (
        _method("Object", "new", Receiver.CONSTRUCTOR, (), obj),
        _method("Object", "__proto__", Receiver.REF, (), U32),
        _method("Object", "constructor", Receiver.STATIC, (), U32),
        _method("Object", "poke", Receiver.REF, (), U32),
        _method("Object", "take", Receiver.STATIC, (Param("other", obj),), U32),
    )
    promises = (
        _method("Promise", "new", Receiver.CONSTRUCTOR, (), promise),
        _method("Promise", "id", Receiver.REF, (), U32),
    )
    return Interface(
        1,
        (Function("init", (), U32),),
        (Function("callback", (), module="env"),),
        classes=(ClassDef("Object", methods=methods), ClassDef("Promise", methods=promises)),
    )


ODD_SCRIPT = """\
import init, * as m from "./odd.js";
await init(undefined, { imports: { callback: () => globalThis.during?.() } });
const results = [];
const attempt = (fn) => { try { return fn(); } catch (e) { return `${e.name}: ${e.message}`; } };
const o = new m.Object();
results.push(o.__proto__() > 0, m.Object.constructor(), m.init(), o instanceof m.Object);
const p = new m.Promise();
results.push(p.id() > 0, typeof Promise.resolve, await Promise.resolve(5));
globalThis.during = () => o.free();
results.push(attempt(() => o.poke()));
globalThis.during = () => m.Object.take(o);
results.push(attempt(() => o.poke()));
globalThis.during = undefined;
results.push(o.poke(), m.Object.take(o), attempt(() => o.poke()));
console.log(JSON.stringify(results));
"""


@pytest.mark.node
def test_odd_names_and_calls_during_a_method_on_a_real_module(node: None, tmp_path: Path) -> None:
    """Classes named Object and Promise, methods named __proto__ and constructor, an export
    named init; freeing or moving an object from a host function while its method runs."""
    require(None if WAT2WASM else "wat2wasm is not installed (apt-get install wabt)")
    interface = _odd_interface()
    (tmp_path / "odd.wat").write_text(WAT)
    subprocess.run([str(WAT2WASM), "odd.wat", "-o", "odd.wasm"], cwd=tmp_path, check=True)
    section = b"wasmbridge"
    payload = encode(interface)
    body = uleb(len(section)) + section + payload
    data = (tmp_path / "odd.wasm").read_bytes() + b"\x00" + uleb(len(body)) + body
    (tmp_path / "odd.wasm").write_bytes(data)
    (tmp_path / "odd.js").write_text(emit_js("odd", "odd.wasm", interface, parse(data)))
    (tmp_path / "main.mjs").write_text(ODD_SCRIPT)
    proc = subprocess.run(["node", "main.mjs"], cwd=tmp_path, capture_output=True, text=True)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert json.loads(proc.stdout) == [
        True,
        7,
        3,
        True,
        True,
        "function",
        5,
        "HandleError: Object.free(): a call on this Object has not returned yet",
        "HandleError: Object.take() argument 'other': this Object is in use by a call that "
        "has not returned",
        1,
        2,
        "HandleError: Object.poke(): this Object was moved into odd.wasm by Object.take() "
        "and cannot be used",
    ]


# -- callbacks on a small hand-written module ----------------------------------------

CALLBACK_WAT = """\
(module
  (import "wasmbridge" "callback" (func $callback (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (global $sp (export "__stack_pointer") (mut i32) (i32.const 65536))
  ;; boom(): takes a stack frame, then traps
  (func (export "boom")
    (global.set $sp (i32.sub (global.get $sp) (i32.const 64)))
    (unreachable))
  ;; outer(f: impl Fn()): calls f inside a stack frame of its own
  (func (export "outer") (param $f i32)
    (global.set $sp (i32.sub (global.get $sp) (i32.const 16)))
    (call $callback (local.get $f) (i32.const 0) (i32.const 0) (i32.const 2100))
    (global.set $sp (i32.add (global.get $sp) (i32.const 16))))
  (func $alloc (export "__wb_alloc") (param $size i32) (param $align i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (i32.add (local.get $size) (i32.const 8))))
    (local.get $at))
  (func (export "__wb_free") (param i32 i32 i32))
  ;; apply(f: impl Fn(u32, &str) -> u32, x: u32) -> u32: f(x, "hi")
  (func (export "apply") (param $f i32) (param $x i32) (result i32)
    (local $args i32)
    (local.set $args (call $alloc (i32.const 16) (i32.const 8)))
    (i32.store (local.get $args) (local.get $x))
    (i32.store offset=4 (local.get $args) (i32.const 12))
    (i32.store offset=8 (local.get $args) (i32.const 2))
    (i32.store16 offset=12 (local.get $args) (i32.const 0x6968))
    (call $callback (local.get $f) (local.get $args) (i32.const 14) (i32.const 2100))
    (i32.load (i32.load (i32.const 2100))))
  ;; each(f: impl Fn(), n: u32): f() n times
  (func (export "each") (param $f i32) (param $n i32)
    (block $done
      (loop $again
        (br_if $done (i32.eqz (local.get $n)))
        (call $callback (local.get $f) (i32.const 0) (i32.const 0) (i32.const 2100))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $again))))
  ;; corner(f: impl Fn() -> Point) -> f64: f().x + f().y
  (func (export "corner") (param $f i32) (result f64)
    (local $p i32)
    (call $callback (local.get $f) (i32.const 0) (i32.const 0) (i32.const 2100))
    (local.set $p (i32.load (i32.const 2100)))
    (f64.add (f64.load (local.get $p)) (f64.load offset=8 (local.get $p))))
  ;; stray(f: impl Fn()): calls a function id it was not given
  (func (export "stray") (param $f i32)
    (call $callback (i32.add (local.get $f) (i32.const 1000)) (i32.const 0) (i32.const 0)
      (i32.const 2100))))
"""

CALLBACK_SCRIPT = """\
import init, * as m from "./callbacks.js";
const raw = await init();
const results = [];
const attempt = (fn) => { try { return fn(); } catch (e) { return `${e.name}: ${e.message}`; } };
results.push(m.apply((x, s) => x * 10 + s.length, 4));
results.push(m.apply((x, s) => x + m.apply((y) => y * 2, 1), 5)); // a call from inside a callback
let count = 0;
m.each(() => { count += 1; }, 3);
results.push(count);
results.push(attempt(() => m.each(() => { throw new RangeError("stop"); }, 3)));
results.push(m.corner(() => ({ x: 1.5, y: 2 })));
results.push(attempt(() => m.corner(() => ({ x: 1 }))));
results.push(attempt(() => m.apply(5, 1)));
results.push(attempt(() => m.stray(() => {})).replace(/[0-9]+/, "N"));
// A trap or an exception unwinds no guest frames: the glue puts the stack pointer back.
const top = raw.__stack_pointer.value;
const kept = () => raw.__stack_pointer.value === top;
results.push(attempt(() => m.boom()), kept());
m.outer(() => attempt(() => m.boom())); // a nested call fails, the callback goes on
results.push(kept());
results.push(attempt(() => m.outer(() => { throw new Error("out"); })), kept());
console.log(JSON.stringify(results));
"""


def _callbacks_interface() -> Interface:
    def callback(items: tuple[Type, ...], result: Type) -> Type:
        return Type(Kind.CALLBACK, result, items)

    unit = Type(Kind.UNIT)
    exports = (
        Function("apply", (Param("f", callback((U32, STR), U32)), Param("x", U32)), U32),
        Function("each", (Param("f", callback((), unit)), Param("n", U32))),
        Function("corner", (Param("f", callback((), named("Point"))),), F64),
        Function("stray", (Param("f", callback((), unit)),)),
        Function("boom", ()),
        Function("outer", (Param("f", callback((), unit)),)),
    )
    records = (RecordDef("Point", (Field("x", F64), Field("y", F64))),)
    return Interface(1, exports, records=records)


def _with_section(wasm: bytes, interface: Interface) -> bytes:
    name = b"wasmbridge"
    body = uleb(len(name)) + name + encode(interface)
    return wasm + b"\x00" + uleb(len(body)) + body


def test_callback_declarations() -> None:
    interface = _callbacks_interface()
    dts = _dts(interface)
    assert (
        "export declare function apply(f: (arg0: number, arg1: string) => number, x: number): number;"
        in dts
    )
    assert "export declare function each(f: () => void, n: number): void;" in dts
    assert "export declare function corner(f: () => Point): number;" in dts


@pytest.mark.node
def test_callbacks_on_a_real_module(node: None, tmp_path: Path) -> None:
    """JS functions as arguments: called with decoded arguments, their results encoded,
    nested calls allowed, exceptions passed through, stray ids refused; the guest's stack
    pointer put back after a trap or an exception, also in nested calls."""
    require(None if WAT2WASM else "wat2wasm is not installed (apt-get install wabt)")
    interface = _callbacks_interface()
    (tmp_path / "callbacks.wat").write_text(CALLBACK_WAT)
    subprocess.run(
        [str(WAT2WASM), "callbacks.wat", "-o", "callbacks.wasm"], cwd=tmp_path, check=True
    )
    data = _with_section((tmp_path / "callbacks.wasm").read_bytes(), interface)
    (tmp_path / "callbacks.wasm").write_bytes(data)
    glue = emit_js("callbacks", "callbacks.wasm", interface, parse(data))
    (tmp_path / "callbacks.js").write_text(glue)
    (tmp_path / "main.mjs").write_text(CALLBACK_SCRIPT)
    proc = subprocess.run(["node", "main.mjs"], cwd=tmp_path, capture_output=True, text=True)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert json.loads(proc.stdout) == [
        42,
        7,
        3,
        "RangeError: stop",
        3.5,
        "TypeError: corner() argument 'f' (its result): the field y of Point is missing",
        "TypeError: apply() argument 'f': expected a function, got number",
        "Error: callbacks.wasm called function N, which no running call lent it (a bug in the module)",
        "RuntimeError: `boom()` in callbacks.wasm: unreachable",
        True,
        True,
        "Error: out",
        True,
    ]
