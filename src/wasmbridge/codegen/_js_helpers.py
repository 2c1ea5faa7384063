"""Hand-written JavaScript for the generated glue (codegen/js.py).

Each helper is a readable snippet emitted at most once, and only when a
shim needs it (wasm-bindgen's ``expose_*``). ``REQUIRES`` lists what each
helper calls, so asking for one brings its dependencies along; they are
emitted in the order of ``LIBRARY``: memory, checks, lowering, lifting,
errors. ``init()`` and the loading code, in every module, are in ``_js_loading``.

``GLUE_NAMES`` holds every name this JavaScript (and the code js.py writes
around it) mentions, globals included; ``export_locals`` keeps the
module's names away from them, so an export named ``Uint8Array`` or
``init`` shadows nothing the glue needs. Parameters avoid ``BODY_NAMES``,
the names a shim's body refers to.
"""

from __future__ import annotations

import re

from ..interface.plan import ScalarFacts
from . import _js_callbacks, _js_encoded, _js_objects
from ._js_loading import ALL_TEXT as LOADING_TEXT
from ._js_names import identifiers, js_identifier
from ._js_scalars import NUMBER_FACTS, TYPED_ARRAYS, check_name, range_text, wrapped


def _int_check(facts: ScalarFacts) -> str:
    """One comparison accepts exactly the integers of the kind."""
    same, name, range_ = wrapped(facts, "value"), facts.name, range_text(facts)
    return f"""\
function {check_name(facts)}(value, what) {{
  if (typeof value !== "number" || ({same}) !== value) {{
    throw badInteger(value, what, "{name}", "{range_}");
  }}
  return value;
}}"""


def _bigint_check(facts: ScalarFacts) -> str:
    same, name, range_ = wrapped(facts, "value"), facts.name, range_text(facts)
    return f"""\
function {check_name(facts)}(value, what) {{
  if (typeof value !== "bigint") throw expected(value, what, "bigint ({name})");
  if ({same} !== value) {{
    throw new RangeError(`${{what}}: ${{value}} is out of range for {name} ({range_})`);
  }}
  return value;
}}"""


_INTEGERS = [facts for facts in NUMBER_FACTS if facts.is_integer and not facts.is_big]
_BIG_INTEGERS = [facts for facts in NUMBER_FACTS if facts.is_big]


_MEMORY = {
    "memoryBytes": """\
// Views of linear memory, re-created whenever the memory has grown
// (growing replaces memory.buffer).
let cachedBytes = new Uint8Array(0);
function memoryBytes() {
  if (cachedBytes.buffer !== memory.buffer) cachedBytes = new Uint8Array(memory.buffer);
  return cachedBytes;
}""",
    "memoryView": """\
let cachedView = new DataView(new ArrayBuffer(0));
function memoryView() {
  if (cachedView.buffer !== memory.buffer) cachedView = new DataView(memory.buffer);
  return cachedView;
}""",
    "allocate": """\
function allocate(size, align) {
  const ptr = wasm.__wb_alloc(size, align);
  if (ptr === 0) throw new RangeError(`${MODULE} could not allocate ${size} bytes`);
  return ptr;
}""",
}

