//! `SSL_CERT_FILE` and `SSL_CERT_DIR` replace the default roots, as in curl and OpenSSL.
//!
//! Environment variables are process-wide, so each case runs in a child process (this test
//! binary again, running only the ignored `child` test) with its own environment; the
//! parent runs the server.
#![cfg(feature = "tls")]

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use squall::ioloop::{IoLoop, TcpStream};
use squall::net::tls::{TlsErrorKind, TlsSettings, TlsStream, client_config};
use support::tls::{
    Ca, ServerStream, TempDir, read_head, server_config, spawn_server, write_and_close_notify,
};

const ADDR: &str = "SQUALL_TEST_TLS_ADDR";
const EXPECT: &str = "SQUALL_TEST_TLS_EXPECT";
const CA_CERTS: &str = "SQUALL_TEST_TLS_CA_CERTS";

#[test]
fn ssl_cert_file_and_dir_replace_the_default_roots() {
    let dir = TempDir::new("tls-env");
    let ca = Ca::new("env CA");
    let other = Ca::new("env other CA");
    let ca_file = dir.write("ca.pem", ca.pem());
    let other_file = dir.write("other.pem", other.pem());
    let ours = dir.path().join("ours");
    let theirs = dir.path().join("theirs");
    std::fs::create_dir(&ours).unwrap();
    std::fs::create_dir(&theirs).unwrap();
    std::fs::write(ours.join("README"), "not a certificate\n").unwrap();
    std::fs::write(ours.join("aaaa0000.0"), other.pem()).unwrap();
    // OpenSSL's hashed layout: a symlink to the PEM file.
    #[cfg(unix)]
    std::os::unix::fs::symlink(&ca_file, ours.join("1234abcd.0")).unwrap();
    #[cfg(not(unix))]
    std::fs::write(ours.join("1234abcd.0"), ca.pem()).unwrap();
    std::fs::write(theirs.join("other.pem"), other.pem()).unwrap();
    let missing = dir.path().join("missing.pem");
    let missing_dir = dir.path().join("missing-dir");

    let leaf = ca.leaf(&["localhost"]);
    let connecting = 7;
    let (addr, server) = spawn_server(
        server_config(&leaf, None),
        connecting,
        |_, s: &mut ServerStream| {
            read_head(s)?;
            write_and_close_notify(s, b"ok")
        },
    );

    let p = |p: &Path| p.to_str().unwrap().to_owned();
    let cases: Vec<(Vec<(&str, String)>, String)> = vec![
        (vec![], "unknown".into()),
        (vec![("SSL_CERT_FILE", p(&ca_file))], "ok".into()),
        (vec![("SSL_CERT_DIR", p(&ours))], "ok".into()),
        (vec![("SSL_CERT_DIR", p(&theirs))], "unknown".into()),
        (vec![("SSL_CERT_FILE", String::new())], "unknown".into()),
        (
            vec![
                ("SSL_CERT_FILE", p(&other_file)),
                ("SSL_CERT_DIR", p(&ours)),
            ],
            "ok".into(),
        ),
        // An explicit ca_certs wins over the environment.
        (
            vec![("SSL_CERT_FILE", p(&missing)), (CA_CERTS, p(&ca_file))],
            "ok".into(),
        ),
        (
            vec![("SSL_CERT_FILE", p(&missing))],
            format!("badca:{}", p(&missing)),
        ),
        (
            vec![("SSL_CERT_DIR", p(&missing_dir))],
            format!("badca:{}", p(&missing_dir)),
        ),
        (
            vec![("SSL_CERT_FILE", p(&dir.write("empty.pem", "")))],
            format!("badca:{}", p(&dir.path().join("empty.pem"))),
        ),
    ];
    for (vars, expect) in cases {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        // The child's server is on loopback: no proxy from the machine's environment.
        for v in squall::client::proxy::PROXY_VARIABLES {
            cmd.env_remove(v);
        }
        let out = cmd
            .args([
                "--exact",
                "child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR")
            .envs(vars.iter().map(|(k, v)| (k, v)))
            .env(ADDR, addr.to_string())
            .env(EXPECT, &expect)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "case {vars:?} expecting {expect}:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("1 passed"),
            "the child test did not run"
        );
    }
    assert_eq!(server.join().unwrap(), connecting);
}

#[test]
#[ignore = "run in a child process by ssl_cert_file_and_dir_replace_the_default_roots"]
fn child() {
    let addr: SocketAddr = std::env::var(ADDR).unwrap().parse().unwrap();
    let expect = std::env::var(EXPECT).unwrap();
    let mut settings = TlsSettings::new();
    if let Ok(path) = std::env::var(CA_CERTS) {
        settings = settings.ca_certs(path);
    }
    let config = match client_config(&settings) {
        Ok(c) => c,
        Err(e) => {
            let path = expect
                .strip_prefix("badca:")
                .unwrap_or_else(|| panic!("{e}"));
            assert_eq!(e.kind, TlsErrorKind::BadCaFile { path: path.into() }, "{e}");
            assert!(e.to_string().contains(path), "{e}");
            assert!(e.to_string().contains("SSL_CERT_"), "{e}");
            return;
        }
    };
    let result = IoLoop::new()
        .run_sync_timeout(
            async {
                let tcp = TcpStream::connect(addr).await.unwrap();
                let s = TlsStream::connect(tcp, "localhost", config).await?;
                s.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
                let mut buf = [0u8; 16];
                let n = s.read(&mut buf).await.unwrap();
                Ok::<_, squall::net::tls::TlsError>(buf[..n].to_vec())
            },
            Duration::from_secs(20),
        )
        .unwrap();
    match expect.as_str() {
        "ok" => assert_eq!(result.unwrap(), b"ok"),
        "unknown" => assert_eq!(result.unwrap_err().kind, TlsErrorKind::UnknownIssuer),
        other => panic!("expected {other}, got {result:?}"),
    }
}
