//! Responses as the caller sees them (S-*): status errors, the effective URL and times,
//! streaming and header callbacks, heads without bodies, limits on heads and reads, text and
//! JSON bodies. Behaviour IDs are described in docs/behaviours.md.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::server::*;
use squall::{AsyncHttpClient, ErrorKind, HttpRequest};

#[test]
fn s40_s41_status_errors_and_rethrow() {
    let srv = Server::start(|r| match r.path() {
        "/404" => vec![write(resp(404, &[], b"nope"))],
        "/own" => vec![write(
            b"HTTP/1.1 404 Nope Nope\r\nContent-Length: 0\r\n\r\n".to_vec(),
        )],
        _ => ok(b""),
    });
    run(async {
        let c = AsyncHttpClient::new();
        let e = c.fetch(srv.url("/404")).await.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Http);
        assert_eq!(e.to_string(), "HTTP 404: Not Found");
        assert_eq!(e.code(), 404);
        let r = e.response().expect("response on the error");
        assert_eq!(r.body, b"nope");
        assert!(r.rethrow().is_err());
        let e = c.fetch(srv.url("/own")).await.unwrap_err();
        assert_eq!(e.to_string(), "HTTP 404: Nope Nope");
        let r = c
            .fetch(HttpRequest::new(&srv.url("/404")).raise_error(false))
            .await
            .unwrap();
        assert_eq!(r.code, 404);
        let err = r.rethrow().unwrap_err();
        assert_eq!(err.to_string(), "HTTP 404: Not Found");
        assert_eq!(r.error.as_ref().unwrap().code(), 404);
        let r = c.fetch(srv.url("/ok")).await.unwrap();
        assert!(r.rethrow().is_ok());
        assert!(r.error.is_none());
        // S-39: the body is empty, not absent.
        assert!(r.body.is_empty());
    });
    // the connection survived the 404s
    assert_eq!(srv.conns(), 1);
}

#[test]
fn s42_s43_s44_effective_url_and_times() {
    let srv = Server::start(|_| late(Duration::from_millis(30), resp(200, &[], b"x")));
    run(async {
        let c = AsyncHttpClient::new();
        let before = std::time::SystemTime::now();
        let r = c.fetch(srv.url("/t")).await.unwrap();
        assert_eq!(r.effective_url, srv.url("/t"));
        assert!(
            r.request_time >= Duration::from_millis(25),
            "{:?}",
            r.request_time
        );
        assert!(r.start_time >= before - Duration::from_secs(1));
        let t = r.time_info;
        for d in [t.queue, t.dns, t.connect, t.tls, t.first_byte, t.total] {
            assert!(d <= r.request_time, "{t:?} vs {:?}", r.request_time);
        }
        assert!(t.first_byte >= Duration::from_millis(25));
        assert_eq!(r.num_redirects(), 0);
    });
}

#[test]
fn s32_s35_streaming_and_header_callbacks() {
    let srv = Server::start(|_| {
        vec![
            write(
                b"HTTP/1.1 200 OK\r\nX-One: 1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nasdf\r\n"
                    .to_vec(),
            ),
            Step::Sleep(Duration::from_millis(50)),
            write(b"4\r\nqwer\r\n0\r\n\r\n".to_vec()),
        ]
    });
    run(async {
        let c = AsyncHttpClient::new();
        let pieces = Arc::new(Mutex::new(Vec::<Vec<u8>>::new()));
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let (p2, l2) = (pieces.clone(), lines.clone());
        let r = c
            .fetch(
                HttpRequest::new(&srv.url("/"))
                    .streaming_callback(move |d| p2.lock().unwrap().push(d.to_vec()))
                    .header_callback(move |l| l2.lock().unwrap().push(l.to_string())),
            )
            .await
            .unwrap();
        assert!(r.body.is_empty());
        assert_eq!(
            *pieces.lock().unwrap(),
            vec![b"asdf".to_vec(), b"qwer".to_vec()]
        );
        let lines = lines.lock().unwrap();
        assert_eq!(lines[0], "HTTP/1.1 200 OK\r\n");
        assert!(lines.contains(&"X-One: 1\r\n".to_string()), "{lines:?}");
        assert_eq!(lines.last().unwrap(), "\r\n");
        // S-37: headers filled anyway.
        assert_eq!(r.headers.get("X-One"), Some("1"));
    });
}

