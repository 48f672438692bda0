//! Behaviour items from the Tornado checklist that no other test file covers end to end.
//! Each test names the item IDs it proves (see docs/tornado.md for the full map). Servers are
//! small std-thread servers on 127.0.0.1 ephemeral ports; time bounds are generous.

use std::sync::{Arc, Mutex};
// Used by the tests that need the `tls` and `gzip` features.
#[cfg_attr(not(all(feature = "tls", feature = "gzip")), allow(unused_imports))]
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use crate::support::server::*;
use squall::{AsyncHttpClient, ErrorKind, HttpRequest};

fn client() -> AsyncHttpClient {
    AsyncHttpClient::new()
}

/// Standard base64 (with padding), written here so the test does not trust the crate's own.
fn b64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn r10_q13_no_connection_close_by_default_and_caller_value_kept() {
    let srv = Server::start(|_| ok(b"k"));
    run(async {
        let c = client();
        c.fetch(srv.url("/1")).await.unwrap();
        c.fetch(srv.url("/2")).await.unwrap();
        let reqs = srv.reqs();
        for r in &reqs {
            assert!(
                r.header("Connection")
                    .is_none_or(|v| !v.eq_ignore_ascii_case("close")),
                "squall must not ask for close by default: {:?}",
                r.headers
            );
        }
        // Keep-alive: both requests came on one connection.
        assert_eq!(reqs[0].conn, reqs[1].conn);
        // A caller's own Connection header goes out as given, once.
        c.fetch(HttpRequest::new(&srv.url("/3")).header("Connection", "close"))
            .await
            .unwrap();
        assert_eq!(srv.last().header_all("Connection"), vec!["close"]);
        // ...and a connection the caller asked to close is not reused.
        c.fetch(srv.url("/4")).await.unwrap();
        assert_ne!(srv.last().conn, srv.reqs()[2].conn);
    });
}

#[test]
fn r13_credentials_are_utf8_as_given_without_nfc() {
    let srv = Server::start(|_| ok(b""));
    run(async {
        let c = client();
        // "é" decomposed (e + U+0301) and precomposed: NFC would make them equal; squall
        // sends each exactly as given.
        for user in ["e\u{301}", "\u{e9}"] {
            c.fetch(HttpRequest::new(&srv.url("/")).auth(user, "p£"))
                .await
                .unwrap();
            let want = format!("Basic {}", b64(format!("{user}:p£").as_bytes()));
            assert_eq!(srv.last().header("Authorization"), Some(want.as_str()));
        }
        // R-12: a missing password is sent as empty.
        c.fetch(HttpRequest::new(&srv.url("/")).auth("solo", ""))
            .await
            .unwrap();
        let want = format!("Basic {}", b64(b"solo:"));
        assert_eq!(srv.last().header("Authorization"), Some(want.as_str()));
    });
}

