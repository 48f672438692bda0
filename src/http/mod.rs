//! The sans-IO HTTP/1.1 core: bytes in, events out.
//!
//! Nothing in this module touches a socket, a clock or the loop. The client (`src/client/`)
//! reads bytes from the network and hands them to these state machines, which say what the
//! bytes mean; it writes the bytes they produce. Keeping the protocol free of I/O means every
//! rule here is tested with exact wire bytes, fed whole, one byte at a time and split at every
//! position, and fuzzed ([`fuzzing`]).
//!
//! - [`url`]: URLs (RFC 3986 §3); reference resolution (`join`, §5.2) is in `url/resolve.rs`.
//! - [`headers`]: the case-insensitive, ordered, multi-valued header map.
//! - [`request`]: request heads out, and chunked request bodies (RFC 9112 §3, §7.1).
//! - [`response`]: the response parser, a state machine: heads, framing and bodies in (RFC
//!   9112 §4-§7). Beside it in `response/`: `head.rs` (one head's bytes to a
//!   [`ResponseHead`](response::ResponseHead)), `head_error.rs` (why a head is malformed) and
//!   `event.rs` (what the parser yields, flat or by phase).
//! - [`chunked`]: the chunked transfer coding decoder used by `response`.
//! - [`decode`]: Content-Encoding (gzip, x-gzip, deflate) as a bounded stream.
//! - [`error`]: [`ProtoError`], the one error of every parser here.
//! - [`fields`]: field values squall writes itself (base64 `Basic` credentials, IMF-fixdate).
//! - `fault.rs`: finding and quoting the bad byte of a refused head, trailer or header block.
//! - `syntax.rs`: the byte rules everything shares (`tchar`, latin-1 text).
//! - [`fuzzing`]: entry points for the fuzz targets in `fuzz/` and the corpus replay.
//!
//! Imports go one way, so each file can be read knowing only those below it: `error` and
//! `syntax` use nothing here; `fault` uses `syntax`; `headers` uses those three; `chunked`
//! adds `headers`; `response` uses all of them. Long unit-test modules live in child files
//! (`response/tests.rs`, `chunked/tests.rs`, `decode/tests.rs`, `url/tests.rs`).

pub mod chunked;
pub mod decode;
pub mod error;
mod fault;
pub mod fields;
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
