//! Name resolution: two resolvers behind one trait, and the pieces of the second.
//!
//! The loop thread must never block, and the system resolver (`getaddrinfo`) can block for
//! seconds. There are two ways around that, and squall has both:
//!
//! - [`ThreadedResolver`] (`threaded.rs`): `getaddrinfo` on a small pool of worker threads,
//!   the answer coming back through [`crate::ioloop::oneshot`], whose sender wakes the loop
//!   from any thread. The pool is shared by the whole process, started lazily (no thread exists
//!   until the first real lookup), holds at most [`MAX_RESOLVER_THREADS`] threads, and a
//!   thread idle for [`RESOLVER_IDLE_EXIT`] exits. It does whatever the C library does
//!   (nsswitch, mDNS, LDAP...), but a lookup cannot be cancelled.
//! - [`StubResolver`] ([`stub`]): a DNS client on the loop itself, asking the name servers of
//!   `/etc/resolv.conf` over UDP (TCP when a reply is truncated). No thread; dropping the
//!   lookup closes its socket. Its parts: [`message`] (sans-IO DNS messages, fuzzed),
//!   [`conf`] (resolv.conf, hosts and nsswitch parsers) and [`cache`] (TTL cache).
//!
//! [`ResolverChoice::Auto`], the client's default, takes the stub resolver when the system's
//! configuration says `getaddrinfo` would do the same thing (Linux, nsswitch `hosts: files
//! dns`, a name server in resolv.conf), else the threaded one.
//!
//! Two kinds of names never reach either: IP literals (`127.0.0.1`, `::1`, `[::1]`) are
//! parsed in place, and `localhost` (and `*.localhost`) answers the loopback addresses at once,
//! as RFC 6761 §6.3 asks of resolver libraries.
//!
//! Resolution is pluggable through the object-safe [`Resolver`] trait (Tornado's `resolver`
//! option). A resolver may hand addresses over as it finds them ([`AddressStream`]), so happy
//! eyeballs can start on the `AAAA` answer before the `A` one arrives (RFC 8305 §3).
//! [`HostnameMapping`] and [`MappedResolver`] implement Tornado's `hostname_mapping`: a host,
//! or a host and port, is redirected to another target before resolving; what the request
//! says in its `Host` header is the client's business and does not change.
//!
//! In the threaded resolver, concurrent lookups of one name and port share a single
//! `getaddrinfo` call. Dropping a resolve future never blocks: a lookup nobody waits for any
//! more is skipped if it has not started, and one that is running finishes on its worker
//! thread, its answer thrown away.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

pub mod cache;
pub mod conf;
pub mod message;
pub mod stub;
mod threaded;

pub use stub::{StubConfig, StubResolver};
pub use threaded::{MAX_RESOLVER_THREADS, RESOLVER_IDLE_EXIT, ThreadedResolver, resolver_threads};

/// The future a [`Resolver`] returns: every address found for the name, in the order the
/// resolver gave them (which is the order happy eyeballs starts from).
pub type ResolveFuture = Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>>>>;

/// Addresses as a lookup finds them, in batches: the stub resolver hands over the `AAAA`
/// answer without waiting for the `A` one (RFC 8305 §3), and happy eyeballs
/// ([`crate::net::connect::connect_streaming`]) starts connecting on the first batch.
///
/// `poll_next` gives `Some(Ok(addrs))` for each batch found, `Some(Err(e))` when the lookup
/// failed (only if no batch came before; the stream then ends), and `None` at the end.
pub trait AddressStream {
    /// The next batch, the failure, or the end (see the trait docs).
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Vec<SocketAddr>>>>;

    /// Who answered, or what was tried so far: for `squall -v` and for timeout messages,
    /// e.g. `stub resolver, nameserver 10.0.0.1:53` (empty when there is nothing to say).
    fn describe(&self) -> String {
        String::new()
    }
}

/// A boxed [`AddressStream`], as [`Resolver::resolve_stream`] returns it.
pub type ResolveStream = Box<dyn AddressStream>;

