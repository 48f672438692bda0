//! What came back: [`HttpResponse`] (Tornado's `HTTPResponse`), the [`ResponseMeta`] it shares
//! with [`StreamingResponse`](super::StreamingResponse), and its [`TimeInfo`].
//!
//! The body is bytes (`Vec<u8>`, empty rather than absent). `text()` decodes it with the
//! charset the `Content-Type` names — UTF-8 when it names none, US-ASCII and ISO-8859-1 as
//! well — and refuses any other charset or bytes that are not valid in it, rather than guess
//! or substitute U+FFFD: a caller that wants lossy text can take `body` itself.
//!
//! # One metadata struct, read as Tornado's fields
//!
//! A buffered and a streaming response say the same things about themselves: status, reason,
//! version, headers, effective URL, the redirects followed and each hop ([`super::hops`]).
//! Those live once, in [`ResponseMeta`], built in one place (`ResponseMeta::new`) and held by
//! both responses as their `meta` field. Both dereference to it, so the Tornado shape reads as
//! before: `response.code`, `response.headers`, `response.history`, next to the response's own
//! `response.body`. Three ways were weighed:
//!
//! - accessors (`response.code()`) would break every user's and every test's `response.code`,
//!   the shape Tornado users come for;
//! - a public field alone (`response.meta.code`) would break it the same way;
//! - `Deref`/`DerefMut` to the shared struct keeps it, for reading, writing and method calls
//!   (`response.headers.get(..)`, `response.num_redirects()`). Its costs are known and small:
//!   a field cannot be moved out through `Deref` (move it out of `response.meta` instead, which
//!   stays public for that: `let ResponseMeta { headers, .. } = response.meta;`), and rustdoc
//!   lists the shared fields under `ResponseMeta`, which the responses' docs point to.
//!
//! So: `Deref` to a public `meta` field. The API guidelines keep `Deref` for smart pointers;
//! here it is the one choice that keeps the published field syntax while the fields exist
//! once, and nothing but the metadata is reached through it.

use std::net::SocketAddr;
use std::ops::{Deref, DerefMut};
use std::time::{Duration, SystemTime};

#[cfg(feature = "json")]
use serde::de::DeserializeOwned;

use super::error::{ErrorKind, HttpError};
use super::hops::Hop;
use super::request::HttpRequest;
use crate::http::headers::HttpHeaders;
use crate::http::response::{ResponseHead, Version};

/// Where the time of a fetch went. Every figure is measured from `fetch()` except the
/// phases (`queue`, `dns`, `connect`, `tls`), which are durations; all lie in
/// `[0, request_time]`. A reused connection has zero `dns`, `connect` and `tls`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeInfo {
    /// Waiting for a `max_clients` slot.
    pub queue: Duration,
    /// Resolving host names (all hops).
    pub dns: Duration,
    /// TCP connects (all hops).
    pub connect: Duration,
    /// TLS handshakes (all hops).
    pub tls: Duration,
    /// From `fetch()` to the first byte of the final response.
    pub first_byte: Duration,
    /// From `fetch()` to the end.
    pub total: Duration,
}

/// What a response says about itself: the part [`HttpResponse`] and
/// [`StreamingResponse`](super::StreamingResponse) share (both dereference to it, so
/// `response.code` reads as in Tornado; see the [module docs](self) for why).
///
/// `Debug` is safe to log: URL passwords are `<redacted>`, and so are header credentials (see
/// [`HttpHeaders`]'s `Debug`); request heads in `hops` are shown by their length only.
#[derive(Clone)]
pub struct ResponseMeta {
    /// The status code.
    pub code: u16,
    /// The reason phrase (the standard one when the server sent none).
    pub reason: String,
    /// HTTP/1.0 or HTTP/1.1.
    pub version: Version,
    /// The response headers. After gzip decoding, `Content-Encoding` is replaced by
    /// `X-Consumed-Content-Encoding`, and `Content-Length` still gives the wire size. (The
    /// head as read, before that, is the last hop's `response`.)
    pub headers: HttpHeaders,
    /// The URL of the final response (after redirects).
    pub effective_url: String,
    /// The heads of the 3xx responses that were followed, in order.
    pub history: Vec<ResponseHead>,
    /// Every request written and the heads read back, in order: the first request, each
    /// redirect followed, each retry (see [`Hop`]). The last is the final response's.
    pub hops: Vec<Hop>,
}

impl std::fmt::Debug for ResponseMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseMeta")
            .field("code", &self.code)
            .field("reason", &self.reason)
            .field("version", &self.version)
            .field("headers", &self.headers)
            .field(
                "effective_url",
                &crate::http::url::redact_userinfo(&self.effective_url),
            )
            .field("history", &self.history)
            .field("hops", &self.hops)
            .finish()
    }
}

impl ResponseMeta {
    /// The metadata of a final `head` reached at `effective_url`, after `history` and `hops`.
    pub(crate) fn new(
        head: ResponseHead,
        effective_url: String,
        history: Vec<ResponseHead>,
        hops: Vec<Hop>,
    ) -> ResponseMeta {
        ResponseMeta {
            code: head.code,
            reason: head.reason,
            version: head.version,
            headers: head.headers,
            effective_url,
            history,
            hops,
        }
    }

    /// The address the final response came from (the server's, or the HTTP proxy's when the
    /// request went through one): curl's `%{remote_ip}` and `%{remote_port}`.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.hops.last().map(|h| h.peer)
    }

    /// How many redirects were followed.
    pub fn num_redirects(&self) -> usize {
        self.history.len()
    }

    /// The `Content-Type` header, if any.
    pub fn content_type(&self) -> Option<&str> {
        self.headers.get("Content-Type")
    }
}

