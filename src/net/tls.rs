//! TLS on our own loop: rustls as a state machine fed from a non-blocking [`TcpStream`].
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
//!   an error of kind [`io::ErrorKind::UnexpectedEof`] carrying a [`TlsError`] of kind
//!   [`TlsErrorKind::Truncated`]. Whether that spoils a response (it does for a body delimited
//!   by the close, not for one whose length was known and complete) is the client's decision.
//!
//! Configuration ([`TlsSettings`] → [`client_config`]) follows Tornado's options:
//! `validate_cert`, `ca_certs`, `client_cert`/`client_key`, or a caller's own
//! `Arc<ClientConfig>` that then rules. Default roots are webpki-roots, replaced by the PEM
//! file `SSL_CERT_FILE` and/or the folder of PEM files `SSL_CERT_DIR` when set, as curl and
//! OpenSSL do. Configs are built once per distinct setting and shared (which also shares
//! rustls' session cache, so later connections resume). ALPN offers `http/1.1`; SNI is the
//! host name, never sent for an IP literal, which is verified against the certificate's IP
//! addresses instead.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

// Without the `tls` feature only this module's settings and error types remain: a request
// still carries its TLS options and an error still has a kind, but nothing can connect.
#[cfg(feature = "tls")]
use std::{
    cell::RefCell,
    collections::{HashMap, HashSet},
    ffi::OsString,
    future::poll_fn,
    io::{IoSlice, Read, Write},
    net::{IpAddr, Shutdown, SocketAddr},
    path::Path,
    sync::{Mutex, OnceLock},
    task::{Context, Poll, Waker, ready},
};

#[cfg(feature = "tls")]
use rustls::{
    CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore,
    SignatureScheme,
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature},
    pki_types::pem::{self, PemObject},
    pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime},
};

#[cfg(feature = "tls")]
use crate::ioloop::TcpStream;

// ---------------------------------------------------------------------------------------------
// Settings and configs
// ---------------------------------------------------------------------------------------------

/// The TLS options of a request (Tornado's `validate_cert`, `ca_certs`, `client_cert`,
/// `client_key` and `ssl_options`). `Hash + Eq`, so a connection pool can key on it: a
/// connection made with `validate_cert: false` is never handed to a verifying request.
///
/// The default verifies certificates against the default roots, with no client certificate.
#[derive(Clone, Debug)]
pub struct TlsSettings {
    /// Verify the server's certificate chain and host name (default `true`). When `false` the
    /// handshake still happens, and its signatures are still checked, but any certificate is
    /// accepted.
    pub validate_cert: bool,
    /// A PEM file of CA certificates that replaces the default roots (only when verifying).
    pub ca_certs: Option<PathBuf>,
    /// A PEM file with the client certificate chain (leaf first), for mutual TLS. It may hold
    /// the private key as well.
    pub client_cert: Option<PathBuf>,
    /// A PEM file with the client's private key; without it the key is read from
    /// `client_cert`. Ignored without `client_cert`.
    pub client_key: Option<PathBuf>,
    /// A PEM file of CA certificates trusted in addition to the base roots (webpki-roots, the
    /// system bundle, `SSL_CERT_FILE`/`SSL_CERT_DIR` or `ca_certs`): for a private CA without
    /// giving up the public ones.
    pub extra_ca_certs: Option<PathBuf>,
    /// Use the system's CA bundle as the base roots instead of webpki-roots: the first of the
    /// usual Linux and BSD files found ([`SYSTEM_CA_FILES`]), else the certificates in the
    /// usual folders ([`SYSTEM_CA_DIRS`]). `SSL_CERT_FILE`/`SSL_CERT_DIR` and `ca_certs`
    /// still take precedence. None found is a `BadCaFile` error naming where it looked.
    pub system_roots: bool,
    /// Log the TLS secrets to the file named by `SSLKEYLOGFILE` (NSS key log format, for
    /// Wireshark). Off by default: a library never writes secrets unless its caller asks.
    pub key_log: bool,
    /// A caller's own rustls config. When set it rules: the options above are ignored.
    /// Compared by pointer for `Eq`/`Hash`. Feature `tls`.
    #[cfg(feature = "tls")]
    pub config: Option<Arc<ClientConfig>>,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            validate_cert: true,
            ca_certs: None,
            client_cert: None,
            client_key: None,
            extra_ca_certs: None,
            system_roots: false,
            key_log: false,
            #[cfg(feature = "tls")]
            config: None,
        }
    }
}

