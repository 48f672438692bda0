//! https through `AsyncHttpClient`: keep-alive reuse over TLS, the pool keeping verifying and
//! non-verifying connections apart, certificate checks reaching the caller as TLS errors
//! (`ErrorKind::Tls`; E-10, T-01..T-03), the handshake timeout naming the peer (E-05, T-07),
//! truncation of a close-delimited body, client certificates (T-04), and redirects across
//! schemes that keep the request's TLS settings (T-09, D-13).

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::canned::once;
use crate::support::run_on_new_loop as run;
use crate::support::server::{Server, Step, resp};
use crate::support::tls::{
    Ca, ServerStream, TempDir, answer, read_head, self_signed_leaf, serve_every_request,
    server_config, spawn_plain_server, spawn_server,
};
use squall::net::tls::TlsErrorKind;
use squall::{AsyncHttpClient, ErrorKind, HttpRequest, TimeoutPhase};

/// Answers every request on the connection with `ok` (Content-Length framed) until the
/// client closes; each head is sent to `heads`.
fn keep_alive(s: &mut ServerStream, heads: &mpsc::Sender<String>) -> io::Result<()> {
    loop {
        let head = match read_head(s) {
            Ok(h) => h,
            Err(_) => return Ok(()),
        };
        let _ = heads.send(String::from_utf8_lossy(&head).into_owned());
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")?;
        s.flush()?;
    }
}

struct Site {
    _dir: TempDir,
    ca_path: std::path::PathBuf,
    addr: SocketAddr,
    heads: mpsc::Receiver<String>,
}

fn site(conns: usize) -> Site {
    let dir = TempDir::new("tls-client");
    let ca = Ca::new("client test CA");
    let ca_path = dir.write("ca.pem", ca.pem());
    let leaf = ca.leaf(&["localhost", "127.0.0.1"]);
    let (tx, heads) = mpsc::channel();
    let (addr, _) = spawn_server(server_config(&leaf, None), conns, move |_, s| {
        keep_alive(s, &tx)
    });
    Site {
        _dir: dir,
        ca_path,
        addr,
        heads,
    }
}

/// A keep-alive TLS server answering `ok` to every request, on any number of connections.
fn threaded_server(
    config: std::sync::Arc<rustls::ServerConfig>,
) -> (
    SocketAddr,
    std::sync::Arc<AtomicUsize>,
    std::sync::Arc<AtomicUsize>,
) {
    serve_every_request(config, "ok")
}

#[test]
fn keep_alive_reuse_over_tls() {
    let dir = TempDir::new("tls-client-ka");
    let ca = Ca::new("keep-alive CA");
    let ca_path = dir.write("ca.pem", ca.pem());
    let (addr, conns, requests) = threaded_server(server_config(&ca.leaf(&["127.0.0.1"]), None));
    let url = format!("https://127.0.0.1:{}/x", addr.port());
    run(async {
        let client = AsyncHttpClient::new();
        for _ in 0..100 {
            let r = client
                .fetch(HttpRequest::new(&url).ca_certs(&ca_path))
                .await
                .unwrap();
            assert_eq!(r.code, 200);
            assert_eq!(r.body, b"ok");
        }
        client.close();
    });
    assert_eq!(requests.load(Ordering::SeqCst), 100);
    assert_eq!(
        conns.load(Ordering::SeqCst),
        1,
        "100 requests over one connection"
    );
}

// A connection made with validate_cert(false) never serves a verifying request.
#[test]
fn pool_keeps_insecure_connections_apart() {
    let leaf = self_signed_leaf(&["localhost", "127.0.0.1"]);
    let (addr, conns, _) = threaded_server(server_config(&leaf, None));
    let url = format!("https://127.0.0.1:{}/", addr.port());
    run(async {
        let client = AsyncHttpClient::new();
        let r = client
            .fetch(HttpRequest::new(&url).validate_cert(false))
            .await
            .unwrap();
        assert_eq!(r.body, b"ok");
        let e = client.fetch(HttpRequest::new(&url)).await.unwrap_err();
        assert_eq!(
            *e.kind(),
            ErrorKind::Tls(TlsErrorKind::UnknownIssuer),
            "{e}"
        );
        assert_eq!(e.code(), 599);
    });
    assert_eq!(
        conns.load(Ordering::SeqCst),
        2,
        "the verifying request made its own connection"
    );
}

