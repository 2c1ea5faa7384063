//! Gaussian blur: weights exp(-k^2 / (2 sigma^2)) for |k| <= ceil(3 sigma),
//! normalised to sum 1, applied along rows then along columns (the kernel is
//! separable) in f32, with pixels outside the image taken from the nearest
//! edge (clamped). All four channels are blurred alike (alpha too, not
//! premultiplied). The result is rounded to the nearest level once, at the end.

use super::f4::F4;
use std::format;
use std::string::String;
use std::vec;
use std::vec::Vec;

/// Largest radius accepted: sigma up to 200 (the work grows with it).
const MAX_RADIUS: usize = 600;

/// The blurred `width` x `height` RGBA image; sigma 0 returns a copy.
pub fn gaussian_blur(rgba: &[u8], width: u32, height: u32, sigma: f32) -> Result<Vec<u8>, String> {
    let pixels = super::check_size(rgba, width, height)?;
    if !(sigma >= 0.0 && sigma <= 200.0) {
        return Err(format!("sigma must be between 0 and 200, got {sigma}"));
    }
    let weights = weights(sigma);
    if weights.len() == 1 || pixels == 0 {
        return Ok(rgba.to_vec());
    }
    let (w, h) = (width as usize, height as usize);
    let mut rows = vec![0f32; pixels * 4];
    let mut padded = vec![0f32; (w + 2 * (weights.len() - 1)) * 4];
    for (src, dst) in rgba.chunks_exact(w * 4).zip(rows.chunks_exact_mut(w * 4)) {
        blur_row(src, dst, &weights, &mut padded);
    }
    let mut out = vec![0u8; pixels * 4];
    let mut acc = vec![0f32; w * 4];
    for y in 0..h {
        blur_column_step(&rows, y, h, w * 4, &weights, &mut acc);
        for (px, sum) in out[y * w * 4..][..w * 4]
            .chunks_exact_mut(4)
            .zip(acc.chunks_exact(4))
        {
            F4::load(sum).store_u8(px);
        }
    }
    Ok(out)
}

/// w[0..=r]: the centre weight, then one side's (the other mirrors it).
pub fn weights(sigma: f32) -> Vec<f32> {
    let radius = ((3.0 * sigma as f64).ceil() as usize).min(MAX_RADIUS);
    if radius == 0 {
        return vec![1.0];
    }
    let s2 = 2.0 * sigma as f64 * sigma as f64;
    let raw: Vec<f64> = (0..=radius)
        .map(|k| (-((k * k) as f64) / s2).exp())
        .collect();
    let total = raw[0] + 2.0 * raw[1..].iter().sum::<f64>();
    raw.iter().map(|x| (x / total) as f32).collect()
}

/// One row along x: `padded` gets the row as floats with `r` edge copies on
/// each side, so the inner loop needs no clamping.
fn blur_row(src: &[u8], dst: &mut [f32], weights: &[f32], padded: &mut [f32]) {
    let r = weights.len() - 1;
    let w = src.len() / 4;
    for (i, slot) in padded.chunks_exact_mut(4).enumerate() {
        let x = i.saturating_sub(r).min(w - 1);
        F4::from_u8_bits(&src[x * 4..]).store(slot);
    }
    let centre = F4::splat(weights[0]);
    for (x, out) in dst.chunks_exact_mut(4).enumerate() {
        let c = (x + r) * 4;
        let mut sum = F4::load(&padded[c..]).mul(centre);
        for (k, &wk) in weights.iter().enumerate().skip(1) {
            let pair = F4::load(&padded[c - k * 4..]).add(F4::load(&padded[c + k * 4..]));
            sum = sum.add(pair.mul(F4::splat(wk)));
        }
        sum.store(out);
    }
}

/// Output row `y` along the columns into `acc`: a weighted sum of whole rows
/// of `rows` (`stride` floats each), rows above 0 and below `h - 1` clamped.
fn blur_column_step(
    rows: &[f32],
    y: usize,
    h: usize,
    stride: usize,
    weights: &[f32],
    acc: &mut [f32],
) {
    let row = |i: usize| &rows[i * stride..][..stride];
    let centre = F4::splat(weights[0]);
    for (a, c) in acc.chunks_exact_mut(4).zip(row(y).chunks_exact(4)) {
        F4::load(c).mul(centre).store(a);
    }
    for (k, &wk) in weights.iter().enumerate().skip(1) {
        let (up, down) = (row(y.saturating_sub(k)), row((y + k).min(h - 1)));
        let wk = F4::splat(wk);
        for ((a, u), d) in acc
            .chunks_exact_mut(4)
            .zip(up.chunks_exact(4))
            .zip(down.chunks_exact(4))
        {
            F4::load(a)
                .add(F4::load(u).add(F4::load(d)).mul(wk))
                .store(a);
        }
    }
}
