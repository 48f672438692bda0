//! The product: [`AsyncHttpClient`], Tornado's `AsyncHTTPClient` on squall's own loop.
//!
//! ```no_run
//! use squall::{AsyncHttpClient, IoLoop};
//! IoLoop::current().run_sync(async {
//!     let client = AsyncHttpClient::new();
//!     let response = client.fetch("http://127.0.0.1:8000/").await?;
//!     println!("{}", response.text()?);
//!     Ok::<_, squall::HttpError>(())
//! }).unwrap();
//! ```
//!
//! # The life of a fetch
//!
//! `fetch(request)` does everything inside the future it returns — nothing is spawned:
//!
//! 1. **Prepare** ([`request`], `prepare`): the client's `defaults` fill the request's unset fields, and
//!    every rule is checked (scheme, method, body, headers, auth mode, source address). A bad
//!    request fails now, before any I/O, with [`ErrorKind::InvalidRequest`].
//! 2. **Queue** ([`queue`]): at most `max_clients` fetches are active; the rest wait in FIFO
//!    order. The wait is bounded by `min(connect_timeout, request_timeout)`.
//! 3. **Connect** ([`pool`], `open`): the keep-alive pool gives an idle connection to the
//!    same scheme, host, port, TLS settings, source address and proxy (checked first: one the
//!    server closed while idle is discarded), or the right to open one within the per-host
//!    limit. Opening means hostname mapping, DNS on the resolver's threads (IP literals skip
//!    it), happy eyeballs across the addresses, a `CONNECT` tunnel when an https request
//!    goes through a proxy, and TLS for https.
//! 4. **Exchange** (`send`, `exchange`, `conn`): the head (and a small body) leave in one
//!    write — a `body_producer` writes through a [`BodyWriter`] ([`writer`]); the response is
//!    parsed by the sans-IO core as bytes arrive, into the connection's own buffer (`buffer`),
//!    head phase first (interim and final heads), then body phase. User callbacks run through
//!    `callback`; every failure below becomes an [`HttpError`] in [`error`]. Each request
//!    head written and the heads read back are recorded as a hop ([`hops`]), reported live
//!    to `hop_callback` and kept on the response.
//! 5. **Redirects** ([`redirect`]): a 3xx that is followed has its body drained, the request is
//!    rewritten by the rules (method, body, credentials), and step 3 repeats — in the same slot.
//! 6. **Body** (`reader`): decoded (gzip, deflate) within `max_body_size`, buffered, handed to a
//!    `streaming_callback` (plain, or async for backpressure), or pulled piece by piece with
//!    [`AsyncHttpClient::fetch_streaming`]. A connection whose response was read to its end
//!    and may be kept goes back to the pool.
//!
//! One deadline, `request_timeout` from the call to `fetch()`, covers all of it (`deadline`
//! keeps it, with the phase); when it fires, the error names the phase (`Timeout in request queue`, `Timeout while resolving <host>`,
//! `Timeout while connecting to <addrs>`, `Timeout during TLS handshake with <addr>`,
//! `Timeout during request`). Dropping the future aborts the fetch at once: its connection is
//! closed and its slot goes to the next fetch in line. [`AsyncHttpClient::close`] fails every
//! fetch in flight with a client-closed error.
//!
//! # Where squall decides (behaviour IDs of the team's Tornado checklist)
//!
//! - Q-05, D-18, S-43: `request_timeout` is one deadline from `fetch()` — queue, DNS, connect,
//!   TLS, every redirect hop, the body. `request_time` runs from `fetch()` too.
//! - Q-13, R-10: keep-alive is the default; `Connection: close` is sent only when the caller
//!   asks. An idempotent request that finds its reused connection dead before any response
//!   byte is sent once more on a new connection; other requests are never replayed.
//! - Q-14: a per-host connection limit (default 6) sits under `max_clients`, and idle
//!   connections over all hosts are capped too (default 256, least recently used out first).
//!   A connect that fails for want of file descriptors closes the idle ones and tries again
//!   once.
//! - A client may be used from one loop after another: pooled connections belong to the loop
//!   that opened them, and another loop opens its own (the old ones are closed when found).
//! - R-37: a client's `defaults` fill unset fields; headers merge by name (a default header is
//!   added only when the request has none of that name).
//! - C-03: after decoding, `Content-Length` still gives the wire size; `Content-Encoding`
//!   becomes `X-Consumed-Content-Encoding`.
//! - C-09: `max_body_size` counts decoded bytes; a declared length over it is refused before
//!   the body is read (S-18), and a coded body is limited after decoding only.
//! - S-22, S-37: `header_callback` also sees 1xx heads, and `headers` is filled anyway.
//! - D-05: a chain longer than `max_redirects` is a too-many-redirects error carrying the last
//!   3xx; with following off, the 3xx is the response.
//! - D-16: a followed redirect's body is drained within `max_body_size` so the connection can
//!   be reused; a longer one is not read at all (the connection is closed) and the redirect is
//!   still followed.
//! - D-20: a body producer is one-shot: a 307/308 of such a request is the answer.
//! - R-34: with `expect_100_continue`, the body goes after about a second of silence; a 417
//!   repeats the request without the expectation (RFC 9110 §10.1.1).
//! - Q-06..Q-08: [`AsyncHttpClient::shared`] is the per-loop shared client (no configuration);
//!   [`AsyncHttpClient::new`] is always a new one (Tornado's `force_instance`).
//! - R-39, T-10: HTTP proxies are supported (absolute-form for http, `CONNECT` for https).
//!   By default a client takes them from the environment by curl's rules (`http_proxy`,
//!   `https_proxy`, `all_proxy`, `no_proxy`; not `HTTP_PROXY`), read once when it is built;
//!   [`ClientBuilder::proxy_from_env`], [`ClientBuilder::proxy`] and
//!   [`ClientBuilder::proxies`] change that, and a request's own `proxy_host` wins over all
//!   of it. Each redirect hop picks its proxy again (its scheme and host may differ).
//!   `Proxy-Authorization` goes to a proxy only: in the `CONNECT` request of a tunnel, or
//!   with a plain-http request to the proxy, never to an origin. See [`proxy`].