_CHECKS = {
    "typeName": """\
// How errors name the type of a value: an object of an exported class by the class
// name its glue recorded (a static method may be called `name`), another object by
// its constructor's name when that is text.
const GLUE_CLASS = Symbol.for("wasmbridge.class");
function typeName(value) {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return textName(value[GLUE_CLASS]) ?? textName(value.constructor?.name) ?? "object";
}
function textName(name) {
  return typeof name === "string" && name !== "" ? name : undefined;
}""",
    "expected": """\
function expected(value, what, type) {
  return new TypeError(`${what}: expected ${type}, got ${typeName(value)}`);
}""",
    "badInteger": """\
function badInteger(value, what, type, range) {
  if (typeof value !== "number") return expected(value, what, `number (${type})`);
  return new RangeError(`${what}: ${value} is not an ${type} (an integer in ${range})`);
}""",
    "checkBool": """\
function checkBool(value, what) {
  if (typeof value !== "boolean") throw expected(value, what, "boolean");
  return value;
}""",
    **{check_name(facts): _int_check(facts) for facts in _INTEGERS},
    **{check_name(facts): _bigint_check(facts) for facts in _BIG_INTEGERS},
    "checkF32": """\
function checkF32(value, what) {
  if (typeof value !== "number") throw expected(value, what, "number (f32)");
  if (Number.isFinite(value) && !Number.isFinite(Math.fround(value))) {
    throw new RangeError(`${what}: ${value} is out of range for f32`);
  }
  return value;
}""",
    "checkF64": """\
function checkF64(value, what) {
  if (typeof value !== "number") throw expected(value, what, "number (f64)");
  return value;
}""",
    "checkText": """\
function checkText(value, what) {
  if (typeof value !== "string") throw expected(value, what, "string");
  if (!value.isWellFormed()) {
    throw new TypeError(`${what}: the text has a lone surrogate, which UTF-8 cannot encode`);
  }
  return value;
}""",
    "bytesOf": """\
// The bytes of a u8 slice argument: any ArrayBufferView or ArrayBuffer as is
// (no copy), an Array of numbers converted.
function bytesOf(value, what) {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (Array.isArray(value)) return Uint8Array.from(value, (item) => checkU8(item, `${what} item`));
  throw expected(value, what, "Uint8Array, ArrayBuffer or Array of numbers");
}""",
    "arrayOf": """\
// A typed array of the right kind as is (no copy), an Array checked and converted.
function arrayOf(value, Type, check, what) {
  if (value instanceof Type) return value;
  if (Array.isArray(value)) return Type.from(value, (item) => check(item, `${what} item`));
  throw expected(value, what, `${Type.name} or Array`);
}""",
    "mutableOf": """\
function mutableOf(value, Type, what) {
  if (!(value instanceof Type)) throw expected(value, what, `${Type.name} (written back)`);
  return value;
}""",
}

_LOWERING = {
    "encoder": "const encoder = new TextEncoder();",
    "NO_LOAN": """\
// What lend*() and give*() return: where the data sits in guest memory, and
// the allocation reclaim() frees after the call (size 0: nothing to free).
const NO_LOAN = { ptr: 0, len: 0, size: 0, align: 1 };""",
    "lendText": """\
// Text the guest borrows for one call: UTF-8 needs at most 3 bytes per UTF-16 unit.
function lendText(text) {
  if (text.length === 0) return { ptr: 1, len: 0, size: 0, align: 1 };
  const size = text.length * 3;
  const ptr = allocate(size, 1);
  const { written } = encoder.encodeInto(text, memoryBytes().subarray(ptr, ptr + size));
  return { ptr, len: written, size, align: 1 };
}""",
    "giveText": """\
// Text the guest takes over (String): an allocation of exactly its length.
function giveText(text) {
  return give(encoder.encode(text), 1);
}""",
    "lend": """\
// Numbers the guest borrows for one call (&[T], &mut [T]).
function lend(array, align) {
  const loan = give(array, align);
  return { ...loan, size: loan.len * align };
}""",
    "give": """\
// Numbers the guest takes over (Vec<T>): it frees them itself.
function give(array, align) {
  const size = array.byteLength;
  if (size === 0) return { ptr: align, len: 0, size: 0, align };
  const ptr = allocate(size, align);
  memoryBytes().set(new Uint8Array(array.buffer, array.byteOffset, size), ptr);
  return { ptr, len: size / align, size: 0, align };
}""",
    "reclaim": """\
function reclaim(loan) {
  if (loan.size !== 0) wasm.__wb_free(loan.ptr, loan.size, loan.align);
}""",
    "copyBack": """\
// A &mut [T] argument: the guest's changes go back into the caller's array.
function copyBack(loan, array) {
  const target = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  target.set(guestBytes(loan.ptr, target.length));
}""",
}

