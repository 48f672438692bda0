//! TLS on our own loop: rustls as a state machine fed from a non-blocking
//! [`TcpStream`](crate::ioloop::TcpStream).
//!
//! rustls never touches a socket. It takes ciphertext in (`read_tls` + `process_new_packets`),
//! hands plaintext out (`reader()`), takes plaintext in (`writer()`) and queues ciphertext
//! records to send (`write_tls`). [`TlsStream`] is the glue, in the manner of rustls'
//! `tlsclient-mio` example: it reads the socket only when rustls has no plaintext left for
//! the caller, writes the socket whenever rustls has records queued, and turns "the socket
//! would block" into `Poll::Pending`, so the loop wakes the task when the socket is ready.
//!
//! Three choices shape it:
//! - Ciphertext is read from the socket into a 64 KiB buffer of our own, one `read` syscall
//!   for many records, and then fed to rustls (whose own reads are 4 KiB at a time).
//! - Plaintext written by the caller is encrypted into rustls' queue and the queue is sent
//!   with one vectored write, so a request head and body given together cost one syscall.
//! - Truncation is never silent: the peer closing TCP without a TLS `close_notify` alert is
//!   an error of kind [`UnexpectedEof`](std::io::ErrorKind::UnexpectedEof) carrying a
//!   [`TlsError`] of kind [`TlsErrorKind::Truncated`]. Whether that spoils a response (it does
//!   for a body delimited by the close, not for one whose length was known and complete) is
//!   the client's decision.
//!
//! Configuration ([`TlsSettings`] → [`client_config`]) follows Tornado's options:
//! `validate_cert`, `ca_certs`, `client_cert`/`client_key`, or a caller's own
//! `Arc<ClientConfig>` that then rules. Default roots are webpki-roots, replaced by the PEM
//! file `SSL_CERT_FILE` and/or the folder of PEM files `SSL_CERT_DIR` when set, as curl and
//! OpenSSL do. Configs are built once per distinct setting and shared (which also shares
//! rustls' session cache, so later connections resume). ALPN offers `http/1.1`; SNI is the
//! host name, never sent for an IP literal, which is verified against the certificate's IP
//! addresses instead.
//!
//! The files: `config` holds [`TlsSettings`] and the config cache ([`client_config`]),
//! including where the roots and the client identity are read from; `verify` the two
//! certificate verifiers (and the bit of DER they read); `error` [`TlsError`] and how rustls'
//! errors are named; `stream` [`TlsStream`] itself. Without the `tls` feature only the
//! settings and the error types remain: a request still carries its TLS options and an error
//! still has a kind, but nothing can connect.

mod config;
mod error;
#[cfg(feature = "tls")]
mod stream;
#[cfg(feature = "tls")]
mod verify;

pub use config::{SYSTEM_CA_DIRS, SYSTEM_CA_FILES, TlsSettings};
#[cfg(feature = "tls")]
pub use config::{build_client_config, client_config};
pub use error::{TlsError, TlsErrorKind};
#[cfg(feature = "tls")]
pub use stream::TlsStream;