/// The next batch of `stream` (see [`AddressStream::poll_next`]).
pub async fn next_batch(stream: &mut dyn AddressStream) -> Option<io::Result<Vec<SocketAddr>>> {
    std::future::poll_fn(|cx| stream.poll_next(cx)).await
}

/// An [`AddressStream`] of one batch: a [`ResolveFuture`]'s answer. What
/// [`Resolver::resolve_stream`] gives for resolvers that find every address at once.
pub struct FutureStream {
    fut: Option<ResolveFuture>,
    label: String,
}

impl FutureStream {
    /// The stream of `fut`'s answer; `label` is what [`AddressStream::describe`] says.
    pub fn new(fut: ResolveFuture, label: String) -> FutureStream {
        FutureStream {
            fut: Some(fut),
            label,
        }
    }
}

impl AddressStream for FutureStream {
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Vec<SocketAddr>>>> {
        let Some(fut) = self.fut.as_mut() else {
            return Poll::Ready(None);
        };
        let answer = std::task::ready!(fut.as_mut().poll(cx));
        self.fut = None;
        Poll::Ready(Some(answer))
    }

    fn describe(&self) -> String {
        self.label.clone()
    }
}

/// Turns a host name and port into socket addresses (Tornado's pluggable `Resolver`).
///
/// The trait is object-safe so a client can hold any resolver as `Rc<dyn Resolver>`. The
/// returned future runs on the loop; an implementation that blocks must do its work elsewhere
/// (as [`ThreadedResolver`] does). Errors should name the host, e.g.
/// `failed to resolve example.invalid: ...`.
///
/// Only [`resolve`](Resolver::resolve) is required. The client calls
/// [`resolve_stream`](Resolver::resolve_stream), whose default gives `resolve`'s answer as one
/// batch; a resolver that finds addresses in pieces ([`StubResolver`]) overrides it.
pub trait Resolver {
    /// Resolve `host` (a name, or an IP literal, IPv6 possibly in brackets) for `port`.
    fn resolve(&self, host: &str, port: u16) -> ResolveFuture;

    /// Resolve `host` for `port`, giving addresses as they are found (see [`AddressStream`]).
    fn resolve_stream(&self, host: &str, port: u16) -> ResolveStream {
        Box::new(FutureStream::new(self.resolve(host, port), self.name()))
    }

    /// What this resolver is, for `squall -v` and error messages (`threaded resolver
    /// (getaddrinfo)`, `stub resolver (nameservers 10.0.0.1:53)`).
    fn name(&self) -> String {
        "custom resolver".to_owned()
    }
}

macro_rules! forward_resolver {
    ($($ptr:ident),*) => {$(
        impl<R: Resolver + ?Sized> Resolver for $ptr<R> {
            fn resolve(&self, host: &str, port: u16) -> ResolveFuture {
                (**self).resolve(host, port)
            }
            fn resolve_stream(&self, host: &str, port: u16) -> ResolveStream {
                (**self).resolve_stream(host, port)
            }
            fn name(&self) -> String {
                (**self).name()
            }
        }
    )*};
}

forward_resolver!(Rc, Arc, Box);

/// Which resolver a client uses when it is given none ([`crate::ClientBuilder`]'s
/// `resolver_choice`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ResolverChoice {
    /// The stub resolver when the system allows it ([`StubResolver::system_can_replace_libc`]:
    /// Linux, nsswitch `hosts: files dns`, a name server in resolv.conf), else the threaded
    /// one. The environment variable `SQUALL_RESOLVER=threaded` (or `stub`) overrides the
    /// guess, for a machine where it is wrong.
    #[default]
    Auto,
    /// [`ThreadedResolver`]: `getaddrinfo` on worker threads.
    Threaded,
    /// [`StubResolver::system`]: the stub resolver with the system's configuration.
    Stub,
    /// The stub resolver asking these servers (`squall --dns-servers`), with resolv.conf's
    /// search list and options and `/etc/hosts` first.
    StubServers(Vec<SocketAddr>),
}

