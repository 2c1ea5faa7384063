// Physics: the wasm World (physics) stepped and drawn once per animation frame.

import { $, fail, frameLoop, loadKernel, loadPlain, ms, show } from "./util.js";

const SEED = 7;
const DT = 1 / 60;
const engines = { wasm: null, js: null };
let world = null;
let radii = null; // fixed for a world's life
let running = false;
let loops = 0; // a Stop and Start within one frame must not leave two loops running

export async function setup(record) {
  Object.assign(record, {
    ready: false, running: false, engine: "wasm", bodies: 0,
    fps: 0, step_ms: 0, draw_ms: 0, steps: 0, sample: [], compare: null,
  });
  $("physics-toggle").addEventListener("click", () => (running ? stop(record) : start(record)));
  $("physics-engine").addEventListener("change", () => restart(record));
  $("physics-bodies").addEventListener("change", () => restart(record));
  $("physics-compare").addEventListener("click", () => compare(record));
  try {
    engines.wasm = await loadKernel("physics");
  } catch (error) {
    fail("physics", error);
    return;
  }
  try {
    engines.js = await loadPlain("physics");
  } catch (error) {
    console.warn("plain-JS physics unavailable:", error);
    $("physics-engine").querySelector('option[value="js"]').disabled = true;
  }
  record.ready = true;
  for (const id of ["physics-toggle", "physics-compare"]) $(id).disabled = false;
  show("physics-status", "ready: press Start");
  makeWorld(record);
  draw(record);
}

function makeWorld(record) {
  const engine = $("physics-engine").value;
  const next = new engines[engine].World(Number($("physics-bodies").value), SEED);
  world?.free?.(); // the wasm World's memory; the old world stays if the new one throws
  world = next;
  record.engine = engine;
  radii = world.radii();
  record.bodies = world.len();
  record.steps = 0;
}

function restart(record) {
  if (!record.ready) return;
  try {
    makeWorld(record);
  } catch (error) {
    show("physics-status", `cannot make that world: ${error.message}`);
    return;
  }
  draw(record);
}

function start(record) {
  running = record.running = true;
  const mine = ++loops;
  $("physics-toggle").textContent = "Pause";
  show("physics-status", `running ${record.bodies.toLocaleString()} bodies (${record.engine})`);
  let stepTotal = 0;
  let drawTotal = 0;
  let frames = 0;
  frameLoop(
    () => {
      const t0 = performance.now();
      world.step(DT);
      const t1 = performance.now();
      draw(record);
      const t2 = performance.now();
      stepTotal += t1 - t0;
      drawTotal += t2 - t1;
      frames += 1;
      record.steps += 1;
    },
    () => running && loops === mine,
    (fps) => {
      Object.assign(record, { fps, step_ms: stepTotal / frames, draw_ms: drawTotal / frames });
      show("physics-fps", `${fps.toFixed(0)} fps`);
      show("physics-step", `${ms(record.step_ms)} / step`);
      show("physics-draw", `${ms(record.draw_ms)} / draw`);
      stepTotal = drawTotal = frames = 0;
    },
  );
}

function stop(record) {
  running = record.running = false;
  $("physics-toggle").textContent = "Start";
  show("physics-status", "paused");
}

function draw(record) {
  const canvas = $("physics-canvas");
  const ctx = canvas.getContext("2d");
  const positions = world.positions();
  const sx = canvas.width / world.width();
  const sy = canvas.height / world.height();
  ctx.fillStyle = "#0b1320";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "#7fd1b9";
  ctx.beginPath();
  for (let i = 0; i < radii.length; i++) {
    const x = positions[2 * i] * sx;
    const y = positions[2 * i + 1] * sy;
    const r = Math.max(1, radii[i] * sx);
    ctx.moveTo(x + r, y);
    ctx.arc(x, y, r, 0, 2 * Math.PI);
  }
  ctx.fill();
  record.sample = Array.prototype.slice.call(positions, 0, 8);
}

/** Steps a fresh World of each engine 60 times and records the ms per step. */
function compare(record) {
  const n = Number($("physics-bodies").value);
  const result = {};
  for (const [name, engine] of Object.entries(engines)) {
    if (!engine) continue;
    const fresh = new engine.World(n, SEED);
    fresh.step(DT); // warm up
    const start = performance.now();
    for (let i = 0; i < 60; i++) fresh.step(DT);
    result[`${name}_step_ms`] = (performance.now() - start) / 60;
    fresh.free?.();
  }
  record.compare = { bodies: n, ...result };
  const js = result.js_step_ms === undefined ? "" : `, plain JS ${ms(result.js_step_ms)}`;
  show("physics-compare-result", `${n.toLocaleString()} bodies: WASM ${ms(result.wasm_step_ms)} / step${js}`);
}
