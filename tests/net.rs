//! End-to-end tests of the `net` layer on loopback: the threaded resolver, happy eyeballs,
//! source binding (`network_interface`), `allow_ipv6` and the `Stream` staleness probe.
//!
//! Behaviour items: Q-11 (hostname mapping), Q-15 (happy eyeballs), R-09 (bracketed IPv6),
//! R-35 (network_interface must be an IP literal), R-36 (allow_ipv6=false), E-09 (refused
//! connects name the address and the OS error). Every server is started here, on 127.0.0.1
//! or ::1; no packet leaves the machine.

mod support;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use squall::ioloop;
use squall::net::connect::{ConnectError, ConnectOptions, connect, parse_network_interface};
use squall::net::dns::{HostnameMapping, MappedResolver, Resolver, ThreadedResolver};
use squall::net::{Stream, resolve_and_connect};
use support::net::{blackhole, ipv6_loopback_works};
use support::run_on_new_loop as run;

/// A generous bound for things that should take milliseconds.
const GENEROUS: Duration = Duration::from_secs(5);

fn v4(port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)
}

fn v6(port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port)
}

/// A port nothing listens on (bound, then released).
fn closed_port(ip: IpAddr) -> SocketAddr {
    let l = TcpListener::bind(SocketAddr::new(ip, 0)).unwrap();
    l.local_addr().unwrap()
}

/// A std-thread server that accepts one connection, reports the peer address, then echoes
/// what it reads until the client closes.
fn echo_server(ip: IpAddr) -> (SocketAddr, mpsc::Receiver<SocketAddr>) {
    let l = TcpListener::bind(SocketAddr::new(ip, 0)).unwrap();
    let addr = l.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        if let Ok((mut s, peer)) = l.accept() {
            let _ = tx.send(peer);
            let mut buf = [0u8; 4096];
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 || s.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    });
    (addr, rx)
}

/// The error of a connect that must fail (`TcpStream` need not be `Debug`).
fn failed<T>(r: Result<T, ConnectError>) -> ConnectError {
    match r {
        Ok(_) => panic!("connect succeeded where it must fail"),
        Err(e) => e,
    }
}

// ---------------------------------------------------------------------------------------------
// DNS

#[test]
fn literals_and_localhost_resolve_without_a_loop_or_thread() {
    // Ready at the first poll, with no loop running: no thread or loop was involved.
    let r = ThreadedResolver::new();
    let cases: [(&str, u16, SocketAddr); 4] = [
        ("127.0.0.1", 80, v4(80)),
        ("::1", 443, v6(443)),
        ("[::1]", 8080, v6(8080)), // brackets are removed
        ("localhost", 8888, v4(8888)),
    ];
    for (host, port, first) in cases {
        let mut fut = r.resolve(host, port);
        let polled = fut.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        let Poll::Ready(Ok(addrs)) = polled else {
            panic!("{host} was not answered at once");
        };
        assert_eq!(addrs[0], first, "{host}");
    }
}

#[test]
fn lookup_through_the_thread_pool_wakes_the_loop() {
    // "127.1" is not an IpAddr literal for Rust, so it goes to getaddrinfo on the pool, which
    // reads it as the IPv4 number 127.0.0.1 without any query on the network.
    let addrs = run(async { ThreadedResolver::new().resolve("127.1", 4242).await }).unwrap();
    assert_eq!(addrs, vec![v4(4242)]);
}

#[test]
fn many_concurrent_lookups_all_complete() {
    let results = run(async {
        let handles: Vec<_> = (0..32u16)
            .map(|i| ioloop::spawn(ThreadedResolver::new().resolve("127.1", 1000 + i)))
            .collect();
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.unwrap().unwrap());
        }
        out
    });
    for (i, addrs) in results.iter().enumerate() {
        assert_eq!(addrs, &vec![v4(1000 + i as u16)]);
    }
    assert!(squall::net::dns::resolver_threads() <= squall::net::dns::MAX_RESOLVER_THREADS);
}

#[test]
fn resolver_failure_names_the_host() {
    // A NUL byte makes the lookup fail before anything is sent, so this stays offline; the
    // error still travels through the pool and the oneshot.
    let err = run(async {
        ThreadedResolver::new()
            .resolve("bad\0host.invalid", 80)
            .await
    })
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("failed to resolve bad\0host.invalid: "),
        "{msg}"
    );
    let err = run(async { ThreadedResolver::new().resolve("", 80).await }).unwrap_err();
    assert!(err.to_string().contains("empty host name"), "{err}");
}

