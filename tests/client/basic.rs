//! End-to-end tests of `AsyncHttpClient` against loopback servers started here: requests as
//! sent (R-*), responses as seen (S-*), errors (E-*), content encoding (C-*), the blocking
//! client (Q-16). Behaviour IDs are described in docs/behaviours.md.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::server::*;
use squall::{AsyncHttpClient, ErrorKind, HttpClient, HttpRequest};

fn client() -> AsyncHttpClient {
    AsyncHttpClient::new()
}

#[test]
fn get_and_post_over_one_keep_alive_connection() {
    let srv = Server::start(|r| {
        let body = format!(
            "{} {} {}",
            r.method,
            r.target,
            String::from_utf8_lossy(&r.body)
        );
        ok(body.as_bytes())
    });
    run(async {
        let c = client();
        for i in 0..5 {
            let r = c.fetch(srv.url(&format!("/get/{i}"))).await.unwrap();
            assert_eq!(r.code, 200);
            assert_eq!(r.text().unwrap(), format!("GET /get/{i} "));
        }
        // A POST is never replayed, so it takes a pooled connection only once a close that
        // followed the last response would have arrived (see the pool): give it a moment.
        squall::ioloop::sleep(std::time::Duration::from_millis(50)).await;
        let r = c
            .fetch(
                HttpRequest::new(&srv.url("/post"))
                    .method("POST")
                    .body("hello"),
            )
            .await
            .unwrap();
        assert_eq!(r.body, b"POST /post hello");
    });
    // Q-13: six requests, one connection.
    assert_eq!(srv.conns(), 1);
    let reqs = srv.reqs();
    assert_eq!(reqs.len(), 6);
    assert!(reqs.iter().all(|r| r.conn == 0));
}

#[test]
fn r02_r08_request_line_and_host() {
    let srv = Server::start(|_| ok(b""));
    run(async {
        let c = client();
        c.fetch(format!("http://{}?a=1#frag", srv.addr))
            .await
            .unwrap();
        let r = srv.last();
        assert_eq!(r.target, "/?a=1");
        assert_eq!(
            r.header("Host").unwrap(),
            format!("127.0.0.1:{}", srv.port())
        );
        // A caller's Host wins.
        c.fetch(HttpRequest::new(&srv.url("/x")).header("Host", "example.com"))
            .await
            .unwrap();
        assert_eq!(srv.last().header_all("Host"), vec!["example.com"]);
    });
}

