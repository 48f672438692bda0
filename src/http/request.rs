//! Request heads out: validation and serialisation (RFC 9112 §3, §6, §7.1).
//!
//! Everything the caller controls (method, target, header names and values) is checked
//! before a single byte is written, so a CR or LF smuggled into a header value can never
//! split the request (R-23, R-24). The head is then written in a fixed order: request line,
//! `Host` first (RFC 9110 §7.2 asks for it first), the caller's fields in their order with
//! names in Http-Header-Case (R-19), and last the framing field that this layer owns:
//! `Content-Length` for a body of known size, `Transfer-Encoding: chunked` for a streamed one.
//! Nothing that HTTP/1.1 already implies (`Connection: keep-alive`) is added.

use std::fmt;

use super::headers::HttpHeaders;
use super::syntax::is_tchar;

/// How the request body is framed on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body and no framing field.
    None,
    /// A body of exactly this many bytes: `Content-Length: n`.
    Length(u64),
    /// A body of unknown length: `Transfer-Encoding: chunked` and a [`ChunkEncoder`].
    Chunked,
}

/// A request that may not be sent. `Display` is the reason, worded like Tornado's where it
/// has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestError {
    message: String,
}

impl RequestError {
    fn new(message: String) -> RequestError {
        RequestError { message }
    }

    /// The reason (same as `Display`).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RequestError {}

/// The methods Tornado knows without `allow_nonstandard_methods` (R-04).
pub const KNOWN_METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

/// A method must be a token (RFC 9110 §9.1).
pub fn validate_method(m: &str) -> Result<(), RequestError> {
    if m.is_empty() {
        return Err(RequestError::new("Invalid method: empty".to_string()));
    }
    if let Some(b) = m.bytes().find(|&b| !is_tchar(b)) {
        return Err(RequestError::new(format!(
            "Invalid method {m:?}: byte {b:#04x} is not allowed in a token"
        )));
    }
    Ok(())
}

/// Tornado's method and body rules (R-03, R-04, R-05): an unknown method fails with
/// `unknown method FOO`; POST, PUT and PATCH need a body (an empty one counts), other methods
/// must not have one. `allow_nonstandard_methods` turns all three checks off.
pub fn check_method_and_body(
    method: &str,
    has_body: bool,
    allow_nonstandard_methods: bool,
) -> Result<(), RequestError> {
    validate_method(method)?;
    if allow_nonstandard_methods {
        return Ok(());
    }
    if !KNOWN_METHODS.contains(&method) {
        return Err(RequestError::new(format!("unknown method {method}")));
    }
    let needs_body = matches!(method, "POST" | "PUT" | "PATCH");
    if needs_body && !has_body {
        return Err(RequestError::new(format!(
            "Body must not be None for method {method} (unless allow_nonstandard_methods is true)"
        )));
    }
    if !needs_body && has_body {
        return Err(RequestError::new(format!(
            "Body must be None for method {method} (unless allow_nonstandard_methods is true)"
        )));
    }
    Ok(())
}

/// A header name must be a token; a value may hold no ASCII control character but HTAB,
/// and only characters up to U+00FF (values go out as latin-1, R-22; U+0080-U+00FF are the
/// obs-text bytes of RFC 9110 §5.5).
pub fn validate_header(name: &str, value: &str) -> Result<(), RequestError> {
    // Fast path: a token name and a value of visible ASCII, SP and HTAB.
    if !name.is_empty()
        && name.bytes().all(is_tchar)
        && value
            .bytes()
            .all(|b| (0x20..0x7f).contains(&b) || b == b'\t')
    {
        return Ok(());
    }
    if name.contains(['\r', '\n']) || value.contains(['\r', '\n']) {
        // R-23, Tornado's wording.
        return Err(RequestError::new(format!(
            "Illegal characters (CR or LF) in header: {name:?}: {value:?}"
        )));
    }
    if name.is_empty() {
        return Err(RequestError::new("Invalid header name: empty".to_string()));
    }
    if let Some(c) = name.chars().find(|&c| !c.is_ascii() || !is_tchar(c as u8)) {
        return Err(RequestError::new(format!(
            "Invalid header name {name:?}: {c:?} is not allowed in a token"
        )));
    }
    for c in value.chars() {
        // obs-text (RFC 9110 §5.5) is every byte 0x80-0xFF, so U+0080-U+009F pass too.
        if c.is_ascii_control() && c != '\t' {
            return Err(RequestError::new(format!(
                "Illegal control character {:#04x} in header {name}: {value:?}",
                c as u32
            )));
        }
        if c as u32 > 0xff {
            return Err(RequestError::new(format!(
                "Header {name} holds {c:?}, which latin-1 cannot encode: {value:?}"
            )));
        }
    }
    Ok(())
}

/// A request target must be non-empty and free of spaces and control characters.
fn validate_target(target: &str) -> Result<(), RequestError> {
    if target.is_empty() {
        return Err(RequestError::new(
            "Invalid request target: empty".to_string(),
        ));
    }
    if let Some(c) = target
        .chars()
        .find(|&c| !c.is_ascii() || c.is_ascii_control() || c == ' ')
    {
        return Err(RequestError::new(format!(
            "Invalid request target {target:?}: {c:?} is not allowed"
        )));
    }
    Ok(())
}

/// Writes `name` in Http-Header-Case: each `-`-separated word capitalised (R-19).
fn push_header_case(out: &mut Vec<u8>, name: &str) {
    let mut up = true;
    out.extend(name.bytes().map(|b| {
        let c = if up {
            b.to_ascii_uppercase()
        } else {
            b.to_ascii_lowercase()
        };
        up = b == b'-';
        c
    }));
}

/// Writes `n` in decimal (or, with `radix` 16, in upper-case hex) without allocating.
fn push_number(out: &mut Vec<u8>, mut n: u64, radix: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        let d = (n % radix) as u8;
        if let Some(slot) = digits.get_mut(i) {
            *slot = if d < 10 { b'0' + d } else { b'A' + d - 10 };
        }
        n /= radix;
        if n == 0 || i == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(i..).unwrap_or_default());
}

