//! One request and its response on one connection: the only place where squall's client
//! code meets a socket.
//!
//! An exchange goes through two phases, and its type says which one it is in:
//!
//! - [`Exchange<HeadPhase>`]: the request is written (the head and a small body from the
//!   connection's write buffer, a large body in a second write, a `body_producer` polled
//!   right here, its output framed and flushed as the socket allows, see [`super::writer`]),
//!   and the response heads are read: [`next_head`](Exchange::next_head) yields interim
//!   (1xx) heads, then the final one, and nothing else. `send.rs` drives this phase
//!   (100-continue, early answers).
//! - [`Exchange<BodyPhase>`], after [`into_body`](Exchange::into_body): the body is read,
//!   and [`next_body`](Exchange::next_body) yields data, trailers, then the end, and nothing
//!   else. `reader.rs` drives this phase; at its end the connection goes back to the pool.
//!
//! The two phases are the two methods of the sans-IO parser (`parse_head`, `parse_body`), so
//! no caller meets a head inside a body or data before a head: there is no arm to write for it.
//!
//! Reading: bytes land in the connection's read buffer and the parser turns them into events.
//! Body data is handed out as a range of that buffer: the parser does not copy it, and
//! neither does this layer; only the consumer decides (append to the body, decode, give to a
//! callback). Nothing is read until the consumer asks for the next event, which is what gives
//! `fetch_streaming` its backpressure.

use std::future::poll_fn;
use std::io;
use std::marker::PhantomData;
use std::ops::Range;
use std::panic::AssertUnwindSafe;
use std::task::Poll;
use std::time::{Duration, Instant};

use super::callback::panic_text;
use super::conn::{Conn, ReadError};
use super::error::{self, ErrorKind, HttpError};
use super::request::ProducerFn;
use super::writer::BodyWriter;
use crate::http::response::{BodyEvent, HeadEvent, Limits, ProtoError, ResponseParser};

/// What the body phase yields, with data as a range of the connection's read buffer (read
/// it with [`Exchange::data`]).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BodyEv {
    Data(Range<usize>),
    Trailers,
    End { keep_alive: bool },
}

/// A failure of the exchange, and whether it is safe to retry on another connection: the
/// request was not (fully) seen by the server as far as we can tell — no response byte came.
pub(crate) struct Failure {
    pub error: HttpError,
    pub before_response: bool,
}

impl From<HttpError> for Failure {
    fn from(error: HttpError) -> Failure {
        Failure {
            error,
            before_response: false,
        }
    }
}

/// The phase of sending the request and reading the response heads.
pub(crate) struct HeadPhase;

/// The phase of reading the body, after the final head.
pub(crate) struct BodyPhase;

/// One request and its response on `conn`, in phase `P` ([`HeadPhase`] or [`BodyPhase`]).
pub(crate) struct Exchange<P> {
    conn: Box<Conn>,
    parser: ResponseParser,
    /// Some response byte arrived.
    got_bytes: bool,
    first_byte_at: Option<Instant>,
    idle_timeout: Option<Duration>,
    /// Largest the read buffer may grow to hold one head.
    max_buffer: usize,
    /// Largest the read buffer may grow for a big body (one read, `max_buffer_size`).
    max_read: usize,
    eof: bool,
    /// The body was not (fully) sent, or the exchange broke: never pool the connection.
    must_close: bool,
    phase: PhantomData<P>,
}

impl<P> Exchange<P> {
    fn io_failure(&self, e: io::Error, writing: bool) -> Failure {
        let before_response = !self.got_bytes;
        Failure {
            error: error::io_error(e, before_response, writing, self.conn.peer),
            before_response,
        }
    }

    fn proto_failure(&mut self, e: ProtoError) -> Failure {
        self.must_close = true;
        Failure::from(error::proto_error(e))
    }

    /// `idle_timeout` ran out with no byte received.
    fn idle_failure(&self) -> Failure {
        let d = self.idle_timeout.unwrap_or_default();
        Failure::from(error::idle_timeout(d, self.conn.peer))
    }

