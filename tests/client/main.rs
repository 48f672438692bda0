//! `AsyncHttpClient` and `HttpClient` end to end against loopback servers the tests start,
//! one test binary for the client layer: requests and responses, bodies, the pool, redirects,
//! timeouts, proxies, hostile replies, the record of each hop, and what the optional features change. Tests that
//! measure the whole process (descriptors, RSS, limits) are binaries of their own
//! (`tests/client_fds.rs`, `client_fd_limit.rs`, `client_rss.rs`, `client_memory_limit.rs`).

#[path = "../support/mod.rs"]
mod support;

mod behaviours;
mod blocking_stream;
mod body;
mod compose;
#[cfg(feature = "gzip")]
mod content_coding;
mod errors;
mod features;
mod hops;
#[cfg(feature = "gzip")]
mod hostile_replies;
mod pool;
#[cfg(feature = "tls")]
mod proxy;
mod redirect;
mod request_helpers;
mod requests;
mod response_body;
mod responses;
mod secrets;
mod timeouts;
