//! Requests as a server sees them (R-*): the request line and Host, body and method rules,
//! framing, User-Agent, credentials, header rules and order, IPv6 literals and source
//! addresses, keep-alive between requests, and the client's defaults (Q-01). Behaviour IDs are
//! described in docs/behaviours.md.

use std::sync::{Arc, Mutex};

use crate::support::server::*;
use squall::{AsyncHttpClient, ErrorKind, HttpRequest};

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
        let c = AsyncHttpClient::new();
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
        let c = AsyncHttpClient::new();
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
        let c = AsyncHttpClient::new();
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
        let c = AsyncHttpClient::new();
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
        let c = AsyncHttpClient::new();
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
        let c = AsyncHttpClient::new();
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
        let c = AsyncHttpClient::new();
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
        let c = AsyncHttpClient::new();
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
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_359_312_200);
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
        let c = AsyncHttpClient::new();
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
        let c = AsyncHttpClient::new();
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
        AsyncHttpClient::new()
            .fetch(HttpRequest::new(&srv.url("/")).header("X-Tab", "a\tb"))
            .await
            .unwrap();
        assert_eq!(srv.last().header("X-Tab"), Some("a\tb"));
    });
}

#[test]
fn r01_unsupported_scheme_and_malformed_url() {
    run(async {
        let c = AsyncHttpClient::new();
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
        let c = AsyncHttpClient::new();
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
        let e = AsyncHttpClient::new()
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
        let c = AsyncHttpClient::new();
        c.close();
        c.close(); // idempotent
        let e = c.fetch("http://127.0.0.1:9/").await.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::ClientClosed);
        assert_eq!(e.to_string(), "fetch() called on closed AsyncHttpClient");
    });
}

#[test]
fn request_head_callback_sees_each_head() {
    let srv = Server::start(|_| ok(b""));
    run(async {
        let heads = Arc::new(Mutex::new(Vec::<Vec<u8>>::new()));
        let h2 = heads.clone();
        AsyncHttpClient::new()
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
fn r22_header_values_go_out_as_latin1() {
    let srv = Server::start(|_| ok(b""));
    run(async {
        AsyncHttpClient::new()
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
        let r = AsyncHttpClient::new()
            .fetch(format!("http://[::1]:{port}/"))
            .await
            .unwrap();
        assert_eq!(r.text().unwrap(), format!("Host: [::1]:{port}"));
    });
}

#[test]
fn q01_client_defaults() {
    assert_eq!(squall::client::DEFAULT_MAX_CLIENTS, 10);
    assert_eq!(squall::client::DEFAULT_MAX_BUFFER_SIZE, 104_857_600);
    assert_eq!(squall::client::DEFAULT_MAX_HEADER_SIZE, 65_536);
    assert_eq!(squall::client::DEFAULT_MAX_PER_HOST, 6);
}
