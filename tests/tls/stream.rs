//! `net::tls::TlsStream` on the IoLoop against a blocking rustls server on a std thread:
//! verification outcomes (T-01, T-02, T-03, T-05, T-06), client certificates (T-04), a
//! plain-HTTP server, truncation, the handshake timeout (T-07), large transfers both ways,
//! the pool's stale check and clean shutdown.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use crate::support::run_on_new_loop as run;
use crate::support::tls::{
    Ca, Leaf, ServerStream, TempDir, read_head, self_signed_leaf, server_config,
    spawn_plain_server, spawn_server, write_and_close_notify,
};
use squall::ioloop::{TcpStream, timeout};
use squall::net::tls::{
    TlsError, TlsErrorKind, TlsSettings, TlsStream, build_client_config, client_config,
};

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

async fn connect(
    addr: SocketAddr,
    host: &str,
    settings: &TlsSettings,
) -> Result<TlsStream, TlsError> {
    let tcp = TcpStream::connect(addr).await.expect("tcp connect");
    TlsStream::connect(tcp, host, client_config(settings)?).await
}

async fn read_to_end(s: &TlsStream) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 8192];
    loop {
        match s.read(&mut buf).await? {
            0 => return Ok(out),
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// One request/response exchange, the server answering RESPONSE with close_notify.
async fn exchange(
    addr: SocketAddr,
    host: &str,
    settings: &TlsSettings,
) -> Result<Vec<u8>, TlsError> {
    let s = connect(addr, host, settings).await?;
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .map_err(io_to_tls)?;
    read_to_end(&s).await.map_err(io_to_tls)
}

fn io_to_tls(e: io::Error) -> TlsError {
    TlsError::from_io_error(&e)
        .cloned()
        .unwrap_or_else(|| panic!("plain I/O error, not a TLS one: {e}"))
}

fn answer(_: usize, s: &mut ServerStream) -> io::Result<()> {
    read_head(s)?;
    write_and_close_notify(s, RESPONSE)
}

/// A CA, its PEM file, and a server presenting `leaf(ca)` that answers once.
struct Setup {
    _dir: TempDir,
    ca_path: std::path::PathBuf,
    addr: SocketAddr,
}

fn setup(conns: usize, make_leaf: impl FnOnce(&Ca) -> Leaf) -> Setup {
    let dir = TempDir::new("tls");
    let ca = Ca::new("squall test CA");
    let ca_path = dir.write("ca.pem", ca.pem());
    let leaf = make_leaf(&ca);
    let (addr, _) = spawn_server(server_config(&leaf, None), conns, answer);
    Setup {
        _dir: dir,
        ca_path,
        addr,
    }
}

// T-03: the ca_certs file is the trust root; the body arrives intact.
#[test]
fn valid_chain_via_ca_certs() {
    let dir = TempDir::new("tls-valid");
    let ca = Ca::new("squall test CA");
    let ca_path = dir.write("ca.pem", ca.pem());
    let leaf = ca.leaf(&["localhost"]);
    let body: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let expected = body.clone();
    let (addr, server) = spawn_server(server_config(&leaf, None), 1, move |_, s| {
        let head = read_head(s)?;
        assert!(head.starts_with(b"GET /big"));
        s.write_all(
            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes(),
        )?;
        write_and_close_notify(s, &body)
    });
    let got = run(async {
        let s = connect(addr, "localhost", &TlsSettings::new().ca_certs(&ca_path))
            .await
            .unwrap();
        assert_eq!(s.alpn_protocol().as_deref(), Some(&b"http/1.1"[..]));
        assert!(s.protocol_version().is_some());
        assert_eq!(s.peer_certificates().unwrap()[0], leaf.chain[0]);
        s.write_all(b"GET /big HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .unwrap();
        read_to_end(&s).await.unwrap()
    });
    let head_end = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(got.len() - head_end, expected.len());
    assert!(got[head_end..] == expected[..], "body corrupted");
    assert_eq!(server.join().unwrap(), 1);
}

// T-03: ca_certs replaces the default roots, it does not add to them, and without it the
// default roots do not know our CA (T-01).
#[test]
fn default_roots_do_not_trust_a_private_ca() {
    let st = setup(1, |ca| ca.leaf(&["localhost"]));
    let err = run(exchange(st.addr, "localhost", &TlsSettings::new())).unwrap_err();
    assert_eq!(err.kind, TlsErrorKind::UnknownIssuer, "{err}");
}

fn expect_verify_error(
    make_leaf: impl FnOnce(&Ca) -> Leaf,
    host: &str,
    kind: TlsErrorKind,
) -> TlsError {
    let st = setup(1, make_leaf);
    let settings = TlsSettings::new().ca_certs(&st.ca_path);
    let err = run(exchange(st.addr, host, &settings)).unwrap_err();
    assert_eq!(err.kind, kind, "{err}");
    assert!(err.is_verification_failure(), "{err}");
    assert!(err.to_string().contains(host), "{err}");
    assert!(
        err.to_string().contains("certificate verify failed"),
        "{err}"
    );
    err
}

// T-01
#[test]
fn self_signed_leaf_is_unknown_issuer() {
    expect_verify_error(
        |_| self_signed_leaf(&["localhost"]),
        "localhost",
        TlsErrorKind::UnknownIssuer,
    );
}

#[test]
fn unknown_root_is_unknown_issuer() {
    let other = Ca::new("some other CA");
    expect_verify_error(
        |_| other.leaf(&["localhost"]),
        "localhost",
        TlsErrorKind::UnknownIssuer,
    );
}

#[test]
fn expired_certificate() {
    let err = expect_verify_error(
        |ca| {
            ca.leaf_with(&["localhost"], |p| {
                p.not_before = rcgen::date_time_ymd(2019, 1, 1);
                p.not_after = rcgen::date_time_ymd(2020, 1, 1);
            })
        },
        "localhost",
        TlsErrorKind::CertExpired,
    );
    assert!(err.to_string().contains("expired"), "{err}");
    assert!(err.to_string().contains("2020-01-01"), "{err}");
}

#[test]
fn not_yet_valid_certificate() {
    let err = expect_verify_error(
        |ca| {
            ca.leaf_with(&["localhost"], |p| {
                p.not_before = rcgen::date_time_ymd(2090, 1, 1);
                p.not_after = rcgen::date_time_ymd(2091, 1, 1);
            })
        },
        "localhost",
        TlsErrorKind::CertNotYetValid,
    );
    assert!(err.to_string().contains("not yet valid"), "{err}");
}

#[test]
fn wrong_host_name() {
    let err = expect_verify_error(
        |ca| ca.leaf(&["other.example", "www.other.example"]),
        "localhost",
        TlsErrorKind::CertWrongHost,
    );
    assert!(err.to_string().contains("other.example"), "{err}");
}

#[test]
fn ca_certificate_used_as_leaf() {
    // A CA certificate (signed by the trusted CA) in the leaf's place: refused.
    let err = expect_verify_error(
        |ca| {
            ca.leaf_with(&["localhost"], |p| {
                p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained)
            })
        },
        "localhost",
        TlsErrorKind::BadCertificate,
    );
    assert!(err.to_string().contains("CA certificate"), "{err}");
    // The trusted CA itself as the leaf is trusted, as OpenSSL (so Tornado and curl) trusts
    // it, but its names still count: this one has none.
    expect_verify_error(|ca| ca.as_leaf(), "localhost", TlsErrorKind::CertWrongHost);
}

// T-02: validate_cert(false) still speaks TLS but checks neither chain, dates nor name.
#[test]
fn validate_cert_false_accepts_bad_certificates() {
    type MakeLeaf = Box<dyn FnOnce(&Ca) -> Leaf>;
    let leaves: Vec<MakeLeaf> = vec![
        Box::new(|_| self_signed_leaf(&["localhost"])),
        Box::new(|ca| {
            ca.leaf_with(&["localhost"], |p| {
                p.not_before = rcgen::date_time_ymd(2019, 1, 1);
                p.not_after = rcgen::date_time_ymd(2020, 1, 1);
            })
        }),
        Box::new(|ca| ca.leaf(&["other.example"])),
        Box::new(|ca| ca.as_leaf()),
    ];
    for make in leaves {
        let st = setup(1, make);
        let body = run(exchange(
            st.addr,
            "localhost",
            &TlsSettings::new().validate_cert(false),
        ))
        .unwrap();
        assert_eq!(body, RESPONSE);
    }
}

// T-05: a caller's config rules over validate_cert, both ways.
#[test]
fn user_config_rules_the_handshake() {
    let permissive =
        Arc::new(build_client_config(&TlsSettings::new().validate_cert(false)).unwrap());
    let strict = Arc::new(build_client_config(&TlsSettings::new()).unwrap());

    let st = setup(1, |_| self_signed_leaf(&["localhost"]));
    let s = TlsSettings::new().config(permissive);
    assert_eq!(run(exchange(st.addr, "localhost", &s)).unwrap(), RESPONSE);

    let st = setup(1, |_| self_signed_leaf(&["localhost"]));
    let s = TlsSettings::new().validate_cert(false).config(strict);
    let err = run(exchange(st.addr, "localhost", &s)).unwrap_err();
    assert_eq!(err.kind, TlsErrorKind::UnknownIssuer);
}

/// A server that records the SNI it received.
fn sni_server(leaf: &Leaf) -> (SocketAddr, mpsc::Receiver<Option<String>>) {
    let (tx, rx) = mpsc::channel();
    let (addr, _) = spawn_server(server_config(leaf, None), 1, move |_, s| {
        read_head(s)?;
        let _ = tx.send(s.conn.server_name().map(str::to_owned));
        write_and_close_notify(s, RESPONSE)
    });
    (addr, rx)
}

// T-06: host names are sent as SNI; IP literals are not, and are checked against IP SANs.
#[test]
fn sni_and_ip_literals() {
    let dir = TempDir::new("tls-ip");
    let ca = Ca::new("ip CA");
    let ca_path = dir.write("ca.pem", ca.pem());
    let settings = TlsSettings::new().ca_certs(&ca_path);

    let (addr, sni) = sni_server(&ca.leaf(&["localhost", "127.0.0.1"]));
    assert_eq!(
        run(exchange(addr, "localhost", &settings)).unwrap(),
        RESPONSE
    );
    assert_eq!(sni.recv().unwrap().as_deref(), Some("localhost"));

    let (addr, sni) = sni_server(&ca.leaf(&["localhost", "127.0.0.1"]));
    assert_eq!(
        run(exchange(addr, "127.0.0.1", &settings)).unwrap(),
        RESPONSE
    );
    assert_eq!(sni.recv().unwrap(), None, "no SNI for an IP literal");

    // A certificate naming the host only does not cover its address.
    let st = setup(1, |_| ca.leaf(&["localhost"]));
    let err = run(exchange(st.addr, "127.0.0.1", &settings)).unwrap_err();
    assert_eq!(err.kind, TlsErrorKind::CertWrongHost, "{err}");
    // Nor one for another address.
    let st = setup(1, |_| ca.leaf(&["127.0.0.2"]));
    let err = run(exchange(st.addr, "127.0.0.1", &settings)).unwrap_err();
    assert_eq!(err.kind, TlsErrorKind::CertWrongHost, "{err}");
}

#[test]
fn ipv6_literal_with_brackets() {
    let Ok(listener) = std::net::TcpListener::bind("[::1]:0") else {
        eprintln!("no IPv6 loopback here; skipped");
        return;
    };
    let addr = listener.local_addr().unwrap();
    let dir = TempDir::new("tls-ip6");
    let ca = Ca::new("ip6 CA");
    let ca_path = dir.write("ca.pem", ca.pem());
    let config = server_config(&ca.leaf(&["::1"]), None);
    let server = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let mut s = ServerStream::new(rustls::ServerConnection::new(config).unwrap(), tcp);
        read_head(&mut s).unwrap();
        assert_eq!(s.conn.server_name(), None);
        write_and_close_notify(&mut s, RESPONSE).unwrap();
    });
    let settings = TlsSettings::new().ca_certs(&ca_path);
    assert_eq!(run(exchange(addr, "[::1]", &settings)).unwrap(), RESPONSE);
    server.join().unwrap();
}

