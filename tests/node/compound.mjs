// The shared vectors of modules with records, enums, classes, tuples, lists and char
// (tests/vectors/geo.json) through the generated JS glue. Plain ES module with no
// Node APIs: the Node tests and the Chromium page both use it.
//
// Values are decoded by interface type (interface.json, written by the pytest
// driver from the module's interface section): {"record": "Point", "fields": {...}}
// is a plain object, {"enum": "Shape", "case": "Square"} the number Shape.Square,
// {"tuple": [...]} an array, {"char": "x"} a string, a JSON array a list. What a
// call did is encoded back into the same notation (`outcome`), for comparison with
// what the Python runtime did.

import { decode as decodeScalar, encode as encodeScalar } from "./vectors.mjs";

const NUMBERS = new Set(["i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "f32", "f64"]);
const SEQUENCES = new Set(["slice", "vec", "mut_slice"]);
const CALLER_ERRORS = new Set(["TypeError", "ValueError", "OverflowError", "RangeError"]);

function isNumberList(type) {
  return SEQUENCES.has(type.kind) && NUMBERS.has(type.inner.kind);
}

/** Runs vector cases and scripts against one glue module (its namespace object). */
export class Harness {
  constructor(glue, iface) {
    this.glue = glue;
    this.iface = iface;
  }

  // -- vector notation -> JS ---------------------------------------------------------

  /** A vector value as the JS value of interface type `type`; `vars` names script objects. */
  toJs(value, type, vars = {}, nested = false) {
    const kind = type?.kind;
    if (value !== null && typeof value === "object" && "callback" in value) {
      return this.callback(value, type, vars);
    }
    if (kind === "option" || kind === "result" || kind === "result_value") {
      return value === null ? undefined : this.toJs(value, type.inner, vars, nested);
    }
    if (value === null) return undefined;
    if (typeof value === "object" && !Array.isArray(value)) {
      if ("record" in value) return this.record(value, vars);
      if ("enum" in value) return this.enumValue(value);
      if ("tuple" in value) {
        return value.tuple.map((item, i) => this.toJs(item, type?.items?.[i], vars, true));
      }
      if ("char" in value) return value.char;
      for (const key of ["var", "ref", "object"]) {
        if (typeof value[key] === "string" && value[key] in vars) return vars[value[key]];
      }
    }
    if (Array.isArray(value) && !(kind && isNumberList(type) && !nested)) {
      const item = type?.inner;
      return value.map((element) => this.toJs(element, item, vars, true));
    }
    if (Array.isArray(value)) return value.map((element) => decodeScalar(element, type.inner));
    return decodeScalar(value, type);
  }

  /** {"callback": "echo"} returns its first argument; {"callback": "returns", "values": [...]}
   * returns the i-th value on its i-th call (the last one after that; nothing for none). */
  callback(value, type, vars) {
    if (value.callback === "echo") return (first) => first;
    const results = (value.values ?? []).map((v) => this.toJs(v, type?.inner, vars, true));
    let calls = 0;
    return () => (results.length ? results[Math.min(calls++, results.length - 1)] : undefined);
  }

  record(value, vars) {
    const fields = this.iface.records[value.record];
    if (fields === undefined) throw new Error(`no record ${value.record} in the interface`);
    const out = {};
    for (const [name, type] of fields) {
      if (name in value.fields) out[name] = this.toJs(value.fields[name], type, vars, true);
    }
    for (const name of Object.keys(value.fields)) {
      if (!(name in out)) out[name] = value.fields[name]; // a field the record lacks: kept
    }
    return out;
  }

  enumValue(value) {
    const cases = this.iface.enums[value.enum];
    if (cases === undefined) throw new Error(`no enum ${value.enum} in the interface`);
    if ("value" in value) return value.value;
    const found = cases.find(([name]) => name === value.case);
    if (found === undefined) throw new Error(`no case ${value.case} in ${value.enum}`);
    return this.glue[value.enum][value.case];
  }

  // -- JS -> vector notation ---------------------------------------------------------

  /** What a call returned, in the vector notation (by interface type). */
  out(value, type, nested = false) {
    const kind = type?.kind;
    if (value === undefined || value === null) return null;
    if (kind === "option" || kind === "result" || kind === "result_value") {
      return this.out(value, type.inner, nested);
    }
    if (kind === "named") return this.outNamed(value, type.name);
    if (kind === "tuple") return { tuple: value.map((item, i) => this.out(item, type.items[i], true)) };
    if (kind === "char") return { char: value };
    if (SEQUENCES.has(kind) && (nested || !NUMBERS.has(type.inner.kind))) {
      return Array.from(value, (item) => this.out(item, type.inner, true));
    }
    return encodeScalar(value);
  }

  outNamed(value, name) {
    const fields = this.iface.records[name];
    if (fields !== undefined) {
      const out = {};
      for (const [field, type] of fields) out[field] = this.out(value[field], type, true);
      return { record: name, fields: out };
    }
    const cases = this.iface.enums[name];
    if (cases !== undefined) {
      const found = cases.find(([, discriminant]) => discriminant === value);
      return found === undefined ? { enum: name, value } : { enum: name, case: found[0] };
    }
    return { object: value?.constructor?.name ?? typeof value };
  }

  /** The outcome of a thrown error, in the form tests/web_compound.py gives Python's. */
  errorOutcome(error, resultType) {
    const glue = this.glue;
    if (glue.ReturnedError && error instanceof glue.ReturnedError) {
      if (error.value !== undefined) {
        return { error: "ReturnedError", value: this.out(error.value, { kind: "named", name: resultType.name }) };
      }
      return { error: "ReturnedError", message: error.error };
    }
    if (glue.GuestPanic && error instanceof glue.GuestPanic) {
      return { error: "GuestPanic", message: error.panicMessage, file: error.file };
    }
    if (glue.HandleError && error instanceof glue.HandleError) return { error: "HandleError" };
    if (error instanceof TypeError || error instanceof RangeError) return { error: "CallerError" };
    if (error instanceof WebAssembly.RuntimeError) return { error: "Trap" };
    throw error; // not an outcome any vector expects: let the test report it as it is
  }

  // -- running -----------------------------------------------------------------------

  /** `{ outcome, problem }`: problem is undefined when the case passes. */
  run(testCase) {
    if ("script" in testCase) return this.runScript(testCase.script);
    const signature = this.iface.functions[testCase.call];
    if (signature === undefined) return { outcome: null, problem: `no export ${testCase.call}` };
    const fn = (...args) => this.glue[testCase.call](...args);
    return this.step(fn, signature, testCase, {});
  }

  step(fn, signature, step, vars) {
    const args = (step.args ?? []).map((arg, i) => this.toJs(arg, signature.params[i], vars));
    let result;
    try {
      result = fn(...args);
    } catch (error) {
      const outcome = this.errorOutcome(error, signature.result);
      return { outcome, problem: this.wrongError(outcome, step, error), result: undefined };
    }
    const outcome = { value: this.out(result, signature.result) };
    if ("error" in step) {
      return { outcome, problem: `returned ${JSON.stringify(outcome.value)}, expected ${step.error}` };
    }
    if ("expect" in step) {
      const expected = this.out(this.toJs(step.expect, signature.result, vars), signature.result);
      if (JSON.stringify(outcome.value) !== JSON.stringify(expected)) {
        const got = JSON.stringify(outcome.value).slice(0, 300);
        return { outcome, problem: `returned ${got}, expected ${JSON.stringify(expected).slice(0, 300)}` };
      }
    }
    return { outcome, problem: undefined, result };
  }

  wrongError(outcome, step, error) {
    if (!("error" in step)) return `threw ${error}`;
    const wanted = step.error;
    if (CALLER_ERRORS.has(wanted)) return outcome.error === "CallerError" ? undefined : `threw ${error}`;
    if (outcome.error !== wanted) return `threw ${error}, expected ${wanted}`;
    if (wanted === "ReturnedError" && "value" in step) {
      const type = { kind: "named", name: step.value.record ?? step.value.enum };
      const expected = this.out(this.toJs(step.value, type), type);
      return JSON.stringify(outcome.value) === JSON.stringify(expected)
        ? undefined
        : `threw ${error} with value ${JSON.stringify(outcome.value)}, expected ${JSON.stringify(expected)}`;
    }
    for (const key of ["message", "file", "kind"]) {
      if (key in step && outcome[key] !== step[key]) {
        return `threw ${error}: ${key} ${JSON.stringify(outcome[key])}, expected ${JSON.stringify(step[key])}`;
      }
    }
    return undefined;
  }

  /** A class script: steps creating objects, calling methods, closing them. */
  runScript(steps) {
    const vars = {};
    const classes = {};
    const outcomes = [];
    for (const [index, step] of steps.entries()) {
      const found = this.resolve(step, vars, classes);
      if (typeof found === "string") return { outcome: outcomes, problem: `step ${index}: ${found}` };
      const { fn, signature } = found;
      const { outcome, problem, result } = this.step(fn, signature, step, vars);
      outcomes.push(outcome);
      if (problem !== undefined) return { outcome: outcomes, problem: `step ${index}: ${problem}` };
      if ("let" in step) {
        vars[step.let] = result;
        classes[step.let] = className(signature.result);
      }
    }
    return { outcome: outcomes, problem: undefined };
  }

  resolve(step, vars, classes) {
    const glue = this.glue;
    if ("close" in step) {
      const target = vars[step.close];
      return { fn: () => target.free(), signature: { params: [], result: { kind: "unit" } } };
    }
    if ("new" in step) {
      const methods = this.iface.classes[step.new];
      const constructor = Object.values(methods ?? {}).find((m) => m.receiver === "constructor");
      if (constructor === undefined) return `${step.new} has no constructor`;
      return { fn: (...args) => new glue[step.new](...args), signature: constructor };
    }
    if ("static" in step) {
      const signature = this.iface.classes[step.static]?.[step.call];
      if (signature === undefined) return `no ${step.static}.${step.call}`;
      return { fn: (...args) => glue[step.static][step.call](...args), signature };
    }
    if ("on" in step) {
      const target = vars[step.on];
      const signature = this.iface.classes[classes[step.on]]?.[step.call];
      if (signature === undefined) return `no method ${step.call} of ${step.on}`;
      return { fn: (...args) => target[step.call](...args), signature };
    }
    const signature = this.iface.functions[step.call];
    if (signature === undefined) return `no export ${step.call}`;
    return { fn: (...args) => glue[step.call](...args), signature };
  }
}

function className(type) {
  let t = type;
  while (t.inner !== undefined && t.kind !== "named") t = t.inner;
  return t.name;
}

/** The case's id, as tests/vector_values.py's case_id gives it. */
export function caseId(testCase) {
  if ("script" in testCase) {
    const first = testCase.script[0] ?? {};
    return `script ${first.new ?? first.static ?? first.call ?? ""}`;
  }
  return `${testCase.call}${JSON.stringify(testCase.args).slice(0, 40)}`;
}
