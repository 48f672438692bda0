//! Reading one response head: bytes to a [`ResponseHead`] and the fields the framing
//! decision needs.
//!
//! The parser in `response.rs` decides *when* a head may be complete and what follows it; this
//! file turns the head's bytes into values: httparse parses (obs-fold allowed, then unfolded
//! here), the status line becomes a [`Version`], a code and a reason, the fields become an
//! [`HttpHeaders`], and one pass over them finds what §6.3's framing rules ask about
//! ([`Framing`]). When httparse refuses the bytes, `head_error.rs` says why.

use std::fmt;

use super::super::error::{ProtoError, ProtoErrorKind, malformed};
use super::super::fault::snippet;
use super::super::headers::HttpHeaders;
use super::Limits;
use super::head_error::head_error;

/// The protocol version of a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    /// HTTP/1.0
    Http10,
    /// HTTP/1.1
    Http11,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        })
    }
}

/// A parsed status line and header section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseHead {
    /// HTTP/1.0 or HTTP/1.1.
    pub version: Version,
    /// The status code, 0-999 (three digits on the wire; RFC 9110 defines 100-599).
    pub code: u16,
    /// The server's reason phrase; the standard phrase (or `Unknown`) when it sent none (S-02).
    pub reason: String,
    /// The fields, in order, obs-fold unfolded.
    pub headers: HttpHeaders,
}

impl ResponseHead {
    /// The status line as the header callback shows it: `HTTP/1.1 200 OK\r\n` (S-35).
    pub fn status_line(&self) -> String {
        format!("{} {:03} {}\r\n", self.version, self.code, self.reason)
    }
}

/// The standard reason phrase of a status code, `Unknown` for codes without one (S-02).
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        208 => "Already Reported",
        226 => "IM Used",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a Teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        _ => "Unknown",
    }
}

/// Incrementally finds where a head may end, so that a head arriving in small pieces is
/// handed to httparse once, not once per piece.
#[derive(Debug, Default)]
pub(super) struct HeadScan {
    /// Non-CR bytes in the current line.
    pub(super) line_len: usize,
    /// Whether a non-empty line (the status line) was seen; empty lines before it are skipped.
    pub(super) seen_line: bool,
    /// An empty line after a non-empty one: the head may end here.
    pub(super) hit: bool,
}

impl HeadScan {
    pub(super) fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\n' {
                if self.line_len == 0 && self.seen_line {
                    self.hit = true;
                } else if self.line_len > 0 {
                    self.seen_line = true;
                }
                self.line_len = 0;
            } else if b != b'\r' {
                self.line_len = self.line_len.saturating_add(1);
            }
        }
    }
}

/// Replaces every obs-fold (`[SP/HTAB]* CR? LF [SP/HTAB]*`) in a field value with one SP.
pub(super) fn unfold(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while let Some(&b) = value.get(i) {
        if b == b'\r' || b == b'\n' {
            while out.last().is_some_and(|&c| c == b' ' || c == b'\t') {
                out.pop();
            }
            i += 1;
            while value
                .get(i)
                .is_some_and(|&c| c == b' ' || c == b'\t' || c == b'\r' || c == b'\n')
            {
                i += 1;
            }
            out.push(b' ');
        } else {
            out.push(b);
            i += 1;
        }
    }
    out
}

/// The status line of a head buffer (after any leading empty lines), without its line end.
fn status_line_of(buf: &[u8]) -> &[u8] {
    let start = buf
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(buf.len());
    let rest = buf.get(start..).unwrap_or_default();
    let end = rest
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(rest.len());
    rest.get(..end).unwrap_or_default()
}

