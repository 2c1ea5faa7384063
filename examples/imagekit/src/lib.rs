//! imagekit: decode PNG and JPEG, grayscale, Gaussian blur, bilinear resize
//! and encode JPEG, as WebAssembly exports, one call per image. Images are
//! RGBA8, rows top to bottom. The kernels are plain Rust in kernels/ (which
//! native/ builds for the host too); decode.rs wraps the png and
//! jpeg-decoder crates.

mod decode;
mod kernels;

/// A decoded image: `width` x `height` RGBA8 pixels, rows top to bottom.
#[wasmbridge::export]
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

/// A PNG or JPEG file as RGBA8; `Err` says what is wrong with the file.
#[wasmbridge::export]
pub fn decode(data: &[u8]) -> Result<Image, String> {
    let d = decode::decode(data)?;
    Ok(Image {
        width: d.width,
        height: d.height,
        rgba: d.rgba,
    })
}

/// The pixels alone, as one byte buffer (`bytes` in Python, a `Uint8Array` in JS): the
/// fast way for big images, where `decode`'s record carries them as a list of numbers.
/// `Image` from `decode` on the same file has the same `rgba`.
#[wasmbridge::export]
pub fn decode_rgba(data: &[u8]) -> Result<Vec<u8>, String> {
    Ok(decode::decode(data)?.rgba)
}

/// `(width, height)` of a PNG or JPEG file, decoded (use with `decode_rgba`).
#[wasmbridge::export]
pub fn dimensions(data: &[u8]) -> Result<(u32, u32), String> {
    let d = decode::decode(data)?;
    Ok((d.width, d.height))
}

/// Every pixel's colour as its luma, (19595 R + 38470 G + 7471 B + 32768) >> 16; alpha kept.
#[wasmbridge::export]
pub fn grayscale(rgba: &[u8]) -> Vec<u8> {
    kernels::grayscale(rgba)
}

/// A Gaussian blur of standard deviation `sigma` (0..=200) pixels, edges clamped.
#[wasmbridge::export]
pub fn gaussian_blur(rgba: &[u8], width: u32, height: u32, sigma: f32) -> Result<Vec<u8>, String> {
    kernels::gaussian_blur(rgba, width, height, sigma)
}

/// Bilinear resize to `new_width` x `new_height`, pixel centres at half-integers.
#[wasmbridge::export]
pub fn resize(
    rgba: &[u8],
    width: u32,
    height: u32,
    new_width: u32,
    new_height: u32,
) -> Result<Vec<u8>, String> {
    kernels::resize(rgba, width, height, new_width, new_height)
}

/// A baseline JPEG (4:2:0, standard tables) at `quality` 1..=100; alpha is dropped.
#[wasmbridge::export]
pub fn encode_jpeg(rgba: &[u8], width: u32, height: u32, quality: u8) -> Result<Vec<u8>, String> {
    kernels::encode_jpeg(rgba, width, height, quality)
}
