// The physics example's World in plain JavaScript, operation for operation the
// algorithm of ../src/world.rs: every f32 operation is rounded with Math.fround
// (a double result of +, -, *, / or sqrt on f32 inputs, rounded once to f32,
// is the f32 result), so this world gives the same bits as physics.wasm.
// Used by the showcase (wasm vs JS) and by bench/usecases/physics.mjs.
//
//   import { World } from "./physics_plain.js";
//   const world = new World(2000, 1);
//   world.step(1 / 60);
//   world.positions();   // Float32Array x0, y0, x1, y1, ...

const f = Math.fround;
export const GRAVITY = 500;
export const RESTITUTION = 0.5;
export const MIN_RADIUS = 2;
export const MAX_RADIUS = 5;
export const CELL = 10;
export const ITERATIONS = 8;
export const MAX_BODIES = 100000;
export const MAX_DT = 0.05;
export const MIN_DT = 1e-4; // a shorter step does nothing (world.rs says why)
const BASE_WIDTH = 800;
const BASE_HEIGHT = 600;
const BASE_BODIES = 2000;
const INITIAL_SPEED = 100;
const BOUNCE = -1.5;
const CONTACT = f(1.01);

// |dx| or |dy| alone reaching `reach` means dx² + dy² >= reach² in f32 too.
function far(dx, dy, reach) {
  return dx >= reach || -dx >= reach || dy >= reach || -dy >= reach;
}

/** xorshift32, seeded as src/world.rs seeds it. */
class Rng {
  constructor(seed) {
    const state = ((seed >>> 0) ^ 0x2545f491) >>> 0;
    this.s = state === 0 ? 1 : state;
    for (let k = 0; k < 4; k++) this.nextU32();
  }
  nextU32() {
    let x = this.s;
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    this.s = x;
    return x;
  }
  unit() {
    return (this.nextU32() >>> 8) / 16777216; // exact in f32
  }
  signed() {
    return f(this.unit() * 2) - 1; // both exact
  }
}

export class World {
  constructor(n, seed) {
    if (!(Number.isInteger(n) && n >= 0 && n <= MAX_BODIES)) {
      throw new RangeError(`World(n, seed): n is at most ${MAX_BODIES} bodies, got ${n}`);
    }
    const scale = n > BASE_BODIES ? f(Math.sqrt(f(n / BASE_BODIES))) : 1;
    this.w = f(BASE_WIDTH * scale);
    this.h = f(BASE_HEIGHT * scale);
    const lattice = Math.trunc(f(this.w / CELL));
    this.cols = Math.trunc(f(this.w / CELL)) + 1;
    this.rows = Math.trunc(f(this.h / CELL)) + 1;
    this.n = n;
    for (const key of ["x", "y", "vx", "vy", "r", "im", "px", "py"]) this[key] = new Float32Array(n);
    this.start = new Uint32Array(this.cols * this.rows + 1);
    this.sorted = new Uint32Array(n);
    this.cell = new Uint32Array(n);
    const rng = new Rng(seed);
    for (let i = 0; i < n; i++) {
      const r = f(MIN_RADIUS + f(rng.unit() * (MAX_RADIUS - MIN_RADIUS)));
      const room = f(CELL * 0.5 - r);
      const col = i % lattice;
      const row = Math.floor(i / lattice);
      this.x[i] = f(f((col + 0.5) * CELL) + f(rng.signed() * room));
      this.y[i] = f(f((row + 0.5) * CELL) + f(rng.signed() * room));
      this.vx[i] = f(rng.signed() * INITIAL_SPEED);
      this.vy[i] = f(rng.signed() * INITIAL_SPEED);
      this.r[i] = r;
      this.im[i] = f(1 / f(r * r));
    }
  }

  len() { return this.n; }
  width() { return this.w; }
  height() { return this.h; }
  radii() { return this.r.slice(); }
  free() {}

  positions() {
    const out = new Float32Array(2 * this.n);
    for (let i = 0; i < this.n; i++) {
      out[2 * i] = this.x[i];
      out[2 * i + 1] = this.y[i];
    }
    return out;
  }

  velocities() {
    const out = new Float32Array(2 * this.n);
    for (let i = 0; i < this.n; i++) {
      out[2 * i] = this.vx[i];
      out[2 * i + 1] = this.vy[i];
    }
    return out;
  }

  run(steps, dt) {
    for (let s = 0; s < steps; s++) this.step(dt);
  }

  step(dt) {
    dt = f(dt);
    if (!(dt >= f(MIN_DT))) return;
    if (dt > f(MAX_DT)) dt = f(MAX_DT);
    const { x, y, vx, vy, px, py, n } = this;
    const gdt = f(GRAVITY * dt);
    for (let i = 0; i < n; i++) {
      px[i] = x[i];
      py[i] = y[i];
      vy[i] = f(vy[i] + gdt);
      x[i] = f(x[i] + f(vx[i] * dt));
      y[i] = f(y[i] + f(vy[i] * dt));
    }
    this.clamp();
    this.fillGrid();
    for (let k = 0; k < ITERATIONS; k++) {
      this.collide(false);
      this.clamp();
    }
    for (let i = 0; i < n; i++) {
      vx[i] = f(f(x[i] - px[i]) / dt);
      vy[i] = f(f(y[i] - py[i]) / dt);
    }
    this.collide(true);
    this.bounce();
  }

