//! Content codings (C-*): gzip and deflate decoded (and asked for), other codings passed
//! through, and the body limit counted in decoded bytes. Behaviour IDs are described in
//! docs/behaviours.md.

use std::sync::{Arc, Mutex};

use crate::support::server::*;
use squall::{AsyncHttpClient, ErrorKind, HttpRequest};

#[test]
#[cfg(feature = "gzip")]
fn c01_c02_c03_gzip_decoded() {
    let z = gzip(b"asdfqwer");
    let zl = z.len().to_string();
    let srv = Server::start(move |_| vec![write(resp(200, &[("Content-Encoding", "gzip")], &z))]);
    run(async {
        let c = AsyncHttpClient::new();
        let r = c.fetch(srv.url("/")).await.unwrap();
        assert_eq!(r.body, b"asdfqwer");
        assert_eq!(r.headers.get("Content-Encoding"), None);
        assert_eq!(r.headers.get("X-Consumed-Content-Encoding"), Some("gzip"));
        assert_eq!(r.headers.get("Content-Length"), Some(zl.as_str()));
        // C-04
        let r = c
            .fetch(HttpRequest::new(&srv.url("/")).decompress_response(false))
            .await
            .unwrap();
        assert_eq!(r.body, gzip(b"asdfqwer"));
        assert_eq!(r.headers.get("Content-Encoding"), Some("gzip"));
    });
}

#[test]
#[cfg(feature = "gzip")]
fn c05_c06_c07_c08_encodings() {
    let mut two = gzip(b"hello ");
    two.extend_from_slice(&gzip(b"world"));
    let mut bad = gzip(b"asdfqwer");
    bad.push(0);
    let truncated = gzip(b"some longer text that compresses")[..20].to_vec();
    let srv = Server::start(move |r| match r.path() {
        "/br" => vec![write(resp(200, &[("Content-Encoding", "br")], b"raw"))],
        "/two" => vec![write(resp(200, &[("Content-Encoding", "gzip")], &two))],
        "/bad" => vec![write(resp(200, &[("Content-Encoding", "gzip")], &bad))],
        "/trunc" => vec![write(resp(
            200,
            &[("Content-Encoding", "gzip")],
            &truncated,
        ))],
        "/empty" => vec![write(resp(200, &[("Content-Encoding", "gzip")], b""))],
        _ => vec![write(
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 30\r\n\r\n".to_vec(),
        )],
    });
    run(async {
        let c = AsyncHttpClient::new();
        let r = c.fetch(srv.url("/br")).await.unwrap();
        assert_eq!(r.body, b"raw");
        assert_eq!(r.headers.get("Content-Encoding"), Some("br"));
        let r = c.fetch(srv.url("/two")).await.unwrap();
        assert_eq!(r.body, b"hello world");
        let e = c.fetch(srv.url("/bad")).await.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Decompression, "{e}");
        assert_eq!(e.code(), 599);
        let e = c.fetch(srv.url("/trunc")).await.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Decompression, "{e}");
        let r = c.fetch(srv.url("/empty")).await.unwrap();
        assert!(r.body.is_empty());
        let r = c
            .fetch(HttpRequest::new(&srv.url("/head")).method("HEAD"))
            .await
            .unwrap();
        assert!(r.body.is_empty());
    });
}

#[test]
#[cfg(feature = "gzip")]
fn c09_c11_decoded_size_limit() {
    let bomb = gzip(&vec![0u8; 4 << 20]);
    let srv =
        Server::start(move |_| vec![write(resp(200, &[("Content-Encoding", "gzip")], &bomb))]);
    run(async {
        let c = AsyncHttpClient::builder().max_body_size(1 << 20).build();
        let e = c.fetch(srv.url("/")).await.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::BodyTooLarge, "{e}");
        let seen = Arc::new(Mutex::new(0usize));
        let s2 = seen.clone();
        let e = c
            .fetch(
                HttpRequest::new(&srv.url("/"))
                    .streaming_callback(move |d| *s2.lock().unwrap() += d.len()),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::BodyTooLarge);
        assert!(
            *seen.lock().unwrap() <= 1 << 20,
            "{} bytes passed the limit",
            seen.lock().unwrap()
        );
    });
}

#[test]
#[cfg(feature = "gzip")]
fn max_body_size_counts_decoded_bytes_not_wire_bytes() {
    // 1000 bytes that do not compress: the gzip body on the wire is longer than the limit.
    let mut x: u32 = 12345;
    let data: Vec<u8> = (0..1000)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        })
        .collect();
    let z = gzip(&data);
    assert!(z.len() > 1000);
    let srv = Server::start(move |r| match r.path() {
        "/gz" => vec![write(resp(200, &[("Content-Encoding", "gzip")], &z))],
        _ => ok(&[b'a'; 1001]),
    });
    run(async {
        let c = AsyncHttpClient::builder().max_body_size(1000).build();
        let r = c.fetch(srv.url("/gz")).await.unwrap();
        assert_eq!(r.body, data);
        let e = c.fetch(srv.url("/plain")).await.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::BodyTooLarge);
        assert!(e.message().starts_with("Content-Length too long"), "{e}");
        // HEAD with a large Content-Length has no body: fine.
        let r = c
            .fetch(HttpRequest::new(&srv.url("/plain")).method("HEAD"))
            .await
            .unwrap();
        assert_eq!(r.code, 200);
    });
}

#[test]
#[cfg(feature = "gzip")]
fn c05_two_content_encoding_lines_pass_through_and_head_keeps_its_coding() {
    let inner = gzip(b"hello");
    let outer = gzip(&inner);
    let o2 = outer.clone();
    let srv = Server::start(move |r| {
        let mut head = format!(
            "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
            o2.len()
        )
        .into_bytes();
        if r.method != "HEAD" {
            head.extend_from_slice(&o2);
        }
        vec![write(head)]
    });
    run(async {
        let c = AsyncHttpClient::new();
        let r = c.fetch(srv.url("/")).await.unwrap();
        assert_eq!(r.body, outer, "a list of codings is not half-decoded");
        assert_eq!(r.headers.get_all("Content-Encoding").count(), 2);
        // HEAD: nothing to decode, the head as received.
        let r = c
            .fetch(HttpRequest::new(&srv.url("/")).method("HEAD"))
            .await
            .unwrap();
        assert_eq!(r.headers.get("Content-Encoding"), Some("gzip"));
        assert_eq!(r.headers.get("X-Consumed-Content-Encoding"), None);
    });
}
