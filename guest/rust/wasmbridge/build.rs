//! Detects what the compiler allows, as `cfg`s for src/:
//!
//! * `wb_msg_stable`: `PanicInfo::message()` is stable (rustc >= 1.81);
//! * `wb_msg_unstable`: it is not, but unstable features are allowed;
//! * `wb_oom_handler`: rustc < 1.68 needs an `#[alloc_error_handler]` for
//!   `#![no_std]` crates using `alloc`, and unstable features are allowed;
//! * `wb_oom_missing`: it needs one, but unstable features are not allowed.
//!
//! Unstable features are allowed on nightly compilers and when
//! `RUSTC_BOOTSTRAP` is `1` or a list of crate names naming `wasmbridge`
//! (which `wasmbridge build` sets: it unlocks this crate only).

use std::env;
use std::process::Command;

const CFGS: [&str; 4] = ["wb_msg_stable", "wb_msg_unstable", "wb_oom_handler", "wb_oom_missing"];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RUSTC_BOOTSTRAP");
    let (minor, nightly) = rustc_version();
    let unstable = nightly || bootstrap_allows("wasmbridge");
    if minor >= 80 {
        println!("cargo:rustc-check-cfg=cfg({})", CFGS.join(", "));
    }
    if minor >= 81 {
        println!("cargo:rustc-cfg=wb_msg_stable");
    } else if unstable {
        println!("cargo:rustc-cfg=wb_msg_unstable");
    }
    if minor < 68 {
        println!("cargo:rustc-cfg={}", if unstable { "wb_oom_handler" } else { "wb_oom_missing" });
    }
}

/// The minor version of `$RUSTC` and whether it is a nightly (or dev) build.
/// When it cannot be read, assume a current stable compiler.
fn rustc_version() -> (u32, bool) {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(rustc).arg("-vV").output().ok();
    let text = output.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    let release = text.lines().find_map(|l| l.strip_prefix("release: ")).unwrap_or("");
    let minor = release.split('.').nth(1).and_then(|m| m.parse().ok()).unwrap_or(u32::MAX);
    (minor, release.contains("nightly") || release.contains("-dev"))
}

/// Whether `RUSTC_BOOTSTRAP` unlocks unstable features for `krate`.
fn bootstrap_allows(krate: &str) -> bool {
    match env::var("RUSTC_BOOTSTRAP") {
        Ok(value) => value == "1" || value.split(',').any(|name| name.trim() == krate),
        Err(_) => false,
    }
}