#[test]
fn r03_r04_r05_body_and_method_rules_before_io() {
    // A port nobody listens on: validation must fail first (R-25).
    let dead = "http://127.0.0.1:9/";
    run(async {
        let c = client();
        let e = c
            .fetch(HttpRequest::new(dead).method("POST"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidRequest);
        assert_eq!(
            e.message(),
            "Body must not be None for method POST (unless allow_nonstandard_methods is true)"
        );
        assert_eq!(e.code(), 599);
        let e = c.fetch(HttpRequest::new(dead).body("x")).await.unwrap_err();
        assert_eq!(
            e.message(),
            "Body must be None for method GET (unless allow_nonstandard_methods is true)"
        );
        let e = c
            .fetch(HttpRequest::new(dead).method("FOO"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidRequest);
        assert_eq!(e.message(), "unknown method FOO");
        let e = c
            .fetch(
                HttpRequest::new(dead)
                    .method("GE T")
                    .allow_nonstandard_methods(true),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidRequest);
    });
    let srv = Server::start(|r| ok(format!("{}:{}", r.method, r.body.len()).as_bytes()));
    run(async {
        let c = client();
        // R-05: an empty body is a body.
        let r = c
            .fetch(HttpRequest::new(&srv.url("/")).method("POST").body(""))
            .await
            .unwrap();
        assert_eq!(r.body, b"POST:0");
        assert_eq!(srv.last().header("Content-Length"), Some("0"));
        // allow_nonstandard_methods turns the checks off.
        let r = c
            .fetch(
                HttpRequest::new(&srv.url("/"))
                    .method("PROPFIND")
                    .allow_nonstandard_methods(true),
            )
            .await
            .unwrap();
        assert_eq!(r.body, b"PROPFIND:0");
        let r = c
            .fetch(
                HttpRequest::new(&srv.url("/"))
                    .body("abc")
                    .allow_nonstandard_methods(true),
            )
            .await
            .unwrap();
        assert_eq!(r.body, b"GET:3");
    });
}

#[test]
fn r06_r07_content_length_and_type() {
    let srv = Server::start(|_| ok(b""));
    run(async {
        let c = client();
        c.fetch(
            HttpRequest::new(&srv.url("/"))
                .method("POST")
                .header("Content-Length", "99")
                .body("é"),
        )
        .await
        .unwrap();
        let r = srv.last();
        assert_eq!(r.header_all("Content-Length"), vec!["2"]);
        assert_eq!(r.body, "é".as_bytes());
        assert_eq!(
            r.header("Content-Type"),
            Some("application/x-www-form-urlencoded")
        );
        c.fetch(HttpRequest::new(&srv.url("/")).method("PUT").body("x"))
            .await
            .unwrap();
        assert_eq!(srv.last().header("Content-Type"), None);
        c.fetch(
            HttpRequest::new(&srv.url("/"))
                .method("POST")
                .header("Content-Type", "text/plain")
                .body("x"),
        )
        .await
        .unwrap();
        assert_eq!(srv.last().header_all("Content-Type"), vec!["text/plain"]);
    });
}

#[test]
fn r11_user_agent_precedence() {
    let srv = Server::start(|_| ok(b""));
    run(async {
        let c = client();
        c.fetch(srv.url("/")).await.unwrap();
        let ua = srv.last().header("User-Agent").unwrap().to_string();
        assert_eq!(ua, format!("squall/{}", env!("CARGO_PKG_VERSION")));
        c.fetch(HttpRequest::new(&srv.url("/")).header("User-Agent", "hdr/1"))
            .await
            .unwrap();
        assert_eq!(srv.last().header_all("User-Agent"), vec!["hdr/1"]);
        c.fetch(
            HttpRequest::new(&srv.url("/"))
                .header("User-Agent", "hdr/1")
                .user_agent("opt/2"),
        )
        .await
        .unwrap();
        assert_eq!(srv.last().header_all("User-Agent"), vec!["opt/2"]);
        // Q-10 / R-37: client defaults.
        let c = AsyncHttpClient::builder()
            .defaults(
                HttpRequest::defaults()
                    .user_agent("dflt/3")
                    .header("X-Team", "squall"),
            )
            .build();
        c.fetch(srv.url("/")).await.unwrap();
        assert_eq!(srv.last().header("User-Agent"), Some("dflt/3"));
        assert_eq!(srv.last().header("X-Team"), Some("squall"));
        c.fetch(
            HttpRequest::new(&srv.url("/"))
                .user_agent("mine")
                .header("X-Team", "other"),
        )
        .await
        .unwrap();
        assert_eq!(srv.last().header("User-Agent"), Some("mine"));
        assert_eq!(srv.last().header_all("X-Team"), vec!["other"]);
    });
}

#[test]
fn r12_r16_basic_auth() {
    let srv = Server::start(|_| ok(b""));
    run(async {
        let c = client();
        c.fetch(HttpRequest::new(&srv.url("/")).auth("Aladdin", "open sesame"))
            .await
            .unwrap();
        assert_eq!(
            srv.last().header("Authorization"),
            Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        );
        c.fetch(HttpRequest::new(&srv.url("/")).auth("test", "123£"))
            .await
            .unwrap();
        assert_eq!(
            srv.last().header("Authorization"),
            Some("Basic dGVzdDoxMjPCow==")
        );
        // R-14, R-15: userinfo wins and is percent-decoded ("u@x:p w").
        let url = format!("http://u%40x:p%20w@{}/", srv.addr);
        c.fetch(HttpRequest::new(&url).auth("other", "pw"))
            .await
            .unwrap();
        let expect = format!("Basic {}", squall::client::request::base64(b"u@x:p w"));
        assert_eq!(srv.last().header("Authorization"), Some(expect.as_str()));
        // R-16
        let e = c
            .fetch(
                HttpRequest::new(&srv.url("/"))
                    .auth("a", "b")
                    .auth_mode("digest"),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidRequest);
        assert_eq!(e.message(), "unsupported auth_mode digest");
    });
}

#[test]
#[cfg(feature = "gzip")]
fn r17_accept_encoding_and_r18_if_modified_since() {
    let srv = Server::start(|_| ok(b""));
    run(async {
        let c = client();
        c.fetch(HttpRequest::new(&srv.url("/")).header("Accept-Encoding", "br"))
            .await
            .unwrap();
        assert_eq!(srv.last().header_all("Accept-Encoding"), vec!["gzip"]);
        c.fetch(
            HttpRequest::new(&srv.url("/"))
                .header("Accept-Encoding", "br")
                .decompress_response(false),
        )
        .await
        .unwrap();
        assert_eq!(srv.last().header_all("Accept-Encoding"), vec!["br"]);
        c.fetch(HttpRequest::new(&srv.url("/")).decompress_response(false))
            .await
            .unwrap();
        assert_eq!(srv.last().header("Accept-Encoding"), None);
        let t = std::time::UNIX_EPOCH + Duration::from_secs(1_359_312_200);
        c.fetch(HttpRequest::new(&srv.url("/")).if_modified_since(t))
            .await
            .unwrap();
        assert_eq!(
            srv.last().header("If-Modified-Since"),
            Some("Sun, 27 Jan 2013 18:43:20 GMT")
        );
        // Quirk 15: the epoch itself is sent.
        c.fetch(HttpRequest::new(&srv.url("/")).if_modified_since(std::time::UNIX_EPOCH))
            .await
            .unwrap();
        assert_eq!(
            srv.last().header("If-Modified-Since"),
            Some("Thu, 01 Jan 1970 00:00:00 GMT")
        );
    });
}

#[test]
fn r19_r20_r21_header_order_and_request_reuse() {
    let srv = Server::start(|_| ok(b""));
    run(async {
        let c = client();
        let req = HttpRequest::new(&srv.url("/"))
            .header("X-B", "1")
            .header("X-A", "2")
            .header("X-B", "3");
        let before = format!("{:?}", req.get_headers());
        let r = c.fetch(req.clone()).await.unwrap();
        assert_eq!(format!("{:?}", req.get_headers()), before);
        let sent = srv.last();
        let names: Vec<&str> = sent.headers.iter().map(|(n, _)| n.as_str()).collect();
        let xb = names.iter().position(|n| *n == "X-B").unwrap();
        let xa = names.iter().position(|n| *n == "X-A").unwrap();
        let ua = names
            .iter()
            .position(|n| n.eq_ignore_ascii_case("User-Agent"))
            .unwrap();
        assert!(xb < xa && xa < ua, "{names:?}");
        assert_eq!(sent.header_all("X-B"), vec!["1", "3"]);
        // R-21: the response's request can be fetched again.
        assert_eq!(r.request.url(), srv.url("/"));
        c.fetch(r.request.clone()).await.unwrap();
        assert_eq!(srv.reqs().len(), 2);
    });
}

#[test]
fn r23_r24_bad_headers_refused_before_io() {
    run(async {
        let c = client();
        for (n, v) in [
            ("X-A", "a\r\nInjected: 1"),
            ("X-A", "a\nb"),
            ("X-A", "nul\0"),
            ("Bad Name", "v"),
            ("X:Y", "v"),
        ] {
            let e = c
                .fetch(HttpRequest::new("http://127.0.0.1:9/").header(n, v))
                .await
                .unwrap_err();
            assert_eq!(
                e.kind(),
                &ErrorKind::InvalidRequest,
                "{n:?}: {v:?} gave {e}"
            );
        }
        let e = c
            .fetch(HttpRequest::new("http://127.0.0.1:9/").header("X-A", "a\r\nb"))
            .await
            .unwrap_err();
        assert!(
            e.message().contains("CR or LF") || e.message().contains("Illegal"),
            "{e}"
        );
        // A tab is fine (checked against a live server below).
    });
    let srv = Server::start(|_| ok(b""));
    run(async {
        client()
            .fetch(HttpRequest::new(&srv.url("/")).header("X-Tab", "a\tb"))
            .await
            .unwrap();
        assert_eq!(srv.last().header("X-Tab"), Some("a\tb"));
    });
}

#[test]
fn r01_unsupported_scheme_and_malformed_url() {
    run(async {
        let c = client();
        let e = c.fetch("ftp://example.com/x").await.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::UnsupportedScheme);
        assert_eq!(e.to_string(), "Unsupported url scheme: ftp://example.com/x");
        let e = c.fetch("http://[::1").await.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::MalformedUrl);
        let e = c.fetch(HttpRequest::new("not a url")).await.unwrap_err();
        assert!(
            matches!(
                e.kind(),
                ErrorKind::MalformedUrl | ErrorKind::UnsupportedScheme
            ),
            "{e:?}"
        );
    });
}