#[test]
fn dropped_resolve_future_does_not_hang_the_loop() {
    let start = Instant::now();
    let value = run(async {
        let r = ThreadedResolver::new();
        // Dropped before it is ever polled.
        drop(r.resolve("127.1", 1));
        // Polled (so the lookup is queued or running), then dropped by a zero timeout.
        for i in 0..8u16 {
            let _ = ioloop::timeout(Duration::ZERO, r.resolve("127.1", i)).await;
        }
        // The loop still works and a later lookup still answers.
        ioloop::sleep(Duration::from_millis(20)).await;
        r.resolve("127.1", 7).await.unwrap()
    });
    assert_eq!(value, vec![v4(7)]);
    assert!(start.elapsed() < GENEROUS);
}

/// A resolver that never answers: the caller's timeout must cut it off.
struct HangingResolver;

impl Resolver for HangingResolver {
    fn resolve(&self, _host: &str, _port: u16) -> squall::net::dns::ResolveFuture {
        Box::pin(std::future::pending())
    }
}

#[test]
fn hanging_injected_resolver_is_cut_off_by_a_timeout() {
    let start = Instant::now();
    let res = run(async {
        let r: &dyn Resolver = &HangingResolver;
        ioloop::timeout(Duration::from_millis(100), r.resolve("example.com", 80)).await
    });
    assert!(res.is_err(), "the hanging resolver answered");
    assert!(start.elapsed() < GENEROUS);
}

#[test]
fn hostname_mapping_redirects_resolution() {
    // a host, or a host and port, is sent elsewhere.
    let mut m = HostnameMapping::new();
    m.insert("www.example.com", "127.0.0.1");
    m.insert("foo.example.com:8000", "127.0.0.1:9000");
    m.insert("v6.example.com", "[::1]");
    let r = MappedResolver::new(m, std::rc::Rc::new(ThreadedResolver::new()));
    let (a, b, c, d) = run(async {
        (
            r.resolve("www.example.com", 8080).await.unwrap(),
            r.resolve("foo.example.com", 8000).await.unwrap(),
            r.resolve("v6.example.com", 81).await.unwrap(),
            r.resolve("127.0.0.1", 5).await.unwrap(),
        )
    });
    assert_eq!(a, vec![v4(8080)]);
    assert_eq!(b, vec![v4(9000)]);
    assert_eq!(c, vec![v6(81)]);
    assert_eq!(d, vec![v4(5)]);
}

// ---------------------------------------------------------------------------------------------
// connect

#[test]
fn connects_and_reports_the_winning_address() {
    let (addr, peers) = echo_server(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let (peer, echoed) = run(async move {
        let (stream, won) = connect(&[addr], &ConnectOptions::default()).await.unwrap();
        assert_eq!(won, addr);
        assert_eq!(stream.peer_addr().unwrap(), addr);
        let s = Stream::from(stream);
        s.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            let n = s.read(&mut buf[got..]).await.unwrap();
            assert!(n > 0, "server closed early");
            got += n;
        }
        (s.local_addr().unwrap(), buf)
    });
    assert_eq!(&echoed, b"ping");
    assert_eq!(peers.recv_timeout(GENEROUS).unwrap(), peer);
}

