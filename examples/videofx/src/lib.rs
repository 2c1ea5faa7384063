//! videofx: per-frame filters on RGBA8 frames, in place, as WebAssembly
//! exports. One call filters a whole frame; `grayscale_pixel` and
//! `grayscale_row` exist to show what crossing the bridge per pixel or per
//! row costs instead (bench/usecases/videofx.py). The filters are
//! src/kernels.rs, which native/ also builds for the host.
#![no_std]

extern crate alloc;

use alloc::format;
use alloc::string::String;

mod kernels;

fn whole_pixels(what: &str, data: &[u8]) -> Result<(), String> {
    if data.len() % 4 == 0 {
        Ok(())
    } else {
        Err(format!(
            "{what} length {} is not a multiple of 4 (RGBA: 4 bytes a pixel)",
            data.len()
        ))
    }
}

/// Turns an RGBA frame to grayscale in place and stretches it around mid-gray:
/// `contrast` 1.0 keeps the luma, 0.0 gives flat gray, 2.0 doubles the
/// distance from 128 (clamped to 0.0..=16.0, in 256ths). Alpha is kept.
#[wasmbridge::export]
pub fn grayscale_contrast(frame: &mut [u8], contrast: f32) -> Result<(), String> {
    whole_pixels("frame", frame)?;
    kernels::grayscale_contrast(frame, kernels::contrast_factor(contrast));
    Ok(())
}

/// Tones an RGBA frame sepia in place (the classic matrix, saturating). Alpha is kept.
#[wasmbridge::export]
pub fn sepia(frame: &mut [u8]) -> Result<(), String> {
    whole_pixels("frame", frame)?;
    kernels::sepia(frame);
    Ok(())
}

/// The luma of one pixel: `(77 r + 150 g + 29 b + 128) >> 8`.
#[wasmbridge::export]
pub fn grayscale_pixel(r: u8, g: u8, b: u8) -> u8 {
    kernels::luma(r, g, b)
}

/// Turns one row (or any run) of RGBA pixels to grayscale in place; alpha is kept.
#[wasmbridge::export]
pub fn grayscale_row(row: &mut [u8]) -> Result<(), String> {
    whole_pixels("row", row)?;
    kernels::grayscale_contrast(row, 256);
    Ok(())
}
