use alloc::string::String;

/// What went wrong with a host service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The route may not use this store or origin (manifest:
    /// `key_value_stores`, `allowed_outbound_hosts`); no connection was made.
    NotAllowed,
    /// The request itself is malformed (a bad URL, method or header).
    InvalidRequest,
    /// The connection failed or the peer answered with something unreadable.
    Failed,
    /// The peer did not answer within the route's time limit.
    Timeout,
    /// The answer was larger than the host accepts.
    TooLarge,
}

/// A host service's error: its kind and the host's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: String) -> Error {
        Error { kind, message }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The host's description, naming the store or URL.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.message)
    }
}
