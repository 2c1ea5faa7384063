//! imagekit-native: ../src/kernels/ for the host, behind `extern "C"` entry
//! points that bench/usecases/imagekit.py calls through ctypes. Each calls
//! the function the wasm export calls and copies its result out.

use core::{ptr, slice};

#[path = "../../src/kernels/mod.rs"]
mod kernels;

/// Writes the grayscale of the `len` bytes at `rgba` to `out` (as many bytes).
///
/// # Safety
/// `rgba` holds `len` readable bytes, `out` `len` writable ones.
#[no_mangle]
pub unsafe extern "C" fn imagekit_grayscale(rgba: *const u8, len: usize, out: *mut u8) {
    copy_out(Ok(kernels::grayscale(bytes(rgba, len))), out, len);
}

/// Writes the blurred image to `out`: its length, or -1 when the arguments are refused.
///
/// # Safety
/// `rgba` and `out` each hold `width * height * 4` bytes.
#[no_mangle]
pub unsafe extern "C" fn imagekit_blur(
    rgba: *const u8,
    width: u32,
    height: u32,
    sigma: f32,
    out: *mut u8,
) -> i64 {
    let len = width as usize * height as usize * 4;
    copy_out(
        kernels::gaussian_blur(bytes(rgba, len), width, height, sigma),
        out,
        len,
    )
}

/// Writes the resized image to `out`: its length, or -1 when the arguments are refused.
///
/// # Safety
/// `rgba` holds `width * height * 4` bytes, `out` `new_width * new_height * 4`.
#[no_mangle]
pub unsafe extern "C" fn imagekit_resize(
    rgba: *const u8,
    width: u32,
    height: u32,
    new_width: u32,
    new_height: u32,
    out: *mut u8,
) -> i64 {
    let len = width as usize * height as usize * 4;
    let image = kernels::resize(bytes(rgba, len), width, height, new_width, new_height);
    copy_out(image, out, new_width as usize * new_height as usize * 4)
}

/// Writes a JPEG of the image to `out` (`capacity` bytes): its length, or -1
/// when the arguments are refused or it does not fit.
///
/// # Safety
/// `rgba` holds `width * height * 4` bytes, `out` `capacity` writable ones.
#[no_mangle]
pub unsafe extern "C" fn imagekit_encode_jpeg(
    rgba: *const u8,
    width: u32,
    height: u32,
    quality: u8,
    out: *mut u8,
    capacity: usize,
) -> i64 {
    let len = width as usize * height as usize * 4;
    copy_out(
        kernels::encode_jpeg(bytes(rgba, len), width, height, quality),
        out,
        capacity,
    )
}

unsafe fn copy_out(result: Result<Vec<u8>, String>, out: *mut u8, capacity: usize) -> i64 {
    match result {
        Ok(data) if data.len() <= capacity => {
            ptr::copy_nonoverlapping(data.as_ptr(), out, data.len());
            data.len() as i64
        }
        _ => -1,
    }
}

unsafe fn bytes<'a>(data: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        &[]
    } else {
        slice::from_raw_parts(data, len)
    }
}
