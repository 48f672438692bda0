//! What the response parser says: the flat [`Event`] of [`ResponseParser::parse`], and the
//! phase view of the same events ([`Phase`], [`HeadEvent`], [`BodyEvent`]) for callers that
//! read the head and then the body.
//!
//! These are the types the client matches on; keeping them apart from the state machine in
//! `response.rs` lets a reader see the parser's whole vocabulary in one short file.

use super::super::headers::HttpHeaders;
#[cfg(doc)]
use super::ResponseParser;
use super::head::ResponseHead;

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

/// Which part of a response the parser reads next, and so which events can come: the
/// explicit form of the diagram above.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Reading a head: [`ResponseParser::parse_head`] yields interim heads, then the final one.
    Head,
    /// After the final head: [`ResponseParser::parse_body`] yields data, trailers, then `End`.
    /// A response without a body passes through this phase too, with `End` alone.
    Body,
    /// `End` was returned.
    Done,
}

/// What the head phase yields ([`ResponseParser::parse_head`]).
#[derive(Debug, PartialEq, Eq)]
pub enum HeadEvent {
    /// An interim (1xx) head; the parser stays in [`Phase::Head`] and reads the next one.
    Interim(ResponseHead),
    /// The final head; the framing is decided and the parser is in [`Phase::Body`].
    Final(ResponseHead),
}

/// What the body phase yields ([`ResponseParser::parse_body`]).
#[derive(Debug, PartialEq, Eq)]
pub enum BodyEvent<'a> {
    /// Body bytes (still content-encoded): a slice of the input given to `parse_body`.
    Data(&'a [u8]),
    /// The trailer fields of a chunked body, when there were any.
    Trailers(HttpHeaders),
    /// The message is complete; see [`Event::End`] for `keep_alive`.
    End {
        /// Whether the connection may be reused.
        keep_alive: bool,
    },
}

impl From<HeadEvent> for Event<'static> {
    fn from(ev: HeadEvent) -> Event<'static> {
        match ev {
            HeadEvent::Interim(h) => Event::Interim(h),
            HeadEvent::Final(h) => Event::Head(h),
        }
    }
}

impl<'a> From<BodyEvent<'a>> for Event<'a> {
    fn from(ev: BodyEvent<'a>) -> Event<'a> {
        match ev {
            BodyEvent::Data(d) => Event::Data(d),
            BodyEvent::Trailers(t) => Event::Trailers(t),
            BodyEvent::End { keep_alive } => Event::End { keep_alive },
        }
    }
}
