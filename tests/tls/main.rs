//! TLS end to end, one test binary (the `tls` feature): `TlsStream` on the loop, its
//! configuration and roots, `net::Stream` over TLS, and https through the client (keep-alive,
//! the pool, errors, redirects across schemes). Certificates are made at test time with rcgen
//! (`support::tls`). `SSL_CERT_FILE`/`SSL_CERT_DIR` are apart (`tests/tls_env.rs`): they run
//! child processes that each set a process-wide environment.

#[path = "../support/mod.rs"]
mod support;

mod client;
mod config;
mod net_stream;
mod roots;
mod stream;