_LIFTING = {
    "decoder": 'const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });',
    "guestBytes": """\
function guestBytes(ptr, size) {
  const bytes = memoryBytes();
  if (ptr + size > bytes.length) {
    throw new RangeError(
      `${MODULE} pointed outside its memory (${size} bytes at ${ptr}): a bug in the module`,
    );
  }
  return bytes.subarray(ptr, ptr + size);
}""",
    "readText": """\
function readText(ptr, len) {
  return decoder.decode(guestBytes(ptr, len));
}""",
    "readArray": """\
// A copy of len numbers at ptr (the guest may reuse its memory afterwards).
function readArray(Type, ptr, len) {
  const copy = guestBytes(ptr, len * Type.BYTES_PER_ELEMENT).slice();
  return Type === Uint8Array ? copy : new Type(copy.buffer);
}""",
    "someAt": """\
// Whether the option result whose tag is at `at` in the return area holds a value.
function someAt(at, what) {
  const tag = memoryView().getUint32(at, true);
  if (tag > 1) throw badData(what, `an option tag of ${tag}, not 0 or 1`);
  return tag === 1;
}""",
    "resultTag": """\
// The tag of a Result at `at` in the return area: Ok 0, Err 1, and Err 2 when the
// error crosses as a value (`most` 2).
function resultTag(at, what, most) {
  const tag = memoryView().getUint32(at, true);
  if (tag > most) {
    throw badData(what, `a result tag of ${tag}, not ${most === 1 ? "0 or 1" : "0, 1 or 2"}`);
  }
  return tag;
}""",
    "boolFrom": """\
// A bool result (an i32): 0 or 1.
function boolFrom(value, what) {
  if (value !== 0 && value !== 1) throw badData(what, `a bool of ${value >>> 0}, not 0 or 1`);
  return value === 1;
}""",
    "textAt": """\
// A result's (ptr, len) pair at `at` in the return area; owned results stay
// the guest's, which frees them itself (docs/abi.md, "Memory ownership").
function textAt(at) {
  const view = memoryView();
  return readText(view.getUint32(at, true), view.getUint32(at + 4, true));
}""",
    "arrayAt": """\
function arrayAt(Type, at) {
  const view = memoryView();
  return readArray(Type, view.getUint32(at, true), view.getUint32(at + 4, true));
}""",
    "writeBack": """\
// A host function may change a &mut [T] argument: copy it back into guest memory.
function writeBack(ptr, array) {
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  guestBytes(ptr, bytes.length).set(bytes);
}""",
    "storeText": """\
// A host function's String result, handed over to the guest at `at`.
function storeText(at, text, what) {
  storeLoan(at, giveText(checkText(text, what)));
}""",
    "storeArray": """\
function storeArray(at, array, align) {
  storeLoan(at, give(array, align));
}""",
    "storeLoan": """\
function storeLoan(at, loan) {
  const view = memoryView();
  view.setUint32(at, loan.ptr, true);
  view.setUint32(at + 4, loan.len, true);
}""",
}

