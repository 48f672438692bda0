//! What to fetch, and how: [`HttpRequest`], Tornado's `HTTPRequest` as a builder.
//!
//! Every option is an `Option` inside, because "unset" matters: a client's `defaults` fill
//! only the fields a request left unset (R-37), and only then do Tornado's built-in defaults
//! apply (20 s timeouts, follow up to 5 redirects, decompress, `squall/<version>`).
//!
//! Nothing here touches the network. `prepare` turns a request (plus the client's defaults)
//! into a `Prepared` one and checks every rule first — scheme, method, body, headers,
//! auth mode, source address — so a bad request fails with [`ErrorKind::InvalidRequest`]
//! before any DNS lookup or connect (R-25: Tornado only noticed after connecting).
//!
//! [`ErrorKind::InvalidRequest`]: super::ErrorKind::InvalidRequest

use std::fmt;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::error::{ErrorKind, HttpError};
use super::hops::HopCallback;
use super::proxy::ProxyRules;
use super::writer::BodyWriter;
use crate::http::headers::HttpHeaders;
use crate::http::url::{REDACTED, Url, redact_userinfo};
use crate::net::tls::TlsSettings;

/// Tornado's default `connect_timeout` and `request_timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
/// Tornado's default `max_redirects`.
pub const DEFAULT_MAX_REDIRECTS: u32 = 5;

/// The `User-Agent` sent when neither the option nor a header sets one.
pub const DEFAULT_USER_AGENT: &str = concat!("squall/", env!("CARGO_PKG_VERSION"));

// The callbacks are shared (`Arc`) and `Send`, so that a request, a response holding it and an
// error holding that are `Send + Sync`: they can cross threads and become `anyhow::Error`s.
// They are only ever called on the loop's thread, one call at a time; the mutex is never
// contended. The futures they return are not required to be `Send`: they run on the loop.
pub(crate) type ProducerFn =
    Arc<dyn Fn(BodyWriter) -> Pin<Box<dyn Future<Output = io::Result<()>>>> + Send + Sync>;
pub(crate) type DataCallback = Arc<Mutex<dyn FnMut(&[u8]) + Send>>;
pub(crate) type LineCallback = Arc<Mutex<dyn FnMut(&str) + Send>>;
pub(crate) type AsyncDataCallback =
    Arc<Mutex<dyn FnMut(Vec<u8>) -> Pin<Box<dyn Future<Output = io::Result<()>>>> + Send>>;

/// Takes a callback's lock. A callback that panicked (the fetch failed with a callback error)
/// leaves it poisoned; the closure itself is still there, and a later fetch of the same
/// request may call it again.
pub(crate) fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Where a streamed body goes: a plain closure, or an async one that holds the next read back
/// until it is done (backpressure, S-33).
#[derive(Clone)]
pub(crate) enum StreamSink {
    Sync(DataCallback),
    Async(AsyncDataCallback),
}

/// An HTTP request and its options (Tornado's `HTTPRequest`). Cheap to clone: the body and
/// the callbacks are shared, not copied.
///
/// ```no_run
/// use squall::HttpRequest;
/// use std::time::Duration;
/// let req = HttpRequest::new("http://example.com/upload")
///     .method("POST")
///     .header("Content-Type", "application/json")
///     .body(r#"{"a": 1}"#)
///     .request_timeout(Duration::from_secs(5));
/// ```
#[derive(Clone, Default)]
pub struct HttpRequest {
    pub(crate) url: String,
    pub(crate) method: Option<String>,
    pub(crate) headers: Option<HttpHeaders>,
    pub(crate) body: Option<Arc<Vec<u8>>>,
    pub(crate) body_producer: Option<ProducerFn>,
    pub(crate) auth_username: Option<String>,
    pub(crate) auth_password: Option<String>,
    pub(crate) auth_mode: Option<String>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) if_modified_since: Option<SystemTime>,
    pub(crate) follow_redirects: Option<bool>,
    pub(crate) max_redirects: Option<u32>,
    pub(crate) user_agent: Option<String>,
    pub(crate) decompress_response: Option<bool>,
    pub(crate) network_interface: Option<String>,
    pub(crate) streaming_callback: Option<StreamSink>,
    pub(crate) header_callback: Option<LineCallback>,
    pub(crate) request_head_callback: Option<DataCallback>,
    /// Set by `hop_callback` (in `hops.rs`, beside the record it reports).
    pub(crate) hop_callback: Option<HopCallback>,
    pub(crate) allow_nonstandard_methods: Option<bool>,
    pub(crate) validate_cert: Option<bool>,
    pub(crate) ca_certs: Option<PathBuf>,
    pub(crate) client_cert: Option<PathBuf>,
    pub(crate) client_key: Option<PathBuf>,
    pub(crate) extra_ca_certs: Option<PathBuf>,
    pub(crate) system_ca_certs: Option<bool>,
    pub(crate) tls_key_log: Option<bool>,
    #[cfg(feature = "tls")]
    pub(crate) tls_config: Option<Arc<rustls::ClientConfig>>,
    pub(crate) expect_100_continue: Option<bool>,
    pub(crate) allow_ipv6: Option<bool>,
    pub(crate) raise_error: Option<bool>,
    pub(crate) max_body_size: Option<u64>,
    pub(crate) proxy_host: Option<String>,
    pub(crate) proxy_port: Option<u16>,
    pub(crate) proxy_username: Option<String>,
    pub(crate) proxy_password: Option<String>,
    pub(crate) proxy_auth_mode: Option<String>,
    /// A builder step that failed (a `json` value that does not serialise): reported by
    /// `fetch`, as a bad URL is, so the builder chain stays infallible.
    pub(crate) deferred_error: Option<String>,
}