impl TlsSettings {
    /// The default settings: verify against the default roots, no client certificate.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets [`TlsSettings::validate_cert`].
    pub fn validate_cert(mut self, on: bool) -> Self {
        self.validate_cert = on;
        self
    }
    /// Sets [`TlsSettings::ca_certs`].
    pub fn ca_certs(mut self, pem_path: impl Into<PathBuf>) -> Self {
        self.ca_certs = Some(pem_path.into());
        self
    }
    /// Sets [`TlsSettings::client_cert`].
    pub fn client_cert(mut self, pem_path: impl Into<PathBuf>) -> Self {
        self.client_cert = Some(pem_path.into());
        self
    }
    /// Sets [`TlsSettings::client_key`].
    pub fn client_key(mut self, pem_path: impl Into<PathBuf>) -> Self {
        self.client_key = Some(pem_path.into());
        self
    }
    /// Sets [`TlsSettings::extra_ca_certs`].
    pub fn extra_ca_certs(mut self, pem_path: impl Into<PathBuf>) -> Self {
        self.extra_ca_certs = Some(pem_path.into());
        self
    }
    /// Sets [`TlsSettings::system_roots`].
    pub fn system_roots(mut self, on: bool) -> Self {
        self.system_roots = on;
        self
    }
    /// Sets [`TlsSettings::key_log`].
    pub fn key_log(mut self, on: bool) -> Self {
        self.key_log = on;
        self
    }
    /// Sets [`TlsSettings::config`].
    #[cfg(feature = "tls")]
    pub fn config(mut self, config: Arc<ClientConfig>) -> Self {
        self.config = Some(config);
        self
    }
}

impl PartialEq for TlsSettings {
    fn eq(&self, other: &Self) -> bool {
        self.validate_cert == other.validate_cert
            && self.ca_certs == other.ca_certs
            && self.client_cert == other.client_cert
            && self.client_key == other.client_key
            && self.extra_ca_certs == other.extra_ca_certs
            && self.system_roots == other.system_roots
            && self.key_log == other.key_log
            && self.same_config(other)
    }
}

