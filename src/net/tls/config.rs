//! [`TlsSettings`] and the rustls configs built from them.
//!
//! A request's TLS options are plain data ([`TlsSettings`], present with or without the `tls`
//! feature, so a pool can key on them). With the feature, [`client_config`] turns them into a
//! rustls `ClientConfig`, built once per distinct setting and shared, reading what the
//! settings name: the CA roots (webpki-roots, the system bundle, `SSL_CERT_FILE`/
//! `SSL_CERT_DIR`, `ca_certs`, `extra_ca_certs`) and the client certificate and key.

use std::hash::{Hash, Hasher};
use std::path::PathBuf;

#[cfg(feature = "tls")]
use std::{
    collections::{HashMap, HashSet},
    ffi::OsString,
    path::Path,
    sync::{Arc, Mutex, OnceLock},
};

#[cfg(feature = "tls")]
use rustls::{
    ClientConfig, RootCertStore,
    crypto::CryptoProvider,
    pki_types::pem::{self, PemObject},
    pki_types::{CertificateDer, PrivateKeyDer},
};

#[cfg(feature = "tls")]
use super::error::{TlsError, TlsErrorKind};
#[cfg(feature = "tls")]
use super::verify::CertVerifier;

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
            .with_custom_certificate_verifier(CertVerifier::trusted_roots(roots, provider.clone())?)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(CertVerifier::any_cert(provider))
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

#[cfg(feature = "tls")]
#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::tls::TlsErrorKind;

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
