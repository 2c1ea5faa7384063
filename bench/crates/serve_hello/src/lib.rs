//! The hello handler bench/serve.py times: the smallest useful bridge handler.
#![no_std]

use wasmbridge::serve::{Request, Response};

#[wasmbridge::export]
pub fn handle(_req: Request) -> Response {
    Response::text(200, "Hello, world!\n")
}
