//! [`TlsError`] and [`TlsErrorKind`]: what a TLS failure is called, and the words it is told in.
//!
//! Kept apart from the stream so that it exists without the `tls` feature (a request still
//! carries TLS options, and an error still has a kind, when nothing can connect). With the
//! feature, [`classify`] turns rustls' errors into ours: certificate problems become
//! curl-like "certificate verify failed for HOST: ..." messages with the dates and names that
//! explain them, alerts are spelled out in words.

use std::fmt;
use std::io;
#[cfg(feature = "tls")]
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;

#[cfg(feature = "tls")]
use rustls::{CertificateError, pki_types::UnixTime};

/// What kind of TLS failure a [`TlsError`] is. (The CLI's `exit.rs` maps each kind to curl's
/// exit codes: that table lives with the command line, not in the library.)
///
/// More kinds may come: match with a `_` arm.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TlsErrorKind {
    /// The handshake failed: no common parameters, a TLS alert from the server (also one that
    /// arrives after our side of the handshake ended, such as "certificate required"), the
    /// connection closed during the handshake, or a host name unusable for TLS.
    Handshake,
    /// The server's certificate has expired.
    CertExpired,
    /// The server's certificate is not valid yet.
    CertNotYetValid,
    /// The server's certificate is not valid for the host name (or IP address) we asked for.
    CertWrongHost,
    /// The server's chain does not lead to a trusted root: self-signed, unknown CA, or an
    /// intermediate missing.
    UnknownIssuer,
    /// The server's certificate is unusable in another way: a CA certificate presented as
    /// the server's own, a bad signature, not valid for TLS servers, malformed.
    BadCertificate,
    /// The server did not answer with TLS (for instance it spoke plain HTTP).
    NotTls,
    /// The CA file (`ca_certs`, `SSL_CERT_FILE` or `SSL_CERT_DIR`) could not be read or holds
    /// no usable certificate.
    BadCaFile {
        /// The file or folder.
        path: PathBuf,
    },
    /// The client certificate or key file could not be read, holds no certificate or key, or
    /// the key does not fit the certificate.
    BadClientCert {
        /// The file at fault.
        path: PathBuf,
    },
    /// A socket error during the handshake.
    Io,
    /// The peer closed the connection without a TLS `close_notify`: data may be missing.
    Truncated,
    /// A TLS protocol error after application data had been received (a corrupt record, a
    /// fatal alert in mid-stream).
    Protocol,
}

impl TlsErrorKind {
    /// `true` for a failed certificate verification (curl's exit 60), `false` for every
    /// other failure, such as a handshake failure (35).
    pub fn is_verification_failure(&self) -> bool {
        matches!(
            self,
            TlsErrorKind::CertExpired
                | TlsErrorKind::CertNotYetValid
                | TlsErrorKind::CertWrongHost
                | TlsErrorKind::UnknownIssuer
                | TlsErrorKind::BadCertificate
        )
    }
}

