//! The two benchmark kernels in plain Rust (core + alloc, no dependencies):
//! SHA-256, a scalar kernel of 32-bit adds, rotates and logic, and a 3x3
//! box blur of an 8-bit grayscale image, a byte kernel that vectorizes.
//!
//! src/lib.rs exports them to WebAssembly and native/src/lib.rs includes
//! this same file for the host, so both sides compile one source.

use alloc::vec;
use alloc::vec::Vec;

/// SHA-256 (FIPS 180-4) of `data`: 32 bytes.
pub fn sha256(data: &[u8]) -> Vec<u8> {
    let mut state = H0;
    let mut blocks = data.chunks_exact(64);
    for block in &mut blocks {
        compress(&mut state, block);
    }
    // Padding: the remaining bytes, 0x80, zeros, then the length in bits as
    // a big-endian u64 ending a block; one block, or two when it does not fit.
    let rest = blocks.remainder();
    let mut tail = [0u8; 128];
    tail[..rest.len()].copy_from_slice(rest);
    tail[rest.len()] = 0x80;
    let tail_len = if rest.len() < 56 { 64 } else { 128 };
    let bits = (data.len() as u64).wrapping_mul(8);
    tail[tail_len - 8..tail_len].copy_from_slice(&bits.to_be_bytes());
    for block in tail[..tail_len].chunks_exact(64) {
        compress(&mut state, block);
    }
    state.iter().flat_map(|word| word.to_be_bytes()).collect()
}

/// The initial hash value: the first 32 bits of the fractional parts of the
/// square roots of the first 8 primes.
const H0: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// The round constants: the first 32 bits of the fractional parts of the
/// cube roots of the first 64 primes.
const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// One 64-byte block into the state: 64 rounds, eight at a time with the
/// working variables renamed instead of moved (so no round ends by shifting
/// eight registers along; Cranelift, which compiles the wasm, does not unroll
/// loops to remove the moves), and the message schedule kept as a ring of 16
/// words, extended 16 at a time.
fn compress(state: &mut [u32; 8], block: &[u8]) {
    let mut w = [0u32; 16];
    for (word, bytes) in w.iter_mut().zip(block.chunks_exact(4)) {
        *word = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
    for (i, k) in K.chunks_exact(16).enumerate() {
        if i > 0 {
            extend_schedule(&mut w);
        }
        for (k, w) in k.chunks_exact(8).zip(w.chunks_exact(8)) {
            round(a, b, c, &mut d, e, f, g, &mut h, k[0].wrapping_add(w[0]));
            round(h, a, b, &mut c, d, e, f, &mut g, k[1].wrapping_add(w[1]));
            round(g, h, a, &mut b, c, d, e, &mut f, k[2].wrapping_add(w[2]));
            round(f, g, h, &mut a, b, c, d, &mut e, k[3].wrapping_add(w[3]));
            round(e, f, g, &mut h, a, b, c, &mut d, k[4].wrapping_add(w[4]));
            round(d, e, f, &mut g, h, a, b, &mut c, k[5].wrapping_add(w[5]));
            round(c, d, e, &mut f, g, h, a, &mut b, k[6].wrapping_add(w[6]));
            round(b, c, d, &mut e, f, g, h, &mut a, k[7].wrapping_add(w[7]));
        }
    }
    for (word, value) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
        *word = word.wrapping_add(value);
    }
}

/// One round; the caller rotates the names, so only `d` and `h` change.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn round(a: u32, b: u32, c: u32, d: &mut u32, e: u32, f: u32, g: u32, h: &mut u32, kw: u32) {
    let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
    let choice = (e & f) ^ (!e & g);
    let t1 = h.wrapping_add(s1).wrapping_add(choice).wrapping_add(kw);
    let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
    let majority = (a & b) ^ (a & c) ^ (b & c);
    *d = d.wrapping_add(t1);
    *h = t1.wrapping_add(s0).wrapping_add(majority);
}

