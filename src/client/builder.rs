//! How a client is configured: [`ClientBuilder`], its defaults, and [`Config`], what a built
//! client keeps of it.
//!
//! This file exists so that `client/mod.rs` reads as the client itself (the handle, `fetch`,
//! `close`) while every knob, with its default, stands here in one place. The builder holds
//! what the caller chose; [`ClientBuilder::build`] turns it into the client's shared state:
//! the queue of `max_clients` slots, the keep-alive pool, the resolver, and the `Config` that
//! fetches read (limits, hostname mapping, request defaults, proxy rules). Everything here is
//! re-exported from `squall::client` (and `ClientBuilder` from `squall`), where it always was.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use super::proxy::{self, Proxy, ProxyRules};
use super::request::HttpRequest;
use super::{AsyncHttpClient, Inner, pool, queue};
use crate::net::dns::{Resolver, ResolverChoice};

/// Default `max_clients` (Tornado's).
pub const DEFAULT_MAX_CLIENTS: usize = 10;
/// Default `max_buffer_size`: 100 MiB (Tornado's); also the default `max_body_size`.
pub const DEFAULT_MAX_BUFFER_SIZE: usize = 100 * 1024 * 1024;
/// Default `max_header_size`: 64 KiB.
pub const DEFAULT_MAX_HEADER_SIZE: usize = 64 * 1024;
/// Default per-host connection limit.
pub const DEFAULT_MAX_PER_HOST: usize = 6;
/// Default time an idle keep-alive connection is kept.
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default cap on idle keep-alive connections over all hosts (the least recently used one is
/// closed past it).
pub const DEFAULT_MAX_IDLE: usize = 256;
/// Size of a connection's read buffer when it is taken (once response bytes are ready; it is
/// freed when the connection goes idle): a small response fits. A body that fills it makes it
/// grow (see [`MAX_READ_SIZE`]).
pub const READ_SIZE: usize = 4 * 1024;
/// The most a connection's read buffer grows to while a big body streams in (fewer, larger
/// reads); never more than `max_buffer_size`.
pub const MAX_READ_SIZE: usize = 512 * 1024;

/// What a client keeps of its builder, read by every fetch.
pub(crate) struct Config {
    pub max_header_size: usize,
    pub max_read: usize,
    pub max_body_size: Option<u64>,
    pub hostname_mapping: HashMap<String, String>,
    pub defaults: Option<HttpRequest>,
    /// The proxy rules, read once when the client was built; `None` when nothing is proxied.
    pub proxies: Option<Arc<ProxyRules>>,
}

/// Configures an [`AsyncHttpClient`].
pub struct ClientBuilder {
    max_clients: usize,
    max_buffer_size: usize,
    max_header_size: usize,
    max_body_size: Option<u64>,
    max_per_host: usize,
    max_idle: usize,
    pool_idle_timeout: Duration,
    hostname_mapping: HashMap<String, String>,
    resolver: Option<Rc<dyn Resolver>>,
    resolver_choice: ResolverChoice,
    defaults: Option<HttpRequest>,
    /// `None`: read the environment in `build`.
    proxies: Option<ProxyRules>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            max_clients: DEFAULT_MAX_CLIENTS,
            max_buffer_size: DEFAULT_MAX_BUFFER_SIZE,
            max_header_size: DEFAULT_MAX_HEADER_SIZE,
            max_body_size: None,
            max_per_host: DEFAULT_MAX_PER_HOST,
            max_idle: DEFAULT_MAX_IDLE,
            pool_idle_timeout: DEFAULT_POOL_IDLE_TIMEOUT,
            hostname_mapping: HashMap::new(),
            resolver: None,
            resolver_choice: ResolverChoice::Auto,
            defaults: None,
            proxies: None,
        }
    }
}

impl ClientBuilder {
    /// Fetches in flight at once; the rest wait in a FIFO queue (default 10).
    pub fn max_clients(mut self, n: usize) -> Self {
        self.max_clients = n.max(1);
        self
    }

    /// The largest single read (default 100 MiB; a read buffer grows to at most 512 KiB
    /// anyway); also the default of `max_body_size`.
    pub fn max_buffer_size(mut self, n: usize) -> Self {
        self.max_buffer_size = n.max(1);
        self
    }

    /// The largest response head, status line and headers (default 64 KiB).
    pub fn max_header_size(mut self, n: usize) -> Self {
        self.max_header_size = n.max(64);
        self
    }

