// Image: grayscale, blur, resize and JPEG encode, in WASM (imagekit) and in plain JS side by side.

import { $, exported, fail, loadKernel, loadPlain, ms, show, timeBest, timeBestAsync } from "./util.js";
import { samplePicture } from "./sample.js";

const OPS = ["grayscale", "blur", "resize", "jpeg"];
const RUNS = 5; // each timing is the best of this many calls
let wasm = null;
let plain = null;
let source = null; // { width, height, rgba: Uint8Array, label }

export async function setup(record) {
  Object.assign(record, { ready: false, source: null, decode: null, ops: {}, last: null });
  $("image-sample").addEventListener("click", () => useSample(record));
  $("image-file").addEventListener("change", (event) => openFile(record, event.target.files[0]));
  for (const op of OPS) $(`op-${op}`).addEventListener("click", () => apply(record, op));
  $("image-run-all").addEventListener("click", async () => {
    for (const op of OPS) await apply(record, op);
  });
  for (const id of ["blur-sigma", "resize-width", "jpeg-quality"]) {
    const input = $(id);
    input.addEventListener("input", () => show(`${id}-value`, input.value));
  }
  try {
    wasm = await loadKernel("imagekit");
  } catch (error) {
    fail("image", error);
    return;
  }
  try {
    const module = await loadPlain("imagekit");
    plain = Object.fromEntries(["grayscale", "gaussian_blur", "resize"].map((name) => [name, exported(module, name)]));
  } catch (error) {
    console.warn("plain-JS imagekit unavailable:", error);
    record.errors = [`plain-JS imagekit: ${error.message}`];
  }
  record.ready = true;
  show("image-status", "ready: pick an image or use the sample");
  enable();
}

function enable() {
  const on = wasm !== null && source !== null;
  for (const id of [...OPS.map((op) => `op-${op}`), "image-run-all"]) $(id).disabled = !on;
}

function useSample(record) {
  const picture = samplePicture();
  setSource(record, picture.width, picture.height, new Uint8Array(picture.data.buffer), "sample");
}

/** Decodes a picked file with imagekit (PNG, JPEG) and with the browser, timing both.
 * `decode_rgba` gives the pixels as one Uint8Array (`decode`'s Image record would carry
 * them as a number[]); `dimensions`, untimed, gives the size. */
async function openFile(record, file) {
  if (!file) return;
  const bytes = new Uint8Array(await file.arrayBuffer());
  const browser = await timeBestAsync(() => browserDecode(file), 1);
  let decoded = null;
  let wasmMs = null;
  try {
    const [width, height] = wasm.dimensions(bytes);
    const start = performance.now();
    decoded = { width, height, rgba: wasm.decode_rgba(bytes) };
    wasmMs = performance.now() - start;
  } catch (error) {
    // imagekit reads PNG and JPEG; anything else is shown as the browser decoded it.
    show("image-status", `imagekit cannot decode ${file.name} (${error.message}): using the browser's decoder`);
  }
  record.decode = { wasm_ms: wasmMs, js_ms: browser.ms, bytes: bytes.length };
  const image = decoded ?? browser.result;
  setSource(record, image.width, image.height, image.rgba, file.name);
}

async function browserDecode(file) {
  const bitmap = await createImageBitmap(file);
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext("2d");
  ctx.drawImage(bitmap, 0, 0);
  const data = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
  return { width: data.width, height: data.height, rgba: new Uint8Array(data.data.buffer) };
}

function setSource(record, width, height, rgba, label) {
  source = { width, height, rgba, label };
  record.source = { width, height, label };
  draw("image-source", width, height, rgba);
  const resize = $("resize-width");
  resize.max = String(width * 2);
  resize.value = String(Math.round(width / 2));
  show("resize-width-value", resize.value);
  show("image-source-info", `${label}: ${width}×${height}`);
  if (record.ready) show("image-status", "ready: choose an operation");
  enable();
}

