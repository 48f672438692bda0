//! One open connection: [`Conn`], its socket and its two buffers.
//!
//! A connection outlives the exchanges it carries: it moves from the pool to an exchange,
//! to the body reader, and back to the pool. What it owns is what must survive those moves:
//! the stream, the bytes received and not yet parsed (a [`ReadBuf`]), the scratch where a
//! request head is written, and the pool's bookkeeping (its host's place, its loop, its age).
//! The buffers are reached through the methods below, never by index from outside, so the
//! rules that keep them small (nothing allocated while idle) and right (no byte parsed twice
//! or skipped) are written once, here and in [`super::buffer`].

use std::io;
use std::net::SocketAddr;
use std::ops::Range;
use std::time::Instant;

use super::buffer::{Full, ReadBuf};
use super::pool::Permit;
use crate::ioloop::IoLoop;
use crate::net::Stream;

/// Room taken for a request head before it is written (a typical head fits).
const HEAD_RESERVE: usize = 512;

/// An open connection, with its buffers.
///
/// The buffers exist only while they are used. The read buffer is allocated (`read_size`
/// bytes) when the first byte of a response is ready to be read, grows while a big body
/// streams, and is freed when the connection goes idle; the write buffer holds a request head
/// until it is sent. So a connection waiting for its response, or idle in the pool, holds no
/// buffer at all: ten thousand of them cost little more than their sockets.
pub(crate) struct Conn {
    pub stream: Stream,
    pub peer: SocketAddr,
    /// Received and not yet parsed. Unallocated until bytes are due.
    rbuf: ReadBuf,
    /// Scratch for the request head (and a small body).
    wbuf: Vec<u8>,
    /// How many responses were read on it before the current one.
    pub(super) uses: u32,
    /// The loop whose reactor the socket is registered with (`IoLoop::id`).
    pub(super) loop_id: usize,
    pub(super) idle_since: Instant,
    pub(super) permit: Permit,
}

/// Why [`Conn::read_more`] read nothing.
pub(crate) enum ReadError {
    /// The read buffer is at its largest and holds no whole head.
    Full,
    /// The socket failed.
    Io(io::Error),
}

impl Conn {
    /// A freshly opened connection on this loop, holding its host's place (`permit`), whose
    /// read buffer will start at `read_size` bytes.
    /// Boxed: a connection moves between the pool, the exchange and the body reader on every
    /// request, and a pointer moves cheaper than its ~300 bytes.
    pub(super) fn new(
        stream: Stream,
        peer: SocketAddr,
        permit: Permit,
        read_size: usize,
    ) -> Box<Conn> {
        Box::new(Conn {
            stream,
            peer,
            rbuf: ReadBuf::new(read_size),
            wbuf: Vec::new(),
            uses: 0,
            loop_id: IoLoop::current().id(),
            idle_since: Instant::now(),
            permit,
        })
    }

    // --- reading ---------------------------------------------------------------------------

    /// The read buffer's size when it is allocated.
    pub fn read_size(&self) -> usize {
        self.rbuf.initial_size()
    }

    /// Whether the read buffer is allocated (bytes were due since the connection was idle).
    pub fn has_read_buf(&self) -> bool {
        self.rbuf.is_allocated()
    }

    /// Received bytes not yet parsed.
    pub fn unparsed(&self) -> &[u8] {
        self.rbuf.unparsed()
    }

    /// Whether every received byte was parsed (no stray bytes after a response).
    pub fn all_parsed(&self) -> bool {
        !self.rbuf.has_unparsed()
    }

    /// The parser consumed `n` bytes of [`unparsed`](Self::unparsed).
    pub fn consume(&mut self, n: usize) {
        self.rbuf.consume(n);
    }

    /// Where a slice of [`unparsed`](Self::unparsed) lies in the read buffer (see
    /// [`ReadBuf::range_of`]).
    pub fn range_of(&self, piece: &[u8]) -> Range<usize> {
        self.rbuf.range_of(piece)
    }

    /// The bytes of a range from [`range_of`](Self::range_of).
    pub fn bytes(&self, r: Range<usize>) -> &[u8] {
        self.rbuf.get(r)
    }

    /// Reads what the socket has into the read buffer (allocating it, making room: a head
    /// may grow it to `max_head_buf`, a big body to `max_read`); `Ok(0)` is EOF.
    pub async fn read_more(
        &mut self,
        max_head_buf: usize,
        max_read: usize,
    ) -> Result<usize, ReadError> {
        self.rbuf
            .make_room(max_head_buf)
            .map_err(|Full| ReadError::Full)?;
        let n = self
            .stream
            .read(self.rbuf.spare_mut())
            .await
            .map_err(ReadError::Io)?;
        self.rbuf.filled(n, max_read);
        Ok(n)
    }

    // --- writing ---------------------------------------------------------------------------

    /// The write buffer, emptied, for a request head to be written into.
    pub fn start_request(&mut self) -> &mut Vec<u8> {
        self.wbuf.clear();
        self.wbuf.reserve(HEAD_RESERVE);
        &mut self.wbuf
    }

    /// What was written into the write buffer since [`start_request`](Self::start_request).
    pub fn request(&self) -> &[u8] {
        &self.wbuf
    }

    /// Appends `data` to the write buffer (a small body behind the head).
    pub fn append_to_request(&mut self, data: &[u8]) {
        self.wbuf.extend_from_slice(data);
    }

    /// Sends the write buffer and then `then` (in one `writev` where the socket takes it).
    pub async fn send_request(&self, then: &[u8]) -> io::Result<()> {
        if then.is_empty() {
            self.stream.write_all(&self.wbuf).await
        } else {
            self.stream.write_all_vectored(&[&self.wbuf, then]).await
        }
    }

    /// The request left: the write buffer is not needed until the next one.
    pub fn request_sent(&mut self) {
        self.wbuf = Vec::new();
    }

    // --- in the pool -------------------------------------------------------------------------

    /// Non-blocking check of an idle connection: `true` when it is still open and silent.
    ///
    /// With `probe`, the kernel is asked (a `recv` that must say "would block"): a request that
    /// must not be replayed (a POST) takes a pooled connection only after the socket itself
    /// said it is quiet, and, on a connection's first reuse, only once it is no longer "hot"
    /// (`settle_at`). Without it, a plain
    /// connection is judged by the reactor's readiness flag alone — no syscall: after the last
    /// response was read the flag was cleared, and a close or stray byte since then has raised
    /// it again if the loop has polled since. The flag can lag behind a close that happened a
    /// moment ago, so `probe` is off only for requests that are safe to send again: if such a
    /// connection turns out dead before any response byte, the request is retried once on a
    /// new one. (Neither can see a FIN still on its way; a server that closes a keep-alive
    /// connection without saying so may still fail a POST sent in that instant, as in any
    /// client.)
    pub(super) fn still_usable(&mut self, probe: bool) -> bool {
        if !self.all_parsed() {
            return false;
        }
        if !probe
            && let Stream::Plain(tcp) = &self.stream
            && !tcp.is_read_ready()
        {
            return true;
        }
        let mut byte = [0u8; 1];
        matches!(
            self.stream.try_read(&mut byte),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock
        )
    }

    /// Frees the buffers of a connection going idle (the next request allocates them again,
    /// at their starting sizes, however much they grew).
    pub(super) fn release_buffers(&mut self) {
        self.rbuf.release();
        self.wbuf = Vec::new();
    }
}
