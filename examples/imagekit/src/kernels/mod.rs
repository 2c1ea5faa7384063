//! The image kernels, plain Rust with no dependencies and no SDK: the wasm
//! exports in ../lib.rs call them, and ../../native compiles this same tree
//! for the host. Every image is RGBA8, rows top to bottom, no padding.

mod blur;
mod f4;
mod gray;
mod jpeg;
mod resize;

pub use blur::gaussian_blur;
pub use gray::grayscale;
pub use jpeg::encode_jpeg;
pub use resize::resize;

use std::format;
use std::string::String;

/// `Err` unless `rgba` holds exactly `width * height` RGBA pixels.
pub fn check_size(rgba: &[u8], width: u32, height: u32) -> Result<usize, String> {
    // width * height fits in u64; times 4 may not (2^31 x 2^31 would wrap to 0), so the
    // length is divided instead.
    let pixels = width as u64 * height as u64;
    let len = rgba.len() as u64;
    if len % 4 != 0 || len / 4 != pixels {
        return Err(format!(
            "rgba has {} bytes, but a {width}x{height} image needs {} (4 per pixel)",
            rgba.len(),
            pixels as u128 * 4
        ));
    }
    Ok(pixels as usize)
}
