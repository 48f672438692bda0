//! The client's types compose with the rest of a Rust program: a request, a response and an
//! error are `Send + Sync + 'static`, so they cross threads and an error converts into
//! `anyhow::Error` or `Box<dyn Error + Send + Sync>`; and an error's `source()` is the
//! underlying cause (I/O, protocol, TLS, decoding), not a string.

use std::error::Error;
use std::io;
use std::thread;

use crate::support::server::*;
use squall::http::ProtoError;
use squall::{ErrorKind, HttpClient, HttpError, HttpRequest, HttpResponse};

/// Compile-time proof: this only builds for types that are `Send + Sync + 'static`.
fn assert_send_sync<T: Send + Sync + 'static>() {}

#[test]
fn requests_responses_and_errors_are_send_and_sync() {
    assert_send_sync::<HttpRequest>();
    assert_send_sync::<HttpResponse>();
    assert_send_sync::<HttpError>();
    assert_send_sync::<ErrorKind>();
    assert_send_sync::<squall::HttpHeaders>();
    assert_send_sync::<squall::Url>();
    // A request with every kind of callback is still both.
    let req = HttpRequest::new("http://127.0.0.1/")
        .header_callback(|_| {})
        .streaming_callback(|_| {})
        .request_head_callback(|_| {})
        .body_producer(|_w| async { Ok(()) });
    thread::spawn(move || drop(req)).join().unwrap();
}

/// A fetch in a worker thread whose error is returned through `?` into `anyhow`.
fn fetch_in_thread(url: String) -> anyhow::Result<HttpResponse> {
    let handle = thread::spawn(move || HttpClient::new().fetch(url.as_str()));
    let response = handle.join().expect("worker panicked")?;
    Ok(response)
}

#[test]
fn an_error_from_a_thread_becomes_anyhow_and_a_boxed_error() {
    let url = format!("http://127.0.0.1:{}/", closed_port());
    let e = fetch_in_thread(url.clone()).unwrap_err();
    let inner = e
        .downcast_ref::<HttpError>()
        .expect("anyhow keeps the HttpError");
    assert_eq!(inner.kind(), &ErrorKind::Connect);
    // anyhow's chain walks source(): the I/O cause is in it.
    assert!(
        e.chain().any(|c| c.downcast_ref::<io::Error>().is_some()
            || c.downcast_ref::<squall::net::ConnectError>().is_some()),
        "no I/O cause in {e:?}"
    );

    let boxed: Box<dyn Error + Send + Sync> = thread::spawn(move || {
        HttpClient::new()
            .fetch(url.as_str())
            .map_err(Box::<dyn Error + Send + Sync>::from)
    })
    .join()
    .unwrap()
    .unwrap_err();
    assert!(boxed.to_string().contains("127.0.0.1"), "{boxed}");
    assert!(boxed.downcast_ref::<HttpError>().is_some());

    // A response crosses a thread too.
    let srv = Server::start(|_| ok(b"hi"));
    let r = fetch_in_thread(srv.url("/")).unwrap();
    assert_eq!(r.body, b"hi");
}

#[test]
fn source_of_a_reset_is_the_io_error() {
    // The server reads the request, then resets the connection (SO_LINGER 0).
    let srv = Server::start(|_| vec![Step::Reset]);
    let e = HttpClient::new().fetch(srv.url("/")).unwrap_err();
    let src = e.source().unwrap_or_else(|| panic!("no source: {e:?}"));
    assert!(
        src.downcast_ref::<io::Error>().is_some(),
        "source is not an io::Error: {src:?}"
    );
}

#[test]
fn source_of_a_malformed_reply_is_the_protocol_error() {
    let srv = Server::start(|_| vec![write(&b"HTTP/1.1 2000 Odd\r\n\r\n"[..])]);
    let e = HttpClient::new().fetch(srv.url("/")).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Protocol(_)), "{e}");
    let p = e
        .source()
        .and_then(|s| s.downcast_ref::<ProtoError>())
        .unwrap_or_else(|| panic!("no ProtoError source: {e:?}"));
    assert_eq!(p.to_string(), e.to_string());
}

#[cfg(feature = "gzip")]
#[test]
fn source_of_a_bad_gzip_body_is_the_decode_error() {
    let srv = Server::start(|_| {
        vec![write(resp(
            200,
            &[("Content-Encoding", "gzip")],
            b"not gzip at all",
        ))]
    });
    let e = HttpClient::new().fetch(srv.url("/")).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Decompression, "{e}");
    let src = e.source().expect("a source");
    assert!(
        src.downcast_ref::<squall::http::decode::DecodeError>()
            .is_some(),
        "{src:?}"
    );
}

#[cfg(feature = "json")]
#[test]
fn source_of_bad_json_is_serde_json_error() {
    let srv = Server::start(|_| ok(b"{oops"));
    let r = HttpClient::new().fetch(srv.url("/")).unwrap();
    let e = r.json::<serde_json::Value>().unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Decode);
    let src = e.source().expect("a source");
    assert!(src.downcast_ref::<serde_json::Error>().is_some(), "{src:?}");
}

#[cfg(feature = "tls")]
#[test]
fn source_of_a_tls_failure_is_the_tls_error() {
    // A server that answers a ClientHello with plain HTTP: the handshake fails (not TLS).
    let (addr, _) = raw_server(|mut s, _| {
        use std::io::Write;
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        std::thread::sleep(std::time::Duration::from_millis(200));
    });
    let e = HttpClient::new()
        .fetch(format!("https://127.0.0.1:{}/", addr.port()).as_str())
        .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Tls(_)), "{e}");
    let t = e
        .source()
        .and_then(|s| s.downcast_ref::<squall::net::tls::TlsError>())
        .unwrap_or_else(|| panic!("no TlsError source: {e:?}"));
    assert_eq!(ErrorKind::Tls(t.kind().clone()), *e.kind());
}
