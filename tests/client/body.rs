//! Request bodies: `body_producer` with flow control, chunked or with a Content-Length
//! (R-26..R-31), large bodies, and pull-style streaming with backpressure (S-33).

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::server::*;
use squall::{AsyncHttpClient, ErrorKind, HttpRequest};

#[test]
fn r26_r29_producer_is_chunked_and_empty_writes_send_nothing() {
    let srv = Server::start(|r| ok(&r.body));
    run(async {
        let r = AsyncHttpClient::new()
            .fetch(
                HttpRequest::new(&srv.url("/"))
                    .method("POST")
                    .body_producer(|mut w| async move {
                        w.write(b"").await?;
                        w.write(b"hello ").await?;
                        w.write(b"").await?;
                        w.write(b"world").await?;
                        Ok(())
                    }),
            )
            .await
            .unwrap();
        assert_eq!(r.body, b"hello world");
        let last = srv.last();
        assert!(last.chunked);
        assert_eq!(last.header("Transfer-Encoding"), Some("chunked"));
        assert_eq!(last.header("Content-Length"), None);
    });
}

#[test]
fn r26_exact_chunk_framing_on_the_wire() {
    let (addr, _) = raw_server(|mut s, _| {
        let Some(head) = read_head(&mut s) else {
            return;
        };
        assert!(String::from_utf8_lossy(&head).contains("Transfer-Encoding: chunked"));
        let want = b"3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n";
        let mut got = vec![0u8; want.len()];
        s.read_exact(&mut got).unwrap();
        let reply = if got == want {
            resp(200, &[], b"exact")
        } else {
            resp(400, &[], &got)
        };
        use std::io::Write;
        s.write_all(&reply).unwrap();
    });
    run(async {
        let r = AsyncHttpClient::new()
            .fetch(
                HttpRequest::new(&format!("http://{addr}/"))
                    .method("PUT")
                    .body_producer(|mut w| async move {
                        w.write(b"abc").await?;
                        w.write(b"0123456789").await
                    }),
            )
            .await
            .unwrap();
        assert_eq!(r.body, b"exact");
    });
}

#[test]
fn r27_producer_with_content_length_is_sent_unchunked() {
    let srv = Server::start(|r| ok(&r.body));
    run(async {
        let c = AsyncHttpClient::new();
        let r = c
            .fetch(
                HttpRequest::new(&srv.url("/"))
                    .method("POST")
                    .header("Content-Length", "6")
                    .body_producer(|mut w| async move {
                        w.write(b"abc").await?;
                        w.write(b"def").await
                    }),
            )
            .await
            .unwrap();
        assert_eq!(r.body, b"abcdef");
        assert!(!srv.last().chunked);
    });
}

#[test]
fn r28_wrong_producer_length_fails_and_the_connection_is_not_reused() {
    let srv = Server::start(|_| ok(b"fine"));
    run(async {
        let c = AsyncHttpClient::new();
        assert_eq!(c.fetch(srv.url("/warm")).await.unwrap().body, b"fine");
        assert_eq!(srv.conns(), 1);
        let e = c
            .fetch(
                HttpRequest::new(&srv.url("/long"))
                    .method("POST")
                    .header("Content-Length", "3")
                    .body_producer(|mut w| async move { w.write(b"abcdef").await }),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Callback);
        assert!(
            e.message()
                .contains("Tried to write more data than Content-Length"),
            "{e}"
        );
        let e = c
            .fetch(
                HttpRequest::new(&srv.url("/short"))
                    .method("POST")
                    .header("Content-Length", "10")
                    .body_producer(|mut w| async move { w.write(b"abc").await }),
            )
            .await
            .unwrap_err();
        assert!(
            e.message()
                .contains("Tried to write 7 bytes less than Content-Length"),
            "{e}"
        );
        // The next request works, on a connection that did not carry a broken body.
        assert_eq!(c.fetch(srv.url("/after")).await.unwrap().body, b"fine");
        let after = srv.last();
        assert_eq!(after.target, "/after");
        assert_eq!(after.nth_on_conn, 0, "sent on a fresh connection");
    });
}

#[test]
fn r30_body_and_producer_refused() {
    run(async {
        let e = AsyncHttpClient::new()
            .fetch(
                HttpRequest::new("http://127.0.0.1:9/")
                    .method("POST")
                    .body("x")
                    .body_producer(|_w| async { Ok(()) }),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidRequest);
    });
}

#[test]
fn r31_producer_on_delete_is_chunked() {
    let srv = Server::start(|r| ok(&r.body));
    run(async {
        let r = AsyncHttpClient::new()
            .fetch(
                HttpRequest::new(&srv.url("/"))
                    .method("DELETE")
                    .allow_nonstandard_methods(true)
                    .body_producer(|mut w| async move { w.write(b"gone").await }),
            )
            .await
            .unwrap();
        assert_eq!(r.body, b"gone");
        assert!(srv.last().chunked);
    });
}