_ERRORS = {
    "describeCall": """\
// `name(args)` as error messages show a call.
function describeCall(name, args) {
  return `\\`${name}(${args.map(describeValue).join(", ")})\\``;
}
function describeValue(value) {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 24 ? `${value.slice(0, 21)}...` : value);
  }
  if (typeof value === "bigint") return `${value}n`;
  if (ArrayBuffer.isView(value)) return `${typeName(value)}(${value.length})`;
  if (Array.isArray(value)) return `Array(${value.length})`;
  return String(value);
}""",
    "describeCallObjects": """\
// `name(args)` as error messages show a call; records and objects by their kind.
function describeCall(name, args) {
  return `\\`${name}(${args.map(describeValue).join(", ")})\\``;
}
function describeValue(value) {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 24 ? `${value.slice(0, 21)}...` : value);
  }
  if (typeof value === "bigint") return `${value}n`;
  if (ArrayBuffer.isView(value)) return `${typeName(value)}(${value.length})`;
  if (Array.isArray(value)) return `Array(${value.length})`;
  if (typeof value === "object" && value !== null) {
    const name = typeName(value);
    return name !== "Object" && name !== "object" ? name : "{...}";
  }
  if (typeof value === "function") {
    const name = textName(value.name);
    return name === undefined ? "function" : `function ${name}`;
  }
  return String(value);
}""",
    "ReturnedError": """\
/** The Rust function returned `Err(e)`; `error` is `e.to_string()`. */
class ReturnedError extends Error {
  constructor(call, error) {
    super(`${call} in ${MODULE} returned an error: ${error}`);
    this.name = "ReturnedError";
    this.error = error;
  }
}""",
    "ReturnedErrorValue": """\
/**
 * The Rust function returned `Err(e)`: `value` is `e` when its type is a record or enum
 * of the module (else undefined), `error` its text.
 */
class ReturnedError extends Error {
  constructor(call, error, value) {
    super(`${call} in ${MODULE} returned an error: ${error}`);
    this.name = "ReturnedError";
    this.error = error;
    this.value = value;
  }
}""",
    "GuestPanic": """\
/** The Rust function panicked: `panicMessage` at `file`:`line`:`column`. */
class GuestPanic extends Error {
  constructor(call, report, trap) {
    const text = report.message ||
      "(message omitted in size-optimized builds; `wasmbridge build --panic-messages` keeps it)";
    const where = `${report.file}:${report.line}:${report.column}`;
    super(`${call} in ${MODULE} panicked at ${where}: ${text}`, { cause: trap });
    this.name = "GuestPanic";
    this.panicMessage = report.message;
    this.file = report.file;
    this.line = report.line;
    this.column = report.column;
  }
}""",
    "reportPanic": """\
// wasmbridge.panic: the guest reports a panic, then traps; failure() turns
// that trap into a GuestPanic.
let panicReport;
function reportPanic(msg_ptr, msg_len, file_ptr, file_len, line, column) {
  try {
    const message = readText(msg_ptr, msg_len);
    const file = readText(file_ptr, file_len) || "<unknown>";
    panicReport = { message, file, line: line >>> 0, column: column >>> 0 };
  } catch {
    panicReport = { message: "", file: "<unreadable panic report>", line: 0, column: 0 };
  }
}""",
    "enterHost": """\
// The guest's shadow-stack pointer (docs/abi.md, "Traps and the guest stack"): a trap,
// or an exception thrown through the guest, unwinds no guest frames, so the glue puts
// it back: to its value between calls after an outermost call, and to what a host
// function or callback found when it returns.
let stackTop = 0;
let hostDepth = 0; // host functions and callbacks running: calls from them are nested

function restoreStack() {
  if (hostDepth === 0 && wasm.__stack_pointer) wasm.__stack_pointer.value = stackTop;
}

function enterHost() {
  hostDepth += 1;
  return wasm.__stack_pointer?.value;
}

function leaveHost(pointer) {
  hostDepth -= 1;
  if (pointer !== undefined) wasm.__stack_pointer.value = pointer;
}""",
    "failure": """\
// What a failed call throws: a trap gets the call's name; any other error
// (the caller's, a host function's) passes through unchanged.
function failure(error, name, args) {
  if (error instanceof WebAssembly.RuntimeError) {
    error.message = `${describeCall(name, args)} in ${MODULE}: ${error.message}`;
  }
  return error;
}""",
    "failureWithPanics": """\
// What a failed call throws: a reported panic becomes a GuestPanic, a trap
// gets the call's name; any other error (the caller's, a host function's)
// passes through unchanged.
function failure(error, name, args) {
  const report = panicReport;
  panicReport = undefined;
  if (!(error instanceof WebAssembly.RuntimeError)) return error;
  if (report !== undefined) return new GuestPanic(describeCall(name, args), report, error);
  error.message = `${describeCall(name, args)} in ${MODULE}: ${error.message}`;
  return error;
}""",
}

