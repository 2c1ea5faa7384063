// The videofx filters in plain JavaScript, with the integer formulas of
// ../README.md: the same bytes as the WebAssembly exports, for the showcase
// and the benchmarks to compare against. `frame` is a Uint8Array (or
// Uint8ClampedArray, such as ImageData.data) of RGBA pixels, changed in place.

const MAX_FACTOR = 16 * 256;

/** The contrast factor in 256ths: trunc(clamp(contrast, 0, 16) * 256), 0 for NaN. */
export function contrastFactor(contrast) {
  const c = Math.fround(contrast);
  if (!(c > 0)) return 0;
  if (c >= 16) return MAX_FACTOR;
  return Math.trunc(c * 256);
}

function checkFrame(frame, what) {
  if (frame.length % 4 !== 0) {
    throw new RangeError(`${what} length ${frame.length} is not a multiple of 4 (RGBA: 4 bytes a pixel)`);
  }
}

/** The luma of one pixel: (77 r + 150 g + 29 b + 128) >> 8. */
export function grayscalePixel(r, g, b) {
  return (77 * r + 150 * g + 29 * b + 128) >> 8;
}

/** Grayscale, stretched around 128 by `contrast` (1.0 keeps the luma), in place. */
export function grayscaleContrast(frame, contrast) {
  checkFrame(frame, "frame");
  const k = contrastFactor(contrast);
  for (let i = 0; i < frame.length; i += 4) {
    const y = (77 * frame[i] + 150 * frame[i + 1] + 29 * frame[i + 2] + 128) >> 8;
    let t = (((y - 128) * k + 128) >> 8) + 128;
    t = t < 0 ? 0 : t > 255 ? 255 : t;
    frame[i] = t;
    frame[i + 1] = t;
    frame[i + 2] = t;
  }
}

/** One row (or any run) of pixels to grayscale, in place. */
export function grayscaleRow(row) {
  checkFrame(row, "row");
  grayscaleContrast(row, 1);
}

/** Sepia (the classic matrix in 256ths, saturating), in place. */
export function sepia(frame) {
  checkFrame(frame, "frame");
  for (let i = 0; i < frame.length; i += 4) {
    const r = frame[i];
    const g = frame[i + 1];
    const b = frame[i + 2];
    const sr = (101 * r + 197 * g + 48 * b + 128) >> 8;
    const sg = (89 * r + 176 * g + 43 * b + 128) >> 8;
    const sb = (70 * r + 137 * g + 34 * b + 128) >> 8;
    frame[i] = sr > 255 ? 255 : sr;
    frame[i + 1] = sg > 255 ? 255 : sg;
    frame[i + 2] = sb > 255 ? 255 : sb;
  }
}
