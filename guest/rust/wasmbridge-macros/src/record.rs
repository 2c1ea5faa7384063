//! Interface records (docs/abi.md, "The interface section"):
//!
//! ```text
//! record := version:u8 kind:u8 size:uleb128 body[size]
//! export := name:str doc:str params result:type
//! import := module:str name:str doc:str params result:type
//! params := count:u8 (name:str type:type){count}
//! ```

use proc_macro::Span;

use crate::error::{Error, Result};
use crate::types::Ty;

const VERSION: u8 = 1;
const KIND_EXPORT: u8 = 0x01;
const KIND_IMPORT: u8 = 0x02;

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

fn push_str(out: &mut Vec<u8>, text: &str) {
    push_uleb(out, text.len());
    out.extend_from_slice(text.as_bytes());
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
