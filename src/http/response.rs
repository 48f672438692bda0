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
//! [`ResponseParser::phase`] says where the parser is in that picture ([`Phase`]).
//! [`ResponseParser::parse`] yields every kind of [`Event`]; a caller that reads the head and
//! then the body can instead call [`ResponseParser::parse_head`], which yields only
//! [`HeadEvent`]s (interim or final), then [`ResponseParser::parse_body`], which yields only
//! [`BodyEvent`]s (data, trailers, end): no event of the wrong phase can reach it.
//!
//! Heads are parsed by httparse (fast, SIMD, fuzzed for years) with its strict defaults, except
//! that obs-fold is accepted and then unfolded here (each fold becomes one SP, RFC 9112 §5.2).
//! The head is bounded in bytes and in fields, the body by `max_body`, and every framing
//! ambiguity that has enabled request smuggling is an error rather than a guess.
//!
//! This file is the state machine: when a head may be complete, the framing decision and the
//! body states. Beside it, `response/head.rs` turns one head's bytes into a [`ResponseHead`]
//! (and defines it, [`Version`] and [`reason_phrase`]); `response/head_error.rs` words why
//! httparse refused a head; `response/event.rs` defines what the parser yields ([`Event`],
//! [`Phase`], [`HeadEvent`], [`BodyEvent`]); `response/tests.rs` and `response/tests/heads.rs`
//! hold the unit tests.

use super::chunked::{ChunkedDecoder, ChunkedEvent, ChunkedLimits};
use super::error::malformed;
// The error types lived here before `error.rs`; their old paths keep working.
pub use super::error::{ProtoError, ProtoErrorKind};

mod event;
mod head;
mod head_error;

pub use event::{BodyEvent, Event, HeadEvent, Phase};
use head::{Framing, HeadScan, head_too_large, parse_head_bytes};
pub use head::{ResponseHead, Version, reason_phrase};

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
        let step = match self.state {
            State::Head => self
                .head_step(input)
                .map(|(n, ev)| (n, ev.map(Event::from))),
            _ => self
                .body_step(input)
                .map(|(n, ev)| (n, ev.map(Event::from))),
        };
        self.account(step)
    }

    /// Which part of the response comes next.
    pub fn phase(&self) -> Phase {
        match self.state {
            State::Head => Phase::Head,
            State::Done => Phase::Done,
            _ => Phase::Body,
        }
    }

    /// [`parse`](Self::parse) for the head phase: interim heads, then the final head, and
    /// never a body byte. Called in another phase it fails (a bug in the caller, not in the
    /// reply; the parser is left as it was).
    pub fn parse_head(&mut self, input: &[u8]) -> Result<(usize, Option<HeadEvent>), ProtoError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if !matches!(self.state, State::Head) {
            return Err(self.misuse("parse_head"));
        }
        let step = self.head_step(input);
        self.account(step)
    }

    /// [`parse`](Self::parse) for the body phase: data, trailers, then `End`; `(0, None)`
    /// once done. Called before the final head it fails (a bug in the caller, not in the
    /// reply; the parser is left as it was).
    pub fn parse_body<'a>(
        &mut self,
        input: &'a [u8],
    ) -> Result<(usize, Option<BodyEvent<'a>>), ProtoError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if matches!(self.state, State::Head) {
            return Err(self.misuse("parse_body"));
        }
        let step = self.body_step(input);
        self.account(step)
    }

    /// The error for a phase method called in the wrong phase: a bug in the caller, so it
    /// is not kept in `failed` and the parser can still be used the right way.
    fn misuse(&self, call: &str) -> ProtoError {
        malformed(format!(
            "ResponseParser::{call} called in the {:?} phase",
            self.phase()
        ))
    }

    /// Moves the position past what a step consumed, or keeps its error for every later call.
    fn account<T>(
        &mut self,
        step: Result<(usize, Option<T>), ProtoError>,
    ) -> Result<(usize, Option<T>), ProtoError> {
        match step {
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

    /// One step of the head phase (the state is `Head`).
    fn head_step(&mut self, input: &[u8]) -> Result<(usize, Option<HeadEvent>), ProtoError> {
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

    /// One step of the body phase.
    fn body_step<'a>(
        &mut self,
        input: &'a [u8],
    ) -> Result<(usize, Option<BodyEvent<'a>>), ProtoError> {
        match &mut self.state {
            State::Head => Err(self.misuse("parse_body")),
            State::Length(remaining) => {
                if *remaining == 0 {
                    self.state = State::Done;
                    return Ok((
                        0,
                        Some(BodyEvent::End {
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
                    Some(BodyEvent::Data(input.get(..take).unwrap_or_default())),
                ))
            }
            State::Chunked(dec) => {
                let (n, ev) = dec.decode(input)?;
                self.body_bytes = dec.body_bytes();
                let ev = match ev {
                    None => None,
                    Some(ChunkedEvent::Data(d)) => Some(BodyEvent::Data(d)),
                    Some(ChunkedEvent::Trailers(h)) => Some(BodyEvent::Trailers(h)),
                    Some(ChunkedEvent::End) => {
                        self.state = State::Done;
                        Some(BodyEvent::End {
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
                Ok((input.len(), Some(BodyEvent::Data(input))))
            }
            State::EndPending => {
                self.state = State::Done;
                Ok((
                    0,
                    Some(BodyEvent::End {
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
    ) -> Result<HeadEvent, ProtoError> {
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
            return Ok(HeadEvent::Interim(head));
        }
        self.keep_alive = match head.version {
            Version::Http11 => !f.close,
            Version::Http10 => f.keep_alive,
        };
        // §6.3 rule 1: HEAD, 204 and 304 have no body whatever the fields say (S-23, S-24,
        // S-25). A Content-Length there is still reported through the headers.
        if self.head_request || head.code == 204 || head.code == 304 {
            self.state = State::EndPending;
            return Ok(HeadEvent::Final(head));
        }
        // Rule 2: a 2xx to CONNECT turns the connection into a tunnel.
        if self.connect_request && (200..300).contains(&head.code) {
            self.tunnel = true;
            self.keep_alive = false;
            self.state = State::EndPending;
            return Ok(HeadEvent::Final(head));
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
            return Ok(HeadEvent::Final(head));
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
            return Ok(HeadEvent::Final(head));
        }
        // Rule 7: read until the connection closes (S-06).
        self.keep_alive = false;
        self.expects_body = true;
        self.state = State::UntilClose;
        Ok(HeadEvent::Final(head))
    }

    /// The peer closed. Ends a close-delimited body (`End { keep_alive: false }`); anything
    /// else unfinished is an error: no byte at all ([`ProtoErrorKind::NoResponse`]), a head cut
    /// short ([`ProtoErrorKind::IncompleteHead`]) or a body cut short
    /// ([`ProtoErrorKind::Incomplete`]).
    pub fn eof(&mut self) -> Result<Event<'static>, ProtoError> {
        self.finish_at_eof()
            .map(|()| Event::End { keep_alive: false })
    }

    /// [`eof`](Self::eof) without the event: `Ok(())` means the close ended the message (the
    /// connection is not reusable), an error says what was cut short.
    pub fn finish_at_eof(&mut self) -> Result<(), ProtoError> {
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
                Ok(())
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
mod tests;