#[test]
fn r35_network_interface() {
    let srv = Server::start(|_| ok(b"bound"));
    run(async {
        let c = client();
        let e = c
            .fetch(HttpRequest::new(&srv.url("/")).network_interface("nope"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidRequest);
        assert_eq!(
            e.message(),
            "Unrecognized IPv4 or IPv6 address for network_interface, got 'nope'"
        );
        let r = c
            .fetch(HttpRequest::new(&srv.url("/")).network_interface("127.0.0.1"))
            .await
            .unwrap();
        assert_eq!(r.body, b"bound");
    });
}

#[test]
fn r36_allow_ipv6_false_refuses_v6_literal() {
    run(async {
        let e = client()
            .fetch(HttpRequest::new("http://[::1]:9/").allow_ipv6(false))
            .await
            .unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::Connect | ErrorKind::Dns),
            "{e:?}"
        );
    });
}

#[test]
fn r38_fetch_after_close() {
    run(async {
        let c = client();
        c.close();
        c.close(); // idempotent
        let e = c.fetch("http://127.0.0.1:9/").await.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::ClientClosed);
        assert_eq!(e.to_string(), "fetch() called on closed AsyncHttpClient");
    });
}

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
        let c = client();
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
        let c = client();
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
        let c = client();
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
        let c = client();
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
        let c = client();
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
#[cfg(feature = "gzip")]
fn c01_c02_c03_gzip_decoded() {
    let z = gzip(b"asdfqwer");
    let zl = z.len().to_string();
    let srv = Server::start(move |_| vec![write(resp(200, &[("Content-Encoding", "gzip")], &z))]);
    run(async {
        let c = client();
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
        let c = client();
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
fn e07_closed_before_and_mid_response() {
    let srv = Server::start(|r| match r.path() {
        "/before" => vec![Step::Close],
        "/mid" => vec![
            write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort".to_vec()),
            Step::Close,
        ],
        "/head" => vec![
            write(b"HTTP/1.1 200 OK\r\nContent-Le".to_vec()),
            Step::Close,
        ],
        _ => ok(b""),
    });
    run(async {
        let c = client();
        let e = c.fetch(srv.url("/before")).await.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::ClosedBeforeResponse, "{e}");
        assert_eq!(e.to_string(), "Stream closed");
        assert_eq!(e.code(), 599);
        let e = c.fetch(srv.url("/mid")).await.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::ClosedMidBody, "{e}");
        assert!(e.to_string().starts_with("Connection closed"), "{e}");
        let e = c.fetch(srv.url("/head")).await.unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Protocol(_)), "{e:?}");
    });
}

