//! The `squall` binary end to end (the `cli` feature), one test binary: the contract of
//! `docs/cli.md` option by option, hostile replies and their exit codes, the cases where
//! squall follows curl, `--dns-servers`, and proxies. Every server is started here on
//! loopback; every run is bounded in time (`support::cli`).

#[path = "../support/mod.rs"]
mod support;

mod contract;
#[cfg(all(feature = "tls", feature = "gzip"))]
mod curl_parity;
mod dns;
mod hostile_replies;
#[cfg(feature = "tls")]
mod proxy;