#[test]
fn invalid_host_name_is_refused() {
    let st = setup(1, |ca| ca.leaf(&["localhost"]));
    let err = run(exchange(st.addr, "bad host name", &TlsSettings::new())).unwrap_err();
    assert_eq!(err.kind, TlsErrorKind::Handshake, "{err}");
    assert!(err.to_string().contains("bad host name"), "{err}");
}

// T-04: mutual TLS.
#[test]
fn client_certificate_required() {
    let dir = TempDir::new("tls-mtls");
    let ca = Ca::new("server CA");
    let client_ca = Ca::new("client CA");
    let ca_path = dir.write("ca.pem", ca.pem());
    let client = client_ca.leaf(&["client.example"]);
    let cert = dir.write("client.pem", &client.chain_pem);
    let key = dir.write("client.key", client.key_pem());
    let both = dir.write(
        "both.pem",
        format!("{}{}", client.chain_pem, client.key_pem()),
    );
    let server_leaf = ca.leaf(&["localhost"]);
    let (addr, server) = spawn_server(server_config(&server_leaf, Some(&client_ca)), 3, answer);

    let base = TlsSettings::new().ca_certs(&ca_path);
    let with_key = base.clone().client_cert(&cert).client_key(&key);
    assert_eq!(
        run(exchange(addr, "localhost", &with_key)).unwrap(),
        RESPONSE
    );
    // The key read from the certificate file.
    let combined = base.clone().client_cert(&both);
    assert_eq!(
        run(exchange(addr, "localhost", &combined)).unwrap(),
        RESPONSE
    );

    // Without one, the server refuses: with TLS 1.3 its alert arrives after our side of the
    // handshake ended, and it is still a handshake failure.
    let err = run(exchange(addr, "localhost", &base)).unwrap_err();
    assert_eq!(err.kind, TlsErrorKind::Handshake, "{err}");
    assert!(err.to_string().contains("alert"), "{err}");
    assert_eq!(server.join().unwrap(), 3);
}

