// ms per step of the physics example in Node: the plain-JS World
// (examples/physics/js/physics_plain.js) and the same physics.wasm through its
// generated ES module. Prints JSON: { plain: [ms...], wasm: [ms...], same: bool }.
//   node physics.mjs PKG/physics.js PLAIN.js BODIES SAMPLES STEPS_PER_SAMPLE
import { pathToFileURL } from "node:url";

const [glue, plainPath, bodies, samples, perSample] = process.argv.slice(2);
const kernel = await import(pathToFileURL(glue).href);
await kernel.default();
const { World: PlainWorld } = await import(pathToFileURL(plainPath).href);
const n = Number(bodies);
const dt = 1 / 60;

function time(World) {
  const world = new World(n, 1);
  for (let s = 0; s < 120; s++) world.step(dt); // the JIT warms up, the pile forms
  const out = [];
  for (let k = 0; k < Number(samples); k++) {
    const started = performance.now();
    for (let s = 0; s < Number(perSample); s++) world.step(dt);
    out.push((performance.now() - started) / Number(perSample));
  }
  return { ms: out, positions: world.positions() };
}

const plain = time(PlainWorld);
const wasm = time(kernel.World);
const same = Buffer.compare(Buffer.from(plain.positions.buffer), Buffer.from(wasm.positions.buffer)) === 0;
process.stdout.write(JSON.stringify({ plain: plain.ms, wasm: wasm.ms, same }));
