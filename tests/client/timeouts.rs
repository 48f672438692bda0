//! Timeouts (E-03..E-06, Q-03, Q-12, S-43 as squall rules it: one deadline from `fetch()`),
//! with generous bounds, against loopback servers started here.

use std::future::Future;
use std::io::Write;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::time::{Duration, Instant};

use crate::support::net::{FixedResolver, blackhole, ipv6_loopback_works};
use crate::support::server::*;
use squall::{AsyncHttpClient, ErrorKind, HttpRequest, TimeoutPhase};

#[test]
fn e03_timeout_during_request() {
    let srv = Server::start(|_| late(Duration::from_millis(1500), resp(200, &[], b"")));
    run(async {
        let c = AsyncHttpClient::new();
        let t0 = Instant::now();
        let e = c
            .fetch(HttpRequest::new(&srv.url("/")).request_timeout(Duration::from_millis(200)))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Timeout(TimeoutPhase::Request));
        assert_eq!(e.to_string(), "Timeout during request");
        assert_eq!(e.code(), 599);
        let took = t0.elapsed();
        assert!(
            took >= Duration::from_millis(180) && took < Duration::from_millis(1200),
            "{took:?}"
        );
        // The timed-out connection was closed, not pooled.
        assert_eq!(c.pool_counts(), (0, 0));
    });
}

#[test]
fn request_timeout_is_one_deadline_across_redirect_hops() {
    let srv = Server::start(|r| {
        let n: u32 = r.path().trim_start_matches('/').parse().unwrap_or(0);
        let mut steps = vec![Step::Sleep(Duration::from_millis(150))];
        if n < 5 {
            steps.push(write(resp(
                302,
                &[("Location", &format!("/{}", n + 1))],
                b"",
            )));
        } else {
            steps.push(write(resp(200, &[], b"done")));
        }
        steps
    });
    run(async {
        let c = AsyncHttpClient::new();
        // Each hop is well within the limit, the chain is not.
        let t0 = Instant::now();
        let e = c
            .fetch(HttpRequest::new(&srv.url("/0")).request_timeout(Duration::from_millis(500)))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Timeout(TimeoutPhase::Request));
        assert!(
            t0.elapsed() < Duration::from_millis(800),
            "{:?}",
            t0.elapsed()
        );
        let r = c
            .fetch(HttpRequest::new(&srv.url("/0")).request_timeout(Duration::from_secs(10)))
            .await
            .unwrap();
        assert_eq!(r.body, b"done");
        assert!(r.request_time >= Duration::from_millis(850));
    });
}

#[test]
fn e06_zero_means_no_limit() {
    let srv = Server::start(|_| late(Duration::from_millis(100), resp(200, &[], b"z")));
    run(async {
        let r = AsyncHttpClient::new()
            .fetch(
                HttpRequest::new(&srv.url("/"))
                    .request_timeout(Duration::ZERO)
                    .connect_timeout(Duration::ZERO),
            )
            .await
            .unwrap();
        assert_eq!(r.body, b"z");
    });
}

#[test]
fn idle_timeout_between_bytes() {
    let srv = Server::start(|r| match r.path() {
        "/trickle" => {
            let mut steps = vec![write(
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n".to_vec(),
            )];
            for _ in 0..5 {
                steps.push(Step::Sleep(Duration::from_millis(60)));
                steps.push(write(b"x".to_vec()));
            }
            steps
        }
        _ => vec![
            write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nxx".to_vec()),
            Step::Sleep(Duration::from_millis(1500)),
            write(b"xxx".to_vec()),
        ],
    });
    run(async {
        let c = AsyncHttpClient::new();
        // A slow but steady body is fine...
        let r = c
            .fetch(HttpRequest::new(&srv.url("/trickle")).idle_timeout(Duration::from_millis(400)))
            .await
            .unwrap();
        assert_eq!(r.body, b"xxxxx");
        // ...a stall is not.
        let t0 = Instant::now();
        let e = c
            .fetch(HttpRequest::new(&srv.url("/stall")).idle_timeout(Duration::from_millis(300)))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Timeout(TimeoutPhase::Idle), "{e}");
        assert!(t0.elapsed() < Duration::from_millis(1300));
    });
}

struct Hang;
impl squall::net::dns::Resolver for Hang {
    fn resolve(
        &self,
        _host: &str,
        _port: u16,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>>>> {
        Box::pin(std::future::pending())
    }
}

#[test]
fn q12_e05_hanging_resolver_cut_off_by_connect_timeout() {
    run(async {
        let c = AsyncHttpClient::builder().resolver(Hang).build();
        let t0 = Instant::now();
        let e = c
            .fetch(
                HttpRequest::new("http://hangs.invalid/")
                    .connect_timeout(Duration::from_millis(200)),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Timeout(TimeoutPhase::Resolve));
        assert_eq!(e.to_string(), "Timeout while resolving hangs.invalid");
        assert!(t0.elapsed() < Duration::from_millis(1500));
        // The request deadline names the phase too.
        let e = c
            .fetch(
                HttpRequest::new("http://hangs.invalid/")
                    .connect_timeout(Duration::ZERO)
                    .request_timeout(Duration::from_millis(200)),
            )
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), "Timeout while resolving hangs.invalid");
    });
}

