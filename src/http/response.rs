//! Responses in: the head, the framing decision and the body (RFC 9112 §4-§7).
//!
//! [`ResponseParser`] is a state machine fed with whatever bytes the socket produced. It
//! returns at most one [`Event`] per call and says how many bytes it consumed; body data comes
//! back as slices of the caller's buffer, so a body is never copied here.
//!
//! ```text
//!            ┌──────── 1xx: Interim, read the next head ───────┐
//!            ▼                                                  │
//!   Head ──(final head)──▶ framing decision (RFC 9112 §6.3) ────┘
//!                           │ HEAD / 204 / 304 / 2xx to CONNECT ─────────────▶ End
//!                           │ Transfer-Encoding: chunked ──▶ ChunkedDecoder ─▶ End
//!                           │ Content-Length: n ──▶ n bytes ─────────────────▶ End
//!                           │ neither ──▶ bytes until eof() ─────────────────▶ End
//! ```
//!
//! Heads are parsed by httparse (fast, SIMD, fuzzed for years) with its strict defaults, except
//! that obs-fold is accepted and then unfolded here (each fold becomes one SP, RFC 9112 §5.2).
//! The head is bounded in bytes and in fields, the body by `max_body`, and every framing
//! ambiguity that has enabled request smuggling is an error rather than a guess.

use std::fmt;

use super::chunked::{ChunkedDecoder, ChunkedEvent, ChunkedLimits};
use super::error::malformed;
// The error types lived here before `error.rs`; their old paths keep working.
pub use super::error::{ProtoError, ProtoErrorKind};
use super::fault::{describe, locate_bad_line, snippet};
use super::headers::HttpHeaders;

/// Bounds on what a response may make the parser hold or read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes in a head: status line, fields and the empty line (default 65536). Also
    /// bounds a chunked trailer section.
    pub max_head_bytes: usize,
    /// Most fields in a head or a trailer section (default 100).
    pub max_headers: usize,
    /// Most body bytes on the wire (before content decoding); `None` for no limit.
    pub max_body: Option<u64>,
    /// Most interim (1xx) responses before the final one (default 10).
    pub max_interim: usize,
    /// Longest chunk-size line, extensions included (default 4096).
    pub max_chunk_line: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_head_bytes: 65536,
            max_headers: 100,
            max_body: None,
            max_interim: 10,
            max_chunk_line: 4096,
        }
    }
}

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

/// What the parser found in the bytes given to one [`ResponseParser::parse`] call.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// An interim (1xx) head: `100 Continue` and any other 1xx except 101. The parser goes on
    /// to the next head by itself.
    Interim(ResponseHead),
    /// The final head; the framing is decided.
    Head(ResponseHead),
    /// Body bytes (still content-encoded): a slice of the input given to `parse`.
    Data(&'a [u8]),
    /// The trailer fields of a chunked body, when there were any.
    Trailers(HttpHeaders),
    /// The message is complete. `keep_alive` says whether the connection may carry another
    /// request: 1.1 unless `Connection: close`, 1.0 only with `Connection: keep-alive`, never
    /// after a close-delimited body or a tunnel.
    End {
        /// Whether the connection may be reused.
        keep_alive: bool,
    },
}

/// How the body of the final response is delimited.
#[derive(Debug)]
enum State {
    /// Reading a head (interim or final).
    Head,
    /// A Content-Length body: bytes still to come.
    Length(u64),
    /// A chunked body.
    Chunked(Box<ChunkedDecoder>),
    /// A body that runs until the peer closes.
    UntilClose,
    /// No body (or the body is read): `End` comes next.
    EndPending,
    /// `End` was returned.
    Done,
}

/// Incrementally finds where a head may end, so that a head arriving in small pieces is
/// handed to httparse once, not once per piece.
#[derive(Debug, Default)]
struct HeadScan {
    /// Non-CR bytes in the current line.
    line_len: usize,
    /// Whether a non-empty line (the status line) was seen; empty lines before it are skipped.
    seen_line: bool,
    /// An empty line after a non-empty one: the head may end here.
    hit: bool,
}