#[test]
fn s34_s36_failing_callbacks_fail_the_fetch() {
    let srv = Server::start(|_| ok(b"data"));
    run(async {
        let c = AsyncHttpClient::new();
        let e = c
            .fetch(HttpRequest::new(&srv.url("/")).streaming_callback(|_| panic!("boom")))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Callback);
        assert_eq!(e.code(), 599);
        assert!(e.message().contains("boom"), "{e}");
        let e = c
            .fetch(HttpRequest::new(&srv.url("/")).header_callback(|_| panic!("hdr")))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Callback);
        // E-13 style: the client still works.
        assert_eq!(c.fetch(srv.url("/")).await.unwrap().body, b"data");
    });
}

#[test]
fn fetch_streaming_pulls_pieces() {
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let body = big.clone();
    let srv = Server::start(move |_| ok(&body));
    run(async {
        let c = AsyncHttpClient::new();
        let mut s = c.fetch_streaming(srv.url("/big")).await.unwrap();
        assert_eq!(s.code, 200);
        assert_eq!(s.headers.get("Content-Length"), Some("300000"));
        let mut got = Vec::new();
        let mut n = 0;
        while let Some(piece) = s.chunk().await.unwrap() {
            assert!(!piece.is_empty());
            got.extend_from_slice(&piece);
            n += 1;
        }
        assert!(n > 1);
        assert_eq!(got, big);
        assert!(s.chunk().await.unwrap().is_none());
        // The connection went back to the pool and is reused.
        c.fetch(srv.url("/big")).await.unwrap();
    });
    assert_eq!(srv.conns(), 1);
}

#[test]
fn s18_e13_body_too_large_then_reuse() {
    let srv = Server::start(|r| match r.path() {
        "/big" => ok(&[b'x'; 2000]),
        _ => ok(&[b'y'; 1000]),
    });
    run(async {
        let c = AsyncHttpClient::builder().max_body_size(1000).build();
        let e = c.fetch(srv.url("/big")).await.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::BodyTooLarge, "{e}");
        assert_eq!(e.code(), 599);
        // Exactly the limit is fine, and the client goes on.
        assert_eq!(c.fetch(srv.url("/ok")).await.unwrap().body.len(), 1000);
        let e = c
            .fetch(HttpRequest::new(&srv.url("/ok")).max_body_size(999))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::BodyTooLarge);
    });
}

#[test]
fn s25_head_and_s23_204() {
    let srv = Server::start(|r| match r.path() {
        "/204" => vec![write(b"HTTP/1.1 204 No Content\r\n\r\n".to_vec())],
        _ => vec![write(
            b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n".to_vec(),
        )],
    });
    run(async {
        let c = AsyncHttpClient::new();
        let r = c
            .fetch(HttpRequest::new(&srv.url("/")).method("HEAD"))
            .await
            .unwrap();
        assert!(r.body.is_empty());
        assert_eq!(r.headers.get("Content-Length"), Some("1234"));
        let r = c.fetch(srv.url("/204")).await.unwrap();
        assert_eq!(r.code, 204);
        let r = c
            .fetch(HttpRequest::new(&srv.url("/")).method("HEAD"))
            .await
            .unwrap();
        assert_eq!(r.code, 200);
    });
    assert_eq!(srv.conns(), 1);
}

#[test]
#[cfg(feature = "json")]
fn json_and_text_charsets() {
    let srv = Server::start(|r| match r.path() {
        "/json" => vec![write(resp(
            200,
            &[("Content-Type", "application/json")],
            br#"{"a": [1, 2]}"#,
        ))],
        "/latin" => vec![write(resp(
            200,
            &[("Content-Type", "text/plain; charset=ISO-8859-1")],
            b"caf\xe9",
        ))],
        _ => vec![write(resp(
            200,
            &[("Content-Type", "text/plain")],
            b"caf\xe9",
        ))],
    });
    run(async {
        let c = AsyncHttpClient::new();
        let v: serde_json::Value = c.fetch(srv.url("/json")).await.unwrap().json().unwrap();
        assert_eq!(v["a"][1], 2);
        assert_eq!(
            c.fetch(srv.url("/latin")).await.unwrap().text().unwrap(),
            "café"
        );
        let e = c.fetch(srv.url("/bad")).await.unwrap().text().unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Decode);
    });
}

