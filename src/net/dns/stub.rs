//! A DNS stub resolver on squall's own loop: no thread, cancellable, bounded in time.
//!
//! [`ThreadedResolver`](super::ThreadedResolver) hands names to `getaddrinfo` on worker
//! threads: correct, but a lookup cannot be cancelled and a DNS outage piles up threads. This
//! resolver asks the name servers itself, over [`UdpSocket`](ioloop::UdpSocket) and
//! [`TcpStream`](ioloop::TcpStream) on the loop, so a lookup is just a future: dropping it
//! closes its socket and frees its timer.
//!
//! One lookup of `name`, step by step:
//!
//! 1. **Files.** IP literals and `localhost` need no lookup (as in every resolver here); a
//!    name listed in the hosts file (`/etc/hosts`) is answered from it.
//! 2. **Candidates.** A name with a final dot is tried as is. Otherwise the search list
//!    applies (resolv.conf's `search`/`domain`, `ndots`): a name with at least `ndots` dots
//!    is tried as is first, then with each suffix; a shorter one with the suffixes first.
//! 3. **Cache.** Each (candidate, type) is looked up in the [`Cache`] first.
//! 4. **Queries.** `A` and `AAAA` are sent *at once*, from a fresh socket bound to port 0 (the
//!    kernel picks a random source port), each with its own random ID. A reply is believed
//!    only if it comes from the server's address and port, carries an ID we are waiting for,
//!    and repeats our question; anything else (a spoofed or stray datagram) is ignored and
//!    the wait goes on. Each answer is handed to the caller as soon as it arrives, so happy
//!    eyeballs can start on the `AAAA` answer while the `A` one is still on its way.
//! 5. **Outcomes.** TC (truncated) → the same query over TCP to the same server. SERVFAIL,
//!    REFUSED, another error code, or no reply within `timeout` → the next server, for
//!    `attempts` rounds over the list (`rotate` starts each lookup at the next server).
//!    NXDOMAIN, or no address of either type → the next candidate. CNAME chains are followed
//!    inside the answer, at most [`MAX_CNAME_CHAIN`] links.
//! 6. **Errors** name the name: `no such name (NXDOMAIN): a.test (tried a.test.corp, a.test)`,
//!    and `Timeout while resolving a.test: no reply from 10.0.0.1:53, 10.0.0.2:53`.
//!
//! Randomness for the query IDs comes from std's [`RandomState`](std::hash::RandomState): its
//! SipHash keys are drawn from the operating system's random source (once per thread, then
//! stepped for each new state), and hashing a counter and the clock with such a key gives
//! values an off-path attacker cannot predict, with no new dependency. Together with the
//! random source port that is the usual ~32 bits of defence against blind spoofing (RFC 5452).
//!
//! This file holds the resolver, its configuration and the stream a lookup feeds; the lookup
//! itself (steps 2 to 5) is in `stub/lookup.rs`.
//!
//! Configuration comes either from the system ([`StubResolver::system`]: resolv.conf,
//! re-read when it changes) or from a [`StubConfig`] given by the caller (tests, `squall
//! --dns-servers`).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use super::cache::{Cache, DEFAULT_CAPACITY};
use super::conf::{self, Hosts, ResolvConf, Watched};
use super::{AddressStream, ResolveFuture, ResolveStream, Resolver};
use crate::ioloop;

mod lookup;

use lookup::Lookup;
pub use lookup::{addresses, candidates};

/// The most CNAME links followed inside one answer.
pub const MAX_CNAME_CHAIN: usize = 8;
/// How long [`StubResolver::resolve`] waits for the second family once the first answered
/// (RFC 8305 §3's "Resolution Delay").
pub const RESOLUTION_DELAY: Duration = Duration::from_millis(50);
/// Where the system keeps its files.
const RESOLV_CONF: &str = "/etc/resolv.conf";
const HOSTS: &str = "/etc/hosts";
const NSSWITCH: &str = "/etc/nsswitch.conf";

/// A stub resolver's settings, when they do not come from resolv.conf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StubConfig {
    /// The name servers (address and port), asked in this order.
    pub servers: Vec<SocketAddr>,
    /// The search list (no final dots).
    pub search: Vec<String>,
    /// A name with at least this many dots is tried as is before the search list.
    pub ndots: u8,
    /// How long one try waits for a reply.
    pub timeout: Duration,
    /// Rounds over the server list.
    pub attempts: u8,
    /// Start each lookup at the next server (round robin).
    pub rotate: bool,
    /// The hosts file consulted first (`None`: none).
    pub hosts_file: Option<PathBuf>,
    /// Cache capacity in (name, type) entries (0: no cache).
    pub cache_size: usize,
}

impl StubConfig {
    /// Ask `servers`, with resolv.conf's defaults for the rest (no search list, 5 s per
    /// try, 2 rounds) and `/etc/hosts` first.
    pub fn with_servers(servers: Vec<SocketAddr>) -> StubConfig {
        StubConfig::from_resolv_conf(&ResolvConf {
            nameservers: servers,
            ..ResolvConf::default()
        })
    }

