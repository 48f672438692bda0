//! The client's side of TLS: which rustls configuration a request gets, and the handshake
//! under the connect deadline. The TLS machinery itself lives in `net::tls`.
//!
//! A request's `tls_config` wins over its four TLS options (T-05). Otherwise the options make a
//! `net::tls::TlsSettings`, whose configuration `net::tls::client_config` builds once and
//! caches, so a keep-alive client does not re-read its CA file for every connection.

use std::net::SocketAddr;
use std::time::Instant;

use super::connect::until;
use super::error::{ErrorKind, HttpError, TimeoutPhase};
use super::request::Prepared;
use crate::ioloop::TcpStream;
use crate::net::tls::{client_config, TlsSettings, TlsStream};
use crate::net::Stream;

pub(crate) async fn handshake(
    tcp: TcpStream,
    host: &str,
    peer: SocketAddr,
    req: &Prepared,
    deadline: Option<Instant>,
) -> Result<Stream, HttpError> {
    let config = match &req.tls_config {
        Some(c) => c.clone(),
        None => {
            let settings = TlsSettings {
                validate_cert: req.tls.validate_cert,
                ca_certs: req.tls.ca_certs.clone(),
                client_cert: req.tls.client_cert.clone(),
                client_key: req.tls.client_key.clone(),
            };
            client_config(&settings).map_err(|e| HttpError::new(ErrorKind::Tls(e.kind.clone()), e.to_string()))?
        }
    };
    let hs = TlsStream::connect(tcp, host, config);
    let tls = until(deadline, hs, || {
        HttpError::timeout(
            TimeoutPhase::TlsHandshake,
            format!("Timeout during TLS handshake with {peer}"),
        )
    })
    .await?
    .map_err(|e| HttpError::new(ErrorKind::Tls(e.kind.clone()), format!("{e} ({host}, {peer})")))?;
    Ok(Stream::Tls(Box::new(tls)))
}
