// The cryptokit check, the same in Node and in Chromium (tests/usecases/usecase_helpers.py):
// input.calls is a list of [name, ...args] with bytes as base64; each call runs on the one
// instance, in order, and its answer comes back in the same shape: bytes as base64, strings
// and booleans as they are, and an error as { error, name } (the glue's ReturnedError).
const fromB64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

function toB64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

const CALLS = {
  sha256: (kit, data) => toB64(kit.sha256(fromB64(data))),
  hmac_sha256: (kit, key, data) => toB64(kit.hmac_sha256(fromB64(key), fromB64(data))),
  jwt_sign_hs256: (kit, claims, key) => kit.jwt_sign_hs256(claims, fromB64(key)),
  jwt_verify_hs256: (kit, token, key) => {
    try {
      return { ok: kit.jwt_verify_hs256(token, fromB64(key)) };
    } catch (e) {
      if (!(e instanceof kit.ReturnedError)) throw e;
      return { error: e.error, name: e.name };
    }
  },
  ct_eq: (kit, a, b) => kit.ct_eq(fromB64(a), fromB64(b)),
};

export async function run(kit, input) {
  const answers = input.calls.map(([name, ...args]) => CALLS[name](kit, ...args));
  // WebCrypto's SHA-256 as a second opinion on the host's own side.
  const webcrypto = [];
  for (const data of input.webcrypto) {
    webcrypto.push(toB64(new Uint8Array(await crypto.subtle.digest("SHA-256", fromB64(data)))));
  }
  return { answers, webcrypto };
}