impl HeadScan {
    fn feed(&mut self, bytes: &[u8]) {
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

/// A streaming parser for one response (and the interim responses before it).
#[derive(Debug)]
pub struct ResponseParser {
    head_request: bool,
    connect_request: bool,
    limits: Limits,
    state: State,
    /// Head bytes received so far, when a head arrived in pieces.
    head_buf: Vec<u8>,
    scan: HeadScan,
    /// Absolute offset of the next input byte.
    pos: u64,
    interim: usize,
    body_bytes: u64,
    content_length: Option<u64>,
    keep_alive: bool,
    expects_body: bool,
    tunnel: bool,
    /// The first error, returned again by every later call.
    failed: Option<ProtoError>,
}

/// Replaces every obs-fold (`[SP/HTAB]* CR? LF [SP/HTAB]*`) in a field value with one SP.
fn unfold(value: &[u8]) -> Vec<u8> {
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
fn parse_head_bytes(
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
struct Framing {
    transfer_encoding: bool,
    content_length: bool,
    /// The index of the Content-Length field when there is exactly one (the usual case), so
    /// that its value is read from the map without a second search by name.
    content_length_at: Option<usize>,
    close: bool,
    keep_alive: bool,
}

impl Framing {
    fn of(fields: &[httparse::Header<'_>]) -> Framing {
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

fn head_too_large(limits: &Limits) -> ProtoError {
    ProtoError::new(
        ProtoErrorKind::HeadTooLarge,
        format!(
            "response head too large (more than {} bytes)",
            limits.max_head_bytes
        ),
    )
}

/// Finds the first byte of a status line (`buf` starting at the line) that breaks
/// `HTTP/1.x SP 3DIGIT [SP reason] CRLF`, with what it breaks. Used to word httparse's errors;
/// it only looks at bytes up to the bad one, so the message does not depend on how much of
/// the line had arrived.
fn status_line_fault(buf: &[u8]) -> Option<(usize, &'static str)> {
    const VERSION: &[u8] = b"HTTP/1.";
    for (i, &b) in buf.iter().enumerate() {
        let fault = match i {
            0..=6 => VERSION.get(i) != Some(&b),
            7 => b != b'0' && b != b'1',
            8 => b != b' ',
            _ => false,
        };
        if fault {
            return Some((i, "Unexpected HTTP version"));
        }
        match i {
            9..=11 if !b.is_ascii_digit() => return Some((i, "invalid status code")),
            12 if !matches!(b, b' ' | b'\r' | b'\n') => return Some((i, "invalid status code")),
            _ if i >= 12 => {
                if b == b'\n' {
                    return None;
                }
                if b == b'\r' {
                    return match buf.get(i + 1) {
                        Some(b'\n') | None => None,
                        Some(_) => Some((i, "CR without LF")),
                    };
                }
                if (b < 0x20 && b != b'\t') || b == 0x7f {
                    return Some((i, "control character in the reason phrase"));
                }
            }
            _ => {}
        }
    }
    None
}

/// Words an httparse error with what and where. Only bytes up to the fault are quoted, so
/// the message is the same however the input was split.
fn head_error(e: httparse::Error, buf: &[u8], offset: u64) -> ProtoError {
    // Leading empty lines (CRLF or LF) are skipped, as httparse does.
    let mut leading = 0;
    loop {
        match (buf.get(leading), buf.get(leading + 1)) {
            (Some(b'\n'), _) => leading += 1,
            (Some(b'\r'), Some(b'\n')) => leading += 2,
            (Some(b'\r'), _) => {
                return malformed(format!(
                    "malformed status line: stray CR at byte {}",
                    offset.saturating_add(leading as u64)
                ));
            }
            _ => break,
        }
    }
    let head = buf.get(leading..).unwrap_or_default();
    let at = |i: usize| offset.saturating_add(leading.saturating_add(i) as u64);
    if let Some((i, what)) = status_line_fault(head) {
        let upto = head.get(..=i).unwrap_or(head);
        return malformed(format!(
            "{what} in status line at byte {}: {}",
            at(i),
            snippet(upto)
        ));
    }
    if matches!(
        e,
        httparse::Error::Version | httparse::Error::Status | httparse::Error::Token
    ) {
        return malformed(format!("malformed status line at byte {}", at(0)));
    }
    let (lineno, pos) = locate_bad_line(head, 1);
    let line_start = head
        .get(..pos)
        .unwrap_or_default()
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let bad = head.get(line_start..=pos).unwrap_or_default();
    if lineno == 2 && matches!(bad.first(), Some(b' ' | b'\t')) {
        return malformed(format!(
            "header line cannot start with whitespace right after the status line (at byte {})",
            at(pos)
        ));
    }
    malformed(format!(
        "{} in response head line {lineno} at byte {}: {}",
        describe(e),
        at(pos),
        snippet(bad)
    ))
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
                super::syntax::push_latin1(&mut reason, raw);
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

/// The body length from every Content-Length line and list element: each must be all digits
/// (after trimming SP/HTAB), and all must be equal (S-16, S-17).
fn content_length<'h>(values: impl Iterator<Item = &'h str>) -> Result<Option<u64>, ProtoError> {
    let mut found: Option<u64> = None;
    for v in values {
        for item in v.split(',') {
            let t = item.trim_matches([' ', '\t']);
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(malformed(format!(
                    "Only integer Content-Length is allowed: {v:?}"
                )));
            }
            let n: u64 = t
                .parse()
                .map_err(|_| malformed(format!("Content-Length {t} is out of range")))?;
            match found {
                Some(f) if f != n => {
                    return Err(malformed(format!(
                        "Multiple unequal Content-Lengths: {f} and {n}"
                    )));
                }
                _ => found = Some(n),
            }
        }
    }
    Ok(found)
}

impl ResponseParser {
    /// A parser for the response to a request of `request_method` (HEAD and CONNECT change the
    /// framing).
    pub fn new(request_method: &str, limits: Limits) -> ResponseParser {
        ResponseParser {
            head_request: request_method == "HEAD",
            connect_request: request_method == "CONNECT",
            limits,
            state: State::Head,
            head_buf: Vec::new(),
            scan: HeadScan::default(),
            pos: 0,
            interim: 0,
            body_bytes: 0,
            content_length: None,
            keep_alive: false,
            expects_body: false,
            tunnel: false,
            failed: None,
        }
    }

    /// Feeds bytes. Returns how many bytes of `input` were consumed and at most one event.
    /// `(n, None)` means "need more input" (n may be > 0: partial progress was buffered).
    /// Call again with the unconsumed rest until it returns `(0, None)`. Bytes after `End` are
    /// never consumed: they belong to the next response, or show a misbehaving server.
    pub fn parse<'a>(&mut self, input: &'a [u8]) -> Result<(usize, Option<Event<'a>>), ProtoError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        match self.parse_inner(input) {
            Ok((n, ev)) => {
                self.pos = self.pos.saturating_add(n as u64);
                Ok((n, ev))
            }
            Err(e) => {
                self.failed = Some(e.clone());
                Err(e)
            }
        }
    }

    fn parse_inner<'a>(
        &mut self,
        input: &'a [u8],
    ) -> Result<(usize, Option<Event<'a>>), ProtoError> {
        match &mut self.state {
            State::Head => {
                let (n, head) = self.read_head(input)?;
                match head {
                    None => Ok((n, None)),
                    Some((head, framing)) => {
                        let body_start = self.pos.saturating_add(n as u64);
                        self.on_head(head, framing, body_start)
                            .map(|ev| (n, Some(ev)))
                    }
                }
            }
            State::Length(remaining) => {
                if *remaining == 0 {
                    self.state = State::Done;
                    return Ok((
                        0,
                        Some(Event::End {
                            keep_alive: self.keep_alive,
                        }),
                    ));
                }
                if input.is_empty() {
                    return Ok((0, None));
                }
                let take = usize::try_from(*remaining)
                    .unwrap_or(usize::MAX)
                    .min(input.len());
                *remaining -= take as u64;
                self.body_bytes = self.body_bytes.saturating_add(take as u64);
                Ok((
                    take,
                    Some(Event::Data(input.get(..take).unwrap_or_default())),
                ))
            }
            State::Chunked(dec) => {
                let (n, ev) = dec.decode(input)?;
                self.body_bytes = dec.body_bytes();
                let ev = match ev {
                    None => None,
                    Some(ChunkedEvent::Data(d)) => Some(Event::Data(d)),
                    Some(ChunkedEvent::Trailers(h)) => Some(Event::Trailers(h)),
                    Some(ChunkedEvent::End) => {
                        self.state = State::Done;
                        Some(Event::End {
                            keep_alive: self.keep_alive,
                        })
                    }
                };
                Ok((n, ev))
            }
            State::UntilClose => {
                if input.is_empty() {
                    return Ok((0, None));
                }
                let total = self.body_bytes.saturating_add(input.len() as u64);
                if let Some(max) = self.limits.max_body
                    && total > max
                {
                    return Err(ProtoError::new(
                        ProtoErrorKind::BodyTooLarge,
                        format!("Body too long: more than {max} bytes (read until close)"),
                    ));
                }
                self.body_bytes = total;
                Ok((input.len(), Some(Event::Data(input))))
            }
            State::EndPending => {
                self.state = State::Done;
                Ok((
                    0,
                    Some(Event::End {
                        keep_alive: self.keep_alive,
                    }),
                ))
            }
            State::Done => Ok((0, None)),
        }
    }

    /// Reads (part of) a head. Consumes only the head's own bytes.
    fn read_head(
        &mut self,
        input: &[u8],
    ) -> Result<(usize, Option<(ResponseHead, Framing)>), ProtoError> {
        let max = self.limits.max_head_bytes;
        if self.head_buf.is_empty() {
            if input.is_empty() {
                return Ok((0, None));
            }
            // Fast path: the whole head is in this input; parse it in place.
            if let Some((n, head, framing)) = parse_head_bytes(input, &self.limits, self.pos)? {
                return Ok((n, Some((head, framing))));
            }
            if input.len() >= max {
                return Err(head_too_large(&self.limits));
            }
            self.head_buf.extend_from_slice(input);
            self.scan = HeadScan::default();
            self.scan.feed(input);
            return Ok((input.len(), None));
        }
        let old = self.head_buf.len();
        let room = max.saturating_sub(old);
        let take = input.len().min(room);
        let piece = input.get(..take).unwrap_or_default();
        self.head_buf.extend_from_slice(piece);
        let had_status_line = self.scan.seen_line;
        self.scan.feed(piece);
        // Parse when the head may be complete, and once when the status line is: a reply
        // that is not HTTP at all is refused at once rather than when the peer gives up.
        if self.scan.hit || (!had_status_line && self.scan.seen_line) {
            self.scan.hit = false;
            let start = self.pos.saturating_sub(old as u64);
            if let Some((n, head, framing)) = parse_head_bytes(&self.head_buf, &self.limits, start)?
            {
                let used = n.checked_sub(old).ok_or_else(|| {
                    malformed("response head ended inside bytes already consumed".to_string())
                })?;
                self.head_buf.clear();
                self.scan = HeadScan::default();
                return Ok((used, Some((head, framing))));
            }
        }
        if self.head_buf.len() >= max {
            return Err(head_too_large(&self.limits));
        }
        Ok((take, None))
    }

    /// Handles a complete head: interim responses, then the framing decision of RFC 9112
    /// §6.3, in its order.
    fn on_head(
        &mut self,
        head: ResponseHead,
        f: Framing,
        body_start: u64,
    ) -> Result<Event<'static>, ProtoError> {
        let h = &head.headers;
        if (100..200).contains(&head.code) {
            if head.code == 101 {
                return Err(malformed(
                    "unexpected 101 Switching Protocols: no upgrade was requested".to_string(),
                ));
            }
            if f.content_length || f.transfer_encoding {
                // S-21
                return Err(malformed(format!(
                    "Response code {} cannot have body",
                    head.code
                )));
            }
            self.interim += 1;
            if self.interim > self.limits.max_interim {
                return Err(ProtoError::new(
                    ProtoErrorKind::TooManyInterim,
                    format!(
                        "Too many 1xx responses (more than {})",
                        self.limits.max_interim
                    ),
                ));
            }
            return Ok(Event::Interim(head));
        }
        self.keep_alive = match head.version {
            Version::Http11 => !f.close,
            Version::Http10 => f.keep_alive,
        };
        // §6.3 rule 1: HEAD, 204 and 304 have no body whatever the fields say (S-23, S-24,
        // S-25). A Content-Length there is still reported through the headers.
        if self.head_request || head.code == 204 || head.code == 304 {
            self.state = State::EndPending;
            return Ok(Event::Head(head));
        }
        // Rule 2: a 2xx to CONNECT turns the connection into a tunnel.
        if self.connect_request && (200..300).contains(&head.code) {
            self.tunnel = true;
            self.keep_alive = false;
            self.state = State::EndPending;
            return Ok(Event::Head(head));
        }
        // Rules 3 and 4: Transfer-Encoding.
        if f.transfer_encoding {
            if f.content_length {
                // S-10: a smuggling vector; refused rather than letting TE override.
                return Err(malformed(
                    "Message with both Transfer-Encoding and Content-Length".to_string(),
                ));
            }
            let codings = h.get_list("transfer-encoding");
            let chunked_only = codings.len() == 1
                && codings
                    .first()
                    .is_some_and(|c| c.eq_ignore_ascii_case("chunked"));
            if !chunked_only {
                // S-09: only "chunked" (any case); lists such as "gzip, chunked" too.
                let all: Vec<&str> = h.get_all("transfer-encoding").collect();
                return Err(malformed(format!(
                    "Unsupported Transfer-Encoding {:?}",
                    all.join(", ")
                )));
            }
            if head.version == Version::Http10 {
                // §6.1: a 1.0 message with Transfer-Encoding has faulty framing; read it but
                // never reuse the connection.
                self.keep_alive = false;
            }
            let limits = ChunkedLimits {
                max_line: self.limits.max_chunk_line,
                max_trailer_bytes: self.limits.max_head_bytes,
                max_trailer_fields: self.limits.max_headers,
                max_body: self.limits.max_body,
            };
            let dec = ChunkedDecoder::with_offset(limits, body_start);
            self.state = State::Chunked(Box::new(dec));
            self.expects_body = true;
            return Ok(Event::Head(head));
        }
        // Rule 5: Content-Length.
        if let Some(n) = if let Some(i) = f.content_length_at {
            content_length(h.value_at(i).into_iter())?
        } else if f.content_length {
            content_length(h.get_all("content-length"))?
        } else {
            None
        } {
            if let Some(max) = self.limits.max_body
                && n > max
            {
                // S-18: refused before reading the body.
                return Err(ProtoError::new(
                    ProtoErrorKind::BodyTooLarge,
                    format!("Content-Length too long: {n} bytes, the limit is {max}"),
                ));
            }
            self.content_length = Some(n);
            self.expects_body = n > 0;
            self.state = State::Length(n);
            return Ok(Event::Head(head));
        }
        // Rule 7: read until the connection closes (S-06).
        self.keep_alive = false;
        self.expects_body = true;
        self.state = State::UntilClose;
        Ok(Event::Head(head))
    }

    /// The peer closed. Ends a close-delimited body (`End { keep_alive: false }`); anything
    /// else unfinished is an error: no byte at all ([`ProtoErrorKind::NoResponse`]), a head cut
    /// short ([`ProtoErrorKind::IncompleteHead`]) or a body cut short
    /// ([`ProtoErrorKind::Incomplete`]).
    pub fn eof(&mut self) -> Result<Event<'static>, ProtoError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let r = match &self.state {
            State::Head if self.pos == 0 && self.head_buf.is_empty() => Err(ProtoError::new(
                ProtoErrorKind::NoResponse,
                "Stream closed: connection closed before any response byte".to_string(),
            )),
            State::Head
                if let Err(e) = parse_head_bytes(
                    &self.head_buf,
                    &self.limits,
                    self.pos.saturating_sub(self.head_buf.len() as u64),
                ) =>
            {
                Err(e)
            }
            State::Head if self.head_buf.is_empty() && self.interim > 0 => Err(ProtoError::new(
                ProtoErrorKind::IncompleteHead,
                format!(
                    "connection closed after {} interim (1xx) response(s), before the final response",
                    self.interim
                ),
            )),
            State::Head => Err(ProtoError::new(
                ProtoErrorKind::IncompleteHead,
                format!(
                    "connection closed in the middle of a response head ({} bytes received)",
                    self.head_buf.len()
                ),
            )),
            State::Length(rem) if *rem > 0 => Err(ProtoError::new(
                ProtoErrorKind::Incomplete,
                format!(
                    "body incomplete: {} of {} bytes received",
                    self.body_bytes,
                    self.content_length.unwrap_or(0)
                ),
            )),
            // RFC 9112 §7.1: the message ends with the CRLF after the trailer section; a
            // close before it is an incomplete message, even after the last chunk.
            State::Chunked(dec) if dec.in_trailer() => Err(ProtoError::new(
                ProtoErrorKind::Incomplete,
                format!(
                    "chunked body incomplete: {} bytes and the last chunk received, closed before the end of the trailer section",
                    self.body_bytes
                ),
            )),
            State::Chunked(_) => Err(ProtoError::new(
                ProtoErrorKind::Incomplete,
                format!(
                    "chunked body incomplete: {} bytes received, no last chunk",
                    self.body_bytes
                ),
            )),
            _ => {
                self.state = State::Done;
                Ok(Event::End { keep_alive: false })
            }
        };
        if let Err(e) = &r {
            self.failed = Some(e.clone());
        }
        r
    }

