//! Key-value stores the route lists in `key_value_stores`: values are
//! bytes, keys UTF-8; `increment` and `compare_and_swap` are atomic across
//! requests, threads and server processes sharing the store.
//!
//! ```ignore
//! let store = kv::Store::open("default")?;
//! store.set("greeting", b"hello");
//! assert_eq!(store.get("greeting").as_deref(), Some(&b"hello"[..]));
//! let visits = store.increment("visits", 1);
//! ```
//!
//! A backend failure (a Redis server that went away) traps the request;
//! the server answers 500 and logs the store, the backend and the cause.

use alloc::string::String;
use alloc::vec::Vec;

use super::{wire, Error, ErrorKind};

#[crate::import]
extern "C" {
    fn serve_kv_open(name: &str) -> i32;
    fn serve_kv_get(store: i32, key: &str) -> Option<Vec<u8>>;
    fn serve_kv_set(store: i32, key: &str, value: &[u8]);
    fn serve_kv_delete(store: i32, key: &str) -> bool;
    fn serve_kv_exists(store: i32, key: &str) -> bool;
    fn serve_kv_keys(store: i32, prefix: &str) -> Vec<u8>;
    fn serve_kv_increment(store: i32, key: &str, delta: i64) -> i64;
    fn serve_kv_cas(store: i32, key: &str, expected: Option<&[u8]>, new: &[u8]) -> bool;
}

/// An open key-value store (a handle valid for this request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Store {
    handle: i32,
}

impl Store {
    /// Opens the store `name`; an error if the route does not list it.
    pub fn open(name: &str) -> Result<Store, Error> {
        let handle = serve_kv_open(name);
        if handle < 0 {
            let mut message = String::from("this route may not use key-value store \"");
            message.push_str(name);
            message.push_str("\" (add it to the route's key_value_stores)");
            return Err(Error::new(ErrorKind::NotAllowed, message));
        }
        Ok(Store { handle })
    }

    /// Opens the store named "default".
    pub fn open_default() -> Result<Store, Error> {
        Store::open("default")
    }

    /// The value of `key`, or `None`.
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        serve_kv_get(self.handle, key)
    }

    /// Sets `key` to `value`.
    pub fn set(&self, key: &str, value: &[u8]) {
        serve_kv_set(self.handle, key, value)
    }

    /// Deletes `key`; true if it existed.
    pub fn delete(&self, key: &str) -> bool {
        serve_kv_delete(self.handle, key)
    }

    /// True if `key` has a value.
    pub fn exists(&self, key: &str) -> bool {
        serve_kv_exists(self.handle, key)
    }

    /// Every key starting with `prefix` ("" for all), sorted.
    pub fn keys(&self, prefix: &str) -> Vec<String> {
        wire::list(&serve_kv_keys(self.handle, prefix))
    }

    /// Adds `delta` to the integer stored at `key` (0 when absent) and
    /// returns the new value; the value is stored as decimal text, so
    /// `get` reads `b"42"`. Traps when the value is not an integer.
    pub fn increment(&self, key: &str, delta: i64) -> i64 {
        serve_kv_increment(self.handle, key, delta)
    }

    /// Sets `key` to `new` only if its value is `expected` (`None`: only
    /// if `key` is absent); true if it did.
    pub fn compare_and_swap(&self, key: &str, expected: Option<&[u8]>, new: &[u8]) -> bool {
        serve_kv_cas(self.handle, key, expected, new)
    }
}
