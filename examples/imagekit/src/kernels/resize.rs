//! Bilinear resize with pixel centres at half-integers: output pixel `x`
//! samples the source at `(x + 0.5) * src_w / dst_w - 0.5`, clamped to
//! `[0, src_w - 1]` (likewise for y), the convention of OpenCV's INTER_LINEAR
//! and of `align_corners=False`. It interpolates the two nearest pixels in
//! each direction and does not average more when shrinking (no antialiasing).
//! Channels are interpolated alike, alpha too; rounded once at the end.

use super::f4::F4;
use std::format;
use std::string::String;
use std::vec;
use std::vec::Vec;

/// The `width` x `height` RGBA image at `new_width` x `new_height`.
pub fn resize(
    rgba: &[u8],
    width: u32,
    height: u32,
    new_width: u32,
    new_height: u32,
) -> Result<Vec<u8>, String> {
    super::check_size(rgba, width, height)?;
    let out_pixels = new_width as u64 * new_height as u64;
    if out_pixels == 0 {
        return Ok(Vec::new());
    }
    if width == 0 || height == 0 {
        return Err(format!(
            "cannot resize an empty {width}x{height} image to {new_width}x{new_height}"
        ));
    }
    if new_width > 1 << 16 || new_height > 1 << 16 {
        return Err(format!(
            "{new_width}x{new_height} is too large (at most 65536 on a side)"
        ));
    }
    if out_pixels > 1 << 28 {
        return Err(format!(
            "{new_width}x{new_height} is too large (at most 2^28 pixels)"
        ));
    }
    // Each output pixel reads two neighbouring source pixels in one load, so a
    // 1-pixel-wide source is widened to 2 (the same column twice) first.
    let widened: Vec<u8>;
    let (rgba, width) = if width == 1 {
        widened = rgba
            .chunks_exact(4)
            .flat_map(|p| [p, p])
            .flatten()
            .copied()
            .collect();
        (&widened[..], 2)
    } else {
        (rgba, width)
    };
    // Per output column: the byte offset of its left source pixel and the weight
    // of the right one. Every offset + 8 is within a source row (x0 <= width - 2).
    let xs: Vec<(usize, f32)> = taps(width, new_width)
        .into_iter()
        .map(|(x0, _, fx)| {
            if x0 + 1 == width as usize {
                ((x0 - 1) * 4, 1.0)
            } else {
                (x0 * 4, fx)
            }
        })
        .collect();
    let ys = taps(height, new_height);
    let stride = width as usize * 4;
    let mut out = vec![0u8; out_pixels as usize * 4];
    for (row_out, &(y0, y1, fy)) in out.chunks_exact_mut(new_width as usize * 4).zip(&ys) {
        let top = &rgba[y0 * stride..][..stride];
        let bottom = &rgba[y1 * stride..][..stride];
        let fy = F4::splat(fy);
        let pixel = |&(at, fx): &(usize, f32)| -> F4 {
            debug_assert!(at + 8 <= stride);
            // SAFETY: `at + 8 <= stride` for every entry of `xs` (see above), and
            // `top` and `bottom` are `stride` bytes long.
            let (t, u) = unsafe {
                (
                    top.get_unchecked(at..at + 8),
                    bottom.get_unchecked(at..at + 8),
                )
            };
            let fx = F4::splat(fx);
            let (a, b) = F4::pair_from_u8_bits(t);
            let (c, d) = F4::pair_from_u8_bits(u);
            let upper = a.add(b.sub(a).mul(fx));
            let lower = c.add(d.sub(c).mul(fx));
            upper.add(lower.sub(upper).mul(fy))
        };
        for (px, x) in row_out.chunks_exact_mut(4).zip(&xs) {
            pixel(x).store_u8(px);
        }
    }
    Ok(out)
}

/// For each output coordinate: the two source pixels and the weight of the second.
fn taps(src: u32, dst: u32) -> Vec<(usize, usize, f32)> {
    let scale = src as f64 / dst as f64;
    (0..dst)
        .map(|i| {
            let s = ((i as f64 + 0.5) * scale - 0.5).clamp(0.0, (src - 1) as f64);
            let i0 = s.floor() as usize;
            let i1 = (i0 + 1).min(src as usize - 1);
            (i0, i1, (s - i0 as f64) as f32)
        })
        .collect()
}
