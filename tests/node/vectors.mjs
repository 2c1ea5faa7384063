// The shared test vectors (tests/vectors/*.json) through the generated JS glue.
// Plain ES module with no Node APIs: the Node tests and the Chromium page both use it.
//
// Values are decoded by the parameter's interface type (signatures.json, written
// by the pytest driver from the module's interface section), so a u64 given as a
// plain JSON number still crosses as a bigint. `outcome` encodes what a call did in
// the form tests/vector_values.py's `encode_outcome` gives for Python, for direct
// comparison between hosts.

const ARRAYS = {
  i8: Int8Array,
  u8: Uint8Array,
  i16: Int16Array,
  u16: Uint16Array,
  i32: Int32Array,
  u32: Uint32Array,
  i64: BigInt64Array,
  u64: BigUint64Array,
  f32: Float32Array,
  f64: Float64Array,
};
const FLOATS = { nan: NaN, inf: Infinity, "-inf": -Infinity, "-0": -0 };
const LARGE = 4096; // values longer than this are compared by size and checksum
// V8's trap messages -> the trap kinds the vectors name (wasmtime's).
const TRAP_KINDS = {
  "divide by zero": "integer_division_by_zero",
  "divide result unrepresentable": "integer_overflow",
  unreachable: "unreachable",
  "memory access out of bounds": "memory_out_of_bounds",
  "float unrepresentable in integer range": "bad_conversion_to_integer",
};

function hexBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function repeatBytes(unit, count) {
  const one = hexBytes(unit);
  const out = new Uint8Array(one.length * count);
  for (let i = 0; i < count; i++) out.set(one, i * one.length);
  return out;
}

function isWide(type) {
  return type?.kind === "i64" || type?.kind === "u64";
}

/** A vector value as the JS value passed to or expected from a call of interface `type`. */
export function decode(value, type) {
  if (type?.kind === "option" || type?.kind === "result") {
    return value === null ? undefined : decode(value, type.inner);
  }
  if (value === null) return undefined;
  if (typeof value === "number") return isWide(type) ? BigInt(value) : value;
  if (typeof value !== "object") return value;
  if ("int" in value) return isWide(type) ? BigInt(value.int) : Number(value.int);
  if ("float" in value) return FLOATS[value.float];
  if ("bytes" in value) return hexBytes(value.bytes);
  if ("bytes_repeat" in value) return repeatBytes(...value.bytes_repeat);
  if ("text_repeat" in value) return value.text_repeat[0].repeat(value.text_repeat[1]);
  if ("array" in value) {
    const element = { kind: value.array };
    return ARRAYS[value.array].from(value.values, (item) => decode(item, element));
  }
  if ("mut" in value) return decode(value.mut, type);
  throw new Error(`unknown vector value ${JSON.stringify(value)}`);
}

/** Equality where NaN equals NaN, -0 differs from 0, and typed arrays compare by kind and items. */
export function same(actual, expected) {
  if (ArrayBuffer.isView(expected)) {
    return (
      ArrayBuffer.isView(actual) &&
      actual.constructor === expected.constructor &&
      actual.length === expected.length &&
      actual.every((item, i) => Object.is(item, expected[i]))
    );
  }
  return Object.is(actual, expected);
}

function fnv1a(bytes) {
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, "0");
}

function large(kind, bytes) {
  return { large: kind, size: bytes.length, fnv1a: fnv1a(bytes) };
}

/** A call's result in the hosts' common form (see tests/vector_values.py, encode_value). */
export function encode(value) {
  if (value === undefined) return null;
  if (typeof value === "bigint") return { int: String(value) };
  if (typeof value === "number") {
    if (Number.isNaN(value)) return { float: "nan" };
    if (Object.is(value, -0)) return { float: "-0" };
    if (!Number.isFinite(value)) return { float: value > 0 ? "inf" : "-inf" };
    return value;
  }
  if (typeof value === "string") {
    return value.length > LARGE ? large("text", new TextEncoder().encode(value)) : value;
  }
  if (value instanceof Uint8Array) {
    if (value.length > LARGE) return large("bytes", value);
    return { bytes: Array.from(value, (b) => b.toString(16).padStart(2, "0")).join("") };
  }
  if (ArrayBuffer.isView(value)) {
    const kind = Object.keys(ARRAYS).find((k) => ARRAYS[k] === value.constructor);
    return { array: kind, values: Array.from(value, encode) };
  }
  return value;
}

function trapKind(error) {
  const text = error.message.split(": ").at(-1);
  return TRAP_KINDS[text] ?? text;
}

function encodeError(glue, error) {
  if (glue.ReturnedError && error instanceof glue.ReturnedError) {
    return { error: "ReturnedError", message: error.error };
  }
  if (glue.GuestPanic && error instanceof glue.GuestPanic) {
    return { error: "GuestPanic", message: error.panicMessage, file: error.file };
  }
  if (error instanceof WebAssembly.RuntimeError) return { error: "Trap", kind: trapKind(error) };
  throw error; // not an outcome any vector expects: let the test report it as it is
}

function expectedError(testCase) {
  const { error, message, file, kind } = testCase;
  if (error === "ReturnedError") return { error, message };
  if (error === "GuestPanic") return { error, message, file };
  return { error, kind };
}

/**
 * Runs one vector case through `glue` (the module namespace); returns
 * `{ outcome, problem }` where `problem` is undefined when the case passes.
 */
export function runCase(glue, signatures, testCase) {
  const signature = signatures[testCase.call];
  if (signature === undefined) return { outcome: null, problem: `no export ${testCase.call}` };
  const args = testCase.args.map((arg, i) => decode(arg, signature.params[i]));
  let result;
  try {
    result = glue[testCase.call](...args);
  } catch (error) {
    const outcome = encodeError(glue, error);
    const wanted = expectedError(testCase);
    const problem =
      "error" in testCase && JSON.stringify(outcome) === JSON.stringify(wanted)
        ? undefined
        : `threw ${error}`;
    return { outcome, problem };
  }
  const outcome = { value: encode(result) };
  if ("error" in testCase) return { outcome, problem: `returned ${result}, expected ${testCase.error}` };
  const expected = decode(testCase.expect, signature.result);
  if (!same(result, expected)) {
    return { outcome, problem: `returned ${String(result).slice(0, 200)}, expected ${String(expected).slice(0, 200)}` };
  }
  if ("after" in testCase) {
    const [index, after] = testCase.after;
    outcome.after = encode(args[index]);
    if (!same(args[index], decode(after, signature.params[index]))) {
      return { outcome, problem: `argument ${index} is ${args[index]} after the call` };
    }
  }
  return { outcome, problem: undefined };
}

/** The case's id, as tests/vector_values.py's case_id gives it. */
export function caseId(testCase) {
  return `${testCase.call}${JSON.stringify(testCase.args).slice(0, 40)}`;
}
