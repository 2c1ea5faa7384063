//! The string lists of docs/serve-abi.md: each item a u32 little-endian
//! byte length and that many bytes of UTF-8.

use alloc::string::String;
use alloc::vec::Vec;

pub fn push(out: &mut Vec<u8>, item: &str) {
    out.extend_from_slice(&(item.len() as u32).to_le_bytes());
    out.extend_from_slice(item.as_bytes());
}

/// Reads items from the front of `data`, advancing it; `None` once it is
/// empty or (from a broken host) cut short.
pub fn next(data: &mut &[u8]) -> Option<String> {
    let len = u32_at(data)? as usize;
    let rest = &data[4..];
    if rest.len() < len {
        return None;
    }
    let item = String::from_utf8_lossy(&rest[..len]).into_owned();
    *data = &rest[len..];
    Some(item)
}

pub fn u32_at(data: &[u8]) -> Option<u32> {
    if data.len() < 4 {
        return None;
    }
    Some(u32::from_le_bytes([data[0], data[1], data[2], data[3]]))
}

pub fn list(mut data: &[u8]) -> Vec<String> {
    let mut items = Vec::new();
    while let Some(item) = next(&mut data) {
        items.push(item);
    }
    items
}