    /// Whether `End` was returned.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Body bytes seen so far (on the wire, before content decoding).
    pub fn body_bytes(&self) -> u64 {
        self.body_bytes
    }

    /// Whether the final response has a body to read (false for HEAD, 204, 304, tunnels and
    /// `Content-Length: 0`; also false before the final head).
    pub fn expects_body(&self) -> bool {
        self.expects_body
    }

    /// The Content-Length of the final response, when it framed the body.
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    /// Whether the response was a 2xx to CONNECT: the bytes after the head belong to the
    /// tunnel.
    pub fn is_tunnel(&self) -> bool {
        self.tunnel
    }

    /// Whether the body runs until the connection closes.
    pub fn is_close_delimited(&self) -> bool {
        matches!(self.state, State::UntilClose)
    }

    /// Total bytes consumed so far (heads and body, wire bytes).
    pub fn bytes_consumed(&self) -> u64 {
        self.pos
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{Outcome, feed_all_ways};
    use super::*;

    /// Parses `input` fed in all ways and renders the events; `close` calls eof() at the end.
    fn run_with(method: &str, limits: Limits, input: &[u8], close: bool) -> Outcome {
        feed_all_ways(input, |parts| {
            let mut p = ResponseParser::new(method, limits.clone());
            let mut out: Vec<String> = Vec::new();
            let mut data = Vec::new();
            let flush = |data: &mut Vec<u8>, out: &mut Vec<String>| {
                if !data.is_empty() {
                    out.push(format!("data {}", String::from_utf8_lossy(data)));
                    data.clear();
                }
            };
            let mut left = Vec::new();
            for part in parts {
                let mut rest: &[u8] = part;
                loop {
                    let (n, ev) = p.parse(rest).map_err(|e| format!("{:?}: {e}", e.kind))?;
                    assert!(n <= rest.len());
                    rest = rest.get(n..).unwrap_or_default();
                    match ev {
                        None if n == 0 => break,
                        None => {}
                        Some(Event::Data(d)) => data.extend_from_slice(d),
                        Some(ev) => {
                            flush(&mut data, &mut out);
                            out.push(render(&ev));
                        }
                    }
                }
                if p.is_done() {
                    left.extend_from_slice(rest);
                }
            }
            // Drain what needs no more input.
            loop {
                match p.parse(b"").map_err(|e| format!("{:?}: {e}", e.kind))? {
                    (_, None) => break,
                    (_, Some(Event::Data(_))) => unreachable!(),
                    (_, Some(ev)) => {
                        flush(&mut data, &mut out);
                        out.push(render(&ev));
                    }
                }
            }
            flush(&mut data, &mut out);
            if !left.is_empty() {
                out.push(format!("left {}", String::from_utf8_lossy(&left)));
            }
            if close && !p.is_done() {
                let ev = p.eof().map_err(|e| format!("{:?}: {e}", e.kind))?;
                out.push(render(&ev));
            }
            Ok(out)
        })
    }

    fn render(ev: &Event<'_>) -> String {
        match ev {
            Event::Interim(h) => format!("interim {} {}", h.code, h.reason),
            Event::Head(h) => format!(
                "head {} {} {}{}",
                h.version,
                h.code,
                h.reason,
                h.headers
                    .iter()
                    .map(|(n, v)| format!(" [{n}: {v}]"))
                    .collect::<String>()
            ),
            Event::Data(d) => format!("data {}", String::from_utf8_lossy(d)),
            Event::Trailers(t) => format!("trailers {t:?}"),
            Event::End { keep_alive } => format!("end keep_alive={keep_alive}"),
        }
    }

    fn ok(method: &str, input: &[u8], close: bool) -> Vec<String> {
        run_with(method, Limits::default(), input, close)
            .unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(input)))
    }

    fn err(method: &str, input: &[u8], close: bool) -> String {
        match run_with(method, Limits::default(), input, close) {
            Ok(v) => panic!("{} accepted: {v:?}", String::from_utf8_lossy(input)),
            Err(e) => e,
        }
    }

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn close_after_interim_or_in_trailers_names_what_was_missing() {
        // Bytes of a response arrived (the 100), so this is a head cut short (8), not "no
        // response" (52): cli.md "a head cut short after some bytes is 8 too".
        let e = err("GET", b"HTTP/1.1 100 Continue\r\n\r\n", true);
        assert_eq!(
            e,
            "IncompleteHead: connection closed after 1 interim (1xx) response(s), before the final response"
        );
        // RFC 9112 §7.1: chunked-body ends with the CRLF after the trailer section; a close
        // after the last chunk but before that CRLF leaves the message incomplete (18).
        let e = err(
            "GET",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n",
            true,
        );
        assert!(e.starts_with("Incomplete: "), "{e}");
        assert!(
            e.contains("closed before the end of the trailer section"),
            "{e}"
        );
        let e = err(
            "GET",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n",
            true,
        );
        assert!(e.contains("no last chunk"), "{e}");
    }

    #[test]
    fn content_length_body() {
        // S-07
        assert_eq!(
            ok(
                "GET",
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP",
                false
            ),
            v(&[
                "head HTTP/1.1 200 OK [Content-Length: 5]",
                "data hello",
                "end keep_alive=true",
                "left HTTP"
            ])
        );
    }

    #[test]
    fn content_length_incomplete_is_an_error() {
        // S-07: an early close is an error, never a short body.
        let e = err(
            "GET",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel",
            true,
        );
        assert_eq!(e, "Incomplete: body incomplete: 3 of 5 bytes received");
    }

    #[test]
    fn chunked_body() {
        // S-08: last chunk and close arriving together.
        assert_eq!(
            ok(
                "GET",
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
                true
            ),
            v(&[
                "head HTTP/1.1 200 OK [Transfer-Encoding: Chunked]",
                "data abc",
                "end keep_alive=true"
            ])
        );
    }

    #[test]
    fn chunk_errors_name_the_absolute_byte() {
        let input = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n";
        let e = err("GET", input, false);
        let at = input.len() - 4;
        assert_eq!(
            e,
            format!("Malformed: invalid chunk size at byte {at}: expected a hex digit, got 'z'")
        );
    }

    #[test]
    fn read_until_close() {
        // S-06, 1.0 and 1.1 alike; never keep-alive.
        for ver in ["1.0", "1.1"] {
            let input = format!("HTTP/{ver} 200 OK\r\nConnection: keep-alive\r\n\r\nall of it");
            assert_eq!(
                ok("GET", input.as_bytes(), true),
                v(&[
                    &format!("head HTTP/{ver} 200 OK [Connection: keep-alive]"),
                    "data all of it",
                    "end keep_alive=false"
                ])
            );
        }
    }

    #[test]
    fn keep_alive_decision() {
        let cases: [(&str, bool); 6] = [
            ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true),
            (
                "HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n",
                false,
            ),
            (
                "HTTP/1.1 200 OK\r\nConnection: te, close\r\nContent-Length: 0\r\n\r\n",
                false,
            ),
            ("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false),
            (
                "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n",
                true,
            ),
            (
                "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n0\r\n\r\n",
                false,
            ),
        ];
        for (input, ka) in cases {
            let out = ok("GET", input.as_bytes(), false);
            assert_eq!(
                out.last().unwrap(),
                &format!("end keep_alive={ka}"),
                "{input}"
            );
        }
    }

    #[test]
    fn no_body_responses() {
        // S-23, S-24, S-25 (section 0: 204/304 have no body whatever their headers say).
        for (method, status) in [
            ("HEAD", "200 OK"),
            ("GET", "204 No Content"),
            ("GET", "304 Not Modified"),
        ] {
            let input = format!(
                "HTTP/1.1 {status}\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\nNEXT"
            );
            let out = ok(method, input.as_bytes(), false);
            assert_eq!(out.len(), 3, "{out:?}");
            assert_eq!(out[1], "end keep_alive=true");
            assert_eq!(out[2], "left NEXT");
        }
        // S-25: an OPTIONS response with a body is read normally.
        let out = ok(
            "OPTIONS",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            false,
        );
        assert_eq!(out[1], "data ok");
    }

    #[test]
    fn connect_tunnel() {
        let mut p = ResponseParser::new("CONNECT", Limits::default());
        let input = b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01";
        let (n, ev) = p.parse(input).unwrap();
        assert!(matches!(ev, Some(Event::Head(_))));
        assert_eq!(
            p.parse(&input[n..]).unwrap(),
            (0, Some(Event::End { keep_alive: false }))
        );
        assert!(p.is_tunnel());
        assert_eq!(p.parse(&input[n..]).unwrap(), (0, None));
        // A non-2xx answer to CONNECT is an ordinary response.
        let out = ok(
            "CONNECT",
            b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 1\r\n\r\nx",
            false,
        );
        assert_eq!(out[1], "data x");
    }

    #[test]
    fn interim_responses() {
        // S-21, S-22: interim heads are reported, then the final one; one body.
        assert_eq!(
            ok(
                "POST",
                b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n\
                  HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
                false
            ),
            v(&[
                "interim 100 Continue",
                "interim 103 Early Hints",
                "head HTTP/1.1 200 OK [Content-Length: 2]",
                "data hi",
                "end keep_alive=true"
            ])
        );
        let mut many = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(10);
        many.extend_from_slice(b"HTTP/1.1 204 No Content\r\n\r\n");
        assert_eq!(ok("GET", &many, false).len(), 12);
        let mut too_many = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(11);
        too_many.extend_from_slice(b"HTTP/1.1 204 No Content\r\n\r\n");
        assert_eq!(
            err("GET", &too_many, false),
            "TooManyInterim: Too many 1xx responses (more than 10)"
        );
        assert_eq!(
            err(
                "GET",
                b"HTTP/1.1 100 Continue\r\nContent-Length: 1\r\n\r\n",
                false
            ),
            "Malformed: Response code 100 cannot have body"
        );
        assert!(
            err("GET", b"HTTP/1.1 101 Switching Protocols\r\n\r\n", false)
                .contains("no upgrade was requested")
        );
    }

    #[test]
    fn framing_errors() {
        let cases: &[(&[u8], &str)] = &[
            // S-09
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                "Malformed: Unsupported Transfer-Encoding \"gzip, chunked\"",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
                "Malformed: Unsupported Transfer-Encoding \"chunked, chunked\"",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n",
                "Malformed: Unsupported Transfer-Encoding \"identity\"",
            ),
            // S-10
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
                "Malformed: Message with both Transfer-Encoding and Content-Length",
            ),
            // S-16
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
                "Malformed: Multiple unequal Content-Lengths: 2 and 3",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\n",
                "Malformed: Multiple unequal Content-Lengths: 2 and 3",
            ),
            // S-17
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\n",
                "Malformed: Only integer Content-Length is allowed: \"+2\"",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                "Malformed: Only integer Content-Length is allowed: \"-1\"",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n",
                "Malformed: Only integer Content-Length is allowed: \"0x10\"",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
                "Malformed: Only integer Content-Length is allowed: \"\"",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n",
                "Malformed: Content-Length 18446744073709551616 is out of range",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(&err("GET", input, false), want);
        }
        // S-16: equal duplicates are fine.
        for cl in ["2,2", "2, 2,2", " 2 "] {
            let input =
                format!("HTTP/1.1 200 OK\r\nContent-Length: {cl}\r\nContent-Length: 2\r\n\r\nokX");
            assert_eq!(ok("GET", input.as_bytes(), false)[1], "data ok");
        }
    }

    #[test]
    fn body_limits() {
        // S-18: exactly the limit is fine; over it is refused before any body byte.
        let limits = Limits {
            max_body: Some(4),
            ..Limits::default()
        };
        let out = run_with(
            "GET",
            limits.clone(),
            b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfour",
            false,
        )
        .unwrap();
        assert_eq!(out[1], "data four");
        let e = run_with(
            "GET",
            limits.clone(),
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
            false,
        )
        .unwrap_err();
        assert_eq!(
            e,
            "BodyTooLarge: Content-Length too long: 5 bytes, the limit is 4"
        );
        // S-19: chunked and read-until-close bodies over the limit.
        let e = run_with(
            "GET",
            limits.clone(),
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            false,
        )
        .unwrap_err();
        assert!(e.starts_with("BodyTooLarge: chunked body too large"), "{e}");
        let e = run_with("GET", limits.clone(), b"HTTP/1.1 200 OK\r\n\r\nfive!", true).unwrap_err();
        assert!(e.starts_with("BodyTooLarge: Body too long"), "{e}");
        let out = run_with("GET", limits, b"HTTP/1.1 200 OK\r\n\r\nfour", true).unwrap();
        assert_eq!(out[1], "data four");
    }

    #[test]
    fn status_lines() {
        // S-01, S-02, S-03, S-05
        let cases: &[(&[u8], &str)] = &[
            (b"HTTP/1.1 200 OK\r\n\r\n", "head HTTP/1.1 200 OK"),
            (b"HTTP/1.1 200 \r\n\r\n", "head HTTP/1.1 200 OK"),
            (b"HTTP/1.1 200\r\n\r\n", "head HTTP/1.1 200 OK"),
            (
                b"HTTP/1.1 404 Nope Nope\r\n\r\n",
                "head HTTP/1.1 404 Nope Nope",
            ),
            (b"HTTP/1.0 599 \r\n\r\n", "head HTTP/1.0 599 Unknown"),
            (b"HTTP/1.1 999 Custom\r\n\r\n", "head HTTP/1.1 999 Custom"),
            (b"HTTP/1.1 000 \r\n\r\n", "head HTTP/1.1 0 Unknown"),
            (
                b"HTTP/1.1 200 Caf\xe9\r\n\r\n",
                "head HTTP/1.1 200 Caf\u{e9}",
            ),
            (b"HTTP/1.1 200 OK\nX: y\n\n", "head HTTP/1.1 200 OK [X: y]"), // S-28
            (b"\r\nHTTP/1.1 200 OK\r\n\r\n", "head HTTP/1.1 200 OK"),
        ];
        for (input, want) in cases {
            let out = ok("GET", input, true);
            assert_eq!(out[0], *want);
        }
    }

    #[test]
    fn malformed_status_lines() {
        // S-04
        let cases: &[(&[u8], &str)] = &[
            (
                b"HTTP/2.0 200 OK\r\n\r\n",
                "Unexpected HTTP version in status line at byte 5: \"HTTP/2\"",
            ),
            (
                b"HTTP/1.2 200 OK\r\n\r\n",
                "Unexpected HTTP version in status line at byte 7: \"HTTP/1.2\"",
            ),
            (
                b"http/1.1 200 OK\r\n\r\n",
                "Unexpected HTTP version in status line at byte 0: \"h\"",
            ),
            (
                b"HTTP/1.1 20 OK\r\n\r\n",
                "invalid status code in status line at byte 11",
            ),
            (
                b"HTTP/1.1 2000 OK\r\n\r\n",
                "invalid status code in status line at byte 12",
            ),
            (
                b"HTTP/1.1  200 OK\r\n\r\n",
                "invalid status code in status line at byte 9",
            ),
            (
                b"HTTP/1.1 200 O\x01K\r\n\r\n",
                "control character in the reason phrase in status line at byte 14",
            ),
            (
                b"HTTP/1.1 200 O\x7fK\r\n\r\n",
                "control character in the reason phrase",
            ),
            (
                b"HTTP/1.1 200 OK\rX\r\n\r\n",
                "CR without LF in status line at byte 15",
            ),
            (
                b"ICY 200 OK\r\n\r\n",
                "Unexpected HTTP version in status line at byte 0: \"I\"",
            ),
            (b"\n\nHTTP/1.1 200 OK\r\nX\r\n\r\n", "line 2 at byte 20"),
            (
                b"\rHTTP/1.1 200 OK\r\n\r\n",
                "malformed status line: stray CR at byte 0",
            ),
        ];
        for (input, want) in cases {
            let e = err("GET", input, true);
            assert!(
                e.starts_with("Malformed: ") && e.contains(want),
                "{e} (wanted {want})"
            );
        }
    }

    #[test]
    fn header_errors_and_folding() {
        // S-27 (section 0): obs-fold unfolded to one SP; whitespace right after the status
        // line is still an error.
        assert_eq!(
            ok(
                "GET",
                b"HTTP/1.1 200 OK\r\nX: a  \r\n \t b\r\nY: c\r\n\r\n",
                true
            )[0],
            "head HTTP/1.1 200 OK [X: a b] [Y: c]"
        );
        assert_eq!(
            ok("GET", b"HTTP/1.1 200 OK\r\nX:\r\n b\r\n  c\r\n\r\n", true)[0],
            "head HTTP/1.1 200 OK [X: b c]"
        );
        let e = err("GET", b"HTTP/1.1 200 OK\r\n X: a\r\n\r\n", true);
        assert!(e.contains("cannot start with whitespace"), "{e}");
        // S-29, S-28 (bare CR), S-30 (latin-1)
        let cases: &[(&[u8], &str)] = &[
            (
                b"HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n",
                "invalid header value in response head line 2 at byte 21: \"X: a\\0\"",
            ),
            (
                b"HTTP/1.1 200 OK\r\nA: 1\r\nX : a\r\n\r\n",
                "invalid header name in response head line 3 at byte 24",
            ),
            (b"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", "line 2"),
            (b"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", "line 2"),
        ];
        for (input, want) in cases {
            let e = err("GET", input, true);
            assert!(e.contains(want), "{e} (wanted {want})");
        }
        assert_eq!(
            ok("GET", b"HTTP/1.1 200 OK\r\nX: caf\xe9 \xa0\r\n\r\n", true)[0],
            "head HTTP/1.1 200 OK [X: caf\u{e9} \u{a0}]"
        );
    }

    #[test]
    fn head_limits() {
        // S-31
        let limits = Limits {
            max_head_bytes: 64,
            max_headers: 3,
            ..Limits::default()
        };
        let fits = b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nContent-Length: 0\r\n\r\n";
        assert!(fits.len() > 40);
        let e = run_with("GET", limits.clone(), fits, false).unwrap_err();
        assert!(e.starts_with("TooManyHeaders:"), "{e}");
        let exactly = b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nContent-Length: 0\r\n\r\n";
        let at = Limits {
            max_head_bytes: exactly.len(),
            ..limits.clone()
        };
        assert!(run_with("GET", at.clone(), exactly, false).is_ok());
        let under = Limits {
            max_head_bytes: exactly.len() - 1,
            ..limits
        };
        let e = run_with("GET", under, exactly, false).unwrap_err();
        assert!(e.starts_with("HeadTooLarge:"), "{e}");
        // More than 32 fields goes through the growing path.
        let mut big = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..100 {
            big.extend_from_slice(format!("H{i}: {i}\r\n").as_bytes());
        }
        big.extend_from_slice(b"\r\n");
        let mut p = ResponseParser::new("GET", Limits::default());
        match p.parse(&big).unwrap() {
            (n, Some(Event::Head(h))) => {
                assert_eq!(n, big.len());
                assert_eq!(h.headers.len(), 100);
            }
            other => panic!("{other:?}"),
        }
        let mut p = ResponseParser::new("GET", Limits::default());
        let over = [&big[..big.len() - 2], b"X: 1\r\n\r\n"].concat();
        assert_eq!(
            p.parse(&over).unwrap_err().kind,
            ProtoErrorKind::TooManyHeaders
        );
    }

    #[test]
    fn bad_status_line_refused_without_waiting_for_the_head_end() {
        let mut p = ResponseParser::new("GET", Limits::default());
        assert_eq!(p.parse(b"HTTP/").unwrap(), (5, None));
        let e = p.parse(b"2.0 200 OK\r\n").unwrap_err();
        assert!(e.to_string().starts_with("Unexpected HTTP version"), "{e}");
        // A bad header line cut short by a close is reported as what it is.
        let e = err("GET", b"HTTP/1.1 200 OK\r\nBad Name: x\r\n", true);
        assert!(e.starts_with("Malformed: invalid header name"), "{e}");
    }

    #[test]
    fn eof_cases() {
        let mut p = ResponseParser::new("GET", Limits::default());
        assert_eq!(p.eof().unwrap_err().kind, ProtoErrorKind::NoResponse);
        let e = err("GET", b"HTTP/1.1 200 OK\r\nContent-", true);
        assert!(e.starts_with("IncompleteHead:"), "{e}");
        let e = err("GET", b"HTTP/1.1 100 Continue\r\n\r\n", true);
        assert!(e.starts_with("IncompleteHead:"), "{e}");
        let e = err(
            "GET",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
            true,
        );
        assert!(e.starts_with("Incomplete:"), "{e}");
        let e = err(
            "GET",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
            true,
        );
        assert!(e.starts_with("Incomplete:"), "{e}");
        // Errors stick.
        let mut p = ResponseParser::new("GET", Limits::default());
        assert!(p.parse(b"HTTP/9").is_err());
        assert!(p.parse(b"").is_err());
        assert!(p.eof().is_err());
    }

    #[test]
    fn trailers_are_reported() {
        assert_eq!(
            ok(
                "GET",
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nX-T: 1\r\n\r\n",
                false
            ),
            v(&[
                "head HTTP/1.1 200 OK [Transfer-Encoding: chunked]",
                "data x",
                "trailers [(\"X-T\", \"1\")]",
                "end keep_alive=true"
            ])
        );
    }

    #[test]
    fn data_is_a_slice_of_the_input() {
        let input = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
        let mut p = ResponseParser::new("GET", Limits::default());
        let (n, _) = p.parse(input).unwrap();
        let rest = &input[n..];
        match p.parse(rest).unwrap() {
            (3, Some(Event::Data(d))) => assert_eq!(d.as_ptr(), rest.as_ptr()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unfold_replaces_each_fold() {
        assert_eq!(unfold(b"a\r\n b"), b"a b");
        assert_eq!(unfold(b"a \t\r\n\t b\n c"), b"a b c");
    }
}
