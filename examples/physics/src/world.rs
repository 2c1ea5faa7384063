//! The simulation: circles in a box under gravity, bouncing off the walls and
//! off each other. Plain Rust with no dependencies and no SDK, so that the
//! wasm module (src/lib.rs) and the native library (native/) run the same code.
//!
//! Every step is f32 arithmetic in a fixed order, one rounding per operation
//! (wasm has no fused multiply-add), so the same module gives the same bits in
//! every host. `js/physics_plain.js` and bench/usecases/physics.py repeat the
//! algorithm operation for operation (`Math.fround`, an f32 round-trip) and
//! reach the same bits too.
//!
//! One step of `dt` seconds (position-based, so a resting pile stays at rest):
//! 1. semi-implicit Euler: `vy += g dt`, then `x += vx dt`, `y += vy dt`,
//!    remembering where each body started;
//! 2. every body past a wall is put back against it;
//! 3. broad phase: a uniform grid of `CELL`-sized cells (a body's diameter
//!    is at most `CELL`), filled by a counting sort in body order;
//! 4. `ITERATIONS` passes over the pairs, cells bottom row first, each cell
//!    with itself, then its right, lower-left, lower and lower-right
//!    neighbours: overlapping pairs are pushed apart along their normal in
//!    inverse proportion to their masses (mass = r²); then the walls again;
//! 5. velocity = distance moved / `dt`; one more pass over the pairs gives
//!    touching, approaching pairs an impulse with the restitution, and bodies
//!    against a wall and moving into it bounce off with the restitution.

use alloc::vec;
use alloc::vec::Vec;

/// Downwards (+y, as on a canvas), in units per second².
pub const GRAVITY: f32 = 500.0;
/// How much of the approach speed a bounce keeps (walls and pairs).
pub const RESTITUTION: f32 = 0.5;
pub const MIN_RADIUS: f32 = 2.0;
pub const MAX_RADIUS: f32 = 5.0;
/// The grid's cell size: one largest diameter.
pub const CELL: f32 = 10.0;
/// The box is 800 x 600 up to `BASE_BODIES` bodies, and grows with √n past it.
pub const BASE_WIDTH: f32 = 800.0;
pub const BASE_HEIGHT: f32 = 600.0;
pub const BASE_BODIES: u32 = 2000;
pub const ITERATIONS: u32 = 8;
/// The most bodies a world takes.
pub const MAX_BODIES: u32 = 100_000;
/// A longer step is cut to this (a tab that slept should not explode the pile).
pub const MAX_DT: f32 = 0.05;
/// A shorter step does nothing: velocities come from the distance moved divided by
/// `dt`, which a tiny `dt` would blow up (to infinity, and then NaN, below ~1e-38).
pub const MIN_DT: f32 = 1e-4;

const INITIAL_SPEED: f32 = 100.0;
const BOUNCE: f32 = -(1.0 + RESTITUTION);
/// Pairs count as touching for the velocity pass up to 1% apart.
const CONTACT: f32 = 1.01;

/// xorshift32 (Marsaglia), seeded so that no seed gives the all-zero state.
pub struct Rng(u32);

impl Rng {
    pub fn new(seed: u32) -> Rng {
        let state = seed ^ 0x2545_f491;
        let mut rng = Rng(if state == 0 { 1 } else { state });
        for _ in 0..4 {
            rng.next_u32(); // neighbouring seeds drift apart
        }
        rng
    }

    pub fn next_u32(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }

    /// Uniform in [0, 1): the top 24 bits over 2^24, exact in f32.
    pub fn unit(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0)
    }

    /// Uniform in [-1, 1).
    pub fn signed(&mut self) -> f32 {
        self.unit() * 2.0 - 1.0
    }
}