// The server answers a ClientHello in plain HTTP.
#[test]
fn plain_http_server_is_not_tls() {
    let (addr, _) = spawn_plain_server(|mut tcp| {
        let mut buf = [0u8; 1024];
        let _ = tcp.read(&mut buf);
        let _ = tcp.write_all(
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
    });
    let err = run(exchange(addr, "localhost", &TlsSettings::new())).unwrap_err();
    assert_eq!(err.kind, TlsErrorKind::NotTls, "{err}");
    assert!(err.to_string().contains("plain HTTP"), "{err}");
}

#[test]
fn server_closing_during_handshake() {
    let (addr, _) = spawn_plain_server(|mut tcp| {
        let mut buf = [0u8; 1024];
        let _ = tcp.read(&mut buf);
    });
    let err = run(exchange(addr, "localhost", &TlsSettings::new())).unwrap_err();
    assert_eq!(err.kind, TlsErrorKind::Handshake, "{err}");
    assert!(
        err.to_string().contains("during the TLS handshake"),
        "{err}"
    );
}

// EOF without close_notify is reported, distinctly from a clean close.
#[test]
fn truncation_is_reported() {
    let st_dir = TempDir::new("tls-trunc");
    let ca = Ca::new("trunc CA");
    let ca_path = st_dir.write("ca.pem", ca.pem());
    let leaf = ca.leaf(&["localhost"]);
    let (addr, _) = spawn_server(server_config(&leaf, None), 2, |i, s| {
        read_head(s)?;
        s.write_all(b"HTTP/1.1 200 OK\r\n\r\npartial body")?;
        s.flush()?;
        if i == 1 {
            s.conn.send_close_notify();
            s.flush()?;
        }
        s.sock.shutdown(std::net::Shutdown::Both)
    });
    let settings = TlsSettings::new().ca_certs(&ca_path);
    run(async {
        // Without close_notify: the data, then an UnexpectedEof error carrying Truncated.
        let s = connect(addr, "localhost", &settings).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        let err = loop {
            match s.read(&mut buf).await {
                Ok(0) => panic!("a close without close_notify read as a clean end"),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => break e,
            }
        };
        assert_eq!(got, b"HTTP/1.1 200 OK\r\n\r\npartial body");
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "{err}");
        let tls = TlsError::from_io_error(&err).expect("a TLS error");
        assert_eq!(tls.kind, TlsErrorKind::Truncated);
        assert!(err.to_string().contains("close_notify"), "{err}");
        // It stays an error.
        assert!(s.read(&mut buf).await.is_err());

        // With close_notify: a clean Ok(0).
        let s = connect(addr, "localhost", &settings).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        let got = read_to_end(&s).await.unwrap();
        assert_eq!(got, b"HTTP/1.1 200 OK\r\n\r\npartial body");
        assert_eq!(s.read(&mut buf).await.unwrap(), 0);
    });
}

