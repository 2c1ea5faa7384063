// The videofx check, run by tests/usecases/test_videofx.py in Node and in headless
// Chromium: every case through the WebAssembly module (`kernel`, one instance for all)
// and through examples/videofx/js/videofx_plain.js (its source arrives in the input),
// answered as SHA-256 digests of the filtered bytes, or the error a call threw.
//
// input: { plain: base64 source or "", cases: [{ op, contrast?, frame?: base64,
//          synth?: { bytes, seed } }] }, op one of "grayscale_contrast", "sepia",
//          "grayscale_row" (the frame's rows of `width` pixels), "grayscale_pixel"
//          (one call per pixel; the answer is the lumas)
// output: [{ wasm: { digest } | { error }, plain: same | null }]

const PLAIN_NAMES = {
  grayscale_contrast: "grayscaleContrast",
  sepia: "sepia",
  grayscale_row: "grayscaleRow",
  grayscale_pixel: "grayscalePixel",
};

export async function run(kernel, input) {
  const plain = input.plain ? await import(`data:text/javascript;base64,${input.plain}`) : null;
  const answers = [];
  for (const c of input.cases) {
    const frame = c.synth ? synth(c.synth.bytes, c.synth.seed) : fromBase64(c.frame);
    const wasm = await apply((name) => kernel[name], c, frame.slice());
    const js = plain ? await apply((name) => plain[PLAIN_NAMES[name]], c, frame.slice()) : null;
    answers.push({ wasm, plain: js });
  }
  return answers;
}

async function apply(api, c, frame) {
  let out = frame;
  try {
    if (c.op === "grayscale_contrast") {
      api(c.op)(frame, c.contrast);
    } else if (c.op === "sepia") {
      api(c.op)(frame);
    } else if (c.op === "grayscale_row") {
      const stride = c.width * 4;
      for (let at = 0; at < frame.length; at += stride) {
        api(c.op)(frame.subarray(at, Math.min(at + stride, frame.length)));
      }
    } else if (c.op === "grayscale_pixel") {
      const pixel = api(c.op);
      out = new Uint8Array(frame.length >> 2);
      for (let i = 0; i < out.length; i++) {
        out[i] = pixel(frame[4 * i], frame[4 * i + 1], frame[4 * i + 2]);
      }
    } else {
      throw new Error(`unknown op ${c.op}`);
    }
  } catch (error) {
    return { error: `${error.name}: ${error.message}` };
  }
  return { digest: await sha256(out) };
}

// The test's frames, the same bytes numpy makes: a 32-bit mix of each byte's index.
function synth(bytes, seed) {
  const frame = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) {
    let x = Math.imul(i, 0x9e3779b1) ^ seed;
    x ^= x >>> 15;
    x = Math.imul(x, 0x85ebca77);
    x ^= x >>> 13;
    frame[i] = x & 255;
  }
  return frame;
}

function fromBase64(text) {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

async function sha256(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