#[test]
fn tls_errors_are_tls_kinds() {
    let dir = TempDir::new("tls-client-err");
    let ca = Ca::new("err CA");
    let ca_path = dir.write("ca.pem", ca.pem());
    let expired = ca.leaf_with(&["127.0.0.1"], |p| {
        p.not_before = rcgen::date_time_ymd(2019, 1, 1);
        p.not_after = rcgen::date_time_ymd(2020, 1, 1);
    });
    let (tx, _heads) = mpsc::channel();
    let (addr, _) = spawn_server(server_config(&expired, None), 2, move |_, s| {
        keep_alive(s, &tx)
    });
    let url = format!("https://127.0.0.1:{}/", addr.port());
    let e =
        run(AsyncHttpClient::new().fetch(HttpRequest::new(&url).ca_certs(&ca_path))).unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::Tls(TlsErrorKind::CertExpired), "{e}");
    assert!(e.to_string().contains("expired"), "{e}");

    let missing = dir.path().join("missing.pem");
    let e =
        run(AsyncHttpClient::new().fetch(HttpRequest::new(&url).ca_certs(&missing))).unwrap_err();
    assert_eq!(
        *e.kind(),
        ErrorKind::Tls(TlsErrorKind::BadCaFile {
            path: missing.clone()
        }),
        "{e}"
    );
}

// A close-delimited body cut by a close without close_notify fails; a complete
// Content-Length body followed by the same close is fine.
#[test]
fn truncation_of_close_delimited_body() {
    let dir = TempDir::new("tls-client-trunc");
    let ca = Ca::new("trunc CA");
    let ca_path = dir.write("ca.pem", ca.pem());
    let leaf = ca.leaf(&["127.0.0.1"]);
    let (addr, _) = spawn_server(server_config(&leaf, None), 2, |i, s| {
        read_head(s)?;
        if i == 0 {
            s.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npartial")?;
        } else {
            s.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\ncomplete",
            )?;
        }
        s.flush()?;
        s.sock.shutdown(std::net::Shutdown::Both)
    });
    let url = format!("https://127.0.0.1:{}/", addr.port());
    run(async {
        let client = AsyncHttpClient::new();
        let e = client
            .fetch(HttpRequest::new(&url).ca_certs(&ca_path))
            .await
            .unwrap_err();
        assert_eq!(*e.kind(), ErrorKind::ClosedMidBody, "{e}");
        let r = client
            .fetch(HttpRequest::new(&url).ca_certs(&ca_path))
            .await
            .unwrap();
        assert_eq!(r.body, b"complete");
    });
}