/// A complete response.
///
/// The status, headers, URL, redirects and hops are in [`meta`](HttpResponse::meta) and read
/// through it as fields of the response: `response.code`, `response.headers` (see
/// [`ResponseMeta`]).
///
/// `Debug` is safe to log: header credentials and URL passwords are `<redacted>` (see
/// [`HttpRequest`]'s), and the body is shown by its length only.
#[derive(Clone)]
pub struct HttpResponse {
    /// Status, reason, version, headers, effective URL, history, hops: also reachable as
    /// `response.code` and so on.
    pub meta: ResponseMeta,
    /// The body, decoded; empty when a `streaming_callback` took it.
    pub body: Vec<u8>,
    /// The request as the caller gave it (not the redirected one).
    pub request: HttpRequest,
    /// From `fetch()` to the end, queue and redirects included.
    pub request_time: Duration,
    /// Wall-clock time when `fetch()` was called.
    pub start_time: SystemTime,
    /// Where the time went.
    pub time_info: TimeInfo,
    /// For a non-2xx status, the error that `rethrow()` returns.
    pub error: Option<Box<HttpError>>,
}

impl Deref for HttpResponse {
    type Target = ResponseMeta;
    fn deref(&self) -> &ResponseMeta {
        &self.meta
    }
}

impl DerefMut for HttpResponse {
    fn deref_mut(&mut self) -> &mut ResponseMeta {
        &mut self.meta
    }
}

impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpResponse")
            .field("code", &self.code)
            .field("reason", &self.reason)
            .field("version", &self.version)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .field(
                "effective_url",
                &crate::http::url::redact_userinfo(&self.effective_url),
            )
            .field("request", &self.request)
            .field("request_time", &self.request_time)
            .field("time_info", &self.time_info)
            .field("history", &self.history)
            .field("hops", &self.hops)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl HttpResponse {
    /// The body as text, in the charset of `Content-Type` (UTF-8 by default; US-ASCII and
    /// ISO-8859-1 also understood). Another charset, or bytes invalid in it, is an error.
    pub fn text(&self) -> Result<String, HttpError> {
        decode_text(&self.body, self.headers.get("Content-Type"))
    }

    /// The body parsed as JSON into any `T` (e.g. `serde_json::Value`). Feature `json`.
    #[cfg(feature = "json")]
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, HttpError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            HttpError::new(ErrorKind::Decode, format!("invalid JSON body: {e}")).with_source(e)
        })
    }

    /// `Err` with the status error for a non-2xx response (S-40), `Ok(())` otherwise.
    pub fn rethrow(&self) -> Result<(), HttpError> {
        match &self.error {
            Some(e) => Err((**e).clone()),
            None => Ok(()),
        }
    }
}

/// The `charset` parameter of a `Content-Type` value, lower-cased, without quotes.
pub(crate) fn charset_of(content_type: &str) -> Option<String> {
    for param in content_type.split(';').skip(1) {
        let Some((name, value)) = param.split_once('=') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("charset") {
            let v = value.trim().trim_matches('"').trim();
            return Some(v.to_ascii_lowercase());
        }
    }
    None
}

pub(crate) fn decode_text(body: &[u8], content_type: Option<&str>) -> Result<String, HttpError> {
    let charset = content_type.and_then(charset_of);
    let bad = |what: &str| HttpError::new(ErrorKind::Decode, what.to_string());
    match charset.as_deref() {
        None | Some("utf-8") | Some("utf8") => match std::str::from_utf8(body) {
            Ok(s) => Ok(s.to_string()),
            Err(e) => Err(bad(&format!(
                "body is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ))),
        },
        Some("us-ascii") | Some("ascii") => match body.iter().position(|b| !b.is_ascii()) {
            None => Ok(body.iter().map(|&b| b as char).collect()),
            Some(at) => Err(bad(&format!(
                "body is not valid US-ASCII (byte 0x{:02x} at offset {at})",
                body[at]
            ))),
        },
        Some("iso-8859-1") | Some("latin1") | Some("latin-1") | Some("l1") | Some("iso_8859-1") => {
            Ok(body.iter().map(|&b| b as char).collect())
        }
        Some(other) => Err(bad(&format!("unsupported charset {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charset_parsing() {
        assert_eq!(
            charset_of("text/html; charset=UTF-8").as_deref(),
            Some("utf-8")
        );
        assert_eq!(
            charset_of("text/html;charset=\"ISO-8859-1\"").as_deref(),
            Some("iso-8859-1")
        );
        assert_eq!(charset_of("text/html"), None);
        assert_eq!(
            charset_of("text/html; q=1; Charset = us-ascii ").as_deref(),
            Some("us-ascii")
        );
    }

    #[test]
    fn text_defaults_to_utf8_and_refuses_bad_bytes() {
        assert_eq!(decode_text("é".as_bytes(), None).unwrap(), "é");
        assert_eq!(
            decode_text(b"\xe9", None).unwrap_err().kind(),
            &ErrorKind::Decode
        );
        assert_eq!(
            decode_text(b"\xe9", Some("text/plain; charset=latin1")).unwrap(),
            "é"
        );
        assert_eq!(
            decode_text(b"abc", Some("text/plain; charset=us-ascii")).unwrap(),
            "abc"
        );
        assert!(decode_text(b"\xe9", Some("text/plain; charset=us-ascii")).is_err());
        let e = decode_text(b"abc", Some("text/plain; charset=shift_jis")).unwrap_err();
        assert!(e.message().contains("shift_jis"), "{e}");
    }
}
