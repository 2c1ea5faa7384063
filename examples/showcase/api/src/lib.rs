//! The showcase's API route, a `bridge` handler for `wasmbridge serve`.
//!
//! - `POST /api/jwt/verify` with a form body `token=...&key=...` checks an
//!   HS256 JSON Web Token on the server: 200 `{"valid": true, "claims": "..."}`
//!   (the claims as JSON text), or 401 `{"valid": false, "error": "..."}`
//!   saying why (malformed, not HS256, bad signature).
//! - `GET /api/info` says what answered: the handler and its crate version.
//!
//! The signature is checked with RustCrypto's `hmac` (a constant-time
//! compare). The guest has no clock, so `exp` and `nbf` are not checked.
#![no_std]

extern crate alloc;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use wasmbridge::serve::{Request, Response};

/// The route's entry point: one call per request, in a fresh instance.
#[wasmbridge::export]
pub fn handle(req: Request) -> Response {
    match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/api/jwt/verify") => verify_form(&req.body),
        ("GET", "/api/info") => info(),
        (_, "/api/jwt/verify") | (_, "/api/info") => Response::text(405, "method not allowed\n"),
        _ => Response::text(404, "not found\n"),
    }
}

fn info() -> Response {
    let body = format!(
        "{{\"handler\": \"showcase-api\", \"version\": {}, \"runtime\": \"wasmbridge serve (bridge)\"}}",
        json_string(env!("CARGO_PKG_VERSION"))
    );
    Response::json(200, &body)
}

fn verify_form(body: &[u8]) -> Response {
    let (mut token, mut key) = (None, None);
    for pair in body.split(|&b| b == b'&') {
        let mut halves = pair.splitn(2, |&b| b == b'=');
        let name = form_decode(halves.next().unwrap_or(b""));
        let value = form_decode(halves.next().unwrap_or(b""));
        match name.as_slice() {
            b"token" => token = Some(value),
            b"key" => key = Some(value),
            _ => {}
        }
    }
    let (token, key) = match (token, key) {
        (Some(token), Some(key)) => (token, key),
        _ => return Response::json(400, "{\"valid\": false, \"error\": \"the form needs token and key\"}"),
    };
    let token = String::from_utf8_lossy(&token);
    match verify_hs256(&token, &key) {
        Ok(claims) => Response::json(200, &format!("{{\"valid\": true, \"claims\": {}}}", json_string(&claims))),
        Err(why) => Response::json(401, &format!("{{\"valid\": false, \"error\": {}}}", json_string(&why))),
    }
}

/// The claims of an HS256 token signed with `key`, or why it is not one.
fn verify_hs256(token: &str, key: &[u8]) -> Result<String, String> {
    let parts: Vec<&str> = token.trim().split('.').collect();
    let (header, claims, signature) = match parts.as_slice() {
        [header, claims, signature] => (*header, *claims, *signature),
        _ => return Err(format!("malformed: {} dot-separated parts, not 3", parts.len())),
    };
    let header_json = decode_part(header, "header")?;
    match string_field(&header_json, "alg") {
        Some("HS256") => {}
        Some(other) => return Err(format!("wrong alg: {other}, not HS256")),
        None => return Err("malformed: the header has no alg".to_string()),
    }
    let signature = base64::decode_config(signature, base64::URL_SAFE_NO_PAD)
        .map_err(|_| "malformed: the signature is not base64url".to_string())?;
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(header.as_bytes());
    mac.update(b".");
    mac.update(claims.as_bytes());
    mac.verify_slice(&signature).map_err(|_| "bad signature".to_string())?;
    decode_part(claims, "claims")
}

fn decode_part(part: &str, what: &str) -> Result<String, String> {
    let bytes = base64::decode_config(part, base64::URL_SAFE_NO_PAD)
        .map_err(|_| format!("malformed: the {what} is not base64url"))?;
    String::from_utf8(bytes).map_err(|_| format!("malformed: the {what} is not UTF-8"))
}

/// The value of `"name": "..."` at the top of a small JSON object (enough for a
/// JWT header, whose values hold no escapes).
fn string_field<'a>(json: &'a str, name: &str) -> Option<&'a str> {
    let quoted = format!("\"{name}\"");
    let after = &json[json.find(&quoted)? + quoted.len()..];
    let after = after.trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    Some(&after[..after.find('"')?])
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte.
fn form_decode(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let escaped = raw.get(i + 1..i + 3).and_then(|pair| Some(hex(pair[0])? * 16 + hex(pair[1])?));
        match (raw[i], escaped) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 2;
            }
            (b, _) => out.push(b),
        }
        i += 1;
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// `s` as a JSON string literal, quotes included.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