pub struct Sim {
    pub width: f32,
    pub height: f32,
    pub x: Vec<f32>,
    pub y: Vec<f32>,
    pub vx: Vec<f32>,
    pub vy: Vec<f32>,
    pub radius: Vec<f32>,
    pub inv_mass: Vec<f32>,
    /// Positions at the start of the step: velocity is the distance moved over dt.
    px: Vec<f32>,
    py: Vec<f32>,
    cols: usize,
    rows: usize,
    /// Cell `c`'s bodies are `sorted[start[c]..start[c + 1]]`, in body order.
    start: Vec<u32>,
    sorted: Vec<u32>,
    cell: Vec<u32>,
}

// `f32::sqrt` is std's, and this file is no_std on wasm32: use wasm's own
// `f32.sqrt` (IEEE, correctly rounded) through lane 0 of the SIMD one, or,
// when simd128 is off (the size profile), the same correctly rounded result
// computed bit by bit (core has no stable scalar sqrt before Rust 1.85's
// unstable `core_float_math`; a `sqrtf` call would become a host import).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn sqrt(x: f32) -> f32 {
    use core::arch::wasm32::{f32x4_extract_lane, f32x4_splat, f32x4_sqrt};
    f32x4_extract_lane::<0>(f32x4_sqrt(f32x4_splat(x)))
}

#[cfg(all(target_arch = "wasm32", not(target_feature = "simd128")))]
fn sqrt(x: f32) -> f32 {
    soft_sqrt(x)
}

/// The correctly rounded (to nearest, ties to even) square root, digit by digit
/// on the significand, as fdlibm's e_sqrtf.c computes it.
#[allow(dead_code)] // natively, only the test calls it
fn soft_sqrt(x: f32) -> f32 {
    let mut ix = x.to_bits() as i32;
    if ix & 0x7f80_0000 == 0x7f80_0000 {
        return x * x + x; // NaN stays NaN, +inf stays +inf, -inf gives NaN
    }
    if ix <= 0 {
        if ix & 0x7fff_ffff == 0 {
            return x; // +0 and -0
        }
        return (x - x) / (x - x); // negative: NaN
    }
    let mut m = ix >> 23;
    if m == 0 {
        let mut shift = 0; // subnormal: normalise
        while ix & 0x0080_0000 == 0 {
            ix <<= 1;
            shift += 1;
        }
        m -= shift - 1;
    }
    m -= 127;
    ix = (ix & 0x007f_ffff) | 0x0080_0000;
    if m & 1 != 0 {
        ix += ix; // odd exponent: double the significand
    }
    m >>= 1;
    ix += ix;
    let (mut q, mut s, mut r) = (0i32, 0i32, 0x0100_0000i32);
    while r != 0 {
        let t = s + r;
        if t <= ix {
            s = t + r;
            ix -= t;
            q += r;
        }
        ix += ix;
        r >>= 1;
    }
    if ix != 0 {
        q += q & 1; // a remainder: round to nearest, ties to even
    }
    f32::from_bits(((q >> 1) + 0x3f00_0000 + (m << 23)) as u32)
}

#[cfg(not(target_arch = "wasm32"))]
fn sqrt(x: f32) -> f32 {
    x.sqrt()
}

/// `v[k]` without the bounds check, for the pair code's hot loop: every body index
/// there comes from `sorted`, a permutation of `0..len`, and every cell is in the grid.
macro_rules! at {
    ($v:expr, $k:expr) => {
        *unsafe { $v.get_unchecked_mut($k) }
    };
}

/// `v[k]` without the bounds check, read only.
macro_rules! get {
    ($v:expr, $k:expr) => {
        *unsafe { $v.get_unchecked($k) }
    };
}

/// Whether `|dx|` or `|dy|` alone reaches `reach`: then `dx * dx + dy * dy >= reach * reach`
/// in f32 as well (rounding is monotonic), so skipping the pair changes no bits.
#[inline(always)]
fn far(dx: f32, dy: f32, reach: f32) -> bool {
    dx >= reach || -dx >= reach || dy >= reach || -dy >= reach
}

