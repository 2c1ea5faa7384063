// examples/imagekit/js/imagekit_plain.js on the calls of input.calls (as imagekit_check.mjs
// takes them; Node only): the plain-JS grayscale, blur and resize, whose outputs the Python
// test compares with its numpy references. `kernel` (the wasm module) is not used.
import { pathToFileURL } from "node:url";
import { synth } from "./imagekit_check.mjs";

const fromB64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const toB64 = (bytes) => Buffer.from(bytes).toString("base64");

export async function run(_kernel, input) {
  const plain = await import(pathToFileURL(input.plain).href);
  return input.calls.map(([name, spec, ...args]) => {
    const image = typeof spec === "string" ? fromB64(spec) : synth(spec[1], spec[2], spec[3]);
    try {
      return { bytes: toB64(plain[name](image, ...args)) };
    } catch (e) {
      return { error: e.message, name: e.name };
    }
  });
}
