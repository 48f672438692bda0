//! File descriptors after many happy-eyeballs races: every losing attempt, every attempt cut
//! off by a timeout and every refused attempt closes its socket. A process-wide figure, so it
//! lives in a test binary of its own with a single test. Linux only (`/proc/self/fd`);
//! loopback only.

mod support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::time::Duration;

use squall::ioloop::{self, IoLoop};
use squall::net::connect::{ConnectOptions, connect};
use support::net::blackhole;
use support::proc::{fd_list, open_fds};

#[test]
fn losing_timed_out_and_refused_attempts_close_their_sockets() {
    let Some(_) = open_fds() else {
        eprintln!("skipped: no /proc/self/fd here");
        return;
    };
    const RACES: usize = 100;
    let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);

    // A listener whose full accept queue drops SYNs: attempts to it hang.
    let hole = blackhole(lo);
    let hole_addr = hole.addr;

    // A server that accepts RACES connections and closes each at once.
    // Shared so the listener stays open after the thread ends (it is counted both times).
    let good = std::sync::Arc::new(TcpListener::bind(SocketAddr::new(lo, 0)).unwrap());
    let good_addr = good.local_addr().unwrap();
    let refused = {
        let l = TcpListener::bind(SocketAddr::new(lo, 0)).unwrap();
        l.local_addr().unwrap()
    };

    let lp = IoLoop::new();
    // One warm-up race so the loop's own descriptors (poller, waker) exist before counting.
    let (warm_tx, warm_rx) = std::sync::mpsc::channel();
    let listener = good.clone();
    let server = std::thread::spawn(move || {
        let good = listener;
        drop(good.accept().unwrap());
        warm_tx.send(()).unwrap();
        for _ in 0..RACES {
            drop(good.accept().unwrap());
        }
    });
    let fast = ConnectOptions {
        attempt_delay: Duration::from_millis(5),
        ..ConnectOptions::default()
    };
    lp.run_sync(async {
        let _ = connect(&[good_addr], &fast).await.unwrap();
    });
    warm_rx.recv().unwrap();
    let before = open_fds().unwrap();
    let before_list = fd_list();

    lp.run_sync(async {
        for _ in 0..RACES {
            // The hanging attempt loses to the good one and is dropped.
            let (s, won) = connect(&[hole_addr, refused, good_addr], &fast)
                .await
                .unwrap();
            assert_eq!(won, good_addr);
            drop(s);
            // A race with only a hanging address, cut off by a timeout.
            let cut = ioloop::timeout(Duration::from_millis(2), connect(&[hole_addr], &fast)).await;
            assert!(cut.is_err());
            // Every address refused.
            assert!(connect(&[refused, refused], &fast).await.is_err());
        }
    });
    server.join().unwrap();
    // Let the loop process any deregistration it deferred.
    lp.run_sync(ioloop::sleep(Duration::from_millis(20)));
    let after = open_fds().unwrap();
    assert_eq!(
        after,
        before,
        "descriptors leaked: {before} before, {after} after {RACES} races\nbefore: {before_list:?}\nafter: {:?}",
        fd_list()
    );
    drop((hole, good));
}