#[test]
fn producer_failure_fails_the_fetch() {
    let srv = Server::start(|r| ok(&r.body));
    run(async {
        let c = AsyncHttpClient::new();
        let e = c
            .fetch(
                HttpRequest::new(&srv.url("/"))
                    .method("POST")
                    .body_producer(|mut w| async move {
                        w.write(b"part").await?;
                        Err(std::io::Error::other("disk on fire"))
                    }),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Callback);
        assert!(e.message().contains("disk on fire"), "{e}");
        assert_eq!(c.fetch(srv.url("/")).await.unwrap().code, 200);
    });
}

#[test]
fn producer_flow_control_with_a_slow_reader() {
    // The server reads the 8 MiB body slowly; the producer must be held back (it never
    // runs more than a bounded amount ahead of what the socket took).
    let (addr, _) = raw_server(|mut s, _| {
        let Some(_) = read_head(&mut s) else { return };
        let mut total = 0usize;
        let mut buf = vec![0u8; 64 * 1024];
        let mut chunked_tail = Vec::new();
        loop {
            std::thread::sleep(Duration::from_millis(1));
            let n = s.read(&mut buf).unwrap();
            if n == 0 {
                return;
            }
            total += n;
            chunked_tail.extend_from_slice(&buf[..n]);
            if chunked_tail.len() > 16 {
                chunked_tail.drain(..chunked_tail.len() - 16);
            }
            if chunked_tail.ends_with(b"0\r\n\r\n") {
                break;
            }
        }
        use std::io::Write;
        s.write_all(&resp(200, &[], total.to_string().as_bytes()))
            .unwrap();
    });
    run(async {
        let written = SharedCell::new(0usize);
        let w2 = written.clone();
        let r = AsyncHttpClient::new()
            .fetch(
                HttpRequest::new(&format!("http://{addr}/"))
                    .method("POST")
                    .request_timeout(Duration::from_secs(60))
                    .body_producer(move |mut w| {
                        let written = w2.clone();
                        async move {
                            let block = vec![7u8; 16 * 1024];
                            for _ in 0..512 {
                                w.write(&block).await?;
                                written.set(written.get() + block.len());
                            }
                            Ok(())
                        }
                    }),
            )
            .await
            .unwrap();
        assert_eq!(written.get(), 8 << 20);
        let wire: usize = String::from_utf8(r.body).unwrap().parse().unwrap();
        assert!(wire > 8 << 20);
    });
}

#[test]
fn large_body_sent_and_echoed() {
    let srv = Server::start(|r| ok(&r.body));
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
    run(async {
        let r = AsyncHttpClient::new()
            .fetch(
                HttpRequest::new(&srv.url("/"))
                    .method("PUT")
                    .body(big.clone()),
            )
            .await
            .unwrap();
        assert_eq!(r.body.len(), big.len());
        assert!(r.body == big);
    });
}

/// A server that answers one request with `total` bytes of `fill`, written as fast as the
/// client takes them, and counts the bytes its writes have handed to the kernel so far (so a
/// test can see the writes stall when nobody reads).
fn firehose(total: usize, fill: u8) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let (addr, _) = raw_server(move |mut s, _| {
        if read_head(&mut s).is_none() {
            return;
        }
        use std::io::Write;
        s.write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {total}\r\n\r\n").as_bytes())
            .unwrap();
        let block = vec![fill; 64 * 1024];
        let mut n = 0;
        while n < total {
            if s.write_all(&block).is_err() {
                return;
            }
            n += block.len();
            counter.store(n, Ordering::SeqCst);
        }
    });
    (addr, sent)
}

#[test]
fn s33_pull_streaming_applies_backpressure() {
    // The server writes as fast as it can; the client reads one piece and then waits.
    // The server must block (its writes stall) well before the whole body is sent.
    let total: usize = 64 << 20;
    let (addr, sent) = firehose(total, 1);
    run(async {
        let c = AsyncHttpClient::new();
        let mut resp = c.fetch_streaming(format!("http://{addr}/")).await.unwrap();
        let first = resp.chunk().await.unwrap().unwrap();
        assert!(!first.is_empty());
        squall::ioloop::sleep(Duration::from_millis(500)).await;
        let stalled_at = sent.load(Ordering::SeqCst);
        assert!(
            stalled_at < 32 << 20,
            "server sent {stalled_at} bytes while nobody read"
        );
        // Reading on drains it all.
        let mut got = first.len();
        while let Some(p) = resp.chunk().await.unwrap() {
            got += p.len();
        }
        assert_eq!(got, total);
    });
}