/// A TLS failure: its [`kind`](TlsError::kind) and a message saying what went wrong, naming
/// the host or file (`certificate verify failed for example.com: certificate has expired
/// (not after 2020-01-01 00:00:00 UTC)`).
///
/// When a TLS failure happens inside [`TlsStream::poll_read`](super::TlsStream::poll_read) and
/// friends it travels as an [`io::Error`] whose inner error is this;
/// [`TlsError::from_io_error`] gets it back.
#[derive(Debug, Clone)]
pub struct TlsError {
    /// What kind of failure.
    pub kind: TlsErrorKind,
    message: String,
    pub(super) io_kind: Option<io::ErrorKind>,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl TlsError {
    #[cfg(feature = "tls")]
    pub(super) fn new(kind: TlsErrorKind, message: impl Into<String>) -> Self {
        TlsError {
            kind,
            message: message.into(),
            io_kind: None,
            source: None,
        }
    }

    #[cfg(feature = "tls")]
    pub(super) fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    #[cfg(feature = "tls")]
    pub(super) fn bad_ca(path: &Path, why: impl fmt::Display) -> Self {
        TlsError::new(
            TlsErrorKind::BadCaFile {
                path: path.to_owned(),
            },
            format!("bad CA certificate file {}: {why}", path.display()),
        )
    }

    #[cfg(feature = "tls")]
    pub(super) fn bad_client_cert(path: &Path, why: impl fmt::Display) -> Self {
        TlsError::new(
            TlsErrorKind::BadClientCert {
                path: path.to_owned(),
            },
            format!("bad client certificate file {}: {why}", path.display()),
        )
    }

    /// What kind of failure.
    pub fn kind(&self) -> &TlsErrorKind {
        &self.kind
    }

    /// The message (the same as `Display`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// See [`TlsErrorKind::is_verification_failure`].
    pub fn is_verification_failure(&self) -> bool {
        self.kind.is_verification_failure()
    }

    #[cfg(feature = "tls")]
    /// The rustls error behind this one, if any.
    pub fn rustls_error(&self) -> Option<&rustls::Error> {
        self.source.as_deref()?.downcast_ref()
    }

    /// The TLS error carried by an `io::Error` from a [`TlsStream`](super::TlsStream) read or
    /// write, if it is one (a truncation, an alert, a corrupt record); `None` for plain socket
    /// errors.
    pub fn from_io_error(e: &io::Error) -> Option<&TlsError> {
        e.get_ref()?.downcast_ref()
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TlsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<TlsError> for io::Error {
    fn from(e: TlsError) -> io::Error {
        let kind = match (&e.kind, e.io_kind) {
            (TlsErrorKind::Truncated, _) => io::ErrorKind::UnexpectedEof,
            (_, Some(kind)) => kind,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, e)
    }
}

#[cfg(feature = "tls")]
/// "CertificateRequired" -> "certificate required".
fn words(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push(' ');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(feature = "tls")]
/// A presented name as webpki formats it (`DnsName("a.example")`, `IpAddress(127.0.0.1)`)
/// without the wrapping: `a.example`, `127.0.0.1`.
fn san_text(name: &str) -> &str {
    for (prefix, suffix) in [("DnsName(\"", "\")"), ("IpAddress(", ")")] {
        if let Some(inner) = name
            .strip_prefix(prefix)
            .and_then(|r| r.strip_suffix(suffix))
        {
            return inner;
        }
    }
    name
}

#[cfg(feature = "tls")]
/// Seconds since the Unix epoch as `YYYY-MM-DD hh:mm:ss UTC` (civil-from-days, proleptic
/// Gregorian).
fn utc(t: UnixTime) -> String {
    let secs = t.as_secs();
    let (days, rem) = ((secs / 86400) as i64, secs % 86400);
    let (y, m, d) = crate::calendar::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(feature = "tls")]
/// Turns a rustls error into ours. `established`: application data has already been
/// received, so this is no longer a handshake failure.
pub(super) fn classify(err: rustls::Error, host: &str, established: bool) -> TlsError {
    use TlsErrorKind as K;
    let verify = |kind: K, why: String| {
        TlsError::new(kind, format!("certificate verify failed for {host}: {why}"))
    };
    let e = match &err {
        rustls::Error::InvalidCertificate(ce) => match ce {
            CertificateError::Expired => verify(K::CertExpired, "certificate has expired".into()),
            CertificateError::ExpiredContext { time, not_after } => verify(
                K::CertExpired,
                format!(
                    "certificate has expired (not after {}, now {})",
                    utc(*not_after),
                    utc(*time)
                ),
            ),
            CertificateError::NotValidYet => {
                verify(K::CertNotYetValid, "certificate is not yet valid".into())
            }
            CertificateError::NotValidYetContext { time, not_before } => verify(
                K::CertNotYetValid,
                format!(
                    "certificate is not yet valid (not before {}, now {})",
                    utc(*not_before),
                    utc(*time)
                ),
            ),
            CertificateError::NotValidForName => verify(
                K::CertWrongHost,
                format!("certificate is not valid for {host}"),
            ),
            CertificateError::NotValidForNameContext { presented, .. } => verify(
                K::CertWrongHost,
                format!(
                    "certificate is not valid for {host} (it is for: {})",
                    if presented.is_empty() {
                        "no names".to_string()
                    } else {
                        presented
                            .iter()
                            .map(|n| san_text(n))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ),
            ),
            CertificateError::UnknownIssuer => verify(
                K::UnknownIssuer,
                "unable to get local issuer certificate (self-signed certificate or unknown CA)"
                    .into(),
            ),
            CertificateError::Other(other) if other.to_string().contains("CaUsedAsEndEntity") => {
                verify(
                    K::BadCertificate,
                    "the server presented a CA certificate as its own".into(),
                )
            }
            CertificateError::BadSignature => {
                verify(K::BadCertificate, "certificate signature is invalid".into())
            }
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
                verify(
                    K::BadCertificate,
                    "certificate is not valid for TLS server authentication".into(),
                )
            }
            other => verify(
                K::BadCertificate,
                format!("{}", rustls::Error::InvalidCertificate(other.clone())),
            ),
        },
        rustls::Error::AlertReceived(alert) => TlsError::new(
            if established {
                K::Protocol
            } else {
                K::Handshake
            },
            format!(
                "TLS {} {host} failed: the server sent alert \"{}\"",
                if established {
                    "connection to"
                } else {
                    "handshake with"
                },
                words(&format!("{alert:?}"))
            ),
        ),
        other => TlsError::new(
            if established {
                K::Protocol
            } else {
                K::Handshake
            },
            format!(
                "TLS {} {host} failed: {other}",
                if established {
                    "connection to"
                } else {
                    "handshake with"
                }
            ),
        ),
    };
    e.with_source(err)
}

#[cfg(feature = "tls")]
#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> UnixTime {
        UnixTime::since_unix_epoch(Duration::from_secs(secs))
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc(at(0)), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(at(951_782_400)), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(at(1_700_000_000)), "2023-11-14 22:13:20 UTC");
        assert_eq!(utc(at(4_102_444_799)), "2099-12-31 23:59:59 UTC");
    }

