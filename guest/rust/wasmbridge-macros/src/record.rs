//! Interface records (docs/abi.md, "The interface section"):
//!
//! ```text
//! record := version:u8 kind:u8 size:uleb128 body[size]
//! export := name:str doc:str params result:type
//! import := module:str name:str doc:str params result:type
//! params := count:u8 (name:str type:type){count}
//! ```
//!
//! and the type records of docs/abi-compound.md:
//!
//! ```text
//! record-type := name:str doc:str count:u8 (field:str type){count}
//! enum-type   := name:str doc:str count:uleb (case:str discriminant:sleb128){count}
//! class       := name:str doc:str
//! method      := class:str receiver:u8 member:str name:str doc:str params result
//! ```

use proc_macro::Span;

use crate::error::{Error, Result};
use crate::types::Ty;

const VERSION: u8 = 1;
const KIND_EXPORT: u8 = 0x01;
const KIND_IMPORT: u8 = 0x02;
const KIND_RECORD_TYPE: u8 = 0x03;
const KIND_ENUM_TYPE: u8 = 0x04;
const KIND_CLASS: u8 = 0x05;
const KIND_METHOD: u8 = 0x06;

/// What a record describes: a function's wasm name, doc and signature.
pub struct Signature<'a> {
    pub name: &'a str,
    pub doc: &'a str,
    pub params: &'a [(String, Ty)],
    pub result: &'a Ty,
}

pub fn export_record(sig: &Signature, span: Span) -> Result<Vec<u8>> {
    Ok(record(KIND_EXPORT, function(Vec::new(), sig, span)?))
}

pub fn import_record(module: &str, sig: &Signature, span: Span) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    push_str(&mut body, module);
    Ok(record(KIND_IMPORT, function(body, sig, span)?))
}

pub fn record_type(name: &str, doc: &str, fields: &[(String, Ty)], span: Span) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    push_str(&mut body, name);
    push_str(&mut body, doc);
    let count = u8::try_from(fields.len())
        .map_err(|_| Error::new(span, "a record crossing the bridge has at most 255 fields"))?;
    body.push(count);
    for (field, ty) in fields {
        push_str(&mut body, field);
        ty.encode(&mut body);
    }
    Ok(record(KIND_RECORD_TYPE, body))
}

pub fn enum_type(name: &str, doc: &str, cases: &[(String, i64)]) -> Vec<u8> {
    let mut body = Vec::new();
    push_str(&mut body, name);
    push_str(&mut body, doc);
    push_uleb(&mut body, cases.len());
    for (case, value) in cases {
        push_str(&mut body, case);
        push_sleb(&mut body, *value);
    }
    record(KIND_ENUM_TYPE, body)
}

pub fn class_record(name: &str, doc: &str) -> Vec<u8> {
    let mut body = Vec::new();
    push_str(&mut body, name);
    push_str(&mut body, doc);
    record(KIND_CLASS, body)
}

/// The receiver byte of a method record.
pub const RECEIVER_STATIC: u8 = 0;
pub const RECEIVER_REF: u8 = 1;
pub const RECEIVER_MUT: u8 = 2;
pub const RECEIVER_CONSTRUCTOR: u8 = 3;
pub const RECEIVER_OWNED: u8 = 4;

pub fn method_record(
    class: &str,
    receiver: u8,
    member: &str,
    sig: &Signature,
    span: Span,
) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    push_str(&mut body, class);
    body.push(receiver);
    push_str(&mut body, member);
    Ok(record(KIND_METHOD, function(body, sig, span)?))
}

fn function(mut body: Vec<u8>, sig: &Signature, span: Span) -> Result<Vec<u8>> {
    push_str(&mut body, sig.name);
    push_str(&mut body, sig.doc);
    let count = u8::try_from(sig.params.len()).map_err(|_| {
        Error::new(span, "a function crossing the bridge takes at most 255 parameters")
    })?;
    body.push(count);
    for (name, ty) in sig.params {
        push_str(&mut body, name);
        ty.encode(&mut body);
    }
    sig.result.encode(&mut body);
    Ok(body)
}

fn record(kind: u8, body: Vec<u8>) -> Vec<u8> {
    let mut out = vec![VERSION, kind];
    push_uleb(&mut out, body.len());
    out.extend(body);
    out
}

pub fn push_str(out: &mut Vec<u8>, text: &str) {
    push_uleb(out, text.len());
    out.extend_from_slice(text.as_bytes());
}

fn push_sleb(out: &mut Vec<u8>, mut value: i64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        let done = (value == 0 && byte & 0x40 == 0) || (value == -1 && byte & 0x40 != 0);
        if done {
            return out.push(byte);
        }
        out.push(byte | 0x80);
    }
}

fn push_uleb(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            return out.push(byte);
        }
        out.push(byte | 0x80);
    }
}

/// The static that puts `record` into the `wasmbridge` custom section. It
/// sits in an unnamed `const` block so that it never clashes with a name of
/// the user's; `#[used]` keeps it although nothing refers to it.
pub fn section_item(record: &[u8], cfgs: &str) -> String {
    let bytes: Vec<String> = record.iter().map(u8::to_string).collect();
    format!(
        "{cfgs} const _: () = {{
            #[cfg(target_arch = \"wasm32\")]
            #[link_section = \"wasmbridge\"]
            #[used]
            static __WB_IFACE: [u8; {len}] = [{bytes}];
        }};",
        cfgs = cfgs,
        len = record.len(),
        bytes = bytes.join(", "),
    )
}

#[cfg(test)]
mod tests {
    use super::push_sleb;

    fn sleb(value: i64) -> Vec<u8> {
        let mut out = Vec::new();
        push_sleb(&mut out, value);
        out
    }

    #[test]
    fn writes_signed_leb128() {
        assert_eq!(sleb(0), [0x00]);
        assert_eq!(sleb(-3), [0x7d]);
        assert_eq!(sleb(63), [0x3f]);
        assert_eq!(sleb(64), [0xc0, 0x00]);
        assert_eq!(sleb(-64), [0x40]);
        assert_eq!(sleb(-65), [0xbf, 0x7f]);
        assert_eq!(sleb(i64::MIN).len(), 10);
    }
}
