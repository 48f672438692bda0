//! The exchange's two phases over a loopback socket: exact bytes from a server in, exact
//! events out, with a read buffer of one byte (every read one byte) and a roomy one.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener};
use std::sync::mpsc;
use std::time::Duration;

use super::*;
use crate::client::error::ErrorKind;
use crate::client::pool::{Grant, Pool, PoolKey};
use crate::http::response::ProtoErrorKind;
use crate::ioloop::{IoLoop, TcpStream};
use crate::net::Stream;

/// What the server does after sending its bytes.
#[derive(Clone, Copy, PartialEq)]
enum Then {
    KeepOpen,
    Close,
}

/// The events of one response sent as `reply`, read with a buffer of `read_size` bytes
/// (`max_read` the same, so a body never grows it): heads, then body events, or the error
/// that ended them. Also whether the connection could be pooled at the end.
fn exchange(reply: &'static [u8], then: Then, read_size: usize) -> (Vec<String>, bool) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (sent_tx, sent_rx) = mpsc::channel();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.write_all(reply).unwrap();
        if then == Then::Close {
            s.shutdown(Shutdown::Write).unwrap();
        }
        sent_tx.send(()).unwrap();
        // Held open until the client is done with it.
        let mut sink = [0u8; 64];
        while matches!(s.read(&mut sink), Ok(n) if n > 0) {}
    });
    let lp = IoLoop::new();
    let out = lp
        .run_sync_timeout(
            async move {
                let tcp = TcpStream::connect(addr).await.unwrap();
                // Every byte is on its way before the first read: the events do not depend on
                // how the kernel happens to split them.
                sent_rx.recv().unwrap();
                std::thread::sleep(Duration::from_millis(20));
                let pool = Pool::new(1, 1, Duration::from_secs(60), 1024);
                let key = PoolKey {
                    https: false,
                    host: "127.0.0.1".into(),
                    port: addr.port(),
                    tls: None,
                    bind: None,
                    proxy: None,
                };
                let Grant::Open(permit) = pool.checkout(key, false, false).await else {
                    unreachable!("an empty pool grants the right to open");
                };
                let conn = Conn::new(Stream::Plain(tcp), addr, permit, read_size);
                let mut ex = Exchange::new(
                    conn,
                    "GET",
                    Limits::default(),
                    Some(Duration::from_secs(10)),
                    read_size,
                );
                let mut events = Vec::new();
                loop {
                    match ex.next_head().await {
                        Ok(HeadEvent::Interim(h)) => events.push(format!("interim {}", h.code)),
                        Ok(HeadEvent::Final(h)) => {
                            events.push(format!("final {}", h.code));
                            break;
                        }
                        Err(f) => {
                            events.push(failure(&f));
                            return (events, false);
                        }
                    }
                }
                let mut ex = ex.into_body();
                loop {
                    match ex.next_body().await {
                        Ok(BodyEv::Data(r)) => {
                            events.push(format!("data {}", String::from_utf8_lossy(ex.data(r))))
                        }
                        Ok(BodyEv::Trailers) => events.push("trailers".into()),
                        Ok(BodyEv::End { keep_alive }) => {
                            events.push(format!("end keep_alive={keep_alive}"));
                            return (events, ex.reusable(keep_alive));
                        }
                        Err(f) => {
                            events.push(failure(&f));
                            return (events, false);
                        }
                    }
                }
            },
            Duration::from_secs(20),
        )
        .expect("the exchange ends in time");
    server.join().unwrap();
    out
}

fn failure(f: &Failure) -> String {
    format!(
        "error {:?} {:?} before_response={}",
        f.error.kind(),
        f.error.to_string(),
        f.before_response
    )
}

const CONTINUE_THEN_OK: &[u8] =
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";

#[test]
fn heads_then_body_one_byte_at_a_time() {
    let (events, reusable) = exchange(CONTINUE_THEN_OK, Then::KeepOpen, 1);
    assert_eq!(
        events,
        [
            "interim 100",
            "final 200",
            "data h",
            "data i",
            "end keep_alive=true"
        ]
    );
    assert!(reusable);
}

#[test]
fn heads_then_body_from_one_read() {
    let (events, reusable) = exchange(CONTINUE_THEN_OK, Then::KeepOpen, 4096);
    assert_eq!(
        events,
        ["interim 100", "final 200", "data hi", "end keep_alive=true"]
    );
    assert!(reusable);
}

#[test]
fn a_chunked_body_with_trailers() {
    let reply =
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX: y\r\n\r\n";
    for size in [1, 4096] {
        let (events, reusable) = exchange(reply, Then::KeepOpen, size);
        let data: Vec<&str> = events
            .iter()
            .filter_map(|e| e.strip_prefix("data "))
            .collect();
        assert_eq!(data.concat(), "hi", "read size {size}");
        assert_eq!(events.first().map(String::as_str), Some("final 200"));
        assert_eq!(
            events[events.len() - 2..],
            ["trailers", "end keep_alive=true"],
            "read size {size}"
        );
        assert!(reusable);
    }
}

#[test]
fn a_close_ends_a_close_delimited_body_and_the_connection() {
    let (events, reusable) = exchange(b"HTTP/1.0 200 OK\r\n\r\nabc", Then::Close, 4096);
    assert_eq!(events, ["final 200", "data abc", "end keep_alive=false"]);
    assert!(!reusable);
}

#[test]
fn a_close_before_any_byte_is_stream_closed_and_retryable() {
    let (events, _) = exchange(b"", Then::Close, 4096);
    assert_eq!(
        events,
        [r#"error ClosedBeforeResponse "Stream closed" before_response=true"#]
    );
}

#[test]
fn a_close_inside_the_head_names_what_was_cut_short() {
    let (events, _) = exchange(b"HTTP/1.1 200 OK\r\nContent-", Then::Close, 1);
    assert_eq!(events.len(), 1);
    let kind = format!("{:?}", ErrorKind::Protocol(ProtoErrorKind::IncompleteHead));
    assert!(
        events[0].starts_with(&format!("error {kind} ")),
        "{events:?}"
    );
    assert!(events[0].ends_with("before_response=false"), "{events:?}");
}

#[test]
fn a_close_inside_the_body_is_connection_closed() {
    let (events, reusable) = exchange(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab",
        Then::Close,
        4096,
    );
    assert_eq!(
        events,
        [
            "final 200",
            "data ab",
            r#"error ClosedMidBody "Connection closed: body incomplete: 2 of 5 bytes received" before_response=false"#
        ]
    );
    assert!(!reusable);
}
