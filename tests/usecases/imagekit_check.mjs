// The imagekit check, the same in Node and in Chromium (tests/usecases/usecase_helpers.py):
// input.calls is a list of [name, ...args] run in order on the one instance. Images are
// either base64 bytes or ["synth", width, height, seed], a pattern computed here and in
// the Python test alike. Each answer is { sha256, bytes? } (the output's digest, and
// the output itself when it is small), plus width and height for decode, or
// { error, name } when the call threw.
const fromB64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const SMALL = 64 * 1024; // outputs up to this size come back whole

function toB64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

/** The test pattern: a 32-bit hash of (x, y, channel, seed) per byte, as in the Python test. */
export function synth(width, height, seed) {
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 4; c++) {
        let h = (Math.imul(x, 73856093) ^ Math.imul(y, 19349663) ^ Math.imul(seed * 4 + c, 83492791)) >>> 0;
        h = (h ^ (h >>> 13)) >>> 0;
        h = Math.imul(h, 0x5bd1e995) >>> 0;
        h = (h ^ (h >>> 15)) >>> 0;
        out[(y * width + x) * 4 + c] = h & 255;
      }
    }
  }
  return out;
}

const image = (spec) => (typeof spec === "string" ? fromB64(spec) : synth(spec[1], spec[2], spec[3]));

const CALLS = {
  decode: (kit, data) => {
    const decoded = kit.decode(fromB64(data));
    return { bytes: Uint8Array.from(decoded.rgba), width: decoded.width, height: decoded.height };
  },
  grayscale: (kit, img) => ({ bytes: kit.grayscale(image(img)) }),
  gaussian_blur: (kit, img, w, h, sigma) => ({ bytes: kit.gaussian_blur(image(img), w, h, sigma) }),
  resize: (kit, img, w, h, nw, nh) => ({ bytes: kit.resize(image(img), w, h, nw, nh) }),
  encode_jpeg: (kit, img, w, h, q) => ({ bytes: kit.encode_jpeg(image(img), w, h, q) }),
};

async function sha256(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function run(kit, input) {
  const answers = [];
  for (const [name, ...args] of input.calls) {
    let answer;
    try {
      answer = CALLS[name](kit, ...args);
    } catch (e) {
      if (!(e instanceof kit.ReturnedError)) throw e;
      answers.push({ error: e.error, name: e.name });
      continue;
    }
    const { bytes, ...rest } = answer;
    const out = { ...rest, sha256: await sha256(bytes) };
    if (bytes.length <= SMALL) out.bytes = toB64(bytes);
    answers.push(out);
  }
  return { answers };
}
