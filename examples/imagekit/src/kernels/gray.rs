//! Grayscale: Y = (19595 R + 38470 G + 7471 B + 32768) >> 16, the BT.601
//! weights 0.299, 0.587, 0.114 in 16-bit fixed point, rounded (what Pillow's
//! `convert("L")` computes). R, G and B become Y; alpha is kept.

use std::vec::Vec;

/// `rgba` with every pixel's colour replaced by its luma; alpha unchanged. A
/// trailing partial pixel (a length not a multiple of 4) is copied as it is.
pub fn grayscale(rgba: &[u8]) -> Vec<u8> {
    let mut out = rgba.to_vec();
    for px in out.chunks_exact_mut(4) {
        let y = luma(px[0], px[1], px[2]);
        px[0] = y;
        px[1] = y;
        px[2] = y;
    }
    out
}

#[inline(always)]
fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((19595 * r as u32 + 38470 * g as u32 + 7471 * b as u32 + 32768) >> 16) as u8
}
