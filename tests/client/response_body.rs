//! How a response body reaches the caller when it arrives in many tiny chunks: chunks already
//! buffered are gathered into few deliveries (S-15), for a plain and a gzip-coded body alike,
//! without losing the body limit, the end of the body, keep-alive, or a decoding error; and a
//! decoded body's Content-Encoding lines are all renamed.

use crate::support::server::*;
use squall::{AsyncHttpClient, ErrorKind, HttpRequest};

/// A chunked 200 whose head has `extra` header lines and whose `body` is sent one byte a
/// chunk, then the last chunk.
fn one_byte_chunks(extra: &str, body: &[u8]) -> Vec<u8> {
    let mut wire =
        format!("HTTP/1.1 200 OK\r\n{extra}Transfer-Encoding: chunked\r\n\r\n").into_bytes();
    for b in body {
        wire.extend_from_slice(b"1\r\n");
        wire.push(*b);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    wire
}

/// `n` one-byte chunks of `b`.
fn tiny_chunks(n: usize, b: u8) -> Vec<u8> {
    one_byte_chunks("", &vec![b; n])
}

// S-15: gathering buffered tiny chunks keeps the body limit and keep-alive.

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

// When the coding lines decode (`identity` then `gzip`), every Content-Encoding line is
// renamed, not only the first.

#[test]
#[cfg(feature = "gzip")]
fn every_decoded_content_encoding_line_is_renamed() {
    let body = gzip(b"hello");
    let mut wire = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: identity\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    wire.extend_from_slice(&body);
    let srv = Server::start(move |_| vec![write(wire.clone())]);
    run(async {
        let r = AsyncHttpClient::new().fetch(srv.url("/")).await.unwrap();
        assert_eq!(r.body, b"hello");
        assert_eq!(r.headers.get("Content-Encoding"), None);
        let consumed: Vec<&str> = r.headers.get_all("X-Consumed-Content-Encoding").collect();
        assert_eq!(consumed, ["identity", "gzip"]);
    });
}

// S-15 for a coded body: tiny gzip chunks already buffered are decoded into few deliveries
// too, and the decoded body is whole.

#[test]
#[cfg(feature = "gzip")]
fn tiny_gzip_chunks_are_merged_and_decoded_whole() {
    // Incompressible bytes: every compressed byte decodes to output of its own.
    let mut x = 0x1234_5678u32;
    let plain: Vec<u8> = (0..4_000)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 16) as u8
        })
        .collect();
    let coded = gzip(&plain);
    let wire = one_byte_chunks("Content-Encoding: gzip\r\n", &coded);
    let srv = Server::start(move |_| vec![write(wire.clone())]);
    run(async {
        let c = AsyncHttpClient::new();
        for _ in 0..2 {
            let mut s = c.fetch_streaming(srv.url("/")).await.unwrap();
            let (mut all, mut pieces) = (Vec::new(), 0);
            while let Some(p) = s.chunk().await.unwrap() {
                all.extend_from_slice(&p);
                pieces += 1;
            }
            assert!(all == plain, "decoded body differs");
            assert!(
                pieces <= coded.len() / 10,
                "{pieces} pieces for {} chunks",
                coded.len()
            );
        }
    });
    assert_eq!(srv.conns(), 1);
}

#[test]
#[cfg(feature = "gzip")]
fn a_gzip_body_cut_short_inside_merged_chunks_is_an_error() {
    let coded = gzip(&[b'z'; 3_000]);
    let wire = one_byte_chunks("Content-Encoding: gzip\r\n", &coded[..coded.len() - 6]);
    let srv = Server::start(move |_| vec![write(wire.clone())]);
    run(async {
        let e = AsyncHttpClient::new()
            .fetch(srv.url("/"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Decompression, "{e}");
    });
}
