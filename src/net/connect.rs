//! TCP connects with happy eyeballs (RFC 8305) and an optional source address.
//!
//! A name often resolves to several addresses, some IPv6 and some IPv4, and some of them may
//! be dead: a route that black-holes packets makes a connect hang for minutes. Happy eyeballs
//! races the addresses instead of trying them one by one:
//!
//! 1. The list is reordered so the families alternate, starting with the family of the first
//!    address (RFC 8305 §4): `v6a, v4a, v6b, v4b, ...`.
//! 2. The first attempt starts at once. The next one starts when
//!    [`ConnectOptions::attempt_delay`] (250 ms) has passed since the last start, or as soon
//!    as an attempt fails, whichever comes first (§5). Earlier attempts keep running.
//! 3. The first attempt to complete wins; every other attempt still in flight is dropped,
//!    which closes its socket.
//! 4. When all fail, [`ConnectError`] lists every address and its error.
//!
//! With [`connect_streaming`], addresses the resolver finds later (RFC 8305 §3: the `A`
//! answer after the `AAAA` one, or the other way round) join the race when they arrive, at
//! the front of the queue; the race only gives up once the resolver is done too.
//!
//! Each attempt is a socket made with `socket2`: non-blocking, bound to the source address
//! (`network_interface`) when one is set, `TCP_NODELAY` on, then `connect()`, which returns
//! "in progress". The half-open socket is handed to [`TcpStream::connected`], which waits on
//! the loop for writability and checks `SO_ERROR`. No thread ever blocks on a connect.
//!
//! There is no timeout here: the caller (the client's `connect_timeout`) wraps the whole race
//! in one, and dropping the future closes every socket it opened.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

use crate::ioloop::{self, Sleep, TcpStream};
use crate::net::dns::ResolveStream;

/// RFC 8305's recommended "Connection Attempt Delay": 250 ms.
pub const DEFAULT_ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// How [`connect`] makes its attempts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectOptions {
    /// The source address to bind before connecting (Tornado's `network_interface`). Addresses
    /// of the other family are skipped with an error. Port 0: the OS picks the port.
    pub bind: Option<IpAddr>,
    /// When false, IPv6 addresses are skipped and only IPv4 is tried.
    pub allow_ipv6: bool,
    /// How long to wait for an attempt before starting the next one in parallel.
    pub attempt_delay: Duration,
}

impl Default for ConnectOptions {
    fn default() -> ConnectOptions {
        ConnectOptions {
            bind: None,
            allow_ipv6: true,
            attempt_delay: DEFAULT_ATTEMPT_DELAY,
        }
    }
}

/// Every address failed (or none was given). Lists each address and why, in the order the
/// addresses were given.
#[derive(Debug)]
pub struct ConnectError {
    /// Each address and its error: the OS error of a failed connect, or the reason it was
    /// skipped (`allow_ipv6` false, a `bind` address of the other family, a failed bind).
    pub attempts: Vec<(SocketAddr, io::Error)>,
}

impl ConnectError {
    /// The first address's error, if any (the most telling one for a single-address host).
    pub fn first_error(&self) -> Option<&io::Error> {
        self.attempts.first().map(|(_, e)| e)
    }

    /// Whether an attempt failed for want of a file descriptor (`EMFILE`: the process is at
    /// its `ulimit -n`; `ENFILE`: the system is): closing idle sockets may make room.
    pub fn out_of_descriptors(&self) -> bool {
        self.attempts.iter().any(|(_, e)| is_out_of_descriptors(e))
    }
}

/// `EMFILE` or `ENFILE` (the same numbers on Linux, the BSDs and macOS).
pub fn is_out_of_descriptors(e: &io::Error) -> bool {
    const ENFILE: i32 = 23;
    const EMFILE: i32 = 24;
    cfg!(unix) && matches!(e.raw_os_error(), Some(EMFILE | ENFILE))
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.attempts.is_empty() {
            return f.write_str("could not connect: no addresses to try");
        }
        f.write_str("could not connect to ")?;
        for (i, (addr, err)) in self.attempts.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{addr}: {err}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.first_error()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// `network_interface` was not an IP literal. Displays Tornado's text:
/// `Unrecognized IPv4 or IPv6 address for network_interface, got 'nope'`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidNetworkInterface {
    /// The text given.
    pub value: String,
}

