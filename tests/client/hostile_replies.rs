//! Black-box tests of the library (`HttpClient`, the blocking face of `AsyncHttpClient`)
//! against raw canned replies: each hostile reply must end in the typed error the CLI maps to
//! its exit code (CONTRACT.md's ErrorKind table), never a panic, a hang or a truncated body
//! passed off as complete. The same cases through the binary are in tests/cli/hostile_replies.rs.

use std::time::Duration;

use crate::support::canned::once;
use crate::support::server::gzip;
use squall::http::response::ProtoErrorKind;
use squall::{ErrorKind, HttpClient, HttpRequest};

fn fetch(reply: &[u8]) -> Result<squall::HttpResponse, squall::HttpError> {
    let url = once(reply).url("/");
    let mut c = HttpClient::new();
    let r = c.fetch(HttpRequest::new(&url).request_timeout(Duration::from_secs(20)));
    c.close();
    r
}

const OK: &str = "HTTP/1.1 200 OK\r\n";
const CH: &str = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

#[test]
fn hostile_replies_give_typed_errors() {
    let g = gzip(b"hello world");
    let with_gzip = |body: &[u8]| {
        let mut v = format!(
            "{OK}Content-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        v.extend_from_slice(body);
        v
    };
    let malformed = ErrorKind::Protocol(ProtoErrorKind::Malformed);
    let cases: Vec<(&str, Vec<u8>, ErrorKind)> = vec![
        (
            "HTTP/2.0 status line",
            b"HTTP/2.0 200 OK\r\n\r\n".to_vec(),
            malformed.clone(),
        ),
        (
            "two-digit status",
            b"HTTP/1.1 20 OK\r\n\r\n".to_vec(),
            malformed.clone(),
        ),
        (
            "CL and TE",
            format!("{OK}Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").into(),
            malformed.clone(),
        ),
        (
            "TE gzip, chunked",
            format!("{OK}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n").into(),
            malformed.clone(),
        ),
        (
            "CL 5,6",
            format!("{OK}Content-Length: 5,6\r\n\r\nhello!").into(),
            malformed.clone(),
        ),
        (
            "chunk size 0x5",
            format!("{CH}0x5\r\nhello\r\n0\r\n\r\n").into(),
            malformed.clone(),
        ),
        (
            "bare LF after chunk size",
            format!("{CH}5\nhello\r\n0\r\n\r\n").into(),
            malformed.clone(),
        ),
        (
            "11 interim responses",
            format!(
                "{}{OK}Content-Length: 0\r\n\r\n",
                "HTTP/1.1 100 Continue\r\n\r\n".repeat(11)
            )
            .into(),
            ErrorKind::Protocol(ProtoErrorKind::TooManyInterim),
        ),
        (
            "101 fields",
            format!("{OK}{}\r\n", "X: y\r\n".repeat(101)).into(),
            ErrorKind::Protocol(ProtoErrorKind::TooManyHeaders),
        ),
        (
            "head over 64 KiB",
            format!("{OK}X: {}\r\n\r\n", "a".repeat(70000)).into(),
            ErrorKind::Protocol(ProtoErrorKind::HeadTooLarge),
        ),
        (
            "head cut short",
            format!("{OK}Content-Len").into(),
            ErrorKind::Protocol(ProtoErrorKind::IncompleteHead),
        ),
        (
            "nothing at all",
            Vec::new(),
            ErrorKind::ClosedBeforeResponse,
        ),
        (
            "CL body cut short",
            format!("{OK}Content-Length: 10\r\n\r\nhello").into(),
            ErrorKind::ClosedMidBody,
        ),
        (
            "chunked body cut after the last chunk",
            format!("{CH}5\r\nhello\r\n0\r\n").into(),
            ErrorKind::ClosedMidBody,
        ),
        (
            "gzip trailing garbage",
            with_gzip(&[&g[..], b"x"].concat()),
            ErrorKind::Decompression,
        ),
        (
            "gzip truncated",
            with_gzip(&g[..g.len() - 3]),
            ErrorKind::Decompression,
        ),
    ];
    let mut bad = Vec::new();
    for (name, reply, want) in cases {
        match fetch(&reply) {
            Ok(r) => bad.push(format!("{name}: accepted ({} {:?})", r.code, r.body)),
            Err(e) if *e.kind() != want => {
                bad.push(format!("{name}: {:?} ({e}), expected {want:?}", e.kind()))
            }
            Err(e) => assert_eq!(e.code(), 599, "{name}: {e}"),
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn lenient_where_the_rfc_allows() {
    // RFC 9112 §5.2: obs-fold unfolded with SP; §2.2: LF-only lines may be accepted;
    // RFC 9110 §8.6: "5, 5" is one length; RFC 1952 §2.2: every member is decoded.
    let r = fetch(format!("{OK}X-F: a\r\n  b\r\nContent-Length: 2\r\n\r\nok").as_bytes()).unwrap();
    assert_eq!(r.headers.get("X-F"), Some("a b"));
    assert_eq!(r.body, b"ok");
    let r = fetch(b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok").unwrap();
    assert_eq!(r.body, b"ok");
    let r = fetch(format!("{OK}Content-Length: 5, 5\r\n\r\nhello").as_bytes()).unwrap();
    assert_eq!(r.body, b"hello");
    let two = [gzip(b"hello "), gzip(b"world")].concat();
    let mut reply = format!(
        "{OK}Content-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        two.len()
    )
    .into_bytes();
    reply.extend_from_slice(&two);
    let r = fetch(&reply).unwrap();
    assert_eq!(r.body, b"hello world");
    // Trailer fields, folded, are unfolded too (RFC 9112 §5.2 applies to every field line).
    let r = fetch(format!("{CH}2\r\nok\r\n0\r\nX-T: 1\r\n 2\r\n\r\n").as_bytes()).unwrap();
    assert_eq!(r.body, b"ok");
    // A status code outside 100-599 is delivered as sent (RFC 9110 §15: processed, not refused).
    let r = fetch(b"HTTP/1.1 600 Odd\r\nContent-Length: 0\r\n\r\n").unwrap_or_else(|e| {
        // With raise_error on (the default), a non-2xx is an Http error carrying the response.
        assert_eq!(*e.kind(), ErrorKind::Http, "{e}");
        e.response().cloned().expect("the response")
    });
    assert_eq!(r.code, 600);
}
