//! cryptokit: SHA-256, HMAC-SHA256, HS256 JSON Web Tokens and a constant-time
//! comparison, from RustCrypto's sha2 and hmac (with base64 and subtle), for
//! Python, Node and the browser. The code is src/kernels.rs; this file only
//! exports it.
#![no_std]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;

mod kernels;

/// The SHA-256 digest of `data` (32 bytes).
#[wasmbridge::export]
pub fn sha256(data: &[u8]) -> Vec<u8> {
    kernels::sha256(data).to_vec()
}

/// HMAC-SHA256 of `data` under `key` (32 bytes; a key of any length).
#[wasmbridge::export]
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    kernels::hmac_sha256(key, data).to_vec()
}

/// A compact JSON Web Token of `claims_json` signed with HMAC-SHA256 under
/// `key`, with the header `{"alg":"HS256","typ":"JWT"}`.
#[wasmbridge::export]
pub fn jwt_sign_hs256(claims_json: &str, key: &[u8]) -> Result<String, String> {
    kernels::check_key(key)?;
    Ok(kernels::jwt_sign_hs256(claims_json, key))
}

/// The claims JSON of an HS256 token signed with `key`; an error says why
/// not: malformed, wrong alg (`none` included) or bad signature. The
/// signature is compared in constant time. Expiry and other claims are the
/// caller's to check.
#[wasmbridge::export]
pub fn jwt_verify_hs256(token: &str, key: &[u8]) -> Result<String, String> {
    kernels::jwt_verify_hs256(token, key)
}

/// Whether `a` and `b` are equal, in time that depends only on their lengths.
#[wasmbridge::export]
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    kernels::ct_eq(a, b)
}