impl fmt::Display for InvalidNetworkInterface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Unrecognized IPv4 or IPv6 address for network_interface, got '{}'",
            self.value
        )
    }
}

impl std::error::Error for InvalidNetworkInterface {}

/// Parse a `network_interface` value: an IPv4 or IPv6 literal (IPv6 may be in brackets;
/// surrounding whitespace is not accepted). Interface names (`eth0`) are curl-only and
/// refused, as in Tornado's simple client.
pub fn parse_network_interface(s: &str) -> Result<IpAddr, InvalidNetworkInterface> {
    let bare = s
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .filter(|r| r.contains(':'))
        .unwrap_or(s);
    bare.parse::<IpAddr>().map_err(|_| InvalidNetworkInterface {
        value: s.to_owned(),
    })
}

/// The addresses as one sorted, comma-separated list (`10.0.0.1:80, [::1]:80`), as Tornado
/// names them in `Timeout while connecting to ...` (E-05). IPv6 addresses are bracketed.
pub fn describe_addrs(addrs: &[SocketAddr]) -> String {
    let mut names: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
    names.sort();
    names.dedup();
    names.join(", ")
}

/// Order addresses per RFC 8305 §4: drop duplicates, then alternate families starting with
/// the family of the first address. Each entry keeps its index in `addrs`.
pub fn interleave(addrs: &[SocketAddr]) -> Vec<SocketAddr> {
    order(addrs).into_iter().map(|(_, a)| a).collect()
}

fn order(addrs: &[SocketAddr]) -> Vec<(usize, SocketAddr)> {
    let mut unique: Vec<(usize, SocketAddr)> = Vec::with_capacity(addrs.len());
    for (i, a) in addrs.iter().enumerate() {
        if !unique.iter().any(|(_, b)| b == a) {
            unique.push((i, *a));
        }
    }
    let Some(&(_, first)) = unique.first() else {
        return unique;
    };
    let first_v6 = first.is_ipv6();
    let (mut same, mut other): (VecDeque<_>, VecDeque<_>) = unique
        .into_iter()
        .partition(|(_, a)| a.is_ipv6() == first_v6);
    let mut out = Vec::with_capacity(same.len() + other.len());
    loop {
        match (same.pop_front(), other.pop_front()) {
            (None, None) => return out,
            (a, b) => out.extend(a.into_iter().chain(b)),
        }
    }
}

/// Connect to one of `addrs` with happy eyeballs (see the module docs). Returns the stream and
/// the address that won.
///
/// Must be polled on a running [`ioloop::IoLoop`]. Never completes on its own while an
/// attempt hangs (a black-holed address): wrap it in [`ioloop::timeout`] for a bound.
pub async fn connect(
    addrs: &[SocketAddr],
    opts: &ConnectOptions,
) -> Result<(TcpStream, SocketAddr), ConnectError> {
    let mut race = Race::new(addrs, opts);
    std::future::poll_fn(|cx| race.poll(cx)).await
}

/// [`connect`] to `first`, and to the addresses `more` yields while the race runs (RFC 8305
/// §3: a resolver's second answer, often `A` after `AAAA`, joins the race when it arrives).
/// New addresses go to the front of the queue, interleaved by family with those not started
/// yet; the next attempt starts on the usual schedule (at once if nothing is in flight).
/// The race fails only when every address failed *and* `more` has ended; an error from
/// `more` ends it like its end does. Dropping the future drops `more` too.
pub async fn connect_streaming(
    first: &[SocketAddr],
    more: ResolveStream,
    opts: &ConnectOptions,
) -> Result<(TcpStream, SocketAddr), ConnectError> {
    let mut race = Race::new(first, opts);
    race.more = Some(more);
    race.allow_ipv6 = opts.allow_ipv6;
    std::future::poll_fn(|cx| race.poll(cx)).await
}

type AttemptFuture = Pin<Box<dyn Future<Output = io::Result<TcpStream>>>>;

struct Attempt {
    index: usize,
    addr: SocketAddr,
    fut: AttemptFuture,
}

