// Node timings for bench/usecases/videofx.py: the videofx filters on one RGBA frame,
// in plain JS (examples/videofx/js/videofx_plain.js) and through the same .wasm, both
// through its generated module (the frame is copied in and back on every call) and
// through its raw exports on a frame that lives in guest memory (no copies).
//
//   node videofx.mjs PKG/videofx.js PLAIN.js WIDTH HEIGHT SAMPLES
//
// Prints JSON: per measurement { min, median } seconds per frame, and "digests":
// the SHA-256 of each contender's output (they must all agree).
import { createHash } from "node:crypto";
import { pathToFileURL } from "node:url";

const [gluePath, plainPath, width, height, samplesArg] = process.argv.slice(2);
const kernel = await import(pathToFileURL(gluePath).href);
const plain = await import(pathToFileURL(plainPath).href);
const wasm = await kernel.default();
const bytes = Number(width) * Number(height) * 4;
const samples = Number(samplesArg);
const CONTRAST = 1.4;

// bench/usecases/videofx.py's synth(): a 32-bit mix of each byte's index.
function synth(n, seed) {
  const frame = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let x = Math.imul(i, 0x9e3779b1) ^ seed;
    x ^= x >>> 15;
    x = Math.imul(x, 0x85ebca77);
    x ^= x >>> 13;
    frame[i] = x & 255;
  }
  return frame;
}

const source = synth(bytes, 7);
const digest = (data) => createHash("sha256").update(data).digest("hex");

// Raw exports (docs/abi.md): a 16-byte return area, then (area, ptr, len[, contrast]).
const area = wasm.__wb_alloc(16, 8);
const ptr = wasm.__wb_alloc(bytes, 16);
if (!area || !ptr) throw new Error("the guest could not allocate the frame");
const guestFrame = () => new Uint8Array(wasm.memory.buffer, ptr, bytes);

function time(reset, call) {
  const times = [];
  for (let i = 0; i < samples; i++) {
    reset();
    const start = process.hrtime.bigint();
    call();
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  times.sort((a, b) => a - b);
  return { min: times[0], median: times[times.length >> 1] };
}

const frame = new Uint8Array(bytes);
const fill = () => frame.set(source);
const fillGuest = () => guestFrame().set(source);
const out = {};
const digests = {};
const contenders = {
  plain_grayscale: [fill, () => plain.grayscaleContrast(frame, CONTRAST), () => frame],
  plain_sepia: [fill, () => plain.sepia(frame), () => frame],
  glue_grayscale: [fill, () => kernel.grayscale_contrast(frame, CONTRAST), () => frame],
  glue_sepia: [fill, () => kernel.sepia(frame), () => frame],
  raw_grayscale: [fillGuest, () => wasm.grayscale_contrast(area, ptr, bytes, CONTRAST), guestFrame],
  raw_sepia: [fillGuest, () => wasm.sepia(area, ptr, bytes), guestFrame],
};
for (const [name, [reset, call, result]] of Object.entries(contenders)) {
  reset();
  call(); // the answer to check
  digests[name] = digest(result());
  for (let i = 0; i < 3; i++) call(); // warm-up: the JIT's optimizing tier
  out[name] = time(reset, call);
}
out.digests = digests;
process.stdout.write(JSON.stringify(out));