impl TlsSettings {
    #[cfg(feature = "tls")]
    fn same_config(&self, other: &Self) -> bool {
        match (&self.config, &other.config) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    #[cfg(not(feature = "tls"))]
    fn same_config(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for TlsSettings {}

impl Hash for TlsSettings {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.validate_cert.hash(state);
        self.ca_certs.hash(state);
        self.client_cert.hash(state);
        self.client_key.hash(state);
        self.extra_ca_certs.hash(state);
        self.system_roots.hash(state);
        self.key_log.hash(state);
        #[cfg(feature = "tls")]
        self.config.as_ref().map(Arc::as_ptr).hash(state);
    }
}

#[cfg(feature = "tls")]
/// What a built config depends on: the settings, and the root-store environment variables
/// when the default roots are used (so changing them is seen by the next config).
#[derive(Clone, PartialEq, Eq, Hash)]
struct CacheKey {
    settings: TlsSettings,
    env_file: Option<OsString>,
    env_dir: Option<OsString>,
}

#[cfg(feature = "tls")]
impl CacheKey {
    fn new(settings: &TlsSettings) -> Self {
        let uses_env = settings.validate_cert && settings.ca_certs.is_none();
        let var = |name| std::env::var_os(name).filter(|v| uses_env && !v.is_empty());
        CacheKey {
            settings: settings.clone(),
            env_file: var("SSL_CERT_FILE"),
            env_dir: var("SSL_CERT_DIR"),
        }
    }
}

#[cfg(feature = "tls")]
type ConfigCache = Mutex<HashMap<CacheKey, Arc<ClientConfig>>>;

#[cfg(feature = "tls")]
fn cache() -> &'static ConfigCache {
    static CACHE: OnceLock<ConfigCache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

#[cfg(feature = "tls")]
fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

#[cfg(feature = "tls")]
/// The rustls config for `settings`: the caller's own when [`TlsSettings::config`] is set,
/// else one built by [`build_client_config`] the first time these settings are seen and
/// shared from then on (one config per distinct setting, per process). A failure (a bad PEM
/// file) is not cached: a later call reads the files again.
///
/// The files are read once: a CA or client-certificate file changed on disk afterwards is
/// not seen by settings already built.
pub fn client_config(settings: &TlsSettings) -> Result<Arc<ClientConfig>, TlsError> {
    if let Some(config) = &settings.config {
        return Ok(config.clone());
    }
    let key = CacheKey::new(settings);
    if let Some(config) = lock(cache()).get(&key) {
        return Ok(config.clone());
    }
    let built = Arc::new(build(settings, &key)?);
    Ok(lock(cache()).entry(key).or_insert(built).clone())
}

#[cfg(feature = "tls")]
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(feature = "tls")]
/// Builds a fresh rustls config for `settings`, uncached (see [`client_config`]), for a
/// caller who wants to adjust it and pass it back as [`TlsSettings::config`]. TLS 1.2 and
/// 1.3 with the ring provider, ALPN `http/1.1`, session resumption on, and key logging to
/// the file named by `SSLKEYLOGFILE` when [`TlsSettings::key_log`] asks for it.
pub fn build_client_config(settings: &TlsSettings) -> Result<ClientConfig, TlsError> {
    build(settings, &CacheKey::new(settings))
}

#[cfg(feature = "tls")]
fn build(settings: &TlsSettings, key: &CacheKey) -> Result<ClientConfig, TlsError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::new(TlsErrorKind::Handshake, format!("TLS setup failed: {e}")))?;
    let builder = if settings.validate_cert {
        let mut roots = match &settings.ca_certs {
            Some(path) => load_ca_file(path)?,
            None => default_roots(
                key.env_file.as_deref(),
                key.env_dir.as_deref(),
                settings.system_roots,
            )?,
        };
        if let Some(path) = &settings.extra_ca_certs {
            roots.roots.extend(load_ca_file(path)?.roots);
        }
        builder
            .dangerous()
            .with_custom_certificate_verifier(TrustedRoots::new(roots, provider.clone())?)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider)))
    };
    let mut config = match &settings.client_cert {
        Some(cert_path) => {
            let (chain, key) = load_client_identity(cert_path, settings.client_key.as_deref())?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| TlsError::bad_client_cert(cert_path, format!("unusable: {e}")))?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    if settings.key_log {
        // Reads SSLKEYLOGFILE; without it (or unwritable) nothing is logged.
        config.key_log = Arc::new(rustls::KeyLogFile::new());
    }
    Ok(config)
}

#[cfg(feature = "tls")]
/// Accepts any certificate chain (`validate_cert(false)`), but still checks that the
/// server's handshake signatures are made by the key of the certificate it sent, so the
/// handshake itself is sound.
#[derive(Debug)]
struct AcceptAnyCert(Arc<CryptoProvider>);

#[cfg(feature = "tls")]
impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(feature = "tls")]
/// webpki's verification against `roots` (what `with_root_certificates` installs), plus
/// one case OpenSSL, and so curl, accepts and webpki refuses: the server's certificate is
/// itself one of the trusted ones and says `CA:TRUE`. That is what `openssl req -x509` makes
/// by default (and Go's `httptest` serves): trusting that file with `--cacert` must work.
/// webpki refuses any CA certificate in the end-entity place (`CaUsedAsEndEntity`); here,
/// when the certificate's subject and key are those of a trust anchor, the names and the
/// validity period are checked instead, and the handshake's signature (checked by rustls
/// with the certificate's key) proves the server holds that anchor's key.
#[derive(Debug)]
struct TrustedRoots {
    webpki: Arc<rustls::client::WebPkiServerVerifier>,
    anchors: Vec<rustls::pki_types::TrustAnchor<'static>>,
}

