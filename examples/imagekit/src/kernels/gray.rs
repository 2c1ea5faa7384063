//! Grayscale: Y = (19595 R + 38470 G + 7471 B + 32768) >> 16, the BT.601
//! weights 0.299, 0.587, 0.114 in 16-bit fixed point, rounded (what Pillow's
//! `convert("L")` computes). R, G and B become Y; alpha is kept.

use std::vec::Vec;

/// `rgba` with every pixel's colour replaced by its luma; alpha unchanged. A
/// trailing partial pixel (a length not a multiple of 4) is copied as it is.
pub fn grayscale(rgba: &[u8]) -> Vec<u8> {
    let mut out = rgba.to_vec();
    let rest = simd_blocks(&mut out);
    // A pixel as one little-endian word (R in the low byte): straight-line integer
    // code that the compiler turns into SIMD on x86_64.
    for px in rest.chunks_exact_mut(4) {
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

/// Four pixels a `v128`, in place; returns the bytes left for the scalar loop.
/// Seen as 16-bit lanes a pixel is `R | G << 8`, `B | A << 8`: masking gives
/// (R, B) pairs and shifting (G, A) pairs, and `i32x4_dot_i16x8` multiplies each
/// pair by two weights and adds them. 38470 is no i16, so G is weighted by
/// 19235 and that product doubled (the sum is the same exact integer). LLVM
/// turns `gray_word`'s loop into lane-by-lane code on wasm32.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn simd_blocks(out: &mut [u8]) -> &mut [u8] {
    use core::arch::wasm32::*;
    let whole = out.len() & !15;
    let (body, rest) = out.split_at_mut(whole);
    let rb_w = i32x4_splat(19595 | 7471 << 16);
    let g_w = i32x4_splat(19235);
    let (low_bytes, half) = (u16x8_splat(0x00ff), i32x4_splat(32768));
    for block in body.chunks_exact_mut(16) {
        let at = block.as_mut_ptr() as *mut v128;
        // SAFETY: `block` is 16 writable bytes; v128 loads and stores need no alignment.
        unsafe {
            let v = v128_load(at);
            let rb = i32x4_dot_i16x8(v128_and(v, low_bytes), rb_w);
            let g = i32x4_dot_i16x8(u16x8_shr(v, 8), g_w);
            let sum = i32x4_add(i32x4_add(rb, half), i32x4_add(g, g));
            let y = u32x4_shr(sum, 16);
            // Byte 0 of each lane into R, G, B; A from the input.
            let px = i8x16_shuffle::<0, 0, 0, 19, 4, 4, 4, 23, 8, 8, 8, 27, 12, 12, 12, 31>(y, v);
            v128_store(at, px);
        }
    }
    rest
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
fn simd_blocks(out: &mut [u8]) -> &mut [u8] {
    out
}