pub mod blocking;
mod buffer;
mod builder;
mod callback;
mod conn;
mod deadline;
pub mod error;
mod exchange;
mod fetch;
mod handshake;
pub mod hops;
mod open;
pub mod pool;
mod prepare;
pub mod proxy;
pub mod queue;
mod reader;
pub mod redirect;
pub mod request;
pub mod response;
mod send;
pub mod streaming;
mod wait_queue;
pub mod writer;

/// The old name of [`writer`], kept so `squall::client::body::BodyWriter` still resolves.
pub use writer as body;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

pub use blocking::{HttpClient, ResponseReader};
pub use builder::{
    ClientBuilder, DEFAULT_MAX_BUFFER_SIZE, DEFAULT_MAX_CLIENTS, DEFAULT_MAX_HEADER_SIZE,
    DEFAULT_MAX_IDLE, DEFAULT_MAX_PER_HOST, DEFAULT_POOL_IDLE_TIMEOUT, MAX_READ_SIZE, READ_SIZE,
};
pub use error::{ErrorKind, HttpError, TimeoutPhase};
pub use hops::{Hop, HopEvent, HopKind};
pub use proxy::{NoProxy, Proxy, ProxyErrorKind, ProxyRules};
pub use request::HttpRequest;
pub use response::{HttpResponse, ResponseMeta, TimeInfo};
pub use streaming::StreamingResponse;
pub use writer::BodyWriter;

use crate::ioloop::IoLoop;
use crate::net::dns::Resolver;
use builder::Config;
use deadline::FetchClock;

/// What every clone of an [`AsyncHttpClient`] shares: its configuration, resolver,
/// `max_clients` slots, pool, and the fetches in flight (so `close()` can fail them).
pub(crate) struct ClientState {
    pub config: Config,
    pub resolver: Rc<dyn Resolver>,
    pub slots: queue::FetchSlots,
    pub pool: pool::Pool,
    pub closed: Cell<bool>,
    /// Wakers of the fetches in flight, so `close()` can fail them.
    inflight: RefCell<Vec<Option<Waker>>>,
    free: RefCell<Vec<usize>>,
}

