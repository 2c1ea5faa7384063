//! The guest SDK of wasmbridge: mark functions with `#[wasmbridge::export]`,
//! declare host functions in a `#[wasmbridge::import]` block, and
//! `wasmbridge build` turns the crate into a small, self-describing `.wasm`
//! that Python, browsers and Node call with typed arguments. The same
//! attribute on a struct with `pub` fields, a C-like enum or an `impl` block
//! exports a record, an enum or a class; a parameter `impl Fn(A) -> R` is a
//! host function the export may call while it runs.
//!
//! ```ignore
//! #![no_std]
//! extern crate alloc;
//! use alloc::string::String;
//!
//! #[wasmbridge::import]
//! extern "C" {
//!     fn alert(msg: &str);
//! }
//!
//! /// Adds two numbers.
//! #[wasmbridge::export]
//! pub fn add(a: i32, b: i32) -> i32 {
//!     a + b
//! }
//! ```
//!
//! On wasm32 the crate also provides, unless the `std` feature is on, the
//! global allocator (feature `allocator`, default), the panic handler that
//! reports panics to the host, and on rustc < 1.68 the allocation error
//! handler; plus, always, the `__wb_alloc`/`__wb_free` exports the host
//! allocates with. See README.md for the features and supported types; the
//! ABI is in the wasmbridge repository's docs/abi.md.
#![no_std]
// rustc < 1.81: reading a panic's message is unstable. build.rs enables it
// only where the compiler allows it (RUSTC_BOOTSTRAP=wasmbridge).
#![cfg_attr(
    all(wb_msg_unstable, target_arch = "wasm32", not(feature = "std")),
    feature(panic_info_message)
)]
// rustc < 1.68: a #![no_std] crate using `alloc` must define the handler.
#![cfg_attr(
    all(wb_oom_handler, target_arch = "wasm32", not(feature = "std")),
    feature(alloc_error_handler)
)]

extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

pub use wasmbridge_macros::{export, import};

// The macros' expansions name the SDK `::wasmbridge`; this lets the SDK's
// own modules (the `serve` records and imports) use them too.
extern crate self as wasmbridge;

mod callback;
mod codec;
mod flat;
mod heap;
mod panic;

/// Request and response records and host services for `wasmbridge serve`.
#[cfg(feature = "serve")]
pub mod serve;

/// Support for the code that the macros generate; not a public API.
#[doc(hidden)]
#[path = "rt.rs"]
pub mod __rt;

#[cfg(all(wb_oom_missing, target_arch = "wasm32", not(feature = "std")))]
compile_error!(
    "wasmbridge: on rustc < 1.68 a #![no_std] crate that uses `alloc` needs an allocation error \
     handler, which only unstable Rust can define. Build with `wasmbridge build`, or set \
     RUSTC_BOOTSTRAP=wasmbridge for cargo (it unlocks the wasmbridge crate only), or use \
     rustc >= 1.68, or enable the `std` feature of wasmbridge if the crate uses std."
);
