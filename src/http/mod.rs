//! The sans-IO HTTP/1.1 core: bytes in, events out.
//!
//! Nothing in this module touches a socket, a clock or the loop. The client (`src/client/`)
//! reads bytes from the network and hands them to these state machines, which say what the
//! bytes mean; it writes the bytes they produce. Keeping the protocol free of I/O means every
//! rule here is tested with exact wire bytes, fed whole, one byte at a time and split at every
//! position, and fuzzed ([`fuzzing`]).
//!
//! - [`url`]: URLs and reference resolution (RFC 3986).
//! - [`headers`]: the case-insensitive, ordered, multi-valued header map.
//! - [`request`]: request heads out, and chunked request bodies (RFC 9112 §3, §7.1).
//! - [`response`]: response heads, framing and bodies in (RFC 9112 §4-§7).
//! - [`chunked`]: the chunked transfer coding decoder used by `response`.
//! - [`decode`]: Content-Encoding (gzip, x-gzip, deflate) as a bounded stream.
//! - [`fuzzing`]: entry points for the fuzz targets in `fuzz/` and the corpus replay.

pub mod chunked;
pub mod decode;
pub mod error;
mod fault;
pub mod fuzzing;
pub mod headers;
pub mod request;
pub mod response;
mod syntax;
pub mod url;

#[cfg(test)]
mod testutil;

pub use error::{ProtoError, ProtoErrorKind};
pub use headers::HttpHeaders;
pub use url::Url;
