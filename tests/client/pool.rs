//! The keep-alive pool, the per-host limit, the `max_clients` queue, cancellation and
//! `close()` (Q-02..Q-14, E-14, D-17), against loopback servers started here.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::support::server::*;
use squall::ioloop::{sleep, spawn};
use squall::{AsyncHttpClient, ErrorKind, HttpRequest, TimeoutPhase};

#[test]
fn q13_keep_alive_proven_by_connection_count() {
    let srv = Server::start(|_| ok(b"k"));
    run(async {
        let c = AsyncHttpClient::new();
        for _ in 0..50 {
            c.fetch(srv.url("/")).await.unwrap();
        }
        assert_eq!(c.pool_counts(), (1, 1));
    });
    assert_eq!(srv.conns(), 1);
    assert_eq!(srv.reqs().len(), 50);
}

#[test]
fn q13_connection_close_http10_and_unframed_are_not_reused() {
    let srv = Server::start(|r| match r.path() {
        "/close" => vec![write(resp(200, &[("Connection", "close")], b"x"))],
        "/10" => vec![write(
            b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx".to_vec(),
        )],
        "/eof" => vec![
            write(b"HTTP/1.1 200 OK\r\n\r\nuntil close".to_vec()),
            Step::Close,
        ],
        _ => ok(b"x"),
    });
    run(async {
        let c = AsyncHttpClient::new();
        for p in ["/close", "/10", "/eof"] {
            c.fetch(srv.url(p)).await.unwrap();
            assert_eq!(c.pool_counts(), (0, 0), "{p}");
        }
        let r = c.fetch(srv.url("/eof")).await.unwrap();
        assert_eq!(r.body, b"until close");
        // A caller's `Connection: close` is honoured too.
        c.fetch(HttpRequest::new(&srv.url("/")).header("Connection", "close"))
            .await
            .unwrap();
        assert_eq!(c.pool_counts(), (0, 0));
    });
    assert_eq!(srv.conns(), 5);
}

#[test]
fn stale_idle_connection_is_noticed_before_reuse() {
    // The server answers, then closes without saying so.
    let srv = Server::start(|_| vec![write(resp(200, &[], b"s")), Step::Close]);
    run(async {
        let c = AsyncHttpClient::new();
        c.fetch(srv.url("/")).await.unwrap();
        sleep(Duration::from_millis(100)).await;
        // A POST is never retried: it succeeds only because the dead idle connection was
        // noticed before it was used.
        let r = c
            .fetch(HttpRequest::new(&srv.url("/")).method("POST").body("b"))
            .await
            .unwrap();
        assert_eq!(r.body, b"s");
    });
    assert_eq!(srv.conns(), 2);
    // No request was lost on the dead connection.
    assert_eq!(srv.reqs().len(), 2);
}