/// Writes a value as latin-1 (validated beforehand to be ≤ U+00FF).
fn push_latin1_value(out: &mut Vec<u8>, value: &str) {
    if value.is_ascii() {
        out.extend_from_slice(value.as_bytes());
    } else {
        out.extend(
            value
                .chars()
                .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?')),
        );
    }
}

fn is_framing(name: &str) -> bool {
    name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("transfer-encoding")
}

/// Writes `METHOD target HTTP/1.1`, then `Host` (the caller's if `headers` has one, else
/// `host`), the other headers in order, the framing field, and the empty line.
///
/// `Content-Length` and `Transfer-Encoding` belong to `framing`: lines of those names in
/// `headers` are not written (a caller's `Content-Length` becomes `BodyFraming::Length` in the
/// client, R-06, R-27). Everything is validated first; on error nothing is appended to `out`.
pub fn write_head(
    method: &str,
    target: &str,
    host: &str,
    headers: &HttpHeaders,
    framing: BodyFraming,
    out: &mut Vec<u8>,
) -> Result<(), RequestError> {
    validate_method(method)?;
    validate_target(target)?;
    let user_host = headers.get("host");
    if user_host.is_none() {
        validate_header("Host", host)?;
        if host.is_empty() {
            return Err(RequestError::new("Invalid Host: empty".to_string()));
        }
    }
    for (n, v) in headers.iter() {
        validate_header(n, v)?;
    }
    let mut size = method.len() + target.len() + host.len() + 48;
    for (n, v) in headers.iter() {
        size += n.len() + v.len() + 4;
    }
    out.reserve(size);
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    push_latin1_value(out, user_host.unwrap_or(host));
    out.extend_from_slice(b"\r\n");
    let mut host_written = false;
    for (n, v) in headers.iter() {
        if is_framing(n) {
            continue;
        }
        if n.eq_ignore_ascii_case("host") && !host_written {
            // The first Host line was written above; a second one goes out as given, so
            // the server can refuse the request as RFC 9112 §3.2 tells it to.
            host_written = true;
            continue;
        }
        push_header_case(out, n);
        out.extend_from_slice(b": ");
        push_latin1_value(out, v);
        out.extend_from_slice(b"\r\n");
    }
    match framing {
        BodyFraming::None => {}
        BodyFraming::Length(n) => {
            out.extend_from_slice(b"Content-Length: ");
            push_number(out, n, 10);
            out.extend_from_slice(b"\r\n");
        }
        BodyFraming::Chunked => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
    }
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// Frames a streamed request body as chunks (RFC 9112 §7.1).
///
/// `encode(b"")` writes nothing: an empty chunk would end the body early (R-29). After
/// `finish`, further calls write nothing.
#[derive(Clone, Debug, Default)]
pub struct ChunkEncoder {
    finished: bool,
}

impl ChunkEncoder {
    /// A fresh encoder.
    pub fn new() -> ChunkEncoder {
        ChunkEncoder::default()
    }

    /// Appends one chunk holding `data` (nothing when `data` is empty).
    pub fn encode(&mut self, data: &[u8], out: &mut Vec<u8>) {
        if data.is_empty() || self.finished {
            return;
        }
        out.reserve(data.len() + 20);
        push_number(out, data.len() as u64, 16);
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }

    /// The chunk-size line for `len` bytes of data that the caller sends itself (to avoid a
    /// copy with vectored writes); follow the data with [`ChunkEncoder::CHUNK_END`].
    pub fn chunk_header(len: usize) -> String {
        format!("{len:X}\r\n")
    }

    /// What follows each chunk's data.
    pub const CHUNK_END: &'static [u8] = b"\r\n";

    /// Appends the last chunk and the empty trailer section: `0\r\n\r\n`.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if !self.finished {
            self.finished = true;
            out.extend_from_slice(b"0\r\n\r\n");
        }
    }

    /// Whether `finish` was called.
    pub fn is_finished(&self) -> bool {
        self.finished
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(method: &str, target: &str, host: &str, h: &[(&str, &str)], f: BodyFraming) -> String {
        let headers: HttpHeaders = h.iter().copied().collect();
        let mut out = Vec::new();
        write_head(method, target, host, &headers, f, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn exact_bytes() {
        assert_eq!(
            head("GET", "/", "example.com", &[], BodyFraming::None),
            "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
        );
        // R-19: Http-Header-Case, caller's order; R-06: Content-Length owned by framing.
        assert_eq!(
            head(
                "POST",
                "/p?q=1",
                "[::1]:8080",
                &[
                    ("x-a", "1"),
                    ("content-length", "99"),
                    ("ACCEPT", "*/*"),
                    ("x-a", "2")
                ],
                BodyFraming::Length(5)
            ),
            "POST /p?q=1 HTTP/1.1\r\nHost: [::1]:8080\r\nX-A: 1\r\nAccept: */*\r\nX-A: 2\r\n\
             Content-Length: 5\r\n\r\n"
        );
        assert_eq!(
            head(
                "PUT",
                "/",
                "h",
                &[("transfer-encoding", "gzip")],
                BodyFraming::Chunked
            ),
            "PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        // R-05: an empty body is a body.
        assert!(
            head("POST", "/", "h", &[], BodyFraming::Length(0)).contains("Content-Length: 0\r\n")
        );
    }

    #[test]
    fn caller_host_goes_first() {
        // R-08: the caller's Host wins, and Host is the first field.
        assert_eq!(
            head(
                "GET",
                "/",
                "h",
                &[("A", "1"), ("host", "other:1")],
                BodyFraming::None
            ),
            "GET / HTTP/1.1\r\nHost: other:1\r\nA: 1\r\n\r\n"
        );
    }

    #[test]
    fn latin1_values() {
        // R-22: values go out as latin-1.
        let headers: HttpHeaders = [("X", "b\u{e4}r")].into_iter().collect();
        let mut out = Vec::new();
        write_head("GET", "/", "h", &headers, BodyFraming::None, &mut out).unwrap();
        assert!(out.windows(6).any(|w| w == b"X: b\xe4r"));
    }

    #[test]
    fn injection_refused_before_writing() {
        // R-23, R-24
        type Case<'a> = (&'a str, &'a str, &'a str, &'a [(&'a str, &'a str)]);
        let cases: [Case; 9] = [
            ("GET", "/", "h", &[("X", "a\r\nEvil: 1")]),
            ("GET", "/", "h", &[("X\r\nEvil", "1")]),
            ("GET", "/", "h", &[("X", "a\0b")]),
            ("GET", "/", "h", &[("X", "a\u{7f}")]),
            ("GET", "/", "h", &[("Bad Name", "1")]),
            ("GET", "/", "h", &[("X", "\u{100}")]),
            ("GE T", "/", "h", &[]),
            ("GET", "/a b", "h", &[]),
            ("GET", "/", "h\r\nX: 1", &[]),
        ];
        for (m, t, host, h) in cases {
            let headers: HttpHeaders = h.iter().copied().collect();
            let mut out = b"untouched".to_vec();
            assert!(
                write_head(m, t, host, &headers, BodyFraming::None, &mut out).is_err(),
                "{m} {t} {host} {h:?}"
            );
            assert_eq!(out, b"untouched");
        }
        let e = validate_header("X", "a\nb").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("Illegal characters (CR or LF) in header:")
        );
        assert!(validate_header("X", "tab\tok").is_ok());
        assert!(validate_method("M-SEARCH").is_ok());
    }

    #[test]
    fn tornado_body_rules() {
        // R-03, R-04, R-05
        assert!(check_method_and_body("POST", true, false).is_ok());
        assert_eq!(
            check_method_and_body("POST", false, false)
                .unwrap_err()
                .to_string(),
            "Body must not be None for method POST (unless allow_nonstandard_methods is true)"
        );
        assert_eq!(
            check_method_and_body("GET", true, false)
                .unwrap_err()
                .to_string(),
            "Body must be None for method GET (unless allow_nonstandard_methods is true)"
        );
        assert_eq!(
            check_method_and_body("FOO", false, false)
                .unwrap_err()
                .to_string(),
            "unknown method FOO"
        );
        assert!(check_method_and_body("FOO", true, true).is_ok());
        assert!(check_method_and_body("GET", true, true).is_ok());
        assert!(check_method_and_body("F O", true, true).is_err());
    }

    #[test]
    fn numbers() {
        for (n, dec, hex) in [
            (0, "0", "0"),
            (9, "9", "9"),
            (26, "26", "1A"),
            (u64::MAX, "18446744073709551615", "FFFFFFFFFFFFFFFF"),
        ] {
            let mut out = Vec::new();
            push_number(&mut out, n, 10);
            assert_eq!(out, dec.as_bytes());
            out.clear();
            push_number(&mut out, n, 16);
            assert_eq!(out, hex.as_bytes());
        }
    }

    #[test]
    fn chunk_encoder() {
        // R-29: an empty write sends nothing.
        let mut e = ChunkEncoder::new();
        let mut out = Vec::new();
        e.encode(b"", &mut out);
        assert!(out.is_empty());
        e.encode(b"hello", &mut out);
        e.encode(&[b'x'; 26], &mut out);
        e.finish(&mut out);
        e.finish(&mut out);
        e.encode(b"late", &mut out);
        let mut want = b"5\r\nhello\r\n1A\r\n".to_vec();
        want.extend_from_slice(&[b'x'; 26]);
        want.extend_from_slice(b"\r\n0\r\n\r\n");
        assert_eq!(out, want);
        assert!(e.is_finished());
    }
}