// T-07: the handshake has no timeout of its own; the caller's timeout drops it and the
// socket is closed.
#[test]
fn handshake_timeout_closes_the_socket() {
    let (tx, rx) = mpsc::channel();
    let (addr, _) = spawn_plain_server(move |mut tcp| {
        // Read the ClientHello, never answer, and report when the client closes.
        let mut buf = [0u8; 4096];
        let start = std::time::Instant::now();
        loop {
            match tcp.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => continue,
                Err(_) => break,
            }
        }
        let _ = tx.send(start.elapsed());
    });
    run(async {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let config = client_config(&TlsSettings::new()).unwrap();
        let r = timeout(
            Duration::from_millis(200),
            TlsStream::connect(tcp, "localhost", config),
        )
        .await;
        assert!(r.is_err(), "the handshake cannot finish");
    });
    let closed_after = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("socket closed");
    assert!(closed_after < Duration::from_secs(5), "{closed_after:?}");
}

// Big payloads both ways: flow control in the write queue, many records per read.
#[test]
fn large_upload_then_download() {
    const N: usize = 8 << 20;
    let dir = TempDir::new("tls-big");
    let ca = Ca::new("big CA");
    let ca_path = dir.write("ca.pem", ca.pem());
    let leaf = ca.leaf(&["localhost"]);
    let (addr, _) = spawn_server(server_config(&leaf, None), 1, |_, s| {
        let mut got = vec![0u8; N];
        s.read_exact(&mut got)?;
        let sum: u64 = got.iter().map(|&b| b as u64).sum();
        s.write_all(&sum.to_be_bytes())?;
        got.reverse();
        write_and_close_notify(s, &got)
    });
    let data: Vec<u8> = (0..N).map(|i| (i % 253) as u8).collect();
    let sum: u64 = data.iter().map(|&b| b as u64).sum();
    let back = run(async {
        let s = connect(addr, "localhost", &TlsSettings::new().ca_certs(&ca_path))
            .await
            .unwrap();
        s.write_all_vectored(&[&data[..100], &data[100..N / 2], &data[N / 2..]])
            .await
            .unwrap();
        read_to_end(&s).await.unwrap()
    });
    assert_eq!(back.len(), 8 + N);
    assert_eq!(u64::from_be_bytes(back[..8].try_into().unwrap()), sum);
    let mut expected = data;
    expected.reverse();
    assert!(back[8..] == expected[..]);
}

