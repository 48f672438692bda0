//! Transport failures as typed errors (E-*): closes, malformed replies, refused connections,
//! `raise_error(false)`, and the request time every failure carries. Behaviour IDs are
//! described in docs/behaviours.md.

use crate::support::server::*;
use squall::{AsyncHttpClient, ErrorKind, HttpRequest};

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
        let c = AsyncHttpClient::new();
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
        let e = AsyncHttpClient::new()
            .fetch(srv.url("/"))
            .await
            .unwrap_err();
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
        let e = AsyncHttpClient::new()
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
        let e = AsyncHttpClient::new()
            .fetch(HttpRequest::new("ftp://x/").raise_error(false))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::UnsupportedScheme);
    });
}

#[test]
fn e15_every_failure_has_a_request_time() {
    let port = crate::support::server::closed_port();
    run(async {
        let e = AsyncHttpClient::new()
            .fetch(format!("http://127.0.0.1:{port}/"))
            .await
            .unwrap_err();
        assert!(e.response().is_none());
        assert!(e.request_time().is_some(), "{e:?}");
        let e = AsyncHttpClient::new()
            .fetch(HttpRequest::new("http://127.0.0.1:9/").method("BAD KIND"))
            .await
            .unwrap_err();
        assert!(e.request_time().is_some());
    });
}