// D-13: https -> http on the same host leaves the origin: Authorization is dropped.
#[test]
fn https_to_http_redirect_drops_authorization() {
    let plain = once(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nhttp");
    let dir = TempDir::new("tls-client-redir");
    let ca = Ca::new("redirect CA");
    let ca_path = dir.write("ca.pem", ca.pem());
    let leaf = ca.leaf(&["127.0.0.1"]);
    let (tx, tls_heads) = mpsc::channel();
    let location = format!("http://127.0.0.1:{}/plain", plain.port);
    let (addr, _) = spawn_server(server_config(&leaf, None), 1, move |_, s| {
        let head = read_head(s)?;
        let _ = tx.send(String::from_utf8_lossy(&head).into_owned());
        s.write_all(
            format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n")
                .as_bytes(),
        )?;
        s.flush()
    });
    let url = format!("https://127.0.0.1:{}/start", addr.port());
    let r = run(AsyncHttpClient::new().fetch(
        HttpRequest::new(&url)
            .ca_certs(&ca_path)
            .auth("user", "secret")
            .header("Cookie", "a=b"),
    ))
    .unwrap();
    assert_eq!(r.body, b"http");
    let first = tls_heads.recv().unwrap().to_ascii_lowercase();
    assert!(first.contains("authorization: basic"), "{first}");
    let second = plain.requests().concat().to_ascii_lowercase();
    assert!(!second.contains("authorization"), "{second}");
    assert!(!second.contains("cookie"), "{second}");
}

// T-09: an http -> https hop keeps the request's TLS settings (here its CA file).
#[test]
fn http_to_https_redirect_keeps_tls_settings() {
    let site = site(1);
    let location = format!("https://127.0.0.1:{}/secure", site.addr.port());
    let plain = once(
        format!("HTTP/1.1 301 Moved\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n")
            .as_bytes(),
    );
    let url = format!("http://127.0.0.1:{}/", plain.port);
    let r =
        run(AsyncHttpClient::new().fetch(HttpRequest::new(&url).ca_certs(&site.ca_path))).unwrap();
    assert_eq!(r.code, 200);
    assert_eq!(r.body, b"ok");
    assert!(site.heads.recv().unwrap().starts_with("GET /secure "));
}

// T-04 through the client: with the certificate the request succeeds; without it the
// server's alert (after our side of the handshake ended, in TLS 1.3) is a TLS handshake
// failure, not a reset.
#[test]
fn client_certificate_through_the_client() {
    let dir = TempDir::new("tls-client-mtls");
    let ca = Ca::new("mtls server CA");
    let client_ca = Ca::new("mtls client CA");
    let ca_path = dir.write("ca.pem", ca.pem());
    let client = client_ca.leaf(&["client.example"]);
    let both = dir.write(
        "client.pem",
        format!("{}{}", client.chain_pem, client.key_pem()),
    );
    let (addr, _, _) = threaded_server(server_config(&ca.leaf(&["127.0.0.1"]), Some(&client_ca)));
    let url = format!("https://127.0.0.1:{}/", addr.port());
    run(async {
        let c = AsyncHttpClient::new();
        let r = c
            .fetch(HttpRequest::new(&url).ca_certs(&ca_path).client_cert(&both))
            .await
            .unwrap();
        assert_eq!(r.body, b"ok");
        let e = c
            .fetch(HttpRequest::new(&url).ca_certs(&ca_path))
            .await
            .unwrap_err();
        assert_eq!(*e.kind(), ErrorKind::Tls(TlsErrorKind::Handshake), "{e}");
    });
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

#[test]
fn t09_http_to_https_redirect_keeps_the_requests_tls_settings() {
    let ca = Ca::new("squall behaviours CA");
    let leaf = ca.leaf(&["localhost", "127.0.0.1"]);
    let dir = TempDir::new("behaviours-t09");
    let ca_path = dir.write("ca.pem", ca.pem());
    // Three TLS connections: ca_certs (trusted), validate_cert(false) (trusted), defaults
    // (refused in the handshake).
    let (tls_addr, tls) = spawn_server(server_config(&leaf, None), 3, |_, s| answer(s, "secure"));
    let target = format!("https://127.0.0.1:{}/end", tls_addr.port());
    let t2 = target.clone();
    let plain =
        Server::start(move |_| vec![Step::Write(resp(302, &[("Location", t2.as_str())], b""))]);
    run(async {
        let c = AsyncHttpClient::new();
        // The CA given on the original http request verifies the https hop.
        let r = c
            .fetch(HttpRequest::new(&plain.url("/start")).ca_certs(&ca_path))
            .await
            .unwrap();
        assert_eq!(r.text().unwrap(), "secure");
        assert_eq!(r.effective_url, target);
        assert_eq!(r.num_redirects(), 1);
        // validate_cert(false) carries over too.
        let r = c
            .fetch(HttpRequest::new(&plain.url("/start")).validate_cert(false))
            .await
            .unwrap();
        assert_eq!(r.text().unwrap(), "secure");
        // Without either, the hop is checked against the default roots and fails.
        let e = c.fetch(plain.url("/start")).await.unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Tls(_)), "{e:?}");
    });
    assert_eq!(tls.join().unwrap(), 3);
}