impl Sim {
    /// `n` bodies (at most `MAX_BODIES`) on a jittered lattice from the top-left
    /// corner, none overlapping, with radii in [2, 5) and random velocities.
    pub fn new(n: u32, seed: u32) -> Sim {
        assert!(n <= MAX_BODIES);
        let scale = if n > BASE_BODIES {
            sqrt(n as f32 / BASE_BODIES as f32)
        } else {
            1.0
        };
        let width = BASE_WIDTH * scale;
        let height = BASE_HEIGHT * scale;
        let lattice = (width / CELL) as u32;
        let count = n as usize;
        let mut sim = Sim {
            width,
            height,
            x: Vec::with_capacity(count),
            y: Vec::with_capacity(count),
            vx: Vec::with_capacity(count),
            vy: Vec::with_capacity(count),
            radius: Vec::with_capacity(count),
            inv_mass: Vec::with_capacity(count),
            cols: (width / CELL) as usize + 1,
            rows: (height / CELL) as usize + 1,
            px: vec![0.0; count],
            py: vec![0.0; count],
            start: Vec::new(),
            sorted: vec![0; count],
            cell: vec![0; count],
        };
        sim.start = vec![0; sim.cols * sim.rows + 1];
        let mut rng = Rng::new(seed);
        for i in 0..n {
            let r = MIN_RADIUS + rng.unit() * (MAX_RADIUS - MIN_RADIUS);
            let room = CELL * 0.5 - r;
            let col = (i % lattice) as f32;
            let row = (i / lattice) as f32;
            sim.x.push((col + 0.5) * CELL + rng.signed() * room);
            sim.y.push((row + 0.5) * CELL + rng.signed() * room);
            sim.vx.push(rng.signed() * INITIAL_SPEED);
            sim.vy.push(rng.signed() * INITIAL_SPEED);
            sim.radius.push(r);
            sim.inv_mass.push(1.0 / (r * r));
        }
        sim
    }

    pub fn len(&self) -> usize {
        self.x.len()
    }

    pub fn step(&mut self, dt: f32) {
        if !(dt >= MIN_DT) {
            return; // steps under MIN_DT (zero, negative and NaN too) do nothing
        }
        let dt = if dt > MAX_DT { MAX_DT } else { dt };
        let gdt = GRAVITY * dt;
        for i in 0..self.len() {
            self.px[i] = self.x[i];
            self.py[i] = self.y[i];
            self.vy[i] = self.vy[i] + gdt;
            self.x[i] = self.x[i] + self.vx[i] * dt;
            self.y[i] = self.y[i] + self.vy[i] * dt;
        }
        self.clamp();
        self.fill_grid();
        for _ in 0..ITERATIONS {
            self.collide(false);
            self.clamp();
        }
        for i in 0..self.len() {
            self.vx[i] = (self.x[i] - self.px[i]) / dt;
            self.vy[i] = (self.y[i] - self.py[i]) / dt;
        }
        self.collide(true);
        self.bounce();
    }

    /// Puts every body back inside the box.
    fn clamp(&mut self) {
        for i in 0..self.len() {
            let r = self.radius[i];
            let (right, bottom) = (self.width - r, self.height - r);
            if self.x[i] < r {
                self.x[i] = r;
            } else if self.x[i] > right {
                self.x[i] = right;
            }
            if self.y[i] < r {
                self.y[i] = r;
            } else if self.y[i] > bottom {
                self.y[i] = bottom;
            }
        }
    }

    /// Reverses (and damps) the velocity of bodies against a wall and moving into it.
    fn bounce(&mut self) {
        for i in 0..self.len() {
            let r = self.radius[i];
            let (right, bottom) = (self.width - r, self.height - r);
            if (self.x[i] <= r && self.vx[i] < 0.0) || (self.x[i] >= right && self.vx[i] > 0.0) {
                self.vx[i] = -self.vx[i] * RESTITUTION;
            }
            if (self.y[i] <= r && self.vy[i] < 0.0) || (self.y[i] >= bottom && self.vy[i] > 0.0) {
                self.vy[i] = -self.vy[i] * RESTITUTION;
            }
        }
    }