    /// Reads more bytes into the buffer; `Ok(0)` is EOF.
    async fn read_more(&mut self) -> Result<usize, Failure> {
        if !self.conn.has_read_buf() && !self.conn.stream.is_tls() {
            // No buffer while nothing is due: a plain connection waits for the socket to be
            // readable first, and only then takes its buffer (TLS may hold decrypted bytes
            // already, so it reads at once).
            let tcp = self.conn.stream.tcp();
            let ready = match self.idle_timeout {
                None => Ok(tcp.readable().await),
                Some(d) => crate::ioloop::timeout(d, tcp.readable()).await,
            };
            match ready {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(self.io_failure(e, false)),
                Err(_) => return Err(self.idle_failure()),
            }
        }
        let (max_buffer, max_read) = (self.max_buffer, self.max_read);
        let read = self.conn.read_more(max_buffer, max_read);
        let result = match self.idle_timeout {
            None => read.await,
            Some(d) => match crate::ioloop::timeout(d, read).await {
                Ok(r) => r,
                Err(_) => return Err(self.idle_failure()),
            },
        };
        match result {
            Ok(n) => {
                if n > 0 && !self.got_bytes {
                    self.got_bytes = true;
                    self.first_byte_at = Some(Instant::now());
                }
                Ok(n)
            }
            Err(ReadError::Full) => Err(Failure::from(error::head_too_large())),
            Err(ReadError::Io(e)) => Err(self.io_failure(e, false)),
        }
    }

    /// Reads more for a parser that needs more: `Ok(false)` when the peer closed instead (the
    /// phase asks the parser what the close means).
    async fn fill(&mut self) -> Result<bool, Failure> {
        if self.eof {
            // The parser wants input after the close was reported: it is confused.
            self.must_close = true;
            return Err(Failure {
                error: error::connection_closed(),
                before_response: !self.got_bytes,
            });
        }
        if self.read_more().await? > 0 {
            return Ok(true);
        }
        self.eof = true;
        self.must_close = true;
        if !self.got_bytes {
            return Err(Failure {
                error: error::stream_closed(),
                before_response: true,
            });
        }
        Ok(false)
    }
}

impl Exchange<HeadPhase> {
    pub fn new(
        conn: Box<Conn>,
        method: &str,
        limits: Limits,
        idle_timeout: Option<Duration>,
        max_read: usize,
    ) -> Exchange<HeadPhase> {
        let max_buffer = limits
            .max_head_bytes
            .saturating_mul(2)
            .max(conn.read_size());
        Exchange {
            conn,
            parser: ResponseParser::new(method, limits),
            got_bytes: false,
            first_byte_at: None,
            idle_timeout,
            max_buffer,
            max_read,
            eof: false,
            must_close: false,
            phase: PhantomData,
        }
    }

    /// Whether some response byte arrived (while the request was still being sent, it is an
    /// early answer).
    pub fn got_bytes(&self) -> bool {
        self.got_bytes
    }

    /// The connection will not be reused (its request was not sent whole, or the answer
    /// came before the body).
    pub fn close_after(&mut self) {
        self.must_close = true;
    }

    /// The next response head, reading as needed: interim (1xx) heads, then the final one.
    pub async fn next_head(&mut self) -> Result<HeadEvent, Failure> {
        loop {
            match self.parser.parse_head(self.conn.unparsed()) {
                Ok((n, ev)) => {
                    self.conn.consume(n);
                    if let Some(ev) = ev {
                        return Ok(ev);
                    }
                    if n > 0 {
                        continue;
                    }
                }
                Err(e) => return Err(self.proto_failure(e)),
            }
            if !self.fill().await? {
                // A close before the final head: the parser says what was cut short. (It
                // has no "end" for this phase; should it ever accept the close, the
                // connection still closed mid-response.)
                return Err(match self.parser.finish_at_eof() {
                    Err(e) => self.proto_failure(e),
                    Ok(()) => Failure::from(error::connection_closed()),
                });
            }
        }
    }

