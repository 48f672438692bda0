//! The `net` layer: everything between "a host name and a port" and "a byte stream the HTTP
//! client can talk over".
//!
//! The client's policy code (`client/`) never touches a socket API directly. It asks this
//! layer, in order:
//!
//! 1. [`dns`]: turn the host into addresses: a DNS stub resolver on the loop where the system
//!    allows it, else `getaddrinfo` on a small thread pool (it blocks), the answer coming
//!    back to the loop through a oneshot channel. IP literals and `localhost` skip both. The
//!    [`dns::Resolver`] trait makes it pluggable, and [`dns::HostnameMapping`] implements
//!    `hostname_mapping`.
//! 2. [`connect`](mod@connect): race the addresses with happy eyeballs (RFC 8305), taking in
//!    more as the resolver finds them ([`connect::connect_streaming`]), binding the source
//!    address first when `network_interface` is set, and honouring `allow_ipv6`. The winner
//!    is an [`crate::ioloop::TcpStream`] registered with the loop.
//! 3. [`tls`]: for `https`, wrap that stream in rustls (feature `tls`; without it the module
//!    keeps only the settings and error types, and an `https` URL is refused at fetch time).
//!
//! The result is a [`Stream`], plain or TLS, with one set of methods, so the HTTP code above
//! does not care which it has. Timeouts are not applied here: the client wraps each step in
//! [`crate::ioloop::timeout`] and names the phase that ran out.
//!
//! Nothing in this layer knows HTTP.
//!
//! The files, in the order above:
//!
//! - `dns/mod.rs`: the [`Resolver`] trait, [`ResolverChoice`], IP literals and `localhost`,
//!   [`HostnameMapping`]; `dns/threaded.rs`: [`ThreadedResolver`] (`getaddrinfo` on worker
//!   threads); `dns/stub.rs`: [`StubResolver`] and its configuration, with one lookup's
//!   queries in `dns/stub/lookup.rs`; `dns/message.rs`: DNS message types and building, the
//!   parser in `dns/message/parse.rs`; `dns/conf.rs`: resolv.conf, hosts and nsswitch;
//!   `dns/cache.rs`: the TTL cache.
//! - `connect.rs`: happy eyeballs, source binding, [`ConnectError`].
//! - `tls/mod.rs`: the TLS overview and re-exports; `tls/config.rs`: [`tls::TlsSettings`], the
//!   config cache, roots and client identity; `tls/verify.rs`: the certificate verifiers;
//!   `tls/error.rs`: [`tls::TlsError`] and its kinds; `tls/stream.rs`: `TlsStream` (feature
//!   `tls`).
//! - `vectored.rs`: the write-everything loop over vectored writes that both kinds of
//!   [`Stream`] use; this file: [`Stream`] itself and [`resolve_and_connect`].

use std::future::poll_fn;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::task::{Context, Poll};

use crate::ioloop::TcpStream;

pub mod connect;
pub mod dns;
pub mod tls;
mod vectored;

pub use connect::{ConnectError, ConnectOptions, connect, parse_network_interface};
pub use dns::{
    HostnameMapping, MappedResolver, Resolver, ResolverChoice, StubConfig, StubResolver,
    ThreadedResolver,
};

/// A connected stream the client talks HTTP over: plain TCP or TLS on top of TCP.
pub enum Stream {
    /// `http`: the TCP stream itself.
    Plain(TcpStream),
    /// `https`: rustls over the TCP stream (boxed: the TLS state is large). Feature `tls`.
    #[cfg(feature = "tls")]
    Tls(Box<tls::TlsStream>),
}

impl From<TcpStream> for Stream {
    fn from(s: TcpStream) -> Stream {
        Stream::Plain(s)
    }
}

#[cfg(feature = "tls")]
impl From<tls::TlsStream> for Stream {
    fn from(s: tls::TlsStream) -> Stream {
        Stream::Tls(Box::new(s))
    }
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.is_tls() { "Tls" } else { "Plain" };
        f.debug_struct("Stream")
            .field("kind", &kind)
            .field("peer", &self.peer_addr().ok())
            .finish()
    }
}