    /// A counting sort of the bodies by cell: deterministic, no hashing.
    fn fill_grid(&mut self) {
        let (cols, rows) = (self.cols, self.rows);
        self.start.iter_mut().for_each(|s| *s = 0);
        for i in 0..self.len() {
            // Saturating casts: positions are inside the box, so never negative.
            let cx = ((self.x[i] / CELL) as usize).min(cols - 1);
            let cy = ((self.y[i] / CELL) as usize).min(rows - 1);
            let c = cx + cy * cols;
            self.cell[i] = c as u32;
            self.start[c + 1] += 1;
        }
        for c in 0..cols * rows {
            self.start[c + 1] += self.start[c];
        }
        // `start` as a running cursor per cell, then shifted back one cell.
        for i in 0..self.len() {
            let c = self.cell[i] as usize;
            self.sorted[self.start[c] as usize] = i as u32;
            self.start[c] += 1;
        }
        for c in (1..=cols * rows).rev() {
            self.start[c] = self.start[c - 1];
        }
        self.start[0] = 0;
    }

    /// One pass over the grid's pairs: `resolve` (positions) or `rebound` (velocities).
    fn collide(&mut self, velocities: bool) {
        let (cols, rows) = (self.cols, self.rows);
        for cy in (0..rows).rev() {
            for cx in 0..cols {
                let c = cx + cy * cols;
                let (lo, hi) = (
                    get!(self.start, c) as usize,
                    get!(self.start, c + 1) as usize,
                );
                for a in lo..hi {
                    let i = get!(self.sorted, a) as usize;
                    for b in a + 1..hi {
                        self.pair(velocities, i, get!(self.sorted, b) as usize);
                    }
                    if cx + 1 < cols {
                        self.against(velocities, i, c + 1);
                    }
                    if cy + 1 < rows {
                        if cx > 0 {
                            self.against(velocities, i, c + cols - 1);
                        }
                        self.against(velocities, i, c + cols);
                        if cx + 1 < cols {
                            self.against(velocities, i, c + cols + 1);
                        }
                    }
                }
            }
        }
    }

    #[inline(always)]
    fn against(&mut self, velocities: bool, i: usize, c: usize) {
        for b in get!(self.start, c) as usize..get!(self.start, c + 1) as usize {
            self.pair(velocities, i, get!(self.sorted, b) as usize);
        }
    }

    #[inline(always)]
    fn pair(&mut self, velocities: bool, i: usize, j: usize) {
        if velocities {
            self.rebound(i, j);
        } else {
            self.resolve(i, j);
        }
    }

    #[inline(always)]
    fn resolve(&mut self, i: usize, j: usize) {
        debug_assert!(i < self.len() && j < self.len());
        let dx = at!(self.x, j) - at!(self.x, i);
        let dy = at!(self.y, j) - at!(self.y, i);
        let reach = at!(self.radius, i) + at!(self.radius, j);
        if far(dx, dy, reach) {
            return; // a shortcut only: then d2 >= reach * reach below too
        }
        let d2 = dx * dx + dy * dy;
        if !(d2 < reach * reach) {
            return;
        }
        let (nx, ny, d) = if d2 > 0.0 {
            let d = sqrt(d2);
            (dx / d, dy / d, d)
        } else {
            (1.0, 0.0, 0.0) // the same centre: part them along x
        };
        let (wi, wj) = (at!(self.inv_mass, i), at!(self.inv_mass, j));
        let w = wi + wj;
        let push = (reach - d) / w;
        let (pi, pj) = (push * wi, push * wj);
        at!(self.x, i) = at!(self.x, i) - nx * pi;
        at!(self.y, i) = at!(self.y, i) - ny * pi;
        at!(self.x, j) = at!(self.x, j) + nx * pj;
        at!(self.y, j) = at!(self.y, j) + ny * pj;
    }

