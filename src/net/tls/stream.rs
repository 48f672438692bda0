//! [`TlsStream`]: a rustls client connection driven by the loop over a [`TcpStream`].
//!
//! The glue the module docs describe: ciphertext read into a buffer of our own and fed to
//! rustls, plaintext handed out, queued records sent with vectored writes, and "the socket
//! would block" turned into `Poll::Pending`. The handshake, reads, writes and the clean close
//! (`close_notify`) all live here; what a failure is called is `error`'s business.

use std::cell::RefCell;
use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr};
use std::sync::Arc;
use std::task::{Context, Poll, Waker, ready};

use rustls::{
    ClientConfig, ClientConnection,
    pki_types::{CertificateDer, ServerName},
};

use super::error::{TlsError, TlsErrorKind, classify};
use crate::ioloop::TcpStream;
use crate::net::vectored::write_all_vectored;

/// Size of the ciphertext read buffer: several 16 KiB records per `read` syscall.
const READ_BUF: usize = 64 * 1024;

/// A TLS client connection over an [`ioloop::TcpStream`](TcpStream), driven by the loop.
///
/// Made by [`TlsStream::connect`], which runs the handshake. Methods take `&self` (the state
/// is in a `RefCell`, never borrowed across an `.await`), like `TcpStream`'s, so one task can
/// read and write. Dropping it closes the socket without a `close_notify`; call
/// [`close`](TlsStream::close) or [`shutdown`](TlsStream::shutdown) to send one.
pub struct TlsStream {
    tcp: TcpStream,
    inner: RefCell<TlsState>,
}

impl fmt::Debug for TlsStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.inner.borrow();
        f.debug_struct("TlsStream")
            .field("host", &inner.host)
            .field("peer", &self.tcp.peer_addr().ok())
            .field("version", &inner.conn.protocol_version())
            .finish_non_exhaustive()
    }
}

/// The session behind a [`TlsStream`]: rustls's state machine, the ciphertext read buffer,
/// and what has been seen and sent so far.
struct TlsState {
    conn: ClientConnection,
    host: String,
    rbuf: Box<[u8]>,
    rpos: usize,
    rlen: usize,
    tcp_eof: bool,
    first_byte_seen: bool,
    established: bool,
    close_sent: bool,
}

/// `io::Write` over the non-blocking socket for `ClientConnection::write_tls`: `Pending`
/// becomes `WouldBlock` (the waker is registered by then).
struct SockWriter<'a, 'b> {
    tcp: &'a TcpStream,
    cx: &'a mut Context<'b>,
}

impl Write for SockWriter<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.tcp.poll_write(self.cx, buf) {
            Poll::Ready(r) => r,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self.tcp.poll_write_vectored(self.cx, bufs) {
            Poll::Ready(r) => r,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The server name to verify (and to send as SNI): an IP literal (brackets and an IPv6 zone
/// stripped) is an IP address, anything else must be a valid DNS name.
fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let no_zone = bare.split('%').next().unwrap_or(bare);
    if let Ok(ip) = no_zone.parse::<IpAddr>() {
        return Ok(ServerName::IpAddress(ip.into()));
    }
    ServerName::try_from(bare.to_owned()).map_err(|_| {
        TlsError::new(
            TlsErrorKind::Handshake,
            format!("invalid host name for TLS: {host:?}"),
        )
    })
}

impl TlsStream {
    /// Runs the TLS handshake over a connected `tcp` for `server_name` (a host name or an IP
    /// literal, with or without brackets) with `config` (from
    /// [`client_config`](super::client_config)), and returns the established stream. Failures
    /// say what went wrong ([`TlsErrorKind`]). No timeout of its own: wrap it in
    /// `ioloop::timeout`; dropping the future closes the socket.
    pub async fn connect(
        tcp: TcpStream,
        server_name: &str,
        config: Arc<ClientConfig>,
    ) -> Result<TlsStream, TlsError> {
        let name = self::server_name(server_name)?;
        let conn =
            ClientConnection::new(config, name).map_err(|e| classify(e, server_name, false))?;
        let stream = TlsStream {
            tcp,
            inner: RefCell::new(TlsState {
                conn,
                host: server_name.to_owned(),
                rbuf: vec![0; READ_BUF].into_boxed_slice(),
                rpos: 0,
                rlen: 0,
                tcp_eof: false,
                first_byte_seen: false,
                established: false,
                close_sent: false,
            }),
        };
        poll_fn(|cx| stream.inner.borrow_mut().poll_handshake(&stream.tcp, cx)).await?;
        Ok(stream)
    }

    /// Reads decrypted data into `buf`. `Ok(0)` is a clean end (the server sent
    /// `close_notify`); a close without it is an error of kind `UnexpectedEof` carrying
    /// [`TlsErrorKind::Truncated`]. TLS failures come as `io::Error`s carrying a
    /// [`TlsError`] ([`TlsError::from_io_error`]).
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.inner.borrow_mut().poll_read(&self.tcp, cx, buf)
    }

    /// Encrypts (some of) `buf` and starts sending it. The returned count is accepted:
    /// encrypted and queued, sent as far as the socket takes it now; what is left goes out
    /// on the next write, flush or read. Waits only when the queue (64 KiB) is full.
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let mut inner = self.inner.borrow_mut();
        inner.poll_write_with(&self.tcp, cx, buf.is_empty(), |w| w.write(buf))
    }