    /// The settings resolv.conf gives (with its default server when it names none).
    pub fn from_resolv_conf(rc: &ResolvConf) -> StubConfig {
        StubConfig {
            servers: rc.servers_or_default(),
            search: rc.search.clone(),
            ndots: rc.ndots,
            timeout: rc.timeout,
            attempts: rc.attempts,
            rotate: rc.rotate,
            hosts_file: Some(PathBuf::from(HOSTS)),
            cache_size: DEFAULT_CAPACITY,
        }
    }
}

/// Where the settings come from.
#[derive(Debug)]
enum Source {
    Fixed(StubConfig),
    /// resolv.conf, re-read when it changes; `servers` replaces its name servers if set.
    System {
        resolv: Watched<ResolvConf>,
        servers: Option<Vec<SocketAddr>>,
        last: Option<ResolvConf>,
    },
}

/// What every clone of a [`StubResolver`] shares: where the configuration comes from, the
/// hosts file, the cache and the next name server to ask.
#[derive(Debug)]
struct StubState {
    source: Source,
    hosts: Option<Watched<Hosts>>,
    cache: Cache,
    next_server: usize,
}

/// The DNS stub resolver (see the module docs). Cheap to clone: clones share the cache and
/// the configuration. `Send + Sync`; each lookup runs on the loop of the task awaiting it.
#[derive(Clone, Debug)]
pub struct StubResolver {
    shared: Arc<Mutex<StubState>>,
}

impl StubResolver {
    /// A resolver with fixed settings.
    pub fn new(config: StubConfig) -> StubResolver {
        let hosts = config
            .hosts_file
            .as_ref()
            .map(|p| Watched::new(p, conf::parse_hosts));
        let cache = Cache::new(config.cache_size);
        StubResolver::from_parts(Source::Fixed(config), hosts, cache)
    }

    /// A resolver configured by the system's `/etc/resolv.conf` and `/etc/hosts`, both
    /// re-read when they change. `servers`, if given, replaces resolv.conf's name servers (as
    /// `curl --dns-servers` does) while its search list and options still apply.
    pub fn system(servers: Option<Vec<SocketAddr>>) -> StubResolver {
        StubResolver::from_parts(
            Source::System {
                resolv: Watched::new(RESOLV_CONF, conf::parse_resolv_conf),
                servers,
                last: None,
            },
            Some(Watched::new(HOSTS, conf::parse_hosts)),
            Cache::new(DEFAULT_CAPACITY),
        )
    }

