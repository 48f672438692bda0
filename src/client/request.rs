//! What to fetch, and how: [`HttpRequest`], Tornado's `HTTPRequest` as a builder.
//!
//! Every option is an `Option` inside, because "unset" matters: a client's `defaults` fill
//! only the fields a request left unset (R-37), and only then do Tornado's built-in defaults
//! apply (20 s timeouts, follow up to 5 redirects, decompress, `squall/<version>`).
//!
//! Nothing here checks or touches the network: the builder records what the caller asked
//! for. `client/prepare.rs` turns a request (plus the client's defaults) into the form a
//! fetch works from, and checks every rule first — scheme, method, body, headers, auth mode,
//! source address — so a bad request fails with [`ErrorKind::InvalidRequest`] before any
//! DNS lookup or connect.
//!
//! [`ErrorKind::InvalidRequest`]: super::ErrorKind::InvalidRequest

use std::fmt;
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use super::hops::HopCallback;
use super::writer::BodyWriter;
use crate::escape::form_encode;
use crate::http::headers::HttpHeaders;
use crate::http::url::{REDACTED, redact_userinfo};

/// The formats of `Authorization: Basic` and `If-Modified-Since`, kept at their old paths
/// (`squall::client::request::base64`); they live in [`crate::http::fields`].
pub use crate::http::fields::{base64, http_date};

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
        self = self.body(form_encode(fields));
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
        url.push_str(&form_encode(pairs));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r11_default_user_agent_names_squall() {
        assert!(DEFAULT_USER_AGENT.starts_with("squall/"));
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
}
