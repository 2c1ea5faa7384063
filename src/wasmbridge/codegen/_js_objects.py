"""Hand-written JavaScript for objects of exported classes (docs/abi-compound.md).

An object holds a *handle* to a value the guest keeps. The glue makes the
guarantees the guest relies on: a handle is used only by the instance that
made it, only for its class, never after ``free()`` or a move into the
guest, and never freed or moved while a call that borrows it runs. Breaking
one throws ``HandleError``. Objects nobody can reach any more are dropped
in the guest by a FinalizationRegistry, where the engine has one.

The state of each object lives in a WeakMap, not on the object, so a
method of any name cannot collide with it.
"""

from __future__ import annotations

OBJECTS: dict[str, str] = {
    "HandleError": """\
/** A class object that cannot be used: freed, moved into the module, or not its own. */
class HandleError extends Error {
  constructor(message) {
    super(message);
    this.name = "HandleError";
  }
}""",
    "objects": """\
// The state of every object of an exported class: its type, the guest's handle (0
// once freed or moved), how many running calls borrow it, and how it went.
const objects = new WeakMap();
// Marks the objects of every wasmbridge glue, so one of another module is told apart.
const GLUE_OBJECT = Symbol.for("wasmbridge.object");
// Objects that became unreachable are dropped in the guest (where the engine can tell).
const lost =
  typeof FinalizationRegistry === "function" ? new FinalizationRegistry(dropLost) : undefined;

function dropLost(state) {
  if (state.handle === 0) return;
  const handle = state.handle;
  state.handle = 0;
  state.gone = "dropped";
  wasm[state.type.drop](handle);
}""",
    "classType": """\
// An exported class: its name, its destructor export, its prototype; free() doubles
// as [Symbol.dispose]() where the engine has Symbol.dispose. Its objects carry the
// name as data, for error messages (Class.name may be a static method).
function classType(Class, name, drop) {
  Object.defineProperty(Class.prototype, GLUE_OBJECT, { value: MODULE });
  Object.defineProperty(Class.prototype, GLUE_CLASS, { value: name });
  if (typeof Symbol.dispose === "symbol") {
    Object.defineProperty(Class.prototype, Symbol.dispose, {
      value: Class.prototype.free,
      writable: true,
      configurable: true,
    });
  }
  return { name, drop, prototype: Class.prototype };
}""",
    "adoptAt": """\
// `object` now stands for the guest's value whose handle (never 0) is at `at` in the
// return area.
function adoptAt(object, type, at, what) {
  const handle = memoryView().getUint32(at, true);
  if (handle === 0) throw badData(what, `a null ${type.name} handle`);
  const state = { type, handle, busy: 0, gone: "" };
  objects.set(object, state);
  lost?.register(object, state, state);
  return object;
}""",
    "wrapAt": """\
// A new object for the handle the guest handed over at `at` in the return area.
function wrapAt(type, at, what) {
  return adoptAt(Object.create(type.prototype), type, at, what);
}""",
    "stateOf": """\
// The state of `object`, a live object of class `type` made by this instance.
function stateOf(object, type, what) {
  const state = objects.get(object);
  if (state?.type === type) {
    if (state.handle !== 0) return state;
    throw new HandleError(`${what}: this ${type.name} was ${state.gone} and cannot be used`);
  }
  if (state !== undefined) {
    throw new HandleError(`${what}: expected a ${type.name}, got a ${state.type.name}`);
  }
  const owner = object?.[GLUE_OBJECT];
  if (owner === MODULE) {
    throw new HandleError(
      `${what}: this ${typeName(object)} was not made by this instance of ${MODULE} ` +
        "(another copy of its glue?); pass one it made",
    );
  }
  if (owner !== undefined) {
    throw new HandleError(
      `${what}: expected a ${type.name} of ${MODULE}, got a ${typeName(object)} of ${owner}`,
    );
  }
  throw expected(object, what, `a ${type.name}`);
}""",
    "checkMove": """\
// An object a call moves into the guest: not while a call borrows it, and passed once.
function checkMove(state, others, what) {
  const name = state.type.name;
  if (state.busy > 0) {
    throw new HandleError(`${what}: this ${name} is in use by a call that has not returned`);
  }
  if (others.includes(state)) {
    throw new HandleError(`${what}: this ${name} is moved, so it cannot be passed twice`);
  }
}""",
    "spend": """\
// The handle of an object the guest takes over: the object is spent.
function spend(state, call) {
  const handle = state.handle;
  state.handle = 0;
  state.gone = `moved into ${MODULE} by ${call}()`;
  lost?.unregister(state);
  return handle;
}""",
    "release": """\
// free(): drops the guest's value now (once; later calls do nothing).
function release(object, type) {
  const what = `${type.name}.free()`;
  const state = objects.get(object);
  if (state?.type !== type) stateOf(object, type, what); // throws the reason
  if (state.handle === 0) return;
  if (state.busy > 0) {
    throw new HandleError(`${what}: a call on this ${type.name} has not returned yet`);
  }
  const handle = state.handle;
  state.handle = 0;
  state.gone = "freed";
  lost?.unregister(state);
  try {
    wasm[type.drop](handle);
  } catch (error) {
    throw failure(error, `${type.name}.free`, []);
  }
}""",
    "noConstructor": """\
// `new` on a class whose Rust type has no `new` function.
function noConstructor(name) {
  return new TypeError(
    `${name} has no constructor: ${MODULE} makes ${name} objects through its functions`,
  );
}""",
}

REQUIRES: dict[str, tuple[str, ...]] = {
    "HandleError": (),
    "objects": (),
    "classType": ("objects", "typeName"),
    "adoptAt": ("objects", "memoryView", "badData"),
    "wrapAt": ("adoptAt",),
    "stateOf": ("objects", "HandleError", "typeName", "expected"),
    "checkMove": ("HandleError",),
    "spend": ("objects",),
    "release": ("objects", "stateOf", "HandleError"),
    "noConstructor": (),
}
