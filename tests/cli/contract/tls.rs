//! https: `--cacert`, `-k`, the CA variables, client certificates, and the TLS exit codes.

use super::*;

/// A CA, a server certificate from it, and a client certificate from it, as PEM files.
pub(super) struct Pki {
    _dir: TempDir,
    pub(super) ca_pem: PathBuf,
    pub(super) server_config: Arc<rustls::ServerConfig>,
    pub(super) client_cert: PathBuf,
    pub(super) client_key: PathBuf,
}

pub(super) fn pki(name: &str, require_client_cert: bool) -> Pki {
    let ca = Ca::new(name);
    let leaf = ca.leaf(&["127.0.0.1", "localhost"]);
    let client = ca.leaf(&["client"]);
    let dir = TempDir::new(&format!("cli-{name}"));
    Pki {
        ca_pem: dir.write("ca.pem", ca.pem()),
        server_config: server_config(&leaf, require_client_cert.then_some(&ca)),
        client_cert: dir.write("client.pem", &client.chain_pem),
        client_key: dir.write("client.key", client.key_pem()),
        _dir: dir,
    }
}

/// An https server answering every request with 200 "secure".
pub(super) fn tls_server(config: Arc<rustls::ServerConfig>) -> SocketAddr {
    serve_every_request(config, "secure").0
}

#[test]
fn tls_with_cacert_insecure_and_verification_failure() {
    let p = pki("tls", false);
    let addr = tls_server(p.server_config.clone());
    let url = format!("https://{addr}/");
    let ca = p.ca_pem.to_str().unwrap();
    let o = squall(&["--cacert", ca, &url]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "secure");
    // The default roots do not know this CA: 60. -k skips verification.
    assert_fails(&squall(&[&url]), 60);
    let o = squall(&["-k", &url]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "secure");
    // SSL_CERT_FILE stands in for --cacert.
    let mut c = cmd(&[&url]);
    c.env("SSL_CERT_FILE", ca);
    let o = run_bounded(c, LIMIT);
    assert_code(&o, 0);
    // The wrong name for the certificate: 60.
    let o = squall(&[
        "--cacert",
        ca,
        "--resolve",
        &format!("wrong.example:{}:127.0.0.1", addr.port()),
        &format!("https://wrong.example:{}/", addr.port()),
    ]);
    assert_fails(&o, 60);
}

#[test]
fn unreadable_ca_file_is_77() {
    let p = pki("ca77", false);
    let addr = tls_server(p.server_config.clone());
    let url = format!("https://{addr}/");
    assert_fails(&squall(&["--cacert", "/nonexistent/ca.pem", &url]), 77);
    let mut c = cmd(&[&url]);
    c.env("SSL_CERT_FILE", "/nonexistent/ca.pem");
    assert_fails(&run_bounded(c, LIMIT), 77);
    let mut c = cmd(&[&url]);
    c.env("SSL_CERT_DIR", "/nonexistent/certs");
    assert_fails(&run_bounded(c, LIMIT), 77);
    // A readable folder holding the CA is trusted like --cacert.
    let dir = temp_path("ca77-dir");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(&p.ca_pem, dir.join("ca.pem")).unwrap();
    let mut c = cmd(&[&url]);
    c.env("SSL_CERT_DIR", &dir);
    assert_code(&run_bounded(c, LIMIT), 0);
    let junk = temp_path("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    assert_fails(&squall(&["--cacert", junk.to_str().unwrap(), &url]), 77);
}

#[test]
fn client_certificates_35_and_58() {
    let p = pki("mtls", true);
    let addr = tls_server(p.server_config.clone());
    let url = format!("https://{addr}/");
    let ca = p.ca_pem.to_str().unwrap();
    let (cert, key) = (
        p.client_cert.to_str().unwrap(),
        p.client_key.to_str().unwrap(),
    );
    let o = squall(&["--cacert", ca, "--cert", cert, "--key", key, &url]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "secure");
    // The server refuses a handshake without a client certificate: 35.
    assert_fails(&squall(&["--cacert", ca, &url]), 35);
    // An unreadable client certificate or key: 58.
    assert_fails(
        &squall(&[
            "--cacert",
            ca,
            "--cert",
            "/nonexistent/c.pem",
            "--key",
            key,
            &url,
        ]),
        58,
    );
    assert_fails(
        &squall(&[
            "--cacert",
            ca,
            "--cert",
            cert,
            "--key",
            "/nonexistent/k.pem",
            &url,
        ]),
        58,
    );
}

#[test]
fn plain_http_server_on_https_is_35() {
    // A server that speaks HTTP at once, whatever arrives.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(mut tcp) = tcp else { continue };
            let _ = tcp.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
            thread::sleep(Duration::from_millis(200));
        }
    });
    let o = squall(&["-k", &format!("https://{addr}/")]);
    assert_fails(&o, 35);
}

/// As curl, the CLI honours SSLKEYLOGFILE (the library alone does not, tests/tls/roots.rs).
#[test]
fn sslkeylogfile_gets_the_session_secrets() {
    let p = pki("keylog", false);
    let addr = tls_server(p.server_config.clone());
    let log = temp_path("keys.log");
    let _ = std::fs::remove_file(&log);
    let mut c = cmd(&[
        "--cacert",
        p.ca_pem.to_str().unwrap(),
        &format!("https://{addr}/"),
    ]);
    c.env("SSLKEYLOGFILE", &log);
    let o = run_bounded(c, LIMIT);
    assert_code(&o, 0);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        text.contains("CLIENT_TRAFFIC_SECRET_0") || text.contains("CLIENT_RANDOM"),
        "{text:?}"
    );
}
