//! The library's record of each hop (`squall::client::hops`), end to end: one `Hop` per
//! request head written — the first request, each redirect followed, a retry on a pooled
//! connection found closed, a repeat after `417` — with the head bytes as the server received
//! them, the 1xx and final heads read back, and the peer address; the same record on a
//! buffered response, a streaming one and a too-many-redirects error, and live through
//! `hop_callback` in wire order (with `request_head_callback` still called for each head).
//! Also the response's shared metadata: `response.code` still reads as a field.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use crate::support::server::*;
use squall::client::{Hop, HopEvent, HopKind, ResponseMeta};
use squall::{AsyncHttpClient, ErrorKind, HttpRequest};

fn addr(srv: &Server) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], srv.port()))
}

fn codes(hop: &Hop) -> (Vec<u16>, Option<u16>) {
    (
        hop.interim.iter().map(|h| h.code).collect(),
        hop.response.as_ref().map(|h| h.code),
    )
}

#[test]
fn one_hop_holds_the_head_as_written_the_head_read_and_the_peer() {
    let srv = Server::start(|_| ok(b"hi"));
    run(async {
        let c = AsyncHttpClient::new();
        let r = c
            .fetch(HttpRequest::new(&srv.url("/a?q=1")).header("X-Probe", "yes"))
            .await
            .unwrap();
        assert_eq!(r.hops.len(), 1);
        let hop = &r.hops[0];
        assert_eq!(hop.kind, HopKind::Request);
        assert_eq!(hop.url, srv.url("/a?q=1"));
        assert_eq!(hop.method, "GET");
        assert_eq!(hop.peer, addr(&srv));
        assert!(!hop.reused);
        assert_eq!(hop.request_head, srv.last().raw_head);
        assert_eq!(codes(hop), (vec![], Some(200)));
        assert!(hop.error.is_none());
        assert_eq!(r.peer(), Some(addr(&srv)));
        // The next fetch goes out on the pooled connection, and says so.
        let r = c.fetch(srv.url("/b")).await.unwrap();
        assert!(r.hops[0].reused);
        assert_eq!(r.hops[0].request_head, srv.last().raw_head);
    });
    assert_eq!(srv.conns(), 1);
}

#[test]
fn each_redirect_followed_is_a_hop_with_its_own_heads() {
    let srv = Server::start(|r| match r.path() {
        "/start" => vec![write(
            b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n\
              HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n"
                .to_vec(),
        )],
        "/next" => vec![write(resp(301, &[("Location", "/end")], b"moved"))],
        _ => ok(b"the end"),
    });
    run(async {
        let r = AsyncHttpClient::new()
            .fetch(srv.url("/start"))
            .await
            .unwrap();
        assert_eq!(r.body, b"the end");
        let kinds: Vec<HopKind> = r.hops.iter().map(|h| h.kind).collect();
        assert_eq!(
            kinds,
            [HopKind::Request, HopKind::Redirect, HopKind::Redirect]
        );
        let urls: Vec<&str> = r.hops.iter().map(|h| h.url.as_str()).collect();
        assert_eq!(urls, [srv.url("/start"), srv.url("/next"), srv.url("/end")]);
        assert_eq!(codes(&r.hops[0]), (vec![103], Some(302)));
        assert_eq!(codes(&r.hops[1]), (vec![], Some(301)));
        assert_eq!(codes(&r.hops[2]), (vec![], Some(200)));
        let link = r.hops[0].interim[0].headers.get("Link");
        assert_eq!(link, Some("</s.css>"));
        // Every head written is the one the server read, in order.
        let sent: Vec<Vec<u8>> = srv.reqs().into_iter().map(|q| q.raw_head).collect();
        let recorded: Vec<Vec<u8>> = r.hops.iter().map(|h| h.request_head.clone()).collect();
        assert_eq!(recorded, sent);
        // The history is the followed 3xx heads, as before.
        let history: Vec<u16> = r.history.iter().map(|h| h.code).collect();
        assert_eq!(history, [302, 301]);
        assert_eq!(r.num_redirects(), 2);
    });
}