    fn from_parts(source: Source, hosts: Option<Watched<Hosts>>, cache: Cache) -> StubResolver {
        StubResolver {
            shared: Arc::new(Mutex::new(StubState {
                source,
                hosts,
                cache,
                next_server: 0,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, StubState> {
        // Nothing panics while holding the lock; if something did, the data is still valid.
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The settings a lookup starting now uses (resolv.conf re-read if it changed; the cache
    /// is emptied when it did).
    pub fn config(&self) -> StubConfig {
        let mut guard = self.lock();
        let sh = &mut *guard;
        match &mut sh.source {
            Source::Fixed(c) => c.clone(),
            Source::System {
                resolv,
                servers,
                last,
            } => {
                let rc = resolv.get().clone();
                if last.as_ref() != Some(&rc) {
                    sh.cache.clear();
                    *last = Some(rc.clone());
                }
                let mut c = StubConfig::from_resolv_conf(&rc);
                if let Some(s) = servers {
                    c.servers = s.clone();
                }
                c
            }
        }
    }

    /// Whether the system's configuration lets this resolver stand in for the C library's:
    /// Linux, an nsswitch `hosts:` line of `files dns` (or no nsswitch.conf), and at least one
    /// `nameserver` in resolv.conf. The client's default resolver is this one when it does.
    pub fn system_can_replace_libc() -> bool {
        if !cfg!(target_os = "linux") {
            return false;
        }
        let ns = std::fs::read_to_string(NSSWITCH)
            .ok()
            .and_then(|t| conf::nsswitch_hosts(&t));
        let resolv = std::fs::read_to_string(RESOLV_CONF).unwrap_or_default();
        conf::stub_can_replace(ns.as_deref())
            && !conf::parse_resolv_conf(&resolv).nameservers.is_empty()
    }

    /// Start a lookup: the plan (settings, server order) is fixed now; the work happens when
    /// the stream is polled.
    fn start(&self, host: &str, port: u16) -> StubStream {
        let out = Rc::new(RefCell::new(Outbox::default()));
        if let Some(answer) = super::resolve_without_lookup(host, port) {
            let mut o = out.borrow_mut();
            o.answered_by =
                Some("stub resolver, built-in answer (localhost or an IP literal)".into());
            match answer {
                Ok(addrs) => o.batches.push_back(addrs),
                Err(e) => o.end = Some(Err(e)),
            }
            drop(o);
            return StubStream { fut: None, out };
        }
        let name = super::strip_brackets(host).to_owned();
        let config = self.config();
        let from_hosts = {
            let mut sh = self.lock();
            sh.hosts
                .as_mut()
                .and_then(|h| h.get().get(&name).map(|a| a.to_vec()))
        };
        if let Some(ips) = from_hosts {
            let mut o = out.borrow_mut();
            o.answered_by = Some(format!(
                "stub resolver, {}",
                config
                    .hosts_file
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            ));
            o.batches.push_back(
                ips.into_iter()
                    .map(|ip| SocketAddr::new(ip, port))
                    .collect(),
            );
            drop(o);
            return StubStream { fut: None, out };
        }
        let first = {
            let mut sh = self.lock();
            let n = sh.next_server;
            if config.rotate {
                sh.next_server = n.wrapping_add(1);
            }
            n
        };
        let mut servers = config.servers.clone();
        if config.rotate && !servers.is_empty() {
            let k = first % servers.len();
            servers.rotate_left(k);
        }
        let lookup = Lookup {
            resolver: self.clone(),
            name,
            port,
            config,
            servers,
            out: out.clone(),
        };
        StubStream {
            fut: Some(Box::pin(lookup.run())),
            out,
        }
    }
}

impl Resolver for StubResolver {
    /// Every address at once. Once the first family has answered, the other gets
    /// [`RESOLUTION_DELAY`] more to arrive, as RFC 8305 §3 advises, and is left out if it
    /// does not (the client uses [`resolve_stream`](Resolver::resolve_stream) instead, which
    /// never drops a late answer).
    fn resolve(&self, host: &str, port: u16) -> ResolveFuture {
        let mut stream = self.start(host, port);
        Box::pin(async move {
            let mut all: Vec<SocketAddr> = Vec::new();
            let Some(first) = super::next_batch(&mut stream).await else {
                return Ok(all);
            };
            all.extend(first?);
            let rest = async {
                while let Some(Ok(batch)) = super::next_batch(&mut stream).await {
                    for a in batch {
                        if !all.contains(&a) {
                            all.push(a);
                        }
                    }
                }
            };
            let _ = ioloop::timeout(RESOLUTION_DELAY, rest).await;
            Ok(all)
        })
    }

    fn resolve_stream(&self, host: &str, port: u16) -> ResolveStream {
        Box::new(self.start(host, port))
    }

    fn name(&self) -> String {
        let c = self.config();
        let servers: Vec<String> = c.servers.iter().map(|s| s.to_string()).collect();
        format!("stub resolver (nameservers {})", servers.join(", "))
    }
}

/// What a running lookup has found so far, shared between it and its stream.
#[derive(Default)]
struct Outbox {
    batches: VecDeque<Vec<SocketAddr>>,
    /// The lookup's result, once it ended.
    end: Option<io::Result<()>>,
    /// Servers asked so far.
    tried: Vec<SocketAddr>,
    answered_by: Option<String>,
    yielded: bool,
}

/// The [`AddressStream`] of one lookup. The lookup future lives inside it, so dropping the
/// stream cancels the lookup: its socket is closed and its timer freed at once.
struct StubStream {
    fut: Option<Pin<Box<dyn Future<Output = io::Result<()>>>>>,
    out: Rc<RefCell<Outbox>>,
}

impl AddressStream for StubStream {
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Vec<SocketAddr>>>> {
        if let Some(fut) = self.fut.as_mut()
            && let Poll::Ready(r) = fut.as_mut().poll(cx)
        {
            self.fut = None;
            self.out.borrow_mut().end = Some(r);
        }
        let mut o = self.out.borrow_mut();
        if let Some(b) = o.batches.pop_front() {
            o.yielded = true;
            return Poll::Ready(Some(Ok(b)));
        }
        if self.fut.is_some() {
            return Poll::Pending;
        }
        match o.end.take() {
            Some(Err(e)) if !o.yielded => {
                o.yielded = true; // the error ends the stream
                Poll::Ready(Some(Err(e)))
            }
            _ => Poll::Ready(None),
        }
    }

    fn describe(&self) -> String {
        let o = self.out.borrow();
        if let Some(by) = &o.answered_by {
            return by.clone();
        }
        if o.tried.is_empty() {
            return "stub resolver".into();
        }
        format!("stub resolver, nameservers tried: {}", list(&o.tried))
    }
}

fn list(addrs: &[SocketAddr]) -> String {
    addrs
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolver_is_send_and_sync_and_needs_servers() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<StubResolver>();
        let r = StubResolver::new(StubConfig {
            hosts_file: None,
            ..StubConfig::with_servers(vec![])
        });
        // with_servers(vec![]) falls back to resolv.conf's default server...
        assert_eq!(r.config().servers, vec!["127.0.0.1:53".parse().unwrap()]);
        // ...an explicitly empty list is an error naming the name, before any I/O.
        let r = StubResolver::new(StubConfig {
            servers: vec![],
            ..r.config()
        });
        let err = crate::ioloop::IoLoop::new()
            .run_sync(r.resolve("x.test", 80))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot resolve x.test: no name servers configured"
        );
    }
}
