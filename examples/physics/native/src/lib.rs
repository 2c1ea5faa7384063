//! physics-native: ../src/world.rs for the host, behind `extern "C"` entry
//! points that bench/usecases/physics.py calls through ctypes. Same source as
//! the wasm module; not compared bit for bit (the host's sqrt and code
//! generation may differ), only timed.

extern crate alloc;

#[allow(dead_code)] // deepest_overlap is for the wasm module's hosts
#[path = "../../src/world.rs"]
mod world;

use world::Sim;

/// A new world of `n` bodies (null when `n` is over the limit); free it with `physics_free`.
#[no_mangle]
pub extern "C" fn physics_new(n: u32, seed: u32) -> *mut Sim {
    if n > world::MAX_BODIES {
        return core::ptr::null_mut();
    }
    Box::into_raw(Box::new(Sim::new(n, seed)))
}

/// Advances the world `steps` times by `dt` seconds.
///
/// # Safety
/// `sim` came from `physics_new` and was not freed.
#[no_mangle]
pub unsafe extern "C" fn physics_run(sim: *mut Sim, steps: u32, dt: f32) {
    for _ in 0..steps {
        (*sim).step(dt);
    }
}

/// Writes x0, y0, x1, y1, ... to `out` (2 * n floats).
///
/// # Safety
/// `sim` is live and `out` holds 2 * n writable floats.
#[no_mangle]
pub unsafe extern "C" fn physics_positions(sim: *const Sim, out: *mut f32) {
    let n = (*sim).len();
    (*sim).positions_into(core::slice::from_raw_parts_mut(out, 2 * n));
}

/// Frees a world.
///
/// # Safety
/// `sim` came from `physics_new` and is not used again.
#[no_mangle]
pub unsafe extern "C" fn physics_free(sim: *mut Sim) {
    if !sim.is_null() {
        drop(Box::from_raw(sim));
    }
}