#[test]
fn early_answer_to_an_unwanted_upload_is_the_response() {
    // The server refuses the body at once and closes without reading it; the client's writes
    // then fail, but the 413 it sent is what the caller should see.
    let (addr, _) = raw_server(|mut s, _| {
        if read_head(&mut s).is_none() {
            return;
        }
        use std::io::Write;
        let _ = s.write_all(&resp(413, &[("Connection", "close")], b"too big"));
        std::thread::sleep(Duration::from_millis(50));
    });
    run(async {
        let r = AsyncHttpClient::new()
            .fetch(
                HttpRequest::new(&format!("http://{addr}/upload"))
                    .method("POST")
                    .body(vec![b'u'; 32 << 20])
                    .raise_error(false),
            )
            .await;
        match r {
            Ok(r) => {
                assert_eq!(r.code, 413);
                assert_eq!(r.body, b"too big");
            }
            Err(e) => panic!("expected the 413, got {e:?}"),
        }
    });
}

#[test]
fn s33_async_streaming_callback_holds_the_next_read_back() {
    let total: usize = 48 << 20;
    let (addr, sent) = firehose(total, 3);
    run(async {
        let got = SharedCell::new(0usize);
        let stalled_at = SharedCell::new(usize::MAX);
        let (g2, st2, sent2) = (got.clone(), stalled_at.clone(), sent.clone());
        let r = AsyncHttpClient::new()
            .fetch(
                HttpRequest::new(&format!("http://{addr}/"))
                    .max_body_size(u64::MAX)
                    .streaming_callback_async(move |piece| {
                        let (g, st, sent) = (g2.clone(), st2.clone(), sent2.clone());
                        async move {
                            let first = g.get() == 0;
                            g.set(g.get() + piece.len());
                            if first {
                                squall::ioloop::sleep(Duration::from_millis(500)).await;
                                st.set(sent.load(Ordering::SeqCst));
                            }
                            Ok(())
                        }
                    }),
            )
            .await
            .unwrap();
        assert!(r.body.is_empty());
        assert_eq!(got.get(), total);
        assert!(
            stalled_at.get() < 32 << 20,
            "server sent {} bytes while the callback slept",
            stalled_at.get()
        );
    });
}

#[test]
fn s34_async_streaming_callback_error_fails_the_fetch() {
    let srv = Server::start(|_| ok(&[b'e'; 10_000]));
    run(async {
        let c = AsyncHttpClient::new();
        let e = c
            .fetch(
                HttpRequest::new(&srv.url("/")).streaming_callback_async(|_piece| async {
                    Err(std::io::Error::other("consumer gave up"))
                }),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Callback);
        assert!(e.message().contains("consumer gave up"), "{e}");
        assert_eq!(e.code(), 599);
    });
}

#[test]
fn panics_in_async_streaming_callbacks_are_callback_errors() {
    // As the plain callbacks do: a panic fails the fetch with ErrorKind::Callback, and the
    // client and its loop go on.
    let srv = Server::start(|_| ok(&[b'p'; 10_000]));
    run(async {
        let c = AsyncHttpClient::new();
        // In the call that makes the future.
        let e = c
            .fetch(
                HttpRequest::new(&srv.url("/")).streaming_callback_async(|piece| {
                    if piece.len() < usize::MAX {
                        panic!("no future for you");
                    }
                    async { Ok(()) }
                }),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Callback);
        assert!(e.message().contains("streaming_callback panicked"), "{e}");
        assert!(e.message().contains("no future for you"), "{e}");
        // In a poll of the future, after an await.
        let e = c
            .fetch(
                HttpRequest::new(&srv.url("/")).streaming_callback_async(|piece| async move {
                    squall::ioloop::sleep(std::time::Duration::from_millis(1)).await;
                    if !piece.is_empty() {
                        panic!("consumer fell over");
                    }
                    Ok(())
                }),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Callback);
        assert!(e.message().contains("consumer fell over"), "{e}");
        assert_eq!(e.code(), 599);
        let r = c.fetch(srv.url("/")).await.unwrap();
        assert_eq!(r.body.len(), 10_000);
    });
}

#[test]
fn panics_in_body_producers_are_callback_errors() {
    let srv = Server::start(|r| ok(&r.body));
    run(async {
        let c = AsyncHttpClient::new();
        // In the call.
        let e = c
            .fetch(
                HttpRequest::new(&srv.url("/"))
                    .method("POST")
                    .body_producer(|w| {
                        if w.written() < u64::MAX {
                            panic!("producer refused to start");
                        }
                        async { Ok(()) }
                    }),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Callback);
        assert!(e.message().contains("body_producer panicked"), "{e}");
        assert!(e.message().contains("producer refused to start"), "{e}");
        // In a poll, halfway through the body.
        let e = c
            .fetch(
                HttpRequest::new(&srv.url("/"))
                    .method("POST")
                    .body_producer(|mut w| async move {
                        w.write(b"first half").await?;
                        squall::ioloop::sleep(std::time::Duration::from_millis(1)).await;
                        if w.written() < u64::MAX {
                            panic!("producer broke midway");
                        }
                        Ok(())
                    }),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Callback);
        assert!(e.message().contains("producer broke midway"), "{e}");
        // The client goes on.
        let r = c
            .fetch(HttpRequest::new(&srv.url("/")).method("POST").body("fine"))
            .await
            .unwrap();
        assert_eq!(r.body, b"fine");
    });
}