// The pool's stale check: an idle, live connection (session tickets already received and
// consumed) reads as WouldBlock; once the server closed it, it reads as closed.
#[test]
fn try_read_tells_idle_from_closed() {
    let dir = TempDir::new("tls-stale");
    let ca = Ca::new("stale CA");
    let ca_path = dir.write("ca.pem", ca.pem());
    let leaf = ca.leaf(&["localhost"]);
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let go_rx = std::sync::Mutex::new(go_rx);
    let (addr, _) = spawn_server(server_config(&leaf, None), 2, move |i, s| {
        read_head(s)?;
        s.write_all(RESPONSE)?;
        s.flush()?;
        go_rx.lock().unwrap().recv().unwrap();
        if i == 0 {
            s.conn.send_close_notify();
            s.flush()?;
        }
        s.sock.shutdown(std::net::Shutdown::Both)
    });
    let settings = TlsSettings::new().ca_certs(&ca_path);
    run(async {
        for clean in [true, false] {
            let s = connect(addr, "localhost", &settings).await.unwrap();
            s.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
            let mut buf = vec![0u8; RESPONSE.len()];
            let mut n = 0;
            while n < buf.len() {
                n += s.read(&mut buf[n..]).await.unwrap();
            }
            assert_eq!(buf, RESPONSE);
            squall::ioloop::sleep(Duration::from_millis(50)).await;
            let mut probe = [0u8; 16];
            let e = s.try_read(&mut probe).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::WouldBlock);

            go_tx.send(()).unwrap();
            // Give the close time to arrive, with a generous bound.
            let mut closed = false;
            for _ in 0..200 {
                match s.try_read(&mut probe) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        squall::ioloop::sleep(Duration::from_millis(10)).await
                    }
                    Ok(0) if clean => {
                        closed = true;
                        break;
                    }
                    Err(e) if !clean => {
                        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
                        closed = true;
                        break;
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
            assert!(closed, "the close was never seen");
        }
    });
}

