//! Which roots a fetch trusts, and key logging, with rcgen certificates:
//! - `extra_ca_certs` adds a private CA to the base roots (webpki-roots, the system bundle, or
//!   `ca_certs`), where `ca_certs` replaces them;
//! - `system_ca_certs` makes the system's bundle the base (this machine's, so a private CA is
//!   unknown to it);
//! - `tls_key_log` writes the session secrets to `SSLKEYLOGFILE` only when asked: the
//!   environment variable alone does nothing in the library. Environment variables are
//!   process-wide, so those cases run in a child process (this test binary again).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::tls::{Ca, ServerStream, TempDir, read_head, server_config, spawn_server};
use squall::net::tls::{SYSTEM_CA_DIRS, SYSTEM_CA_FILES, TlsErrorKind};
use squall::{AsyncHttpClient, ErrorKind, HttpError, HttpRequest, IoLoop};

/// An https server for `localhost` with a leaf of `ca`, answering `ok` up to `conns` times.
fn server(ca: &Ca, conns: usize) -> u16 {
    let leaf = ca.leaf(&["localhost"]);
    let (addr, _) = spawn_server(
        server_config(&leaf, None),
        conns,
        |_, s: &mut ServerStream| {
            read_head(s)?;
            crate::support::tls::write_and_close_notify(
                s,
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
            )
        },
    );
    addr.port()
}

fn fetch(req: HttpRequest) -> Result<Vec<u8>, HttpError> {
    IoLoop::new()
        .run_sync_timeout(
            async { AsyncHttpClient::new().fetch(req).await.map(|r| r.body) },
            Duration::from_secs(30),
        )
        .expect("fetch finished in time")
}

fn tls_kind(r: Result<Vec<u8>, HttpError>) -> TlsErrorKind {
    match r {
        Err(e) => match e.kind() {
            ErrorKind::Tls(k) => k.clone(),
            other => panic!("not a TLS error: {other:?} {e}"),
        },
        Ok(body) => panic!("unexpected success: {body:?}"),
    }
}

/// Whether this machine has a system bundle where squall looks for one.
fn machine_has_bundle() -> bool {
    let var = |v| std::env::var_os(v).is_some_and(|p| !p.is_empty());
    if var("SSL_CERT_FILE") || var("SSL_CERT_DIR") {
        return true;
    }
    SYSTEM_CA_FILES
        .iter()
        .chain(SYSTEM_CA_DIRS.iter())
        .any(|p| Path::new("/").join(p).exists())
}

#[test]
fn extra_roots_add_to_the_base_and_ca_certs_replace_it() {
    let dir = TempDir::new("tls-roots");
    let ca = Ca::new("private CA");
    let other = Ca::new("other CA");
    let ca_file = dir.write("ca.pem", ca.pem());
    let other_file = dir.write("other.pem", other.pem());
    let port = server(&ca, 8);
    let url = format!("https://localhost:{port}/");
    let req = || HttpRequest::new(&url).connect_timeout(Duration::from_secs(10));

    // The default roots (webpki-roots, or SSL_CERT_FILE/SSL_CERT_DIR when the environment
    // sets them) do not know the private CA.
    assert_eq!(tls_kind(fetch(req())), TlsErrorKind::UnknownIssuer);
    // Added to them, it is trusted.
    assert_eq!(fetch(req().extra_ca_certs(&ca_file)).unwrap(), b"ok");
    // ca_certs replaces the base: the other CA alone fails, plus the extra one passes.
    assert_eq!(
        tls_kind(fetch(req().ca_certs(&other_file))),
        TlsErrorKind::UnknownIssuer
    );
    assert_eq!(
        fetch(req().ca_certs(&other_file).extra_ca_certs(&ca_file)).unwrap(),
        b"ok"
    );
    // An extra file that cannot be read is a CA-file error naming it.
    let missing = dir.path().join("missing.pem");
    assert_eq!(
        tls_kind(fetch(req().extra_ca_certs(&missing))),
        TlsErrorKind::BadCaFile {
            path: missing.clone()
        }
    );

    // The system bundle as the base (SSL_CERT_FILE/SSL_CERT_DIR still win when set): it
    // does not know a CA made a moment ago, the extra file adds it. (Without any bundle on
    // this machine and no variables, both are a CA-file error.)
    let system = fetch(req().system_ca_certs(true));
    let system_plus = fetch(req().system_ca_certs(true).extra_ca_certs(&ca_file));
    if machine_has_bundle() {
        assert_eq!(tls_kind(system), TlsErrorKind::UnknownIssuer);
        assert_eq!(system_plus.unwrap(), b"ok");
    } else {
        assert!(matches!(tls_kind(system), TlsErrorKind::BadCaFile { .. }));
        assert!(matches!(
            tls_kind(system_plus),
            TlsErrorKind::BadCaFile { .. }
        ));
    }
}

const PORT: &str = "SQUALL_TEST_KEYLOG_PORT";
const CA: &str = "SQUALL_TEST_KEYLOG_CA";
const ASK: &str = "SQUALL_TEST_KEYLOG_ASK";

#[test]
fn key_log_is_written_only_when_asked() {
    let dir = TempDir::new("tls-keylog");
    let ca = Ca::new("keylog CA");
    let ca_file = dir.write("ca.pem", ca.pem());
    let port = server(&ca, 2);
    for ask in ["no", "yes"] {
        let log = dir.path().join(format!("keys-{ask}.log"));
        let out = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "roots::key_log_child",
                "--ignored",
                "--test-threads=1",
            ])
            .env("SSLKEYLOGFILE", &log)
            .env(PORT, port.to_string())
            .env(CA, &ca_file)
            .env(ASK, ask)
            .output()
            .unwrap();
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
            "child ({ask}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if ask == "yes" {
            assert!(
                text.contains("CLIENT_TRAFFIC_SECRET_0") || text.contains("CLIENT_RANDOM"),
                "no secrets logged: {text:?}"
            );
        } else {
            assert_eq!(text, "", "secrets logged without being asked");
        }
    }
}

#[test]
#[ignore = "run in a child process by key_log_is_written_only_when_asked"]
fn key_log_child() {
    let port = std::env::var(PORT).unwrap();
    let mut req = HttpRequest::new(&format!("https://localhost:{port}/"))
        .ca_certs(std::env::var(CA).unwrap());
    if std::env::var(ASK).unwrap() == "yes" {
        req = req.tls_key_log(true);
    }
    assert_eq!(fetch(req).unwrap(), b"ok");
}
