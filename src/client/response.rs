//! What came back: [`HttpResponse`] (Tornado's `HTTPResponse`) and its [`TimeInfo`].
//!
//! The body is bytes (`Vec<u8>`, empty rather than absent). `text()` decodes it with the
//! charset the `Content-Type` names — UTF-8 when it names none, US-ASCII and ISO-8859-1 as
//! well — and refuses any other charset or bytes that are not valid in it, rather than guess
//! or substitute U+FFFD: a caller that wants lossy text can take `body` itself.

use std::time::{Duration, SystemTime};

#[cfg(feature = "json")]
use serde::de::DeserializeOwned;

use super::error::{ErrorKind, HttpError};
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

/// A complete response.
///
/// `Debug` is safe to log: header credentials and URL passwords are `<redacted>` (see
/// [`HttpRequest`]'s), and the body is shown by its length only.
#[derive(Clone)]
pub struct HttpResponse {
    /// The status code.
    pub code: u16,
    /// The reason phrase (the standard one when the server sent none).
    pub reason: String,
    /// The response headers. After gzip decoding, `Content-Encoding` is replaced by
    /// `X-Consumed-Content-Encoding`, and `Content-Length` still gives the wire size.
    pub headers: HttpHeaders,
    /// The body, decoded; empty when a `streaming_callback` took it.
    pub body: Vec<u8>,
    /// The URL of the final response (after redirects).
    pub effective_url: String,
    /// The request as the caller gave it (not the redirected one).
    pub request: HttpRequest,
    /// From `fetch()` to the end, queue and redirects included.
    pub request_time: Duration,
    /// Wall-clock time when `fetch()` was called.
    pub start_time: SystemTime,
    /// Where the time went.
    pub time_info: TimeInfo,
    /// The heads of the 3xx responses that were followed, in order.
    pub history: Vec<ResponseHead>,
    /// HTTP/1.0 or HTTP/1.1.
    pub version: Version,
    /// For a non-2xx status, the error that `rethrow()` returns.
    pub error: Option<Box<HttpError>>,
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

    /// How many redirects were followed.
    pub fn num_redirects(&self) -> usize {
        self.history.len()
    }

    /// The `Content-Type` header, if any.
    pub fn content_type(&self) -> Option<&str> {
        self.headers.get("Content-Type")
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
