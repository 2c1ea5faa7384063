//! physics: a 2D world of circles in a box as one exported class, `World`.
//! Hosts hold a handle; each `step` advances every body in one call, and
//! `positions` hands the whole frame back as one `Float32Array` / buffer.
//! The simulation is src/world.rs (plain Rust, also built natively by native/).
#![no_std]

extern crate alloc;

use alloc::vec;
use alloc::vec::Vec;

mod world;

use world::Sim;

/// Circles of radius 2 to 5 in a box, under gravity, bouncing off the walls
/// and off each other; deterministic for a given `n` and `seed`.
pub struct World {
    sim: Sim,
}

#[wasmbridge::export]
impl World {
    /// `n` bodies (0 to 100,000) placed without overlap from the top-left
    /// corner, with random radii and velocities drawn from `seed`.
    /// More than 100,000 is refused: the call panics with that message.
    pub fn new(n: u32, seed: u32) -> World {
        if n > world::MAX_BODIES {
            panic!("World(n, seed): n is at most 100000 bodies");
        }
        World {
            sim: Sim::new(n, seed),
        }
    }

    /// Advances the world by `dt` seconds (cut to 0.05; 0, negative or NaN: no change).
    pub fn step(&mut self, dt: f32) {
        self.sim.step(dt);
    }

    /// Advances the world by `steps` steps of `dt` seconds in one call.
    pub fn run(&mut self, steps: u32, dt: f32) {
        for _ in 0..steps {
            self.sim.step(dt);
        }
    }

    /// The centres, x0, y0, x1, y1, ... (2 * len values).
    pub fn positions(&self) -> Vec<f32> {
        let mut out = vec![0.0; 2 * self.sim.len()];
        self.sim.positions_into(&mut out);
        out
    }

    /// The velocities, vx0, vy0, vx1, vy1, ...
    pub fn velocities(&self) -> Vec<f32> {
        let sim = &self.sim;
        sim.vx
            .iter()
            .zip(&sim.vy)
            .flat_map(|(&vx, &vy)| [vx, vy])
            .collect()
    }

    /// The radii, one per body.
    pub fn radii(&self) -> Vec<f32> {
        self.sim.radius.clone()
    }

    /// The number of bodies.
    pub fn len(&self) -> u32 {
        self.sim.len() as u32
    }

    /// The box's width (800 up to 2,000 bodies, then growing with √n).
    pub fn width(&self) -> f32 {
        self.sim.width
    }

    /// The box's height (600 up to 2,000 bodies, then growing with √n).
    pub fn height(&self) -> f32 {
        self.sim.height
    }

    /// Kinetic plus potential energy, with mass r² (f64, for watching it settle).
    pub fn energy(&self) -> f64 {
        self.sim.energy()
    }
}

/// The deepest overlap between two circles, `r_i + r_j - |c_i - c_j|` (0 when
/// none touch), by checking every pair: `positions` as from
/// `World.positions`, `radii` as from `World.radii`. For tests and tools.
#[wasmbridge::export]
pub fn deepest_overlap(positions: &[f32], radii: &[f32]) -> f32 {
    world::deepest_overlap(positions, radii)
}
