//! serve-wagi-rust: a WAGI handler, a plain wasm32-wasi program (no SDK).
//!
//! The server runs it once per request as a CGI script: the request comes in
//! through environment variables (RFC 3875, as Wagi sets them), the query
//! string as arguments and the body on stdin; the response goes to stdout as
//! CGI headers, a blank line, then the body.
//!
//! `GET /wagi/rust?name=Ada` answers `Hello, Ada!` plus the CGI variables it saw.

use std::env;
use std::io::{self, Read, Write};

fn main() {
    let query = env::var("QUERY_STRING").unwrap_or_default();
    let name = query_value(&query, "name").unwrap_or_else(|| "world".to_string());
    let mut body = Vec::new();
    // The request body; empty for a GET.
    io::stdin().read_to_end(&mut body).ok();

    let mut out = String::new();
    out.push_str("Content-Type: text/plain; charset=utf-8\n");
    out.push_str("X-Handler: serve-wagi-rust\n");
    out.push('\n');
    out.push_str(&format!("Hello, {}!\n", name));
    for key in ["REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "X_MATCHED_ROUTE"] {
        out.push_str(&format!("{}={}\n", key, env::var(key).unwrap_or_default()));
    }
    out.push_str(&format!("args={:?}\n", env::args().skip(1).collect::<Vec<_>>()));
    out.push_str(&format!("body={} bytes\n", body.len()));
    io::stdout().write_all(out.as_bytes()).expect("stdout");
}

/// The percent-decoded value of `key` in an `a=1&b=2` query string.
fn query_value(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(k) == key).then(|| decode(v))
    })
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], hex_pair(&bytes[i + 1..])) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 2;
            }
            (byte, _) => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The byte that two leading hex digits of `rest` spell, if they do.
fn hex_pair(rest: &[u8]) -> Option<u8> {
    let digit = |b: u8| (b as char).to_digit(16);
    match rest {
        [hi, lo, ..] => Some((digit(*hi)? * 16 + digit(*lo)?) as u8),
        _ => None,
    }
}