/// The next 16 words of the message schedule, in place of the last 16.
fn extend_schedule(w: &mut [u32; 16]) {
    // In the ring, (t + 1) % 16 holds word t - 15, (t + 14) % 16 word t - 2
    // and (t + 9) % 16 word t - 7.
    for t in 0..16 {
        let (w15, w2) = (w[(t + 1) % 16], w[(t + 14) % 16]);
        let s0 = w15.rotate_right(7) ^ w15.rotate_right(18) ^ (w15 >> 3);
        let s1 = w2.rotate_right(17) ^ w2.rotate_right(19) ^ (w2 >> 10);
        w[t] = w[t]
            .wrapping_add(s0)
            .wrapping_add(w[(t + 9) % 16])
            .wrapping_add(s1);
    }
}

/// A 3x3 box blur of an 8-bit grayscale image, `width` x `height`, rows top
/// to bottom. Edges clamp: a pixel outside the image reads as the nearest
/// pixel inside it, so every output pixel is the mean of 9 values, rounded
/// down. Panics when `pixels` does not hold exactly `width * height` bytes.
pub fn blur(pixels: &[u8], width: usize, height: usize) -> Vec<u8> {
    let size = width.checked_mul(height);
    assert!(
        size == Some(pixels.len()),
        "blur: pixels must hold width * height bytes"
    );
    // Filled row by row rather than zeroed first: without bulk memory a
    // wasm memset is a loop as long as the image.
    let mut out = Vec::with_capacity(pixels.len());
    if pixels.is_empty() {
        return out;
    }
    let row = |y: usize| &pixels[y * width..(y + 1) * width];
    // Vertical sums of three rows (at most 3 * 255), then horizontal ones.
    let mut columns = vec![0u16; width];
    for y in 0..height {
        let above = row(y.saturating_sub(1));
        let below = row((y + 1).min(height - 1));
        column_sums(&mut columns, above, row(y), below);
        blur_row(&mut out, &columns);
    }
    out
}

/// Each column's sum over three rows.
fn column_sums(sums: &mut [u16], above: &[u8], here: &[u8], below: &[u8]) {
    let n = sums.len();
    let (above, here, below) = (&above[..n], &here[..n], &below[..n]);
    for i in 0..n {
        sums[i] = u16::from(above[i]) + u16::from(here[i]) + u16::from(below[i]);
    }
}

/// Appends one output row, from its column sums; the first and last columns repeat.
fn blur_row(out: &mut Vec<u8>, columns: &[u16]) {
    let n = columns.len();
    if n == 1 {
        out.push(div9(3 * columns[0]));
        return;
    }
    out.push(div9(2 * columns[0] + columns[1]));
    let windows = columns[..n - 2]
        .iter()
        .zip(&columns[1..n - 1])
        .zip(&columns[2..]);
    out.extend(windows.map(|((&left, &middle), &right)| div9(left + middle + right)));
    out.push(div9(columns[n - 2] + 2 * columns[n - 1]));
}

/// `sum / 9`, rounded down, for a sum of nine bytes, as a multiply and a
/// shift (it vectorizes; a division does not): 7282 / 2^16 is 1/9 + 1/294912,
/// and for any sum below 9 * 256 the excess, under 1/115, cannot carry
/// sum / 9 past the next integer (at least 1/9 away). Natively this is one
/// 16-bit multiply-high per 8 pixels; wasm has none, so LLVM 14 widens to
/// u32 lanes with shuffles. Exact forms in u16 lanes only (no widening) cost
/// native far more than they save wasm (docs/benchmarks.md, Kernels).
#[inline(always)]
fn div9(sum: u16) -> u8 {
    ((u32::from(sum) * 7282) >> 16) as u8
}

// Checked at compile time for every sum the blur can make.
const _: () = {
    let mut sum = 0;
    while sum <= 9 * 255 {
        assert!((sum * 7282) >> 16 == sum / 9, "div9 differs from sum / 9");
        sum += 1;
    }
};