#[cfg(feature = "tls")]
impl TrustedRoots {
    fn new(
        roots: RootCertStore,
        provider: Arc<CryptoProvider>,
    ) -> Result<Arc<TrustedRoots>, TlsError> {
        let anchors = roots.roots.clone();
        let webpki =
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| {
                    TlsError::new(TlsErrorKind::Handshake, format!("TLS setup failed: {e}"))
                })?;
        Ok(Arc::new(TrustedRoots { webpki, anchors }))
    }

    /// The server's own certificate is a trust anchor: same subject, same key.
    fn is_anchor(&self, end_entity: &CertificateDer<'_>) -> bool {
        let mut one = RootCertStore::empty();
        one.add(end_entity.clone().into_owned()).is_ok()
            && one.roots.first().is_some_and(|a| self.anchors.contains(a))
    }
}

#[cfg(feature = "tls")]
impl ServerCertVerifier for TrustedRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        match verdict {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(e)))
                if e.to_string().contains("CaUsedAsEndEntity") && self.is_anchor(end_entity) =>
            {
                let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
                rustls::client::verify_server_name(&parsed, server_name)?;
                let (not_before, not_after) = validity(end_entity).ok_or(
                    rustls::Error::InvalidCertificate(CertificateError::BadEncoding),
                )?;
                if now.as_secs() < not_before {
                    return Err(CertificateError::NotValidYet.into());
                }
                if now.as_secs() > not_after {
                    return Err(CertificateError::Expired.into());
                }
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

#[cfg(feature = "tls")]
/// One DER element: (tag, contents, the bytes after it). Definite lengths only, as DER has.
fn der_element(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = b.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &d| (acc << 8) | usize::from(d));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

#[cfg(feature = "tls")]
/// A certificate's validity period (RFC 5280 §4.1.2.5) in Unix seconds: (notBefore,
/// notAfter). `None` when the DER does not have that shape.
fn validity(cert: &[u8]) -> Option<(u64, u64)> {
    let (0x30, cert, _) = der_element(cert)? else {
        return None;
    };
    let (0x30, mut tbs, _) = der_element(cert)? else {
        return None;
    };
    // [0] version (optional), serialNumber, signature, issuer, then validity.
    let (tag, _, rest) = der_element(tbs)?;
    if tag == 0xa0 {
        tbs = rest;
    }
    for _ in 0..3 {
        tbs = der_element(tbs)?.2;
    }
    let (0x30, validity, _) = der_element(tbs)? else {
        return None;
    };
    let (t1, before, rest) = der_element(validity)?;
    let (t2, after, _) = der_element(rest)?;
    Some((der_time(t1, before)?, der_time(t2, after)?))
}

#[cfg(feature = "tls")]
/// UTCTime (`YYMMDDHHMMSSZ`, years 1950-2049) or GeneralizedTime (`YYYYMMDDHHMMSSZ`) as
/// RFC 5280 §4.1.2.5.1-2 allows them in certificates, in Unix seconds.
fn der_time(tag: u8, t: &[u8]) -> Option<u64> {
    let digits = |s: &[u8]| -> Option<u64> {
        s.iter().try_fold(0u64, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + u64::from(d - b'0'))
        })
    };
    let (year, rest) = match (tag, t.len()) {
        (0x17, 13) => {
            let yy = digits(&t[..2])?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &t[2..])
        }
        (0x18, 15) => (digits(&t[..4])?, &t[4..]),
        _ => return None,
    };
    if rest[10] != b'Z' || year < 1970 {
        return None;
    }
    let (month, day) = (digits(&rest[0..2])?, digits(&rest[2..4])?);
    let (h, m, s) = (
        digits(&rest[4..6])?,
        digits(&rest[6..8])?,
        digits(&rest[8..10])?,
    );
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    // Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    let (y, mo) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + m * 60 + s)
}

#[cfg(feature = "tls")]
fn pem_error_text(e: &pem::Error) -> String {
    match e {
        pem::Error::NoItemsFound => "no PEM items found".into(),
        e => format!("invalid PEM: {e}"),
    }
}

