//! Open file descriptors, counted under /proc/self/fd. A process-wide figure, so this file
//! is its own test binary and holds a single test (no parallel test can disturb the count).

mod support;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use squall::ioloop::{IoLoop, TcpListener, TcpStream, sleep, spawn};
use support::proc::open_fd_count;

#[test]
fn dropping_pending_tasks_and_closing_loops_closes_their_sockets() {
    let server = std::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).unwrap();
    let addr = server.local_addr().unwrap();
    let lp = IoLoop::new();
    // Warm up whatever the loop allocates once.
    lp.run_sync(sleep(Duration::from_millis(1)));
    let before = open_fd_count();

    // 1. Cancel tasks blocked on reads: their sockets close.
    let accepted = lp.run_sync(async {
        let mut handles = Vec::new();
        for _ in 0..10 {
            handles.push(spawn(async move {
                let s = TcpStream::connect(addr).await.unwrap();
                let mut buf = [0u8; 16];
                let _ = s.read(&mut buf).await; // never answered
            }));
        }
        // Let the connects complete (the kernel's backlog accepts them for us).
        sleep(Duration::from_millis(50)).await;
        let mut accepted = Vec::new();
        for _ in 0..10 {
            accepted.push(server.accept().unwrap().0);
        }
        sleep(Duration::from_millis(20)).await;
        assert!(
            open_fd_count() >= before + 20,
            "sockets are open while pending"
        );
        for h in &handles {
            h.cancel();
        }
        accepted
    });
    drop(accepted);
    assert_eq!(lp.stats().sockets, 0);
    assert_eq!(
        open_fd_count(),
        before,
        "cancelled tasks closed their sockets"
    );

    // 2. A run_sync_timeout that gives up drops its future and the socket in it.
    let r = lp.run_sync_timeout(
        async {
            let s = TcpStream::connect(addr).await.unwrap();
            let mut buf = [0u8; 16];
            let _ = s.read(&mut buf).await;
        },
        Duration::from_millis(50),
    );
    assert!(r.is_err());
    let (s, _) = server.accept().unwrap();
    drop(s);
    assert_eq!(
        open_fd_count(),
        before,
        "timed-out future closed its socket"
    );

    // 3. Closing a loop drops detached tasks (and their sockets) and frees the poller.
    let lp2 = IoLoop::new();
    lp2.run_sync(async {
        let l = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).unwrap();
        drop(spawn(async move {
            let _ = l.accept().await;
        }));
        drop(spawn(async move {
            let s = TcpStream::connect(addr).await.unwrap();
            let mut buf = [0u8; 16];
            let _ = s.read(&mut buf).await;
        }));
        sleep(Duration::from_millis(20)).await;
    });
    let (s, _) = server.accept().unwrap();
    drop(s);
    assert!(open_fd_count() > before);
    lp2.close();
    drop(lp2);
    assert_eq!(
        open_fd_count(),
        before,
        "close() freed tasks, sockets and the poller"
    );

    // 4. Many loops made and dropped leak nothing.
    for _ in 0..50 {
        let l = IoLoop::new();
        l.run_sync(sleep(Duration::from_millis(0)));
        drop(l);
    }
    assert_eq!(
        open_fd_count(),
        before,
        "dropped loops freed their epoll and eventfd"
    );
}