/// The state of one happy-eyeballs race.
struct Race {
    pending: VecDeque<(usize, SocketAddr)>,
    in_flight: Vec<Attempt>,
    failed: Vec<(usize, SocketAddr, io::Error)>,
    bind: Option<IpAddr>,
    delay: Duration,
    /// Fires `delay` after the latest start; only set while addresses remain to start.
    timer: Option<Pin<Box<Sleep>>>,
    /// When the latest attempt started.
    last_start: Option<Instant>,
    /// Addresses still to come from the resolver ([`connect_streaming`]).
    more: Option<ResolveStream>,
    /// Every address seen so far (duplicates in later batches are dropped).
    seen: Vec<SocketAddr>,
    allow_ipv6: bool,
}

impl Race {
    fn new(addrs: &[SocketAddr], opts: &ConnectOptions) -> Race {
        let mut pending = VecDeque::new();
        let mut failed = Vec::new();
        let seen = order(addrs).iter().map(|(_, a)| *a).collect();
        for (index, addr) in order(addrs) {
            if let Some(reason) = skip_reason(addr, opts) {
                failed.push((index, addr, reason));
            } else {
                pending.push_back((index, addr));
            }
        }
        Race {
            pending,
            in_flight: Vec::new(),
            failed,
            bind: opts.bind,
            delay: opts.attempt_delay,
            timer: None,
            last_start: None,
            more: None,
            seen,
            allow_ipv6: opts.allow_ipv6,
        }
    }

    /// Take in a batch from the resolver: new addresses first, interleaved with the ones
    /// not started yet; the timer is armed for them if an attempt is in flight.
    fn add(&mut self, batch: Vec<SocketAddr>) {
        let opts = ConnectOptions {
            bind: self.bind,
            allow_ipv6: self.allow_ipv6,
            attempt_delay: self.delay,
        };
        let mut merged: Vec<(usize, SocketAddr)> = Vec::new();
        for addr in batch {
            if self.seen.contains(&addr) {
                continue;
            }
            let index = self.seen.len();
            self.seen.push(addr);
            match skip_reason(addr, &opts) {
                Some(reason) => self.failed.push((index, addr, reason)),
                None => merged.push((index, addr)),
            }
        }
        if merged.is_empty() {
            return;
        }
        merged.extend(self.pending.drain(..));
        let addrs: Vec<SocketAddr> = merged.iter().map(|(_, a)| *a).collect();
        self.pending = order(&addrs)
            .into_iter()
            .map(|(i, a)| (merged[i].0, a))
            .collect();
        if !self.in_flight.is_empty() && self.timer.is_none() {
            let at = self.last_start.unwrap_or_else(Instant::now) + self.delay;
            self.timer = Some(Box::pin(ioloop::sleep_until(at)));
        }
    }

    /// Take in whatever the resolver has ready.
    fn poll_more(&mut self, cx: &mut Context<'_>) {
        while let Some(more) = self.more.as_mut() {
            match more.poll_next(cx) {
                Poll::Pending => return,
                Poll::Ready(Some(Ok(batch))) => self.add(batch),
                // The resolver is done (an error after the first batch only means no more
                // addresses are coming).
                Poll::Ready(Some(Err(_)) | None) => self.more = None,
            }
        }
    }

