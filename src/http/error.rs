//! `ProtoError`: why the protocol core refused what the peer sent.
//!
//! Every parser in `http/` (the response head, the chunked decoder, header blocks) fails with
//! this one type, so it lives in a file of its own that depends on nothing else here. Before
//! it had one, it sat in `response.rs`, and `headers.rs` and `chunked.rs` imported it from
//! there while `response.rs` imported them: an import cycle through the whole core.
//! `http::response::{ProtoError, ProtoErrorKind}` still name these types.

use std::fmt;

/// What went wrong, coarsely: the CLI maps each kind to an exit code. More kinds may come:
/// match with a `_` arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProtoErrorKind {
    /// A reply that breaks the grammar or the framing rules (curl exit 8).
    Malformed,
    /// The head is larger than `Limits::max_head_bytes` (exit 8).
    HeadTooLarge,
    /// More header (or trailer) fields than `Limits::max_headers` (exit 8).
    TooManyHeaders,
    /// More interim (1xx) responses than `Limits::max_interim` (exit 8).
    TooManyInterim,
    /// The body is larger than `Limits::max_body` (exit 63).
    BodyTooLarge,
    /// The peer closed mid-body (exit 18).
    Incomplete,
    /// The peer closed mid-head, after some bytes of it (exit 8).
    IncompleteHead,
    /// The peer closed before sending any byte of a response (exit 52, "Stream closed").
    NoResponse,
}

/// A response the parser refuses. `Display` is the reason, naming what and where, e.g.
/// `invalid chunk size at byte 1043: expected a hex digit, got 'x'`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtoError {
    /// The kind, for exit codes and error mapping.
    pub kind: ProtoErrorKind,
    message: String,
}

impl ProtoError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ProtoErrorKind, message: String) -> ProtoError {
        ProtoError { kind, message }
    }

    /// The reason (same as `Display`).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ProtoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ProtoError {}

/// A [`ProtoErrorKind::Malformed`] error with `msg`: the common case, named for brevity.
pub(crate) fn malformed(msg: String) -> ProtoError {
    ProtoError::new(ProtoErrorKind::Malformed, msg)
}