  clamp() {
    const { x, y, r, n } = this;
    for (let i = 0; i < n; i++) {
      const ri = r[i];
      const right = f(this.w - ri);
      const bottom = f(this.h - ri);
      if (x[i] < ri) x[i] = ri;
      else if (x[i] > right) x[i] = right;
      if (y[i] < ri) y[i] = ri;
      else if (y[i] > bottom) y[i] = bottom;
    }
  }

  bounce() {
    const { x, y, vx, vy, r, n } = this;
    for (let i = 0; i < n; i++) {
      const ri = r[i];
      const right = f(this.w - ri);
      const bottom = f(this.h - ri);
      if ((x[i] <= ri && vx[i] < 0) || (x[i] >= right && vx[i] > 0)) vx[i] = f(-vx[i] * RESTITUTION);
      if ((y[i] <= ri && vy[i] < 0) || (y[i] >= bottom && vy[i] > 0)) vy[i] = f(-vy[i] * RESTITUTION);
    }
  }

  fillGrid() {
    const { cols, rows, start, sorted, cell, x, y, n } = this;
    start.fill(0);
    for (let i = 0; i < n; i++) {
      const cx = Math.min(Math.trunc(f(x[i] / CELL)), cols - 1);
      const cy = Math.min(Math.trunc(f(y[i] / CELL)), rows - 1);
      const c = cx + cy * cols;
      cell[i] = c;
      start[c + 1] += 1;
    }
    for (let c = 0; c < cols * rows; c++) start[c + 1] += start[c];
    for (let i = 0; i < n; i++) {
      const c = cell[i];
      sorted[start[c]] = i;
      start[c] += 1;
    }
    for (let c = cols * rows; c >= 1; c--) start[c] = start[c - 1];
    start[0] = 0;
  }

  collide(velocities) {
    const { cols, rows, start, sorted } = this;
    const pair = velocities ? this.rebound : this.resolve;
    for (let cy = rows - 1; cy >= 0; cy--) {
      for (let cx = 0; cx < cols; cx++) {
        const c = cx + cy * cols;
        const lo = start[c];
        const hi = start[c + 1];
        for (let a = lo; a < hi; a++) {
          const i = sorted[a];
          for (let b = a + 1; b < hi; b++) pair.call(this, i, sorted[b]);
          if (cx + 1 < cols) this.against(pair, i, c + 1);
          if (cy + 1 < rows) {
            if (cx > 0) this.against(pair, i, c + cols - 1);
            this.against(pair, i, c + cols);
            if (cx + 1 < cols) this.against(pair, i, c + cols + 1);
          }
        }
      }
    }
  }

  against(pair, i, c) {
    const { start, sorted } = this;
    for (let b = start[c]; b < start[c + 1]; b++) pair.call(this, i, sorted[b]);
  }

  resolve(i, j) {
    const { x, y, r, im } = this;
    const dx = f(x[j] - x[i]);
    const dy = f(y[j] - y[i]);
    const reach = f(r[i] + r[j]);
    if (far(dx, dy, reach)) return; // a shortcut only: then d2 >= reach * reach too
    const d2 = f(f(dx * dx) + f(dy * dy));
    if (!(d2 < f(reach * reach))) return;
    let nx = 1;
    let ny = 0;
    let d = 0;
    if (d2 > 0) {
      d = f(Math.sqrt(d2));
      nx = f(dx / d);
      ny = f(dy / d);
    }
    const wi = im[i];
    const wj = im[j];
    const push = f(f(reach - d) / f(wi + wj));
    const pi = f(push * wi);
    const pj = f(push * wj);
    x[i] = f(x[i] - f(nx * pi));
    y[i] = f(y[i] - f(ny * pi));
    x[j] = f(x[j] + f(nx * pj));
    y[j] = f(y[j] + f(ny * pj));
  }

  rebound(i, j) {
    const { x, y, vx, vy, r, im } = this;
    const dx = f(x[j] - x[i]);
    const dy = f(y[j] - y[i]);
    const reach = f(f(r[i] + r[j]) * CONTACT);
    if (far(dx, dy, reach)) return;
    const d2 = f(f(dx * dx) + f(dy * dy));
    if (!(d2 < f(reach * reach)) || !(d2 > 0)) return;
    const d = f(Math.sqrt(d2));
    const nx = f(dx / d);
    const ny = f(dy / d);
    const vn = f(f(f(vx[j] - vx[i]) * nx) + f(f(vy[j] - vy[i]) * ny));
    if (vn < 0) {
      const wi = im[i];
      const wj = im[j];
      const impulse = f(f(BOUNCE * vn) / f(wi + wj));
      const ki = f(impulse * wi);
      const kj = f(impulse * wj);
      vx[i] = f(vx[i] - f(nx * ki));
      vy[i] = f(vy[i] - f(ny * ki));
      vx[j] = f(vx[j] + f(nx * kj));
      vy[j] = f(vy[j] + f(ny * kj));
    }
  }

  energy() {
    let total = 0;
    for (let i = 0; i < this.n; i++) {
      const r = this.r[i];
      const vx = this.vx[i];
      const vy = this.vy[i];
      const lift = this.h - this.y[i];
      total += r * r * (0.5 * (vx * vx + vy * vy) + GRAVITY * lift);
    }
    return total;
  }
}
