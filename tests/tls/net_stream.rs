//! `net::Stream` over TLS: the `Tls` arm delegates reads, vectored writes, the staleness probe
//! and the clean close to `TlsStream`, against a blocking rustls server on a std thread
//! (certificates made at test time by the TLS tests' support module). Loopback only.

use std::io::{Read, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::run_on_new_loop as run;
use crate::support::tls::{Ca, TempDir, read_head, server_config, spawn_server};
use squall::ioloop;
use squall::net::Stream;
use squall::net::connect::{ConnectOptions, connect};
use squall::net::tls::{TlsSettings, TlsStream, client_config};

#[test]
fn tls_stream_round_trip_idle_probe_and_close() {
    let dir = TempDir::new("net-tls");
    let ca = Ca::new("net test CA");
    let ca_path = dir.write("ca.pem", ca.pem());
    let leaf = ca.leaf(&["localhost"]);
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (addr, server) = spawn_server(server_config(&leaf, None), 1, move |_, s| {
        let head = read_head(s)?;
        assert!(head.starts_with(b"GET / HTTP/1.1\r\n"));
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")?;
        s.flush()?;
        // Idle until the client has probed, then close cleanly.
        let _ = go_rx.recv();
        s.conn.send_close_notify();
        s.flush()?;
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
        Ok(())
    });
    let settings = TlsSettings::new().ca_certs(&ca_path);
    run(async move {
        let (tcp, won) = connect(&[addr], &ConnectOptions::default()).await.unwrap();
        assert_eq!(won, addr);
        let tls = TlsStream::connect(tcp, "localhost", client_config(&settings).unwrap())
            .await
            .unwrap();
        let s = Stream::from(tls);
        assert!(s.is_tls());
        assert_eq!(s.peer_addr().unwrap(), addr);
        assert_eq!(s.tcp().peer_addr().unwrap(), addr);
        s.write_all_vectored(&[b"GET / HTTP/1.1\r\n", b"Host: localhost\r\n", b"\r\n"])
            .await
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while !got.ends_with(b"hello") {
            let n = s.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed early: {got:?}");
            got.extend_from_slice(&buf[..n]);
        }
        // TLS 1.3 session tickets may arrive on the idle connection: they are not data.
        ioloop::sleep(Duration::from_millis(50)).await;
        assert!(s.is_reusable(), "an idle TLS connection looked stale");

        go_tx.send(()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while s.is_reusable() {
            assert!(Instant::now() < deadline, "close_notify never noticed");
            ioloop::sleep(Duration::from_millis(5)).await;
        }
        s.close().await.unwrap();
    });
    assert_eq!(server.join().unwrap(), 1);
}