#[test]
fn s15_many_tiny_chunks_arrive_whole_and_in_few_deliveries() {
    // 20 000 one-byte chunks written in one go.
    let n = 20_000usize;
    let mut wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    let mut want = Vec::with_capacity(n);
    for i in 0..n {
        let b = b'a' + (i % 26) as u8;
        want.push(b);
        wire.extend_from_slice(b"1\r\n");
        wire.push(b);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    let srv = Server::start(move |_| vec![write(wire.clone())]);
    run(async {
        let c = client();
        // Buffered: the whole body.
        let r = c.fetch(srv.url("/")).await.unwrap();
        assert_eq!(r.body, want);
        // Streamed: every byte in order, and far fewer deliveries than chunks.
        let got = Arc::new(Mutex::new(Vec::new()));
        let calls = Arc::new(Mutex::new(0usize));
        let (g2, c2) = (got.clone(), calls.clone());
        c.fetch(
            HttpRequest::new(&srv.url("/")).streaming_callback(move |d| {
                g2.lock().unwrap().extend_from_slice(d);
                *c2.lock().unwrap() += 1;
            }),
        )
        .await
        .unwrap();
        assert_eq!(*got.lock().unwrap(), want);
        let calls = *calls.lock().unwrap();
        assert!(
            calls <= n / 10,
            "{calls} streaming_callback calls for {n} one-byte chunks: tiny chunks are not merged"
        );
    });
}

#[test]
fn s15_tiny_chunks_stream_pull_api_merges_too() {
    let n = 5_000usize;
    let mut wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..n {
        wire.extend_from_slice(b"1\r\nz\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    let srv = Server::start(move |_| vec![write(wire.clone())]);
    run(async {
        let mut s = client().fetch_streaming(srv.url("/")).await.unwrap();
        let (mut total, mut pieces) = (0, 0);
        while let Some(p) = s.chunk().await.unwrap() {
            total += p.len();
            pieces += 1;
        }
        assert_eq!(total, n);
        assert!(pieces <= n / 10, "{pieces} pieces for {n} one-byte chunks");
    });
}

#[test]
fn s23_204_with_content_length_reads_no_body_and_keeps_the_connection() {
    // Section 0: a 204 or 304 has no body whatever its headers say.
    let srv = Server::start(|r| match r.path() {
        "/204" => vec![write(
            b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n".to_vec(),
        )],
        _ => ok(b"after"),
    });
    run(async {
        let c = client();
        let r = c.fetch(srv.url("/204")).await.unwrap();
        assert_eq!(r.code, 204);
        assert!(r.body.is_empty());
        assert_eq!(r.headers.get("Content-Length"), Some("5"));
        // The "after" body is not mistaken for the 204's.
        assert_eq!(c.fetch(srv.url("/x")).await.unwrap().body, b"after");
    });
    assert_eq!(srv.conns(), 1);
}

#[test]
fn e15_status_error_response_has_request_time_and_start_time() {
    let srv = Server::start(|_| late(Duration::from_millis(30), resp(500, &[], b"bad")));
    run(async {
        let before = std::time::SystemTime::now();
        let e = client().fetch(srv.url("/")).await.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Http);
        let r = e.response().expect("a status error carries its response");
        assert!(r.request_time >= Duration::from_millis(25), "{r:?}");
        assert!(r.start_time >= before - Duration::from_secs(1));
        assert!(r.time_info.total <= r.request_time);
    });
}

#[test]
fn q05_queue_wait_counts_against_request_timeout() {
    // One slot. The first fetch holds it for 700 ms; the second waits for it, then its own
    // server takes 700 ms. Each part fits in 1 s, the sum does not: with one deadline from
    // fetch() the second must time out (Tornado restarts the clock at dequeue).
    let srv = Server::start(|_| late(Duration::from_millis(700), resp(200, &[], b"slow")));
    run(async {
        let c = AsyncHttpClient::builder().max_clients(1).build();
        let first = squall::ioloop::spawn({
            let c = c.clone();
            let url = srv.url("/first");
            async move { c.fetch(url).await }
        });
        // Let the first one take the slot.
        squall::ioloop::sleep(Duration::from_millis(50)).await;
        let t0 = Instant::now();
        let e = c
            .fetch(HttpRequest::new(&srv.url("/second")).request_timeout(Duration::from_secs(1)))
            .await
            .unwrap_err();
        let waited = t0.elapsed();
        assert!(e.is_timeout(), "{e:?}");
        assert!(matches!(e.kind(), ErrorKind::Timeout(_)), "{e:?}");
        assert_eq!(e.code(), 599);
        assert!(
            waited < Duration::from_millis(1350),
            "the deadline counts from fetch(): {waited:?}"
        );
        assert!(waited >= Duration::from_millis(900), "{waited:?}");
        assert_eq!(first.await.unwrap().unwrap().body, b"slow");
    });
}

#[test]
#[cfg(feature = "gzip")]
fn c02_c05_gzip_any_case_x_gzip_and_deflate_decoded_lists_pass_through() {
    let zlib = {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b"deflated").unwrap();
        e.finish().unwrap()
    };
    let g = gzip(b"zipped");
    let srv = Server::start(move |r| {
        let (coding, body): (&str, Vec<u8>) = match r.path() {
            "/GZIP" => ("GZIP", g.clone()),
            "/x-gzip" => ("x-gzip", g.clone()),
            "/deflate" => ("deflate", zlib.clone()),
            "/list" => ("gzip, br", b"as-is".to_vec()),
            _ => ("zstd", b"raw".to_vec()),
        };
        vec![write(resp(200, &[("Content-Encoding", coding)], &body))]
    });
    run(async {
        let c = client();
        for (path, want) in [
            ("/GZIP", &b"zipped"[..]),
            ("/x-gzip", b"zipped"),
            ("/deflate", b"deflated"),
        ] {
            let r = c.fetch(srv.url(path)).await.unwrap();
            assert_eq!(r.body, want, "{path}");
            assert_eq!(r.headers.get("Content-Encoding"), None, "{path}");
            assert!(r.headers.get("X-Consumed-Content-Encoding").is_some());
        }
        for (path, coding, want) in [
            ("/list", "gzip, br", &b"as-is"[..]),
            ("/zstd", "zstd", b"raw"),
        ] {
            let r = c.fetch(srv.url(path)).await.unwrap();
            assert_eq!(r.body, want, "{path}");
            assert_eq!(r.headers.get("Content-Encoding"), Some(coding));
        }
        // Brotli is never asked for.
        assert_eq!(srv.last().header("Accept-Encoding"), Some("gzip"));
    });
}

#[test]
#[cfg(feature = "tls")]
fn t08_client_hello_offers_no_tls_compression() {
    // Capture the ClientHello bytes and read its compression_methods: only null (0).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut hdr = [0u8; 5];
        s.read_exact(&mut hdr).unwrap();
        assert_eq!(hdr[0], 22, "a handshake record");
        let len = u16::from_be_bytes([hdr[3], hdr[4]]) as usize;
        let mut rec = vec![0u8; len];
        s.read_exact(&mut rec).unwrap();
        rec
    });
    run(async {
        let e = client()
            .fetch(
                HttpRequest::new(&format!("https://localhost:{port}/"))
                    .connect_timeout(Duration::from_secs(10)),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code(), 599);
    });
    let rec = server.join().unwrap();
    assert_eq!(rec[0], 1, "ClientHello");
    // type(1) len(3) version(2) random(32)
    let mut i = 4 + 2 + 32;
    let sid = rec[i] as usize;
    i += 1 + sid;
    let suites = u16::from_be_bytes([rec[i], rec[i + 1]]) as usize;
    i += 2 + suites;
    let n = rec[i] as usize;
    assert_eq!(&rec[i + 1..i + 1 + n], &[0u8], "compression methods");
}

