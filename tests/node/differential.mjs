// The randomized differential sequences (tests/differential_helpers.py) through the
// generated Node glue of the `diffcrate` fixture: each sequence on ONE instance, each
// call checked against Node's own zlib, crypto and Buffer (not against Python), and
// each call's fingerprint written out so the pytest driver can compare the two hosts.
//
// Run by tests/integration/runtime/test_differential.py with
//   WASMBRIDGE_PKG        pkg/ holding diffcrate.js, diffcrate.wasm, signatures.json
//   WASMBRIDGE_DIFF_DIR   NAME.json (the calls) + NAME.bin (their buffers) per sequence;
//                         NAME.out.json (fingerprints) is written beside them
//   WASMBRIDGE_DIFF_NAMES the sequences to run, comma-separated
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { inflateSync } from "node:zlib";

const pkg = process.env.WASMBRIDGE_PKG;
const dir = process.env.WASMBRIDGE_DIFF_DIR;
const names = (process.env.WASMBRIDGE_DIFF_NAMES ?? "").split(",").filter(Boolean);
if (!pkg || !dir) throw new Error("set WASMBRIDGE_PKG and WASMBRIDGE_DIFF_DIR");
const glueUrl = pathToFileURL(`${pkg}/diffcrate.js`);
const signatures = JSON.parse(readFileSync(`${pkg}/signatures.json`, "utf-8"));

// -- references: Node's own implementations ------------------------------------------

class Err {
  constructor(message) {
    this.message = message; // undefined: any non-empty message
  }
}

const u8 = (bytes) => new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);

function inflate(data) {
  try {
    return u8(inflateSync(data));
  } catch {
    return new Err();
  }
}

function b64decode(text) {
  const bytes = Buffer.from(text, "base64"); // lenient: valid only if it encodes back
  return bytes.toString("base64") === text ? u8(bytes) : new Err();
}

const CRC_TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