/// Safe to log: the URL's password, the values of `Authorization`, `Proxy-Authorization`,
/// `Cookie` (and `Set-Cookie`) and the `auth` password are shown as `<redacted>`; the body
/// only by its length.
impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |p: &Option<String>| p.as_ref().map(|_| REDACTED);
        f.debug_struct("HttpRequest")
            .field("url", &redact_userinfo(&self.url))
            .field("method", &self.get_method())
            .field("headers", &self.headers)
            .field("body_len", &self.body.as_ref().map(|b| b.len()))
            .field("body_producer", &self.body_producer.is_some())
            .field("auth_username", &self.auth_username)
            .field("auth_password", &redacted(&self.auth_password))
            .finish_non_exhaustive()
    }
}

impl From<&str> for HttpRequest {
    fn from(url: &str) -> HttpRequest {
        HttpRequest::new(url)
    }
}

impl From<String> for HttpRequest {
    fn from(url: String) -> HttpRequest {
        HttpRequest {
            url,
            ..HttpRequest::default()
        }
    }
}

impl From<&String> for HttpRequest {
    fn from(url: &String) -> HttpRequest {
        HttpRequest::new(url)
    }
}

impl HttpRequest {
    /// A GET of `url`. A bad URL is reported by `fetch` (as `MalformedUrl`), not here.
    pub fn new(url: &str) -> HttpRequest {
        HttpRequest {
            url: url.to_string(),
            ..HttpRequest::default()
        }
    }

    /// A request with no URL, used as a client's `defaults`.
    pub fn defaults() -> HttpRequest {
        HttpRequest::default()
    }

    /// The method (default GET). Only GET, HEAD, POST, PUT, DELETE, PATCH and OPTIONS unless
    /// `allow_nonstandard_methods`.
    pub fn method(mut self, m: &str) -> Self {
        self.method = Some(m.to_string());
        self
    }