    /// Start the next address that can be started; those failing synchronously (bind error,
    /// network unreachable...) are recorded and the next is tried. Re-arms the timer.
    fn start_next(&mut self) {
        self.timer = None;
        while let Some((index, addr)) = self.pending.pop_front() {
            match start_attempt(addr, self.bind) {
                Ok(std) => {
                    self.last_start = Some(Instant::now());
                    self.in_flight.push(Attempt {
                        index,
                        addr,
                        fut: Box::pin(TcpStream::connected(std)),
                    });
                    if !self.pending.is_empty() {
                        self.timer = Some(Box::pin(ioloop::sleep(self.delay)));
                    }
                    return;
                }
                Err(e) => self.failed.push((index, addr, e)),
            }
        }
    }

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(TcpStream, SocketAddr), ConnectError>> {
        self.poll_more(cx);
        if self.in_flight.is_empty() && !self.pending.is_empty() {
            self.start_next();
        }
        loop {
            let mut one_failed = false;
            let mut i = 0;
            while i < self.in_flight.len() {
                match self.in_flight[i].fut.as_mut().poll(cx) {
                    Poll::Pending => i += 1,
                    Poll::Ready(Ok(stream)) => {
                        let addr = self.in_flight[i].addr;
                        // The losers are dropped here, which closes their sockets.
                        self.in_flight.clear();
                        self.pending.clear();
                        self.timer = None;
                        self.more = None;
                        return Poll::Ready(Ok((stream, addr)));
                    }
                    Poll::Ready(Err(e)) => {
                        let a = self.in_flight.remove(i);
                        self.failed.push((a.index, a.addr, e));
                        one_failed = true;
                    }
                }
            }
            if self.pending.is_empty() {
                // More addresses may still come: wait for them.
                self.poll_more(cx);
                if self.pending.is_empty() {
                    if self.in_flight.is_empty() && self.more.is_none() {
                        return Poll::Ready(Err(self.take_error()));
                    }
                    return Poll::Pending;
                }
                if self.in_flight.is_empty() {
                    self.start_next();
                    continue;
                }
            }
            // A failure starts the next attempt at once (RFC 8305 §5), so does the timer.
            let timer_fired = match self.timer.as_mut() {
                Some(t) => t.as_mut().poll(cx).is_ready(),
                None => false,
            };
            if one_failed || timer_fired || self.in_flight.is_empty() {
                self.start_next();
                continue; // poll the new attempt so it registers its waker
            }
            return Poll::Pending;
        }
    }

    fn take_error(&mut self) -> ConnectError {
        let mut failed = std::mem::take(&mut self.failed);
        failed.sort_by_key(|(index, _, _)| *index);
        ConnectError {
            attempts: failed.into_iter().map(|(_, a, e)| (a, e)).collect(),
        }
    }
}

/// Why `addr` is not tried at all under `opts`, if it is not.
fn skip_reason(addr: SocketAddr, opts: &ConnectOptions) -> Option<io::Error> {
    if addr.is_ipv6() && !opts.allow_ipv6 {
        return Some(io::Error::new(
            io::ErrorKind::Unsupported,
            "skipped: IPv6 is disabled (allow_ipv6 is false)",
        ));
    }
    match opts.bind {
        Some(src) if src.is_ipv6() != addr.is_ipv6() => Some(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "skipped: network_interface {src} is {} and cannot reach an {} address",
                family(src.is_ipv6()),
                family(addr.is_ipv6())
            ),
        )),
        _ => None,
    }
}

fn family(v6: bool) -> &'static str {
    if v6 { "IPv6" } else { "IPv4" }
}

/// Make a non-blocking socket, bind it if asked, set `TCP_NODELAY` and start the connect.
fn start_attempt(addr: SocketAddr, bind: Option<IpAddr>) -> io::Result<std::net::TcpStream> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    socket.set_tcp_nodelay(true)?;
    if let Some(src) = bind {
        socket.bind(&SocketAddr::new(src, 0).into()).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot bind to network_interface {src}: {e}"),
            )
        })?;
    }
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if connect_in_progress(&e) => {}
        Err(e) => return Err(e),
    }
    Ok(socket.into())
}

/// Whether a non-blocking `connect()` error only means "still connecting". (`ErrorKind::
/// InProgress` is unstable, so the errno is checked; `EINTR` also leaves the connect
/// running asynchronously, per POSIX.)
fn connect_in_progress(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    ) || (EINPROGRESS != 0 && e.raw_os_error() == Some(EINPROGRESS))
}

