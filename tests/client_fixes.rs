//! Regression tests for the FINDINGS.md fixes in src/client (one section per finding).

mod client_util;

use client_util::*;
use squall::{AsyncHttpClient, ErrorKind, HttpRequest};

/// Chunked wire bytes: `n` one-byte chunks of `b`, then the last chunk.
fn tiny_chunks(n: usize, b: u8) -> Vec<u8> {
    let mut wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..n {
        wire.extend_from_slice(b"1\r\n");
        wire.push(b);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    wire
}

// FINDINGS #5 (S-15): gathering buffered tiny chunks keeps the body limit and keep-alive.

#[test]
fn gathered_tiny_chunks_still_respect_max_body_size() {
    let wire = tiny_chunks(3_000, b'q');
    let srv = Server::start(move |_| vec![write(wire.clone())]);
    run(async {
        let c = AsyncHttpClient::new();
        let e = c
            .fetch(HttpRequest::new(&srv.url("/")).max_body_size(1_000))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::BodyTooLarge, "{e}");
    });
}

#[test]
fn gathered_tiny_chunks_end_the_body_and_the_connection_is_reused() {
    let wire = tiny_chunks(2_000, b'k');
    let srv = Server::start(move |_| vec![write(wire.clone())]);
    run(async {
        let c = AsyncHttpClient::new();
        for _ in 0..3 {
            let mut s = c.fetch_streaming(srv.url("/")).await.unwrap();
            let mut all = Vec::new();
            let mut pieces = 0;
            while let Some(p) = s.chunk().await.unwrap() {
                all.extend_from_slice(&p);
                pieces += 1;
            }
            assert_eq!(all, vec![b'k'; 2_000]);
            assert!(pieces < 100, "{pieces} pieces");
        }
    });
    assert_eq!(srv.conns(), 1);
}
