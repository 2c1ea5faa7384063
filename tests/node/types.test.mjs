// The shared vectors (tests/vectors/types.json) through the generated glue of the
// `types` fixture, one test per case, plus the glue's own behaviour. Run by
// tests/node/test_node.py, which builds the fixture and sets WASMBRIDGE_PKG.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { after, test } from "node:test";
import { pathToFileURL } from "node:url";

import { caseId, runCase } from "./vectors.mjs";

const pkg = process.env.WASMBRIDGE_PKG;
if (!pkg) throw new Error("set WASMBRIDGE_PKG to a pkg/ directory built from the types fixture");
const glueUrl = pathToFileURL(`${pkg}/types.js`);
const glue = await import(glueUrl);
const exports = await glue.default(); // no input: reads types.wasm beside types.js from disk
const signatures = JSON.parse(readFileSync(`${pkg}/signatures.json`, "utf-8"));
const vectors = JSON.parse(readFileSync(new URL("../vectors/types.json", import.meta.url), "utf-8"));

const outcomes = [];
for (const [index, testCase] of vectors.cases.entries()) {
  test(`vector ${index}: ${caseId(testCase)}`, () => {
    const { outcome, problem } = runCase(glue, signatures, testCase);
    outcomes[index] = outcome;
    assert.equal(problem, undefined);
  });
}

after(() => {
  if (process.env.WASMBRIDGE_OUTCOMES) {
    writeFileSync(process.env.WASMBRIDGE_OUTCOMES, JSON.stringify(outcomes));
  }
});

/** A fresh copy of the glue module (its own, not yet initialized, state). */
async function freshGlue(tag) {
  return import(`${glueUrl}?${tag}`);
}

test("init() resolves to the raw exports and is idempotent", async () => {
  assert.equal(await glue.default(), exports);
  assert.equal(await glue.init(), exports);
  assert.equal(exports.add(2, 3), 5);
});

test("calling an export before init() says to call init()", async () => {
  const fresh = await freshGlue("before-init");
  assert.throws(() => fresh.add(1, 2), {
    message: "types.wasm is not loaded yet: call `await init()` first",
  });
  assert.throws(() => fresh.echo_str("x"), /call `await init\(\)` first/);
});

test("init() takes bytes, a WebAssembly.Module, a file: URL or a Response", async () => {
  const bytes = readFileSync(`${pkg}/types.wasm`);
  const wasmUrl = pathToFileURL(`${pkg}/types.wasm`);
  const inputs = {
    bytes,
    module: new WebAssembly.Module(bytes),
    url: wasmUrl,
    promise: Promise.resolve(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)),
    response: new Response(bytes, { headers: { "Content-Type": "application/wasm" } }),
  };
  for (const [name, input] of Object.entries(inputs)) {
    const fresh = await freshGlue(`input-${name}`);
    await fresh.default(input);
    assert.equal(fresh.echo_str(name), name);
  }
});

test("a Response that is not application/wasm still loads, with one warning", async (t) => {
  const warn = t.mock.method(console, "warn", () => {});
  const fresh = await freshGlue("octet-stream");
  const bytes = readFileSync(`${pkg}/types.wasm`);
  await fresh.default(new Response(bytes, { headers: { "Content-Type": "application/octet-stream" } }));
  assert.equal(fresh.add(1, 1), 2);
  assert.equal(warn.mock.callCount(), 1);
  assert.match(warn.mock.calls[0].arguments[0], /serve \.wasm files as application\/wasm/);
});

test("a missing .wasm fails init() naming the file", async () => {
  const fresh = await freshGlue("missing");
  await assert.rejects(fresh.default(pathToFileURL(`${pkg}/nope.wasm`)), {
    message: /^types\.wasm: cannot load file:.*nope\.wasm: ENOENT/,
  });
  await fresh.default(); // a failed init() can be retried
  assert.equal(fresh.add(2, 2), 4);
});

test("unknown imports passed to init() are refused", async () => {
  const fresh = await freshGlue("unknown-import");
  await assert.rejects(fresh.default(undefined, { imports: { alert() {} } }), {
    message: "types.wasm does not import alert (it imports: nothing); check the names in init(input, { imports })",
  });
});

test("the CommonJS build works through require()", async () => {
  const require = createRequire(import.meta.url);
  const cjs = require(`${pkg}/types.cjs`);
  await cjs.default();
  assert.equal(cjs.echo_string("cjs 🦀"), "cjs 🦀");
  assert.equal(typeof cjs.init, "function");
});