#[test]
fn idempotent_request_retried_once_when_reused_connection_dies() {
    // The second request on each connection is read and the connection dropped unanswered:
    // a server closing an idle connection just as the request arrived.
    let srv = Server::start(|r| {
        if r.nth_on_conn == 1 {
            vec![Step::Close]
        } else {
            ok(format!("{} on {}", r.method, r.conn).as_bytes())
        }
    });
    run(async {
        let c = AsyncHttpClient::new();
        assert_eq!(c.fetch(srv.url("/")).await.unwrap().body, b"GET on 0");
        // Reused connection dies before any response byte: retried on a fresh one.
        assert_eq!(c.fetch(srv.url("/")).await.unwrap().body, b"GET on 1");
        // A POST is not retried. (It waits a moment first: right after a response, a POST
        // would not take the pooled connection at all.)
        sleep(Duration::from_millis(50)).await;
        let e = c
            .fetch(HttpRequest::new(&srv.url("/")).method("POST").body("once"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::ClosedBeforeResponse, "{e}");
    });
    assert_eq!(srv.conns(), 2);
}

#[test]
fn q14_per_host_limit_held_under_100_concurrent_fetches() {
    let srv = Server::start(|_| late(Duration::from_millis(10), resp(200, &[], b"p")));
    run(async {
        let c = AsyncHttpClient::builder()
            .max_clients(100)
            .max_per_host(6)
            .build();
        let handles: Vec<_> = (0..100)
            .map(|_| {
                let c = c.clone();
                let url = srv.url("/");
                spawn(async move { c.fetch(url).await.map(|r| r.body) })
            })
            .collect();
        for h in handles {
            assert_eq!(h.await.unwrap().unwrap(), b"p");
        }
        let (open, idle) = c.pool_counts();
        assert!(open <= 6 && idle <= 6, "{open} {idle}");
    });
    assert!(srv.max_open.load(std::sync::atomic::Ordering::SeqCst) <= 6);
    assert!(srv.conns() <= 6, "{} connections", srv.conns());
    assert_eq!(srv.reqs().len(), 100);
}

#[test]
fn q02_fifo_queue_order() {
    let srv = Server::start(|_| late(Duration::from_millis(20), resp(200, &[], b"")));
    run(async {
        let c = AsyncHttpClient::builder().max_clients(1).build();
        let handles: Vec<_> = (0..6)
            .map(|i| {
                let c = c.clone();
                let url = srv.url(&format!("/{i}"));
                spawn(async move { c.fetch(url).await.map(|_| ()) })
            })
            .collect();
        for h in handles {
            h.await.unwrap().unwrap();
        }
    });
    let order: Vec<String> = srv.reqs().iter().map(|r| r.target.clone()).collect();
    assert_eq!(order, vec!["/0", "/1", "/2", "/3", "/4", "/5"]);
}

#[test]
fn q02_two_run_two_wait() {
    let srv = Server::start(|_| late(Duration::from_millis(300), resp(200, &[], b"")));
    run(async {
        let c = AsyncHttpClient::builder().max_clients(2).build();
        let t0 = Instant::now();
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let c = c.clone();
                let url = srv.url("/");
                spawn(async move { c.fetch(url).await.map(|r| r.time_info.queue) })
            })
            .collect();
        sleep(Duration::from_millis(150)).await;
        assert_eq!(srv.reqs().len(), 2);
        let mut queued = Vec::new();
        for h in handles {
            queued.push(h.await.unwrap().unwrap());
        }
        assert!(t0.elapsed() >= Duration::from_millis(550));
        assert!(queued[2] >= Duration::from_millis(250), "{queued:?}");
    });
}

#[test]
fn q03_q04_e04_queue_timeout() {
    let srv = Server::start(|_| late(Duration::from_millis(600), resp(200, &[], b"")));
    run(async {
        let c = AsyncHttpClient::builder().max_clients(1).build();
        let first = {
            let c = c.clone();
            let url = srv.url("/first");
            spawn(async move { c.fetch(url).await.map(|_| ()) })
        };
        sleep(Duration::from_millis(50)).await;
        let t0 = Instant::now();
        let e = c
            .fetch(
                HttpRequest::new(&srv.url("/second")).connect_timeout(Duration::from_millis(150)),
            )
            .await
            .unwrap_err();
        let waited = t0.elapsed();
        assert_eq!(e.kind(), &ErrorKind::Timeout(TimeoutPhase::Queue));
        assert_eq!(e.to_string(), "Timeout in request queue");
        assert_eq!(e.code(), 599);
        assert!(
            waited >= Duration::from_millis(100) && waited < Duration::from_millis(550),
            "{waited:?}"
        );
        first.await.unwrap().unwrap();
        sleep(Duration::from_millis(100)).await;
    });
    // Q-04: the timed-out request never started.
    let targets: Vec<String> = srv.reqs().iter().map(|r| r.target.clone()).collect();
    assert_eq!(targets, vec!["/first"]);
}

