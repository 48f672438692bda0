//! Sockets on the loop: [`TcpStream`], [`TcpListener`], [`UdpSocket`].
//!
//! Each wraps a non-blocking mio socket in the reactor's `PollEvented`, which supplies the
//! readiness discipline (try, and on `WouldBlock` clear the flag and wait for the next edge).
//! The `poll_*` methods are the primitive; the `async fn`s are thin `poll_fn` wrappers.
//! Methods take `&self`, so one task can read and write the same stream, as Tornado's
//! `IOStream` does. Dropping a socket deregisters it and closes the descriptor.
//!
//! Connecting is the subtle part. A non-blocking `connect()` returns at once with the
//! handshake in flight; the kernel signals the outcome by making the socket *writable* (or
//! by an error/hang-up event). Then `SO_ERROR` (`take_error`) says whether it failed, e.g.
//! `ConnectionRefused`, and `peer_addr` succeeding says it really is connected.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::task::{Context, Poll};

use super::reactor::{Direction, PollEvented, READABLE, WRITABLE};

/// A TCP connection on the loop.
pub struct TcpStream {
    io: PollEvented<mio::net::TcpStream>,
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .finish()
    }
}

impl TcpStream {
    /// Open a connection to `addr` without blocking the loop.
    pub async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        let s = mio::net::TcpStream::connect(addr)?;
        TcpStream::finish_connect(s).await
    }

    /// Finish a non-blocking connect that was started elsewhere (e.g. with socket2, to bind
    /// a source address first): wait for writability, then check `SO_ERROR` and the peer.
    pub async fn connected(std: std::net::TcpStream) -> io::Result<TcpStream> {
        std.set_nonblocking(true)?;
        TcpStream::finish_connect(mio::net::TcpStream::from_std(std)).await
    }

    async fn finish_connect(s: mio::net::TcpStream) -> io::Result<TcpStream> {
        // Not writable until the kernel says the handshake ended.
        let io = PollEvented::new(s, 0);
        loop {
            poll_fn(|cx| io.poll_ready(cx, Direction::Write)).await?;
            if let Some(e) = io.get_ref().take_error()? {
                return Err(e);
            }
            match io.get_ref().peer_addr() {
                Ok(_) => break,
                Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                    if io.is_closed(Direction::Write) {
                        // Hung up without a pending error: the attempt failed.
                        return Err(io::Error::new(
                            io::ErrorKind::ConnectionRefused,
                            "connection closed while connecting",
                        ));
                    }
                    // Spurious edge: still connecting.
                    io.clear(Direction::Write);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(TcpStream { io })
    }

    /// Adopt an already connected std stream (made non-blocking here).
    pub fn from_std(std: std::net::TcpStream) -> io::Result<TcpStream> {
        std.set_nonblocking(true)?;
        Ok(TcpStream {
            io: PollEvented::new(mio::net::TcpStream::from_std(std), READABLE | WRITABLE),
        })
    }

    fn from_mio(s: mio::net::TcpStream) -> TcpStream {
        TcpStream {
            io: PollEvented::new(s, READABLE | WRITABLE),
        }
    }

    /// Read into `buf`. `Ok(0)` means end of stream (or an empty `buf`).
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let len = buf.len();
        self.io
            .poll_stream_io(cx, Direction::Read, len, |mut s| s.read(&mut *buf))
    }

    /// Write some of `buf`; returns how much was written.
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io
            .poll_stream_io(cx, Direction::Write, buf.len(), |mut s| s.write(buf))
    }

    /// Write some of `bufs` with one `writev` call.
    pub fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = bufs.iter().map(|b| b.len()).sum();
        self.io
            .poll_stream_io(cx, Direction::Write, len, |mut s| s.write_vectored(bufs))
    }

    /// Ready when a read may make progress (data, end of stream or an error).
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Read)
    }

    /// Ready when a write may make progress.
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Write)
    }

    /// Wait until a read may make progress.
    pub async fn readable(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_read_ready(cx)).await
    }

    /// Wait until a write may make progress.
    pub async fn writable(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_write_ready(cx)).await
    }

    /// Read into `buf`; `Ok(0)` is end of stream.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read(cx, buf)).await
    }

    /// Write some of `buf`.
    pub async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write(cx, buf)).await
    }

    /// Write all of `buf`.
    pub async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let n = self.write(buf).await?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "failed to write the whole buffer",
                ));
            }
            buf = &buf[n..];
        }
        Ok(())
    }

    /// A stale-connection check without a system call: `false` means no byte, end of stream
    /// or error has arrived since a read last found the socket empty (the reactor would have
    /// set the flag when the kernel reported it). `true` means "something may be there": a
    /// pool should then confirm with [`try_read`](TcpStream::try_read) before reusing an idle
    /// connection (the flag can also still be set from a read that filled its buffer
    /// exactly). Events are taken in once per loop iteration, so a close that the kernel
    /// saw after the loop last polled is not reflected yet, just as with `try_read`.
    pub fn is_read_ready(&self) -> bool {
        self.io.is_ready(Direction::Read)
    }

    /// Read what is there without waiting: `WouldBlock` when nothing is. Always asks the
    /// kernel, so it sees a close that happened while the stream sat idle.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Read, |mut s| s.read(buf))
    }

    /// Write what fits without waiting: `WouldBlock` when nothing does.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Write, |mut s| s.write(buf))
    }

    /// Shut down one or both directions (`Write` sends FIN).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Turn Nagle's algorithm off (`true`) or on.
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(on)
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