    /// Adds a header (a repeated name gets one line per value).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .get_or_insert_with(HttpHeaders::new)
            .add(name, value);
        self
    }

    /// Replaces the header map.
    pub fn headers(mut self, h: HttpHeaders) -> Self {
        self.headers = Some(h);
        self
    }

    /// A GET of `url` (the same as [`HttpRequest::new`]).
    pub fn get(url: &str) -> HttpRequest {
        HttpRequest::new(url)
    }

    /// A POST to `url`; give it a body ([`body`](Self::body), `json`,
    /// [`form`](Self::form) or [`body_producer`](Self::body_producer)).
    pub fn post(url: &str) -> HttpRequest {
        HttpRequest::new(url).method("POST")
    }

    /// The body; its length becomes `Content-Length` (text is sent as UTF-8).
    ///
    /// A body is sent with the `Content-Type` the headers give. Without one, a POST is sent
    /// as `Content-Type: application/x-www-form-urlencoded`, as Tornado does (R-07), and any
    /// other method with no `Content-Type` at all: set the header, or use
    /// `json` or [`form`](Self::form), which set it.
    pub fn body(mut self, b: impl Into<Vec<u8>>) -> Self {
        self.body = Some(Arc::new(b.into()));
        self
    }

    /// The body as JSON (`serde_json`, compact), with `Content-Type: application/json`
    /// (replacing any). The method is not changed: use [`HttpRequest::post`] (or `PUT`,
    /// `PATCH`). A value that cannot be serialised (a map with non-string keys, a failing
    /// `Serialize`) fails the fetch with [`ErrorKind::InvalidRequest`]. Feature `json`.
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(bytes) => {
                self = self.body(bytes);
                self.set_header("Content-Type", "application/json");
            }
            Err(e) => self.deferred_error = Some(format!("cannot encode the JSON body: {e}")),
        }
        self
    }

    /// The body as an HTML form, `application/x-www-form-urlencoded` (set as `Content-Type`,
    /// replacing any): `a=1&b=x+y`, names and values percent-encoded with `+` for space, in
    /// the order given. The method is not changed: use [`HttpRequest::post`].
    pub fn form<K: AsRef<str>, V: AsRef<str>>(mut self, fields: &[(K, V)]) -> Self {
        self = self.body(encode_pairs(fields));
        self.set_header("Content-Type", "application/x-www-form-urlencoded");
        self
    }

    /// Appends `pairs` to the URL's query, each name and value percent-encoded (`+` for
    /// space): `query(&[("q", "a b"), ("n", "1")])` on `http://h/s?x=1#top` gives
    /// `http://h/s?x=1&q=a+b&n=1#top`. The existing query is kept byte for byte.
    pub fn query<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> Self {
        if pairs.is_empty() {
            return self;
        }
        let (before, fragment) = match self.url.find('#') {
            Some(i) => self.url.split_at(i),
            None => (self.url.as_str(), ""),
        };
        let mut url = before.to_string();
        if !url.contains('?') {
            url.push('?');
        } else if !url.ends_with(['?', '&']) {
            url.push('&');
        }
        url.push_str(&encode_pairs(pairs));
        url.push_str(fragment);
        self.url = url;
        self
    }

    fn set_header(&mut self, name: &str, value: &str) {
        self.headers
            .get_or_insert_with(HttpHeaders::new)
            .set(name, value);
    }

    /// A body written while the request is sent: `f` gets a [`BodyWriter`] whose
    /// `write(..).await` waits while the socket is busy (flow control). The body is chunked
    /// unless the headers give a `Content-Length`. A one-shot body: a 307/308 redirect cannot
    /// replay it, so that 3xx is the answer.
    pub fn body_producer<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(BodyWriter) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = io::Result<()>> + 'static,
    {
        self.body_producer = Some(Arc::new(move |w| Box::pin(f(w))));
        self
    }

    /// The body read from `reader` while the request is sent, in pieces of up to 64 KiB:
    /// with `length` it is sent with that `Content-Length` (a reader that ends early, or has
    /// more, fails the fetch rather than send a body of another length); without it, chunked.
    ///
    /// The reader runs on the loop's thread. That suits [`HttpClient`](super::HttpClient),
    /// whose loop runs on the caller's thread during `fetch`: a file or a pipe is streamed with
    /// flat memory. On an [`AsyncHttpClient`](super::AsyncHttpClient) a reader that blocks
    /// stalls every fetch on the loop: use [`body_producer`](Self::body_producer) there. Like a
    /// body producer it is one-shot: a 307/308 redirect is the answer, not followed.
    pub fn body_reader(self, reader: impl io::Read + Send + 'static, length: Option<u64>) -> Self {
        let reader = Arc::new(Mutex::new(Some(reader)));
        let mut req = self.body_producer(move |mut w| {
            let taken = lock(&reader).take();
            async move {
                let Some(mut r) = taken else {
                    return Err(io::Error::other(
                        "body_reader: the reader was already consumed by an earlier attempt",
                    ));
                };
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = match r.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    };
                    w.write(&buf[..n]).await?;
                }
                match length {
                    Some(len) if w.written() != len => Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "body_reader ended after {} bytes, Content-Length is {len}",
                            w.written()
                        ),
                    )),
                    _ => Ok(()),
                }
            }
        });
        match length {
            Some(len) => req.set_header("Content-Length", &len.to_string()),
            None => {
                if let Some(h) = req.headers.as_mut() {
                    h.remove("Content-Length");
                }
            }
        }
        req
    }

    /// Basic auth credentials (userinfo in the URL wins).
    pub fn auth(mut self, user: &str, pass: &str) -> Self {
        self.auth_username = Some(user.to_string());
        self.auth_password = Some(pass.to_string());
        self
    }

    /// The auth mode: only `basic` is supported; any other fails the fetch.
    pub fn auth_mode(mut self, m: &str) -> Self {
        self.auth_mode = Some(m.to_string());
        self
    }

    /// Bound on DNS + TCP + TLS of each connection (default 20 s; zero means no limit).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = Some(d);
        self
    }

    /// One deadline from `fetch()` to the end of the body, redirects included (default 20 s;
    /// zero means no limit).
    pub fn request_timeout(mut self, d: Duration) -> Self {
        self.request_timeout = Some(d);
        self
    }

    /// The longest gap allowed between two received bytes (default: none).
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = Some(d);
        self
    }

    /// Sends `If-Modified-Since` with this time as an IMF-fixdate.
    pub fn if_modified_since(mut self, t: SystemTime) -> Self {
        self.if_modified_since = Some(t);
        self
    }

    /// Follow 301/302/303/307/308 (default true).
    pub fn follow_redirects(mut self, on: bool) -> Self {
        self.follow_redirects = Some(on);
        self
    }

    /// The most redirects to follow (default 5); a longer chain is an error.
    pub fn max_redirects(mut self, n: u32) -> Self {
        self.max_redirects = Some(n);
        self
    }

    /// The `User-Agent` (beats a `User-Agent` header).
    pub fn user_agent(mut self, ua: &str) -> Self {
        self.user_agent = Some(ua.to_string());
        self
    }

    /// Ask for gzip and decode it (default true). Without the `gzip` feature this option has
    /// no effect: no `Accept-Encoding` is sent and a coded body is handed over as received,
    /// with its `Content-Encoding` header, for the caller to decode.
    pub fn decompress_response(mut self, on: bool) -> Self {
        self.decompress_response = Some(on);
        self
    }

    /// The source IP address to connect from (an IP literal).
    pub fn network_interface(mut self, ip: &str) -> Self {
        self.network_interface = Some(ip.to_string());
        self
    }

    /// Called with each piece of the (decoded) body as it arrives; the body is then not
    /// buffered and `response.body` stays empty.
    pub fn streaming_callback(mut self, f: impl FnMut(&[u8]) + Send + 'static) -> Self {
        self.streaming_callback = Some(StreamSink::Sync(Arc::new(Mutex::new(f))));
        self
    }

    /// Like [`streaming_callback`](HttpRequest::streaming_callback), but async: each piece is
    /// handed over and nothing more is read from the socket until the returned future is done,
    /// so a slow consumer slows the transfer down (S-33). An `Err` fails the fetch.
    pub fn streaming_callback_async<F, Fut>(mut self, mut f: F) -> Self
    where
        F: FnMut(Vec<u8>) -> Fut + Send + 'static,
        Fut: Future<Output = io::Result<()>> + 'static,
    {
        let cb: AsyncDataCallback = Arc::new(Mutex::new(move |d: Vec<u8>| {
            Box::pin(f(d)) as Pin<Box<dyn Future<Output = io::Result<()>>>>
        }));
        self.streaming_callback = Some(StreamSink::Async(cb));
        self
    }

    /// Called with the status line, each header line and the blank line of the final
    /// response (and of its 1xx heads), each ending in CRLF.
    pub fn header_callback(mut self, f: impl FnMut(&str) + Send + 'static) -> Self {
        self.header_callback = Some(Arc::new(Mutex::new(f)));
        self
    }

    /// Called with the bytes of each request head sent (every hop): the
    /// [`Sent`](super::hops::HopEvent::Sent) event of
    /// [`hop_callback`](HttpRequest::hop_callback), reduced to the head.
    pub fn request_head_callback(mut self, f: impl FnMut(&[u8]) + Send + 'static) -> Self {
        self.request_head_callback = Some(Arc::new(Mutex::new(f)));
        self
    }

    /// Allow any token as method, and any body with any method (default false).
    pub fn allow_nonstandard_methods(mut self, on: bool) -> Self {
        self.allow_nonstandard_methods = Some(on);
        self
    }

    /// Verify the server's certificate chain and name (default true).
    pub fn validate_cert(mut self, on: bool) -> Self {
        self.validate_cert = Some(on);
        self
    }

    /// Trust the PEM roots in this file instead of the default roots.
    pub fn ca_certs(mut self, pem_path: impl Into<PathBuf>) -> Self {
        self.ca_certs = Some(pem_path.into());
        self
    }

    /// A client certificate chain (PEM) for mutual TLS.
    pub fn client_cert(mut self, p: impl Into<PathBuf>) -> Self {
        self.client_cert = Some(p.into());
        self
    }

    /// The client certificate's private key (PEM); default: read from the cert file.
    pub fn client_key(mut self, p: impl Into<PathBuf>) -> Self {
        self.client_key = Some(p.into());
        self
    }

    /// Trust the PEM roots in this file as well as the default ones (webpki-roots, or the
    /// system bundle with [`system_ca_certs`](Self::system_ca_certs)); `ca_certs` replaces
    /// them instead.
    pub fn extra_ca_certs(mut self, pem_path: impl Into<PathBuf>) -> Self {
        self.extra_ca_certs = Some(pem_path.into());
        self
    }

    /// Trust the system's CA bundle instead of webpki-roots (default false): the usual Linux
    /// and BSD files and folders (`/etc/ssl/certs/ca-certificates.crt`,
    /// `/etc/pki/tls/certs/ca-bundle.crt`, `/etc/ssl/cert.pem`, ...; see
    /// [`SYSTEM_CA_FILES`](crate::net::tls::SYSTEM_CA_FILES)). None found fails the fetch
    /// with a CA-file error naming the places searched.
    pub fn system_ca_certs(mut self, on: bool) -> Self {
        self.system_ca_certs = Some(on);
        self
    }

    /// Write the TLS session secrets to the file `SSLKEYLOGFILE` names (for Wireshark).
    /// Default false: the library never logs secrets on its own, whatever the environment
    /// says. For a whole client, set it in [`ClientBuilder::defaults`](super::ClientBuilder::defaults).
    pub fn tls_key_log(mut self, on: bool) -> Self {
        self.tls_key_log = Some(on);
        self
    }

    /// A complete rustls configuration; overrides the TLS options above. Feature `tls`.
    #[cfg(feature = "tls")]
    pub fn tls_config(mut self, c: Arc<rustls::ClientConfig>) -> Self {
        self.tls_config = Some(c);
        self
    }

    /// Send `Expect: 100-continue` and hold the body until the server's `100` (or ~1 s).
    pub fn expect_100_continue(mut self, on: bool) -> Self {
        self.expect_100_continue = Some(on);
        self
    }

    /// Allow IPv6 addresses (default true).
    pub fn allow_ipv6(mut self, on: bool) -> Self {
        self.allow_ipv6 = Some(on);
        self
    }

    /// Fail the fetch on a non-2xx status (default true).
    pub fn raise_error(mut self, on: bool) -> Self {
        self.raise_error = Some(on);
        self
    }

    /// The largest body accepted, counted after decompression (overrides the client's).
    pub fn max_body_size(mut self, n: u64) -> Self {
        self.max_body_size = Some(n);
        self
    }

    /// Send the request through the HTTP proxy at this host (R-39): http URLs as
    /// absolute-form requests to the proxy, https URLs through a `CONNECT` tunnel (the
    /// origin's certificate is still verified end to end). It wins over the client's proxy
    /// rules (from the environment or the builder, see [`proxy`](super::proxy)), and every
    /// redirect hop goes through it.
    pub fn proxy_host(mut self, host: &str) -> Self {
        self.proxy_host = Some(host.to_string());
        self
    }

    /// The proxy's port (default 80, Tornado's; a proxy URL without a port, from the
    /// environment or [`Proxy::parse`](super::Proxy::parse), gets curl's 1080).
    pub fn proxy_port(mut self, port: u16) -> Self {
        self.proxy_port = Some(port);
        self
    }

    /// Basic credentials for the proxy (`Proxy-Authorization`). A `Proxy-Authorization`
    /// header given with [`header`](HttpRequest::header) is for proxies too: it goes to a
    /// proxy that has no credentials of its own (until a redirect leaves the origin), and
    /// never to an origin, directly or through a tunnel.
    pub fn proxy_auth(mut self, user: &str, pass: &str) -> Self {
        self.proxy_username = Some(user.to_string());
        self.proxy_password = Some(pass.to_string());
        self
    }

    /// The proxy auth mode: only `basic`.
    pub fn proxy_auth_mode(mut self, m: &str) -> Self {
        self.proxy_auth_mode = Some(m.to_string());
        self
    }

    /// The URL as given.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The method (GET when unset).
    pub fn get_method(&self) -> &str {
        self.method.as_deref().unwrap_or("GET")
    }

    /// The headers given (empty when none).
    pub fn get_headers(&self) -> HttpHeaders {
        self.headers.clone().unwrap_or_default()
    }

    /// The body given, if any.
    pub fn get_body(&self) -> Option<&[u8]> {
        self.body.as_deref().map(|v| v.as_slice())
    }

    /// This request with unset fields taken from `defaults` (R-37). Headers merge by name:
    /// a default header is added only when the request has no header of that name.
    pub fn with_defaults(&self, defaults: &HttpRequest) -> HttpRequest {
        let d = defaults;
        let headers = match (&self.headers, &d.headers) {
            (Some(h), Some(dh)) => {
                let mut merged = h.clone();
                for (name, value) in dh.iter() {
                    if !h.contains(name) {
                        merged.add(name, value);
                    }
                }
                Some(merged)
            }
            (Some(h), None) => Some(h.clone()),
            (None, dh) => dh.clone(),
        };
        macro_rules! pick {
            ($f:ident) => {
                self.$f.clone().or_else(|| d.$f.clone())
            };
        }
        HttpRequest {
            url: self.url.clone(),
            method: pick!(method),
            headers,
            body: pick!(body),
            body_producer: pick!(body_producer),
            auth_username: pick!(auth_username),
            auth_password: pick!(auth_password),
            auth_mode: pick!(auth_mode),
            connect_timeout: pick!(connect_timeout),
            request_timeout: pick!(request_timeout),
            idle_timeout: pick!(idle_timeout),
            if_modified_since: pick!(if_modified_since),
            follow_redirects: pick!(follow_redirects),
            max_redirects: pick!(max_redirects),
            user_agent: pick!(user_agent),
            decompress_response: pick!(decompress_response),
            network_interface: pick!(network_interface),
            streaming_callback: pick!(streaming_callback),
            header_callback: pick!(header_callback),
            request_head_callback: pick!(request_head_callback),
            hop_callback: pick!(hop_callback),
            allow_nonstandard_methods: pick!(allow_nonstandard_methods),
            validate_cert: pick!(validate_cert),
            ca_certs: pick!(ca_certs),
            client_cert: pick!(client_cert),
            client_key: pick!(client_key),
            extra_ca_certs: pick!(extra_ca_certs),
            system_ca_certs: pick!(system_ca_certs),
            tls_key_log: pick!(tls_key_log),
            #[cfg(feature = "tls")]
            tls_config: pick!(tls_config),
            expect_100_continue: pick!(expect_100_continue),
            allow_ipv6: pick!(allow_ipv6),
            raise_error: pick!(raise_error),
            max_body_size: pick!(max_body_size),
            proxy_host: pick!(proxy_host),
            proxy_port: pick!(proxy_port),
            proxy_username: pick!(proxy_username),
            proxy_password: pick!(proxy_password),
            proxy_auth_mode: pick!(proxy_auth_mode),
            deferred_error: self.deferred_error.clone(),
        }
    }
}

