// The physics example's checks, run by tests/usecases/test_physics.py in Node and in
// headless Chromium: each case builds a World, runs `steps` steps of `dt` and reports
// SHA-256 digests of the positions' and velocities' bytes (f32, little-endian), the
// positions themselves for small worlds (base64), the energy and the box.
// `input.plain`, when given, is the URL of js/physics_plain.js: the same cases then
// run on its plain-JS World too (Node only).

async function sha256(floats) {
  const bytes = new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength);
  const digest = await globalThis.crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function base64(floats) {
  const bytes = new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength);
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}

async function runCase(World, { n, seed, steps, dt, keep }) {
  const world = new World(n, seed);
  const started = performance.now();
  for (let s = 0; s < steps; s++) world.step(dt);
  const ms = performance.now() - started;
  const positions = world.positions();
  const result = {
    len: world.len(),
    width: world.width(),
    height: world.height(),
    positions: await sha256(positions),
    velocities: await sha256(world.velocities()),
    energy: world.energy(),
    ms_per_step: steps ? ms / steps : 0,
  };
  if (keep) result.raw = base64(positions);
  world.free();
  return result;
}

export async function run(kernel, input) {
  const out = { wasm: [] };
  for (const c of input.cases) out.wasm.push(await runCase(kernel.World, c));
  let refused = null;
  try {
    new kernel.World(100001, 1);
  } catch (error) {
    refused = String(error && error.message ? error.message : error);
  }
  out.refused = refused;
  if (input.plain) {
    const { World } = await import(input.plain);
    out.plain = [];
    for (const c of input.cases) out.plain.push(await runCase(World, c));
  }
  return out;
}
