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

/// A point: the record round trip.
#[wasmbridge::export]
#[derive(Clone, Copy)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

/// The midpoint of two points (two records in, one out).
#[wasmbridge::export]
pub fn mid(a: Point, b: Point) -> Point {
    Point { x: (a.x + b.x) / 2.0, y: (a.y + b.y) / 2.0 }
}

/// The same arithmetic on two numbers: two f64 in, one out.
#[wasmbridge::export]
pub fn mid1(a: f64, b: f64) -> f64 {
    (a + b) / 2.0
}

/// A counter in the guest: the method call.
pub struct Counter {
    n: u32,
}

/// A counter whose `bump` is the method twin of the function `bump`.
#[wasmbridge::export]
impl Counter {
    /// A counter at 0.
    pub fn new() -> Counter {
        Counter { n: 0 }
    }

    /// Adds `by`; the new count.
    pub fn bump(&mut self, by: u32) -> u32 {
        self.n = self.n.wrapping_add(by);
        self.n
    }
}

/// `n + by`: the function twin of `Counter::bump` (two i32 in, one out).
#[wasmbridge::export]
pub fn bump(n: u32, by: u32) -> u32 {
    n.wrapping_add(by)
}

/// How many strings: a list of strings in, a number out.
#[wasmbridge::export]
pub fn count_strs(parts: &[&str]) -> u32 {
    parts.len() as u32
}

/// The strings as they came: a list of strings in and out.
#[wasmbridge::export]
pub fn echo_strs(parts: Vec<String>) -> Vec<String> {
    parts
}

/// The whitespace-separated words of `s`.
#[wasmbridge::export]
pub fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

/// `parts` joined with `sep`.
#[wasmbridge::export]
pub fn join(parts: Vec<String>, sep: char) -> String {
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push(sep);
        }
        out.push_str(part);
    }
    out
}
