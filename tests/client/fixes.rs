//! Regression tests for the FINDINGS.md fixes in src/client (one section per finding).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::server::*;
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

// FINDINGS #6 (E-15): a failure without a response still reports where the time went.

#[test]
fn a_timeout_without_a_response_has_request_time_and_time_info() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    // Accepts and never answers.
    let _keep = std::thread::spawn(move || {
        let conns: Vec<_> = l.incoming().take(1).collect();
        std::thread::sleep(Duration::from_secs(5));
        drop(conns);
    });
    run(async {
        let e = AsyncHttpClient::new()
            .fetch(
                HttpRequest::new(&format!("http://127.0.0.1:{port}/"))
                    .request_timeout(Duration::from_millis(200)),
            )
            .await
            .unwrap_err();
        assert!(e.is_timeout(), "{e}");
        assert!(e.response().is_none());
        let rt = e.request_time().expect("request_time");
        assert!(
            rt >= Duration::from_millis(200) && rt < Duration::from_secs(5),
            "{rt:?}"
        );
        let t = e.time_info().expect("time_info");
        assert!(t.total >= Duration::from_millis(200) && t.total < Duration::from_secs(5));
        assert!(t.connect <= t.total && t.dns <= t.total && t.queue <= t.total);
    });
}

#[test]
fn a_refused_connection_has_time_info_and_a_status_error_has_the_responses() {
    let port = crate::support::server::closed_port();
    let srv = Server::start(|_| vec![write(resp(500, &[], b"bad"))]);
    run(async {
        let c = AsyncHttpClient::new();
        let e = c
            .fetch(format!("http://127.0.0.1:{port}/"))
            .await
            .unwrap_err();
        assert!(e.response().is_none());
        let t = e.time_info().expect("time_info on a refused connection");
        assert!(t.total <= e.request_time().unwrap() + Duration::from_secs(1));
        let e = c.fetch(srv.url("/")).await.unwrap_err();
        let r = e.response().expect("a status error has its response");
        assert_eq!(e.time_info(), Some(r.time_info));
        assert_eq!(e.request_time(), Some(r.request_time));
    });
}

// FINDINGS "CLI status" note on #8: header_callback's status line has a 3-digit code
// (RFC 9112 §4: status-code = 3DIGIT), as received.

#[test]
fn header_callback_status_line_keeps_three_digits() {
    let srv = Server::start(|_| {
        vec![write(
            b"HTTP/1.1 099 Odd\r\nContent-Length: 2\r\n\r\nok".to_vec(),
        )]
    });
    run(async {
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let l2 = lines.clone();
        let _ = AsyncHttpClient::new()
            .fetch(
                HttpRequest::new(&srv.url("/"))
                    .raise_error(false)
                    .header_callback(move |l| l2.lock().unwrap().push(l.to_string())),
            )
            .await;
        assert_eq!(
            lines.lock().unwrap().first().map(String::as_str),
            Some("HTTP/1.1 099 Odd\r\n")
        );
    });
}

// FINDINGS #1 follow-up: when the coding lines decode (`identity` then `gzip`), every
// Content-Encoding line is renamed, not only the first.

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

// FINDINGS #5 (S-15) for a coded body: tiny gzip chunks already buffered are decoded into
// few deliveries too, and the decoded body is whole.

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
    let mut wire =
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for b in &coded {
        wire.extend_from_slice(b"1\r\n");
        wire.push(*b);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
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
    let mut wire =
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for b in &coded[..coded.len() - 6] {
        wire.extend_from_slice(b"1\r\n");
        wire.push(*b);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    let srv = Server::start(move |_| vec![write(wire.clone())]);
    run(async {
        let e = AsyncHttpClient::new()
            .fetch(srv.url("/"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Decompression, "{e}");
    });
}