    /// The final head is in: the body phase begins.
    pub fn into_body(self) -> Exchange<BodyPhase> {
        Exchange {
            conn: self.conn,
            parser: self.parser,
            got_bytes: self.got_bytes,
            first_byte_at: self.first_byte_at,
            idle_timeout: self.idle_timeout,
            max_buffer: self.max_buffer,
            max_read: self.max_read,
            eof: self.eof,
            must_close: self.must_close,
            phase: PhantomData,
        }
    }

    /// The connection's write buffer, emptied, for the request head.
    pub fn start_request(&mut self) -> &mut Vec<u8> {
        self.conn.start_request()
    }

    /// What was written into the write buffer for this request.
    pub fn request(&self) -> &[u8] {
        self.conn.request()
    }

    /// Appends `data` (a small body) behind the head, to leave in the same write.
    pub fn append_to_request(&mut self, data: &[u8]) {
        self.conn.append_to_request(data);
    }

    /// Sends the write buffer, then `then` (in one `writev` where the socket takes it); the
    /// buffer is freed once the whole request is sent (see [`request_sent`](Self::request_sent)).
    pub async fn send_request(&mut self, then: &[u8]) -> Result<(), Failure> {
        match self.conn.send_request(then).await {
            Ok(()) => Ok(()),
            Err(e) => {
                self.must_close = true;
                Err(self.io_failure(e, true))
            }
        }
    }

    /// The whole request is sent: the write buffer is not needed until the next request on
    /// this connection.
    pub fn request_sent(&mut self) {
        self.conn.request_sent();
    }

    /// Writes `data`.
    pub async fn write(&mut self, data: &[u8]) -> Result<(), Failure> {
        match self.conn.stream.write_all(data).await {
            Ok(()) => Ok(()),
            Err(e) => {
                self.must_close = true;
                Err(self.io_failure(e, true))
            }
        }
    }

    /// Runs a body producer to its end, flushing its output as the socket allows.
    pub async fn produce(
        &mut self,
        producer: &ProducerFn,
        declared: Option<u64>,
    ) -> Result<(), Failure> {
        let (writer, shared) = BodyWriter::new(declared);
        // A panic in the producer (its call or a poll of its future) fails this fetch with a
        // Callback error; it does not unwind through the fetch into the loop.
        let called = std::panic::catch_unwind(AssertUnwindSafe(|| producer(writer)));
        let mut fut = match called {
            Ok(fut) => fut,
            Err(p) => {
                self.must_close = true;
                return Err(Failure {
                    error: HttpError::new(
                        ErrorKind::Callback,
                        format!("body_producer panicked: {}", panic_text(&p)),
                    ),
                    before_response: false,
                });
            }
        };
        let mut finished = false;
        let stream = &self.conn.stream;
        let outcome: Result<(), Result<io::Error, String>> = poll_fn(|cx| {
            loop {
                let mut progressed = false;
                {
                    let mut s = shared.borrow_mut();
                    while !s.pending().is_empty() {
                        match stream.poll_write(cx, s.pending()) {
                            Poll::Ready(Ok(0)) => {
                                return Poll::Ready(Err(Ok(io::ErrorKind::WriteZero.into())));
                            }
                            Poll::Ready(Ok(n)) => {
                                s.advance(n);
                                progressed = true;
                            }
                            Poll::Ready(Err(e)) => return Poll::Ready(Err(Ok(e))),
                            Poll::Pending => break,
                        }
                    }
                    // TLS queues records: push them out whenever the buffer drained, so
                    // nothing sits in rustls while the producer waits.
                    let flushed = if s.pending().is_empty() {
                        match stream.poll_flush(cx) {
                            Poll::Ready(Ok(())) => true,
                            Poll::Ready(Err(e)) => return Poll::Ready(Err(Ok(e))),
                            Poll::Pending => false,
                        }
                    } else {
                        false
                    };
                    if finished && flushed {
                        s.closed = true;
                        return Poll::Ready(Ok(()));
                    }
                }
                if !finished {
                    let before = {
                        let s = shared.borrow();
                        s.buf.len() - s.sent
                    };
                    let polled =
                        std::panic::catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx)));
                    let polled = match polled {
                        Ok(p) => p,
                        Err(p) => {
                            shared.borrow_mut().closed = true;
                            return Poll::Ready(Err(Err(format!(
                                "body_producer panicked: {}",
                                panic_text(&p)
                            ))));
                        }
                    };
                    match polled {
                        Poll::Ready(Ok(())) => {
                            finished = true;
                            progressed = true;
                            let mut s = shared.borrow_mut();
                            if let Some(limit) = s.declared
                                && s.written < limit
                            {
                                let short = limit - s.written;
                                s.closed = true;
                                return Poll::Ready(Err(Err(format!(
                                    "Tried to write {short} bytes less than Content-Length"
                                ))));
                            }
                            if s.chunked {
                                s.buf.extend_from_slice(b"0\r\n\r\n");
                            }
                        }
                        Poll::Ready(Err(e)) => {
                            shared.borrow_mut().closed = true;
                            return Poll::Ready(Err(Err(format!("body_producer failed: {e}"))));
                        }
                        Poll::Pending => {
                            let s = shared.borrow();
                            if s.buf.len() - s.sent != before {
                                progressed = true;
                            }
                        }
                    }
                }
                if !progressed {
                    return Poll::Pending;
                }
            }
        })
        .await;
        shared.borrow_mut().closed = true;
        match outcome {
            Ok(()) => Ok(()),
            Err(Ok(e)) => {
                self.must_close = true;
                Err(self.io_failure(e, true))
            }
            Err(Err(msg)) => {
                self.must_close = true;
                Err(Failure {
                    error: HttpError::new(ErrorKind::Callback, msg),
                    before_response: false,
                })
            }
        }
    }
}