test("errors name the call, the module and the guest's own text", () => {
  assert.throws(() => glue.checked_div(1, 0), (error) => {
    assert.ok(error instanceof glue.ReturnedError);
    assert.equal(error.message, "`checked_div(1, 0)` in types.wasm returned an error: division by zero");
    assert.equal(error.error, "division by zero");
    return true;
  });
  assert.throws(() => glue.panic_literal(), (error) => {
    assert.ok(error instanceof glue.GuestPanic);
    assert.match(error.message, /^`panic_literal\(\)` in types\.wasm panicked at src\/lib\.rs:\d+:\d+: boom$/);
    assert.ok(error.cause instanceof WebAssembly.RuntimeError);
    assert.ok(error.line > 0 && error.column > 0);
    return true;
  });
  assert.throws(() => glue.divide_by_zero_trap(7, 0), (error) => {
    assert.ok(error instanceof WebAssembly.RuntimeError);
    assert.equal(error.message, "`divide_by_zero_trap(7, 0)` in types.wasm: divide by zero");
    return true;
  });
});

test("wrong arguments are TypeError or RangeError naming function and parameter", () => {
  assert.throws(() => glue.add("5", 7), {
    name: "TypeError",
    message: "add() argument 'a': expected number (i32), got string",
  });
  assert.throws(() => glue.add(2 ** 31, 0), {
    name: "RangeError",
    message: "add() argument 'a': 2147483648 is not an i32 (an integer in -2147483648..2147483647)",
  });
  assert.throws(() => glue.echo_u8(1.5), { name: "RangeError" });
  assert.throws(() => glue.echo_i64(1), {
    message: "echo_i64() argument 'v': expected bigint (i64), got number",
  });
  assert.throws(() => glue.echo_u64(-1n), { name: "RangeError" });
  assert.throws(() => glue.echo_f32(1e39), { message: "echo_f32() argument 'v': 1e+39 is out of range for f32" });
  assert.throws(() => glue.echo_bool(1), { message: "echo_bool() argument 'v': expected boolean, got number" });
  assert.throws(() => glue.echo_str("\ud800"), {
    message: "echo_str() argument 's': the text has a lone surrogate, which UTF-8 cannot encode",
  });
  assert.throws(() => glue.echo_f32s(new Float64Array(1)), {
    message: "echo_f32s() argument 'v': expected Float32Array or Array, got Float64Array",
  });
  assert.throws(() => glue.fill([1, 2], 0), {
    message: "fill() argument 'buf': expected Uint8Array (written back), got Array",
  });
});

test("Option parameters take undefined and null alike", () => {
  assert.equal(glue.echo_opt_i32(null), undefined);
  assert.equal(glue.echo_opt_string(null), undefined);
  assert.equal(glue.opt_fill(null, 1), false);
});

test("slices take Arrays and any byte view; results are typed arrays", () => {
  assert.deepEqual(glue.echo_f64s([0.5, 2]), new Float64Array([0.5, 2]));
  assert.deepEqual(glue.echo_i64s([1n, -1n]), new BigInt64Array([1n, -1n]));
  assert.deepEqual(glue.echo_bytes([1, 2, 255]), new Uint8Array([1, 2, 255]));
  assert.deepEqual(glue.echo_bytes(new Uint16Array([0x0201]).buffer), new Uint8Array([1, 2]));
  assert.deepEqual(glue.echo_bytes(Buffer.from("hi")), new Uint8Array([104, 105]));
  const whole = new Uint8Array([9, 9, 1, 2, 3, 9]);
  glue.reverse(whole.subarray(2, 5)); // &mut [u8] writes back into just that window
  assert.deepEqual(whole, new Uint8Array([9, 9, 3, 2, 1, 9]));
});

test("views follow the memory when it grows during a call", () => {
  const before = glue.memory_pages();
  assert.ok(glue.grow_memory(4) >= 0);
  assert.equal(glue.memory_pages(), before + 4);
  const text = "grown ".repeat(50000);
  assert.equal(glue.echo_str(text), text);
  assert.equal(glue.alloc_many(200) >>> 0, glue.alloc_many(200) >>> 0);
});

test("many calls do not leak guest memory", () => {
  const pages = glue.memory_pages();
  const text = "é".repeat(4096);
  for (let i = 0; i < 2000; i++) {
    glue.echo_str(text);
    glue.echo_bytes(new Uint8Array(4096));
    glue.echo_f32s(new Float32Array(1024));
  }
  assert.ok(glue.memory_pages() <= pages + 2, `${glue.memory_pages()} pages after, ${pages} before`);
});