impl Stream {
    /// Whether this is a TLS stream.
    pub fn is_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        return matches!(self, Stream::Tls(_));
        #[cfg(not(feature = "tls"))]
        false
    }

    /// The TCP stream underneath (the stream itself for `Plain`).
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.get_ref(),
        }
    }

    /// Read some bytes into `buf`; `Ok(0)` is the end of the stream (for TLS, a clean
    /// `close_notify`; a TCP close without one is an error there).
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        match self {
            Stream::Plain(s) => s.poll_read(cx, buf),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.poll_read(cx, buf),
        }
    }

    /// Write some of `buf`, returning how much was taken. TLS may queue encrypted records:
    /// follow a series of writes with [`poll_flush`](Stream::poll_flush).
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self {
            Stream::Plain(s) => s.poll_write(cx, buf),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.poll_write(cx, buf),
        }
    }

    /// Write from several buffers at once (`writev` on plain TCP, packed records on TLS).
    pub fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self {
            Stream::Plain(s) => s.poll_write_vectored(cx, bufs),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.poll_write_vectored(cx, bufs),
        }
    }

    /// Push out anything written but still queued (TLS records); plain TCP queues nothing.
    #[cfg_attr(not(feature = "tls"), allow(unused_variables))]
    pub fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            Stream::Plain(_) => Poll::Ready(Ok(())),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.poll_flush(cx),
        }
    }

    /// Read some bytes into `buf`, waiting on the loop until some arrive (`Ok(0)`: end).
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf).await,
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.read(buf).await,
        }
    }

    /// Write all of `buf` (and, for TLS, flush it to the socket).
    pub async fn write_all(&self, buf: &[u8]) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.write_all(buf).await,
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.write_all(buf).await,
        }
    }

    /// Write all of `bufs` in order (say, a request head and its body) with as few syscalls
    /// as possible (`writev`), and flush.
    pub async fn write_all_vectored(&self, bufs: &[&[u8]]) -> io::Result<()> {
        match self {
            Stream::Plain(s) => {
                vectored::write_all_vectored(bufs, |cx, slices| s.poll_write_vectored(cx, slices))
                    .await
            }
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.write_all_vectored(bufs).await,
        }
    }

    /// Flush queued TLS records (nothing to do for plain TCP).
    pub async fn flush(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_flush(cx)).await
    }

    /// Close the write side cleanly: TLS sends `close_notify` and waits until it is written;
    /// both then shut the socket's write side. Reading may go on.
    pub async fn close(&self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.shutdown(Shutdown::Write),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.close().await,
        }
    }

    /// Shut down one or both directions without waiting (TLS queues a `close_notify` first
    /// and sends it if the socket takes it now).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.shutdown(how),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.shutdown(how),
        }
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.tcp().peer_addr()
    }

    /// The local address (shows the `network_interface` binding).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp().local_addr()
    }

    /// Read what is there right now without waiting: `Ok(0)` means the peer closed,
    /// `WouldBlock` that nothing is there, `Ok(n)` that (unexpected) data arrived.
    ///
    /// For the pool's staleness check on an idle connection, where only `WouldBlock` means
    /// "still reusable". TLS housekeeping records (session tickets, key updates) are consumed
    /// by the TLS layer and do not count as data.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.try_read(buf),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.try_read(buf),
        }
    }

    /// Whether an idle connection can be reused: nothing arrived and the peer did not close
    /// (see [`try_read`](Stream::try_read)). Consumes what it finds, so a `false` stream must
    /// be dropped.
    pub fn is_reusable(&self) -> bool {
        let mut probe = [0u8; 1];
        match self.try_read(&mut probe) {
            Err(e) => e.kind() == io::ErrorKind::WouldBlock,
            Ok(_) => false,
        }
    }
}

/// Resolve `host` with `resolver` and connect with `opts`: the two steps the client runs for
/// a new plain connection, as one call. The error is an `io::Error` whose text names the host
/// (resolve) or every address tried (connect); use the steps separately to time them apart.
pub async fn resolve_and_connect(
    resolver: &dyn Resolver,
    host: &str,
    port: u16,
    opts: &ConnectOptions,
) -> io::Result<(TcpStream, SocketAddr)> {
    let addrs = resolver.resolve(host, port).await?;
    connect(&addrs, opts).await.map_err(|e| {
        let kind = e
            .first_error()
            .map(|e| e.kind())
            .unwrap_or(io::ErrorKind::NotFound);
        io::Error::new(kind, e)
    })
}