/// A TCP listening socket on the loop.
pub struct TcpListener {
    io: PollEvented<mio::net::TcpListener>,
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local", &self.local_addr().ok())
            .finish()
    }
}

impl TcpListener {
    /// Bind and listen on `addr` (`SO_REUSEADDR` on; port 0 picks a free port).
    pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: PollEvented::new(mio::net::TcpListener::bind(addr)?, READABLE),
        })
    }

    /// Adopt a std listener (made non-blocking here).
    pub fn from_std(std: std::net::TcpListener) -> io::Result<TcpListener> {
        std.set_nonblocking(true)?;
        Ok(TcpListener {
            io: PollEvented::new(mio::net::TcpListener::from_std(std), READABLE),
        })
    }

    /// Accept one connection.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        self.io
            .poll_io(cx, Direction::Read, |l| l.accept())
            .map_ok(|(s, a)| (TcpStream::from_mio(s), a))
    }

    /// Wait for and accept one connection.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

/// A UDP socket on the loop.
pub struct UdpSocket {
    io: PollEvented<mio::net::UdpSocket>,
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local", &self.local_addr().ok())
            .finish()
    }
}

impl UdpSocket {
    /// Bind to `addr` (port 0 picks a free port).
    pub fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            io: PollEvented::new(mio::net::UdpSocket::bind(addr)?, READABLE | WRITABLE),
        })
    }

    /// Adopt a std socket (made non-blocking here).
    pub fn from_std(std: std::net::UdpSocket) -> io::Result<UdpSocket> {
        std.set_nonblocking(true)?;
        Ok(UdpSocket {
            io: PollEvented::new(mio::net::UdpSocket::from_std(std), READABLE | WRITABLE),
        })
    }

    /// Set the default peer for `send`/`recv` (and filter incoming datagrams to it). No
    /// packet is sent, so this does not wait.
    pub fn connect(&self, addr: SocketAddr) -> io::Result<()> {
        self.io.get_ref().connect(addr)
    }

    /// Send one datagram to the connected peer.
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Write, |s| s.send(buf))
    }

    /// Receive one datagram from the connected peer (excess bytes of a long one are lost).
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Read, |s| s.recv(&mut *buf))
    }

    /// Send one datagram to `target`.
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Direction::Write, |s| s.send_to(buf, target))
    }

    /// Receive one datagram and its sender.
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io
            .poll_io(cx, Direction::Read, |s| s.recv_from(&mut *buf))
    }

    /// Send one datagram to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_send(cx, buf)).await
    }

    /// Receive one datagram from the connected peer.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_recv(cx, buf)).await
    }

    /// Send one datagram to `target`.
    pub async fn send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        poll_fn(|cx| self.poll_send_to(cx, buf, target)).await
    }

    /// Receive one datagram and its sender.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.poll_recv_from(cx, buf)).await
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }
}