/// `EINPROGRESS` where the platform has it: Linux's value (mips differs), the BSDs' and
/// macOS's; 0 elsewhere (Windows reports `WSAEWOULDBLOCK`, i.e. `WouldBlock`).
const EINPROGRESS: i32 = if cfg!(any(target_os = "linux", target_os = "android")) {
    if cfg!(any(target_arch = "mips", target_arch = "mips64")) {
        150
    } else {
        115
    }
} else if cfg!(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
)) {
    36
} else {
    0
};

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn interleaves_starting_with_first_family() {
        let addrs = [
            a("[::1]:1"),
            a("[::2]:1"),
            a("[::3]:1"),
            a("10.0.0.1:1"),
            a("10.0.0.2:1"),
        ];
        assert_eq!(
            interleave(&addrs),
            vec![
                a("[::1]:1"),
                a("10.0.0.1:1"),
                a("[::2]:1"),
                a("10.0.0.2:1"),
                a("[::3]:1")
            ]
        );
        let addrs = [
            a("10.0.0.1:1"),
            a("[::1]:1"),
            a("10.0.0.2:1"),
            a("10.0.0.1:1"),
        ];
        assert_eq!(
            interleave(&addrs),
            vec![a("10.0.0.1:1"), a("[::1]:1"), a("10.0.0.2:1")]
        );
        assert!(interleave(&[]).is_empty());
    }

    #[test]
    fn describe_addrs_sorts_and_brackets() {
        let addrs = [a("[::1]:80"), a("10.0.0.1:80"), a("[::1]:80")];
        assert_eq!(describe_addrs(&addrs), "10.0.0.1:80, [::1]:80");
        assert_eq!(describe_addrs(&[]), "");
    }

    #[test]
    fn network_interface_must_be_an_ip_literal() {
        assert_eq!(
            parse_network_interface("127.0.0.1").unwrap(),
            "127.0.0.1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            parse_network_interface("::1").unwrap(),
            "::1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            parse_network_interface("[::1]").unwrap(),
            "::1".parse::<IpAddr>().unwrap()
        );
        for bad in [
            "nope",
            "",
            "eth0",
            " 127.0.0.1",
            "[127.0.0.1]",
            "127.0.0.1:80",
            "[]",
        ] {
            let err = parse_network_interface(bad).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("Unrecognized IPv4 or IPv6 address for network_interface, got '{bad}'")
            );
        }
    }

    #[test]
    fn skip_reasons() {
        let mut opts = ConnectOptions::default();
        assert_eq!(opts.attempt_delay, Duration::from_millis(250));
        assert!(skip_reason(a("[::1]:1"), &opts).is_none());
        opts.allow_ipv6 = false;
        let e = skip_reason(a("[::1]:1"), &opts).unwrap();
        assert!(e.to_string().contains("allow_ipv6 is false"), "{e}");
        assert!(skip_reason(a("127.0.0.1:1"), &opts).is_none());
        opts.allow_ipv6 = true;
        opts.bind = Some("127.0.0.1".parse().unwrap());
        let e = skip_reason(a("[::1]:1"), &opts).unwrap();
        assert_eq!(
            e.to_string(),
            "skipped: network_interface 127.0.0.1 is IPv4 and cannot reach an IPv6 address"
        );
    }

    #[test]
    fn connect_error_display_lists_every_address() {
        let err = ConnectError {
            attempts: vec![
                (
                    a("127.0.0.1:1"),
                    io::Error::new(io::ErrorKind::ConnectionRefused, "Connection refused"),
                ),
                (
                    a("[::1]:1"),
                    io::Error::new(io::ErrorKind::ConnectionRefused, "Connection refused"),
                ),
            ],
        };
        assert_eq!(
            err.to_string(),
            "could not connect to 127.0.0.1:1: Connection refused; [::1]:1: Connection refused"
        );
        assert_eq!(
            ConnectError { attempts: vec![] }.to_string(),
            "could not connect: no addresses to try"
        );
    }

    #[test]
    fn start_attempt_is_non_blocking() {
        // A listener that never accepts still completes the handshake (the kernel does it),
        // so the attempt is either connected or in progress, never blocking.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let s = start_attempt(l.local_addr().unwrap(), Some("127.0.0.1".parse().unwrap())).unwrap();
        assert!(s.nodelay().unwrap());
        assert_eq!(
            s.local_addr().unwrap().ip(),
            "127.0.0.1".parse::<IpAddr>().unwrap()
        );
        let err = start_attempt(
            l.local_addr().unwrap(),
            Some("198.51.100.254".parse().unwrap()),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot bind to network_interface 198.51.100.254: "),
            "{err}"
        );
    }
}
