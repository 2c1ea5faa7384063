//! kernels: SHA-256 and a 3x3 box blur as WebAssembly exports, for
//! bench/kernels.py. The code is src/kernels.rs, which native/ also builds
//! for the host, so wasm and native run the same source.
#![no_std]

extern crate alloc;

use alloc::vec::Vec;

mod kernels;

/// The SHA-256 digest of `data` (32 bytes).
#[wasmbridge::export]
pub fn sha256(data: &[u8]) -> Vec<u8> {
    kernels::sha256(data)
}

/// A 3x3 box blur of an 8-bit grayscale image, `width` x `height`, rows
/// top to bottom; pixels outside the image repeat the nearest edge pixel.
#[wasmbridge::export]
pub fn blur(pixels: &[u8], width: u32, height: u32) -> Vec<u8> {
    kernels::blur(pixels, width as usize, height as usize)
}
