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
//! in 32-bit lanes whose products come from `i32x4.dot_i16x8_s`. The native
//! build on x86_64 does the same with SSE2; anywhere else the scalar loops
//! compute the same numbers. A
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
    #[cfg(any(
        all(target_arch = "wasm32", target_feature = "simd128"),
        target_arch = "x86_64"
    ))]
    let frame = simd::grayscale_contrast(frame, factor);
    grayscale_contrast_scalar(frame, factor);
}

/// Every pixel through the sepia matrix, each channel saturating at 255.
pub fn sepia(frame: &mut [u8]) {
    #[cfg(any(
        all(target_arch = "wasm32", target_feature = "simd128"),
        target_arch = "x86_64"
    ))]
    let frame = simd::sepia(frame);
    sepia_scalar(frame);
}

/// `grayscale_contrast` one pixel at a time (`factor` already in 0..=MAX_FACTOR).
pub fn grayscale_contrast_scalar(frame: &mut [u8], factor: i32) {
    for pixel in frame.chunks_exact_mut(4) {
        let y = stretch(luma(pixel[0], pixel[1], pixel[2]) as i32, factor);
        pixel[0] = y;
        pixel[1] = y;
        pixel[2] = y;
    }
}

/// `sepia` one pixel at a time.
pub fn sepia_scalar(frame: &mut [u8]) {
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

#[cfg(target_arch = "x86_64")]
mod simd {
    //! The wasm32 code above with SSE2, which every x86_64 CPU has, for the
    //! native build: `_mm_madd_epi16` is `i32x4_dot_i16x8`. SSE2 has no 32-bit
    //! min/max and no byte shuffle, so saturating packs clamp and unpacks
    //! interleave instead.
    use super::{LUMA, SEPIA};
    use core::arch::x86_64::*;

    // SAFETY (every `unsafe` below): SSE2 is part of x86_64, and the loads and
    // stores are unaligned ones within a 16-byte block of the frame.

    fn pair(low: i32, high: i32) -> __m128i {
        unsafe { _mm_set1_epi32(low | high << 16) }
    }

    fn blocks(frame: &mut [u8], mut each: impl FnMut(__m128i) -> __m128i) -> &mut [u8] {
        let whole = frame.len() & !15;
        let (body, rest) = frame.split_at_mut(whole);
        for block in body.chunks_exact_mut(16) {
            let at = block.as_mut_ptr() as *mut __m128i;
            unsafe { _mm_storeu_si128(at, each(_mm_loadu_si128(at))) }
        }
        rest
    }

    pub fn grayscale_contrast(frame: &mut [u8], factor: i32) -> &mut [u8] {
        let (rb_w, ga_w) = (pair(LUMA[0], LUMA[2]), pair(LUMA[1], 0));
        unsafe {
            let (k, mid) = (_mm_set1_epi32(factor), _mm_set1_epi32(128));
            let (low_bytes, alpha) = (_mm_set1_epi32(0x00ff_00ff), _mm_set1_epi32(-1 << 24));
            let zero = _mm_setzero_si128();
            blocks(frame, |v| {
                let rb = _mm_and_si128(v, low_bytes);
                let ga = _mm_srli_epi16(v, 8);
                let sum = _mm_add_epi32(_mm_madd_epi16(rb, rb_w), _mm_madd_epi16(ga, ga_w));
                let y = _mm_srai_epi32(_mm_add_epi32(sum, mid), 8);
                let d = _mm_madd_epi16(_mm_sub_epi32(y, mid), k);
                let t = _mm_add_epi32(_mm_srai_epi32(_mm_add_epi32(d, mid), 8), mid);
                // Clamp to 0..=255 with saturating packs, then back to one per lane.
                let bytes = _mm_packus_epi16(_mm_packs_epi32(t, t), zero);
                let t = _mm_unpacklo_epi16(_mm_unpacklo_epi8(bytes, zero), zero);
                let rgb =
                    _mm_or_si128(_mm_or_si128(t, _mm_slli_epi32(t, 8)), _mm_slli_epi32(t, 16));
                _mm_or_si128(rgb, _mm_and_si128(v, alpha))
            })
        }
    }

    pub fn sepia(frame: &mut [u8]) -> &mut [u8] {
        let rows = SEPIA.map(|row| (pair(row[0], row[2]), pair(row[1], 0)));
        unsafe {
            let half = _mm_set1_epi32(128);
            let low_bytes = _mm_set1_epi32(0x00ff_00ff);
            blocks(frame, |v| {
                let rb = _mm_and_si128(v, low_bytes);
                let ga = _mm_srli_epi16(v, 8);
                let [r, g, b] = rows.map(|(rb_w, ga_w)| {
                    let sum = _mm_add_epi32(_mm_madd_epi16(rb, rb_w), _mm_madd_epi16(ga, ga_w));
                    _mm_srli_epi32(_mm_add_epi32(sum, half), 8)
                });
                let a = _mm_srli_epi32(v, 24);
                // Bytes R0..R3 B0..B3 G0..G3 A0..A3 (saturated), then interleaved.
                let planar = _mm_packus_epi16(_mm_packs_epi32(r, b), _mm_packs_epi32(g, a));
                let paired = _mm_unpacklo_epi8(planar, _mm_srli_si128(planar, 8));
                _mm_unpacklo_epi16(paired, _mm_srli_si128(paired, 8))
            })
        }
    }
}