impl ResolverChoice {
    /// The resolver chosen. The system stub resolver is one per process, so its cache is
    /// shared by every client.
    pub fn resolver(&self) -> Rc<dyn Resolver> {
        static SYSTEM_STUB: OnceLock<StubResolver> = OnceLock::new();
        let stub = || {
            Rc::new(
                SYSTEM_STUB
                    .get_or_init(|| StubResolver::system(None))
                    .clone(),
            )
        };
        match self {
            ResolverChoice::Threaded => Rc::new(ThreadedResolver),
            ResolverChoice::Stub => stub(),
            ResolverChoice::StubServers(servers) => {
                Rc::new(StubResolver::system(Some(servers.clone())))
            }
            ResolverChoice::Auto => match std::env::var("SQUALL_RESOLVER").as_deref() {
                Ok("threaded") => Rc::new(ThreadedResolver),
                Ok("stub") => stub(),
                _ if StubResolver::system_can_replace_libc() => stub(),
                _ => Rc::new(ThreadedResolver),
            },
        }
    }
}

/// Parse a `--dns-servers` list as curl takes it: comma-separated addresses, each with an
/// optional port (`10.0.0.1,10.0.0.2:5353,[2001:db8::1]:53,::1`); port 53 by default.
pub fn parse_dns_servers(list: &str) -> Result<Vec<SocketAddr>, String> {
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim) {
        let addr = if let Ok(sa) = item.parse::<SocketAddr>() {
            sa
        } else if let Ok(ip) = strip_brackets(item).parse::<IpAddr>() {
            SocketAddr::new(ip, 53)
        } else {
            return Err(format!(
                "invalid DNS server {item:?} (expected an IP address with an optional port)"
            ));
        };
        out.push(addr);
    }
    Ok(out)
}

/// Strip the brackets of an IPv6 literal (`[::1]` → `::1`); other text is returned as is.
pub fn strip_brackets(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

/// Answer what needs no lookup: IP literals, `localhost`, `*.localhost` and the empty name
/// (an error). `None` means a real lookup is needed.
fn resolve_without_lookup(host: &str, port: u16) -> Option<io::Result<Vec<SocketAddr>>> {
    let bare = strip_brackets(host);
    if bare.is_empty() {
        return Some(Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "failed to resolve '': empty host name",
        )));
    }
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Some(Ok(vec![SocketAddr::new(ip, port)]));
    }
    let name = bare.strip_suffix('.').unwrap_or(bare);
    if is_localhost(name) {
        return Some(Ok(vec![
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port),
        ]));
    }
    None
}

fn is_localhost(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "localhost" || lower.ends_with(".localhost")
}

// ---------------------------------------------------------------------------------------------
// hostname_mapping

/// Tornado's `hostname_mapping`: redirect a host, or a host and port, to another target
/// before resolving.
///
/// Keys are `"host"` or `"host:port"` (IPv6 in brackets: `"[::1]:8080"`); targets are
/// `"addr"` or `"addr:port"`. A `host:port` key wins over a bare `host` key; a target without
/// a port keeps the request's port. Host names compare case-insensitively. The `Host` header
/// of the request is not this type's concern and keeps the original name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostnameMapping {
    entries: Vec<(HostPort, HostPort)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct HostPort {
    host: String,
    port: Option<u16>,
}

impl HostPort {
    fn parse(s: &str) -> HostPort {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix('[') {
            if let Some((inner, after)) = rest.split_once(']') {
                let port = after.strip_prefix(':').and_then(|p| p.parse::<u16>().ok());
                if after.is_empty() || port.is_some() {
                    return HostPort {
                        host: inner.to_ascii_lowercase(),
                        port,
                    };
                }
            }
        } else if let Some((h, p)) = s.split_once(':') {
            // Exactly one colon: a name or IPv4 with a port. More colons: a bare IPv6 literal.
            if let (false, Ok(port)) = (p.contains(':'), p.parse::<u16>()) {
                return HostPort {
                    host: h.to_ascii_lowercase(),
                    port: Some(port),
                };
            }
        }
        HostPort {
            host: s.to_ascii_lowercase(),
            port: None,
        }
    }
}