    /// Bodies in contact (centres closer than `CONTACT` x the sum of radii)
    /// and approaching each other bounce apart with the restitution.
    #[inline(always)]
    fn rebound(&mut self, i: usize, j: usize) {
        debug_assert!(i < self.len() && j < self.len());
        let dx = at!(self.x, j) - at!(self.x, i);
        let dy = at!(self.y, j) - at!(self.y, i);
        let reach = (at!(self.radius, i) + at!(self.radius, j)) * CONTACT;
        if far(dx, dy, reach) {
            return;
        }
        let d2 = dx * dx + dy * dy;
        if !(d2 < reach * reach) || !(d2 > 0.0) {
            return;
        }
        let d = sqrt(d2);
        let (nx, ny) = (dx / d, dy / d);
        let vn =
            (at!(self.vx, j) - at!(self.vx, i)) * nx + (at!(self.vy, j) - at!(self.vy, i)) * ny;
        if vn < 0.0 {
            let (wi, wj) = (at!(self.inv_mass, i), at!(self.inv_mass, j));
            let impulse = BOUNCE * vn / (wi + wj);
            let (ki, kj) = (impulse * wi, impulse * wj);
            at!(self.vx, i) = at!(self.vx, i) - nx * ki;
            at!(self.vy, i) = at!(self.vy, i) - ny * ki;
            at!(self.vx, j) = at!(self.vx, j) + nx * kj;
            at!(self.vy, j) = at!(self.vy, j) + ny * kj;
        }
    }

    /// Kinetic plus potential energy (mass r², height measured up from the floor), in f64.
    pub fn energy(&self) -> f64 {
        let g = GRAVITY as f64;
        let mut total = 0.0f64;
        for i in 0..self.len() {
            let r = self.radius[i] as f64;
            let (vx, vy) = (self.vx[i] as f64, self.vy[i] as f64);
            let lift = self.height as f64 - self.y[i] as f64;
            total += r * r * (0.5 * (vx * vx + vy * vy) + g * lift);
        }
        total
    }

    /// x0, y0, x1, y1, ...
    pub fn positions_into(&self, out: &mut [f32]) {
        for i in 0..self.len() {
            out[2 * i] = self.x[i];
            out[2 * i + 1] = self.y[i];
        }
    }
}

/// The deepest pairwise overlap of circles at `positions` (x0, y0, ...) with
/// `radii`, every pair checked; 0 when none overlap.
pub fn deepest_overlap(positions: &[f32], radii: &[f32]) -> f32 {
    let n = radii.len().min(positions.len() / 2);
    let mut deepest = 0.0f32;
    for i in 0..n {
        for j in i + 1..n {
            let dx = positions[2 * j] - positions[2 * i];
            let dy = positions[2 * j + 1] - positions[2 * i + 1];
            let overlap = radii[i] + radii[j] - sqrt(dx * dx + dy * dy);
            if overlap > deepest {
                deepest = overlap;
            }
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_sqrt_is_correctly_rounded() {
        let specials = [
            0.0f32,
            -0.0,
            1.0,
            2.0,
            4.0,
            f32::MIN_POSITIVE,
            f32::MAX,
            1e-45,
            3e-39,
        ];
        for x in specials {
            assert_eq!(soft_sqrt(x).to_bits(), x.sqrt().to_bits(), "{x}");
        }
        assert!(soft_sqrt(-1.0).is_nan() && soft_sqrt(f32::NAN).is_nan());
        assert_eq!(soft_sqrt(f32::INFINITY), f32::INFINITY);
        // Every positive float whose bits are a multiple of 61, and all of [1, 4).
        let mut bits = 0u32;
        while bits < 0x7f80_0000 {
            let x = f32::from_bits(bits);
            assert_eq!(soft_sqrt(x).to_bits(), x.sqrt().to_bits(), "{bits:#x}");
            bits += 61;
        }
        for bits in 0x3f80_0000u32..0x4080_0000 {
            let x = f32::from_bits(bits);
            assert_eq!(soft_sqrt(x).to_bits(), x.sqrt().to_bits(), "{bits:#x}");
        }
    }
}