#[test]
fn s02_s35_header_callback_gets_the_standard_phrase_for_an_empty_reason() {
    // Tornado's quirk 7 passes "HTTP/1.1 200 None"; squall rebuilds the line with the phrase.
    let srv = Server::start(|r| match r.path() {
        "/noreason" => vec![write(b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n".to_vec())],
        "/unknown" => vec![write(
            b"HTTP/1.1 299 \r\nContent-Length: 0\r\n\r\n".to_vec(),
        )],
        _ => vec![write(
            b"HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n".to_vec(),
        )],
    });
    run(async {
        let c = client();
        for (path, first, reason) in [
            ("/empty", "HTTP/1.1 200 OK\r\n", "OK"),
            ("/noreason", "HTTP/1.1 200 OK\r\n", "OK"),
            ("/unknown", "HTTP/1.1 299 Unknown\r\n", "Unknown"),
        ] {
            let lines = Arc::new(Mutex::new(Vec::<String>::new()));
            let l2 = lines.clone();
            let r = c
                .fetch(
                    HttpRequest::new(&srv.url(path))
                        .header_callback(move |l| l2.lock().unwrap().push(l.to_string())),
                )
                .await
                .unwrap();
            assert_eq!(r.reason, reason, "{path}");
            assert_eq!(lines.lock().unwrap()[0], first, "{path}");
        }
    });
}

#[test]
fn quirk20_blank_lines_before_the_status_line_are_skipped() {
    // RFC 9112 §2.2: a client SHOULD ignore at least one empty line before the status line.
    let srv = Server::start(|_| {
        vec![write(
            b"\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
        )]
    });
    run(async {
        let r = client().fetch(srv.url("/")).await.unwrap();
        assert_eq!((r.code, r.body.as_slice()), (200, &b"ok"[..]));
    });
}

#[test]
fn q03_queue_wait_is_min_of_timeouts_ignoring_zeros_and_unbounded_when_both_zero() {
    // One slot held for 600 ms by a first fetch.
    let srv = Server::start(|_| late(Duration::from_millis(600), resp(200, &[], b"done")));
    run(async {
        let c = AsyncHttpClient::builder().max_clients(1).build();
        let hold = |c: &AsyncHttpClient, path: &str| {
            let (c, url) = (c.clone(), srv.url(path));
            squall::ioloop::spawn(async move { c.fetch(url).await })
        };
        // connect_timeout 0 is ignored: request_timeout (150 ms) bounds the queue wait.
        let first = hold(&c, "/a");
        squall::ioloop::sleep(Duration::from_millis(50)).await;
        let t0 = Instant::now();
        let e = c
            .fetch(
                HttpRequest::new(&srv.url("/b"))
                    .connect_timeout(Duration::ZERO)
                    .request_timeout(Duration::from_millis(150)),
            )
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), "Timeout in request queue");
        assert!(
            t0.elapsed() < Duration::from_millis(550),
            "{:?}",
            t0.elapsed()
        );
        first.await.unwrap().unwrap();
        // Both 0: the wait has no bound; the fetch runs once the slot is free.
        let first = hold(&c, "/c");
        squall::ioloop::sleep(Duration::from_millis(50)).await;
        let r = c
            .fetch(
                HttpRequest::new(&srv.url("/d"))
                    .connect_timeout(Duration::ZERO)
                    .request_timeout(Duration::ZERO),
            )
            .await
            .unwrap();
        assert_eq!(r.body, b"done");
        first.await.unwrap().unwrap();
    });
    let targets: Vec<String> = srv.reqs().iter().map(|r| r.target.clone()).collect();
    assert_eq!(targets, vec!["/a", "/c", "/d"], "Q-04: /b never started");
}

