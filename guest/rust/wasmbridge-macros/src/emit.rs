//! Pieces of generated code that exports and imports share.
//!
//! Code is written as Rust source text and parsed into tokens once at the
//! end: far easier to read than token-by-token construction.

use crate::types::{Num, Ty};

/// The path of the SDK's runtime support, used by every expansion.
pub const RT: &str = "::wasmbridge::__rt";

/// A wasm-level parameter: its name in the generated code and Rust type.
pub struct Wire {
    pub name: String,
    pub ty: String,
}

/// The wasm parameters a value of type `ty` lowers to (docs/abi.md,
/// "Lowering to wasm values"), named after `base`.
pub fn wires(ty: &Ty, base: &str) -> Vec<Wire> {
    let wire = |suffix: &str, ty: String| Wire { name: format!("{}{}", base, suffix), ty };
    let buffer = |ptr: String| vec![wire("_ptr", ptr), wire("_len", "usize".to_string())];
    match ty {
        Ty::Bool => vec![wire("", "i32".to_string())],
        Ty::Num(n) => vec![wire("", n.wire().to_string())],
        Ty::Str => buffer("*const u8".to_string()),
        Ty::String => buffer("*mut u8".to_string()),
        Ty::Slice(n) => buffer(format!("*const {}", prim(*n))),
        Ty::Vec(n) | Ty::MutSlice(n) => buffer(format!("*mut {}", prim(*n))),
        Ty::Char | Ty::Named(_) | Ty::Borrowed(..) | Ty::Callback(_) => {
            vec![wire("", "u32".to_string())]
        }
        Ty::List(..) | Ty::Tuple(_) => vec![wire("", "*const u8".to_string())],
        Ty::Option(inner) => {
            let mut list = vec![wire("_some", "i32".to_string())];
            list.extend(wires(inner, base));
            list
        }
        Ty::Unit | Ty::Result(..) | Ty::ResultValue(..) => Vec::new(), // never parameters
    }
}

/// The number type by its absolute path, immune to a user's `type u8 = ...`.
pub fn prim(n: Num) -> String {
    format!("::core::primitive::{}", n.name())
}

/// `name: type, ...` for a parameter list.
pub fn wire_list(wires: &[Wire]) -> String {
    wires.iter().map(|w| format!("{}: {}", w.name, w.ty)).collect::<Vec<_>>().join(", ")
}

/// The wasm result type of a scalar result (`-> i32`), or "" for the rest.
pub fn scalar_result(ty: &Ty) -> String {
    match ty {
        Ty::Bool => "-> i32".to_string(),
        Ty::Num(n) => format!("-> {}", n.wire()),
        Ty::Char => "-> u32".to_string(),
        _ => String::new(),
    }
}

/// A string literal holding `text`, for generated code.
pub fn quote(text: &str) -> String {
    format!("{:?}", text)
}