LIBRARY: dict[str, str] = {
    **_MEMORY,
    **_CHECKS,
    **_LOWERING,
    **_LIFTING,
    **_ERRORS,
    **_js_encoded.ENCODED,
    **_js_objects.OBJECTS,
    **_js_callbacks.CALLBACKS,
}

REQUIRES: dict[str, tuple[str, ...]] = {
    "allocate": (),
    "expected": ("typeName",),
    "badInteger": ("expected",),
    "checkBool": ("expected",),
    **{check_name(facts): ("badInteger",) for facts in _INTEGERS},
    **{check_name(facts): ("expected",) for facts in _BIG_INTEGERS},
    "checkF32": ("expected",),
    "checkF64": ("expected",),
    "checkText": ("expected",),
    "bytesOf": ("expected", "checkU8"),
    "arrayOf": ("expected",),
    "mutableOf": ("expected",),
    "lendText": ("allocate", "encoder", "memoryBytes"),
    "giveText": ("encoder", "give"),
    "lend": ("give",),
    "give": ("allocate", "memoryBytes"),
    "copyBack": ("guestBytes",),
    "guestBytes": ("memoryBytes",),
    "readText": ("decoder", "guestBytes"),
    "readArray": ("guestBytes",),
    "someAt": ("memoryView", "badData"),
    "resultTag": ("memoryView", "badData"),
    "boolFrom": ("badData",),
    "textAt": ("memoryView", "readText"),
    "arrayAt": ("memoryView", "readArray"),
    "writeBack": ("guestBytes",),
    "storeText": ("giveText", "checkText", "storeLoan"),
    "storeArray": ("give", "storeLoan"),
    "storeLoan": ("memoryView",),
    "reportPanic": ("readText",),
    "describeCall": ("typeName",),
    "describeCallObjects": ("typeName",),
    "failure": ("describeCall",),
    "failureWithPanics": ("describeCall", "GuestPanic"),
    **_js_encoded.REQUIRES,
    **_js_objects.REQUIRES,
    **_js_callbacks.REQUIRES,
}

# Names js.py writes around the snippets above (module state, shims, the export
# list) and the declarations' own names (dts.py). tests/unit/codegen checks
# that generated glue uses no other name of its own.
_STATE_NAMES = (
    "MODULE",
    "PACKAGE",
    "NEEDED",
    "wasm",
    "memory",
    "returnArea",
    "loading",
    "linkImports",
    "types",
)
_WRITTEN_NAMES = {
    *_STATE_NAMES,
    *("supplied", "host", "error", "result", "retptr", "BigInt", "undefined"),
    *("self", "tag", "value", "free"),  # a method's object, result tags, errors, free()
    *TYPED_ARRAYS,
    *("module", "exports", "require", "__dirname", "__esModule"),
    *("InitInput", "InitOptions", "Imports", "Record", "ArrayBufferView", "Promise", "Error"),
}
_ALL_TEXT = "\n".join([*LIBRARY.values(), LOADING_TEXT])
_TOP_LEVEL = re.compile(r"^(?:async function|function|class|const|let)\s+([A-Za-z_$][\w$]*)", re.M)

# Every name the glue mentions: an export's top-level function must not take
# one, or it would shadow a helper or a global (`Uint8Array`) for the whole file.
GLUE_NAMES = frozenset(identifiers(_ALL_TEXT) | _WRITTEN_NAMES)

# What a shim or host function body refers to: top-level helpers and state,
# the globals js.py writes, its own `error` and `result`. Parameters avoid
# these; a parameter may be `text` or `len`, which only helpers use locally.
BODY_NAMES = frozenset(
    set(_TOP_LEVEL.findall(_ALL_TEXT))
    | {*_STATE_NAMES, "supplied", "host", "error", "result", "retptr", "BigInt", "undefined"}
    | TYPED_ARRAYS
)


def export_locals(names: list[str]) -> dict[str, str]:
    """The local JS name of each export: its own when free (``add``), else ``Object_``."""
    taken = set(GLUE_NAMES)
    return {name: js_identifier(name, taken) for name in sorted(names)}
