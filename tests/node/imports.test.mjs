// The `imports` fixture: its exports call host functions written in JS, through
// the generated glue's import object. Run by tests/node/test_node.py.
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { pathToFileURL } from "node:url";

const pkg = process.env.WASMBRIDGE_PKG;
if (!pkg) throw new Error("set WASMBRIDGE_PKG to a pkg/ directory built from the imports fixture");
const glueUrl = pathToFileURL(`${pkg}/imports.js`);
const glue = await import(glueUrl);

class HostFailure extends Error {}

const logged = [];
const received = {};
const host = {
  host_add: (a, b) => a + b,
  host_upper: (text) => text.toUpperCase(),
  host_bytes: (data) => data.slice().reverse(),
  host_fill: (buf) => {
    received.fill = buf.constructor.name;
    buf.fill(7);
  },
  host_f64: (x) => x * 2,
  host_f32: (x) => x / 2,
  host_i64: (x) => x - 1n,
  host_u64: (x) => x,
  host_u8: (x) => x + 1,
  host_i16: (x) => -x,
  host_opt: (x) => (x === undefined ? undefined : x * 10),
  host_opt_text: (text) => (text === undefined ? null : `<${text}>`),
  host_floats: (values) => values.map((x) => x * 2),
  host_bool: (b) => !b,
  host_take: (text) => text.length,
  host_take_vec: (values) => values.reduce((sum, x) => sum + x, 0),
  host_log: (message) => logged.push(message),
  host_fail: (code) => {
    if (code !== 0) throw new HostFailure(`host failed with ${code}`);
    return code;
  },
  "host.now": () => 1234.5,
  "host.random-bytes": (n) => new Uint8Array(n).fill(0xab),
};

before(async () => {
  await glue.default(undefined, { imports: host });
});

test("numbers cross both ways with their types", () => {
  assert.equal(glue.call_add(2, 3), 5);
  assert.equal(glue.call_f64(1.5), 3);
  assert.equal(glue.call_f32(3), 1.5);
  assert.equal(glue.call_i64(-5n), -6n);
  assert.equal(glue.call_u64(2n ** 64n - 1n), 2n ** 64n - 1n);
  assert.equal(glue.call_u8(254), 255);
  assert.equal(glue.call_i16(-7), 7);
  assert.equal(glue.call_bool(true), false);
  assert.equal(glue.call_now(), 1234.5);
});

test("text and buffers reach the host as strings and typed arrays", () => {
  assert.equal(glue.call_upper("héllo 🦀"), "HÉLLO 🦀");
  assert.deepEqual(glue.call_bytes(new Uint8Array([1, 2, 3])), new Uint8Array([3, 2, 1]));
  assert.deepEqual(glue.call_floats(new Float32Array([1, 2.5])), new Float32Array([2, 5]));
  assert.equal(glue.call_take("🦀"), 2); // String.length counts UTF-16 units
  assert.equal(glue.call_take_vec([1, 2, 3]), 6);
  assert.deepEqual(glue.call_random_bytes(3), new Uint8Array([0xab, 0xab, 0xab]));
  assert.equal(glue.round_trip("abc"), "ABCCBA");
  glue.call_log("logged 🦀");
  assert.deepEqual(logged, ["logged 🦀"]);
});

test("a host function's changes to a &mut buffer reach the guest", () => {
  assert.deepEqual(glue.call_fill(4), new Uint8Array([7, 7, 7, 7]));
  assert.equal(received.fill, "Uint8Array");
  assert.deepEqual(glue.call_fill(0), new Uint8Array([]));
});

test("Option crosses as undefined (null accepted from the host)", () => {
  assert.equal(glue.call_opt(undefined), undefined);
  assert.equal(glue.call_opt(4), 40);
  assert.equal(glue.call_opt_text("a"), "<a>");
  assert.equal(glue.call_opt_text(undefined), undefined);
});

test("a host function's exception comes out of the call unchanged", () => {
  assert.equal(glue.call_fail(0), 1);
  assert.throws(() => glue.call_fail(3), (error) => {
    assert.ok(error instanceof HostFailure);
    assert.equal(error.message, "host failed with 3");
    return true;
  });
  assert.equal(glue.call_add(1, 1), 2); // the instance still works
});

test("a host function's wrong result is refused, naming it", () => {
  assert.throws(() => glue.call_u8(255), {
    name: "RangeError",
    message: "the result of host function `host_u8`: 256 is not an u8 (an integer in 0..255)",
  });
});

test("missing host functions fail init() naming each one", async () => {
  const fresh = await import(`${glueUrl}?missing`);
  const { host_add, host_upper, ...rest } = host;
  await assert.rejects(fresh.default(undefined, { imports: rest }), {
    message:
      "imports.wasm needs host functions it was not given: host_add (`host_add(a: i32, b: i32) -> i32`), " +
      "host_upper (`host_upper(text: &str) -> String`); pass them as " +
      "init(input, { imports: { name: function } }) or define globals of those names",
  });
});

test("host functions default to the globals of the same name", async () => {
  const fresh = await import(`${glueUrl}?globals`);
  const { "host.now": now, "host.random-bytes": randomBytes, ...plain } = host;
  Object.assign(globalThis, plain, { host: { now, "random-bytes": randomBytes } });
  try {
    await fresh.default();
    assert.equal(fresh.call_add(20, 22), 42);
    assert.equal(fresh.call_now(), 1234.5);
  } finally {
    for (const name of [...Object.keys(plain), "host"]) delete globalThis[name];
  }
});

test("an export called from inside a host function works (re-entrancy)", async () => {
  const fresh = await import(`${glueUrl}?reentrant`);
  const inner = { ...host, host_add: (a, b) => fresh.call_u8(a) + b };
  await fresh.default(undefined, { imports: inner });
  assert.equal(fresh.call_add(1, 10), 12);
  assert.equal(fresh.round_trip("x"), "XX");
});
