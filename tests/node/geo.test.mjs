// The `geo` fixture (records, enums, classes, tuples, lists, char, typed errors)
// through the generated glue: every shared vector (tests/vectors/geo.json), then the
// glue's own behaviour. Run by tests/node/test_node_geo.py with `node --expose-gc`,
// which builds the fixture and sets WASMBRIDGE_PKG and WASMBRIDGE_VECTORS.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { after, test } from "node:test";
import { pathToFileURL } from "node:url";

import { Harness, caseId } from "./compound.mjs";

const pkg = process.env.WASMBRIDGE_PKG;
if (!pkg) throw new Error("set WASMBRIDGE_PKG to a pkg/ directory built from the geo fixture");
const glueUrl = pathToFileURL(`${pkg}/geo.js`);
const geo = await import(glueUrl);
await geo.default();
const iface = JSON.parse(readFileSync(`${pkg}/interface.json`, "utf-8"));
const vectors = JSON.parse(readFileSync(process.env.WASMBRIDGE_VECTORS, "utf-8"));
const harness = new Harness(geo, iface);

const outcomes = [];
for (const [index, testCase] of vectors.cases.entries()) {
  test(`vector ${index}: ${caseId(testCase)}`, () => {
    const { outcome, problem } = harness.run(testCase);
    outcomes[index] = outcome;
    assert.equal(problem, undefined);
  });
}

after(() => {
  if (process.env.WASMBRIDGE_OUTCOMES) {
    writeFileSync(process.env.WASMBRIDGE_OUTCOMES, JSON.stringify(outcomes));
  }
});

const { Counter, Level, Shape, Token } = geo;
const origin = { x: 0, y: 0 };

// -- records -----------------------------------------------------------------------

test("records cross as plain objects, nested, in arrays and optional", () => {
  assert.deepEqual(geo.mid(origin, { x: 2, y: 4 }), { x: 1, y: 2 });
  assert.deepEqual(geo.bounding([{ x: 1, y: 5 }, { x: -1, y: 2 }]), {
    min: { x: -1, y: 2 },
    max: { x: 1, y: 5 },
  });
  assert.equal(geo.bounding([]), undefined);
  assert.equal(geo.echo_point(null), undefined);
  assert.equal(geo.echo_point(undefined), undefined);
  assert.deepEqual(geo.echo_point({ x: 3, y: 4 }), { x: 3, y: 4 });
  const feature = { name: "f", tags: ["a", "ü"], span: [3, 4.5], shape: Shape.Triangle };
  assert.deepEqual(geo.echo_feature(feature), { ...feature, anchor: undefined });
  assert.equal(geo.describe({ ...feature, anchor: { x: 1, y: 2 } }), "f: a,ü @ (1, 2)");
  assert.equal(Object.getPrototypeOf(geo.mid(origin, origin)), Object.prototype);
});

test("an i64 inside a record is a bigint, like a top-level one", () => {
  const sample = {
    flag: true,
    wide: 2n ** 64n - 1n,
    small: -128,
    letter: "🦀",
    count: 4294967295,
    level: Level.Max,
    data: [0, 255],
    ratio: 0.5,
  };
  assert.deepEqual(geo.echo_sample(sample), sample);
  assert.throws(() => geo.echo_sample({ ...sample, wide: 1 }), {
    name: "TypeError",
    message: "echo_sample() argument 's' at s.wide: expected bigint (u64), got number",
  });
});

test("missing, extra and mistyped fields are TypeErrors naming function, parameter and field", () => {
  assert.throws(() => geo.mid({ x: 1 }, origin), {
    name: "TypeError",
    message: "mid() argument 'a': the field y of Point is missing",
  });
  assert.throws(() => geo.mid(origin, { x: 1, y: 2, z: 3 }), {
    name: "TypeError",
    message: 'mid() argument \'b\': Point has no field "z" (only x, y)',
  });
  assert.throws(() => geo.mid({ x: "1", y: 2 }, origin), {
    name: "TypeError",
    message: "mid() argument 'a' at a.x: expected number (f64), got string",
  });
  assert.throws(() => geo.centroid([origin, { x: 1, y: null }]), {
    name: "TypeError",
    message: "centroid() argument 'points' at points[1].y: expected number (f64), got null",
  });
  assert.throws(() => geo.rect_area({ min: origin, max: [1, 2] }), {
    name: "TypeError",
    message: "rect_area() argument 'r' at r.max: expected an object (Point), got Array",
  });
  assert.throws(() => geo.mid(null, origin), {
    name: "TypeError",
    message: "mid() argument 'a': expected an object (Point), got null",
  });
});

