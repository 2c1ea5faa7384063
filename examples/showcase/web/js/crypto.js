// Crypto: SHA-256 as you type (cryptokit and WebCrypto), and an HS256 JWT signed in the
// page and verified by the server's API route.

import { $, fail, hex, loadKernel, ms, show, timeBest, timeBestAsync } from "./util.js";

const encoder = new TextEncoder();
let kit = null;
let typed = 0; // input events so far: a slower digest of older text must not win

export async function setup(record) {
  Object.assign(record, { ready: false, hash: null, jwt: null, bench: null });
  try {
    kit = await loadKernel("cryptokit");
  } catch (error) {
    fail("crypto", error);
    return;
  }
  $("hash-input").addEventListener("input", () => hashText(record));
  $("jwt-sign").addEventListener("click", () => sign(record));
  $("jwt-verify").addEventListener("click", () => verify(record));
  $("hash-bench").addEventListener("click", () => bench(record));
  for (const id of ["jwt-sign", "hash-bench"]) $(id).disabled = false;
  record.ready = true;
  show("crypto-status", "ready");
  await hashText(record);
}

/** SHA-256 of the text box in WASM and with crypto.subtle.digest. */
async function hashText(record) {
  const text = $("hash-input").value;
  const bytes = encoder.encode(text);
  const turn = ++typed;
  const a = timeBest(() => kit.sha256(bytes), 1);
  const b = await timeBestAsync(() => crypto.subtle.digest("SHA-256", bytes), 1);
  if (turn !== typed) return;
  const wasmHex = hex(a.result);
  const webHex = hex(new Uint8Array(b.result));
  record.hash = {
    text, bytes: bytes.length, wasm: wasmHex, webcrypto: webHex,
    match: wasmHex === webHex, wasm_ms: a.ms, webcrypto_ms: b.ms,
  };
  show("hash-wasm", wasmHex);
  show("hash-webcrypto", webHex);
  show("hash-info", `${bytes.length} B: WASM ${ms(a.ms)}, WebCrypto ${ms(b.ms)}, ${wasmHex === webHex ? "equal" : "DIFFERENT"}`);
}

/** Throughput on 8 MiB of pseudo-random bytes. */
async function bench(record) {
  const data = new Uint8Array(8 << 20);
  let x = 0x9e3779b9;
  for (let i = 0; i < data.length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    data[i] = x & 0xff;
  }
  const a = timeBest(() => kit.sha256(data));
  const b = await timeBestAsync(() => crypto.subtle.digest("SHA-256", data));
  const mbps = (t) => data.length / 1e6 / (t / 1000);
  record.bench = {
    bytes: data.length, wasm_ms: a.ms, webcrypto_ms: b.ms,
    wasm_mb_s: mbps(a.ms), webcrypto_mb_s: mbps(b.ms), match: hex(a.result) === hex(new Uint8Array(b.result)),
  };
  show("hash-bench-result", `8 MiB: WASM ${mbps(a.ms).toFixed(0)} MB/s, WebCrypto ${mbps(b.ms).toFixed(0)} MB/s`);
}

/** Signs the claims with the key in WASM, checks the token locally, then asks the server. */
async function sign(record) {
  const claims = $("jwt-claims").value;
  try {
    JSON.parse(claims);
  } catch (error) {
    show("jwt-local", `the claims are not JSON: ${error.message}`);
    return;
  }
  const key = encoder.encode($("jwt-key").value);
  const signed = timeBest(() => kit.jwt_sign_hs256(claims, key), 1);
  $("jwt-token").value = signed.result;
  record.jwt = { token: signed.result, claims, sign_ms: signed.ms, local: null, server: null };
  $("jwt-verify").disabled = false;
  await verify(record);
}

/** Verifies the token box with the key box: in WASM here, and on the server. */
async function verify(record) {
  const token = $("jwt-token").value.trim();
  const key = $("jwt-key").value;
  const jwt = record.jwt ?? (record.jwt = { token, claims: null, sign_ms: null });
  jwt.token = token;
  try {
    jwt.local = { valid: true, claims: kit.jwt_verify_hs256(token, encoder.encode(key)) };
  } catch (error) {
    jwt.local = { valid: false, error: String(error.error ?? error.message) }; // a ReturnedError: the Err text
  }
  show("jwt-local", jwt.local.valid ? `valid in the page: ${jwt.local.claims}` : `rejected in the page: ${jwt.local.error}`);
  show("jwt-server", "asking the server…");
  const start = performance.now();
  try {
    const response = await fetch("/api/jwt/verify", { method: "POST", body: new URLSearchParams({ token, key }) });
    const answer = await response.json();
    jwt.server = { status: response.status, ms: performance.now() - start, ...answer };
  } catch (error) {
    jwt.server = { status: 0, valid: false, error: error.message };
  }
  const server = jwt.server;
  show(
    "jwt-server",
    server.valid
      ? `valid on the server (HTTP ${server.status}, ${ms(server.ms)} round trip): ${server.claims}`
      : `rejected by the server (HTTP ${server.status}): ${server.error}`,
  );
}
