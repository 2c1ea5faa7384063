//! serve-counter: a `bridge` handler for `wasmbridge serve`.
//!
//! - `GET /api/counter` adds one to the `hits` key of the `default` store and
//!   answers `{"count": N}`; `DELETE /api/counter` resets it.
//! - `POST /api/echo` answers the request as JSON: method, path, query, the
//!   route parameters, the content type and the body.
//!
//! Each request runs in a fresh instance, so nothing survives between
//! requests except what the key-value store keeps.
#![no_std]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use wasmbridge::serve::{kv, Request, Response};

/// The route's entry point: one call per request.
#[wasmbridge::export]
pub fn handle(req: Request) -> Response {
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/api/counter") => count(),
        ("DELETE", "/api/counter") => reset(),
        ("POST", "/api/echo") => echo(&req),
        (_, "/api/counter") | (_, "/api/echo") => Response::text(405, "method not allowed\n"),
        _ => Response::text(404, "not found\n"),
    }
}

fn count() -> Response {
    match kv::Store::open("default") {
        // Atomic: concurrent requests, and servers sharing a Redis store, never lose a hit.
        Ok(store) => Response::json(200, &format!("{{\"count\": {}}}", store.increment("hits", 1))),
        Err(err) => Response::text(500, err.message()),
    }
}

fn reset() -> Response {
    match kv::Store::open("default") {
        Ok(store) => {
            store.delete("hits");
            Response::json(200, "{\"count\": 0}")
        }
        Err(err) => Response::text(500, err.message()),
    }
}

fn echo(req: &Request) -> Response {
    let params: Vec<String> = req
        .params
        .iter()
        .map(|(k, v)| format!("{}: {}", json_string(k), json_string(v)))
        .collect();
    let body = String::from_utf8_lossy(&req.body);
    let text = format!(
        "{{\"method\": {}, \"path\": {}, \"query\": {}, \"params\": {{{}}}, \
         \"content_type\": {}, \"body\": {}}}",
        json_string(&req.method),
        json_string(&req.path),
        json_string(&req.query),
        params.join(", "),
        json_string(req.header("content-type").unwrap_or("")),
        json_string(&body),
    );
    Response::json(200, &text)
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
