//! https through the client: keep-alive over TLS, certificate checks reaching the caller as
//! TLS errors (E-10, T-01..T-03), the pool never mixing TLS settings, and the handshake
//! timeout naming the peer (E-05, T-07). Certificates are made at test time (rcgen) by the
//! TLS layer's test support.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use crate::support::tls::*;
use squall::{AsyncHttpClient, ErrorKind, HttpRequest, IoLoop, TimeoutPhase};

fn run<F: std::future::Future>(f: F) -> F::Output {
    IoLoop::current().run_sync(f)
}

/// Reads one request (head only: the tests send GETs) and answers it.
fn answer(s: &mut ServerStream, body: &str) -> std::io::Result<()> {
    read_head(s)?;
    let r = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(r.as_bytes())?;
    s.flush()
}

#[test]
fn https_keep_alive_with_ca_certs() {
    let ca = Ca::new("squall client test CA");
    let leaf = ca.leaf(&["localhost", "127.0.0.1"]);
    let dir = TempDir::new("client-tls");
    let ca_path = dir.write("ca.pem", ca.pem());
    // One connection, three requests on it.
    let (addr, server) = spawn_server(server_config(&leaf, None), 1, |_, s| {
        for i in 0..3 {
            answer(s, &format!("secure {i}"))?;
        }
        Ok(())
    });
    run(async {
        let c = AsyncHttpClient::builder()
            .defaults(HttpRequest::defaults().ca_certs(&ca_path))
            .build();
        for i in 0..3 {
            let r = c
                .fetch(format!("https://127.0.0.1:{}/", addr.port()))
                .await
                .unwrap();
            assert_eq!(r.text().unwrap(), format!("secure {i}"));
            assert!(r.time_info.tls <= r.request_time);
        }
        assert_eq!(c.pool_counts(), (1, 1));
    });
    assert_eq!(server.join().unwrap(), 1);
}

#[test]
fn e10_t01_untrusted_certificate_is_a_tls_error() {
    let leaf = self_signed_leaf(&["127.0.0.1"]);
    let (addr, _) = spawn_server(server_config(&leaf, None), 3, |_, s| answer(s, "insecure"));
    run(async {
        let c = AsyncHttpClient::new();
        let url = format!("https://127.0.0.1:{}/", addr.port());
        let e = c.fetch(url.as_str()).await.unwrap_err();
        match e.kind() {
            ErrorKind::Tls(k) => assert!(k.is_verification_failure(), "{k:?}"),
            other => panic!("expected a TLS error, got {other:?}: {e}"),
        }
        assert_eq!(e.code(), 599);
        // T-02: validate_cert(false) still speaks TLS and accepts the certificate.
        let r = c
            .fetch(HttpRequest::new(&url).validate_cert(false))
            .await
            .unwrap();
        assert_eq!(r.body, b"insecure");
        // The pool never hands that unverified connection to a verifying request.
        let e = c.fetch(url.as_str()).await.unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Tls(_)), "{e:?}");
    });
}

#[test]
fn e05_t07_tls_handshake_timeout_names_the_peer() {
    // Accepts TCP, never says a TLS word.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
    });
    run(async {
        let t0 = Instant::now();
        let e = AsyncHttpClient::new()
            .fetch(
                HttpRequest::new(&format!("https://{addr}/"))
                    .connect_timeout(Duration::from_millis(300)),
            )
            .await
            .unwrap_err();
        assert_eq!(
            e.kind(),
            &ErrorKind::Timeout(TimeoutPhase::TlsHandshake),
            "{e}"
        );
        assert_eq!(
            e.to_string(),
            format!("Timeout during TLS handshake with {addr}")
        );
        assert!(t0.elapsed() < Duration::from_secs(3));
    });
}

#[test]
fn plain_http_server_on_https_url_is_a_tls_error() {
    let (addr, _) = spawn_plain_server(|mut s| {
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf);
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    });
    run(async {
        let e = AsyncHttpClient::new()
            .fetch(format!("https://127.0.0.1:{}/", addr.port()))
            .await
            .unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Tls(_)), "{e:?}");
    });
}
