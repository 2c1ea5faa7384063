//! The attribute macros of the wasmbridge guest SDK. Use them through the
//! `wasmbridge` crate: `#[wasmbridge::export]` and `#[wasmbridge::import]`.
//!
//! Without syn or quote (crates.io may be out of reach), the input is read
//! token by token:
//!
//! * `parse` splits a `fn` item or an `extern` block into its parts, and
//!   `items` a struct, an enum or an `impl` block;
//! * `types` classifies each Rust type as an interface type (docs/abi.md),
//!   and `callback` reads the closure types of callback parameters and
//!   writes the closure passed for them;
//! * `names` refuses export names the toolchain already uses;
//! * `record` encodes the interface record for the `wasmbridge` section;
//! * `export` and `import` write the glue of functions as Rust source text,
//!   which is then parsed into tokens (`emit` holds the pieces both share);
//!   `data` writes records and enums, `class` the classes of `impl` blocks.
//!
//! Errors become `compile_error!` invocations spanned at the offending tokens.

extern crate proc_macro;

mod callback;
mod class;
mod data;
mod emit;
mod error;
mod export;
mod import;
mod items;
mod lit;
mod names;
mod parse;
mod record;
mod types;

use proc_macro::TokenStream;

/// Exports a `fn` to the host under its name (or `name = "..."`), with its
/// parameter and result types lowered as docs/abi.md describes; on a struct
/// with `pub` fields, a C-like enum or an inherent `impl` block, exports a
/// record, an enum or a class (docs/abi-compound.md).
#[proc_macro_attribute]
pub fn export(attr: TokenStream, item: TokenStream) -> TokenStream {
    export::expand(attr, item)
}

/// Turns the `fn` declarations of an `extern "C"` block into safe Rust
/// functions that call the host's functions from the module `env` (or
/// `module = "..."`).
#[proc_macro_attribute]
pub fn import(attr: TokenStream, item: TokenStream) -> TokenStream {
    import::expand(attr, item)
}
