//! Why a fetch failed.
//!
//! Tornado has one exception type, `HTTPClientError`, with a `code` (599 when no response
//! arrived), a `message` and an optional `response`. squall keeps that shape and adds a
//! [`ErrorKind`] so a caller (the CLI, for one) can tell a refused connection from a timeout,
//! or a server that sent 599 from a client-side failure, without parsing messages.
//!
//! Display follows Tornado: a status error reads `HTTP 404: Not Found`; every other error reads
//! as its bare message (`Timeout during request`, `Stream closed`), and names what failed: the
//! host, the addresses, the phase.
//!
//! The error is `Send + Sync + 'static`, so it crosses threads and converts into
//! `Box<dyn Error + Send + Sync>` or `anyhow::Error`. [`std::error::Error::source`] gives the
//! underlying cause when there is one: the `io::Error` of a reset or a failed connect, the
//! [`TlsError`] (whose own source is rustls' error), the
//! [`ProtoError`] of a malformed reply, the
//! [`DecodeError`](crate::http::decode::DecodeError) of a bad gzip body, serde_json's error.
//!
//! The second half of this file is the one map from those causes into `HttpError`: the rest
//! of the client says what failed (a read, a write, a parse, a lookup, a connect, a
//! handshake, a tunnel) and this file chooses the kind, the message and the source.

use std::error::Error;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::proxy::ProxyErrorKind;
use super::response::{HttpResponse, TimeInfo};
use crate::http::response::{ProtoError, ProtoErrorKind};
use crate::net::connect::ConnectError;
use crate::net::tls::{TlsError, TlsErrorKind};

/// The code of an error that has no HTTP response behind it (Tornado's convention).
pub const NO_RESPONSE_CODE: u16 = 599;

/// Where a deadline ran out. More phases may come: match with a `_` arm.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutPhase {
    /// Waiting for a `max_clients` slot: `Timeout in request queue`.
    Queue,
    /// Resolving the host name: `Timeout while resolving <host>`.
    Resolve,
    /// TCP connect (every address attempted): `Timeout while connecting to <addrs>`.
    Connect,
    /// The TLS handshake: `Timeout during TLS handshake with <addr>`.
    TlsHandshake,
    /// Sending the request or receiving the response: `Timeout during request`.
    Request,
    /// No byte arrived within `idle_timeout`.
    Idle,
}

/// What kind of failure an [`HttpError`] is. The CLI maps each kind to a curl exit code.
/// More kinds may come: match with a `_` arm.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The server answered with a non-2xx status (and `raise_error` was on); `code()` is the
    /// status and `response()` the response.
    Http,
    /// The request breaks a rule (method, body, header, auth mode, ...); raised before any I/O.
    InvalidRequest,
    /// The URL does not parse.
    MalformedUrl,
    /// The URL (or a redirect's `Location`) is not http or https, or is https in a build
    /// without the `tls` feature.
    UnsupportedScheme,
    /// A deadline ran out; the phase says which.
    Timeout(TimeoutPhase),
    /// The host name could not be resolved.
    Dns,
    /// Every address refused or was unreachable.
    Connect,
    /// TLS failed: handshake, certificate verification, or the certificate files.
    Tls(TlsErrorKind),
    /// The server's reply is malformed or breaks a limit of the protocol core.
    Protocol(ProtoErrorKind),
    /// The connection closed before any byte of the response (`Stream closed`).
    ClosedBeforeResponse,
    /// The connection closed in the middle of the response (`Connection closed`).
    ClosedMidBody,
    /// The connection was reset, or a read or write failed.
    Reset,
    /// The body is larger than `max_body_size` (counted after decompression), or than the
    /// memory the process could get for it.
    BodyTooLarge,
    /// The body's Content-Encoding could not be decoded.
    Decompression,
    /// A redirect chain needed more than `max_redirects` hops; `response()` is the last 3xx.
    TooManyRedirects,
    /// A callback (streaming, async streaming, header, request head) or a body producer
    /// panicked, or one of the async ones returned an error.
    Callback,
    /// The client was closed (before or during the fetch).
    ClientClosed,
    /// The proxy failed: its URL, its name, the connection to it, or its `CONNECT` tunnel.
    Proxy(ProxyErrorKind),
    /// `text()` or `json()` could not decode the body (charset, bad bytes, bad JSON).
    Decode,
}