/// The body of one hop.
#[derive(Clone)]
pub(crate) enum Body {
    None,
    Bytes(Arc<Vec<u8>>),
    Producer(ProducerFn),
}

/// A request with defaults applied and every rule checked: what the engine works from.
/// `url`, `method`, `headers` and `body` change from hop to hop as redirects are followed.
pub(crate) struct Prepared {
    pub url: Url,
    pub original_url: Url,
    pub method: String,
    /// The headers to send, in order, without `Host` (unless the caller gave one),
    /// `Content-Length` or `Transfer-Encoding` (the engine frames the body).
    pub headers: HttpHeaders,
    pub body: Body,
    /// `Content-Length` given by the caller for a body producer.
    pub producer_length: Option<u64>,
    pub connect_timeout: Option<Duration>,
    pub request_timeout: Option<Duration>,
    pub idle_timeout: Option<Duration>,
    pub follow_redirects: bool,
    pub max_redirects: u32,
    pub decompress: bool,
    pub bind: Option<IpAddr>,
    pub allow_ipv6: bool,
    pub expect_continue: bool,
    pub raise_error: bool,
    pub max_body_size: Option<u64>,
    /// TLS options (part of the pool key: `Hash + Eq`, a user config compared by pointer).
    pub tls: TlsSettings,
    pub streaming_callback: Option<StreamSink>,
    pub header_callback: Option<LineCallback>,
    pub request_head_callback: Option<DataCallback>,
    pub hop_callback: Option<HopCallback>,
    /// The caller asked for `Connection: close`: never pool the connection.
    pub conn_close: bool,
    /// Set once a hop left the original origin: credentials are gone for good (D-13).
    pub left_origin: bool,
    /// The HTTP proxy of the current hop, if any (chosen by `proxy_rules`).
    pub proxy: Option<Proxy>,
    /// How each hop picks its proxy: the request's own proxy, else its client's rules.
    pub proxy_rules: Option<Arc<ProxyRules>>,
    /// The caller's `Proxy-Authorization` header: taken out of `headers` so that it never
    /// reaches an origin; it goes to a proxy that has no credentials of its own.
    pub caller_proxy_auth: Option<String>,
    /// The fragment of the URL as given: never sent, but a redirect whose `Location` has none
    /// inherits it (RFC 9110 §10.2.2), for `effective_url`.
    pub fragment: Option<String>,
}