    /// [`poll_write`](TlsStream::poll_write) for several buffers at once: they are packed
    /// into as few records as possible, and sent with one vectored write.
    pub fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let empty = bufs.iter().all(|b| b.is_empty());
        let mut inner = self.inner.borrow_mut();
        inner.poll_write_with(&self.tcp, cx, empty, |w| w.write_vectored(bufs))
    }

    /// Sends every queued record.
    pub fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.borrow_mut().poll_flush_tls(&self.tcp, cx)
    }

    /// Sends `close_notify` (once), flushes, and shuts the socket's write side.
    pub fn poll_shutdown(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut inner = self.inner.borrow_mut();
        if !inner.close_sent {
            inner.close_sent = true;
            inner.conn.send_close_notify();
        }
        ready!(inner.poll_flush_tls(&self.tcp, cx))?;
        Poll::Ready(ignore_not_connected(self.tcp.shutdown(Shutdown::Write)))
    }

    /// Reads decrypted data (see [`poll_read`](TlsStream::poll_read)).
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read(cx, buf)).await
    }

    /// Writes some of `buf` (see [`poll_write`](TlsStream::poll_write)).
    pub async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write(cx, buf)).await
    }

    /// Writes all of `buf` and flushes it to the socket: records go out in vectored writes
    /// of up to 64 KiB of ciphertext each.
    pub async fn write_all(&self, buf: &[u8]) -> io::Result<()> {
        let mut rest = buf;
        while !rest.is_empty() {
            let n = poll_fn(|cx| self.poll_write(cx, rest)).await?;
            rest = &rest[n..];
        }
        self.flush().await
    }

    /// Writes all of several buffers (say, a request head and its body) and flushes, packing
    /// them into as few records and syscalls as possible.
    pub async fn write_all_vectored(&self, bufs: &[&[u8]]) -> io::Result<()> {
        write_all_vectored(bufs, |cx, slices| self.poll_write_vectored(cx, slices)).await?;
        self.flush().await
    }

    /// Sends every queued record.
    pub async fn flush(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_flush(cx)).await
    }

    /// Closes cleanly: sends `close_notify`, waits until it is written, and shuts the
    /// socket's write side. Reading may go on (the server's own `close_notify` reads as 0).
    pub async fn close(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_shutdown(cx)).await
    }

    /// Shuts the connection down without waiting, as `TcpStream::shutdown`: for `Write` or
    /// `Both`, queues `close_notify` and sends it if the socket takes it now (best effort),
    /// then shuts the socket down.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        if how != Shutdown::Read {
            let mut inner = self.inner.borrow_mut();
            if !inner.close_sent {
                inner.close_sent = true;
                inner.conn.send_close_notify();
            }
            let mut cx = Context::from_waker(Waker::noop());
            let _ = inner.poll_flush_tls(&self.tcp, &mut cx);
        }
        ignore_not_connected(self.tcp.shutdown(how))
    }

    /// Reads without waiting: `WouldBlock` when nothing is there. For a pool's stale check:
    /// on an idle connection `WouldBlock` means alive, `Ok(0)` or an error means closed and
    /// `Ok(n)` means unexpected data. TLS housekeeping messages (session tickets, key
    /// updates) are consumed and do not count as data.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut cx = Context::from_waker(Waker::noop());
        match self.poll_read(&mut cx, buf) {
            Poll::Ready(r) => r,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    /// The TCP stream underneath.
    pub fn get_ref(&self) -> &TcpStream {
        &self.tcp
    }

    /// The server's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.peer_addr()
    }

    /// Our address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }

    /// The negotiated ALPN protocol (`b"http/1.1"` when the server chose it).
    pub fn alpn_protocol(&self) -> Option<Vec<u8>> {
        self.inner.borrow().conn.alpn_protocol().map(<[u8]>::to_vec)
    }

    /// The negotiated TLS version.
    pub fn protocol_version(&self) -> Option<rustls::ProtocolVersion> {
        self.inner.borrow().conn.protocol_version()
    }

    /// The negotiated cipher suite.
    pub fn cipher_suite(&self) -> Option<rustls::SupportedCipherSuite> {
        self.inner.borrow().conn.negotiated_cipher_suite()
    }

    /// The server's certificate chain, leaf first.
    pub fn peer_certificates(&self) -> Option<Vec<CertificateDer<'static>>> {
        let inner = self.inner.borrow();
        let certs = inner.conn.peer_certificates()?;
        Some(certs.iter().map(|c| c.clone().into_owned()).collect())
    }
}

