//! The client's side of TLS: which rustls configuration a request gets, and the handshake
//! under the connect deadline. The TLS machinery itself lives in `net::tls`.
//!
//! A request's `tls_config` wins over its four TLS options (T-05). Otherwise the options make a
//! `net::tls::TlsSettings`, whose configuration `net::tls::client_config` builds once and
//! caches, so a keep-alive client does not re-read its CA file for every connection.

//!
//! Without the `tls` feature an `https` URL is refused when the request is prepared (see
//! `prepare::check_scheme`), so no fetch gets here; `handshake` then says the same thing.

use std::net::SocketAddr;
use std::time::Instant;

use super::error::HttpError;
use super::prepare::Prepared;
use crate::ioloop::TcpStream;
use crate::net::Stream;

#[cfg(feature = "tls")]
pub(crate) async fn handshake(
    tcp: TcpStream,
    host: &str,
    peer: SocketAddr,
    req: &Prepared,
    deadline: Option<Instant>,
) -> Result<Stream, HttpError> {
    use super::deadline::{Phase, until};
    use super::error;
    use crate::net::tls::{TlsStream, client_config};
    let config = client_config(&req.opts.tls).map_err(error::tls_config_error)?;
    let hs = TlsStream::connect(tcp, host, config);
    let tls = until(deadline, hs, || Phase::Tls(peer).timeout_error())
        .await?
        .map_err(|e| error::tls_handshake_error(e, host, peer))?;
    Ok(Stream::Tls(Box::new(tls)))
}

#[cfg(not(feature = "tls"))]
pub(crate) async fn handshake(
    _tcp: TcpStream,
    host: &str,
    _peer: SocketAddr,
    _req: &Prepared,
    _deadline: Option<Instant>,
) -> Result<Stream, HttpError> {
    Err(HttpError::new(
        super::error::ErrorKind::UnsupportedScheme,
        format!("{}: {host}", super::prepare::NO_TLS),
    ))
}