// -- enums -------------------------------------------------------------------------

test("enums are frozen objects mapping both ways, with the Rust discriminants", () => {
  assert.equal(Shape.Square, 1);
  assert.equal(Shape[1], "Square");
  assert.ok(Object.isFrozen(Shape));
  assert.equal(Level.Low, 1);
  assert.equal(Level.Max, -3);
  assert.equal(Level.After, -2);
  assert.equal(Level[-3], "Max");
  assert.equal(geo.level_value(Level.High), 10n);
  assert.deepEqual(geo.levels(), [Level.Low, Level.High, Level.Max, Level.After]);
  assert.equal(geo.area(Shape.Square, 2), 4);
  assert.equal(geo.is_round(Shape.Circle), true);
  assert.equal(geo.next_shape(Shape.Triangle), undefined);
  assert.equal(geo.next_shape(null), undefined);
  assert.equal(geo.next_shape(Shape.Circle), Shape.Square);
});

test("a value that is no case of the enum is a TypeError listing the cases", () => {
  assert.throws(() => geo.area(7, 1), {
    name: "TypeError",
    message: "area() argument 's': expected a Shape (Shape.Circle, Shape.Square, Shape.Triangle), got 7",
  });
  assert.throws(() => geo.area("Square", 1), {
    name: "TypeError",
    message:
      "area() argument 's': expected a Shape (Shape.Circle, Shape.Square, Shape.Triangle), " +
      "got string; pass Shape.Square, the number 1",
  });
});

// -- tuples, lists, char, usize ----------------------------------------------------

test("tuples are arrays, lists are arrays, char is a one-code-point string", () => {
  assert.deepEqual(geo.minmax([3, 1, 2]), [1, 3]);
  assert.deepEqual(geo.swap(["a", 3]), [3, "a"]);
  assert.deepEqual(geo.single([5n]), [5n]);
  assert.equal(geo.sum12([1, 2, 3, 4n, -1, -2, -3, -4n, 0.5, 0.25, 7, -7]), 0.75);
  assert.deepEqual(geo.words("a b  c"), ["a", "b", "c"]);
  assert.deepEqual(geo.static_words(), ["alpha", "βeta", ""]);
  assert.deepEqual(geo.flags([true, false]), [false, true]);
  assert.deepEqual(geo.chars("añ🦀"), ["a", "ñ", "🦀"]);
  assert.equal(geo.from_chars(["a", "🦀"]), "a🦀");
  assert.equal(geo.join(["a", "b"], "-"), "a-b");
  assert.equal(geo.join_strs(["x", "y"]), "x+y");
  assert.equal(geo.total_len(["ab", "ç"]), 4);
  assert.deepEqual(geo.maybe_nums([1, null, undefined, 3]), [2, undefined, undefined, 6]);
  assert.deepEqual(geo.chunks(new Uint8Array([1, 2, 3]), 2), [[1, 2], [3]]);
  assert.equal(geo.maybe_words(""), undefined);
  assert.equal(geo.echo_char("é"), "é");
  assert.equal(geo.shift_char("a", 1), "b");
  assert.equal(geo.shift_char("a", 0x10ffff), undefined);
  assert.equal(geo.count_to(4294967295), 4294967295);
  assert.equal(geo.echo_isize(-2147483648), -2147483648);
  assert.equal(geo.echo_opt_usize(null), undefined);
});

test("wrong tuples, lists, chars and usize are caller errors naming the parameter", () => {
  assert.throws(() => geo.swap(["a"]), {
    name: "TypeError",
    message: "swap() argument 'pair': expected 2 items (a tuple), got 1",
  });
  assert.throws(() => geo.words(["a"]), { name: "TypeError" });
  assert.throws(() => geo.join("ab", "-"), {
    name: "TypeError",
    message: "join() argument 'parts': expected Array, got string",
  });
  assert.throws(() => geo.echo_char("ab"), {
    name: "TypeError",
    message: "echo_char() argument 'c': expected one character (char), got a string of 2",
  });
  assert.throws(() => geo.echo_char("\ud800"), {
    name: "TypeError",
    message: "echo_char() argument 'c': a lone surrogate is not a Unicode scalar value (char)",
  });
  assert.throws(() => geo.join(["a"], ""), { name: "TypeError" });
  assert.throws(() => geo.count_to(-1), { name: "RangeError" });
  assert.throws(() => geo.count_to(2 ** 32), { name: "RangeError" });
});

