//! kernels-native: ../src/kernels.rs for the host, behind `extern "C"`
//! entry points that bench/kernels.py calls through ctypes. Each calls the
//! same function the wasm export calls and copies its result out.

extern crate alloc;

use core::{ptr, slice};

#[path = "../../src/kernels.rs"]
mod kernels;

/// Writes the SHA-256 digest of `len` bytes at `data` to the 32 bytes at `out`.
///
/// # Safety
/// `data` holds `len` readable bytes (any pointer when `len` is 0), `out` 32 writable ones.
#[no_mangle]
pub unsafe extern "C" fn kernels_sha256(data: *const u8, len: usize, out: *mut u8) {
    let digest = kernels::sha256(bytes(data, len));
    ptr::copy_nonoverlapping(digest.as_ptr(), out, digest.len());
}

/// Writes the blur of the `width` x `height` image at `pixels` to `out` (as many bytes).
///
/// # Safety
/// `pixels` and `out` each hold `width * height` bytes, readable and writable.
#[no_mangle]
pub unsafe extern "C" fn kernels_blur(pixels: *const u8, width: u32, height: u32, out: *mut u8) {
    let (width, height) = (width as usize, height as usize);
    let image = kernels::blur(bytes(pixels, width * height), width, height);
    ptr::copy_nonoverlapping(image.as_ptr(), out, image.len());
}

unsafe fn bytes<'a>(data: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        &[]
    } else {
        slice::from_raw_parts(data, len)
    }
}
