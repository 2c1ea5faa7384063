// The `names` fixture (tests/fixtures/crates/names) through the generated glue:
// every export reached by its own name, whatever that name is (`new`, `Object`,
// `__proto__`, `init`, `größe`). Plain ES module with no Node APIs: the Node and
// Chromium checks of tests/integration/build/test_export_names.py both use it.

/** Whether an export is one of the fixture's `NAME(tag: &str) -> String`. */
function answers(signature) {
  const [param, ...rest] = signature.params;
  return rest.length === 0 && param?.kind === "str" && signature.result.kind === "string";
}

function show(value) {
  if (typeof value === "bigint") return `${value}n`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}[${Array.from(value)}]`;
  return JSON.stringify(value) ?? String(value);
}

/**
 * What went wrong calling every export of `glue` (an ES module namespace or a
 * CommonJS `module.exports`, already initialized), one line each; [] when nothing.
 */
export function checkNames(glue, signatures) {
  const problems = [];
  const check = (call, run, expected) => {
    try {
      const actual = run();
      if (show(actual) !== show(expected)) problems.push(`${call} gave ${show(actual)}`);
    } catch (error) {
      problems.push(`${call} threw ${error}`);
    }
  };
  const fails = (call, run, name, text) => {
    try {
      problems.push(`${call} gave ${show(run())}, not a ${name}`);
    } catch (error) {
      if (error.name !== name || !error.message.includes(text)) {
        problems.push(`${call} threw ${error.name}: ${error.message}`);
      }
    }
  };
  for (const [name, signature] of Object.entries(signatures)) {
    if (typeof glue[name] !== "function") {
      problems.push(`${name} is not exported (${typeof glue[name]})`);
    } else if (answers(signature)) {
      check(`${name}("t")`, () => glue[name]("t"), `${name}:t`);
    }
  }
  // Exactly the module's names, plus the glue's default export (init).
  const extra = Object.keys(glue).filter(
    (key) => !(key in signatures) && key !== "default" && key !== "__esModule",
  );
  if (extra.length > 0) problems.push(`exports beyond the module's: ${extra.join(", ")}`);
  if (typeof glue.default !== "function") problems.push("the default export is not init()");
  if (!Object.hasOwn(glue, "__proto__")) problems.push("__proto__ is no own export");

  // Parameters named like what the glue uses, with every kind of value.
  check("Uint8Array([1, 2, 3])", () => glue.Uint8Array(new Uint8Array([1, 2, 3])),
    new Uint8Array([3, 2, 1]));
  check('TextEncoder("a")', () => glue.TextEncoder("a", undefined), "a:-");
  check('TextEncoder("a", "b")', () => glue.TextEncoder("a", "b"), "a:b");
  check("memoryView(5n, 7)", () => glue.memoryView(5n, 7), 12n);
  check("memoryView(5n, null)", () => glue.memoryView(5n, null), undefined);
  check("Float64Array([1.5, 2])", () => glue.Float64Array([1.5, 2]), new Float64Array([1.5, 2]));
  check("BigInt(5n, false)", () => glue.BigInt(5n, false), 2n ** 64n - 5n);
  check("copyBack([1, 2], 3)", () => {
    const values = new Float64Array([1, 2]);
    glue.copyBack(values, 3);
    return values;
  }, new Float64Array([3, 6]));
  check('ReturnedError("fine")', () => glue.ReturnedError("fine"), "ReturnedError:fine");
  check("GuestPanic(1)", () => glue.GuestPanic(1), 2);
  // The glue's own error classes still work when exports take their names.
  fails('ReturnedError("error")', () => glue.ReturnedError("error"), "ReturnedError",
    '`ReturnedError("error")` in names.wasm returned an error: refused:error');
  fails("GuestPanic(0)", () => glue.GuestPanic(0), "GuestPanic",
    "GuestPanic was asked to panic");
  fails('len(5)', () => glue.len(5), "TypeError",
    "len() argument 'tag': expected string, got number");
  return problems;
}
