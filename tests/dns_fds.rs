//! Cancelling stub-resolver lookups leaves nothing behind: no file descriptor, no timer, no
//! registered socket. A process-wide figure (open descriptors), so it lives in a test binary
//! of its own with a single test. Linux only (`/proc/self/fd`); loopback only.

mod support;

use std::net::Ipv4Addr;
use std::time::Duration;

use squall::ioloop::{self, IoLoop};
use squall::net::dns::{Resolver, StubConfig, StubResolver};
use support::dns::{DnsServer, Out, answer, truncated};
use support::proc::open_fds;

#[test]
fn cancelled_lookups_close_their_sockets_and_free_their_timers() {
    let Some(_) = open_fds() else {
        eprintln!("skipped: no /proc/self/fd here");
        return;
    };
    let lp = IoLoop::new();
    // Warm up whatever the loop allocates once (its poll, its waker).
    lp.run_sync(async { ioloop::sleep(Duration::from_millis(1)).await });
    let base_stats = lp.stats();
    // Counted before the servers start: they run in this process, and are stopped (their
    // sockets and accepted connections closed) before counting again.
    let before = open_fds().unwrap();

    // One server that never answers (lookups wait on UDP), one that truncates every UDP reply
    // and is slow over TCP (lookups wait on a TCP connection).
    let quiet = DnsServer::start(|_| vec![]);
    let slow_tcp = DnsServer::start(|q| {
        if q.tcp {
            vec![
                Out::Sleep(Duration::from_millis(300)),
                Out::Reply(answer(q, &[Ipv4Addr::LOCALHOST], &[])),
            ]
        } else {
            vec![Out::Reply(truncated(q))]
        }
    });
    let stub = |srv: &DnsServer| {
        StubResolver::new(StubConfig {
            hosts_file: None,
            cache_size: 0,
            ..StubConfig::with_servers(vec![srv.addr])
        })
    };
    let (quiet_r, slow_r) = (stub(&quiet), stub(&slow_tcp));

    lp.run_sync(async {
        for i in 0..50 {
            let r = ioloop::timeout(
                Duration::from_millis(20),
                quiet_r.resolve(&format!("n{i}.test"), 80),
            )
            .await;
            assert!(r.is_err(), "the quiet server never answers");
        }
        for i in 0..8 {
            let r = ioloop::timeout(
                Duration::from_millis(100),
                slow_r.resolve(&format!("t{i}.test"), 80),
            )
            .await;
            assert!(r.is_err(), "the TCP answer comes too late");
        }
    });

    let stats = lp.stats();
    assert_eq!(stats.timers, base_stats.timers, "timers left behind");
    assert_eq!(stats.sockets, base_stats.sockets, "sockets left registered");
    // The lookups really got as far as asking (so the test cancelled real work).
    assert!(quiet.seen().len() >= 50);
    assert!(slow_tcp.seen().iter().any(|q| q.tcp));
    drop((quiet, slow_tcp));
    let after = open_fds().unwrap();
    assert_eq!(after, before, "descriptors leaked by cancelled lookups");
}