#[test]
fn e14_dropping_a_fetch_frees_socket_and_slot() {
    let srv = Server::start(|r| match r.path() {
        "/slow" => late(Duration::from_millis(2000), resp(200, &[], b"")),
        _ => ok(b"fast"),
    });
    run(async {
        let c = AsyncHttpClient::builder().max_clients(1).build();
        let r =
            squall::ioloop::timeout(Duration::from_millis(100), c.fetch(srv.url("/slow"))).await;
        assert!(r.is_err(), "the slow fetch should have been cut off");
        assert_eq!(
            c.pool_counts(),
            (0, 0),
            "the dropped fetch's connection is closed"
        );
        let t0 = Instant::now();
        assert_eq!(c.fetch(srv.url("/fast")).await.unwrap().body, b"fast");
        assert!(t0.elapsed() < Duration::from_millis(1500));
    });
}

#[test]
fn q09_close_fails_fetches_in_flight() {
    let srv = Server::start(|_| late(Duration::from_millis(1500), resp(200, &[], b"")));
    run(async {
        let c = AsyncHttpClient::new();
        let h = {
            let c = c.clone();
            let url = srv.url("/");
            spawn(async move { c.fetch(url).await.map(|_| ()) })
        };
        sleep(Duration::from_millis(100)).await;
        let t0 = Instant::now();
        c.close();
        let e = h.await.unwrap().unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::ClientClosed);
        assert!(t0.elapsed() < Duration::from_millis(1000));
        assert_eq!(c.pool_counts(), (0, 0));
    });
}

#[test]
fn idle_connections_expire() {
    let srv = Server::start(|_| ok(b"i"));
    run(async {
        let c = AsyncHttpClient::builder()
            .pool_idle_timeout(Duration::from_millis(100))
            .build();
        c.fetch(srv.url("/")).await.unwrap();
        assert_eq!(c.pool_counts(), (1, 1));
        sleep(Duration::from_millis(400)).await;
        assert_eq!(c.pool_counts(), (0, 0));
        c.fetch(srv.url("/")).await.unwrap();
    });
    assert_eq!(srv.conns(), 2);
}

#[test]
fn q11_hostname_mapping_keeps_host_header() {
    let srv = Server::start(|r| ok(r.header("Host").unwrap_or("").as_bytes()));
    run(async {
        let c = AsyncHttpClient::builder()
            .hostname_mapping("example.invalid", &srv.addr.to_string())
            .build();
        let r = c.fetch("http://example.invalid/").await.unwrap();
        assert_eq!(r.body, b"example.invalid");
        let c = AsyncHttpClient::builder()
            .hostname_mapping("example.invalid:1234", "127.0.0.1")
            .hostname_mapping("example.invalid:1234", &format!("127.0.0.1:{}", srv.port()))
            .build();
        let r = c.fetch("http://example.invalid:1234/").await.unwrap();
        assert_eq!(r.body, b"example.invalid:1234");
    });
}

