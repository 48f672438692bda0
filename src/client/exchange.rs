//! One request and its response on one connection: the only place where squall's client
//! code meets a socket.
//!
//! Writing: the head is serialised by the sans-IO core (`http::request::write_head`) into the
//! connection's reused write buffer; a small body is appended to it, so head and body leave in
//! one `write` (one syscall, one TCP segment). A large body follows in a second write; a
//! `body_producer` is polled right here, its output framed and flushed as the socket allows
//! ([`super::writer`]). With `expect_100_continue` the body waits for the server's `100`, for a
//! final response (which is then the answer: the body is never sent, and the connection is not
//! reused), or for about a second of silence, as curl does.
//!
//! Reading: bytes land in the connection's read buffer, the `ResponseParser` turns them into
//! events. Body data is handed out as a range of that buffer — the parser does not copy it,
//! and neither does this layer; only the consumer decides (append to the body, decode, give
//! to a callback). Nothing is read until the consumer asks for the next event, which is what
//! gives `fetch_streaming` its backpressure.

use std::future::poll_fn;
use std::io;
use std::ops::Range;
use std::panic::AssertUnwindSafe;
use std::task::Poll;
use std::time::{Duration, Instant};

use super::callback::panic_text;
use super::error::{self, ErrorKind, HttpError};
use super::pool::Conn;
use super::request::ProducerFn;
use super::writer::BodyWriter;
use crate::http::response::{Event, Limits, ProtoError, ResponseHead, ResponseParser};

/// What the parser said, with body data as a range of the connection's read buffer.
pub(crate) enum Ev {
    Interim(ResponseHead),
    Head(ResponseHead),
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

pub(crate) struct Exchange {
    pub conn: Box<Conn>,
    parser: ResponseParser,
    /// Some response byte arrived.
    pub got_bytes: bool,
    pub first_byte_at: Option<Instant>,
    idle_timeout: Option<Duration>,
    /// Largest the read buffer may grow to hold one head.
    max_buffer: usize,
    /// Largest the read buffer may grow for a big body (one read, `max_buffer_size`).
    max_read: usize,
    eof: bool,
    /// The body was not (fully) sent, or the exchange broke: never pool the connection.
    pub must_close: bool,
}

impl Exchange {
    pub fn new(
        conn: Box<Conn>,
        method: &str,
        limits: Limits,
        idle_timeout: Option<Duration>,
        max_read: usize,
    ) -> Exchange {
        let max_buffer = limits.max_head_bytes.saturating_mul(2).max(conn.read_size);
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
        }
    }

    /// The response's Content-Length, when it framed the body with one.
    pub fn declared_length(&self) -> Option<u64> {
        self.parser.content_length()
    }

    /// Whether the response has a body to read (not HEAD, 1xx, 204, 304).
    pub fn expects_body(&self) -> bool {
        self.parser.expects_body()
    }

    /// Whether the connection may go back to the pool after `End { keep_alive }`.
    pub fn reusable(&self, keep_alive: bool) -> bool {
        keep_alive && !self.must_close && !self.eof && self.conn.rpos == self.conn.rend
    }

    fn io_failure(&self, e: io::Error, writing: bool) -> Failure {
        let before_response = !self.got_bytes;
        Failure {
            error: error::io_error(e, before_response, writing, self.conn.peer),
            before_response,
        }
    }

    fn proto_failure(&self, e: ProtoError) -> Failure {
        Failure::from(error::proto_error(e))
    }

    /// `idle_timeout` ran out with no byte received.
    fn idle_failure(&self) -> Failure {
        let d = self.idle_timeout.unwrap_or_default();
        Failure::from(error::idle_timeout(d, self.conn.peer))
    }

