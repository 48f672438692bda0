//! Redirects end to end (D-01..D-20, S-38), against loopback servers started here.

use crate::support::server::*;
use squall::{AsyncHttpClient, ErrorKind, HttpRequest};
use std::sync::{Arc, Mutex};

fn redirect(code: u16, location: &str) -> Vec<Step> {
    vec![write(resp(
        code,
        &[("Location", location)],
        b"redirect body",
    ))]
}

/// A server where `/r/<code>/<rest>` redirects with <code> to `/<rest>`, `/countdown/<n>`
/// counts down to `/countdown/0`, and anything else echoes method, path and body.
fn server() -> Server {
    Server::start(|r| {
        let p = r.path().to_string();
        if let Some(rest) = p.strip_prefix("/r/") {
            let (code, to) = rest.split_once('/').unwrap();
            return redirect(code.parse().unwrap(), &format!("/{to}"));
        }
        if let Some(n) = p.strip_prefix("/countdown/") {
            let n: u32 = n.parse().unwrap();
            if n > 0 {
                return redirect(302, &format!("/countdown/{}", n - 1));
            }
        }
        let body = format!(
            "{} {} {}",
            r.method,
            r.target,
            String::from_utf8_lossy(&r.body)
        );
        ok(body.as_bytes())
    })
}

#[test]
fn d01_d06_d11_follow_relative_and_effective_url() {
    let srv = server();
    run(async {
        let c = AsyncHttpClient::new();
        for code in [301, 302, 303, 307, 308] {
            let r = c.fetch(srv.url(&format!("/r/{code}/end"))).await.unwrap();
            assert_eq!(r.code, 200, "{code}");
            assert_eq!(r.text().unwrap(), "GET /end ");
            assert_eq!(r.effective_url, srv.url("/end"));
            assert_eq!(r.num_redirects(), 1);
            assert_eq!(r.history[0].code, code);
            assert_eq!(r.request.url(), srv.url(&format!("/r/{code}/end")));
        }
    });
    // Redirect bodies were drained: everything went over one connection.
    assert_eq!(srv.conns(), 1);
}

#[test]
fn d02_d03_d04_not_followed() {
    let srv = Server::start(|r| match r.path() {
        "/noloc" => vec![write(resp(302, &[], b""))],
        "/emptyloc" => vec![write(resp(302, &[("Location", "")], b""))],
        "/300" => redirect(300, "/x"),
        "/304" => vec![write(
            b"HTTP/1.1 304 Not Modified\r\nLocation: /x\r\n\r\n".to_vec(),
        )],
        "/305" => redirect(305, "/x"),
        _ => redirect(302, "/x"),
    });
    run(async {
        let c = AsyncHttpClient::new();
        let r = c
            .fetch(
                HttpRequest::new(&srv.url("/302"))
                    .follow_redirects(false)
                    .raise_error(false),
            )
            .await
            .unwrap();
        assert_eq!(r.code, 302);
        assert_eq!(r.headers.get("Location"), Some("/x"));
        let e = c
            .fetch(HttpRequest::new(&srv.url("/302")).follow_redirects(false))
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), "HTTP 302: Found");
        for p in ["/noloc", "/emptyloc", "/300", "/304", "/305"] {
            let r = c
                .fetch(HttpRequest::new(&srv.url(p)).raise_error(false))
                .await
                .unwrap();
            assert_ne!(r.code, 200, "{p}");
            assert_eq!(r.num_redirects(), 0, "{p}");
        }
    });
}