#[test]
fn q12_injected_resolver_is_used() {
    use std::future::Future;
    use std::net::SocketAddr;
    use std::pin::Pin;
    struct Fixed(SocketAddr, Rc<RefCell<Vec<String>>>);
    impl squall::net::dns::Resolver for Fixed {
        fn resolve(
            &self,
            host: &str,
            _port: u16,
        ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>>>> {
            self.1.borrow_mut().push(host.to_string());
            let a = self.0;
            Box::pin(async move { Ok(vec![a]) })
        }
    }
    let srv = Server::start(|_| ok(b"resolved"));
    let asked = Rc::new(RefCell::new(Vec::new()));
    let resolver = Fixed(srv.addr, asked.clone());
    run(async {
        let c = AsyncHttpClient::builder().resolver(resolver).build();
        let r = c.fetch("http://some.name.invalid/").await.unwrap();
        assert_eq!(r.body, b"resolved");
        // IP literals skip the resolver.
        c.fetch(srv.url("/")).await.unwrap();
    });
    assert_eq!(*asked.borrow(), vec!["some.name.invalid".to_string()]);
}

#[test]
fn d17_many_fetches_with_redirects_on_one_slot() {
    let srv = Server::start(|r| match r.path() {
        "/a" => vec![write(resp(302, &[("Location", "/b")], b""))],
        "/b" => vec![write(resp(302, &[("Location", "/c")], b""))],
        _ => ok(b"c"),
    });
    run(async {
        let c = AsyncHttpClient::builder().max_clients(1).build();
        let hs: Vec<_> = (0..5)
            .map(|_| {
                let c = c.clone();
                let u = srv.url("/a");
                spawn(async move { c.fetch(u).await.map(|r| r.body) })
            })
            .collect();
        for h in hs {
            assert_eq!(h.await.unwrap().unwrap(), b"c");
        }
    });
    assert_eq!(srv.conns(), 1);
}

#[test]
fn q06_q08_shared_client_per_loop() {
    let a = run(async { AsyncHttpClient::shared() });
    let b = run(async { AsyncHttpClient::shared() });
    assert_eq!(a, b, "one loop, one shared client");
    a.close();
    a.close(); // idempotent
    // Closed: forgotten; the next call makes a new one.
    let c = run(async { AsyncHttpClient::shared() });
    assert_ne!(a, c);
    assert!(!c.is_closed());
    // Another loop, another client.
    let other = squall::IoLoop::new();
    let d = other.run_sync(async { AsyncHttpClient::shared() });
    assert_ne!(c, d);
    assert_eq!(run(async { AsyncHttpClient::shared() }), c);
    // A forced instance is always new.
    assert_ne!(AsyncHttpClient::new(), c);
}

#[test]
fn shared_client_with_idle_connections_survives_thread_exit() {
    let srv = Server::start(|_| ok(b"bye"));
    let url = srv.url("/");
    let t = std::thread::spawn(move || {
        let r = squall::IoLoop::current()
            .run_sync(async move { AsyncHttpClient::shared().fetch(url).await });
        assert_eq!(r.unwrap().body, b"bye");
        // The thread ends with the shared client (and an idle connection) in its locals.
    });
    t.join()
        .expect("no panic while the thread's locals are destroyed");
}

#[test]
fn post_after_a_close_without_notice_goes_to_a_new_connection() {
    // The server answers, then closes without `Connection: close`. Once the close has
    // arrived, the non-blocking read made just before a POST is written sees it (EOF), and
    // the POST goes to a new connection instead of being lost on the dead one. (A close still
    // on its way when the POST leaves cannot be seen by any check; such a POST fails, and is
    // not replayed.)
    let srv = Server::start(|r| vec![write(resp(200, &[], &r.body)), Step::Close]);
    run(async {
        let c = AsyncHttpClient::new();
        for i in 0..5 {
            let body = format!("payload {i}");
            let r = c
                .fetch(
                    HttpRequest::new(&srv.url("/p"))
                        .method("POST")
                        .body(body.as_str()),
                )
                .await
                .unwrap();
            assert_eq!(r.body, body.as_bytes());
            // The connection went back to the pool; let the server's FIN arrive.
            squall::ioloop::sleep(Duration::from_millis(50)).await;
            assert_eq!(c.pool_counts(), (1, 1));
        }
    });
    assert_eq!(srv.conns(), 5);
}

#[test]
fn post_right_after_a_close_without_notice_is_not_lost() {
    // The server answers, then closes without `Connection: close`: a POST sent at once on
    // that connection would find it closed and could not be retried. It goes to a new
    // connection instead (and a 307 keeps the POST, so the hop is the same case).
    let srv = Server::start(|r| match r.path() {
        "/r" => vec![write(resp(307, &[("Location", "/end")], b"")), Step::Close],
        _ => vec![write(resp(200, &[], &r.body)), Step::Close],
    });
    run(async {
        let c = AsyncHttpClient::new();
        for _ in 0..20 {
            let r = c
                .fetch(
                    HttpRequest::new(&srv.url("/r"))
                        .method("POST")
                        .body("payload"),
                )
                .await
                .unwrap();
            assert_eq!(r.body, b"payload");
        }
    });
}

#[test]
fn one_client_on_two_loops_opens_a_connection_per_loop() {
    // A pooled socket is registered with the loop that opened it; another loop never sees
    // its events. So a client used from a second loop must not reuse it (that hung forever):
    // it is closed when found, and the second loop opens its own.
    let srv = Server::start(|_| ok(b"hi"));
    let url = srv.url("/");
    let c = AsyncHttpClient::new();
    let req = || HttpRequest::new(&url).request_timeout(Duration::from_secs(10));
    let first = squall::IoLoop::new();
    let second = squall::IoLoop::new();

    // Both loops alive.
    assert_eq!(first.run_sync(c.fetch(req())).unwrap().body, b"hi");
    assert_eq!(c.pool_counts(), (1, 1));
    assert_eq!(second.run_sync(c.fetch(req())).unwrap().body, b"hi");
    assert_eq!(srv.conns(), 2);
    // The first loop's connection was closed when found; the second loop's is idle now.
    assert_eq!(c.pool_counts(), (1, 1));
    assert_eq!(first.stats().sockets, 0);
    // Back on the first loop: again a connection of its own.
    assert_eq!(first.run_sync(c.fetch(req())).unwrap().body, b"hi");
    assert_eq!(srv.conns(), 3);
    // And a loop reuses its own connections as usual.
    assert_eq!(first.run_sync(c.fetch(req())).unwrap().body, b"hi");
    assert_eq!(srv.conns(), 3);

    // The first loop closed: its connection (registered with a poller that is gone) is not
    // used either.
    first.close();
    assert_eq!(second.run_sync(c.fetch(req())).unwrap().body, b"hi");
    assert_eq!(srv.conns(), 4);
    let third = squall::IoLoop::new();
    assert_eq!(third.run_sync(c.fetch(req())).unwrap().body, b"hi");
    assert_eq!(srv.conns(), 5);
    assert_eq!(c.pool_counts(), (1, 1));
    // The same with a POST (probed with a syscall rather than the readiness flag).
    let post = || req().method("POST").body("x");
    assert_eq!(second.run_sync(c.fetch(post())).unwrap().body, b"hi");
    assert_eq!(srv.conns(), 6);
}

#[test]
fn idle_connections_are_capped_over_all_hosts_least_recently_used_out() {
    let srv = Server::start(|_| ok(b"ok"));
    let mut b = AsyncHttpClient::builder().max_idle_connections(3);
    for i in 0..6 {
        b = b.hostname_mapping(&format!("h{i}.test"), &srv.addr.to_string());
    }
    let c = b.build();
    let url = |i: usize| format!("http://h{i}.test/");
    run(async {
        for i in 0..6 {
            c.fetch(url(i)).await.unwrap();
            assert_eq!(c.pool_counts().1, (i + 1).min(3), "after host {i}");
        }
        assert_eq!(srv.conns(), 6);
        // h3, h4, h5 were used last and are kept: reusing them opens nothing.
        for i in [3, 4, 5] {
            c.fetch(url(i)).await.unwrap();
        }
        assert_eq!(srv.conns(), 6);
        // h0 was pushed out first: it needs a new connection, which pushes out h3 (now the
        // least recently used).
        c.fetch(url(0)).await.unwrap();
        assert_eq!(srv.conns(), 7);
        c.fetch(url(4)).await.unwrap();
        c.fetch(url(5)).await.unwrap();
        c.fetch(url(0)).await.unwrap();
        assert_eq!(srv.conns(), 7);
        c.fetch(url(3)).await.unwrap();
        assert_eq!(srv.conns(), 8);
        assert_eq!(c.pool_counts(), (3, 3));
    });
    // The server side sees the evicted connections closed.
    let deadline = Instant::now() + Duration::from_secs(5);
    while srv.open.load(std::sync::atomic::Ordering::SeqCst) > 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(srv.open.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[test]
fn a_zero_idle_cap_keeps_no_connection() {
    let srv = Server::start(|_| ok(b"ok"));
    let c = AsyncHttpClient::builder().max_idle_connections(0).build();
    run(async {
        for _ in 0..3 {
            c.fetch(srv.url("/")).await.unwrap();
            assert_eq!(c.pool_counts(), (0, 0));
        }
    });
    assert_eq!(srv.conns(), 3);
}
