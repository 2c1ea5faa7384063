// The Node rows of bench/usecases/cryptokit.py: SHA-256, HMAC-SHA256 and HS256 JWTs in plain JS
// (cryptokit_plain.mjs) and the cryptokit .wasm through its generated glue, timed the way
// bench/_timing.py times Python (a warm-up, a loop calibrated to TARGET_S / 10, then
// REPEATS samples of about TARGET_S; min and median per call).
//   node cryptokit.mjs PKG/cryptokit.js TARGET_S REPEATS
// Prints JSON: {"rows": {name: {min_s, median_s, loops, digest}}}; each digest (hex) lets
// the Python side check the answer against hashlib before trusting the time.
import { pathToFileURL } from "node:url";
import { hmacSha256, jwtSignHs256, jwtVerifyHs256, sha256 } from "./cryptokit_plain.mjs";

const [gluePath, targetText, repeatsText] = process.argv.slice(2);
if (!gluePath) throw new Error("usage: node cryptokit.mjs PKG/cryptokit.js TARGET_S REPEATS");
const TARGET_S = Number(targetText ?? "0.25");
const REPEATS = Number(repeatsText ?? "7");
const kit = await import(pathToFileURL(gluePath).href);
await kit.default();

/** Bytes (i * 31 + 7) mod 256, as bench/usecases/cryptokit.py makes them. */
const pattern = (n) => new Uint8Array(n).map((_, i) => (i * 31 + 7) & 255);
const hex = (bytes) => Buffer.from(bytes).toString("hex");

function loop(func, loops) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < loops; i++) func();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function measure(func) {
  func();
  let loops = 1;
  let elapsed;
  for (;;) {
    elapsed = loop(func, loops);
    if (elapsed >= TARGET_S / 10 || loops >= 1 << 24) break;
    loops *= 4;
  }
  loops = Math.max(1, Math.floor(loops * (TARGET_S / Math.max(elapsed, 1e-9))));
  const samples = Array.from({ length: REPEATS }, () => loop(func, loops) / loops).sort(
    (a, b) => a - b,
  );
  return { min_s: samples[0], median_s: samples[samples.length >> 1], loops };
}

const MIB = pattern(1 << 20);
const KIB64 = pattern(1 << 16);
const KEY = new TextEncoder().encode("k".repeat(32));
const MESSAGE = pattern(1024);
const CLAIMS = JSON.stringify({ sub: "1234567890", name: "Ada Lovelace", admin: true, iat: 1516239022 });

const cases = {
  "sha256 1 MiB, plain JS": () => sha256(MIB),
  "sha256 1 MiB, wasm": () => kit.sha256(MIB),
  "sha256 64 KiB, plain JS": () => sha256(KIB64),
  "sha256 64 KiB, wasm": () => kit.sha256(KIB64),
  "hmac 1 KiB, plain JS": () => hmacSha256(KEY, MESSAGE),
  "hmac 1 KiB, wasm": () => kit.hmac_sha256(KEY, MESSAGE),
  "jwt sign+verify, plain JS": () => jwtVerifyHs256(jwtSignHs256(CLAIMS, KEY), KEY),
  "jwt sign+verify, wasm": () => kit.jwt_verify_hs256(kit.jwt_sign_hs256(CLAIMS, KEY), KEY),
};
const rows = {};
for (const [name, func] of Object.entries(cases)) {
  const answer = func();
  rows[name] = { ...measure(func), digest: typeof answer === "string" ? answer : hex(answer) };
}
process.stdout.write(JSON.stringify({ rows, node: process.version }));