impl HostnameMapping {
    /// An empty mapping.
    pub fn new() -> HostnameMapping {
        HostnameMapping::default()
    }

    /// Map `from` (`"host"` or `"host:port"`) to `to` (`"addr"` or `"addr:port"`). A later
    /// entry for the same key replaces the earlier one.
    pub fn insert(&mut self, from: &str, to: &str) {
        let key = HostPort::parse(from);
        let target = HostPort::parse(to);
        if let Some(entry) = self.entries.iter_mut().find(|(k, _)| *k == key) {
            entry.1 = target;
        } else {
            self.entries.push((key, target));
        }
    }

    /// Whether no entry was added.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The target for `host` and `port`, or `None` when no entry matches.
    pub fn lookup(&self, host: &str, port: u16) -> Option<(String, u16)> {
        let host = strip_brackets(host).to_ascii_lowercase();
        let exact = self
            .entries
            .iter()
            .find(|(k, _)| k.port == Some(port) && k.host == host);
        let any_port = || {
            self.entries
                .iter()
                .find(|(k, _)| k.port.is_none() && k.host == host)
        };
        exact
            .or_else(any_port)
            .map(|(_, t)| (t.host.clone(), t.port.unwrap_or(port)))
    }

    /// `host` and `port` after the mapping (unchanged when no entry matches).
    pub fn apply(&self, host: &str, port: u16) -> (String, u16) {
        self.lookup(host, port)
            .unwrap_or_else(|| (host.to_owned(), port))
    }
}

/// A [`Resolver`] that applies a [`HostnameMapping`] and then asks an inner resolver.
#[derive(Clone)]
pub struct MappedResolver {
    mapping: HostnameMapping,
    inner: Rc<dyn Resolver>,
}

impl MappedResolver {
    /// Wrap `inner`, redirecting names through `mapping` first.
    pub fn new(mapping: HostnameMapping, inner: Rc<dyn Resolver>) -> MappedResolver {
        MappedResolver { mapping, inner }
    }

    /// The mapping in use.
    pub fn mapping(&self) -> &HostnameMapping {
        &self.mapping
    }
}

impl fmt::Debug for MappedResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MappedResolver")
            .field("mapping", &self.mapping)
            .finish_non_exhaustive()
    }
}

impl Resolver for MappedResolver {
    fn resolve(&self, host: &str, port: u16) -> ResolveFuture {
        let (host, port) = self.mapping.apply(host, port);
        self.inner.resolve(&host, port)
    }

    fn resolve_stream(&self, host: &str, port: u16) -> ResolveStream {
        let (host, port) = self.mapping.apply(host, port);
        self.inner.resolve_stream(&host, port)
    }