impl Exchange<BodyPhase> {
    /// The response's Content-Length, when it framed the body with one.
    pub fn declared_length(&self) -> Option<u64> {
        self.parser.content_length()
    }

    /// Whether the response has a body to read (not HEAD, 1xx, 204, 304).
    pub fn expects_body(&self) -> bool {
        self.parser.expects_body()
    }

    /// When the first response byte arrived.
    pub fn first_byte_at(&self) -> Option<Instant> {
        self.first_byte_at
    }

    /// The bytes of a [`BodyEv::Data`] range.
    pub fn data(&self, r: Range<usize>) -> &[u8] {
        self.conn.bytes(r)
    }

    /// The next body event the bytes already received make, without reading: `None` when the
    /// parser needs more input.
    pub fn buffered_body(&mut self) -> Result<Option<BodyEv>, Failure> {
        loop {
            let (n, ev) = match self.parser.parse_body(self.conn.unparsed()) {
                Ok((n, ev)) => (
                    n,
                    ev.map(|ev| match ev {
                        BodyEvent::Data(s) => BodyEv::Data(self.conn.range_of(s)),
                        BodyEvent::Trailers(_) => BodyEv::Trailers,
                        BodyEvent::End { keep_alive } => BodyEv::End { keep_alive },
                    }),
                ),
                Err(e) => return Err(self.proto_failure(e)),
            };
            self.conn.consume(n);
            if ev.is_some() || n == 0 {
                return Ok(ev);
            }
        }
    }

    /// The next body event, reading as needed.
    pub async fn next_body(&mut self) -> Result<BodyEv, Failure> {
        loop {
            if let Some(ev) = self.buffered_body()? {
                return Ok(ev);
            }
            if !self.fill().await? {
                // The close ends a close-delimited body; anything else was cut short.
                return match self.parser.finish_at_eof() {
                    Ok(()) => Ok(BodyEv::End { keep_alive: false }),
                    Err(e) => Err(self.proto_failure(e)),
                };
            }
        }
    }

    /// Whether the connection may go back to the pool after `End { keep_alive }`.
    pub fn reusable(&self, keep_alive: bool) -> bool {
        keep_alive && !self.must_close && !self.eof && self.conn.all_parsed()
    }

    /// The connection, for the pool.
    pub fn into_conn(self) -> Box<Conn> {
        self.conn
    }
}

#[cfg(test)]
mod tests;