/// Parses a complete head at the start of `buf`, or says it is not complete yet.
/// `offset` is the absolute position of `buf[0]`, for messages.
pub(super) fn parse_head_bytes(
    buf: &[u8],
    limits: &Limits,
    offset: u64,
) -> Result<Option<(usize, ResponseHead, Framing)>, ProtoError> {
    let mut config = httparse::ParserConfig::default();
    config.allow_obsolete_multiline_headers_in_responses(true);
    let mut small = [httparse::EMPTY_HEADER; 32];
    let mut big: Vec<httparse::Header<'_>>;
    let max = limits.max_headers;
    let mut storage: &mut [httparse::Header<'_>] = small.get_mut(..max.min(32)).unwrap_or_default();
    loop {
        let mut resp = httparse::Response::new(storage);
        match config.parse_response(&mut resp, buf) {
            Ok(httparse::Status::Complete(n)) => {
                if n > limits.max_head_bytes {
                    return Err(head_too_large(limits));
                }
                let framing = Framing::of(resp.headers);
                return build_head(&resp, buf, n).map(|h| Some((n, h, framing)));
            }
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(httparse::Error::TooManyHeaders) if resp.headers.len() < max => {
                big = vec![httparse::EMPTY_HEADER; max];
                storage = &mut big;
            }
            Err(httparse::Error::TooManyHeaders) => {
                return Err(ProtoError::new(
                    ProtoErrorKind::TooManyHeaders,
                    format!("too many header fields in the response head (more than {max})"),
                ));
            }
            Err(e) => return Err(head_error(e, buf, offset)),
        }
    }
}

/// What the framing decision needs from the fields, found in one pass over httparse's
/// output (names compared by length first, no lookups in the map).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Framing {
    pub(super) transfer_encoding: bool,
    pub(super) content_length: bool,
    /// The index of the Content-Length field when there is exactly one (the usual case), so
    /// that its value is read from the map without a second search by name.
    pub(super) content_length_at: Option<usize>,
    pub(super) close: bool,
    pub(super) keep_alive: bool,
}

impl Framing {
    pub(super) fn of(fields: &[httparse::Header<'_>]) -> Framing {
        let mut f = Framing::default();
        for (i, h) in fields.iter().enumerate() {
            match h.name.len() {
                10 if h.name.eq_ignore_ascii_case("connection") => {
                    for token in h.value.split(|&b| b == b',') {
                        let t = token.trim_ascii();
                        f.close |= t.eq_ignore_ascii_case(b"close");
                        f.keep_alive |= t.eq_ignore_ascii_case(b"keep-alive");
                    }
                }
                14 if h.name.eq_ignore_ascii_case("content-length") => {
                    f.content_length_at = (!f.content_length).then_some(i);
                    f.content_length = true;
                }
                17 if h.name.eq_ignore_ascii_case("transfer-encoding") => {
                    f.transfer_encoding = true;
                }
                _ => {}
            }
        }
        f
    }
}

pub(super) fn head_too_large(limits: &Limits) -> ProtoError {
    ProtoError::new(
        ProtoErrorKind::HeadTooLarge,
        format!(
            "response head too large (more than {} bytes)",
            limits.max_head_bytes
        ),
    )
}

fn build_head(
    resp: &httparse::Response<'_, '_>,
    buf: &[u8],
    n: usize,
) -> Result<ResponseHead, ProtoError> {
    let version = match resp.version {
        Some(0) => Version::Http10,
        Some(1) => Version::Http11,
        _ => {
            return Err(malformed(format!(
                "Unexpected HTTP version in status line {}",
                snippet(status_line_of(buf))
            )));
        }
    };
    // Any three digits (S-01). Codes outside 100-599 are invalid in RFC 9110 §15, which asks
    // a client to treat them as 5xx rather than refuse them; the caller sees the code as sent.
    let code = resp.code.unwrap_or(0);
    let mut reason = String::new();
    match resp.reason {
        Some(r) if !r.is_empty() => reason.push_str(r),
        _ => {
            // httparse gives "" for reasons with obs-text; those are latin-1 (S-30).
            let line = status_line_of(buf.get(..n).unwrap_or(buf));
            if let Some(raw) = line.get(13..) {
                super::super::syntax::push_latin1(&mut reason, raw);
            }
        }
    }
    if reason.is_empty() {
        reason.push_str(reason_phrase(code));
    }
    let block = buf.get(..n).unwrap_or(buf);
    let headers = match HttpHeaders::from_block(block, resp.headers) {
        Some(h) => h,
        None => {
            let bytes: usize = resp
                .headers
                .iter()
                .map(|h| h.name.len() + h.value.len())
                .sum();
            let mut headers = HttpHeaders::with_capacity(resp.headers.len(), bytes);
            for h in resp.headers.iter() {
                if h.value.contains(&b'\n') {
                    headers.add_raw(h.name, &unfold(h.value));
                } else {
                    headers.add_raw(h.name, h.value);
                }
            }
            headers
        }
    };
    Ok(ResponseHead {
        version,
        code,
        reason,
        headers,
    })
}
