//! Lines in the server's log (the `wasmbridge.serve` logger), tagged with
//! the route and the request id. Long lines are cut (4 KiB) and control
//! characters escaped by the host.

#[crate::import]
extern "C" {
    fn serve_log(level: u32, message: &str);
}

/// Log levels as the import takes them.
const DEBUG: u32 = 0;
const INFO: u32 = 1;
const WARN: u32 = 2;
const ERROR: u32 = 3;

/// Logs `message` at debug level.
pub fn debug(message: &str) {
    serve_log(DEBUG, message)
}

/// Logs `message` at info level.
pub fn info(message: &str) {
    serve_log(INFO, message)
}

/// Logs `message` at warning level.
pub fn warn(message: &str) {
    serve_log(WARN, message)
}

/// Logs `message` at error level.
pub fn error(message: &str) {
    serve_log(ERROR, message)
}
