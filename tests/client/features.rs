//! What the optional Cargo features change for a caller, tested in the build that lacks them:
//! `cargo test --no-default-features` runs the `not(..)` cases, the full build the others.
//!
//! - Without `tls`, an `https` URL (given, or as a redirect's target) is an `UnsupportedScheme`
//!   error at fetch time, before any connection, and the message names the missing feature.
//! - Without `gzip`, nothing asks for a coded body (no `Accept-Encoding`), and a gzip body a
//!   server sends anyway is handed over as it came, with its `Content-Encoding`: the caller can
//!   see it is coded and decode it, nothing is silently corrupted or refused. With `gzip`, the
//!   same reply is decoded (the contrast case, so both builds prove something).

use crate::support::server::*;
use squall::{AsyncHttpClient, ErrorKind, HttpRequest};

#[cfg(not(feature = "tls"))]
#[test]
fn https_without_tls_is_a_typed_error_before_any_io() {
    // A closed port: if the client tried to connect, the error would be a refused connect.
    let url = format!("https://127.0.0.1:{}/", closed_port());
    let e = run(AsyncHttpClient::new().fetch(url.as_str())).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::UnsupportedScheme, "{e}");
    assert!(e.to_string().contains("`tls` feature"), "{e}");
    assert!(
        e.to_string().contains(&url),
        "the message names the URL: {e}"
    );
    assert_eq!(e.code(), 599);
}

#[cfg(not(feature = "tls"))]
#[test]
fn a_redirect_to_https_without_tls_is_the_same_error() {
    let srv = Server::start(|_| {
        vec![write(resp(
            302,
            &[("Location", "https://127.0.0.1:1/next")],
            b"",
        ))]
    });
    let e = run(AsyncHttpClient::new().fetch(srv.url("/"))).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::UnsupportedScheme, "{e}");
    assert!(e.to_string().contains("`tls` feature"), "{e}");
    assert_eq!(srv.reqs().len(), 1, "only the first hop went out");
}

#[cfg(feature = "tls")]
#[test]
fn https_with_tls_gets_as_far_as_connecting() {
    // The contrast: with `tls` the same URL is attempted, and fails at the connect.
    let url = format!("https://127.0.0.1:{}/", closed_port());
    let e = run(AsyncHttpClient::new().fetch(url.as_str())).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Connect, "{e}");
}

/// A server that answers every request with `hello` gzip-coded, asked for or not.
fn gzip_server() -> Server {
    Server::start(|_| {
        vec![write(resp(
            200,
            &[("Content-Encoding", "gzip")],
            &gzip(b"hello"),
        ))]
    })
}

#[cfg(not(feature = "gzip"))]
#[test]
fn without_gzip_nothing_is_requested_and_a_coded_body_comes_as_sent() {
    let srv = gzip_server();
    let r = run(AsyncHttpClient::new().fetch(
        // Even when the caller asks: the option cannot be honoured, so it is not advertised.
        HttpRequest::new(&srv.url("/")).decompress_response(true),
    ))
    .unwrap();
    assert_eq!(srv.last().header("Accept-Encoding"), None);
    assert_eq!(r.headers.get("Content-Encoding"), Some("gzip"));
    assert_eq!(r.headers.get("X-Consumed-Content-Encoding"), None);
    assert_eq!(
        r.body,
        gzip(b"hello"),
        "the body is the coded bytes, intact"
    );
}

#[cfg(feature = "gzip")]
#[test]
fn with_gzip_the_same_reply_is_requested_and_decoded() {
    let srv = gzip_server();
    let r = run(AsyncHttpClient::new().fetch(HttpRequest::new(&srv.url("/")))).unwrap();
    assert_eq!(srv.last().header("Accept-Encoding"), Some("gzip"));
    assert_eq!(r.headers.get("Content-Encoding"), None);
    assert_eq!(r.headers.get("X-Consumed-Content-Encoding"), Some("gzip"));
    assert_eq!(r.body, b"hello");
}
