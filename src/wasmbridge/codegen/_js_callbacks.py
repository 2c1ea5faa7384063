"""Hand-written JavaScript for callbacks: JS functions passed to a call (docs/abi-compound.md).

A function argument is lent to the guest under a fresh id for the length of
one call. The guest calls it through the SDK import ``wasmbridge.callback``
with the arguments encoded as one tuple; a result goes back encoded, in
memory the glue allocates and the guest then owns. An exception the
function throws passes through the guest and out of the call, unchanged.
"""

from __future__ import annotations

CALLBACKS: dict[str, str] = {
    "checkFunction": """\
function checkFunction(value, what) {
  if (typeof value !== "function") throw expected(value, what, "a function");
  return value;
}""",
    "lendCallback": """\
// The functions lent to calls still running, by the id the guest was given.
const callbacks = new Map();
let nextCallback = 1;

function lendCallback(fn, args, result, what) {
  const id = nextCallback;
  nextCallback = nextCallback === 0x7fffffff ? 1 : nextCallback + 1;
  callbacks.set(id, { fn, args, result, what });
  return id;
}""",
    "runCallback": """\
// wasmbridge.callback: the guest calls the function lent as `id`, its arguments at
// (ptr, len); the (ptr, len) of the result goes to `ret`. Wasm passes each as an i32.
function runCallback(id, ptr, len, ret) {
  const lent = callbacks.get(id >>> 0);
  if (lent === undefined) {
    throw new Error(
      `${MODULE} called function ${id >>> 0}, which no running call lent it (a bug in the module)`,
    );
  }
  const [at, size, result] = [ptr >>> 0, len >>> 0, ret >>> 0];
  if (lent.args !== undefined) checkInMemory(lent.what, "its arguments", at, size);
  if (lent.result !== undefined) checkInMemory(lent.what, "its result's (ptr, len)", result, 8);
  const what = `${lent.what} (its arguments)`;
  const args = lent.args === undefined ? [] : decodeBuffer(lent.args, at, size, what);
  const pointer = enterHost();
  let value;
  try {
    value = lent.fn(...args);
  } finally {
    leaveHost(pointer);
  }
  if (lent.result === undefined) return;
  const encoded = encode(lent.result, value, `${lent.what} (its result)`, "result");
  const placed = allocate(encoded.length, 8);
  memoryBytes().set(encoded.bytes.subarray(0, encoded.length), placed);
  const view = memoryView();
  view.setUint32(result, placed, true);
  view.setUint32(result + 4, encoded.length, true);
}

// The `size` bytes at `at` the guest named for a callback's `role` lie in its memory.
function checkInMemory(what, role, at, size) {
  const end = memoryBytes().length;
  if (at + size > end) {
    throw new RangeError(
      `${what}: ${MODULE} placed ${role} outside its memory (${size} bytes at ${at}, ` +
        `the memory has ${end}): a bug in the module`,
    );
  }
}""",
}

REQUIRES: dict[str, tuple[str, ...]] = {
    "checkFunction": ("expected",),
    "lendCallback": (),
    "runCallback": (
        "lendCallback",
        "decodeBuffer",
        "encode",
        "allocate",
        "memoryBytes",
        "memoryView",
        "enterHost",
    ),
}