#[test]
fn s30_only_crlf_or_lf_ends_a_line_and_only_sp_htab_are_trimmed() {
    // 0x85 is U+0085 (NEL) in latin-1; E2 80 A8 is U+2028 in UTF-8. Neither ends a line,
    // and NBSP (0xA0) is not trimmed.
    let srv = Server::start(|_| {
        vec![write(
            b"HTTP/1.1 200 OK\r\nX-Nel: a\x85b\r\nX-Ls: c\xe2\x80\xa8d\r\nX-Nbsp:\t\xa0e\xa0 \r\nContent-Length: 0\r\n\r\n"
                .to_vec(),
        )]
    });
    run(async {
        let r = client().fetch(srv.url("/")).await.unwrap();
        assert_eq!(r.headers.get("X-Nel"), Some("a\u{85}b"));
        assert_eq!(r.headers.get("X-Ls"), Some("c\u{e2}\u{80}\u{a8}d"));
        assert_eq!(r.headers.get("X-Nbsp"), Some("\u{a0}e\u{a0}"));
        assert_eq!(r.headers.len(), 4);
    });
}

#[test]
fn r22_r24_values_beyond_latin1_are_refused_before_io() {
    // Values go out as latin-1; a character that has no latin-1 byte cannot be sent, so the
    // request is refused when built (port 9: nothing listens, the error must come first).
    run(async {
        let e = client()
            .fetch(HttpRequest::new("http://127.0.0.1:9/").header("X-Euro", "5 \u{20ac}"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidRequest, "{e:?}");
        assert_eq!(e.code(), 599);
    });
}

#[test]
fn e07_reset_is_surfaced_as_a_reset_not_a_close() {
    let srv = Server::start(|r| match r.path() {
        "/reset" => vec![
            write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial".to_vec()),
            Step::Sleep(Duration::from_millis(50)),
            Step::Reset,
        ],
        _ => ok(b"fine"),
    });
    run(async {
        let c = client();
        let e = c.fetch(srv.url("/reset")).await.unwrap_err();
        assert_eq!(e.code(), 599);
        assert_eq!(e.kind(), &ErrorKind::Reset, "{e:?}");
        assert_eq!(c.fetch(srv.url("/ok")).await.unwrap().body, b"fine");
    });
}

#[test]
fn e11_raise_error_false_still_fails_transport_and_validation_errors() {
    let refused = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // A server that accepts and never answers.
    let (silent, _) = raw_server(|s, _| {
        std::thread::sleep(Duration::from_secs(3));
        drop(s);
    });
    run(async {
        let c = client();
        let e = c
            .fetch(HttpRequest::new(&format!("http://127.0.0.1:{refused}/")).raise_error(false))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Connect, "{e:?}");
        let e = c
            .fetch(
                HttpRequest::new(&format!("http://{silent}/"))
                    .request_timeout(Duration::from_millis(200))
                    .raise_error(false),
            )
            .await
            .unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Timeout(_)), "{e:?}");
        assert_eq!(e.to_string(), "Timeout during request");
        let e = c
            .fetch(
                HttpRequest::new(&format!("http://{silent}/"))
                    .method("FOO")
                    .raise_error(false),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidRequest, "{e:?}");
    });
}

