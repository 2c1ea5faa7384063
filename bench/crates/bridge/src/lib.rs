//! bridge: exports whose guest work is O(1), so a benchmark measures the
//! cost of crossing the bridge (call, copies, allocation), not computation.
#![no_std]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;

/// The scalar call.
#[wasmbridge::export]
pub fn add(a: i32, b: i32) -> i32 {
    a.wrapping_add(b)
}

/// 32 bytes from the edges of `data` (16 from each end): O(1) work for any
/// input size, so the time is the transfer in, the call and 32 bytes out.
#[wasmbridge::export]
pub fn edges32(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    let head = data.len().min(16);
    out.extend_from_slice(&data[..head]);
    out.extend_from_slice(&data[data.len() - data.len().min(16)..]);
    out.resize(32, 0);
    out
}

/// The length of `data`: transfer in only, a scalar out.
#[wasmbridge::export]
pub fn byte_len(data: &[u8]) -> u32 {
    data.len() as u32
}

/// A string round trip.
#[wasmbridge::export]
pub fn echo_str(s: &str) -> String {
    String::from(s)
}