#[test]
fn e08_malformed_reply_names_the_reason() {
    let srv = Server::start(|_| {
        vec![write(
            b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec(),
        )]
    });
    run(async {
        let e = client().fetch(srv.url("/")).await.unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Protocol(_)), "{e:?}");
        assert_eq!(e.code(), 599);
        assert!(!e.message().is_empty());
    });
}

#[test]
fn e09_connection_refused_names_host() {
    // Bind then drop a listener: its port is (very likely) closed now.
    let port = crate::support::server::closed_port();
    run(async {
        let e = client()
            .fetch(format!("http://127.0.0.1:{port}/"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Connect, "{e:?}");
        assert!(e.to_string().contains("refused"), "{e}");
        assert!(e.to_string().contains("127.0.0.1"), "{e}");
        assert_eq!(e.code(), 599);
    });
}

#[test]
fn e11_raise_error_false_only_hides_status_errors() {
    run(async {
        let e = client()
            .fetch(HttpRequest::new("ftp://x/").raise_error(false))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::UnsupportedScheme);
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
        let c = client();
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
fn request_head_callback_sees_each_head() {
    let srv = Server::start(|_| ok(b""));
    run(async {
        let heads = Arc::new(Mutex::new(Vec::<Vec<u8>>::new()));
        let h2 = heads.clone();
        client()
            .fetch(
                HttpRequest::new(&srv.url("/a"))
                    .request_head_callback(move |b| h2.lock().unwrap().push(b.to_vec())),
            )
            .await
            .unwrap();
        let heads = heads.lock().unwrap();
        assert_eq!(heads.len(), 1);
        assert!(heads[0].starts_with(b"GET /a HTTP/1.1\r\n"));
        assert!(heads[0].ends_with(b"\r\n\r\n"));
        assert_eq!(heads[0], srv.last().raw_head);
    });
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
        let c = client();
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
fn q16_blocking_client() {
    let srv = Server::start(|r| match r.path() {
        "/404" => vec![write(resp(404, &[], b""))],
        _ => ok(b"sync"),
    });
    let mut c = HttpClient::new();
    assert_eq!(c.fetch(srv.url("/")).unwrap().body, b"sync");
    assert_eq!(c.fetch(srv.url("/")).unwrap().body, b"sync");
    let e = c.fetch(srv.url("/404")).unwrap_err();
    assert_eq!(e.to_string(), "HTTP 404: Not Found");
    c.close();
    c.close();
    assert_eq!(srv.conns(), 1);
    // Inside a running loop it refuses clearly.
    let c = HttpClient::new();
    let e = run(async { c.fetch(srv.url("/")) }).unwrap_err();
    assert!(e.to_string().contains("running IoLoop"), "{e}");
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
fn r22_header_values_go_out_as_latin1() {
    let srv = Server::start(|_| ok(b""));
    run(async {
        client()
            .fetch(HttpRequest::new(&srv.url("/")).header("X-Bar", "b\u{e4}r"))
            .await
            .unwrap();
        let raw = srv.last().raw_head;
        let needle = b"X-Bar: b\xe4r\r\n";
        assert!(
            raw.windows(needle.len()).any(|w| w == needle),
            "{:?}",
            String::from_utf8_lossy(&raw)
        );
    });
}

#[test]
fn r09_ipv6_literal_brackets() {
    let Ok(listener) = std::net::TcpListener::bind("[::1]:0") else {
        eprintln!("skipped: ::1 cannot be bound here");
        return;
    };
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let head = read_head(&mut s).unwrap();
        let host = String::from_utf8_lossy(&head)
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("host:"))
            .unwrap()
            .to_string();
        use std::io::Write;
        s.write_all(&resp(200, &[], host.as_bytes())).unwrap();
    });
    run(async {
        let r = client()
            .fetch(format!("http://[::1]:{port}/"))
            .await
            .unwrap();
        assert_eq!(r.text().unwrap(), format!("Host: [::1]:{port}"));
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
        let r = client()
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
        let c = client();
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
        assert_eq!(client().fetch(srv.url("/")).await.unwrap().code, 200);
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
        let e = client().fetch(srv.url("/")).await.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Http);
        assert_eq!(e.code(), 599);
        assert!(e.response().is_some());
        assert_eq!(e.to_string(), "HTTP 599: Unknown");
    });
}

#[test]
fn q01_client_defaults() {
    assert_eq!(squall::client::DEFAULT_MAX_CLIENTS, 10);
    assert_eq!(squall::client::DEFAULT_MAX_BUFFER_SIZE, 104_857_600);
    assert_eq!(squall::client::DEFAULT_MAX_HEADER_SIZE, 65_536);
    assert_eq!(squall::client::DEFAULT_MAX_PER_HOST, 6);
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
        let c = client();
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

#[test]
fn e15_every_failure_has_a_request_time() {
    let port = crate::support::server::closed_port();
    run(async {
        let e = client()
            .fetch(format!("http://127.0.0.1:{port}/"))
            .await
            .unwrap_err();
        assert!(e.response().is_none());
        assert!(e.request_time().is_some(), "{e:?}");
        let e = client()
            .fetch(HttpRequest::new("http://127.0.0.1:9/").method("BAD KIND"))
            .await
            .unwrap_err();
        assert!(e.request_time().is_some());
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