#[test]
fn s20_max_buffer_size_caps_a_read_not_the_body() {
    let body = vec![b'b'; 100 * 1024];
    let b2 = body.clone();
    let srv = Server::start(move |_| ok(&b2));
    run(async {
        let c = AsyncHttpClient::builder()
            .max_buffer_size(64 * 1024)
            .max_body_size(1 << 20)
            .build();
        assert_eq!(c.fetch(srv.url("/")).await.unwrap().body, body);
    });
}

#[test]
fn s22_s05_header_callback_sees_1xx_and_the_version() {
    let srv = Server::start(|_| {
        vec![write(
            b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
        )]
    });
    run(async {
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let l2 = lines.clone();
        let r = AsyncHttpClient::new()
            .fetch(
                HttpRequest::new(&srv.url("/"))
                    .header_callback(move |l| l2.lock().unwrap().push(l.to_string())),
            )
            .await
            .unwrap();
        assert_eq!(r.body, b"ok");
        assert_eq!(r.version, squall::http::response::Version::Http10);
        let lines = lines.lock().unwrap();
        assert_eq!(
            *lines,
            vec![
                "HTTP/1.1 103 Early Hints\r\n",
                "Link: </a>\r\n",
                "\r\n",
                "HTTP/1.0 200 OK\r\n",
                "Content-Length: 2\r\n",
                "\r\n"
            ]
        );
    });
}

#[test]
fn s24_304_reports_its_content_length_without_a_body() {
    let srv = Server::start(|r| match r.path() {
        "/304" => vec![write(
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 42\r\n\r\n".to_vec(),
        )],
        _ => ok(b"after"),
    });
    run(async {
        let c = AsyncHttpClient::new();
        let r = c
            .fetch(HttpRequest::new(&srv.url("/304")).raise_error(false))
            .await
            .unwrap();
        assert_eq!(r.code, 304);
        assert_eq!(r.headers.get("Content-Length"), Some("42"));
        assert!(r.body.is_empty());
        // Nothing was left unread: the connection is reused cleanly.
        assert_eq!(c.fetch(srv.url("/")).await.unwrap().body, b"after");
    });
    assert_eq!(srv.conns(), 1);
}

#[test]
fn s31_head_over_max_header_size() {
    let big = "x".repeat(2000);
    let srv = Server::start(move |_| vec![write(resp(200, &[("X-Big", &big)], b""))]);
    run(async {
        let c = AsyncHttpClient::builder().max_header_size(1024).build();
        let e = c.fetch(srv.url("/")).await.unwrap_err();
        assert_eq!(e.code(), 599);
        assert!(
            matches!(
                e.kind(),
                ErrorKind::Protocol(squall::http::response::ProtoErrorKind::HeadTooLarge)
            ),
            "{e:?}"
        );
        // The default (64 KiB) takes it.
        assert_eq!(
            AsyncHttpClient::new()
                .fetch(srv.url("/"))
                .await
                .unwrap()
                .code,
            200
        );
    });
}

#[test]
fn s45_server_sent_599_is_a_status_not_a_transport_error() {
    let srv = Server::start(|_| {
        vec![write(
            b"HTTP/1.1 599 \r\nContent-Length: 0\r\n\r\n".to_vec(),
        )]
    });
    run(async {
        let e = AsyncHttpClient::new()
            .fetch(srv.url("/"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Http);
        assert_eq!(e.code(), 599);
        assert!(e.response().is_some());
        assert_eq!(e.to_string(), "HTTP 599: Unknown");
    });
}

// header_callback's status line has a 3-digit code (RFC 9112 §4: status-code = 3DIGIT), as
// received, even when it is below 100.
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