/// A failed fetch: a kind, a code (the status, or 599), a message, maybe a response and maybe
/// an underlying cause ([`source`](std::error::Error::source)).
#[derive(Clone, Debug)]
pub struct HttpError {
    kind: ErrorKind,
    code: u16,
    message: String,
    response: Option<Box<HttpResponse>>,
    request_time: Option<Duration>,
    time_info: Option<Box<TimeInfo>>,
    /// Shared, so the error stays `Clone` (an `io::Error` is not).
    source: Option<Arc<dyn Error + Send + Sync + 'static>>,
}

impl HttpError {
    /// An error without a response (`code()` 599). A URL password quoted in `message` is
    /// replaced by `<redacted>` (errors get logged).
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> HttpError {
        let message: String = message.into();
        let message = match crate::http::url::redact_userinfo(&message) {
            std::borrow::Cow::Borrowed(_) => message,
            std::borrow::Cow::Owned(safe) => safe,
        };
        HttpError {
            kind,
            code: NO_RESPONSE_CODE,
            message,
            response: None,
            request_time: None,
            time_info: None,
            source: None,
        }
    }

    /// A status error (`HTTP <code>: <reason>`), carrying the response when there is one.
    pub fn http(code: u16, reason: &str, response: Option<HttpResponse>) -> HttpError {
        HttpError {
            kind: ErrorKind::Http,
            code,
            message: reason.to_string(),
            response: response.map(Box::new),
            request_time: None,
            time_info: None,
            source: None,
        }
    }

    /// The same error with `cause` as its [`source`](std::error::Error::source).
    pub fn with_source(mut self, cause: impl Error + Send + Sync + 'static) -> HttpError {
        self.source = Some(Arc::new(cause));
        self
    }

    /// The kind of failure.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The HTTP status, or 599 when no response came.
    pub fn code(&self) -> u16 {
        self.code
    }

    /// The response behind the error, if any (status errors, too many redirects).
    pub fn response(&self) -> Option<&HttpResponse> {
        self.response.as_deref()
    }

    /// Takes the response out of the error.
    pub fn into_response(self) -> Option<HttpResponse> {
        self.response.map(|b| *b)
    }

    /// The message: the reason phrase for status errors, the whole text otherwise.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// From `fetch()` to the failure (E-15): every error a fetch returns has it, with or
    /// without a response.
    pub fn request_time(&self) -> Option<Duration> {
        self.request_time
            .or_else(|| self.response.as_ref().map(|r| r.request_time))
    }

    /// Where the time went up to the failure (E-15): the phases reached (`queue`, `dns`,
    /// `connect`, `tls`) and `total` (from `fetch()` to the failure, as
    /// [`request_time`](Self::request_time)). For an
    /// error without a response `first_byte` is zero. Every error a fetch returns has it.
    pub fn time_info(&self) -> Option<TimeInfo> {
        self.time_info
            .as_deref()
            .copied()
            .or_else(|| self.response.as_ref().map(|r| r.time_info))
    }

    pub(crate) fn set_time_info(&mut self, t: TimeInfo) {
        if self.time_info.is_none() && self.response.is_none() {
            self.time_info = Some(Box::new(t));
        }
    }

    pub(crate) fn set_request_time(&mut self, d: Duration) {
        // An error with a response reports the response's figures (one answer, not two).
        if self.request_time.is_none() && self.response.is_none() {
            self.request_time = Some(d);
        }
    }

    /// Whether this is a timeout (any phase).
    pub fn is_timeout(&self) -> bool {
        matches!(self.kind, ErrorKind::Timeout(_))
    }

    pub(crate) fn with_response(mut self, response: Box<HttpResponse>) -> HttpError {
        self.code = response.code;
        self.response = Some(response);
        self
    }

    pub(crate) fn response_mut(&mut self) -> Option<&mut HttpResponse> {
        self.response.as_deref_mut()
    }