#[test]
fn dns_failure_names_the_host() {
    struct Fail;
    impl squall::net::dns::Resolver for Fail {
        fn resolve(
            &self,
            _h: &str,
            _p: u16,
        ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>>>> {
            Box::pin(async { Err(std::io::Error::other("no such host")) })
        }
    }
    run(async {
        let e = AsyncHttpClient::builder()
            .resolver(Fail)
            .build()
            .fetch("http://nx.invalid/")
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Dns);
        assert!(e.to_string().contains("nx.invalid"), "{e}");
        assert_eq!(e.code(), 599);
    });
}

#[test]
fn e05_connect_timeout_names_the_addresses() {
    let hole = blackhole(Ipv4Addr::LOCALHOST.into());
    let addr = hole.addr;
    run(async {
        let t0 = Instant::now();
        let e = AsyncHttpClient::new()
            .fetch(
                HttpRequest::new(&format!("http://{addr}/"))
                    .connect_timeout(Duration::from_millis(300)),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Timeout(TimeoutPhase::Connect), "{e}");
        assert_eq!(e.to_string(), format!("Timeout while connecting to {addr}"));
        assert!(t0.elapsed() < Duration::from_millis(2000));
    });
}

#[test]
fn r32_r34_expect_100_continue() {
    // The test server answers 100 Continue by itself.
    let srv = Server::start(|r| ok(&r.body));
    run(async {
        let c = AsyncHttpClient::new();
        let r = c
            .fetch(
                HttpRequest::new(&srv.url("/"))
                    .method("POST")
                    .body("after 100")
                    .expect_100_continue(true),
            )
            .await
            .unwrap();
        assert_eq!(r.body, b"after 100");
        assert_eq!(srv.last().header("Expect"), Some("100-continue"));
    });
    // a server that ignores Expect gets the body after about a second.
    let (addr, _) = raw_server(|mut s, _| {
        let Some(head) = read_head(&mut s) else {
            return;
        };
        assert!(String::from_utf8_lossy(&head).contains("Expect: 100-continue"));
        let mut body = [0u8; 4];
        use std::io::Read;
        s.read_exact(&mut body).unwrap();
        s.write_all(&resp(200, &[], &body)).unwrap();
    });
    run(async {
        let t0 = Instant::now();
        let r = AsyncHttpClient::new()
            .fetch(
                HttpRequest::new(&format!("http://{addr}/"))
                    .method("PUT")
                    .body("late")
                    .expect_100_continue(true),
            )
            .await
            .unwrap();
        assert_eq!(r.body, b"late");
        let took = t0.elapsed();
        assert!(
            took >= Duration::from_millis(700) && took < Duration::from_secs(5),
            "{took:?}"
        );
    });
}

#[test]
fn r33_final_status_instead_of_100_is_the_answer() {
    let extra = std::sync::Arc::new(std::sync::Mutex::new(None::<Vec<u8>>));
    let seen = extra.clone();
    let (addr, _) = raw_server(move |mut s, _| {
        if read_head(&mut s).is_none() {
            return;
        }
        s.write_all(&resp(403, &[], b"no")).unwrap();
        // Whatever comes next must not be the body: the client should close instead.
        s.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut buf = [0u8; 64];
        use std::io::Read;
        let n = s.read(&mut buf).unwrap_or(0);
        *seen.lock().unwrap() = Some(buf[..n].to_vec());
    });
    run(async {
        let c = AsyncHttpClient::new();
        let r = c
            .fetch(
                HttpRequest::new(&format!("http://{addr}/"))
                    .method("POST")
                    .body("secret body")
                    .expect_100_continue(true)
                    .raise_error(false),
            )
            .await
            .unwrap();
        assert_eq!(r.code, 403);
        assert_eq!(r.body, b"no");
        // That connection owes a body: it is not reused.
        assert_eq!(c.pool_counts(), (0, 0));
    });
    let t0 = Instant::now();
    while extra.lock().unwrap().is_none() && t0.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        extra.lock().unwrap().as_deref(),
        Some(&b""[..]),
        "the body was sent after a final response"
    );
}