#[test]
fn d05_too_many_redirects_carries_the_last_3xx() {
    let srv = server();
    run(async {
        let c = AsyncHttpClient::new();
        let r = c
            .fetch(HttpRequest::new(&srv.url("/countdown/3")).max_redirects(3))
            .await
            .unwrap();
        assert_eq!(r.code, 200);
        assert_eq!(r.num_redirects(), 3);
        let e = c
            .fetch(HttpRequest::new(&srv.url("/countdown/5")).max_redirects(3))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::TooManyRedirects);
        let last = e.response().expect("the last 3xx");
        assert_eq!(last.code, 302);
        assert_eq!(last.effective_url, srv.url("/countdown/2"));
        assert_eq!(last.headers.get("Location"), Some("/countdown/1"));
        // max_redirects(0): the first 3xx is that error.
        let e = c
            .fetch(HttpRequest::new(&srv.url("/countdown/1")).max_redirects(0))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::TooManyRedirects);
        // Default limit: 5.
        assert!(c.fetch(srv.url("/countdown/5")).await.is_ok());
        assert!(c.fetch(srv.url("/countdown/6")).await.is_err());
    });
}

#[test]
fn d07_d08_d09_d10_method_and_body_rules() {
    let srv = server();
    run(async {
        let c = AsyncHttpClient::new();
        let post = |code: u16| {
            HttpRequest::new(&srv.url(&format!("/r/{code}/end")))
                .method("POST")
                .header("Content-Type", "text/plain")
                .header("Content-Encoding", "identity")
                .body("payload")
        };
        for code in [301, 302, 303] {
            let r = c.fetch(post(code)).await.unwrap();
            assert_eq!(r.text().unwrap(), "GET /end ", "{code}");
            let last = srv.last();
            for h in [
                "Content-Length",
                "Content-Type",
                "Content-Encoding",
                "Transfer-Encoding",
            ] {
                assert_eq!(last.header(h), None, "{code} kept {h}");
            }
            // D-11: the response's request is still the POST.
            assert_eq!(r.request.get_method(), "POST");
        }
        for code in [307, 308] {
            let r = c.fetch(post(code)).await.unwrap();
            assert_eq!(r.text().unwrap(), "POST /end payload", "{code}");
            assert_eq!(srv.last().header("Content-Type"), Some("text/plain"));
        }
        // 301/302 keep other methods and bodies.
        let r = c
            .fetch(
                HttpRequest::new(&srv.url("/r/302/end"))
                    .method("PUT")
                    .body("p"),
            )
            .await
            .unwrap();
        assert_eq!(r.text().unwrap(), "PUT /end p");
        // 303 turns PUT and DELETE into GET.
        let r = c
            .fetch(
                HttpRequest::new(&srv.url("/r/303/end"))
                    .method("PUT")
                    .body("p"),
            )
            .await
            .unwrap();
        assert_eq!(r.text().unwrap(), "GET /end ");
        let r = c
            .fetch(HttpRequest::new(&srv.url("/r/303/end")).method("DELETE"))
            .await
            .unwrap();
        assert_eq!(r.text().unwrap(), "GET /end ");
        // D-09: a PUT without a body stays a PUT through 307.
        let r = c
            .fetch(
                HttpRequest::new(&srv.url("/r/307/end"))
                    .method("PUT")
                    .allow_nonstandard_methods(true),
            )
            .await
            .unwrap();
        assert_eq!(r.text().unwrap(), "PUT /end ");
        // D-10: HEAD stays HEAD.
        for code in [301, 302, 303, 307, 308] {
            let r = c
                .fetch(HttpRequest::new(&srv.url(&format!("/r/{code}/end"))).method("HEAD"))
                .await
                .unwrap();
            assert_eq!(r.code, 200);
            assert!(r.body.is_empty());
            assert_eq!(srv.last().method, "HEAD");
        }
    });
}

