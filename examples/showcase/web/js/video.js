// Video: a synthetic 1280x720 frame stream, filtered in place per frame with videofx.

import { $, exported, fail, frameLoop, loadKernel, loadPlain, ms, show } from "./util.js";

const WIDTH = 1280;
const HEIGHT = 720;
const engines = { wasm: null, js: null };
let running = false;
let loops = 0; // a Stop and Start within one frame must not leave two loops running

export async function setup(record) {
  Object.assign(record, {
    ready: false, running: false, width: WIDTH, height: HEIGHT, effect: "grayscale_contrast",
    engine: "wasm", fps: 0, filter_ms: 0, generate_ms: 0, frames: 0,
  });
  $("video-toggle").addEventListener("click", () => (running ? stop(record) : start(record)));
  $("video-contrast").addEventListener("input", () => show("video-contrast-value", $("video-contrast").value));
  try {
    engines.wasm = await loadKernel("videofx");
  } catch (error) {
    fail("video", error);
    return;
  }
  try {
    const plain = await loadPlain("videofx");
    engines.js = { grayscale_contrast: exported(plain, "grayscale_contrast"), sepia: exported(plain, "sepia") };
  } catch (error) {
    console.warn("plain-JS videofx unavailable:", error);
    $("video-engine").querySelector('option[value="js"]').disabled = true;
  }
  record.ready = true;
  $("video-toggle").disabled = false;
  show("video-status", "ready: press Start");
}

function start(record) {
  running = record.running = true;
  const mine = ++loops;
  $("video-toggle").textContent = "Stop";
  const source = new OffscreenCanvas(WIDTH, HEIGHT).getContext("2d", { willReadFrequently: true });
  // CPU-backed: each frame arrives as pixels, and tests read it back.
  const screen = $("video-canvas").getContext("2d", { willReadFrequently: true });
  let filterTotal = 0;
  let generateTotal = 0;
  let frames = 0;
  frameLoop(
    (now) => {
      const t0 = performance.now();
      paintFrame(source, now / 1000);
      const image = source.getImageData(0, 0, WIDTH, HEIGHT);
      const t1 = performance.now();
      filter(record, new Uint8Array(image.data.buffer));
      const t2 = performance.now();
      screen.putImageData(image, 0, 0);
      generateTotal += t1 - t0;
      filterTotal += t2 - t1;
      frames += 1;
      record.frames += 1;
    },
    () => running && loops === mine,
    (fps) => {
      Object.assign(record, { fps, filter_ms: filterTotal / frames, generate_ms: generateTotal / frames });
      show("video-fps", `${fps.toFixed(0)} fps`);
      show("video-filter", `${ms(record.filter_ms)} / frame filter (${record.engine})`);
      show("video-generate", `${ms(record.generate_ms)} / frame to draw and read back`);
      filterTotal = generateTotal = frames = 0;
    },
  );
  show("video-status", "running");
}

function stop(record) {
  running = record.running = false;
  $("video-toggle").textContent = "Start";
  show("video-status", "stopped");
}

/** One call per frame, in place, with the chosen effect and engine. */
function filter(record, frame) {
  record.effect = $("video-effect").value;
  record.engine = $("video-engine").value;
  const fx = engines[record.engine];
  if (record.effect === "grayscale_contrast") fx.grayscale_contrast(frame, Number($("video-contrast").value));
  else if (record.effect === "sepia") fx.sepia(frame);
}

/** A moving test pattern: colour bars, a sweeping gradient, orbiting discs and a clock. */
function paintFrame(ctx, t) {
  const bars = ["#c0c0c0", "#c0c000", "#00c0c0", "#00c000", "#c000c0", "#c00000", "#0000c0"];
  const bar = WIDTH / bars.length;
  bars.forEach((colour, i) => {
    ctx.fillStyle = colour;
    ctx.fillRect(i * bar, 0, bar + 1, HEIGHT * 0.6);
  });
  const sweep = ctx.createLinearGradient(0, 0, WIDTH, 0);
  const phase = (t * 0.2) % 1;
  sweep.addColorStop(0, "#000");
  sweep.addColorStop(phase, "#fff");
  sweep.addColorStop(1, "#000");
  ctx.fillStyle = sweep;
  ctx.fillRect(0, HEIGHT * 0.6, WIDTH, HEIGHT * 0.4);
  for (let i = 0; i < 6; i++) {
    const angle = t * (0.6 + i * 0.15) + (i * Math.PI) / 3;
    ctx.fillStyle = `hsl(${(i * 60 + t * 40) % 360} 80% 55%)`;
    ctx.beginPath();
    ctx.arc(WIDTH / 2 + Math.cos(angle) * 360, HEIGHT / 2 + Math.sin(angle) * 220, 50, 0, 2 * Math.PI);
    ctx.fill();
  }
  const clock = `t = ${t.toFixed(2)} s`;
  ctx.font = "bold 64px monospace";
  ctx.lineWidth = 6;
  ctx.strokeStyle = "#000";
  ctx.strokeText(clock, 40, HEIGHT - 48);
  ctx.fillStyle = "#fff";
  ctx.fillText(clock, 40, HEIGHT - 48);
}
