// Node timings for bench/usecases/imagekit.py: grayscale, Gaussian blur, bilinear resize
// and JPEG encoding of one RGBA image, in plain JS (examples/imagekit/js/imagekit_plain.js;
// jpeg-js for the encoder) and through the same .wasm's generated module.
//
//   node imagekit.mjs PKG/imagekit.js PLAIN.js NODE_MODULES INPUT.rgba WIDTH HEIGHT SAMPLES OUT_DIR [INPUT.png]
//
// INPUT.rgba holds the image's raw bytes; INPUT.png, if given, is decoded with the .wasm's
// decode_rgba (wasm_decode). Prints JSON: per measurement { min, median }
// seconds per call, and "digests": the SHA-256 of each output. Each output is also written
// to OUT_DIR/NAME.bin, for the caller to check against its references.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [gluePath, plainPath, nodeModules, inputPath, w, h, samplesArg, outDir, pngPath] =
  process.argv.slice(2);
const kernel = await import(pathToFileURL(gluePath).href);
const plain = await import(pathToFileURL(plainPath).href);
await kernel.default();
const width = Number(w);
const height = Number(h);
const samples = Number(samplesArg);
const rgba = new Uint8Array(readFileSync(inputPath));
const [newWidth, newHeight, sigma, quality] = [width >> 1, height >> 1, 2.0, 75];

let jpeg = null;
try {
  jpeg = createRequire(join(nodeModules, "x.js"))("jpeg-js");
} catch {
  // no jpeg-js: that row is left out (the caller says so)
}

function time(call) {
  call(); // warm-up
  const times = [];
  for (let i = 0; i < samples; i++) {
    const start = process.hrtime.bigint();
    call();
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  times.sort((a, b) => a - b);
  return { min: times[0], median: times[times.length >> 1] };
}

const contenders = {
  plain_grayscale: () => plain.grayscale(rgba),
  plain_blur: () => plain.gaussian_blur(rgba, width, height, sigma),
  plain_resize: () => plain.resize(rgba, width, height, newWidth, newHeight),
  wasm_grayscale: () => kernel.grayscale(rgba),
  wasm_blur: () => kernel.gaussian_blur(rgba, width, height, sigma),
  wasm_resize: () => kernel.resize(rgba, width, height, newWidth, newHeight),
  wasm_encode: () => kernel.encode_jpeg(rgba, width, height, quality),
};
if (pngPath) {
  const png = new Uint8Array(readFileSync(pngPath));
  contenders.wasm_decode = () => kernel.decode_rgba(png);
}
if (jpeg) {
  const frame = { data: rgba, width, height };
  contenders.jpegjs_encode = () => new Uint8Array(jpeg.encode(frame, quality).data);
}
const out = { digests: {} };
for (const [name, call] of Object.entries(contenders)) {
  const result = call();
  out.digests[name] = createHash("sha256").update(result).digest("hex");
  writeFileSync(join(outDir, `${name}.bin`), result);
  out[name] = time(call);
}
process.stdout.write(JSON.stringify(out));