/** Runs one operation in both implementations, draws both results and records the times. */
async function apply(record, op) {
  if (!source || !wasm) return;
  show("image-status", `running ${op}…`);
  await new Promise((resolve) => setTimeout(resolve)); // let the status paint
  const { width, height, rgba } = source;
  let entry;
  if (op === "jpeg") {
    entry = await encodeBoth(width, height, rgba);
  } else {
    const [w, h, params, runWasm, runPlain] = pixelOp(op, width, height, rgba);
    const a = timeBest(runWasm, RUNS);
    draw("image-wasm", w, h, a.result);
    entry = { wasm_ms: a.ms, js_ms: null, width: w, height: h, max_diff: null, ...params };
    if (plain) {
      const b = timeBest(runPlain, RUNS);
      draw("image-js", w, h, b.result);
      Object.assign(entry, { js_ms: b.ms, max_diff: maxDiff(a.result, b.result) });
    }
  }
  entry.speedup = entry.js_ms === null ? null : entry.js_ms / entry.wasm_ms;
  record.ops[op] = entry;
  record.last = op;
  Object.assign(record, { wasm_ms: entry.wasm_ms, js_ms: entry.js_ms });
  report(op, entry);
  show("image-status", `${op} done`);
}

/** [width, height, params, wasm call, plain-JS call] of a pixel operation. */
function pixelOp(op, width, height, rgba) {
  if (op === "grayscale") {
    return [width, height, {}, () => wasm.grayscale(rgba), () => plain.grayscale(rgba)];
  }
  if (op === "blur") {
    const sigma = Number($("blur-sigma").value);
    return [
      width, height, { sigma },
      () => wasm.gaussian_blur(rgba, width, height, sigma),
      () => plain.gaussian_blur(rgba, width, height, sigma),
    ];
  }
  const w = Number($("resize-width").value);
  const h = Math.max(1, Math.round((height * w) / width));
  return [
    w, h, {},
    () => wasm.resize(rgba, width, height, w, h),
    () => plain.resize(rgba, width, height, w, h),
  ];
}

/** JPEG: imagekit's encoder against the browser's own (canvas.toBlob). */
async function encodeBoth(width, height, rgba) {
  const quality = Number($("jpeg-quality").value);
  const a = timeBest(() => wasm.encode_jpeg(rgba, width, height, quality), RUNS);
  const b = await timeBestAsync(() => toJpeg($("image-source"), quality / 100), RUNS);
  await drawJpeg("image-wasm", new Blob([a.result], { type: "image/jpeg" }));
  await drawJpeg("image-js", b.result);
  return { wasm_ms: a.ms, js_ms: b.ms, quality, width, height, wasm_bytes: a.result.length, js_bytes: b.result.size };
}

function toJpeg(canvas, quality) {
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("toBlob failed"))), "image/jpeg", quality),
  );
}

async function drawJpeg(id, blob) {
  const bitmap = await createImageBitmap(blob);
  const canvas = $(id);
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  canvas.getContext("2d", { willReadFrequently: true }).drawImage(bitmap, 0, 0);
}

function draw(id, width, height, rgba) {
  const canvas = $(id);
  canvas.width = width;
  canvas.height = height;
  const pixels = new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, width * height * 4);
  // Read back by tests (and cheap to keep in memory): no GPU copy per getImageData.
  canvas.getContext("2d", { willReadFrequently: true }).putImageData(new ImageData(pixels, width, height), 0, 0);
}

function maxDiff(a, b) {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

function report(op, entry) {
  show("image-wasm-info", `WASM ${ms(entry.wasm_ms)}${entry.wasm_bytes ? `, ${entry.wasm_bytes.toLocaleString()} B` : ""}`);
  const js = entry.js_ms === null ? "unavailable" : ms(entry.js_ms);
  show("image-js-info", `JS ${js}${entry.js_bytes ? `, ${entry.js_bytes.toLocaleString()} B` : ""}`);
  const detail =
    op === "jpeg"
      ? `quality ${entry.quality}: ${entry.wasm_bytes.toLocaleString()} B vs ${entry.js_bytes.toLocaleString()} B`
      : `${entry.width}×${entry.height}, max difference ${entry.max_diff ?? "–"} level(s)`;
  let row = document.querySelector(`#image-table tr[data-op="${op}"]`);
  if (!row) {
    row = document.createElement("tr");
    row.dataset.op = op;
    $("image-table").querySelector("tbody").append(row);
  }
  row.innerHTML = "";
  const speedup = entry.speedup === null ? "–" : `${entry.speedup.toFixed(1)}×`;
  for (const text of [op, ms(entry.wasm_ms), js, speedup, detail]) {
    const cell = document.createElement("td");
    cell.textContent = text;
    row.append(cell);
  }
}