// close() sends close_notify: the server reads a clean end, not a truncation.
#[test]
fn close_sends_close_notify() {
    let dir = TempDir::new("tls-close");
    let ca = Ca::new("close CA");
    let ca_path = dir.write("ca.pem", ca.pem());
    let leaf = ca.leaf(&["localhost"]);
    let (tx, rx) = mpsc::channel();
    let (addr, _) = spawn_server(server_config(&leaf, None), 2, move |_, s| {
        let mut all = Vec::new();
        let r = s.read_to_end(&mut all);
        let _ = tx.send((all, r.map_err(|e| e.kind())));
        Ok(())
    });
    let settings = TlsSettings::new().ca_certs(&ca_path);
    run(async {
        let s = connect(addr, "localhost", &settings).await.unwrap();
        s.write_all(b"bye").await.unwrap();
        s.close().await.unwrap();
        let s = connect(addr, "localhost", &settings).await.unwrap();
        s.write_all(b"sync").await.unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        // Drain the server's side so the stream outlives the server's read.
        let mut buf = [0u8; 64];
        let _ = s.read(&mut buf).await;
    });
    let (data, r) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(data, b"bye");
    assert!(r.is_ok(), "server saw {r:?}");
    let (data, r) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(data, b"sync");
    assert!(r.is_ok(), "server saw {r:?}");
}

// Several request/response exchanges on one connection.
#[test]
fn keep_alive_exchanges_on_one_connection() {
    let dir = TempDir::new("tls-ka");
    let ca = Ca::new("ka CA");
    let ca_path = dir.write("ca.pem", ca.pem());
    let leaf = ca.leaf(&["localhost"]);
    let (addr, server) = spawn_server(server_config(&leaf, None), 1, |_, s| {
        for _ in 0..50 {
            read_head(s)?;
            s.write_all(RESPONSE)?;
            s.flush()?;
        }
        write_and_close_notify(s, b"")
    });
    run(async {
        let s = connect(addr, "localhost", &TlsSettings::new().ca_certs(&ca_path))
            .await
            .unwrap();
        for _ in 0..50 {
            s.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
            let mut buf = vec![0u8; RESPONSE.len()];
            let mut n = 0;
            while n < buf.len() {
                let k = s.read(&mut buf[n..]).await.unwrap();
                assert!(k > 0);
                n += k;
            }
            assert_eq!(buf, RESPONSE);
        }
        assert_eq!(s.read(&mut [0u8; 8]).await.unwrap(), 0);
    });
    assert_eq!(server.join().unwrap(), 1);
}