#[test]
fn d12_d13_d14_d15_headers_across_origins() {
    let b = server();
    let b_url = b.url("/end");
    let a = Server::start(move |r| match r.path() {
        "/cross" => redirect(302, &b_url),
        "/same" => redirect(302, "/end"),
        _ => ok(b"a"),
    });
    run(async {
        let c = AsyncHttpClient::new();
        let req = |p: &str| {
            HttpRequest::new(&a.url(p))
                .header("Authorization", "Bearer secret")
                .header("Cookie", "c=1")
                .header("Proxy-Authorization", "Basic x")
                .header("X-Keep", "yes")
                .user_agent("ua/1")
        };
        c.fetch(req("/same")).await.unwrap();
        let last = a.last();
        assert_eq!(last.header("Authorization"), Some("Bearer secret"));
        assert_eq!(last.header("Cookie"), Some("c=1"));
        c.fetch(req("/cross")).await.unwrap();
        let last = b.last();
        assert_eq!(last.header("Authorization"), None);
        assert_eq!(last.header("Cookie"), None);
        assert_eq!(last.header("Proxy-Authorization"), None);
        assert_eq!(last.header("X-Keep"), Some("yes"));
        assert_eq!(last.header("User-Agent"), Some("ua/1"));
        // D-12: Host recomputed.
        assert_eq!(last.header("Host"), Some(b.addr.to_string().as_str()));
        // Auth options are gone too.
        c.fetch(HttpRequest::new(&a.url("/cross")).auth("u", "p"))
            .await
            .unwrap();
        assert_eq!(b.last().header("Authorization"), None);
        // D-14: same origin spelled differently (localhost vs 127.0.0.1 is another host,
        // but an explicit default-less port compares by value).
        let same_abs = format!("http://127.0.0.1:{}/end", a.port());
        let srv2_url = same_abs.clone();
        let _ = srv2_url;
    });
}

#[test]
fn d19_unsupported_redirect_scheme() {
    let srv = Server::start(|r| match r.path() {
        "/ftp" => redirect(302, "ftp://example.com/file"),
        _ => redirect(302, "h:5"),
    });
    run(async {
        let c = AsyncHttpClient::new();
        for p in ["/ftp", "/h"] {
            let e = c
                .fetch(HttpRequest::new(&srv.url(p)).raise_error(false))
                .await
                .unwrap_err();
            assert_eq!(e.kind(), &ErrorKind::UnsupportedScheme, "{p}: {e}");
            assert!(e.to_string().starts_with("Unsupported url scheme: "), "{e}");
        }
    });
}

#[test]
fn d17_redirect_keeps_its_slot_with_max_clients_1() {
    let srv = server();
    run(async {
        let c = AsyncHttpClient::builder().max_clients(1).build();
        let r = c.fetch(srv.url("/countdown/3")).await.unwrap();
        assert_eq!(r.num_redirects(), 3);
    });
}

#[test]
fn d20_streamed_body_307_is_the_answer_and_303_drops_it() {
    let srv = server();
    run(async {
        let c = AsyncHttpClient::new();
        let producer = |url: String| {
            HttpRequest::new(&url)
                .method("POST")
                .body_producer(|mut w| async move {
                    w.write(b"streamed").await?;
                    Ok(())
                })
        };
        let e = c.fetch(producer(srv.url("/r/307/end"))).await.unwrap_err();
        assert_eq!(e.code(), 307);
        assert_eq!(e.response().unwrap().headers.get("Location"), Some("/end"));
        assert_eq!(srv.last().body, b"streamed");
        let r = c.fetch(producer(srv.url("/r/303/end"))).await.unwrap();
        assert_eq!(r.text().unwrap(), "GET /end ");
    });
}

#[test]
fn s38_callbacks_only_for_the_final_response() {
    let srv = server();
    run(async {
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let data = Arc::new(Mutex::new(Vec::<u8>::new()));
        let (l2, d2) = (lines.clone(), data.clone());
        AsyncHttpClient::new()
            .fetch(
                HttpRequest::new(&srv.url("/r/302/end"))
                    .header_callback(move |l| l2.lock().unwrap().push(l.to_string()))
                    .streaming_callback(move |d| d2.lock().unwrap().extend_from_slice(d)),
            )
            .await
            .unwrap();
        assert_eq!(lines.lock().unwrap()[0], "HTTP/1.1 200 OK\r\n");
        assert!(!lines.lock().unwrap().iter().any(|l| l.contains("302")));
        assert_eq!(*data.lock().unwrap(), b"GET /end ");
    });
}