    /// Reads more bytes into the buffer; `Ok(0)` is EOF.
    async fn read_more(&mut self) -> Result<usize, Failure> {
        let c = &mut self.conn;
        if c.rbuf.is_empty() {
            // No buffer while nothing is due: a plain connection waits for the socket to be
            // readable first, and only then takes its buffer (TLS may hold decrypted bytes
            // already, so it reads at once).
            if !c.stream.is_tls() {
                let tcp = c.stream.tcp();
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
            let c = &mut self.conn;
            c.rbuf = vec![0; c.read_size];
            c.rpos = 0;
            c.rend = 0;
        }
        let c = &mut self.conn;
        if c.rpos == c.rend {
            c.rpos = 0;
            c.rend = 0;
        } else if c.rend == c.rbuf.len() && c.rpos > 0 {
            c.rbuf.copy_within(c.rpos..c.rend, 0);
            c.rend -= c.rpos;
            c.rpos = 0;
        }
        if c.rend == c.rbuf.len() {
            if c.rbuf.len() >= self.max_buffer {
                return Err(Failure::from(error::head_too_large()));
            }
            let n = (c.rbuf.len() * 2).min(self.max_buffer);
            c.rbuf.resize(n, 0);
        }
        let result = match self.idle_timeout {
            None => c.stream.read(&mut c.rbuf[c.rend..]).await,
            Some(d) => {
                match crate::ioloop::timeout(d, c.stream.read(&mut c.rbuf[c.rend..])).await {
                    Ok(r) => r,
                    Err(_) => return Err(self.idle_failure()),
                }
            }
        };
        match result {
            Ok(n) => {
                if n > 0 {
                    // A read that filled all the room says more is waiting: a big body. Let
                    // the buffer grow (to `max_read`) so it takes fewer, larger reads; small
                    // responses never fill it, so their connections keep the small buffer.
                    let filled = c.rend + n == c.rbuf.len();
                    c.rend += n;
                    if filled && c.rbuf.len() < self.max_read {
                        let grown = (c.rbuf.len() * 2).min(self.max_read);
                        c.rbuf.resize(grown, 0);
                    }
                    if !self.got_bytes {
                        self.got_bytes = true;
                        self.first_byte_at = Some(Instant::now());
                    }
                }
                Ok(n)
            }
            Err(e) => Err(self.io_failure(e, false)),
        }
    }

    /// The next event the bytes already received make, without reading: `None` when the
    /// parser needs more input.
    pub fn buffered(&mut self) -> Result<Option<Ev>, Failure> {
        loop {
            let c = &mut self.conn;
            let input = &c.rbuf[c.rpos..c.rend];
            let base = input.as_ptr() as usize;
            let start = c.rpos;
            match self.parser.parse(input) {
                Ok((n, Some(ev))) => {
                    let ev = match ev {
                        Event::Data(s) => {
                            let off = start + (s.as_ptr() as usize - base);
                            Ev::Data(off..off + s.len())
                        }
                        Event::Interim(h) => Ev::Interim(h),
                        Event::Head(h) => Ev::Head(h),
                        Event::Trailers(_) => Ev::Trailers,
                        Event::End { keep_alive } => Ev::End { keep_alive },
                    };
                    c.rpos += n;
                    return Ok(Some(ev));
                }
                Ok((n, None)) => {
                    c.rpos += n;
                    if n == 0 {
                        return Ok(None);
                    }
                }
                Err(e) => {
                    self.must_close = true;
                    return Err(self.proto_failure(e));
                }
            }
        }
    }

    /// The next parser event, reading as needed.
    pub async fn next(&mut self) -> Result<Ev, Failure> {
        loop {
            if let Some(ev) = self.buffered()? {
                return Ok(ev);
            }
            if self.eof {
                // parse() wants input after EOF was reported: the parser is confused.
                self.must_close = true;
                return Err(Failure {
                    error: error::connection_closed(),
                    before_response: !self.got_bytes,
                });
            }
            if self.read_more().await? == 0 {
                self.eof = true;
                self.must_close = true;
                if !self.got_bytes {
                    return Err(Failure {
                        error: error::stream_closed(),
                        before_response: true,
                    });
                }
                return match self.parser.eof() {
                    Ok(Event::End { keep_alive }) => Ok(Ev::End { keep_alive }),
                    Ok(_) => Ok(Ev::End { keep_alive: false }),
                    Err(e) => Err(self.proto_failure(e)),
                };
            }
        }
    }

    /// Writes all of `self.conn.wbuf`.
    pub async fn write_wbuf(&mut self) -> Result<(), Failure> {
        let c = &self.conn;
        match c.stream.write_all(&c.wbuf).await {
            Ok(()) => Ok(()),
            Err(e) => {
                self.must_close = true;
                Err(self.io_failure(e, true))
            }
        }
    }

    /// Writes `self.conn.wbuf` and then `data`, in one `writev` where the socket takes it.
    pub async fn write_wbuf_and(&mut self, data: &[u8]) -> Result<(), Failure> {
        let c = &self.conn;
        match c.stream.write_all_vectored(&[&c.wbuf, data]).await {
            Ok(()) => Ok(()),
            Err(e) => {
                self.must_close = true;
                Err(self.io_failure(e, true))
            }
        }
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
