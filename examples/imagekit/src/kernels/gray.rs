//! Grayscale: Y = (19595 R + 38470 G + 7471 B + 32768) >> 16, the BT.601
//! weights 0.299, 0.587, 0.114 in 16-bit fixed point, rounded (what Pillow's
//! `convert("L")` computes). R, G and B become Y; alpha is kept.

use std::vec::Vec;

/// `rgba` with every pixel's colour replaced by its luma; alpha unchanged. A
/// trailing partial pixel (a length not a multiple of 4) is copied as it is.
pub fn grayscale(rgba: &[u8]) -> Vec<u8> {
    let mut out = rgba.to_vec();
    // A pixel as one little-endian word (R in the low byte): straight-line integer
    // code that the compiler turns into SIMD on both wasm32 (simd128) and x86_64.
    for px in out.chunks_exact_mut(4) {
        let word = u32::from_le_bytes([px[0], px[1], px[2], px[3]]);
        px.copy_from_slice(&gray_word(word).to_le_bytes());
    }
    out
}

#[inline(always)]
fn gray_word(word: u32) -> u32 {
    let (r, g, b) = (word & 0xFF, (word >> 8) & 0xFF, (word >> 16) & 0xFF);
    let y = (19595 * r + 38470 * g + 7471 * b + 32768) >> 16;
    (word & 0xFF00_0000) | (y * 0x01_0101)
}