function crc32(data) {
  let crc = -1;
  for (const byte of data) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

function adler32(data) {
  let a = 1;
  let b = 0;
  for (let i = 0; i < data.length; i += 4096) {
    for (const byte of data.subarray(i, i + 4096)) {
      a += byte;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

const digest = (data) => u8(createHash("sha256").update(data).digest());
const chars = (text) => Array.from(text);
const fold = (values) => values.reduce((acc, x) => acc + x, 0);
const fatalUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function utf8Chars(data) {
  try {
    return chars(fatalUtf8.decode(data)).length;
  } catch {
    return new Err("invalid utf-8");
  }
}

function parseU64(text) {
  if (!/^\+?[0-9]+$/.test(text)) return new Err("not a u64");
  const value = BigInt(text.replace("+", ""));
  return value < 2n ** 64n ? value : new Err("not a u64");
}

function xor(data, key) {
  return key.length ? data.map((byte, i) => byte ^ key[i % key.length]) : data;
}

function xorChanged(data, key) {
  let changed = 0;
  for (let i = 0; key.length && i < data.length; i++) changed += key[i % key.length] !== 0;
  return changed;
}

function negate(values) {
  const after = values.map((x) => -x | 0);
  let sum = 0n;
  for (const x of after) sum += BigInt(x);
  return { value: sum, after: { 0: after } };
}

function bigSum(values) {
  let sum = 0n;
  for (const x of values) sum += BigInt(x);
  return sum;
}

function checkedDiv(a, b) {
  if (b === 0) return new Err("division by zero");
  if (a === -(2 ** 31) && b === -1) return new Err("overflow");
  return Math.trunc(a / b) | 0; // | 0: -0 is 0, as for Rust's i32
}

const byValue = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
const wrap = (bits, signed) => (v) =>
  Number(signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v));
const concat = (...parts) => u8(Buffer.concat(parts));
const shorter = (a, b) => a.subarray(0, Math.min(a.length, b.length));

const REFERENCES = {
  b64_encode: (data) => Buffer.from(data).toString("base64"),
  b64_decode: b64decode,
  zlib_compress: (data) => data, // checked by inflating the result
  zlib_decompress: inflate,
  sha256: digest,
  hmac_sha256: (key, msg) => u8(createHmac("sha256", key).update(msg).digest()),
  crc32,
  adler32,
  maybe_crc32: (data) => (data == null ? undefined : crc32(data)),
  upper: (s) => s.toUpperCase(),
  reverse_chars: (s) => chars(s).reverse().join(""),
  find: (h, n) => (h.indexOf(n) < 0 ? undefined : chars(h.slice(0, h.indexOf(n))).length),
  split_count: (s, sep) => (sep == null ? s.split(/\s+/).filter(Boolean) : s.split(sep)).length,
  repeat: (s, n) => s.repeat(n),
  greet: (name) => (name == null ? "Hello!" : `Hello, ${name}!`),
  utf8_chars: utf8Chars,
  is_ascii: (s) => /^[\x00-\x7f]*$/.test(s),
  parse_u64: parseU64,
  version: () => "diffcrate 1",
  reverse_bytes: (data) => ({ value: undefined, after: { 0: data.slice().reverse() } }),
  xor_with: xor,
  xor_into: (data, key) => ({ value: xorChanged(data, key), after: { 0: xor(data, key) } }),
  concat3: (a, s, b) => concat(a, Buffer.from(s, "utf-8"), b),
  take: (data, n) => (n <= data.length ? data.slice(0, n) : undefined),
  starts_with: (data, prefix) =>
    prefix.length <= data.length && Buffer.from(data.subarray(0, prefix.length)).equals(prefix),
  sum_i32: bigSum,
  sum_f64: (v) => fold(Array.from(v)),
  sum_bytes: bigSum,
  sum_u32: bigSum,
  zip_add: (a, b) => BigInt64Array.from(shorter(a, b), (x, i) => BigInt(x) + BigInt(b[i])),
  dot: (a, b) => Array.from(shorter(a, b)).reduce((acc, x, i) => acc + x * b[i], 0),
  scale: (v, factor) => v.map((x) => x * Math.fround(factor)),
  negate_i32: negate,
  sorted: (v) => Float64Array.from(Array.from(v).sort(byValue)),
  range_i32: (start, n) => Int32Array.from({ length: n }, (_, i) => (start + i) | 0),
  words: (data) => new Uint32Array(data.slice(0, data.length - (data.length % 4)).buffer),
  mul_f32: (a, b) => Math.fround(Math.fround(a) * Math.fround(b)),
  mix_ints: (...args) => {
    const sum = args.slice(0, 8).reduce((acc, x) => acc + BigInt(x), 0n);
    return BigInt.asUintN(64, args[8] ? -sum : sum);
  },
  wrap_i8: wrap(8, true),
  wrap_u8: wrap(8, false),
  wrap_i16: wrap(16, true),
  wrap_u16: wrap(16, false),
  wrap_i32: wrap(32, true),
  wrap_u32: wrap(32, false),
  half: (v) => (v == null || v % 2n !== 0n ? undefined : v / 2n),
  checked_div: checkedDiv,
};

// -- arguments: decoded by the parameter's type, presented in one of JS's forms ------

const ARRAYS = {
  u8: Uint8Array,
  i32: Int32Array,
  u32: Uint32Array,
  i64: BigInt64Array,
  f64: Float64Array,
};
const GUARD = 3; // elements either side of a subarray

function stored(blob, [offset, length], Kind = Uint8Array) {
  const bytes = new Uint8Array(blob.subarray(offset, offset + length)); // a copy, aligned
  return new Kind(bytes.buffer, 0, length / Kind.BYTES_PER_ELEMENT);
}

/** The plain value (as the reference sees it) of an encoded argument. */
function plain(arg, type, blob) {
  if (arg === null) return undefined;
  if (typeof arg !== "object") return arg;
  const kind = unwrapped(type).kind;
  if ("int" in arg) return kind === "i64" || kind === "u64" ? BigInt(arg.int) : Number(arg.int);
  if ("text" in arg) return new TextDecoder().decode(stored(blob, arg.text));
  if ("bytes" in arg) return stored(blob, arg.bytes);
  return stored(blob, arg.at, ARRAYS[arg.array]);
}

function guarded(values, view) {
  const whole = new values.constructor(values.length + 2 * GUARD).fill(view % 2 ? 0x5a : 7);
  whole.set(values, GUARD);
  return { whole, before: whole.slice(), part: whole.subarray(GUARD, GUARD + values.length) };
}

/** How a call receives `value`: { arg, after() , intact() }. */
function present(value, type, view) {
  const kind = unwrapped(type).kind;
  if (value === undefined) return { arg: view % 2 ? null : undefined };
  if (!["slice", "vec", "mut_slice"].includes(kind)) return { arg: value };
  const bytes = value instanceof Uint8Array;
  if (kind === "mut_slice") {
    if (view % 3 === 0) {
      const copy = value.slice();
      return { arg: copy, after: () => copy, intact: () => true };
    }
    const { whole, before, part } = guarded(value, view);
    const inside = (i) => i >= GUARD && i < GUARD + part.length;
    const intact = () => whole.every((x, i) => inside(i) || Object.is(x, before[i]));
    const buffer = bytes && view % 3 === 2; // a Buffer over the same memory
    const arg = buffer ? Buffer.from(part.buffer, part.byteOffset, part.length) : part;
    return { arg, after: () => part.slice(), intact };
  }
  const forms = bytes
    ? [() => value.slice(), () => Buffer.from(value), () => guarded(value, view).part,
       () => (value.length <= 4096 ? Array.from(value) : value.slice()),
       () => new DataView(value.slice().buffer), () => value.slice().buffer]
    : [() => value.slice(), () => guarded(value, view).part,
       () => (value.length <= 4096 ? Array.from(value) : value.slice())];
  return { arg: forms[view % forms.length]() };
}

// -- comparing and fingerprints --------------------------------------------------------

const bytesOf = (view) => new Uint8Array(view.buffer, view.byteOffset, view.byteLength);

function same(actual, expected) {
  if (ArrayBuffer.isView(expected)) {
    if (!ArrayBuffer.isView(actual) || actual.constructor !== expected.constructor) return false;
    if (actual.length !== expected.length) return false;
    if (expected instanceof Float64Array) return actual.every((x, i) => Object.is(x, expected[i]));
    return Buffer.compare(bytesOf(actual), bytesOf(expected)) === 0;
  }
  return Object.is(actual, expected);
}

function describe(actual, expected) {
  if (ArrayBuffer.isView(actual) && ArrayBuffer.isView(expected)) {
    const first = actual.findIndex((x, i) => !Object.is(x, expected[i]));
    const shape = (v) => `${v.constructor.name}[${v.length}]`;
    return `got ${shape(actual)}, expected ${shape(expected)}, first difference at ${first}`;
  }
  if (typeof actual === "string" && typeof expected === "string") {
    const [got, want] = [Array.from(actual), Array.from(expected)];
    const found = got.findIndex((ch, i) => ch !== want[i]);
    const first = found < 0 ? Math.min(got.length, want.length) : found;
    const near = (text) => JSON.stringify(text.slice(first, first + 8).join(""));
    return (
      `got string[${actual.length}], expected string[${expected.length}], first difference ` +
      `at character ${first}: got ${near(got)}, expected ${near(want)}`
    );
  }
  const show = (v) => (typeof v === "string" && v.length > 40 ? `string[${v.length}]` : String(v));
  return `got ${show(actual)}, expected ${show(expected)}`;
}

const hash = (bytes) => createHash("sha256").update(bytes).digest("hex").slice(0, 24);
const KINDS = new Map([
  [Uint8Array, "b"],
  [Int32Array, "i32"],
  [Uint32Array, "u32"],
  [BigInt64Array, "i64"],
  [Float64Array, "f64"],
]);
const unwrapped = (type) => (type.kind === "option" || type.kind === "result" ? type.inner : type);
const isFloat = (type) => ["f32", "f64"].includes(unwrapped(type).kind);

/** A value in the form tests/differential_helpers.py's `canonical` gives the Python one. */
function canonical(value, type) {
  if (value === undefined) return "none";
  if (typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (typeof value === "number") {
    if (!isFloat(type)) return String(value);
    if (Number.isNaN(value)) return "nan";
    return `f${Buffer.from(new Float64Array([value]).buffer).toString("hex")}`;
  }
  if (typeof value === "string") return `s${hash(Buffer.from(value, "utf-8"))}`;
  const kind = KINDS.get(value.constructor);
  const data = kind === "f64" ? value.map((x) => (Number.isNaN(x) ? NaN : x)) : value;
  return kind + hash(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

// -- one call, checked ------------------------------------------------------------------

function check(glue, testCase, blob) {
  const signature = signatures[testCase.op];
  const values = testCase.args.map((arg, i) => plain(arg, signature.params[i], blob));
  const held = values.map((v, i) => present(v, signature.params[i], testCase.view + 7 * i));
  let expected = REFERENCES[testCase.op](...values);
  if (!(expected instanceof Err) && !(expected?.after)) expected = { value: expected, after: {} };
  let value;
  let error;
  try {
    value = glue[testCase.op](...held.map((h) => h.arg));
  } catch (e) {
    if (!(e instanceof glue.ReturnedError)) throw e;
    error = e.error;
  }
  const afters = Object.fromEntries(held.flatMap((h, i) => (h.after ? [[i, h.after()]] : [])));
  const head = error === undefined ? canonical(value, signature.result) : `err:${error}`;
  const after = ([i, v]) => ` after${i}:${canonical(v, signature.params[i])}`;
  const tail = Object.entries(afters).map(after);
  const found = problem(testCase, expected, value, error, afters, held);
  return { print: head + tail.join(""), problem: found };
}

function problem(testCase, expected, value, error, afters, held) {
  if (expected instanceof Err) {
    if (error === undefined) return "expected ReturnedError, got a value";
    if (error && (expected.message === undefined || error === expected.message)) return undefined;
    return `ReturnedError ${JSON.stringify(error)}, expected ${expected.message ?? "a message"}`;
  }
  if (error !== undefined) return `unexpected ReturnedError ${error}`;
  const got = testCase.op === "zlib_compress" ? inflate(value) : value;
  if (!same(got, expected.value)) return `result ${describe(got, expected.value)}`;
  for (const [i, after] of Object.entries(expected.after)) {
    if (!same(afters[i], after)) return `argument ${i} afterwards: ${describe(afters[i], after)}`;
  }
  if (held.every((h) => !h.intact || h.intact())) return undefined;
  return "bytes around a &mut subarray were overwritten";
}

function short(arg) {
  if (arg === null || typeof arg !== "object") return String(arg);
  if ("int" in arg) return arg.int;
  if ("text" in arg) return `text[${arg.text[1]} B]`;
  if ("bytes" in arg) return `bytes[${arg.bytes[1]}]`;
  return `${arg.array}[${arg.at[1]} B]`;
}

const summary = (c) => `${c.op}(${c.args.map(short).join(", ")}) view ${c.view}`;

for (const name of names) {
  test(`sequence ${name}: every call equals Node's references`, async () => {
    const glue = await import(`${glueUrl}?${name}`); // a fresh module: one instance per sequence
    await glue.default();
    const cases = JSON.parse(readFileSync(`${dir}/${name}.json`, "utf-8"));
    const blob = readFileSync(`${dir}/${name}.bin`);
    const prints = [];
    const recent = [];
    try {
      for (const testCase of cases) {
        let result;
        try {
          result = check(glue, testCase, blob);
        } catch (e) {
          result = { problem: `threw ${e?.constructor?.name}: ${e?.message}` };
        }
        if (result.problem !== undefined) {
          const { seed, step } = testCase;
          assert.fail(
            `differential failure at seed ${seed}, step ${step}: ${summary(testCase)}\n` +
              `  ${result.problem}\n  the calls before it on this instance:\n` +
              recent.map((line) => `    ${line}\n`).join(""),
          );
        }
        prints.push(result.print);
        recent.push(`step ${testCase.step}: ${summary(testCase)}`);
        if (recent.length > 6) recent.shift();
      }
    } finally {
      writeFileSync(`${dir}/${name}.out.json`, JSON.stringify(prints));
    }
  });
}
