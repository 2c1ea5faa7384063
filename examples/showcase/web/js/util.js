// Small helpers shared by the showcase's sections.

/** The element with this id (throws when the page lacks it). */
export function $(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`no element #${id}`);
  return element;
}

/** Sets an element's text by id. */
export function show(id, text) {
  $(id).textContent = text;
}

/** A kernel's generated ES module (pkg/NAME/NAME.js), its wasm loaded. */
export async function loadKernel(name) {
  const kernel = await import(`/pkg/${name}/${name}.js`);
  await kernel.default();
  return kernel;
}

/** A kernel's plain-JS version (examples/NAME/js/NAME_plain.js). */
export function loadPlain(name) {
  return import(`/plain/${name}/${name}_plain.js`);
}

/** `module`'s function `name`, or the same name in camelCase (gaussian_blur: gaussianBlur). */
export function exported(module, name) {
  const found = module[name] ?? module[name.replace(/_(.)/g, (_, c) => c.toUpperCase())];
  if (typeof found !== "function") throw new Error(`the module exports no function ${name}`);
  return found;
}

/** `fn()`'s result and the best wall time in ms over `runs` calls (the first warms up). */
export function timeBest(fn, runs = 3) {
  let result;
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    result = fn();
    best = Math.min(best, performance.now() - start);
  }
  return { result, ms: best };
}

/** The same for an async `fn`. */
export async function timeBestAsync(fn, runs = 3) {
  let result;
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    result = await fn();
    best = Math.min(best, performance.now() - start);
  }
  return { result, ms: best };
}

/** "12.3 ms" (or "0.042 ms" for short ones). */
export function ms(value) {
  return `${value < 1 ? value.toFixed(3) : value.toFixed(1)} ms`;
}

/** Lower-case hex of bytes. */
export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Runs `fn` per frame while `isRunning()`; calls `onSecond(frames)` about once a second. */
export function frameLoop(fn, isRunning, onSecond) {
  let frames = 0;
  let since = performance.now();
  function tick(now) {
    if (!isRunning()) return;
    fn(now);
    frames += 1;
    if (now - since >= 1000) {
      onSecond((frames * 1000) / (now - since));
      frames = 0;
      since = now;
    }
    requestAnimationFrame(tick);
  }
  requestAnimationFrame(tick);
}

/** Shows a section's failure in its status line and records it. */
export function fail(section, error) {
  console.error(error);
  show(`${section}-status`, `unavailable: ${error.message}`);
  window.showcase.errors.push(`${section}: ${error.message}`);
}
