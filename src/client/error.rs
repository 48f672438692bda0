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
//! [`TlsError`](crate::net::tls::TlsError) (whose own source is rustls' error), the
//! [`ProtoError`](crate::http::ProtoError) of a malformed reply, the
//! [`DecodeError`](crate::http::decode::DecodeError) of a bad gzip body, serde_json's error.

use std::error::Error;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::proxy::ProxyErrorKind;
use super::response::{HttpResponse, TimeInfo};
use crate::http::response::ProtoErrorKind;
use crate::net::tls::TlsErrorKind;

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
}
