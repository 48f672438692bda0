//! Streaming a request body: [`BodyWriter`], the `write` a `body_producer` is given.
//!
//! The producer and the socket meet in a small shared buffer. `write(data).await` frames the
//! data (a chunk when the body is chunked), appends it, and then waits while the buffer holds
//! more than [`HIGH_WATER`] bytes; the engine, which polls the producer's future itself (no
//! task, no thread), empties the buffer into the socket and wakes the producer. So a slow
//! server slows the producer down instead of growing memory, and many small writes leave in
//! few syscalls.

use std::cell::RefCell;
use std::future::poll_fn;
use std::io;
use std::rc::Rc;
use std::task::{Poll, Waker};

/// Above this many buffered bytes, `write` waits for the socket.
pub const HIGH_WATER: usize = 64 * 1024;

/// The buffer the producer and the socket meet in, shared by the [`BodyWriter`] and the
/// exchange that sends what it holds.
pub(crate) struct BodyPipe {
    /// Framed bytes waiting for the socket; `buf[sent..]` is still to go.
    pub buf: Vec<u8>,
    pub sent: usize,
    pub chunked: bool,
    pub declared: Option<u64>,
    pub written: u64,
    /// The exchange is over (finished or failed): writes fail.
    pub closed: bool,
    pub waker: Option<Waker>,
}

impl BodyPipe {
    pub fn pending(&self) -> &[u8] {
        &self.buf[self.sent..]
    }

    /// Marks `n` more bytes as sent; wakes the producer once the buffer has room.
    pub fn advance(&mut self, n: usize) {
        self.sent += n;
        if self.sent == self.buf.len() {
            self.buf.clear();
            self.sent = 0;
        } else if self.sent > HIGH_WATER {
            self.buf.drain(..self.sent);
            self.sent = 0;
        }
        if self.buf.len() - self.sent <= HIGH_WATER
            && let Some(w) = self.waker.take()
        {
            w.wake();
        }
    }
}

/// The writer handed to a `body_producer`: `write(data).await` sends body bytes with flow
/// control. `write(b"")` sends nothing (no premature last chunk).
pub struct BodyWriter {
    pub(crate) shared: Rc<RefCell<BodyPipe>>,
}

impl BodyWriter {
    pub(crate) fn new(declared: Option<u64>) -> (BodyWriter, Rc<RefCell<BodyPipe>>) {
        let shared = Rc::new(RefCell::new(BodyPipe {
            buf: Vec::with_capacity(8 * 1024),
            sent: 0,
            chunked: declared.is_none(),
            declared,
            written: 0,
            closed: false,
            waker: None,
        }));
        (
            BodyWriter {
                shared: shared.clone(),
            },
            shared,
        )
    }

    /// Sends `data` as part of the body; waits while the socket cannot keep up. Fails when
    /// the request is over, or when more than the declared `Content-Length` is written.
    pub async fn write(&mut self, data: &[u8]) -> io::Result<()> {
        {
            let mut s = self.shared.borrow_mut();
            if s.closed {
                return Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the request is over",
                ));
            }
            if data.is_empty() {
                return Ok(());
            }
            if let Some(limit) = s.declared
                && s.written + data.len() as u64 > limit
            {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "Tried to write more data than Content-Length",
                ));
            }
            s.written += data.len() as u64;
            if s.chunked {
                push_chunk(&mut s.buf, data);
            } else {
                s.buf.extend_from_slice(data);
            }
        }
        poll_fn(|cx| {
            let mut s = self.shared.borrow_mut();
            if s.closed {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the request is over",
                )));
            }
            if s.buf.len() - s.sent <= HIGH_WATER {
                Poll::Ready(Ok(()))
            } else {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }

    /// Bytes written so far (before framing).
    pub fn written(&self) -> u64 {
        self.shared.borrow().written
    }
}

/// Appends `data` as one chunk (RFC 9112 §7.1): hex size, CRLF, data, CRLF.
pub(crate) fn push_chunk(out: &mut Vec<u8>, data: &[u8]) {
    use std::io::Write;
    let _ = write!(out, "{:X}\r\n", data.len());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}
