//! Outbound HTTP to the origins the route lists in
//! `allowed_outbound_hosts` (`scheme://host:port`, `*` for any host or
//! port). Any other URL is refused by the host before it connects.
//!
//! ```ignore
//! let reply = http::send("GET", "http://127.0.0.1:9000/price", &[("accept", "text/plain")], b"")?;
//! if reply.status == 200 { /* reply.body */ }
//! ```
//!
//! Redirects are not followed: a 3xx comes back as it is.

use alloc::string::String;
use alloc::vec::Vec;

use super::{wire, Error, ErrorKind};

#[crate::import]
extern "C" {
    fn serve_http_send(method: &str, url: &str, headers: &[u8], body: &[u8]) -> Vec<u8>;
}

/// The answer to an outbound request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpReply {
    pub status: u16,
    /// Lower-case names, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpReply {
    /// The first value of header `name` (compared without regard to case).
    pub fn header(&self, name: &str) -> Option<&str> {
        super::find(&self.headers, name, true)
    }

    /// The body as UTF-8 text, or `None` when it is not valid UTF-8.
    pub fn text(&self) -> Option<&str> {
        core::str::from_utf8(&self.body).ok()
    }
}

/// Sends one request and waits for the whole answer.
pub fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<HttpReply, Error> {
    let mut encoded = Vec::new();
    for (name, value) in headers {
        wire::push(&mut encoded, name);
        wire::push(&mut encoded, value);
    }
    decode(&serve_http_send(method, url, &encoded, body))
}

/// Reads the host's reply (docs/serve-abi.md, "serve_http_send").
fn decode(reply: &[u8]) -> Result<HttpReply, Error> {
    match reply.first() {
        Some(0) if reply.len() >= 7 => {
            let status = u16::from_le_bytes([reply[1], reply[2]]);
            let count = wire::u32_at(&reply[3..]).unwrap_or(0);
            let mut rest = &reply[7..];
            let mut headers = Vec::new();
            for _ in 0..count {
                let name = wire::next(&mut rest);
                let value = wire::next(&mut rest);
                match (name, value) {
                    (Some(name), Some(value)) => headers.push((name, value)),
                    _ => return Err(broken()),
                }
            }
            Ok(HttpReply { status, headers, body: rest.to_vec() })
        }
        Some(1) if reply.len() >= 2 => {
            let kind = match reply[1] {
                1 => ErrorKind::NotAllowed,
                2 => ErrorKind::InvalidRequest,
                4 => ErrorKind::Timeout,
                5 => ErrorKind::TooLarge,
                _ => ErrorKind::Failed,
            };
            Err(Error::new(kind, String::from_utf8_lossy(&reply[2..]).into_owned()))
        }
        _ => Err(broken()),
    }
}

fn broken() -> Error {
    Error::new(ErrorKind::Failed, String::from("the host's reply to serve_http_send is malformed"))
}