fn ignore_not_connected(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
        r => r,
    }
}

impl TlsState {
    /// Sends queued records until the queue is empty (`Ready(Ok)`) or the socket is full
    /// (`Pending`, the writer waker registered).
    fn poll_flush_tls(&mut self, tcp: &TcpStream, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut SockWriter { tcp, cx }) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Feeds rustls one more piece of ciphertext (from our buffer, refilled from the socket
    /// when empty) and processes it. `Ready(Ok)` means progress: new records processed or EOF
    /// seen (then `tcp_eof` is set and rustls knows).
    fn poll_fill(&mut self, tcp: &TcpStream, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.rpos == self.rlen {
            if self.tcp_eof {
                // rustls was told; asking again means it still wants bytes that will never come.
                return Poll::Ready(Err(self.truncated().into()));
            }
            match ready!(tcp.poll_read(cx, &mut self.rbuf)) {
                Ok(0) => {
                    self.tcp_eof = true;
                    // A zero-length read tells rustls the transport ended.
                    let _ = self.conn.read_tls(&mut io::empty());
                    return Poll::Ready(Ok(()));
                }
                Ok(n) => {
                    self.rpos = 0;
                    self.rlen = n;
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
            if !self.first_byte_seen {
                self.first_byte_seen = true;
                // Every TLS record starts with a content type 20..=24.
                if !(20..=24).contains(&self.rbuf[0]) {
                    return Poll::Ready(Err(self.not_tls().into()));
                }
            }
        }
        let mut input = &self.rbuf[self.rpos..self.rlen];
        let n = match self.conn.read_tls(&mut input) {
            Ok(n) => n,
            Err(e) => {
                let err = TlsError::new(
                    if self.established {
                        TlsErrorKind::Protocol
                    } else {
                        TlsErrorKind::Handshake
                    },
                    format!("TLS error with {}: {e}", self.host),
                );
                return Poll::Ready(Err(err.into()));
            }
        };
        // 0: a close_notify was already received; what follows it is ignored.
        self.rpos = if n == 0 { self.rlen } else { self.rpos + n };
        if let Err(e) = self.conn.process_new_packets() {
            // rustls queued an alert telling the server why; send it if the socket takes it.
            let _ = self.poll_flush_tls(tcp, cx);
            return Poll::Ready(Err(classify(e, &self.host, self.established).into()));
        }
        Poll::Ready(Ok(()))
    }

    fn truncated(&self) -> TlsError {
        TlsError::new(
            TlsErrorKind::Truncated,
            format!(
                "TLS connection to {} closed without close_notify (data may be truncated)",
                self.host
            ),
        )
    }

    fn not_tls(&self) -> TlsError {
        let head = &self.rbuf[..self.rlen.min(16)];
        let what = if head.starts_with(b"HTTP/") || head.starts_with(b"<") {
            "spoke plain HTTP, not TLS".to_string()
        } else {
            format!(
                "did not answer with TLS (it sent {:?})",
                String::from_utf8_lossy(head)
            )
        };
        TlsError::new(
            TlsErrorKind::NotTls,
            format!("TLS handshake with {} failed: the server {what}", self.host),
        )
    }

    fn poll_handshake(
        &mut self,
        tcp: &TcpStream,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), TlsError>> {
        loop {
            let flushed = match self.poll_flush_tls(tcp, cx) {
                Poll::Ready(Ok(())) => true,
                Poll::Pending => false,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(self.handshake_io_error(e))),
            };
            if !self.conn.is_handshaking() {
                return if flushed {
                    Poll::Ready(Ok(()))
                } else {
                    Poll::Pending
                };
            }
            if !self.conn.wants_read() {
                if flushed {
                    return Poll::Ready(Err(TlsError::new(
                        TlsErrorKind::Handshake,
                        format!("TLS handshake with {} stalled", self.host),
                    )));
                }
                return Poll::Pending;
            }
            match ready!(self.poll_fill(tcp, cx)) {
                Err(e) => return Poll::Ready(Err(self.handshake_io_error(e))),
                Ok(()) if self.tcp_eof && self.rpos == self.rlen && self.conn.is_handshaking() => {
                    return Poll::Ready(Err(TlsError::new(
                        TlsErrorKind::Handshake,
                        format!(
                            "connection closed by {} during the TLS handshake",
                            self.host
                        ),
                    )));
                }
                Ok(()) => {}
            }
        }
    }

    fn handshake_io_error(&self, e: io::Error) -> TlsError {
        if let Some(tls) = TlsError::from_io_error(&e) {
            return tls.clone();
        }
        let mut err = TlsError::new(
            TlsErrorKind::Io,
            format!("TLS handshake with {} failed: {e}", self.host),
        );
        err.io_kind = Some(e.kind());
        err.with_source(e)
    }

    fn poll_read(
        &mut self,
        tcp: &TcpStream,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            match self.conn.reader().read(buf) {
                Ok(n) => {
                    if n > 0 {
                        self.established = true;
                    }
                    return Poll::Ready(Ok(n));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return Poll::Ready(Err(self.truncated().into()));
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
            // Keep our records moving (data written earlier, alerts, key-update replies). A
            // write failure is reported by the write path; reading goes on to what the
            // server sent.
            let _ = self.poll_flush_tls(tcp, cx);
            ready!(self.poll_fill(tcp, cx))?;
        }
    }

    fn poll_write_with(
        &mut self,
        tcp: &TcpStream,
        cx: &mut Context<'_>,
        empty: bool,
        mut write: impl FnMut(&mut rustls::Writer<'_>) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        if empty {
            return self.poll_flush_tls(tcp, cx).map_ok(|()| 0);
        }
        let mut retried = false;
        loop {
            let n = write(&mut self.conn.writer())?;
            if n > 0 {
                if let Poll::Ready(Err(e)) = self.poll_flush_tls(tcp, cx) {
                    return Poll::Ready(Err(e));
                }
                return Poll::Ready(Ok(n));
            }
            // The queue is full: wait until the socket took it, then try again.
            ready!(self.poll_flush_tls(tcp, cx))?;
            if retried {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "TLS connection accepts no more data (closed for writing)",
                )));
            }
            retried = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names() {
        let ip = |s: &str| match server_name(s).unwrap() {
            ServerName::IpAddress(ip) => IpAddr::from(ip),
            other => panic!("{other:?}"),
        };
        assert_eq!(ip("127.0.0.1"), IpAddr::from([127, 0, 0, 1]));
        assert_eq!(ip("[::1]"), "::1".parse::<IpAddr>().unwrap());
        assert_eq!(ip("::1"), "::1".parse::<IpAddr>().unwrap());
        assert_eq!(ip("[fe80::1%eth0]"), "fe80::1".parse::<IpAddr>().unwrap());
        assert!(matches!(
            server_name("Example.COM").unwrap(),
            ServerName::DnsName(_)
        ));
        let err = server_name("no spaces allowed").unwrap_err();
        assert_eq!(err.kind, TlsErrorKind::Handshake);
    }
}
