// imagekit's grayscale, Gaussian blur and bilinear resize in plain JavaScript: the same
// definitions as the Rust kernels (src/kernels/), written the way one would without
// WebAssembly, for side-by-side comparison. An ES module with no dependencies; the
// functions take and return RGBA8 Uint8Arrays (rows top to bottom) and share the wasm
// exports' names and parameters. Results match the wasm build's within one level.

/** Every pixel's colour as its luma, (19595 R + 38470 G + 7471 B + 32768) >> 16; alpha kept. */
export function grayscale(rgba) {
  const out = Uint8Array.from(rgba);
  for (let i = 0; i + 3 < out.length; i += 4) {
    const y = (19595 * out[i] + 38470 * out[i + 1] + 7471 * out[i + 2] + 32768) >>> 16;
    out[i] = out[i + 1] = out[i + 2] = y;
  }
  return out;
}

function checkSize(rgba, width, height) {
  if (rgba.length !== width * height * 4) {
    throw new RangeError(
      `rgba has ${rgba.length} bytes, but a ${width}x${height} image needs ${width * height * 4}`,
    );
  }
}

/** Weights for |k| <= ceil(3 sigma), normalised: the centre one, then one side's. */
function gaussianWeights(sigma) {
  const radius = Math.min(Math.ceil(3 * Math.fround(sigma)), 600);
  if (radius === 0) return [1];
  const raw = [];
  for (let k = 0; k <= radius; k++) raw.push(Math.exp(-(k * k) / (2 * sigma * sigma)));
  const total = raw[0] + 2 * raw.slice(1).reduce((a, b) => a + b, 0);
  return raw.map((w) => w / total);
}

/** A Gaussian blur of standard deviation `sigma`, rows then columns, edges clamped. */
export function gaussian_blur(rgba, width, height, sigma) {
  checkSize(rgba, width, height);
  if (!(sigma >= 0 && sigma <= 200)) throw new RangeError(`sigma must be between 0 and 200, got ${sigma}`);
  const weights = gaussianWeights(sigma);
  const r = weights.length - 1;
  if (r === 0 || rgba.length === 0) return Uint8Array.from(rgba);
  const stride = width * 4;
  const rows = new Float32Array(rgba.length);
  for (let y = 0; y < height; y++) {
    const base = y * stride;
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 4; c++) {
        let sum = weights[0] * rgba[base + x * 4 + c];
        for (let k = 1; k <= r; k++) {
          const left = Math.max(x - k, 0);
          const right = Math.min(x + k, width - 1);
          sum += weights[k] * (rgba[base + left * 4 + c] + rgba[base + right * 4 + c]);
        }
        rows[base + x * 4 + c] = sum;
      }
    }
  }
  const out = new Uint8Array(rgba.length);
  for (let y = 0; y < height; y++) {
    for (let i = 0; i < stride; i++) {
      let sum = weights[0] * rows[y * stride + i];
      for (let k = 1; k <= r; k++) {
        const up = Math.max(y - k, 0);
        const down = Math.min(y + k, height - 1);
        sum += weights[k] * (rows[up * stride + i] + rows[down * stride + i]);
      }
      out[y * stride + i] = sum + 0.5; // Uint8Array truncates; sums stay in 0..255
    }
  }
  return out;
}

/** Bilinear resize; output pixel i samples the source at (i + 0.5) * src / dst - 0.5, clamped. */
export function resize(rgba, width, height, newWidth, newHeight) {
  checkSize(rgba, width, height);
  if (newWidth === 0 || newHeight === 0) return new Uint8Array(0);
  if (width === 0 || height === 0) {
    throw new RangeError(`cannot resize an empty ${width}x${height} image to ${newWidth}x${newHeight}`);
  }
  const taps = (src, dst) => {
    const i0 = new Int32Array(dst);
    const i1 = new Int32Array(dst);
    const f = new Float32Array(dst);
    for (let i = 0; i < dst; i++) {
      const s = Math.min(Math.max((i + 0.5) * (src / dst) - 0.5, 0), src - 1);
      i0[i] = Math.floor(s);
      i1[i] = Math.min(i0[i] + 1, src - 1);
      f[i] = s - i0[i];
    }
    return { i0, i1, f };
  };
  const xs = taps(width, newWidth);
  const ys = taps(height, newHeight);
  const out = new Uint8Array(newWidth * newHeight * 4);
  const stride = width * 4;
  for (let y = 0; y < newHeight; y++) {
    const top = ys.i0[y] * stride;
    const bottom = ys.i1[y] * stride;
    const fy = ys.f[y];
    for (let x = 0; x < newWidth; x++) {
      const a = xs.i0[x] * 4;
      const b = xs.i1[x] * 4;
      const fx = xs.f[x];
      for (let c = 0; c < 4; c++) {
        const upper = rgba[top + a + c] + (rgba[top + b + c] - rgba[top + a + c]) * fx;
        const lower = rgba[bottom + a + c] + (rgba[bottom + b + c] - rgba[bottom + a + c]) * fx;
        out[(y * newWidth + x) * 4 + c] = upper + (lower - upper) * fy + 0.5;
      }
    }
  }
  return out;
}
