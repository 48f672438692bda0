//! Test support for the TLS tests: certificates made with rcgen at test time (nothing secret
//! is committed), PEM files in a private temporary folder, and a small blocking rustls
//! server on a std thread.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection, StreamOwned};

/// A temporary folder, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "squall-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    pub fn write(&self, name: &str, data: impl AsRef<[u8]>) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, data).unwrap();
        p
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A certificate authority.
pub struct Ca {
    pub cert: rcgen::Certificate,
    pub params: CertificateParams,
    pub key: KeyPair,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Ca { cert, params, key }
    }

    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    pub fn der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }

    /// A leaf for `names` (DNS names or IP literals), signed by this CA.
    pub fn leaf(&self, names: &[&str]) -> Leaf {
        self.leaf_with(names, |_| {})
    }

    /// A leaf whose parameters `tweak` may change (validity dates, EKUs...).
    pub fn leaf_with(&self, names: &[&str], tweak: impl FnOnce(&mut CertificateParams)) -> Leaf {
        let mut params =
            CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, names.first().copied().unwrap_or("leaf"));
        params.distinguished_name = dn;
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        tweak(&mut params);
        let key = KeyPair::generate().unwrap();
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).unwrap();
        Leaf {
            chain: vec![cert.der().clone()],
            chain_pem: cert.pem(),
            key,
        }
    }

    /// This CA's own certificate and key, used as if it were a leaf.
    pub fn as_leaf(&self) -> Leaf {
        Leaf {
            chain: vec![self.der()],
            chain_pem: self.pem(),
            key: KeyPair::from_pem(&self.key.serialize_pem()).unwrap(),
        }
    }
}

/// A self-signed leaf (not a CA) for `names`.
pub fn self_signed_leaf(names: &[&str]) -> Leaf {
    self_signed_leaf_with(names, |_| {})
}

/// A self-signed certificate for `names` whose parameters `tweak` may change (`CA:TRUE`,
/// validity dates...).
pub fn self_signed_leaf_with(names: &[&str], tweak: impl FnOnce(&mut CertificateParams)) -> Leaf {
    let mut params =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    tweak(&mut params);
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    Leaf {
        chain: vec![cert.der().clone()],
        chain_pem: cert.pem(),
        key,
    }
}

/// A certificate chain (leaf first) and its key.
pub struct Leaf {
    pub chain: Vec<CertificateDer<'static>>,
    pub chain_pem: String,
    pub key: KeyPair,
}

impl Leaf {
    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.serialize_der()))
    }
    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server config presenting `leaf`; with `client_ca`, a client certificate from that CA
/// is required.
pub fn server_config(leaf: &Leaf, client_ca: Option<&Ca>) -> Arc<ServerConfig> {
    server_config_versions(leaf, client_ca, rustls::DEFAULT_VERSIONS)
}

/// [`server_config`] limited to some TLS versions.
pub fn server_config_versions(
    leaf: &Leaf,
    client_ca: Option<&Ca>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<ServerConfig> {
    let builder = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .unwrap();
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            roots.add(ca.der()).unwrap();
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(leaf.chain.clone(), leaf.key_der())
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// A TLS connection as the server sees it.
pub type ServerStream = StreamOwned<ServerConnection, TcpStream>;

/// Listens on 127.0.0.1:0 and serves `conns` connections one after another on a std
/// thread, each with `serve` (given the connection number). Errors in `serve` end that
/// connection. Returns the address and the thread (joined to get how many it accepted).
pub fn spawn_server<F>(
    config: Arc<ServerConfig>,
    conns: usize,
    serve: F,
) -> (SocketAddr, JoinHandle<usize>)
where
    F: Fn(usize, &mut ServerStream) -> io::Result<()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        let mut accepted = 0;
        for i in 0..conns {
            let Ok((tcp, _)) = listener.accept() else {
                break;
            };
            accepted += 1;
            tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            tcp.set_write_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let conn = ServerConnection::new(config.clone()).unwrap();
            let mut stream = StreamOwned::new(conn, tcp);
            let _ = serve(i, &mut stream);
        }
        accepted
    });
    (addr, handle)
}

/// A keep-alive https server on 127.0.0.1 that answers every request, on as many
/// connections as come (each on a thread of its own, so a second connection is served and
/// counted rather than waiting behind the first), with a 200 carrying `body`; when the client
/// closes, it sends close_notify. Returns its address and the connection and request counts.
pub fn serve_every_request(
    config: Arc<ServerConfig>,
    body: &'static str,
) -> (SocketAddr, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (conns, requests) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (c, r) = (conns.clone(), requests.clone());
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { return };
            c.fetch_add(1, Ordering::SeqCst);
            let (config, r, reply) = (config.clone(), r.clone(), reply.clone());
            std::thread::spawn(move || {
                tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let conn = ServerConnection::new(config).unwrap();
                let mut s = ServerStream::new(conn, tcp);
                while read_head(&mut s).is_ok() {
                    r.fetch_add(1, Ordering::SeqCst);
                    if s.write_all(reply.as_bytes()).is_err() || s.flush().is_err() {
                        return;
                    }
                }
                s.conn.send_close_notify();
                let _ = s.flush();
            });
        }
    });
    (addr, conns, requests)
}

/// Listens on 127.0.0.1:0 and runs `serve` on the first plain TCP connection.
pub fn spawn_plain_server<F>(serve: F) -> (SocketAddr, JoinHandle<()>)
where
    F: FnOnce(TcpStream) + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        if let Ok((tcp, _)) = listener.accept() {
            tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            serve(tcp);
        }
    });
    (addr, handle)
}

/// Completes the handshake and reads until the end of an HTTP-ish request head
/// (`\r\n\r\n`), returning it.
pub fn read_head(s: &mut ServerStream) -> io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        head.push(byte[0]);
    }
    Ok(head)
}

/// Reads one request head (the tests send GETs) and answers it with a 200 carrying `body`.
pub fn answer(s: &mut ServerStream, body: &str) -> io::Result<()> {
    read_head(s)?;
    let r = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(r.as_bytes())?;
    s.flush()
}

/// Sends `data`, then close_notify, and flushes.
pub fn write_and_close_notify(s: &mut ServerStream, data: &[u8]) -> io::Result<()> {
    s.write_all(data)?;
    s.conn.send_close_notify();
    s.flush()
}
