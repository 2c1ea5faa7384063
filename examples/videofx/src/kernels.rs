//! The videofx filters in plain Rust (core only, no dependencies): RGBA8
//! frames changed in place, four bytes a pixel, alpha kept.
//!
//! Every result is defined in integers, so any host can reproduce it bit for
//! bit (README.md gives the formulas; tests/usecases/test_videofx.py checks
//! them against numpy):
//!
//! - luma: `y = (77 R + 150 G + 29 B + 128) >> 8`
//! - contrast: `k = trunc(clamp(contrast, 0, 16) * 256)` (NaN: 0), then
//!   `clamp(128 + (((y - 128) k + 128) >> 8), 0, 255)` with `>>` rounding down
//! - sepia: `min(255, (row · (R, G, B) + 128) >> 8)` for the rows of SEPIA
//!
//! On wasm32 with simd128 one `v128` holds four pixels; the arithmetic runs
//! in 32-bit lanes whose products come from `i32x4.dot_i16x8_s`. Elsewhere
//! (the native build) the scalar loop below computes the same numbers. A
//! trailing partial pixel (fewer than 4 bytes) is left alone: src/lib.rs
//! refuses such frames before calling in.

/// Luma weights of R, G, B, in 256ths (BT.601, summing to 256).
pub const LUMA: [i32; 3] = [77, 150, 29];

/// The classic sepia matrix in 256ths: output R, G, B from input R, G, B.
pub const SEPIA: [[i32; 3]; 3] = [[101, 197, 48], [89, 176, 43], [70, 137, 34]];

/// Contrast factors above this (16.0 in 256ths) are clamped to it.
pub const MAX_FACTOR: i32 = 16 * 256;

/// The contrast factor in 256ths: `trunc(clamp(contrast, 0, 16) * 256)`, 0 for NaN.
pub fn contrast_factor(contrast: f32) -> i32 {
    if contrast.is_nan() || contrast <= 0.0 {
        0
    } else if contrast >= 16.0 {
        MAX_FACTOR
    } else {
        (contrast * 256.0) as i32 // exact: a power-of-two scale, then truncation
    }
}

/// The luma of one pixel.
pub fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((LUMA[0] * r as i32 + LUMA[1] * g as i32 + LUMA[2] * b as i32 + 128) >> 8) as u8
}

fn stretch(y: i32, factor: i32) -> u8 {
    ((((y - 128) * factor + 128) >> 8) + 128).clamp(0, 255) as u8
}

/// Every pixel becomes its luma, stretched around 128 by `factor` 256ths
/// (256: plain grayscale).
pub fn grayscale_contrast(frame: &mut [u8], factor: i32) {
    let factor = factor.clamp(0, MAX_FACTOR);
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let frame = simd::grayscale_contrast(frame, factor);
    for pixel in frame.chunks_exact_mut(4) {
        let y = stretch(luma(pixel[0], pixel[1], pixel[2]) as i32, factor);
        pixel[0] = y;
        pixel[1] = y;
        pixel[2] = y;
    }
}

/// Every pixel through the sepia matrix, each channel saturating at 255.
pub fn sepia(frame: &mut [u8]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let frame = simd::sepia(frame);
    for pixel in frame.chunks_exact_mut(4) {
        let rgb = [pixel[0] as i32, pixel[1] as i32, pixel[2] as i32];
        for (out, row) in pixel.iter_mut().zip(SEPIA) {
            let sum = row[0] * rgb[0] + row[1] * rgb[1] + row[2] * rgb[2];
            *out = ((sum + 128) >> 8).min(255) as u8;
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    //! Four pixels a `v128`. Seen as 16-bit lanes a pixel is `R | G << 8`,
    //! `B | A << 8`: masking gives (R, B) pairs, shifting (G, A) pairs, and
    //! `i32x4_dot_i16x8` multiplies each pair by two weights and adds them,
    //! one 32-bit sum per pixel.
    use super::{LUMA, SEPIA};
    use core::arch::wasm32::*;

    /// Two 16-bit weights, one per half of a 32-bit lane.
    fn pair(low: i32, high: i32) -> v128 {
        i32x4_splat(low | high << 16)
    }

    /// Processes the whole 16-byte blocks; returns the rest for the scalar loop.
    fn blocks(frame: &mut [u8], mut each: impl FnMut(v128) -> v128) -> &mut [u8] {
        let whole = frame.len() & !15;
        let (body, rest) = frame.split_at_mut(whole);
        for block in body.chunks_exact_mut(16) {
            let at = block.as_mut_ptr() as *mut v128;
            // SAFETY: `block` is 16 writable bytes; v128 loads and stores need no alignment.
            unsafe { v128_store(at, each(v128_load(at))) }
        }
        rest
    }

    pub fn grayscale_contrast(frame: &mut [u8], factor: i32) -> &mut [u8] {
        let (rb_w, ga_w) = (pair(LUMA[0], LUMA[2]), pair(LUMA[1], 0));
        let (k, half, mid) = (i32x4_splat(factor), i32x4_splat(128), i32x4_splat(128));
        let (zero, top) = (i32x4_splat(0), i32x4_splat(255));
        let low_bytes = u16x8_splat(0x00ff);
        blocks(frame, |v| {
            let rb = v128_and(v, low_bytes);
            let ga = u16x8_shr(v, 8);
            let sum = i32x4_add(i32x4_dot_i16x8(rb, rb_w), i32x4_dot_i16x8(ga, ga_w));
            let y = i32x4_shr(i32x4_add(sum, half), 8);
            // y - 128 fits an i16 in the low half of the lane, and the high half
            // is its sign; against (k, 0) the dot product is exactly (y - 128) * k.
            let d = i32x4_dot_i16x8(i32x4_sub(y, mid), k);
            let t = i32x4_add(i32x4_shr(i32x4_add(d, half), 8), mid);
            let t = i32x4_min(i32x4_max(t, zero), top);
            // Byte 0 of each lane into R, G, B; A from the input.
            i8x16_shuffle::<0, 0, 0, 19, 4, 4, 4, 23, 8, 8, 8, 27, 12, 12, 12, 31>(t, v)
        })
    }

    pub fn sepia(frame: &mut [u8]) -> &mut [u8] {
        let rows = SEPIA.map(|row| (pair(row[0], row[2]), pair(row[1], 0)));
        let half = i32x4_splat(128);
        let low_bytes = u16x8_splat(0x00ff);
        blocks(frame, |v| {
            let rb = v128_and(v, low_bytes);
            let ga = u16x8_shr(v, 8);
            let [r, g, b] = rows.map(|(rb_w, ga_w)| {
                let sum = i32x4_add(i32x4_dot_i16x8(rb, rb_w), i32x4_dot_i16x8(ga, ga_w));
                i32x4_shr(i32x4_add(sum, half), 8)
            });
            let a = u32x4_shr(v, 24);
            // Saturating narrows clamp to 0..=255: bytes R0..R3 G0..G3 B0..B3 A0..A3.
            let planar = u8x16_narrow_i16x8(i16x8_narrow_i32x4(r, g), i16x8_narrow_i32x4(b, a));
            i8x16_shuffle::<0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15>(planar, planar)
        })
    }
}
