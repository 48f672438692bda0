//! Resolver benchmark: the DNS stub resolver on the loop against the threaded `getaddrinfo`
//! resolver, and what a lookup adds to a cold fetch. A report, not criterion: CPU time per
//! lookup needs the threads counted, which criterion does not do.
//!
//! What is measured (sequential lookups on one loop, so latency = 1 / rate):
//! - `stub, UDP to local server`: the stub resolver asking the DNS server of
//!   `tests/support/dns.rs` on 127.0.0.1 (cache off, so every lookup is an A+AAAA round trip);
//! - `stub, cached`: the same with the cache on (the steady state for a busy client);
//! - `stub, /etc/hosts` and `threaded, /etc/hosts`: a name from /etc/hosts, answered without
//!   any network (getaddrinfo's cheapest case).
//! - `threaded, UDP to local server`: only in port-53 mode (below). glibc's `getaddrinfo`
//!   reads its name servers from /etc/resolv.conf and always uses port 53, so to point it at
//!   the test server, run the bench in a private mount namespace with its own resolv.conf:
//!
//!   ```sh
//!   echo "nameserver 127.0.0.1" > /tmp/bench-resolv.conf
//!   sudo unshare -m sh -c 'mount --bind /tmp/bench-resolv.conf /etc/resolv.conf &&
//!       SQUALL_BENCH_PORT53=1 cargo bench --bench dns'
//!   ```
//!
//!   With `SQUALL_BENCH_PORT53=1` the test server listens on 127.0.0.1:53 and both resolvers
//!   ask it the same question (the machine's own resolv.conf is untouched).
//! - cold fetch: a new client (new connection) per fetch to a local HTTP server, by IP
//!   literal and by name through each resolver; the difference is what resolving adds.
//!
//! Measured (2 Dec 2026, 2 shared cores under gVisor, port-53 mode, 5000 lookups per row,
//! one run; the test servers run in the same process on the other core):
//!
//! | workload                         | lookups/s | us/lookup | us CPU/lookup |
//! |----------------------------------|----------:|----------:|--------------:|
//! | stub, UDP to local server        |    57 600 |      17.4 |          10.2 |
//! | threaded, UDP to local server    |    19 800 |      50.5 |          37.1 |
//! | stub, cached                     | 1 705 000 |       0.6 |   (= wall)    |
//! | stub, /etc/hosts                 | 3 073 000 |       0.3 |   (= wall)    |
//! | threaded, /etc/hosts             |   109 000 |       9.2 |           9.2 |
//!
//! Cold fetch (new client and connection each time, median of 300): by IP literal 29.8 us;
//! by name via the stub (UDP, no cache) 45.7 us, so +15.9 us; via the threaded resolver over
//! UDP 62.1 us, +32.2 us; via the threaded resolver from /etc/hosts 42.5 us, +12.7 us. The
//! stub's round trip costs about a third of getaddrinfo's in CPU (no thread hand-off, no
//! per-lookup re-reading of nsswitch.conf, resolv.conf and hosts); a cached answer costs
//! nothing measurable next to a connect.
//!
//! CPU is the loop thread plus the threaded resolver's workers (`squall-resolver`), from
//! `/proc/self/task/*/schedstat` (Linux); the DNS and HTTP servers' threads are not counted.
//! Run: `cargo bench --bench dns` (`SQUALL_BENCH_LOOKUPS=N`, default 5000).

#[path = "../tests/support/dns.rs"]
#[allow(dead_code)] // the bench uses only part of the tests' DNS server
mod dns_util;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::rc::Rc;
use std::time::{Duration, Instant};

use dns_util::{DnsServer, Out, answer};
use squall::net::dns::{Resolver, StubConfig, StubResolver, ThreadedResolver};
use squall::{AsyncHttpClient, IoLoop};

/// CPU time of the loop thread (the main thread) and the resolver pool's threads.
fn cpu() -> Duration {
    let pid = std::process::id().to_string();
    let mut total = Duration::ZERO;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return total;
    };
    for t in tasks.flatten() {
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        if t.file_name().to_string_lossy() != pid && comm.trim() != "squall-resolver" {
            continue;
        }
        if let Some(ns) = std::fs::read_to_string(t.path().join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        {
            total += Duration::from_nanos(ns);
        }
    }
    total
}

/// A name /etc/hosts maps to 127.0.0.1, other than `localhost` (which needs no lookup).
fn hosts_name() -> Option<String> {
    let text = std::fs::read_to_string("/etc/hosts").ok()?;
    text.lines().find_map(|l| {
        let mut w = l.split('#').next()?.split_whitespace();
        if w.next()? != "127.0.0.1" {
            return None;
        }
        w.find(|n| !n.eq_ignore_ascii_case("localhost") && !n.contains(".localhost"))
            .map(str::to_owned)
    })
}