/// An HTTP proxy: where it is and what to tell it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Proxy {
    pub host: String,
    pub port: u16,
    /// The `Proxy-Authorization` value.
    pub auth: Option<String>,
}

const KNOWN_METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

fn nonzero(d: Duration) -> Option<Duration> {
    if d.is_zero() { None } else { Some(d) }
}

/// Checks every rule of `req` and resolves its options (defaults already merged in).
pub(crate) fn prepare(
    req: &HttpRequest,
    client_max_body: Option<u64>,
) -> Result<Prepared, HttpError> {
    if let Some(why) = &req.deferred_error {
        return Err(HttpError::invalid(why.clone()));
    }
    let url = Url::parse(&req.url).map_err(|e| {
        HttpError::new(
            ErrorKind::MalformedUrl,
            format!("Malformed URL {:?}: {e}", req.url),
        )
    })?;
    check_scheme(&url, &req.url)?;

    let allow_nonstandard = req.allow_nonstandard_methods.unwrap_or(false);
    let method = req.get_method().to_string();
    crate::http::request::validate_method(&method)
        .map_err(|e| HttpError::invalid(e.to_string()))?;
    if !allow_nonstandard && !KNOWN_METHODS.contains(&method.as_str()) {
        return Err(HttpError::invalid(format!("unknown method {method}")));
    }
    if req.body.is_some() && req.body_producer.is_some() {
        return Err(HttpError::invalid(
            "body and body_producer are mutually exclusive: give one",
        ));
    }
    let body_present = req.body.is_some() || req.body_producer.is_some();
    if !allow_nonstandard {
        let body_expected = matches!(method.as_str(), "POST" | "PUT" | "PATCH");
        if body_expected && !body_present {
            return Err(HttpError::invalid(format!(
                "Body must not be None for method {method} (unless allow_nonstandard_methods is true)"
            )));
        }
        if !body_expected && body_present {
            return Err(HttpError::invalid(format!(
                "Body must be None for method {method} (unless allow_nonstandard_methods is true)"
            )));
        }
    }

    let mut headers = req.headers.clone().unwrap_or_default();
    for (name, value) in headers.iter() {
        crate::http::request::validate_header(name, value)
            .map_err(|e| HttpError::invalid(e.to_string()))?;
    }

    // Framing is the engine's job: a body's length replaces any caller value (R-06); a
    // producer keeps a caller Content-Length (R-27), else it is chunked (R-26, R-31).
    let mut producer_length = None;
    if req.body_producer.is_some()
        && let Some(cl) = headers.get("Content-Length")
    {
        let cl = cl.trim();
        if cl.is_empty() || !cl.bytes().all(|b| b.is_ascii_digit()) {
            return Err(HttpError::invalid(format!("invalid Content-Length {cl:?}")));
        }
        producer_length = Some(
            cl.parse::<u64>()
                .map_err(|_| HttpError::invalid(format!("invalid Content-Length {cl:?}")))?,
        );
    }
    headers.remove("Content-Length");
    headers.remove("Transfer-Encoding");

    // R-11: the option, then the caller's header, then squall's default.
    if let Some(ua) = &req.user_agent {
        crate::http::request::validate_header("User-Agent", ua)
            .map_err(|e| HttpError::invalid(e.to_string()))?;
        headers.set("User-Agent", ua);
    } else if !headers.contains("User-Agent") {
        headers.add("User-Agent", DEFAULT_USER_AGENT);
    }

    // R-17: decompression on means exactly `Accept-Encoding: gzip`. Without the `gzip`
    // feature it is always off: nothing is asked for, and a coded body the server sends
    // anyway comes through as sent, its `Content-Encoding` intact (as curl without
    // `--compressed`), never decoded wrongly nor refused.
    let decompress = cfg!(feature = "gzip") && req.decompress_response.unwrap_or(true);
    if decompress {
        headers.set("Accept-Encoding", "gzip");
    }

    // R-07: a POST without Content-Type is a form post.
    if method == "POST" && !headers.contains("Content-Type") {
        headers.add("Content-Type", "application/x-www-form-urlencoded");
    }

    if let Some(t) = req.if_modified_since {
        headers.set("If-Modified-Since", &http_date(t));
    }

    // R-12..R-16: basic auth; the URL's (decoded) userinfo wins over the options.
    let (user, pass) = match url.username() {
        Some(u) if !u.is_empty() || url.password().is_some() => (Some(u), url.password()),
        _ => (req.auth_username.clone(), req.auth_password.clone()),
    };
    if let Some(user) = user {
        match req.auth_mode.as_deref() {
            None => {}
            Some(m) if m.eq_ignore_ascii_case("basic") => {}
            Some(m) => return Err(HttpError::invalid(format!("unsupported auth_mode {m}"))),
        }
        let creds = format!("{user}:{}", pass.unwrap_or_default());
        headers.set(
            "Authorization",
            &format!("Basic {}", base64(creds.as_bytes())),
        );
    }

    let bind = match &req.network_interface {
        None => None,
        Some(s) => Some(s.parse::<IpAddr>().map_err(|_| {
            HttpError::invalid(format!(
                "Unrecognized IPv4 or IPv6 address for network_interface, got '{s}'"
            ))
        })?),
    };

    // R-32: the body waits for the server's 100 (or about a second).
    let expect_continue = req.expect_100_continue.unwrap_or(false) && body_present;
    if expect_continue {
        headers.set("Expect", "100-continue");
    }

    let conn_close = headers
        .get_list("Connection")
        .iter()
        .any(|v| v.trim().eq_ignore_ascii_case("close"));

    let body = match (&req.body, &req.body_producer) {
        (Some(b), _) => Body::Bytes(b.clone()),
        (None, Some(p)) => Body::Producer(p.clone()),
        (None, None) => Body::None,
    };

    // Proxy-Authorization is for a proxy only (see `proxy::route`).
    let caller_proxy_auth = headers.get("Proxy-Authorization").map(str::to_string);
    headers.remove("Proxy-Authorization");

    // A request's own proxy: every hop goes through it, whatever the client's rules.
    let own_rules = match &req.proxy_host {
        None => None,
        Some(host) => {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            if host.is_empty()
                || host
                    .chars()
                    .any(|c| c.is_ascii_control() || c == ' ' || c == '/')
            {
                return Err(HttpError::invalid(format!("invalid proxy_host {host:?}")));
            }
            let mut proxy = super::proxy::Proxy::new(host, req.proxy_port.unwrap_or(80));
            match &req.proxy_username {
                None => {}
                Some(user) => {
                    match req.proxy_auth_mode.as_deref() {
                        None => {}
                        Some(m) if m.eq_ignore_ascii_case("basic") => {}
                        Some(m) => {
                            return Err(HttpError::invalid(format!(
                                "unsupported proxy_auth_mode {m}"
                            )));
                        }
                    }
                    proxy = proxy.with_auth(user, req.proxy_password.as_deref().unwrap_or(""));
                }
            }
            Some(Arc::new(ProxyRules::all(proxy)))
        }
    };

    let tls = TlsSettings {
        validate_cert: req.validate_cert.unwrap_or(true),
        ca_certs: req.ca_certs.clone(),
        client_cert: req.client_cert.clone(),
        client_key: req.client_key.clone(),
        extra_ca_certs: req.extra_ca_certs.clone(),
        system_roots: req.system_ca_certs.unwrap_or(false),
        key_log: req.tls_key_log.unwrap_or(false),
        #[cfg(feature = "tls")]
        config: req.tls_config.clone(),
    };

    let mut prepared = Prepared {
        original_url: url.clone(),
        url,
        method,
        headers,
        body,
        producer_length,
        connect_timeout: nonzero(req.connect_timeout.unwrap_or(DEFAULT_TIMEOUT)),
        request_timeout: nonzero(req.request_timeout.unwrap_or(DEFAULT_TIMEOUT)),
        idle_timeout: req.idle_timeout.and_then(nonzero),
        follow_redirects: req.follow_redirects.unwrap_or(true),
        max_redirects: req.max_redirects.unwrap_or(DEFAULT_MAX_REDIRECTS),
        decompress,
        bind,
        allow_ipv6: req.allow_ipv6.unwrap_or(true),
        expect_continue,
        raise_error: req.raise_error.unwrap_or(true),
        max_body_size: req.max_body_size.or(client_max_body),
        tls,
        streaming_callback: req.streaming_callback.clone(),
        header_callback: req.header_callback.clone(),
        request_head_callback: req.request_head_callback.clone(),
        hop_callback: req.hop_callback.clone(),
        conn_close,
        left_origin: false,
        proxy: None,
        proxy_rules: own_rules,
        caller_proxy_auth,
        fragment: req.url.split_once('#').map(|(_, f)| f.to_string()),
    };
    super::proxy::route(&mut prepared)?;
    Ok(prepared)
}

