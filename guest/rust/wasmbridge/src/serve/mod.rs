//! Handlers for `wasmbridge serve` (feature `serve`): the request and
//! response records a bridge handler takes and returns, and the host's
//! services: key-value stores ([`kv`]), outbound HTTP ([`http`]) and the
//! server log ([`log`]).
//!
//! ```ignore
//! use wasmbridge::serve::{kv, Request, Response};
//!
//! #[wasmbridge::export]
//! pub fn handle(req: Request) -> Response {
//!     let store = match kv::Store::open("default") {
//!         Ok(store) => store,
//!         Err(e) => return Response::text(500, e.message()),
//!     };
//!     let n = store.increment("hits", 1);
//!     Response::text(200, &alloc::format!("{} {} #{}", req.method, req.path, n))
//! }
//! ```
//!
//! The import ABI these helpers use is in the wasmbridge repository's
//! docs/serve-abi.md.

use alloc::string::String;
use alloc::vec::Vec;

mod error;
pub mod http;
pub mod kv;
pub mod log;
mod wire;

pub use error::{Error, ErrorKind};

/// An HTTP request as the server hands it to `handle`.
///
/// `path` is the raw request path (percent-encoded as sent), `query` the
/// raw query string without `?`, `params` the values of the route's
/// `:name` segments, `headers` lower-case names in the order received.
#[crate::export]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    pub params: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The answer of `handle`: a status, headers and a body.
#[crate::export]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first value of header `name` (compared without regard to case).
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name, true)
    }

    /// The value of the route parameter `name` (`:id` in `/items/:id`).
    pub fn param(&self, name: &str) -> Option<&str> {
        find(&self.params, name, false)
    }

    /// The body as UTF-8 text, or `None` when it is not valid UTF-8.
    pub fn text(&self) -> Option<&str> {
        core::str::from_utf8(&self.body).ok()
    }
}

impl Response {
    /// A response with `status`, no headers and an empty body.
    pub fn new(status: u16) -> Response {
        Response { status, headers: Vec::new(), body: Vec::new() }
    }

    /// `body` as `text/plain; charset=utf-8`.
    pub fn text(status: u16, body: &str) -> Response {
        Response::bytes(status, "text/plain; charset=utf-8", body.as_bytes().to_vec())
    }

    /// `body` (JSON text the handler wrote) as `application/json`.
    pub fn json(status: u16, body: &str) -> Response {
        Response::bytes(status, "application/json", body.as_bytes().to_vec())
    }

    /// `body` with the given content type.
    pub fn bytes(status: u16, content_type: &str, body: Vec<u8>) -> Response {
        Response::new(status).with_header("content-type", content_type).with_body(body)
    }

    /// This response with one more header.
    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((String::from(name), String::from(value)));
        self
    }

    /// This response with `body` as its body.
    pub fn with_body(mut self, body: Vec<u8>) -> Response {
        self.body = body;
        self
    }
}

fn find<'a>(pairs: &'a [(String, String)], name: &str, any_case: bool) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| if any_case { key.eq_ignore_ascii_case(name) } else { key == name })
        .map(|(_, value)| value.as_str())
}