fn lookups(lp: &IoLoop, label: &str, r: &dyn Resolver, name: &str, n: usize) {
    // Warm up (thread pool started, sockets and caches primed).
    for _ in 0..50 {
        lp.run_sync(r.resolve(name, 80)).expect(label);
    }
    let (c0, t0) = (cpu(), Instant::now());
    lp.run_sync(async {
        for _ in 0..n {
            let a = r.resolve(name, 80).await.expect(label);
            std::hint::black_box(a);
        }
    });
    let (wall, used) = (t0.elapsed(), cpu() - c0);
    // Some kernels (gVisor) update schedstat only when a thread is descheduled: a run that
    // never blocks shows no CPU at all. It kept one thread busy, so its CPU is its wall time.
    let cpu_text = if used.is_zero() {
        "(= wall)".to_owned()
    } else {
        format!("{:.1} us", used.as_secs_f64() * 1e6 / n as f64)
    };
    println!(
        "{label:<32} {:>9.0} lookups/s  {:>7.1} us/lookup  {cpu_text:>9} CPU/lookup",
        n as f64 / wall.as_secs_f64(),
        wall.as_secs_f64() * 1e6 / n as f64,
    );
}

/// A keep-alive-less HTTP server answering every connection with a tiny response.
fn http_server() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 2048];
            let mut head = Vec::new();
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    port
}

fn cold_fetches(lp: &IoLoop, label: &str, r: Option<Rc<dyn Resolver>>, url: &str, n: usize) -> f64 {
    let mut times = Vec::with_capacity(n);
    for i in 0..n + 20 {
        let mut b = AsyncHttpClient::builder();
        if let Some(r) = &r {
            b = b.resolver(r.clone());
        }
        let c = b.build();
        let t0 = Instant::now();
        let resp = lp.run_sync(c.fetch(url)).expect(label);
        assert_eq!(resp.body, b"ok");
        if i >= 20 {
            times.push(t0.elapsed());
        }
    }
    times.sort();
    let median = times[n / 2].as_secs_f64() * 1e6;
    println!("{label:<32} median {median:>7.1} us per cold fetch");
    median
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` and `cargo test --benches`: nothing to list
    }
    let n: usize = std::env::var("SQUALL_BENCH_LOOKUPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);
    let lp = IoLoop::new();
    let reply = |q: &dns_util::Seen| vec![Out::Reply(answer(q, &[Ipv4Addr::LOCALHOST], &[]))];
    let port53 = std::env::var_os("SQUALL_BENCH_PORT53").is_some();
    let srv = if port53 {
        DnsServer::start_on(([127, 0, 0, 1], 53).into(), reply).expect("127.0.0.1:53 is free")
    } else {
        DnsServer::start(reply)
    };
    let cfg = StubConfig {
        hosts_file: None,
        cache_size: 0,
        ..StubConfig::with_servers(vec![srv.addr])
    };
    let stub_udp = StubResolver::new(cfg.clone());
    let stub_cached = StubResolver::new(StubConfig {
        cache_size: 1024,
        ..cfg.clone()
    });
    println!(
        "resolver benchmark, {n} sequential lookups each (DNS server {})",
        srv.addr
    );
    lookups(&lp, "stub, UDP to local server", &stub_udp, "bench.test", n);
    lookups(&lp, "stub, cached", &stub_cached, "bench.test", n);
    if port53 {
        lookups(
            &lp,
            "threaded, UDP to local server",
            &ThreadedResolver,
            "bench.test",
            n,
        );
    }
    let hosts = hosts_name();
    if let Some(h) = &hosts {
        let stub_hosts = StubResolver::new(StubConfig {
            hosts_file: Some("/etc/hosts".into()),
            ..cfg.clone()
        });
        lookups(&lp, &format!("stub, /etc/hosts ({h})"), &stub_hosts, h, n);
        lookups(
            &lp,
            &format!("threaded, /etc/hosts ({h})"),
            &ThreadedResolver,
            h,
            n,
        );
    } else {
        println!("(no name for 127.0.0.1 in /etc/hosts besides localhost: threaded rows skipped)");
    }

    let port = http_server();
    let fetches = 300;
    println!("\ncold fetch (new client and connection each time), {fetches} fetches");
    let base = cold_fetches(
        &lp,
        "IP literal",
        None,
        &format!("http://127.0.0.1:{port}/"),
        fetches,
    );
    let stub: Rc<dyn Resolver> = Rc::new(stub_udp.clone());
    let by_stub = cold_fetches(
        &lp,
        "name via stub (UDP, no cache)",
        Some(stub),
        &format!("http://bench.test:{port}/"),
        fetches,
    );
    println!(
        "{:<32} {:>+7.1} us",
        "  added by the stub lookup",
        by_stub - base
    );
    if port53 {
        let threaded: Rc<dyn Resolver> = Rc::new(ThreadedResolver);
        let by_thr = cold_fetches(
            &lp,
            "name via threaded (UDP)",
            Some(threaded),
            &format!("http://bench.test:{port}/"),
            fetches,
        );
        println!(
            "{:<32} {:>+7.1} us",
            "  added by the threaded lookup",
            by_thr - base
        );
    }
    if let Some(h) = &hosts {
        let threaded: Rc<dyn Resolver> = Rc::new(ThreadedResolver);
        let by_thr = cold_fetches(
            &lp,
            "name via threaded (/etc/hosts)",
            Some(threaded),
            &format!("http://{h}:{port}/"),
            fetches,
        );
        println!(
            "{:<32} {:>+7.1} us",
            "  added by the threaded lookup",
            by_thr - base
        );
    }
}