// -- errors with a value ------------------------------------------------------------

test("Err with a record or enum throws ReturnedError whose .value is the error", () => {
  const same = { x: 1, y: 1 };
  assert.throws(() => geo.checked_mid(same, same), (error) => {
    assert.ok(error instanceof geo.ReturnedError);
    assert.deepEqual(error.value, { code: 1, message: "the points are the same" });
    assert.match(error.message, /^`checked_mid\(\{\.\.\.\}, \{\.\.\.\}\)` in geo\.wasm returned an error: GeoError/);
    return true;
  });
  assert.throws(() => geo.shape_code(13), (error) => {
    assert.equal(error.value, Shape.Square);
    assert.equal(error.error, "Shape.Square");
    return true;
  });
  assert.throws(() => geo.parse_count("x"), (error) => {
    assert.equal(error.value, undefined);
    assert.equal(error.error, "invalid digit found in string");
    return true;
  });
  assert.equal(geo.shape_code(4), 4);
});

// -- classes -----------------------------------------------------------------------

test("classes: constructor, methods, static methods, returned objects", () => {
  const c = new Counter("c", 5);
  assert.ok(c instanceof Counter);
  assert.equal(c.incr(2), 7);
  assert.equal(c.label(), "c");
  assert.equal(c.check(), 7);
  const half = c.split();
  assert.ok(half instanceof Counter);
  assert.equal(half.label(), "c/2");
  assert.deepEqual(c.pair(), ["c", 7]);
  assert.deepEqual(c.as_point(), { x: 7, y: 7 });
  assert.equal(c.shape(), Shape.Triangle);
  assert.equal(c.doubled(), 14);
  assert.equal(c.bump_by({ x: 1, y: 2 }), 10);
  assert.equal(Counter.named("n").label(), "n");
  assert.equal(Counter.from_point({ x: 1, y: 2 }).incr(0), 3);
  assert.equal(c.absorb(half), 13);
  assert.equal(half.label(), "c/2"); // borrowed, still usable
  assert.equal(c.finish(), "c=13");
  const big = new Counter("big", 100);
  assert.throws(() => big.check(), { name: "ReturnedError", message: /returned an error: too big$/ });
  assert.throws(() => big.explode(), { name: "GuestPanic", message: /counter exploded$/ });
  assert.equal(big.incr(1), 101); // a panic in a method leaves other objects usable
});

test("free() drops once, later calls throw HandleError, Symbol.dispose is free", () => {
  const before = geo.drops();
  const token = new Token(1);
  assert.equal(token.id(), 1);
  token.free();
  assert.equal(geo.drops(), before + 1);
  token.free(); // once only
  assert.equal(geo.drops(), before + 1);
  assert.throws(() => token.id(), {
    name: "HandleError",
    message: "Token.id(): this Token was freed and cannot be used",
  });
  assert.equal(typeof Symbol.dispose, "symbol");
  const disposed = new Token(2);
  disposed[Symbol.dispose]();
  assert.equal(geo.drops(), before + 2);
  assert.throws(() => disposed.id(), geo.HandleError);
});

test("passing an object by value moves it: the caller's object is spent", () => {
  const c = new Counter("c", 1);
  const d = new Counter("d", 2);
  assert.equal(c.merge(d), 3);
  assert.throws(() => d.label(), {
    name: "HandleError",
    message: "Counter.label(): this Counter was moved into geo.wasm by Counter.merge() and cannot be used",
  });
  d.free(); // nothing left to free
  assert.throws(() => c.merge(c), {
    name: "HandleError",
    message: "Counter.merge() argument 'other': this Counter is moved, so it cannot be passed twice",
  });
  assert.equal(c.label(), "c"); // the refused call changed nothing
  assert.equal(c.finish(), "c=3");
  assert.throws(() => c.finish(), geo.HandleError);
});