    fn name(&self) -> String {
        format!("{} with a hostname mapping", self.inner.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn dns_servers_list_as_curl_takes_it() {
        assert_eq!(
            parse_dns_servers("10.0.0.1,10.0.0.2:5353, [2001:db8::1]:54,::1,[::2]").unwrap(),
            vec![
                "10.0.0.1:53".parse().unwrap(),
                "10.0.0.2:5353".parse().unwrap(),
                "[2001:db8::1]:54".parse().unwrap(),
                "[::1]:53".parse().unwrap(),
                "[::2]:53".parse().unwrap(),
            ]
        );
        for bad in ["", "10.0.0.1,", "dns.example", "10.0.0.1:99999"] {
            let e = parse_dns_servers(bad).unwrap_err();
            assert!(e.starts_with("invalid DNS server"), "{bad}: {e}");
        }
    }

    #[test]
    fn resolver_choice_names_itself() {
        assert_eq!(
            ResolverChoice::Threaded.resolver().name(),
            "threaded resolver (getaddrinfo)"
        );
        let servers = vec!["127.0.0.1:5353".parse().unwrap()];
        assert_eq!(
            ResolverChoice::StubServers(servers).resolver().name(),
            "stub resolver (nameservers 127.0.0.1:5353)"
        );
    }

    #[test]
    fn literals_and_localhost_need_no_lookup() {
        let v4 = resolve_without_lookup("127.0.0.1", 80).unwrap().unwrap();
        assert_eq!(v4, vec!["127.0.0.1:80".parse().unwrap()]);
        let v6 = resolve_without_lookup("[::1]", 443).unwrap().unwrap();
        assert_eq!(v6, vec!["[::1]:443".parse().unwrap()]);
        let v6 = resolve_without_lookup("::1", 1).unwrap().unwrap();
        assert_eq!(v6, vec!["[::1]:1".parse().unwrap()]);
        for name in ["localhost", "LOCALHOST", "localhost.", "app.localhost"] {
            let l = resolve_without_lookup(name, 8080).unwrap().unwrap();
            assert_eq!(l[0], "127.0.0.1:8080".parse().unwrap(), "{name}");
            assert_eq!(l[1], "[::1]:8080".parse().unwrap(), "{name}");
        }
        assert!(resolve_without_lookup("example.com", 80).is_none());
        assert!(resolve_without_lookup("localhost.example", 80).is_none());
        let empty = resolve_without_lookup("", 80).unwrap().unwrap_err();
        assert!(empty.to_string().contains("empty host name"));
    }

    #[test]
    fn mapping_host_and_host_port() {
        let mut m = HostnameMapping::new();
        assert!(m.is_empty());
        m.insert("www.example.com", "127.0.0.1");
        m.insert("foo.example.com:8000", "127.0.0.1:9000");
        m.insert("[::1]:80", "127.0.0.2");
        m.insert("fe80::1", "[::1]:81");
        assert_eq!(
            m.apply("WWW.example.com", 8080),
            ("127.0.0.1".to_owned(), 8080)
        );
        assert_eq!(
            m.apply("foo.example.com", 8000),
            ("127.0.0.1".to_owned(), 9000)
        );
        // The port-specific key does not match another port.
        assert_eq!(
            m.apply("foo.example.com", 8001),
            ("foo.example.com".to_owned(), 8001)
        );
        assert_eq!(m.apply("[::1]", 80), ("127.0.0.2".to_owned(), 80));
        assert_eq!(m.apply("::1", 80), ("127.0.0.2".to_owned(), 80));
        assert_eq!(m.apply("fe80::1", 5), ("::1".to_owned(), 81));
        assert_eq!(m.lookup("other", 1), None);
    }

    #[test]
    fn mapping_exact_port_wins_and_later_insert_replaces() {
        let mut m = HostnameMapping::new();
        m.insert("h", "10.0.0.1");
        m.insert("h:443", "10.0.0.2:4443");
        assert_eq!(m.apply("h", 443), ("10.0.0.2".to_owned(), 4443));
        assert_eq!(m.apply("h", 80), ("10.0.0.1".to_owned(), 80));
        m.insert("h", "10.0.0.3");
        assert_eq!(m.apply("h", 80), ("10.0.0.3".to_owned(), 80));
    }

    #[test]
    fn host_port_parsing_edge_cases() {
        let hp = HostPort::parse("name:notaport");
        assert_eq!(hp.host, "name:notaport");
        assert_eq!(hp.port, None);
        let hp = HostPort::parse("[::1]");
        assert_eq!((hp.host.as_str(), hp.port), ("::1", None));
        let hp = HostPort::parse("[::1]:x");
        assert_eq!(hp.host, "[::1]:x");
        let hp = HostPort::parse(" Host.Example:65535 ");
        assert_eq!((hp.host.as_str(), hp.port), ("host.example", Some(65535)));
    }
}