    /// The largest body, counted after decompression (default `max_buffer_size`).
    pub fn max_body_size(mut self, n: u64) -> Self {
        self.max_body_size = Some(n);
        self
    }

    /// Connections per (scheme, host, port, TLS settings) at once (default 6).
    pub fn max_per_host(mut self, n: usize) -> Self {
        self.max_per_host = n.max(1);
        self
    }

    /// Idle keep-alive connections kept over all hosts at once (default 256); past it the
    /// least recently used one is closed. Each holds a file descriptor: a crawler visiting
    /// many hosts keeps at most this many open while idle. Zero keeps none.
    pub fn max_idle_connections(mut self, n: usize) -> Self {
        self.max_idle = n;
        self
    }

    /// How long an idle keep-alive connection is kept (default 60 s; zero disables
    /// keep-alive: every connection is closed after its response).
    pub fn pool_idle_timeout(mut self, d: Duration) -> Self {
        self.pool_idle_timeout = d;
        self
    }

    /// Connect to `to` whenever a URL names `host` (`"host"` or `"host:port"`; `to` is
    /// `"addr"` or `"addr:port"`). `Host` and TLS keep the original name.
    pub fn hostname_mapping(mut self, host: &str, to: &str) -> Self {
        self.hostname_mapping
            .insert(host.to_ascii_lowercase(), to.to_string());
        self
    }

    /// The DNS resolver. Without one, [`resolver_choice`](ClientBuilder::resolver_choice)
    /// picks it.
    pub fn resolver(mut self, r: impl Resolver + 'static) -> Self {
        self.resolver = Some(Rc::new(r));
        self
    }

    /// Which built-in resolver to use when [`resolver`](ClientBuilder::resolver) gave none:
    /// by default [`ResolverChoice::Auto`], the DNS stub resolver on the loop where the
    /// system's configuration allows it (Linux, `hosts: files dns`), else `getaddrinfo` on
    /// threads. [`AsyncHttpClient::resolver_name`] tells which one a client got.
    pub fn resolver_choice(mut self, c: ResolverChoice) -> Self {
        self.resolver_choice = c;
        self
    }

    /// Request fields used wherever a request leaves them unset.
    pub fn defaults(mut self, d: HttpRequest) -> Self {
        self.defaults = Some(d);
        self
    }

    /// Take proxies from the environment (the default: `http_proxy`, `https_proxy`,
    /// `all_proxy`, `no_proxy`, by curl's rules, read once in [`build`](Self::build); see
    /// [`proxy`]) or not (`false`: no proxy at all, unless a request names its own).
    pub fn proxy_from_env(mut self, on: bool) -> Self {
        self.proxies = if on { None } else { Some(ProxyRules::none()) };
        self
    }

    /// Send every request through `proxy` (http as absolute-form requests, https through a
    /// `CONNECT` tunnel); the environment is not read. A request's own proxy still wins.
    pub fn proxy(self, proxy: Proxy) -> Self {
        self.proxies(ProxyRules::all(proxy))
    }

    /// Use these proxy rules instead of the environment's (for example
    /// `ProxyRules::all(p).no_proxy(NoProxy::parse("localhost,.internal"))`, or
    /// `ProxyRules::from_vars(...)` with variables of your own). A request's own proxy still
    /// wins.
    pub fn proxies(mut self, rules: ProxyRules) -> Self {
        self.proxies = Some(rules);
        self
    }

    /// The client.
    pub fn build(self) -> AsyncHttpClient {
        let read = READ_SIZE.min(self.max_buffer_size);
        AsyncHttpClient {
            inner: Rc::new(Inner {
                config: Config {
                    max_header_size: self.max_header_size,
                    max_read: MAX_READ_SIZE.min(self.max_buffer_size).max(read),
                    max_body_size: Some(self.max_body_size.unwrap_or(self.max_buffer_size as u64)),
                    hostname_mapping: self.hostname_mapping,
                    defaults: self.defaults,
                    proxies: proxy::client_rules(self.proxies),
                },
                resolver: self
                    .resolver
                    .unwrap_or_else(|| self.resolver_choice.resolver()),
                slots: queue::Slots::new(self.max_clients),
                pool: pool::Pool::new(
                    self.max_per_host,
                    self.max_idle,
                    self.pool_idle_timeout,
                    read,
                ),
                closed: Cell::new(false),
                inflight: RefCell::new(Vec::new()),
                free: RefCell::new(Vec::new()),
            }),
        }
    }
}
