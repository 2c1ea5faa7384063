//! videofx-native: ../src/kernels.rs for the host, behind `extern "C"` entry
//! points that bench/usecases/videofx.py calls through ctypes. Each calls the
//! same function the wasm export calls, on the caller's buffer, in place.

use core::slice;

#[path = "../../src/kernels.rs"]
mod kernels;

/// Grayscale with contrast, in place, on `len` bytes of RGBA at `frame`.
///
/// # Safety
/// `frame` holds `len` writable bytes (any pointer when `len` is 0).
#[no_mangle]
pub unsafe extern "C" fn videofx_grayscale_contrast(frame: *mut u8, len: usize, contrast: f32) {
    kernels::grayscale_contrast(bytes(frame, len), kernels::contrast_factor(contrast));
}

/// Sepia, in place, on `len` bytes of RGBA at `frame`.
///
/// # Safety
/// `frame` holds `len` writable bytes (any pointer when `len` is 0).
#[no_mangle]
pub unsafe extern "C" fn videofx_sepia(frame: *mut u8, len: usize) {
    kernels::sepia(bytes(frame, len));
}

unsafe fn bytes<'a>(data: *mut u8, len: usize) -> &'a mut [u8] {
    if len == 0 {
        &mut []
    } else {
        slice::from_raw_parts_mut(data, len)
    }
}

/// `videofx_grayscale_contrast` with the scalar loop only (no SIMD), for comparison.
///
/// # Safety
/// `frame` holds `len` writable bytes (any pointer when `len` is 0).
#[no_mangle]
pub unsafe extern "C" fn videofx_grayscale_contrast_scalar(
    frame: *mut u8,
    len: usize,
    contrast: f32,
) {
    kernels::grayscale_contrast_scalar(bytes(frame, len), kernels::contrast_factor(contrast));
}

/// `videofx_sepia` with the scalar loop only (no SIMD), for comparison.
///
/// # Safety
/// `frame` holds `len` writable bytes (any pointer when `len` is 0).
#[no_mangle]
pub unsafe extern "C" fn videofx_sepia_scalar(frame: *mut u8, len: usize) {
    kernels::sepia_scalar(bytes(frame, len));
}