test("an object of another class, module copy or a plain object is refused", async () => {
  const c = new Counter("c", 1);
  assert.throws(() => c.absorb(new Token(3)), {
    name: "HandleError",
    message: "Counter.absorb() argument 'other': expected a Counter, got a Token",
  });
  assert.throws(() => Counter.prototype.incr.call(new Token(4), 1), {
    name: "HandleError",
    message: "Counter.incr(): expected a Counter, got a Token",
  });
  const copy = await import(`${glueUrl}?copy`);
  await copy.default();
  const foreign = new copy.Counter("f", 1);
  assert.throws(() => c.absorb(foreign), {
    name: "HandleError",
    message:
      "Counter.absorb() argument 'other': this Counter was not made by this instance of " +
      "geo.wasm (another copy of its glue?); pass one it made",
  });
  assert.equal(foreign.label(), "f");
  assert.throws(() => c.absorb({}), {
    name: "TypeError",
    message: "Counter.absorb() argument 'other': expected a Counter, got Object",
  });
  assert.throws(() => c.absorb(Object.create(Counter.prototype)), geo.HandleError);
});

test("zero-sized classes still get a handle per object", () => {
  const a = new geo.Marker();
  const b = new geo.Marker();
  assert.equal(a.ping() + b.ping(), 14);
  a.free();
  assert.equal(b.ping(), 7);
});

test("callbacks: JS functions called by the guest, arguments and results checked", () => {
  assert.equal(geo.progress(10, (i) => i < 3), 3);
  assert.deepEqual(geo.map_words(["a", "bé"], (w) => w.toUpperCase()), ["A", "BÉ"]);
  const points = [{ x: 1, y: 2 }, { x: 3, y: 4 }];
  assert.equal(geo.fold_points(points, (acc, p) => acc + p.x * p.y), 14);
  let ticks = 0;
  geo.tick(() => {
    ticks += 1;
  });
  assert.equal(ticks, 1);
  assert.equal(geo.call_n(5, (i) => i * 2), 20);
  const shape = (w, i) => (i === 1 ? undefined : w.length === 1 ? Shape.Circle : Shape.Triangle);
  assert.deepEqual(geo.classify(["a", "bb", "ccc"], shape), [Shape.Circle, Shape.Triangle]);
  const summary = geo.summarize([3, 1, 2], (v, [lo, hi]) => `${v.join(",")}:${lo}..${hi}`);
  assert.equal(summary, "3,1,2:1..3");
  const seen = [];
  new Counter("c", 3).each((i) => seen.push(i));
  assert.deepEqual(seen, [0, 1, 2]);
  // a call from inside a callback
  assert.equal(geo.call_n(3, (i) => geo.call_n(i, () => 1)), 3);
});

test("a callback's wrong result or exception ends the call; the instance goes on", () => {
  assert.throws(() => geo.progress(3, () => "yes"), {
    name: "TypeError",
    message: "progress() argument 'report' (its result): expected boolean, got string",
  });
  assert.throws(() => geo.progress(3, 5), {
    name: "TypeError",
    message: "progress() argument 'report': expected a function, got number",
  });
  const stop = new Error("stop");
  assert.throws(() => geo.map_words(["a"], () => {
    throw stop;
  }), (error) => error === stop);
  for (let i = 0; i < 1000; i++) {
    assert.throws(() => geo.tick(() => {
      throw stop;
    }));
  }
  assert.equal(geo.progress(2, () => true), 2);
  assert.deepEqual(geo.words("still fine"), ["still", "fine"]);
});

test("the FinalizationRegistry drops objects nobody can reach", async () => {
  assert.equal(typeof gc, "function", "run with node --expose-gc");
  const before = geo.drops(); // Tokens earlier tests left unreachable may drop too
  (() => {
    for (let i = 0; i < 10; i++) new Token(i).id();
  })();
  for (let round = 0; round < 100 && geo.drops() < before + 10; round++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.ok(geo.drops() >= before + 10, `${geo.drops() - before} of 10 dropped`);
});

test("the CommonJS build has the same classes, enums and records", async () => {
  const require = createRequire(import.meta.url);
  const cjs = require(`${pkg}/geo.cjs`);
  await cjs.default();
  assert.deepEqual(cjs.mid({ x: 0, y: 0 }, { x: 2, y: 4 }), { x: 1, y: 2 });
  assert.equal(cjs.Shape.Triangle, 2);
  const c = new cjs.Counter("cjs", 1);
  assert.equal(c.incr(1), 2);
  c.free();
  assert.throws(() => c.incr(1), cjs.HandleError);
  assert.throws(() => new cjs.Counter("x", 1).absorb(new Counter("esm", 1)), cjs.HandleError);
});