impl ClientState {
    /// `hostname_mapping`: `host:port` first, then `host`; the target may carry its own port.
    pub fn map_host(&self, host: &str, port: u16) -> (String, u16) {
        let m = &self.config.hostname_mapping;
        if m.is_empty() {
            return (host.to_string(), port);
        }
        let target = m.get(&format!("{host}:{port}")).or_else(|| m.get(host));
        match target {
            None => (host.to_string(), port),
            Some(t) => split_host_port(t, port),
        }
    }
}

/// `"addr"`, `"addr:port"`, `"[v6]"`, `"[v6]:port"` or a bare IPv6 literal.
fn split_host_port(t: &str, default_port: u16) -> (String, u16) {
    if let Some(rest) = t.strip_prefix('[')
        && let Some((h, tail)) = rest.split_once(']')
    {
        let port = tail
            .strip_prefix(':')
            .and_then(|p| p.parse().ok())
            .unwrap_or(default_port);
        return (h.to_string(), port);
    }
    if t.matches(':').count() == 1
        && let Some((h, p)) = t.rsplit_once(':')
        && let Ok(p) = p.parse()
    {
        return (h.to_string(), p);
    }
    (t.to_string(), default_port)
}

thread_local! {
    /// The shared clients of this thread's loops (client first: it is dropped before its loop).
    static SHARED: RefCell<Vec<(AsyncHttpClient, IoLoop)>> = const { RefCell::new(Vec::new()) };
}

/// An asynchronous HTTP/1.1 client with a keep-alive pool. Cheap to clone (the clones share
/// the pool and the queue); lives on the thread (and loop) it is used on.
#[derive(Clone)]
pub struct AsyncHttpClient {
    inner: Rc<ClientState>,
}

impl Default for AsyncHttpClient {
    fn default() -> Self {
        AsyncHttpClient::new()
    }
}

/// Two handles are equal when they are clones of one client (same pool, same queue).
impl PartialEq for AsyncHttpClient {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for AsyncHttpClient {}

impl std::fmt::Debug for AsyncHttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncHttpClient")
            .field("closed", &self.inner.closed.get())
            .finish_non_exhaustive()
    }
}

impl AsyncHttpClient {
    /// A client with the default settings: among them, proxies from the environment
    /// (`http_proxy`, `https_proxy`, `all_proxy`, `no_proxy`; see [`proxy`]), read now, once.
    pub fn new() -> AsyncHttpClient {
        ClientBuilder::default().build()
    }

    /// A builder for a configured client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// What resolves this client's host names, e.g. `stub resolver (nameservers
    /// 10.0.0.1:53)` or `threaded resolver (getaddrinfo)`.
    pub fn resolver_name(&self) -> String {
        self.inner.resolver.name()
    }

    /// The shared client of the current loop (Tornado's `AsyncHTTPClient()` without
    /// `force_instance`): the same client every time on one loop, another on another loop
    /// (Q-06). It takes no configuration (Q-07): build your own client for that. After
    /// [`close`](AsyncHttpClient::close) it is forgotten, and the next call makes a new one
    /// (Q-08).
    pub fn shared() -> AsyncHttpClient {
        let lp = IoLoop::current();
        SHARED.with(|cell| {
            let mut list = cell.borrow_mut();
            list.retain(|(c, l)| !c.is_closed() && !l.is_closed());
            if let Some((c, _)) = list.iter().find(|(_, l)| *l == lp) {
                return c.clone();
            }
            let c = AsyncHttpClient::new();
            list.push((c.clone(), lp));
            c
        })
    }

