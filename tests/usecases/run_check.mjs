// Runs one use-case check module in Node, the way tests/usecases/usecase_helpers.py runs it
// in Chromium:  node run_check.mjs CHECK.mjs PKG/NAME.js INPUT.json
// The check module exports `async run(kernel, input)`: `kernel` is the generated ES module
// (already initialised), `input` the parsed JSON; what it returns is printed as JSON.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [checkPath, gluePath, inputPath] = process.argv.slice(2);
if (!inputPath) throw new Error("usage: node run_check.mjs CHECK.mjs PKG/NAME.js INPUT.json");
const check = await import(pathToFileURL(checkPath).href);
const kernel = await import(pathToFileURL(gluePath).href);
await kernel.default();
const result = await check.run(kernel, JSON.parse(readFileSync(inputPath, "utf-8")));
process.stdout.write(JSON.stringify(result));