#[test]
fn d16_redirect_body_over_max_body_size_is_not_read_but_followed() {
    let srv = Server::start(|r| match r.path() {
        "/big" => vec![write(resp(302, &[("Location", "/end")], &vec![b'x'; 5000]))],
        "/chunked" => vec![write(
            b"HTTP/1.1 302 Found\r\nLocation: /end\r\nTransfer-Encoding: chunked\r\n\r\n1388\r\n"
                .iter()
                .copied()
                .chain(std::iter::repeat_n(b'y', 5000))
                .chain(b"\r\n0\r\n\r\n".iter().copied())
                .collect::<Vec<u8>>(),
        )],
        "/small" => vec![write(resp(302, &[("Location", "/end")], b"tiny"))],
        _ => ok(b"end"),
    });
    run(async {
        let c = AsyncHttpClient::builder().max_body_size(1000).build();
        // Declared too long: the connection is closed unread, the redirect followed.
        assert_eq!(c.fetch(srv.url("/big")).await.unwrap().body, b"end");
        // Counted too long (chunked): the same.
        assert_eq!(c.fetch(srv.url("/chunked")).await.unwrap().body, b"end");
        // The same with decompression off (and so in a build without `gzip`).
        for path in ["/big", "/chunked"] {
            let req = HttpRequest::new(&srv.url(path)).decompress_response(false);
            assert_eq!(c.fetch(req).await.unwrap().body, b"end", "{path}");
        }
        // Within the limit: drained, and the connection reused.
        let before = srv.conns();
        assert_eq!(c.fetch(srv.url("/small")).await.unwrap().body, b"end");
        assert_eq!(srv.conns(), before);
    });
}

#[test]
fn location_with_raw_utf8_bytes_is_requested_percent_encoded_once() {
    let srv = Server::start(|r| match r.path() {
        "/" => vec![write(
            b"HTTP/1.1 302 Found\r\nLocation: /\xc3\xa9\r\nContent-Length: 0\r\n\r\n".to_vec(),
        )],
        _ => ok(b"e"),
    });
    run(async {
        let r = AsyncHttpClient::new().fetch(srv.url("/")).await.unwrap();
        assert_eq!(r.body, b"e");
        assert_eq!(srv.last().target, "/%C3%A9");
    });
}

#[test]
fn redirect_inherits_the_fragment_in_effective_url() {
    let srv = server();
    run(async {
        let c = AsyncHttpClient::new();
        let r = c.fetch(srv.url("/r/302/end#frag")).await.unwrap();
        assert_eq!(r.effective_url, srv.url("/end#frag"));
        // The fragment is never sent.
        assert_eq!(srv.last().target, "/end");
    });
}

/// RFC 9110 §10.2.2: a redirect with two different Location values is ambiguous: a malformed
/// reply naming both, not followed; identical repeats are followed.
#[test]
fn two_different_locations_are_a_malformed_reply_naming_both() {
    let srv = Server::start(|r| match r.path() {
        "/two" => vec![write(resp(
            301,
            &[("Location", "/a"), ("Location", "http://elsewhere.test/b")],
            b"",
        ))],
        "/same" => vec![write(resp(
            302,
            &[("Location", "/a"), ("Location", "/a")],
            b"",
        ))],
        _ => ok(b"at a"),
    });
    run(async {
        let c = AsyncHttpClient::new();
        let e = c.fetch(srv.url("/two")).await.unwrap_err();
        assert_eq!(
            e.kind(),
            &ErrorKind::Protocol(squall::http::ProtoErrorKind::Malformed),
            "{e}"
        );
        let msg = e.to_string();
        assert!(
            msg.contains("\"/a\"") && msg.contains("\"http://elsewhere.test/b\""),
            "{msg}"
        );
        assert_eq!(srv.reqs().len(), 1, "not followed");
        assert_eq!(c.fetch(srv.url("/same")).await.unwrap().body, b"at a");
        // Not followed anyway: the 3xx is the answer, whatever its Location fields.
        let r = c
            .fetch(
                HttpRequest::new(&srv.url("/two"))
                    .follow_redirects(false)
                    .raise_error(false),
            )
            .await
            .unwrap();
        assert_eq!(r.code, 301);
    });
}
