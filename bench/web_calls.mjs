// Per-call cost of the generated JS glue in Node, next to the raw wasm export.
//   node bench/web_calls.mjs PKG_DIR    (PKG_DIR holds types.js + types.wasm)
// Prints JSON: { name: { min_s, median_s, loops } } per measurement; bench/web.py
// runs it and renders the table. Each sample is an auto-calibrated loop of about
// TARGET_S seconds; REPEATS samples per measurement, as bench/_timing.py does.
import { pathToFileURL } from "node:url";

const REPEATS = Number(process.env.WASMBRIDGE_BENCH_REPEATS ?? 7);
const TARGET_S = Number(process.env.WASMBRIDGE_BENCH_TARGET_S ?? 0.25);

const glue = await import(pathToFileURL(`${process.argv[2]}/types.js`));
const raw = await glue.default();

let sink = 0; // results feed this, so no call is optimized away

function loop(body, loops) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < loops; i++) sink ^= body(i);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function measure(body) {
  for (let i = 0; i < 3; i++) loop(body, 10_000); // warm up: let the JIT settle
  let loops = 1;
  let elapsed = loop(body, loops);
  while (elapsed < TARGET_S / 10 && loops < 1 << 26) {
    loops *= 4;
    elapsed = loop(body, loops);
  }
  loops = Math.max(1, Math.round((loops * TARGET_S) / elapsed));
  const samples = Array.from({ length: REPEATS }, () => loop(body, loops) / loops).sort((a, b) => a - b);
  return { min_s: samples[0], median_s: samples[samples.length >> 1], loops };
}

const text = "wasmbridge ".repeat(94).slice(0, 1024); // 1 KiB of ASCII
const encoder = new TextEncoder();
const decoder = new TextDecoder();
if (glue.add(5, 7) !== 12 || glue.echo_str(text) !== text) throw new Error("wrong results");

const results = {
  "js: plain function add": measure((i) => ((a, b) => (a + b) | 0)(i, 1)),
  "raw export add (instance.exports.add)": measure((i) => raw.add(i, 1)),
  "glue add": measure((i) => glue.add(i, 1)),
  "glue echo_str, 1 KiB string round trip": measure(() => glue.echo_str(text).length),
  "TextEncoder.encode + TextDecoder.decode of 1 KiB (floor)": measure(
    () => decoder.decode(encoder.encode(text)).length,
  ),
  "glue digest32, 1 KiB bytes in, 32 B out": measure(() => glue.digest32(new Uint8Array(1024))[0]),
};
console.log(JSON.stringify({ node: process.version, results, sink: sink & 1 }));