    pub(crate) fn invalid(message: impl Into<String>) -> HttpError {
        HttpError::new(ErrorKind::InvalidRequest, message)
    }

    pub(crate) fn closed() -> HttpError {
        HttpError::new(
            ErrorKind::ClientClosed,
            "AsyncHttpClient was closed during fetch()",
        )
    }

    pub(crate) fn timeout(phase: TimeoutPhase, message: impl Into<String>) -> HttpError {
        HttpError::new(ErrorKind::Timeout(phase), message)
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ErrorKind::Http => write!(f, "HTTP {}: {}", self.code, self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl Error for HttpError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

// ---------------------------------------------------------------------------------------------
// The one map from the layers below into `HttpError`: protocol (`ProtoError`), TLS
// (`TlsError`), decoding (`DecodeError`), name resolution, connect and socket I/O. The client's
// other files say what failed and hand the cause over; the kind, the words and the source of
// the error are chosen here, so a reader (or a test of a message) finds them in one place.
// ---------------------------------------------------------------------------------------------

/// A read or write on the connection failed. `before_response`: no response byte had arrived
/// yet (the server may have closed an idle connection as we sent: the fetch may retry).
/// `writing`: it happened while sending the request.
pub(crate) fn io_error(
    e: io::Error,
    before_response: bool,
    writing: bool,
    peer: SocketAddr,
) -> HttpError {
    if let Some(t) = TlsError::from_io_error(&e) {
        return match t.kind() {
            TlsErrorKind::Truncated if before_response => HttpError::new(
                ErrorKind::ClosedBeforeResponse,
                format!("Stream closed: {t}"),
            ),
            TlsErrorKind::Truncated => {
                HttpError::new(ErrorKind::ClosedMidBody, format!("Connection closed: {t}"))
            }
            k => HttpError::new(ErrorKind::Tls(k.clone()), t.to_string()),
        }
        .with_source(t.clone());
    }
    match e.kind() {
        io::ErrorKind::UnexpectedEof if before_response => stream_closed(),
        io::ErrorKind::UnexpectedEof => {
            HttpError::new(ErrorKind::ClosedMidBody, format!("Connection closed: {e}"))
        }
        _ => {
            let what = if writing {
                "sending the request"
            } else {
                "receiving the response"
            };
            HttpError::new(ErrorKind::Reset, format!("{e} while {what} (peer {peer})"))
        }
    }
    .with_source(e)
}

/// The connection closed before any byte of the response: `Stream closed`.
pub(crate) fn stream_closed() -> HttpError {
    HttpError::new(ErrorKind::ClosedBeforeResponse, "Stream closed")
}

/// The connection closed after the response began, where the parser had nothing to say.
pub(crate) fn connection_closed() -> HttpError {
    HttpError::new(ErrorKind::ClosedMidBody, "Connection closed")
}

/// The reply broke the protocol or one of its limits.
pub(crate) fn proto_error(e: ProtoError) -> HttpError {
    match e.kind {
        ProtoErrorKind::BodyTooLarge => HttpError::new(ErrorKind::BodyTooLarge, e.to_string()),
        ProtoErrorKind::Incomplete => {
            HttpError::new(ErrorKind::ClosedMidBody, format!("Connection closed: {e}"))
        }
        kind => HttpError::new(ErrorKind::Protocol(kind), e.to_string()),
    }
    .with_source(e)
}

/// The read buffer reached its largest size and still holds no whole head.
pub(crate) fn head_too_large() -> HttpError {
    HttpError::new(
        ErrorKind::Protocol(ProtoErrorKind::HeadTooLarge),
        "response head too large",
    )
}

/// `idle_timeout` (`d`) ran out with no byte received from `peer`.
pub(crate) fn idle_timeout(d: Duration, peer: SocketAddr) -> HttpError {
    HttpError::timeout(
        TimeoutPhase::Idle,
        format!("Idle timeout: no data received for {d:?} (peer {peer})"),
    )
}

/// A request the protocol core refuses to write (a method, header or body it cannot put on
/// the wire), as an [`ErrorKind::InvalidRequest`]: found by `prepare` before any I/O, or by
/// `write_head` for a head built later (a redirect's, a CONNECT's).
pub(crate) fn request_error(e: crate::http::request::RequestError) -> HttpError {
    HttpError::invalid(e.to_string())
}

/// The body's Content-Encoding could not be decoded, or decoded past `max_body_size`.
#[cfg(feature = "gzip")]
pub(crate) fn decode_error(e: crate::http::decode::DecodeError) -> HttpError {
    let kind = if e.is_too_large() {
        ErrorKind::BodyTooLarge
    } else {
        ErrorKind::Decompression
    };
    HttpError::new(kind, e.to_string()).with_source(e)
}

/// The TLS configuration could not be built (the CA file, the client certificate...).
#[cfg(feature = "tls")]
pub(crate) fn tls_config_error(e: TlsError) -> HttpError {
    HttpError::new(ErrorKind::Tls(e.kind.clone()), e.to_string()).with_source(e)
}

/// The TLS handshake with `host` at `peer` failed.
#[cfg(feature = "tls")]
pub(crate) fn tls_handshake_error(e: TlsError, host: &str, peer: SocketAddr) -> HttpError {
    HttpError::new(
        ErrorKind::Tls(e.kind.clone()),
        format!("{e} ({host}, {peer})"),
    )
    .with_source(e)
}

/// The resolver failed for `host` (the origin's name, or the proxy's when `via_proxy`).
pub(crate) fn resolve_error(e: io::Error, host: &str, via_proxy: bool) -> HttpError {
    if e.kind() == io::ErrorKind::TimedOut {
        // The resolver's own retries ran out (its text names the name and servers).
        HttpError::timeout(TimeoutPhase::Resolve, e.to_string()).with_source(e)
    } else {
        not_resolved(host, via_proxy, &e.to_string()).with_source(e)
    }
}

/// `host` gave no address to try (`allow_ipv6` off can leave none). `ip_literal`: the host
/// (after hostname mapping) is an address, so nothing was looked up.
pub(crate) fn no_addresses(
    host: &str,
    via_proxy: bool,
    ip_literal: bool,
    allow_ipv6: bool,
) -> HttpError {
    let why = if allow_ipv6 {
        "no addresses"
    } else {
        "no IPv4 address (allow_ipv6 is off)"
    };
    if ip_literal {
        let what = if via_proxy { "proxy" } else { "host" };
        return HttpError::new(
            connect_kind(via_proxy),
            format!("Could not resolve {what} {host}: {why}"),
        );
    }
    not_resolved(host, via_proxy, why)
}

/// A failed lookup of `host`: the origin's (curl's exit 6) or the proxy's (5).
fn not_resolved(host: &str, via_proxy: bool, why: &str) -> HttpError {
    if via_proxy {
        HttpError::new(
            ErrorKind::Proxy(ProxyErrorKind::Resolve),
            format!("Could not resolve proxy {host}: {why}"),
        )
    } else {
        HttpError::new(
            ErrorKind::Dns,
            format!("Could not resolve host {host}: {why}"),
        )
    }
}

/// Every address of `host:port` refused or was unreachable. The error names every address
/// tried; `named` adds the host name (not when the URL gave the address itself).
pub(crate) fn connect_error(
    e: ConnectError,
    host: &str,
    port: u16,
    via_proxy: bool,
    named: bool,
) -> HttpError {
    let msg = if via_proxy {
        format!("proxy {}: {e}", host_port(host, port))
    } else if named {
        format!("{host}: {e}")
    } else {
        e.to_string()
    };
    HttpError::new(connect_kind(via_proxy), msg).with_source(e)
}

/// A refused or unreachable connection: to the origin, or to the proxy (curl's 7 either way).
fn connect_kind(via_proxy: bool) -> ErrorKind {
    if via_proxy {
        ErrorKind::Proxy(ProxyErrorKind::Connect)
    } else {
        ErrorKind::Connect
    }
}

/// The proxy `proxy` (`host:port`) did not open a `CONNECT` tunnel to `authority`: `status`
/// is what it answered, if it answered; `why` says what happened.
pub(crate) fn tunnel_error(
    proxy: &str,
    authority: &str,
    status: Option<u16>,
    why: &str,
) -> HttpError {
    HttpError::new(
        ErrorKind::Proxy(ProxyErrorKind::Tunnel { status }),
        format!("proxy {proxy} could not open a tunnel to {authority}: {why}"),
    )
}

/// `host:port`, with an IPv6 host in brackets.
pub(crate) fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e01_status_error_displays_like_tornado() {
        let e = HttpError::http(404, "Not Found", None);
        assert_eq!(e.to_string(), "HTTP 404: Not Found");
        assert_eq!(e.code(), 404);
        assert_eq!(e.message(), "Not Found");
        assert_eq!(e.kind(), &ErrorKind::Http);
        let c = e.clone();
        assert_eq!(c.to_string(), e.to_string());
    }

    #[test]
    fn e02_transport_errors_display_bare_with_599() {
        let e = HttpError::timeout(TimeoutPhase::Request, "Timeout during request");
        assert_eq!(e.to_string(), "Timeout during request");
        assert_eq!(e.code(), 599);
        assert!(e.response().is_none());
        assert!(e.is_timeout());
    }

    #[test]
    fn socket_failures_map_by_when_they_happen() {
        let peer: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let eof = || io::Error::from(io::ErrorKind::UnexpectedEof);
        let e = io_error(eof(), true, false, peer);
        assert_eq!(
            (e.kind(), e.to_string().as_str()),
            (&ErrorKind::ClosedBeforeResponse, "Stream closed")
        );
        let e = io_error(eof(), false, false, peer);
        assert_eq!(e.kind(), &ErrorKind::ClosedMidBody);
        assert!(e.to_string().starts_with("Connection closed: "), "{e}");
        let reset = io::Error::new(io::ErrorKind::ConnectionReset, "reset");
        let e = io_error(reset, true, true, peer);
        assert_eq!(e.kind(), &ErrorKind::Reset);
        assert_eq!(
            e.to_string(),
            "reset while sending the request (peer 127.0.0.1:8080)"
        );
        assert!(e.source().is_some());
    }

    #[test]
    fn protocol_failures_keep_their_kind_except_length_and_truncation() {
        let e = proto_error(ProtoError::new(
            ProtoErrorKind::Incomplete,
            "body incomplete".into(),
        ));
        assert_eq!(e.kind(), &ErrorKind::ClosedMidBody);
        assert_eq!(e.to_string(), "Connection closed: body incomplete");
        let e = proto_error(ProtoError::new(
            ProtoErrorKind::BodyTooLarge,
            "too long".into(),
        ));
        assert_eq!(e.kind(), &ErrorKind::BodyTooLarge);
        let e = proto_error(ProtoError::new(ProtoErrorKind::Malformed, "bad".into()));
        assert_eq!(e.kind(), &ErrorKind::Protocol(ProtoErrorKind::Malformed));
        assert_eq!(e.to_string(), "bad");
    }

    #[test]
    fn lookup_and_connect_failures_name_the_origin_or_the_proxy() {
        let e = no_addresses("example.test", false, false, true);
        assert_eq!(e.kind(), &ErrorKind::Dns);
        assert_eq!(
            e.to_string(),
            "Could not resolve host example.test: no addresses"
        );
        let e = no_addresses("proxy.test", true, false, false);
        assert_eq!(e.kind(), &ErrorKind::Proxy(ProxyErrorKind::Resolve));
        assert_eq!(
            e.to_string(),
            "Could not resolve proxy proxy.test: no IPv4 address (allow_ipv6 is off)"
        );
        let e = no_addresses("::1", false, true, false);
        assert_eq!(e.kind(), &ErrorKind::Connect);
        let e = tunnel_error("[::1]:3128", "example.test:443", Some(403), "denied");
        assert_eq!(
            e.kind(),
            &ErrorKind::Proxy(ProxyErrorKind::Tunnel { status: Some(403) })
        );
        assert_eq!(
            e.to_string(),
            "proxy [::1]:3128 could not open a tunnel to example.test:443: denied"
        );
        assert_eq!(host_port("::1", 3128), "[::1]:3128");
        assert_eq!(host_port("proxy.test", 3128), "proxy.test:3128");
    }
}