    #[test]
    fn alert_and_name_text() {
        assert_eq!(words("CertificateRequired"), "certificate required");
        assert_eq!(words("HandshakeFailure"), "handshake failure");
        assert_eq!(san_text("DnsName(\"a.example\")"), "a.example");
        assert_eq!(san_text("IpAddress(127.0.0.1)"), "127.0.0.1");
        assert_eq!(san_text("DirectoryName"), "DirectoryName");
    }

    #[test]
    fn rustls_errors_are_classified() {
        let k = |e: rustls::Error, established| classify(e, "h.example", established).kind;
        let cert = rustls::Error::InvalidCertificate;
        assert_eq!(
            k(cert(CertificateError::Expired), false),
            TlsErrorKind::CertExpired
        );
        assert_eq!(
            k(cert(CertificateError::NotValidYet), false),
            TlsErrorKind::CertNotYetValid
        );
        assert_eq!(
            k(cert(CertificateError::NotValidForName), false),
            TlsErrorKind::CertWrongHost
        );
        assert_eq!(
            k(cert(CertificateError::UnknownIssuer), false),
            TlsErrorKind::UnknownIssuer
        );
        assert_eq!(
            k(cert(CertificateError::BadSignature), false),
            TlsErrorKind::BadCertificate
        );
        assert_eq!(
            k(cert(CertificateError::Revoked), false),
            TlsErrorKind::BadCertificate
        );
        let alert = || rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure);
        assert_eq!(k(alert(), false), TlsErrorKind::Handshake);
        assert_eq!(k(alert(), true), TlsErrorKind::Protocol);
        assert_eq!(
            k(rustls::Error::DecryptError, false),
            TlsErrorKind::Handshake
        );
        let e = classify(alert(), "h.example", false);
        assert_eq!(
            e.to_string(),
            "TLS handshake with h.example failed: the server sent alert \"handshake failure\""
        );
        assert!(matches!(
            e.rustls_error(),
            Some(rustls::Error::AlertReceived(_))
        ));
        let io: io::Error = e.into();
        assert_eq!(io.kind(), io::ErrorKind::InvalidData);
        assert_eq!(
            TlsError::from_io_error(&io).unwrap().kind,
            TlsErrorKind::Handshake
        );
    }
}