#[cfg(feature = "tls")]
/// Every certificate in a PEM buffer; `Err(reason)` when the PEM is broken or holds none.
fn pem_certs(data: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(data)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error_text(&e))?;
    if certs.is_empty() {
        return Err("no certificates found (expected PEM \"BEGIN CERTIFICATE\" blocks)".into());
    }
    Ok(certs)
}

#[cfg(feature = "tls")]
fn load_ca_file(path: &Path) -> Result<RootCertStore, TlsError> {
    let data =
        std::fs::read(path).map_err(|e| TlsError::bad_ca(path, format!("cannot read: {e}")))?;
    let certs = pem_certs(&data).map_err(|why| TlsError::bad_ca(path, why))?;
    let mut roots = RootCertStore::empty();
    let (added, ignored) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(TlsError::bad_ca(
            path,
            format!("none of its {ignored} certificates could be parsed"),
        ));
    }
    Ok(roots)
}

#[cfg(feature = "tls")]
/// webpki-roots (or the system bundle, `system`), or the roots named by `SSL_CERT_FILE` (a
/// PEM file) and `SSL_CERT_DIR` (a folder of PEM files, OpenSSL's hashed layout included)
/// when either is set.
fn default_roots(
    env_file: Option<&std::ffi::OsStr>,
    env_dir: Option<&std::ffi::OsStr>,
    system: bool,
) -> Result<RootCertStore, TlsError> {
    if env_file.is_none() && env_dir.is_none() {
        if system {
            return system_roots(Path::new("/")).map(|(roots, _)| roots);
        }
        return Ok(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        });
    }
    let mut roots = RootCertStore::empty();
    let mut seen = HashSet::new();
    let mut add = |roots: &mut RootCertStore, certs: Vec<CertificateDer<'static>>| {
        let fresh = certs
            .into_iter()
            .filter(|c| seen.insert(c.as_ref().to_vec()));
        roots.add_parsable_certificates(fresh);
    };
    if let Some(file) = env_file {
        let path = Path::new(file);
        let data = std::fs::read(path)
            .map_err(|e| TlsError::bad_ca(path, format!("SSL_CERT_FILE cannot be read: {e}")))?;
        let certs = pem_certs(&data)
            .map_err(|why| TlsError::bad_ca(path, format!("SSL_CERT_FILE: {why}")))?;
        add(&mut roots, certs);
    }
    if let Some(dir) = env_dir {
        let path = Path::new(dir);
        let entries = std::fs::read_dir(path)
            .map_err(|e| TlsError::bad_ca(path, format!("SSL_CERT_DIR cannot be read: {e}")))?;
        let mut files: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
        files.sort();
        for file in files {
            // Other files may live there too (READMEs, CRLs): take what parses.
            if let Ok(data) = std::fs::read(&file) {
                let certs = CertificateDer::pem_slice_iter(&data)
                    .filter_map(Result::ok)
                    .collect();
                add(&mut roots, certs);
            }
        }
    }
    if roots.is_empty() {
        let (path, var) = match (env_file, env_dir) {
            (Some(f), _) => (Path::new(f), "SSL_CERT_FILE"),
            (None, Some(d)) => (Path::new(d), "SSL_CERT_DIR"),
            (None, None) => unreachable!("checked above"),
        };
        return Err(TlsError::bad_ca(
            path,
            format!("no usable CA certificates found via {var}"),
        ));
    }
    Ok(roots)
}

/// Where Linux and BSD systems keep their CA bundle, most common first (the list Go's
/// `crypto/x509` searches): Debian/Ubuntu/Gentoo/Arch, Fedora/RHEL 6, openSUSE, OpenELEC,
/// CentOS/RHEL 7+, Alpine/OpenBSD/macOS, FreeBSD, DragonFly, NetBSD.
pub const SYSTEM_CA_FILES: [&str; 9] = [
    "etc/ssl/certs/ca-certificates.crt",
    "etc/pki/tls/certs/ca-bundle.crt",
    "etc/ssl/ca-bundle.pem",
    "etc/pki/tls/cacert.pem",
    "etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "etc/ssl/cert.pem",
    "usr/local/etc/ssl/cert.pem",
    "usr/local/share/certs/ca-root-nss.crt",
    "etc/openssl/certs/ca-certificates.crt",
];