#[test]
fn happy_eyeballs_falls_back_from_a_blackholed_address() {
    // the first address never completes its handshake; the second starts after the
    // attempt delay and wins.
    let hole = blackhole(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let (good, _peers) = echo_server(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let start = Instant::now();
    let won = run(async move {
        let (_s, won) = connect(&[hole.addr, good], &ConnectOptions::default())
            .await
            .unwrap();
        drop(hole);
        won
    });
    let took = start.elapsed();
    assert_eq!(won, good);
    // It waited for the attempt delay (250 ms) before trying the second address ...
    assert!(took >= Duration::from_millis(200), "took {took:?}");
    // ... and not much more.
    assert!(took < GENEROUS, "took {took:?}");
}

#[test]
fn happy_eyeballs_interleaves_families_past_a_blackholed_ipv6_address() {
    if !ipv6_loopback_works() {
        eprintln!("skipped: ::1 cannot be bound here");
        return;
    }
    // Two dead IPv6 addresses first, one good IPv4 last: interleaving makes the IPv4 address
    // the second attempt, so it wins after one attempt delay.
    let hole_a = blackhole(IpAddr::V6(Ipv6Addr::LOCALHOST));
    let hole_b = blackhole(IpAddr::V6(Ipv6Addr::LOCALHOST));
    let (good, _peers) = echo_server(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let opts = ConnectOptions {
        attempt_delay: Duration::from_millis(300),
        ..ConnectOptions::default()
    };
    let start = Instant::now();
    let won = run(async move {
        let (_s, won) = connect(&[hole_a.addr, hole_b.addr, good], &opts)
            .await
            .unwrap();
        won
    });
    let took = start.elapsed();
    assert_eq!(won, good);
    assert!(took >= Duration::from_millis(250), "took {took:?}");
    // Sequential order would need two delays (600 ms) before IPv4; interleaving needs one.
    // (The upper bound stays generous: timing is asserted loosely.)
    assert!(took < GENEROUS, "took {took:?}");
}

#[test]
fn a_failed_attempt_starts_the_next_at_once() {
    let refused = closed_port(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let (good, _peers) = echo_server(IpAddr::V4(Ipv4Addr::LOCALHOST));
    // With a 20 s delay the only way to finish quickly is to move on when the first fails.
    let opts = ConnectOptions {
        attempt_delay: Duration::from_secs(20),
        ..ConnectOptions::default()
    };
    let start = Instant::now();
    let won = run(async move { connect(&[refused, good], &opts).await.unwrap().1 });
    assert_eq!(won, good);
    assert!(start.elapsed() < GENEROUS);
}

#[test]
fn a_failure_while_another_attempt_hangs_starts_the_next_at_once() {
    // bh starts at 0; refused starts after one delay and fails at once, which must start
    // `good` right away, not one more delay later (RFC 8305 §5).
    let hole = blackhole(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let refused = closed_port(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let (good, _peers) = echo_server(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let delay = Duration::from_millis(1500);
    let opts = ConnectOptions {
        attempt_delay: delay,
        ..ConnectOptions::default()
    };
    let start = Instant::now();
    let won = run(async move { connect(&[hole.addr, refused, good], &opts).await.unwrap().1 });
    let took = start.elapsed();
    assert_eq!(won, good);
    assert!(took >= delay - Duration::from_millis(100), "took {took:?}");
    // Waiting for a second delay would take 3 s.
    assert!(
        took < delay * 2 - Duration::from_millis(400),
        "took {took:?}"
    );
}

#[test]
fn all_refused_lists_every_address() {
    // E-09: the OS error text, per address.
    let mut addrs = vec![
        closed_port(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        closed_port(IpAddr::V4(Ipv4Addr::LOCALHOST)),
    ];
    if ipv6_loopback_works() {
        addrs.push(closed_port(IpAddr::V6(Ipv6Addr::LOCALHOST)));
    }
    let list = addrs.clone();
    let err = run(async move { failed(connect(&list, &ConnectOptions::default()).await) });
    assert_eq!(err.attempts.len(), addrs.len());
    let msg = err.to_string();
    assert!(msg.starts_with("could not connect to "), "{msg}");
    for (a, (b, e)) in addrs.iter().zip(&err.attempts) {
        assert_eq!(a, b, "attempts keep the given order");
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
        assert!(msg.contains(&format!("{a}: Connection refused")), "{msg}");
    }
}

#[test]
fn no_addresses_is_an_error_not_a_hang() {
    let err = run(async { failed(connect(&[], &ConnectOptions::default()).await) });
    assert_eq!(err.to_string(), "could not connect: no addresses to try");
}

#[test]
fn network_interface_binds_the_source_address() {
    let (server, peers) = echo_server(IpAddr::V4(Ipv4Addr::LOCALHOST));
    // 127.0.0.2 proves the bind took effect (the default source would be 127.0.0.1); fall
    // back to 127.0.0.1 where only that loopback address exists.
    let src: IpAddr = if std::net::TcpListener::bind("127.0.0.2:0").is_ok() {
        "127.0.0.2".parse().unwrap()
    } else {
        "127.0.0.1".parse().unwrap()
    };
    let opts = ConnectOptions {
        bind: Some(parse_network_interface(&src.to_string()).unwrap()),
        ..ConnectOptions::default()
    };
    let local = run(async move {
        let (s, _) = connect(&[server], &opts).await.unwrap();
        s.local_addr().unwrap()
    });
    assert_eq!(local.ip(), src);
    let seen = peers.recv_timeout(GENEROUS).unwrap();
    assert_eq!(seen.ip(), src, "the server saw the bound source address");
    assert_eq!(seen, local);
}

#[test]
fn network_interface_of_the_other_family_skips_the_address() {
    if !ipv6_loopback_works() {
        eprintln!("skipped: ::1 cannot be bound here");
        return;
    }
    let (server, _peers) = echo_server(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let opts = ConnectOptions {
        bind: Some("::1".parse().unwrap()),
        ..ConnectOptions::default()
    };
    let err = run(async move { failed(connect(&[server], &opts).await) });
    assert_eq!(
        err.to_string(),
        format!(
            "could not connect to {server}: skipped: network_interface ::1 is IPv6 and cannot \
             reach an IPv4 address"
        )
    );
}

#[test]
fn invalid_network_interface_text() {
    // R-35, Tornado's exact message.
    let err = parse_network_interface("nope").unwrap_err();
    assert_eq!(
        err.to_string(),
        "Unrecognized IPv4 or IPv6 address for network_interface, got 'nope'"
    );
}

#[test]
fn allow_ipv6_false_refuses_an_ipv6_only_list() {
    // nothing is attempted, and the error says why.
    let opts = ConnectOptions {
        allow_ipv6: false,
        ..ConnectOptions::default()
    };
    let err = run(async move { failed(connect(&[v6(1)], &opts).await) });
    assert_eq!(
        err.to_string(),
        "could not connect to [::1]:1: skipped: IPv6 is disabled (allow_ipv6 is false)"
    );
}

#[test]
fn allow_ipv6_false_still_uses_ipv4() {
    let (good, _peers) = echo_server(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let opts = ConnectOptions {
        allow_ipv6: false,
        ..ConnectOptions::default()
    };
    let won = run(async move { connect(&[v6(1), good], &opts).await.unwrap().1 });
    assert_eq!(won, good);
}

#[test]
fn resolve_and_connect_over_ipv6_brackets() {
    // "[::1]" is resolved without brackets and connected to.
    if !ipv6_loopback_works() {
        eprintln!("skipped: ::1 cannot be bound here");
        return;
    }
    let (server, _peers) = echo_server(IpAddr::V6(Ipv6Addr::LOCALHOST));
    let won = run(async move {
        let r = ThreadedResolver::new();
        resolve_and_connect(&r, "[::1]", server.port(), &ConnectOptions::default())
            .await
            .unwrap()
            .1
    });
    assert_eq!(won, server);
}

// ---------------------------------------------------------------------------------------------
// Stream

#[test]
fn stream_try_read_tells_idle_from_closed_and_from_unexpected_bytes() {
    let l = TcpListener::bind(v4(0)).unwrap();
    let addr = l.local_addr().unwrap();
    let (go_tx, go_rx) = mpsc::channel::<&'static str>();
    let server = std::thread::spawn(move || {
        // Connection 1: send stray bytes on request. Connection 2: close on request.
        let (mut a, _) = l.accept().unwrap();
        let (b, _) = l.accept().unwrap();
        assert_eq!(go_rx.recv().unwrap(), "stray");
        a.write_all(b"X").unwrap();
        assert_eq!(go_rx.recv().unwrap(), "close");
        drop(b);
        // Keep `a` open until the client is done.
        let _ = go_rx.recv();
    });
    run(async move {
        let opts = ConnectOptions::default();
        let a = Stream::from(connect(&[addr], &opts).await.unwrap().0);
        let b = Stream::from(connect(&[addr], &opts).await.unwrap().0);
        assert!(!a.is_tls());
        let mut buf = [0u8; 8];
        assert_eq!(
            a.try_read(&mut buf).unwrap_err().kind(),
            std::io::ErrorKind::WouldBlock
        );
        assert!(b.is_reusable());

        go_tx.send("stray").unwrap();
        let deadline = Instant::now() + GENEROUS;
        loop {
            match a.try_read(&mut buf) {
                Ok(n) => {
                    assert_eq!(&buf[..n], b"X");
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("{e}"),
            }
            assert!(Instant::now() < deadline, "stray byte never seen");
            ioloop::sleep(Duration::from_millis(5)).await;
        }

        go_tx.send("close").unwrap();
        let deadline = Instant::now() + GENEROUS;
        while b.is_reusable() {
            assert!(Instant::now() < deadline, "peer close never seen");
            ioloop::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(b.try_read(&mut buf).unwrap(), 0);
        go_tx.send("done").unwrap();
    });
    server.join().unwrap();
}

#[test]
fn stream_write_all_vectored_sends_every_buffer_in_order() {
    // A sink server collects everything until the client shuts down its write side.
    let l = TcpListener::bind(v4(0)).unwrap();
    let addr = l.local_addr().unwrap();
    let sink = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut all = Vec::new();
        s.read_to_end(&mut all).unwrap();
        all
    });
    let big = vec![b'z'; 3_000_000];
    let expected: Vec<u8> = [&b"head "[..], &big[..], &b" tail"[..]].concat();
    run(async move {
        let s = Stream::from(
            connect(&[addr], &ConnectOptions::default())
                .await
                .unwrap()
                .0,
        );
        let bufs: [&[u8]; 5] = [b"head ", b"", &big, b"", b" tail"];
        s.write_all_vectored(&bufs).await.unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
    });
    let got = sink.join().unwrap();
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "bytes differ");
}
