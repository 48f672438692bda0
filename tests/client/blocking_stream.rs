//! The blocking client with big bodies in both directions, without holding them whole: a
//! response body read through `std::io::Read` while it is still arriving
//! (`HttpClient::fetch_reader`), and a request body read from any `Read`
//! (`HttpRequest::body_reader`), chunked when its length is unknown. Flat memory is proven by
//! the RSS tests (client_rss); here, correctness (every byte, in order) and that the body
//! really streams (the first bytes are read before the server has sent the rest).

use std::io::{self, BufRead, Read, Write};
use std::sync::mpsc;
use std::time::Duration;

use crate::support::server::*;
use squall::{ErrorKind, HttpClient, HttpError, HttpRequest};

const MIB: usize = 1024 * 1024;

/// Byte `i` of every test body: a pattern that shows a lost, doubled or moved byte.
fn pattern(i: usize) -> u8 {
    (i % 251) as u8
}

/// A reader of `len` pattern bytes that is not a slice: it makes them as it goes.
struct Pattern {
    at: usize,
    len: usize,
}

impl Read for Pattern {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Odd-sized reads, to show nothing assumes full buffers.
        let n = buf.len().min(self.len - self.at).min(40_000);
        for (k, b) in buf[..n].iter_mut().enumerate() {
            *b = pattern(self.at + k);
        }
        self.at += n;
        Ok(n)
    }
}

fn check_pattern(body: &[u8], len: usize) {
    assert_eq!(body.len(), len);
    if let Some(i) = (0..len).find(|&i| body[i] != pattern(i)) {
        panic!("byte {i} is {} not {}", body[i], pattern(i));
    }
}

#[test]
fn response_body_is_read_while_it_streams() {
    let total = 24 * MIB;
    let first = MIB;
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let go_rx = std::sync::Mutex::new(go_rx);
    let (addr, _) = raw_server(move |mut s, _| {
        if read_head(&mut s).is_none() {
            return;
        }
        let body: Vec<u8> = (0..total).map(pattern).collect();
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {total}\r\n\r\n");
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(&body[..first]).unwrap();
        // The rest only once the client has read from the first part: if the client
        // waited for the whole body, this would time out and the response would be cut.
        if go_rx
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(30))
            .is_err()
        {
            return;
        }
        let _ = s.write_all(&body[first..]);
    });
    let c = HttpClient::new();
    let mut r = c
        .fetch_reader(
            HttpRequest::new(&format!("http://{addr}/big"))
                .request_timeout(Duration::from_secs(120)),
        )
        .unwrap();
    assert_eq!(r.code(), 200);
    assert_eq!(
        r.headers().get("Content-Length"),
        Some(total.to_string().as_str())
    );
    let mut head = vec![0u8; 1000];
    r.read_exact(&mut head).unwrap();
    check_pattern(&head, 1000);
    go_tx.send(()).unwrap();
    // The rest, through small reads and BufRead alike.
    let mut body = head;
    let mut small = [0u8; 4097];
    for _ in 0..100 {
        let n = r.read(&mut small).unwrap();
        body.extend_from_slice(&small[..n]);
    }
    let buffered = r.fill_buf().unwrap().len();
    assert!(buffered > 0);
    r.read_to_end(&mut body).unwrap();
    check_pattern(&body, total);
    // The end is sticky, and the connection went back for reuse.
    assert_eq!(r.read(&mut small).unwrap(), 0);
    assert_eq!(r.response().received(), total as u64);
}

#[test]
fn a_body_cut_short_is_an_error_not_an_end() {
    let (addr, _) = raw_server(|mut s, _| {
        if read_head(&mut s).is_some() {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
            let _ = s.write_all(&[b'x'; 5000]);
        }
    });
    let c = HttpClient::new();
    let mut r = c.fetch_reader(format!("http://{addr}/")).unwrap();
    let mut got = Vec::new();
    let e = r.read_to_end(&mut got).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "{e}");
    let inner = e
        .get_ref()
        .and_then(|i| i.downcast_ref::<HttpError>())
        .expect("the HttpError inside");
    assert_eq!(inner.kind(), &ErrorKind::ClosedMidBody);
    assert_eq!(got.len(), 5000, "what arrived was handed over");
}

#[test]
fn a_status_error_comes_from_fetch_reader_itself() {
    let srv = Server::start(|_| vec![write(resp(404, &[], b"nope"))]);
    let c = HttpClient::new();
    let e = c.fetch_reader(srv.url("/")).unwrap_err();
    assert_eq!(e.code(), 404);
    let mut r = c
        .fetch_reader(HttpRequest::new(&srv.url("/")).raise_error(false))
        .unwrap();
    assert_eq!(r.code(), 404);
    let mut s = String::new();
    r.read_to_string(&mut s).unwrap();
    assert_eq!(s, "nope");
}

#[cfg(feature = "gzip")]
#[test]
fn a_gzip_body_is_decoded_through_the_reader() {
    let plain: Vec<u8> = (0..8 * MIB).map(pattern).collect();
    let coded = gzip(&plain);
    let srv =
        Server::start(move |_| vec![write(resp(200, &[("Content-Encoding", "gzip")], &coded))]);
    let c = HttpClient::new();
    let mut r = c.fetch_reader(srv.url("/")).unwrap();
    let mut body = Vec::new();
    r.read_to_end(&mut body).unwrap();
    check_pattern(&body, 8 * MIB);
}

#[test]
fn upload_of_unknown_length_is_chunked() {
    let total = 16 * MIB + 123;
    let srv = Server::start(|r| ok(r.body.len().to_string().as_bytes()));
    let r = HttpClient::new()
        .fetch(
            HttpRequest::new(&srv.url("/up"))
                .method("PUT")
                .request_timeout(Duration::from_secs(120))
                .body_reader(Pattern { at: 0, len: total }, None),
        )
        .unwrap();
    assert_eq!(r.body, total.to_string().as_bytes());
    let got = srv.last();
    assert!(got.chunked, "no length given: chunked");
    assert_eq!(got.header("Content-Length"), None);
    check_pattern(&got.body, total);
}

#[test]
fn upload_of_known_length_has_content_length() {
    let total = 3 * MIB + 7;
    let srv = Server::start(|_| ok(b""));
    HttpClient::new()
        .fetch(
            HttpRequest::post(&srv.url("/up"))
                .request_timeout(Duration::from_secs(120))
                .body_reader(Pattern { at: 0, len: total }, Some(total as u64)),
        )
        .unwrap();
    let got = srv.last();
    assert!(!got.chunked);
    assert_eq!(
        got.header("Content-Length"),
        Some(total.to_string().as_str())
    );
    check_pattern(&got.body, total);
}

#[test]
fn an_upload_shorter_or_longer_than_its_length_fails() {
    let srv = Server::start(|_| ok(b""));
    let c = HttpClient::new();
    let short = c
        .fetch(HttpRequest::post(&srv.url("/")).body_reader(Pattern { at: 0, len: 10 }, Some(20)))
        .unwrap_err();
    assert!(short.to_string().contains("Content-Length"), "{short}");
    let long = c
        .fetch(HttpRequest::post(&srv.url("/")).body_reader(Pattern { at: 0, len: 30 }, Some(20)))
        .unwrap_err();
    assert!(long.to_string().contains("Content-Length"), "{long}");
    // A reader's own error fails the fetch with it.
    struct Broken;
    impl Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("disk on fire"))
        }
    }
    let e = c
        .fetch(HttpRequest::post(&srv.url("/")).body_reader(Broken, None))
        .unwrap_err();
    assert!(e.to_string().contains("disk on fire"), "{e}");
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