#[test]
fn e08_s04_s09_s10_s16_s17_s21_malformed_replies_name_their_reason() {
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "/v2",
            b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec(),
            "HTTP version",
        ),
        (
            "/te",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n".to_vec(),
            "Unsupported Transfer-Encoding",
        ),
        (
            "/both",
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(),
            "Message with both Transfer-Encoding and Content-Length",
        ),
        (
            "/unequal",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok".to_vec(),
            "Multiple unequal Content-Lengths",
        ),
        (
            "/plus",
            b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok".to_vec(),
            "Only integer Content-Length is allowed",
        ),
        (
            "/interim",
            b"HTTP/1.1 100 Continue\r\n\r\n".repeat(11),
            "Too many 1xx responses",
        ),
        (
            "/interimbody",
            b"HTTP/1.1 100 Continue\r\nContent-Length: 1\r\n\r\nx".to_vec(),
            "Response code 100 cannot have body",
        ),
        (
            "/badchunk",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec(),
            "invalid chunk size",
        ),
    ];
    let table: Vec<(String, Vec<u8>)> = cases
        .iter()
        .map(|(p, b, _)| (p.to_string(), b.clone()))
        .collect();
    let srv = Server::start(move |r| {
        let (_, bytes) = table.iter().find(|(p, _)| p == r.path()).unwrap();
        vec![write(bytes.clone()), Step::Close]
    });
    run(async {
        let c = client();
        for (path, _, want) in &cases {
            let e = c.fetch(srv.url(path)).await.unwrap_err();
            assert!(matches!(e.kind(), ErrorKind::Protocol(_)), "{path}: {e:?}");
            assert_eq!(e.code(), 599, "{path}");
            assert!(e.to_string().contains(want), "{path}: {e} (wanted {want})");
        }
    });
}

#[test]
fn s43_s44_request_time_includes_the_queue_wait_and_time_info_splits_it() {
    let srv = Server::start(|r| match r.path() {
        "/slow" => late(Duration::from_millis(300), resp(200, &[], b"slow")),
        _ => ok(b"fast"),
    });
    run(async {
        let c = AsyncHttpClient::builder().max_clients(1).build();
        let first = squall::ioloop::spawn({
            let (c, url) = (c.clone(), srv.url("/slow"));
            async move { c.fetch(url).await }
        });
        squall::ioloop::sleep(Duration::from_millis(50)).await;
        let r = c.fetch(srv.url("/fast")).await.unwrap();
        assert_eq!(r.body, b"fast");
        // Queued for ~250 ms behind /slow: counted in request_time and in time_info.queue.
        assert!(r.request_time >= Duration::from_millis(200), "{r:?}");
        assert!(
            r.time_info.queue >= Duration::from_millis(200),
            "{:?}",
            r.time_info
        );
        assert!(r.time_info.queue <= r.request_time);
        assert!(r.time_info.total <= r.request_time + Duration::from_millis(1));
        first.await.unwrap().unwrap();
    });
}
