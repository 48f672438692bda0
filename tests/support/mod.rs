//! What the end-to-end tests share, in one place instead of a copy per file: every test
//! binary declares `mod support;` (or `#[path = "../support/mod.rs"] mod support;` from a
//! folder binary such as `tests/client/main.rs`) and takes the parts it needs.
//!
//! - [`server`]: a loopback HTTP/1.1 server driven by a handler (scripted steps, request log,
//!   connection counts), raw servers, gzip, `run`;
//! - [`canned`]: servers that answer each connection with raw bytes fixed in advance;
//! - [`cli`]: the `squall` binary run from a test, without proxy variables, bounded in time;
//! - [`dns`]: a DNS server for the stub resolver (also used by `benches/dns.rs`);
//! - [`tls`]: rcgen certificates, PEM files in a temporary folder, a blocking rustls server;
//! - [`proxy`]: a forwarding proxy with `CONNECT` tunnels, and an https origin behind it;
//! - [`proc`]: open file descriptors and memory figures, read from `/proc`;
//! - [`net`]: an address whose connects hang, and a resolver with fixed answers;
//! - [`run_on_new_loop`]: a future run to its end on a fresh loop, bounded in time.
//!
//! Each binary uses a different part, so an item unused in one binary does not warn.
#![allow(dead_code)]

pub mod canned;
pub mod cli;
pub mod dns;
pub mod net;
pub mod proc;
#[cfg(feature = "tls")]
pub mod proxy;
pub mod server;
#[cfg(feature = "tls")]
pub mod tls;

use std::time::Duration;

/// Runs `f` on a new loop of its own, and fails the test if it has not finished within 30 s
/// (a generous bound: a hang fails the test instead of stalling the suite).
pub fn run_on_new_loop<F: Future>(f: F) -> F::Output {
    squall::IoLoop::new()
        .run_sync_timeout(f, Duration::from_secs(30))
        .expect("the test's future did not finish within 30 s")
}