    /// A GET of `url`: `fetch(HttpRequest::get(url))`. (`fetch(HttpRequest::post(url).json(..))`
    /// and friends for the rest: see [`HttpRequest`]'s `json`, `form` and `query`.)
    pub async fn get(&self, url: &str) -> Result<HttpResponse, HttpError> {
        self.fetch(HttpRequest::get(url)).await
    }

    /// Fetches `req` (a URL or an [`HttpRequest`]) and returns the whole response. A non-2xx
    /// status is an [`ErrorKind::Http`] error carrying the response, unless the request says
    /// `raise_error(false)`; transport errors are errors either way.
    pub async fn fetch(&self, req: impl Into<HttpRequest>) -> Result<HttpResponse, HttpError> {
        let original: HttpRequest = req.into();
        let (ctx, mut prep) = self.begin(&original)?;
        let work = fetch::fetch_buffered(&self.inner, &mut prep, &ctx, &original);
        let result = self.run(&ctx, work).await;
        with_request(result, original, &ctx).map(|r| *r)
    }

    /// Fetches `req` and returns once the final response head is in: the body is then pulled
    /// with [`StreamingResponse::chunk`], and nothing more is read from the socket until it is
    /// asked for (backpressure). The fetch keeps its slot and connection until the body is
    /// read to its end or the response is dropped. A non-2xx status under `raise_error` is an
    /// error carrying the response, with its body read whole.
    pub async fn fetch_streaming(
        &self,
        req: impl Into<HttpRequest>,
    ) -> Result<StreamingResponse, HttpError> {
        let original: HttpRequest = req.into();
        let (ctx, mut prep) = self.begin(&original)?;
        let work = fetch::fetch_streamed(&self.inner, &mut prep, &ctx, &original);
        let result = self.run(&ctx, work).await;
        let (answer, slot) = with_request(result, original, &ctx)?;
        Ok(StreamingResponse::new(
            self.inner.clone(),
            answer,
            slot,
            ctx,
        ))
    }

    /// The prologue of every fetch: the clock starts, the request is prepared (a bad one
    /// fails here, with its timing), and the overall deadline is set.
    fn begin(&self, original: &HttpRequest) -> Result<(FetchClock, prepare::Prepared), HttpError> {
        let mut ctx = FetchClock::new();
        let prep = self.prepare(original).map_err(|mut e| {
            e.set_request_time(ctx.start.elapsed());
            e.set_time_info(ctx.error_time_info());
            e
        })?;
        ctx.deadline = prep.opts.request_timeout.map(|d| ctx.start + d);
        Ok((ctx, prep))
    }

    /// Runs a fetch's work under its deadline and the client's close guard.
    async fn run<T>(
        &self,
        ctx: &FetchClock,
        work: impl Future<Output = Result<T, HttpError>>,
    ) -> Result<T, HttpError> {
        // The work is pinned here, once; the wrappers hold only a pinned pointer to it, so no
        // large future is moved around per fetch.
        let work = std::pin::pin!(work);
        let timed = std::pin::pin!(deadline::until(ctx.deadline, work, || ctx.timeout_error()));
        Guarded::new(&self.inner, timed)
            .await
            .and_then(|r| r)
            .and_then(|r| r)
    }

    /// Closes the client: idle connections are closed, fetches in flight fail with
    /// [`ErrorKind::ClientClosed`], and later fetches fail at once. Idempotent.
    pub fn close(&self) {
        let inner = &self.inner;
        if inner.closed.replace(true) {
            return;
        }
        // Forget it as a shared client (quietly, even while the thread is exiting).
        let _ = SHARED.try_with(|cell| {
            if let Ok(mut list) = cell.try_borrow_mut() {
                list.retain(|(c, _)| !Rc::ptr_eq(&c.inner, inner));
            }
        });
        inner.pool.close();
        let wakers: Vec<Waker> = inner
            .inflight
            .borrow_mut()
            .iter_mut()
            .filter_map(Option::take)
            .collect();
        for w in wakers {
            w.wake();
        }
    }