/// Folders of PEM files tried when none of [`SYSTEM_CA_FILES`] exists (SLES, Fedora, the
/// BSDs), each file that parses taken.
pub const SYSTEM_CA_DIRS: [&str; 4] = [
    "etc/ssl/certs",
    "etc/pki/tls/certs",
    "usr/local/share/certs",
    "etc/openssl/certs",
];

#[cfg(feature = "tls")]
/// The system's CA bundle under `root` (`/` but in tests): the first of [`SYSTEM_CA_FILES`]
/// holding certificates, else every certificate in [`SYSTEM_CA_DIRS`]. Returns the roots and
/// where they came from.
fn system_roots(root: &Path) -> Result<(RootCertStore, PathBuf), TlsError> {
    for file in SYSTEM_CA_FILES {
        let path = root.join(file);
        let Ok(data) = std::fs::read(&path) else {
            continue;
        };
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(
            CertificateDer::pem_slice_iter(&data).filter_map(Result::ok),
        );
        if !roots.is_empty() {
            return Ok((roots, path));
        }
    }
    for dir in SYSTEM_CA_DIRS {
        let path = root.join(dir);
        let Ok(entries) = std::fs::read_dir(&path) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
        files.sort();
        let mut roots = RootCertStore::empty();
        let mut seen = HashSet::new();
        for file in files {
            if let Ok(data) = std::fs::read(&file) {
                let fresh = CertificateDer::pem_slice_iter(&data)
                    .filter_map(Result::ok)
                    .filter(|c| seen.insert(c.as_ref().to_vec()));
                roots.add_parsable_certificates(fresh);
            }
        }
        if !roots.is_empty() {
            return Ok((roots, path));
        }
    }
    Err(TlsError::bad_ca(
        root,
        format!(
            "no system CA bundle found (looked for {} and in {} under {})",
            SYSTEM_CA_FILES.join(", "),
            SYSTEM_CA_DIRS.join(", "),
            root.display()
        ),
    ))
}

#[cfg(feature = "tls")]
type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

#[cfg(feature = "tls")]
fn load_client_identity(cert_path: &Path, key_path: Option<&Path>) -> Result<Identity, TlsError> {
    let data = std::fs::read(cert_path)
        .map_err(|e| TlsError::bad_client_cert(cert_path, format!("cannot read: {e}")))?;
    let chain = pem_certs(&data).map_err(|why| TlsError::bad_client_cert(cert_path, why))?;
    let key = match key_path {
        Some(key_path) => {
            let key_data = std::fs::read(key_path).map_err(|e| {
                TlsError::bad_client_cert(key_path, format!("cannot read key: {e}"))
            })?;
            PrivateKeyDer::from_pem_slice(&key_data).map_err(|e| {
                TlsError::bad_client_cert(key_path, key_error_text(&e, "the key file"))
            })?
        }
        None => PrivateKeyDer::from_pem_slice(&data).map_err(|e| {
            TlsError::bad_client_cert(
                cert_path,
                key_error_text(&e, "the certificate file (and no key file was given)"),
            )
        })?,
    };
    Ok((chain, key))
}