/// Why an `https` URL fails in a build without the `tls` feature.
pub(crate) const NO_TLS: &str =
    "https is not supported: squall was built without its `tls` feature";

/// R-01: only http and https (https only with the `tls` feature: without it, an https URL,
/// given or as a redirect's target, is an `UnsupportedScheme` error before any I/O).
pub(crate) fn check_scheme(url: &Url, as_given: &str) -> Result<(), HttpError> {
    match url.scheme() {
        "http" => Ok(()),
        "https" if cfg!(feature = "tls") => Ok(()),
        "https" => Err(HttpError::new(
            ErrorKind::UnsupportedScheme,
            format!("{NO_TLS}: {as_given}"),
        )),
        _ => Err(HttpError::new(
            ErrorKind::UnsupportedScheme,
            format!("Unsupported url scheme: {as_given}"),
        )),
    }
}

/// `a=1&b=x+y`: form encoding of name/value pairs (Tornado's `urlencode`).
fn encode_pairs<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&crate::escape::url_escape(k.as_ref()));
        out.push('=');
        out.push_str(&crate::escape::url_escape(v.as_ref()));
    }
    out
}

/// Standard base64 with padding (RFC 4648 §4), for `Authorization: Basic`.
pub fn base64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// An IMF-fixdate (RFC 9110 §5.6.7), e.g. `Sun, 27 Jan 2013 18:43:20 GMT`. Times before the
/// epoch are clamped to it.
pub fn http_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // 1970-01-01 was a Thursday.
    const WD: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let wd = WD[(days % 7) as usize];
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!(
        "{wd}, {d:02} {} {y:04} {h:02}:{m:02}:{s:02} GMT",
        MON[(mo - 1) as usize]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r12_basic_auth_encoding() {
        assert_eq!(
            base64(b"Aladdin:open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        // R-13 (squall: UTF-8 as given, no NFC).
        assert_eq!(base64("test:123£".as_bytes()), "dGVzdDoxMjPCow==");
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
    }

    #[test]
    fn r18_if_modified_since_is_imf_fixdate() {
        let t = UNIX_EPOCH + Duration::from_secs(1_359_312_200);
        assert_eq!(http_date(t), "Sun, 27 Jan 2013 18:43:20 GMT");
        assert_eq!(http_date(UNIX_EPOCH), "Thu, 01 Jan 1970 00:00:00 GMT");
        // A leap day and the year 2000.
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(http_date(t), "Tue, 29 Feb 2000 00:00:00 GMT");
        let t = UNIX_EPOCH + Duration::from_secs(4_102_444_799);
        assert_eq!(http_date(t), "Thu, 31 Dec 2099 23:59:59 GMT");
    }

    #[test]
    fn r11_default_user_agent_names_squall() {
        assert!(DEFAULT_USER_AGENT.starts_with("squall/"));
    }

    fn prep(r: HttpRequest) -> Result<Prepared, HttpError> {
        prepare(&r, None)
    }

    #[test]
    fn r37_defaults_fill_unset_fields_only() {
        let d = HttpRequest::defaults()
            .user_agent("d")
            .request_timeout(Duration::from_secs(3))
            .header("X-A", "d")
            .header("X-B", "d");
        let r = HttpRequest::new("http://h/")
            .header("X-A", "r")
            .follow_redirects(false)
            .with_defaults(&d);
        assert_eq!(r.user_agent.as_deref(), Some("d"));
        assert_eq!(r.request_timeout, Some(Duration::from_secs(3)));
        assert_eq!(r.follow_redirects, Some(false));
        let h = r.headers.unwrap();
        assert_eq!(h.get_all("X-A").collect::<Vec<_>>(), vec!["r"]);
        assert_eq!(h.get("X-B"), Some("d"));
    }

    #[test]
    fn section1_defaults() {
        let p = prep(HttpRequest::new("http://h/")).unwrap();
        assert_eq!(p.method, "GET");
        assert_eq!(p.connect_timeout, Some(Duration::from_secs(20)));
        assert_eq!(p.request_timeout, Some(Duration::from_secs(20)));
        assert_eq!(p.idle_timeout, None);
        assert!(p.follow_redirects);
        assert_eq!(p.max_redirects, 5);
        assert_eq!(p.decompress, cfg!(feature = "gzip"));
        assert!(p.allow_ipv6);
        assert!(p.raise_error);
        assert!(!p.expect_continue);
        assert!(p.tls.validate_cert);
        let accept = if cfg!(feature = "gzip") {
            Some("gzip")
        } else {
            None
        };
        assert_eq!(p.headers.get("Accept-Encoding"), accept);
        assert_eq!(p.headers.get("User-Agent"), Some(DEFAULT_USER_AGENT));
        assert_eq!(p.headers.get("Connection"), None);
        let p = prep(HttpRequest::new("http://h/").connect_timeout(Duration::ZERO)).unwrap();
        assert_eq!(p.connect_timeout, None);
    }

    #[test]
    fn validation_errors_are_invalid_request() {
        let kind = |r: HttpRequest| prep(r).err().map(|e| e.kind().clone());
        assert_eq!(
            kind(HttpRequest::new("http://h/").method("POST")),
            Some(ErrorKind::InvalidRequest)
        );
        assert_eq!(
            kind(HttpRequest::new("http://h/").method("get")),
            Some(ErrorKind::InvalidRequest)
        );
        assert_eq!(
            kind(HttpRequest::new("http://h/").header("A", "b\r\nc")),
            Some(ErrorKind::InvalidRequest)
        );
        assert_eq!(
            kind(HttpRequest::new("http://h/").user_agent("x\ny")),
            Some(ErrorKind::InvalidRequest)
        );
        assert_eq!(
            kind(HttpRequest::new("ftp://h/")),
            Some(ErrorKind::UnsupportedScheme)
        );
        assert_eq!(
            kind(HttpRequest::new("http://h:99999/")),
            Some(ErrorKind::MalformedUrl)
        );
        assert_eq!(
            kind(
                HttpRequest::new("http://h/")
                    .method("POST")
                    .header("Content-Length", "x")
                    .body_producer(|_w| async { Ok(()) })
            ),
            Some(ErrorKind::InvalidRequest)
        );
        // auth_mode is only checked when there are credentials (as Tornado).
        assert!(prep(HttpRequest::new("http://h/").auth_mode("digest")).is_ok());
    }

    #[test]
    fn r14_userinfo_beats_auth_options() {
        let p = prep(HttpRequest::new("http://a%3Ab:c@h/").auth("x", "y")).unwrap();
        assert_eq!(
            p.headers.get("Authorization"),
            Some(format!("Basic {}", base64(b"a:b:c")).as_str())
        );
        let p = prep(HttpRequest::new("http://h/").auth("x", "")).unwrap();
        assert_eq!(
            p.headers.get("Authorization"),
            Some(format!("Basic {}", base64(b"x:")).as_str())
        );
    }
}