#[test]
fn hop_callback_reports_in_wire_order_and_request_head_callback_sees_every_head() {
    let srv = Server::start(|r| match r.path() {
        "/r" => vec![write(
            b"HTTP/1.1 102 Processing\r\n\r\n\
              HTTP/1.1 302 Found\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n"
                .to_vec(),
        )],
        _ => ok(b"b"),
    });
    let events = Arc::new(Mutex::new(Vec::new()));
    let heads = Arc::new(Mutex::new(Vec::new()));
    run(async {
        let (ev, hd) = (events.clone(), heads.clone());
        let req = HttpRequest::new(&srv.url("/r"))
            .hop_callback(move |event, hop| {
                let what = match event {
                    HopEvent::Sent => format!("sent {}", hop.url),
                    HopEvent::Interim => format!("interim {}", hop.interim.last().unwrap().code),
                    HopEvent::Answered => format!("answered {}", codes(hop).1.unwrap()),
                    _ => "other".to_string(),
                };
                ev.lock().unwrap().push(what);
            })
            .request_head_callback(move |head| hd.lock().unwrap().push(head.to_vec()));
        let r = AsyncHttpClient::new().fetch(req).await.unwrap();
        assert_eq!(
            *events.lock().unwrap(),
            [
                format!("sent {}", srv.url("/r")),
                "interim 102".to_string(),
                "answered 302".to_string(),
                format!("sent {}", srv.url("/b")),
                "answered 200".to_string(),
            ]
        );
        let recorded: Vec<Vec<u8>> = r.hops.iter().map(|h| h.request_head.clone()).collect();
        assert_eq!(*heads.lock().unwrap(), recorded);
    });
}

#[test]
fn a_retry_on_a_pooled_connection_found_closed_is_a_hop_of_its_own() {
    // The second request on each connection is read and the connection dropped unanswered.
    let srv = Server::start(|r| {
        if r.nth_on_conn == 1 {
            vec![Step::Close]
        } else {
            ok(format!("on {}", r.conn).as_bytes())
        }
    });
    run(async {
        let c = AsyncHttpClient::new();
        c.fetch(srv.url("/")).await.unwrap();
        let r = c.fetch(srv.url("/again")).await.unwrap();
        assert_eq!(r.body, b"on 1");
        assert_eq!(r.hops.len(), 2, "{:?}", r.hops);
        let (stale, retry) = (&r.hops[0], &r.hops[1]);
        assert_eq!(stale.kind, HopKind::Request);
        assert!(stale.reused);
        assert!(stale.response.is_none());
        let e = stale.error.as_ref().expect("why the hop was retried");
        assert_eq!(e.kind(), &ErrorKind::ClosedBeforeResponse, "{e}");
        assert_eq!(retry.kind, HopKind::Retry);
        assert!(!retry.reused);
        assert!(retry.error.is_none());
        assert_eq!(codes(retry), (vec![], Some(200)));
        assert_eq!(retry.request_head, stale.request_head);
        assert_eq!(retry.url, srv.url("/again"));
        // The retried head is the one the fresh connection's server read.
        assert_eq!(retry.request_head, srv.last().raw_head);
        assert_eq!(srv.last().conn, 1);
    });
}

#[test]
fn expect_100_continue_keeps_the_100_and_a_417_repeat_is_marked() {
    // The test server answers `Expect: 100-continue` with a 100 by itself.
    let srv = Server::start(|r| match (r.path(), r.header("Expect")) {
        ("/refuse", Some(_)) => vec![write(resp(417, &[], b""))],
        _ => ok(r.body.as_slice()),
    });
    run(async {
        let c = AsyncHttpClient::new();
        let post = |path: &str| {
            HttpRequest::new(&srv.url(path))
                .method("POST")
                .body("payload")
                .expect_100_continue(true)
        };
        let r = c.fetch(post("/ok")).await.unwrap();
        assert_eq!(r.body, b"payload");
        assert_eq!(r.hops.len(), 1);
        assert_eq!(codes(&r.hops[0]), (vec![100], Some(200)));
        let r = c.fetch(post("/refuse")).await.unwrap();
        assert_eq!(r.body, b"payload");
        let kinds: Vec<HopKind> = r.hops.iter().map(|h| h.kind).collect();
        assert_eq!(kinds, [HopKind::Request, HopKind::ExpectationFailed]);
        assert_eq!(codes(&r.hops[0]), (vec![100], Some(417)));
        assert_eq!(codes(&r.hops[1]), (vec![], Some(200)));
        let second = String::from_utf8_lossy(&r.hops[1].request_head).to_lowercase();
        assert!(!second.contains("expect:"), "{second}");
        assert!(r.history.is_empty(), "a 417 repeat is not a redirect");
    });
}