#[test]
fn q15_happy_eyeballs_falls_back_from_a_black_hole() {
    // The first address never completes the handshake; the second answers. The fetch must
    // succeed well before the connect timeout, after the ~250 ms attempt delay.
    let hole = blackhole(Ipv4Addr::LOCALHOST.into());
    let srv = Server::start(|_| ok(b"second address"));
    run(async {
        let c = AsyncHttpClient::builder()
            .resolver(FixedResolver(vec![hole.addr, srv.addr]))
            .build();
        let t0 = Instant::now();
        let r = c
            .fetch(HttpRequest::new("http://two.invalid/").connect_timeout(Duration::from_secs(10)))
            .await
            .unwrap();
        assert_eq!(r.body, b"second address");
        let took = t0.elapsed();
        assert!(
            took >= Duration::from_millis(200) && took < Duration::from_secs(5),
            "{took:?}"
        );
    });
}

#[test]
fn q15_happy_eyeballs_ipv6_black_hole_then_ipv4() {
    if !ipv6_loopback_works() {
        eprintln!("skipped: ::1 cannot be bound here");
        return;
    }
    let hole = blackhole(Ipv6Addr::LOCALHOST.into());
    let srv = Server::start(|_| ok(b"v4"));
    run(async {
        // No keep-alive: each fetch connects anew.
        let c = AsyncHttpClient::builder()
            .resolver(FixedResolver(vec![hole.addr, srv.addr]))
            .pool_idle_timeout(Duration::ZERO)
            .build();
        let t0 = Instant::now();
        let r = c.fetch("http://dual.invalid/").await.unwrap();
        assert_eq!(r.body, b"v4");
        assert!(t0.elapsed() < Duration::from_secs(5));
        // allow_ipv6(false): the IPv6 address is not even tried.
        let t0 = Instant::now();
        let r = c
            .fetch(HttpRequest::new("http://dual.invalid/").allow_ipv6(false))
            .await
            .unwrap();
        assert_eq!(r.body, b"v4");
        assert!(
            t0.elapsed() < Duration::from_millis(200),
            "{:?}",
            t0.elapsed()
        );
    });
    drop(hole);
}

#[test]
fn expectation_failed_417_repeats_without_expect() {
    let (addr, conns) = raw_server(|mut s, _| {
        let Some(head) = read_head(&mut s) else {
            return;
        };
        let head = String::from_utf8_lossy(&head).to_string();
        if head.contains("Expect: 100-continue") {
            let _ = s.write_all(&resp(417, &[], b""));
            return;
        }
        let mut body = [0u8; 5];
        use std::io::Read;
        s.read_exact(&mut body).unwrap();
        s.write_all(&resp(200, &[], &body)).unwrap();
    });
    run(async {
        let r = AsyncHttpClient::new()
            .fetch(
                HttpRequest::new(&format!("http://{addr}/"))
                    .method("POST")
                    .body("again")
                    .expect_100_continue(true),
            )
            .await
            .unwrap();
        assert_eq!(r.code, 200);
        assert_eq!(r.body, b"again");
        assert_eq!(r.num_redirects(), 0);
    });
    assert_eq!(conns.load(std::sync::atomic::Ordering::SeqCst), 2);
}

// E-15: a failure without a response still reports where the time went.
#[test]
fn a_timeout_without_a_response_has_request_time_and_time_info() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    // Accepts and never answers.
    let _keep = std::thread::spawn(move || {
        let conns: Vec<_> = l.incoming().take(1).collect();
        std::thread::sleep(Duration::from_secs(5));
        drop(conns);
    });
    run(async {
        let e = AsyncHttpClient::new()
            .fetch(
                HttpRequest::new(&format!("http://127.0.0.1:{port}/"))
                    .request_timeout(Duration::from_millis(200)),
            )
            .await
            .unwrap_err();
        assert!(e.is_timeout(), "{e}");
        assert!(e.response().is_none());
        let rt = e.request_time().expect("request_time");
        assert!(
            rt >= Duration::from_millis(200) && rt < Duration::from_secs(5),
            "{rt:?}"
        );
        let t = e.time_info().expect("time_info");
        assert!(t.total >= Duration::from_millis(200) && t.total < Duration::from_secs(5));
        assert!(t.connect <= t.total && t.dns <= t.total && t.queue <= t.total);
    });
}

#[test]
fn a_refused_connection_has_time_info_and_a_status_error_has_the_responses() {
    let port = closed_port();
    let srv = Server::start(|_| vec![write(resp(500, &[], b"bad"))]);
    run(async {
        let c = AsyncHttpClient::new();
        let e = c
            .fetch(format!("http://127.0.0.1:{port}/"))
            .await
            .unwrap_err();
        assert!(e.response().is_none());
        let t = e.time_info().expect("time_info on a refused connection");
        assert!(t.total <= e.request_time().unwrap() + Duration::from_secs(1));
        let e = c.fetch(srv.url("/")).await.unwrap_err();
        let r = e.response().expect("a status error has its response");
        assert_eq!(e.time_info(), Some(r.time_info));
        assert_eq!(e.request_time(), Some(r.request_time));
    });
}