    /// Whether `close()` was called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.get()
    }

    /// (open connections, idle connections) in the pool, over all hosts.
    pub fn pool_counts(&self) -> (usize, usize) {
        self.inner.pool.counts()
    }

    fn prepare(&self, original: &HttpRequest) -> Result<prepare::Prepared, HttpError> {
        if self.inner.closed.get() {
            return Err(HttpError::new(
                ErrorKind::ClientClosed,
                "fetch() called on closed AsyncHttpClient",
            ));
        }
        let merged;
        let effective = match &self.inner.config.defaults {
            Some(d) => {
                merged = original.with_defaults(d);
                &merged
            }
            None => original,
        };
        let config = &self.inner.config;
        prepare::prepare(effective, config.max_body_size, config.proxies.as_ref())
    }
}

/// Puts the caller's request (R-21) into the response, or into the response an error carries.
fn with_request<T: RequestSlot>(
    r: Result<T, HttpError>,
    original: HttpRequest,
    ctx: &deadline::FetchClock,
) -> Result<T, HttpError> {
    match r {
        Ok(mut v) => {
            v.put(original);
            Ok(v)
        }
        Err(mut e) => {
            if let Some(resp) = e.response_mut() {
                resp.request = original;
            }
            e.set_request_time(ctx.start.elapsed());
            e.set_time_info(ctx.error_time_info());
            Err(e)
        }
    }
}

/// Where `with_request` puts the request.
trait RequestSlot {
    fn put(&mut self, req: HttpRequest);
}

impl RequestSlot for Box<HttpResponse> {
    fn put(&mut self, req: HttpRequest) {
        self.request = req;
    }
}

/// A streaming answer keeps no request: the caller still has the response's own fields.
impl RequestSlot for (fetch::Answer, queue::FetchSlot) {
    fn put(&mut self, _req: HttpRequest) {}
}

/// Runs a fetch's future unless the client is closed: `close()` wakes it, and it then ends
/// with a client-closed error (dropping the inner future closes its connection).
struct Guarded<'a, F> {
    inner: &'a Rc<ClientState>,
    fut: Pin<&'a mut F>,
    index: Option<usize>,
}

impl<'a, F: Future> Guarded<'a, F> {
    fn new(inner: &'a Rc<ClientState>, fut: Pin<&'a mut F>) -> Self {
        Guarded {
            inner,
            fut,
            index: None,
        }
    }
}

impl<F: Future> Future for Guarded<'_, F> {
    type Output = Result<F::Output, HttpError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if this.inner.closed.get() {
            return Poll::Ready(Err(HttpError::closed()));
        }
        match this.fut.as_mut().poll(cx) {
            Poll::Ready(v) => Poll::Ready(Ok(v)),
            Poll::Pending => {
                let mut list = this.inner.inflight.borrow_mut();
                match this.index {
                    Some(i) => {
                        let slot = &mut list[i];
                        if !slot.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                            *slot = Some(cx.waker().clone());
                        }
                    }
                    None => {
                        let i = match this.inner.free.borrow_mut().pop() {
                            Some(i) => {
                                list[i] = Some(cx.waker().clone());
                                i
                            }
                            None => {
                                list.push(Some(cx.waker().clone()));
                                list.len() - 1
                            }
                        };
                        this.index = Some(i);
                    }
                }
                Poll::Pending
            }
        }
    }
}

impl<F> Drop for Guarded<'_, F> {
    fn drop(&mut self) {
        if let Some(i) = self.index.take() {
            self.inner.inflight.borrow_mut()[i] = None;
            self.inner.free.borrow_mut().push(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q11_mapping_targets() {
        assert_eq!(
            split_host_port("127.0.0.1", 80),
            ("127.0.0.1".to_string(), 80)
        );
        assert_eq!(
            split_host_port("127.0.0.1:8080", 80),
            ("127.0.0.1".to_string(), 8080)
        );
        assert_eq!(split_host_port("[::1]:81", 80), ("::1".to_string(), 81));
        assert_eq!(split_host_port("::1", 80), ("::1".to_string(), 80));
        assert_eq!(
            split_host_port("other.example", 443),
            ("other.example".to_string(), 443)
        );
    }
}