#[test]
fn a_100_continue_is_reported_as_it_arrives_before_the_body_goes() {
    // The test server answers `Expect: 100-continue` with a 100 by itself; the body producer
    // runs only after it, so the Interim event must come first.
    let srv = Server::start(|r| ok(r.body.as_slice()));
    let order = Arc::new(Mutex::new(Vec::new()));
    run(async {
        let (seen, produced) = (order.clone(), order.clone());
        let req = HttpRequest::new(&srv.url("/up"))
            .method("PUT")
            .header("Content-Length", "4")
            .expect_100_continue(true)
            .hop_callback(move |event, _| seen.lock().unwrap().push(format!("{event:?}")))
            .body_producer(move |mut w| {
                let produced = produced.clone();
                async move {
                    produced.lock().unwrap().push("body".to_string());
                    w.write(b"data").await
                }
            });
        let r = AsyncHttpClient::new().fetch(req).await.unwrap();
        assert_eq!(r.body, b"data");
        assert_eq!(codes(&r.hops[0]), (vec![100], Some(200)));
    });
    assert_eq!(
        *order.lock().unwrap(),
        ["Sent", "Interim", "body", "Answered"]
    );
}

#[test]
fn streaming_responses_and_too_many_redirects_carry_the_hops_too() {
    let srv = Server::start(|r| match r.path() {
        "/loop" => vec![write(resp(302, &[("Location", "/loop")], b""))],
        "/r" => vec![write(resp(302, &[("Location", "/s")], b""))],
        _ => ok(b"streamed"),
    });
    run(async {
        let c = AsyncHttpClient::new();
        let mut s = c.fetch_streaming(srv.url("/r")).await.unwrap();
        assert_eq!(s.code, 200);
        let kinds: Vec<HopKind> = s.hops.iter().map(|h| h.kind).collect();
        assert_eq!(kinds, [HopKind::Request, HopKind::Redirect]);
        assert_eq!(s.peer(), Some(addr(&srv)));
        assert_eq!(s.read_to_end().await.unwrap(), b"streamed");
        let e = c
            .fetch(HttpRequest::new(&srv.url("/loop")).max_redirects(2))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::TooManyRedirects);
        let r = e.response().expect("the last 3xx");
        assert_eq!(r.hops.len(), 3);
        assert!(r.hops.iter().all(|h| codes(h) == (vec![], Some(302))));
        assert_eq!(r.history.len(), 2);
    });
}

#[cfg(feature = "gzip")]
#[test]
fn a_hop_keeps_the_head_as_read_when_the_body_is_decoded() {
    use std::io::Write;
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(b"inflated").unwrap();
    let z = z.finish().unwrap();
    let srv = Server::start(move |_| {
        vec![write(resp(
            200,
            &[("Content-Encoding", "gzip"), ("X-After", "1")],
            &z,
        ))]
    });
    run(async {
        let r = AsyncHttpClient::new().fetch(srv.url("/")).await.unwrap();
        assert_eq!(r.body, b"inflated");
        // Tornado's view: renamed, at the end.
        assert_eq!(r.headers.get("Content-Encoding"), None);
        assert_eq!(r.headers.get("X-Consumed-Content-Encoding"), Some("gzip"));
        // The wire's: as it came, where it came.
        let read = r.hops[0].response.as_ref().unwrap();
        let names: Vec<&str> = read.headers.iter().map(|(n, _)| n).collect();
        assert_eq!(names[..2], ["Content-Encoding", "X-After"]);
    });
}

#[test]
fn a_panicking_hop_callback_fails_the_fetch_with_a_callback_error() {
    let srv = Server::start(|_| ok(b"x"));
    run(async {
        let req = HttpRequest::new(&srv.url("/")).hop_callback(|event, _| {
            if event == HopEvent::Answered {
                panic!("boom");
            }
        });
        let e = AsyncHttpClient::new().fetch(req).await.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Callback);
        assert!(e.to_string().contains("hop_callback panicked: boom"), "{e}");
    });
}

#[test]
fn the_metadata_reads_as_fields_and_moves_out_of_meta() {
    let srv = Server::start(|_| vec![write(resp(201, &[("X-A", "1")], b"made"))]);
    run(async {
        let mut r = AsyncHttpClient::new()
            .fetch(
                HttpRequest::new(&srv.url("/"))
                    .method("POST")
                    .body("b")
                    .auth("user", "hunter2"),
            )
            .await
            .unwrap();
        assert_eq!(r.code, 201);
        assert_eq!(r.reason, r.hops[0].response.as_ref().unwrap().reason);
        r.headers.add("X-Local", "2");
        assert_eq!(r.headers.get("X-Local"), Some("2"));
        // The request head holds the credentials; Debug shows its length only.
        let debug = format!("{r:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("dXNlcjpodW50ZXIy"), "{debug}");
        assert!(debug.contains("request_head_len"), "{debug}");
        let body = std::mem::take(&mut r.body);
        let ResponseMeta { headers, hops, .. } = r.meta;
        assert_eq!(headers.get("X-A"), Some("1"));
        assert_eq!(hops.len(), 1);
        assert_eq!(body, b"made");
    });
}