#[cfg(feature = "tls")]
fn key_error_text(e: &pem::Error, place: &str) -> String {
    match e {
        pem::Error::NoItemsFound => format!(
            "no private key found in {place} (expected an unencrypted PEM PKCS#8, PKCS#1 or SEC1 key)"
        ),
        e => pem_error_text(e),
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// What kind of TLS failure a [`TlsError`] is. The CLI maps it to curl's exit codes with
/// [`TlsErrorKind::curl_exit_code`].
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

    /// The curl exit code for this failure: 60 certificate verification, 35 handshake (also
    /// a socket error or a non-TLS answer during it), 58 client certificate, 77 CA file, 18
    /// truncation, 56 a protocol error while receiving.
    pub fn curl_exit_code(&self) -> i32 {
        match self {
            k if k.is_verification_failure() => 60,
            TlsErrorKind::Handshake | TlsErrorKind::NotTls | TlsErrorKind::Io => 35,
            TlsErrorKind::BadClientCert { .. } => 58,
            TlsErrorKind::BadCaFile { .. } => 77,
            TlsErrorKind::Truncated => 18,
            _ => 56,
        }
    }
}

/// A TLS failure: its [`kind`](TlsError::kind) and a message saying what went wrong, naming
/// the host or file (`certificate verify failed for example.com: certificate has expired
/// (not after 2020-01-01 00:00:00 UTC)`).
///
/// When a TLS failure happens inside [`TlsStream::poll_read`] and friends it travels as an
/// [`io::Error`] whose inner error is this; [`TlsError::from_io_error`] gets it back.
#[derive(Debug, Clone)]
pub struct TlsError {
    /// What kind of failure.
    pub kind: TlsErrorKind,
    message: String,
    io_kind: Option<io::ErrorKind>,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl TlsError {
    #[cfg(feature = "tls")]
    fn new(kind: TlsErrorKind, message: impl Into<String>) -> Self {
        TlsError {
            kind,
            message: message.into(),
            io_kind: None,
            source: None,
        }
    }

    #[cfg(feature = "tls")]
    fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    #[cfg(feature = "tls")]
    fn bad_ca(path: &Path, why: impl fmt::Display) -> Self {
        TlsError::new(
            TlsErrorKind::BadCaFile {
                path: path.to_owned(),
            },
            format!("bad CA certificate file {}: {why}", path.display()),
        )
    }

    #[cfg(feature = "tls")]
    fn bad_client_cert(path: &Path, why: impl fmt::Display) -> Self {
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

    /// See [`TlsErrorKind::curl_exit_code`].
    pub fn curl_exit_code(&self) -> i32 {
        self.kind.curl_exit_code()
    }

    #[cfg(feature = "tls")]
    /// The rustls error behind this one, if any.
    pub fn rustls_error(&self) -> Option<&rustls::Error> {
        self.source.as_deref()?.downcast_ref()
    }

    /// The TLS error carried by an `io::Error` from a [`TlsStream`] read or write, if it is
    /// one (a truncation, an alert, a corrupt record); `None` for plain socket errors.
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
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
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
fn classify(err: rustls::Error, host: &str, established: bool) -> TlsError {
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

// ---------------------------------------------------------------------------------------------
// The stream
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "tls")]
/// Size of the ciphertext read buffer: several 16 KiB records per `read` syscall.
const READ_BUF: usize = 64 * 1024;

#[cfg(feature = "tls")]
/// A TLS client connection over an [`ioloop::TcpStream`](TcpStream), driven by the loop.
///
/// Made by [`TlsStream::connect`], which runs the handshake. Methods take `&self` (the state
/// is in a `RefCell`, never borrowed across an `.await`), like `TcpStream`'s, so one task can
/// read and write. Dropping it closes the socket without a `close_notify`; call
/// [`close`](TlsStream::close) or [`shutdown`](TlsStream::shutdown) to send one.
pub struct TlsStream {
    tcp: TcpStream,
    inner: RefCell<Inner>,
}

#[cfg(feature = "tls")]
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

#[cfg(feature = "tls")]
struct Inner {
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

#[cfg(feature = "tls")]
/// `io::Write` over the non-blocking socket for `ClientConnection::write_tls`: `Pending`
/// becomes `WouldBlock` (the waker is registered by then).
struct SockWriter<'a, 'b> {
    tcp: &'a TcpStream,
    cx: &'a mut Context<'b>,
}

#[cfg(feature = "tls")]
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

#[cfg(feature = "tls")]
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

#[cfg(feature = "tls")]
impl TlsStream {
    /// Runs the TLS handshake over a connected `tcp` for `server_name` (a host name or an IP
    /// literal, with or without brackets) with `config` (from [`client_config`]), and returns
    /// the established stream. Failures say what went wrong ([`TlsErrorKind`]). No timeout of
    /// its own: wrap it in `ioloop::timeout`; dropping the future closes the socket.
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
            inner: RefCell::new(Inner {
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
        let mut bufs: Vec<&[u8]> = bufs.iter().copied().filter(|b| !b.is_empty()).collect();
        while !bufs.is_empty() {
            let slices: Vec<IoSlice<'_>> = bufs.iter().map(|b| IoSlice::new(b)).collect();
            let mut n = poll_fn(|cx| self.poll_write_vectored(cx, &slices)).await?;
            while n > 0 {
                if n >= bufs[0].len() {
                    n -= bufs[0].len();
                    bufs.remove(0);
                } else {
                    bufs[0] = &bufs[0][n..];
                    n = 0;
                }
            }
        }
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

#[cfg(feature = "tls")]
fn ignore_not_connected(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
        r => r,
    }
}

#[cfg(feature = "tls")]
impl Inner {
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

#[cfg(feature = "tls")]
#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> UnixTime {
        UnixTime::since_unix_epoch(Duration::from_secs(secs))
    }

    #[test]
    fn certificate_times_are_read_as_rfc_5280_writes_them() {
        assert_eq!(der_time(0x17, b"700101000000Z"), Some(0));
        assert_eq!(der_time(0x17, b"000229120000Z"), Some(951_825_600));
        assert_eq!(der_time(0x17, b"491231235959Z"), Some(2_524_607_999));
        assert_eq!(der_time(0x18, b"21000301000000Z"), Some(4_107_542_400));
        // Not Z, wrong length, wrong tag, impossible fields: no time at all.
        for (tag, t) in [
            (0x17, &b"700101000000+"[..]),
            (0x17, b"7001010000Z"),
            (0x18, b"700101000000Z"),
            (0x04, b"700101000000Z"),
            (0x17, b"701301000000Z"),
            (0x17, b"7001010a0000Z"),
        ] {
            assert_eq!(der_time(tag, t), None, "{t:?}");
        }
    }

    #[test]
    fn a_certificates_validity_period_is_found() {
        let mut params = rcgen::CertificateParams::new(vec!["h".to_string()]).unwrap();
        params.not_before = rcgen::date_time_ymd(2001, 2, 3);
        params.not_after = rcgen::date_time_ymd(2061, 4, 5);
        let cert = params
            .self_signed(&rcgen::KeyPair::generate().unwrap())
            .unwrap();
        assert_eq!(validity(cert.der()), Some((981_158_400, 2_879_884_800)));
        assert_eq!(validity(&cert.der()[..40]), None);
        assert_eq!(validity(b"\x30\x00"), None);
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

    #[test]
    fn system_roots_takes_the_first_bundle_found_then_the_folders() {
        let base = std::env::temp_dir().join(format!("squall-sysroots-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let pem = |name: &str| {
            let key = rcgen::KeyPair::generate().unwrap();
            let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
            params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, name);
            params.self_signed(&key).unwrap().pem()
        };
        // Nothing there: an error naming where it looked.
        std::fs::create_dir_all(&base).unwrap();
        let e = system_roots(&base).unwrap_err();
        assert!(matches!(e.kind, TlsErrorKind::BadCaFile { .. }), "{e}");
        assert!(e.to_string().contains("etc/ssl/cert.pem"), "{e}");
        // A folder only (each parsable file taken, the rest skipped).
        let dir = base.join("etc/pki/tls/certs");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.pem"), pem("A")).unwrap();
        std::fs::write(dir.join("b.pem"), pem("B")).unwrap();
        std::fs::write(dir.join("README"), "not a certificate").unwrap();
        let (roots, from) = system_roots(&base).unwrap();
        assert_eq!((roots.len(), from), (2, dir.clone()));
        // An empty bundle file is passed over; a later one with certificates wins over folders.
        std::fs::create_dir_all(base.join("etc/ssl/certs")).unwrap();
        std::fs::write(base.join("etc/ssl/certs/ca-certificates.crt"), "").unwrap();
        std::fs::write(
            base.join("etc/ssl/cert.pem"),
            pem("C") + &pem("D") + &pem("E"),
        )
        .unwrap();
        let (roots, from) = system_roots(&base).unwrap();
        assert_eq!((roots.len(), from), (3, base.join("etc/ssl/cert.pem")));
        std::fs::remove_dir_all(&base).unwrap();
    }
}
