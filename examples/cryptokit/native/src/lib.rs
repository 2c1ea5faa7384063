//! cryptokit-native: ../src/kernels.rs for the host, behind `extern "C"`
//! entry points that bench/usecases/cryptokit.py calls through ctypes. Each
//! calls the same function the wasm export calls and copies its result out.

extern crate alloc;

use core::{ptr, slice, str};

#[path = "../../src/kernels.rs"]
mod kernels;

/// Writes the SHA-256 digest of `len` bytes at `data` to the 32 bytes at `out`.
///
/// # Safety
/// `data` holds `len` readable bytes (any pointer when `len` is 0), `out` 32 writable ones.
#[no_mangle]
pub unsafe extern "C" fn cryptokit_sha256(data: *const u8, len: usize, out: *mut u8) {
    let digest = kernels::sha256(bytes(data, len));
    ptr::copy_nonoverlapping(digest.as_ptr(), out, digest.len());
}

/// Writes HMAC-SHA256 of `data_len` bytes at `data` under the key to the 32 bytes at `out`.
///
/// # Safety
/// `key` and `data` hold their lengths in readable bytes, `out` 32 writable ones.
#[no_mangle]
pub unsafe extern "C" fn cryptokit_hmac_sha256(
    key: *const u8,
    key_len: usize,
    data: *const u8,
    data_len: usize,
    out: *mut u8,
) {
    let mac = kernels::hmac_sha256(bytes(key, key_len), bytes(data, data_len));
    ptr::copy_nonoverlapping(mac.as_ptr(), out, mac.len());
}

/// Signs the UTF-8 claims; writes the token to `out` when it fits in `cap`
/// bytes and returns its length (-1: the claims are not UTF-8).
///
/// # Safety
/// The inputs hold their lengths in readable bytes, `out` `cap` writable ones.
#[no_mangle]
pub unsafe extern "C" fn cryptokit_jwt_sign_hs256(
    claims: *const u8,
    claims_len: usize,
    key: *const u8,
    key_len: usize,
    out: *mut u8,
    cap: usize,
) -> isize {
    match str::from_utf8(bytes(claims, claims_len)) {
        Ok(claims) => copy_out(&kernels::jwt_sign_hs256(claims, bytes(key, key_len)), out, cap),
        Err(_) => -1,
    }
}

/// Verifies the token; writes the claims to `out` when they fit in `cap` bytes
/// and returns their length, or -1 when the token does not verify.
///
/// # Safety
/// The inputs hold their lengths in readable bytes, `out` `cap` writable ones.
#[no_mangle]
pub unsafe extern "C" fn cryptokit_jwt_verify_hs256(
    token: *const u8,
    token_len: usize,
    key: *const u8,
    key_len: usize,
    out: *mut u8,
    cap: usize,
) -> isize {
    let verified = str::from_utf8(bytes(token, token_len))
        .map_err(|_| ())
        .and_then(|token| kernels::jwt_verify_hs256(token, bytes(key, key_len)).map_err(drop));
    match verified {
        Ok(claims) => copy_out(&claims, out, cap),
        Err(()) => -1,
    }
}

unsafe fn copy_out(text: &str, out: *mut u8, cap: usize) -> isize {
    if text.len() <= cap {
        ptr::copy_nonoverlapping(text.as_ptr(), out, text.len());
    }
    text.len() as isize
}

unsafe fn bytes<'a>(data: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        &[]
    } else {
        slice::from_raw_parts(data, len)
    }
}
