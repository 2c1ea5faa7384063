"""Exported classes in the JS glue, shaped like wasm-bindgen's.

    export class Counter {
      constructor(label, start) { ... }   // the Rust `new`
      incr(by) { ... }                    // &self / &mut self methods borrow the object
      static named(name) { ... }          // associated functions
      free() { ... }                      // drops the value in the guest now
    }

``[Symbol.dispose]()`` is ``free()`` where the engine has Symbol.dispose,
and a FinalizationRegistry drops objects nobody can reach (_js_objects).
Member names come from the module and are written as they are, or quoted
(``["na-me"]()``); those JavaScript cannot give an instance method are
refused at build time (``class_problems``).
"""

from __future__ import annotations

from ..interface import ClassDef, Interface, Method, Receiver
from ..interface.types import shown
from ._js_names import is_identifier, js_string
from ._js_shim import Context, Shim, jsdoc

# Instance members JavaScript (or the glue) gives a meaning of its own, and why.
RESERVED_METHODS = {
    "constructor": "it would replace the class's prototype.constructor",
    "free": "the glue's free() releases the object",
    "then": "every object would be a thenable: `await` and Promise.resolve() would call it",
}
RESERVED_STATIC = {"prototype": "a JavaScript class cannot have a static member `prototype`"}
# Names a JS module cannot export as a class or enum (build/validate.py refuses
# them for functions for the same reasons).
RESERVED_EXPORTS = {
    "default": "the JS glue's default export is init()",
    "then": "`await import()` would call it instead of returning the module",
    "__esModule": "the CommonJS glue uses it to mark itself as an ES module",
}


def class_problems(interface: Interface) -> list[str]:
    """Each class, enum or method name the JS glue cannot give its meaning, and why."""
    problems = []
    exported = sorted([c.name for c in interface.classes] + [e.name for e in interface.enums])
    for name in exported:
        if name in RESERVED_EXPORTS:
            problems.append(f"`{shown(name)}`: {RESERVED_EXPORTS[name]}")
    for record in interface.records:
        if record.name == "default":
            problems.append(f"record `default`: {RESERVED_EXPORTS['default']}")
    for cls in interface.classes:
        for method in cls.methods:
            static = method.receiver in (Receiver.STATIC, Receiver.CONSTRUCTOR)
            reserved = RESERVED_STATIC if static else RESERVED_METHODS
            if method.member in reserved and not _is_constructor(cls, method):
                kind = "static method" if static else "method"
                label = f"{shown(cls.name)}.{method.member}"
                problems.append(f"{kind} `{label}`: {reserved[method.member]}")
    return problems


def _is_constructor(cls: ClassDef, method: Method) -> bool:
    return method is constructor_of(cls)


def constructor_of(cls: ClassDef) -> Method | None:
    """The method `new Class(...)` calls: the first constructor (``new`` returning Self)."""
    return next((m for m in cls.methods if m.receiver is Receiver.CONSTRUCTOR), None)


def method_key(name: str) -> str:
    """A method's name in a class body: bare when it is an identifier, else ``["..."]``."""
    return name if is_identifier(name) else f"[{js_string(name)}]"


def render_class(cls: ClassDef, local: str, context: Context) -> list[str]:
    """The class declaration: constructor, methods in declaration order, free()."""
    lines = _doc(cls.doc)
    lines.append(f"class {local} {{")
    constructor = constructor_of(cls)
    if constructor is None:
        need = context.helpers.need("noConstructor")
        lines += ["  constructor() {", f"    throw {need}({js_string(cls.name)});", "  }"]
    else:
        lines += _member(cls, constructor, "constructor", context)
    for method in cls.methods:
        if method is constructor:
            continue
        static = method.receiver in (Receiver.STATIC, Receiver.CONSTRUCTOR)
        head = ("static " if static else "") + method_key(method.member)
        lines += ["", *_member(cls, method, head, context)]
    assert context.types is not None
    ref = context.types.named(cls.name)
    lines += [
        "",
        "  /**",
        f"   * Drops this {cls.name} in the module now (its `Drop` runs); later calls throw",
        "   * HandleError. [Symbol.dispose]() does the same; unreachable objects are dropped too.",
        "   */",
        "  free() {",
        f"    {context.helpers.need('release')}(this, {ref});",
        "  }",
        "}",
    ]
    return lines


def _member(cls: ClassDef, method: Method, head: str, context: Context) -> list[str]:
    plan = context.plan(method.function, method)
    shim = Shim(plan, context, owner=cls.name)
    body = shim.body()
    is_constructor = method.receiver is Receiver.CONSTRUCTOR and head == "constructor"
    consumes = method.receiver is Receiver.OWNED
    doc = jsdoc(plan, shim.params, context.ts, returns=not is_constructor, consumes=consumes)
    lines = [f"  {line}" for line in doc]
    lines.append(f"  {head}({', '.join(shim.params)}) {{")
    lines += [f"    {line}" for line in body]
    lines.append("  }")
    return lines


def _doc(text: str) -> list[str]:
    doc = [line.rstrip() for line in text.strip().splitlines()]
    if not doc:
        return []
    return ["/**", *(f" * {line}".rstrip().replace("*/", "*\\/") for line in doc), " */"]