// A record that does not decrypt, after data was exchanged, is an error of its own kind,
// never a silent end.
#[test]
fn corrupt_record_mid_stream() {
    let dir = TempDir::new("tls-corrupt");
    let ca = Ca::new("corrupt CA");
    let ca_path = dir.write("ca.pem", ca.pem());
    let leaf = ca.leaf(&["localhost"]);
    let (addr, _) = spawn_server(server_config(&leaf, None), 1, |_, s| {
        read_head(s)?;
        s.write_all(b"first part")?;
        s.flush()?;
        // An application-data record with garbage for ciphertext, on the raw socket.
        s.sock
            .write_all(b"\x17\x03\x03\x00\x20aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")?;
        let mut rest = Vec::new();
        let _ = s.sock.read_to_end(&mut rest);
        Ok(())
    });
    run(async {
        let s = connect(addr, "localhost", &TlsSettings::new().ca_certs(&ca_path))
            .await
            .unwrap();
        s.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        let err = loop {
            match s.read(&mut buf).await {
                Ok(0) => panic!("a corrupt record read as the end"),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => break e,
            }
        };
        assert_eq!(got, b"first part");
        let tls = TlsError::from_io_error(&err).expect("a TLS error");
        assert_eq!(tls.kind, TlsErrorKind::Protocol, "{tls}");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    });
}

// One config per setting means one session cache: the second connection resumes.
#[test]
fn shared_config_resumes_sessions() {
    let dir = TempDir::new("tls-resume");
    let ca = Ca::new("resume CA");
    let ca_path = dir.write("ca.pem", ca.pem());
    let leaf = ca.leaf(&["localhost"]);
    let (tx, rx) = mpsc::channel();
    let (addr, _) = spawn_server(server_config(&leaf, None), 2, move |_, s| {
        read_head(s)?;
        let _ = tx.send(s.conn.handshake_kind());
        write_and_close_notify(s, RESPONSE)
    });
    let settings = TlsSettings::new().ca_certs(&ca_path);
    for _ in 0..2 {
        assert_eq!(
            run(exchange(addr, "localhost", &settings)).unwrap(),
            RESPONSE
        );
    }
    assert_eq!(rx.recv().unwrap(), Some(rustls::HandshakeKind::Full));
    assert_eq!(rx.recv().unwrap(), Some(rustls::HandshakeKind::Resumed));
}

// TLS 1.2 servers work too, truncation detection included.
#[test]
fn tls12_server() {
    let dir = TempDir::new("tls-12");
    let ca = Ca::new("tls12 CA");
    let ca_path = dir.write("ca.pem", ca.pem());
    let leaf = ca.leaf(&["localhost"]);
    let config =
        crate::support::tls::server_config_versions(&leaf, None, &[&rustls::version::TLS12]);
    let (addr, _) = spawn_server(config, 2, |i, s| {
        read_head(s)?;
        if i == 0 {
            return write_and_close_notify(s, RESPONSE);
        }
        s.write_all(b"cut")?;
        s.flush()?;
        s.sock.shutdown(std::net::Shutdown::Both)
    });
    let settings = TlsSettings::new().ca_certs(&ca_path);
    run(async {
        let s = connect(addr, "localhost", &settings).await.unwrap();
        assert_eq!(s.protocol_version(), Some(rustls::ProtocolVersion::TLSv1_2));
        s.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        assert_eq!(read_to_end(&s).await.unwrap(), RESPONSE);

        let s = connect(addr, "localhost", &settings).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        let err = read_to_end(&s).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    });
}
