//! The fetch's clock: one deadline, the phase it is in, and the words of its timeouts.
//!
//! `request_timeout` runs from `fetch()` across every step (queue, DNS, connect, TLS, each
//! redirect hop, the body), while `connect_timeout` bounds the queue and each connect on its
//! own; whichever comes first ends the step. When one fires, the error names where the fetch
//! was: `Timeout in request queue`, `Timeout while resolving <host>`, `Timeout while connecting
//! to <addrs>`, `Timeout during TLS handshake with <addr>`, `Timeout during request`. The steps
//! live in different files (`fetch`, `open`, `handshake`, `streaming`), so the bookkeeping they
//! share — [`FetchClock`], [`Phase`], [`until`], [`earliest`] — and every one of those messages is
//! written here, once.

use std::cell::RefCell;
use std::future::Future;
use std::net::SocketAddr;
use std::time::{Instant, SystemTime};

use super::error::{HttpError, TimeoutPhase};
use super::hops::HopLog;
use super::response::TimeInfo;

/// Where a fetch is, for the message of a timeout.
#[derive(Clone, Debug)]
pub(crate) enum Phase {
    Queue,
    Resolve(String),
    Connect(Vec<SocketAddr>),
    Tls(SocketAddr),
    /// Opening a `CONNECT` tunnel through the named proxy (its own bound; never the phase a
    /// fetch is left in, so the overall deadline never names it).
    Tunnel(String),
    Request,
}

impl Phase {
    /// The timeout error for this phase: the one place its words are written.
    pub fn timeout_error(&self) -> HttpError {
        match self {
            Phase::Queue => HttpError::timeout(TimeoutPhase::Queue, "Timeout in request queue"),
            Phase::Resolve(host) => resolve_timeout(host, ""),
            Phase::Connect(addrs) => connect_timeout(addrs),
            Phase::Tls(addr) => HttpError::timeout(
                TimeoutPhase::TlsHandshake,
                format!("Timeout during TLS handshake with {addr}"),
            ),
            Phase::Tunnel(proxy) => HttpError::timeout(
                TimeoutPhase::Connect,
                format!("Timeout while opening a tunnel through proxy {proxy}"),
            ),
            Phase::Request => HttpError::timeout(TimeoutPhase::Request, "Timeout during request"),
        }
    }
}

/// `Timeout while resolving <host>`, with what the resolver was doing in parentheses when it
/// says (`doing` empty: nothing added).
pub(crate) fn resolve_timeout(host: &str, doing: &str) -> HttpError {
    let msg = if doing.is_empty() {
        format!("Timeout while resolving {host}")
    } else {
        format!("Timeout while resolving {host} ({doing})")
    };
    HttpError::timeout(TimeoutPhase::Resolve, msg)
}

/// `Timeout while connecting to 10.0.0.1:80, [::1]:80` (sorted), or without addresses.
pub(crate) fn connect_timeout(addrs: &[SocketAddr]) -> HttpError {
    if addrs.is_empty() {
        return HttpError::timeout(TimeoutPhase::Connect, "Timeout while connecting");
    }
    let mut sorted = addrs.to_vec();
    sorted.sort();
    sorted.dedup();
    let list: Vec<String> = sorted.iter().map(|a| a.to_string()).collect();
    HttpError::timeout(
        TimeoutPhase::Connect,
        format!("Timeout while connecting to {}", list.join(", ")),
    )
}

/// One fetch's clock, shared by its steps: when it started, its deadline, the phase it is in
/// (which names the phase in a timeout message) and the timing of the phases so far.
pub(crate) struct FetchClock {
    pub start: Instant,
    pub start_time: SystemTime,
    pub deadline: Option<Instant>,
    pub phase: RefCell<Phase>,
    pub timing: RefCell<TimeInfo>,
    /// Each request written and the heads read back (`hops.rs`).
    pub hops: RefCell<HopLog>,
}

impl FetchClock {
    pub fn new() -> FetchClock {
        FetchClock {
            start: Instant::now(),
            start_time: SystemTime::now(),
            deadline: None,
            phase: RefCell::new(Phase::Queue),
            timing: RefCell::new(TimeInfo::default()),
            hops: RefCell::default(),
        }
    }

    pub fn set_phase(&self, p: Phase) {
        *self.phase.borrow_mut() = p;
    }

    /// The error for the overall deadline, named after the current phase.
    pub fn timeout_error(&self) -> HttpError {
        self.phase.borrow().timeout_error()
    }

    /// The timing of a failed fetch (E-15): the phases so far, `total` to now.
    pub fn error_time_info(&self) -> TimeInfo {
        self.time_info(None)
    }

    /// The timing of a fetch so far, `total` to now, with the first body byte's time.
    pub fn time_info(&self, first_byte_at: Option<Instant>) -> TimeInfo {
        let now = Instant::now();
        let mut t = *self.timing.borrow();
        t.total = now - self.start;
        t.first_byte = first_byte_at
            .map(|f| f.saturating_duration_since(self.start))
            .unwrap_or_default();
        t
    }
}

/// Runs `fut` until `deadline` (if any); on expiry, `on_timeout()` is the error.
pub(crate) async fn until<F: Future>(
    deadline: Option<Instant>,
    fut: F,
    on_timeout: impl FnOnce() -> HttpError,
) -> Result<F::Output, HttpError> {
    match deadline {
        None => Ok(fut.await),
        Some(at) => crate::ioloop::timeout_at(at, fut)
            .await
            .map_err(|_| on_timeout()),
    }
}

pub(crate) fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e05_connect_timeout_lists_sorted_addresses() {
        let a: SocketAddr = "[::1]:80".parse().unwrap();
        let b: SocketAddr = "10.0.0.1:80".parse().unwrap();
        let e = connect_timeout(&[a, b]);
        assert_eq!(
            e.to_string(),
            "Timeout while connecting to 10.0.0.1:80, [::1]:80"
        );
        assert_eq!(connect_timeout(&[]).to_string(), "Timeout while connecting");
    }
}
