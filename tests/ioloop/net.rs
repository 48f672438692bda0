//! Sockets on the loop, over loopback only: TCP echo in both directions, connect errors,
//! readiness that arrives while nobody waits, UDP.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use squall::ioloop::{IoLoop, TcpListener, TcpStream, UdpSocket, sleep, spawn, timeout};

fn any_port() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, 0))
}

/// A deterministic pseudo-random payload.
fn payload(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

#[test]
fn tcp_echo_10_mib_both_directions_through_4_kib_buffers() {
    const LEN: usize = 10 * 1024 * 1024;
    let lp = IoLoop::new();
    let data = payload(LEN, 7);
    let expect = data.clone();
    let got = lp
        .run_sync_timeout(
            async move {
                let listener = TcpListener::bind(any_port()).unwrap();
                let addr = listener.local_addr().unwrap();
                // Echo server: reads and writes back through a 4 KiB buffer.
                let server = spawn(async move {
                    let (s, _) = listener.accept().await.unwrap();
                    let mut buf = [0u8; 4096];
                    let mut total = 0;
                    loop {
                        let n = s.read(&mut buf).await.unwrap();
                        if n == 0 {
                            break;
                        }
                        s.write_all(&buf[..n]).await.unwrap();
                        total += n;
                    }
                    s.shutdown(Shutdown::Write).unwrap();
                    total
                });
                let client = Rc::new(TcpStream::connect(addr).await.unwrap());
                // Writer and reader run concurrently on the same stream (methods take &self).
                let w = client.clone();
                let writer = spawn(async move {
                    for chunk in data.chunks(4096) {
                        w.write_all(chunk).await.unwrap();
                    }
                    w.shutdown(Shutdown::Write).unwrap();
                });
                let mut got = Vec::with_capacity(LEN);
                let mut buf = [0u8; 4096];
                loop {
                    let n = client.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&buf[..n]);
                }
                writer.await.unwrap();
                assert_eq!(server.await.unwrap(), LEN);
                got
            },
            Duration::from_secs(120),
        )
        .expect("echo finished");
    assert_eq!(got.len(), expect.len());
    assert!(got == expect, "echoed bytes differ");
}

#[test]
fn connect_to_closed_port_is_connection_refused() {
    // Bind then drop a listener to find a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind(any_port()).unwrap();
        l.local_addr().unwrap().port()
    };
    let lp = IoLoop::new();
    let r = lp.run_sync_timeout(
        TcpStream::connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port))),
        Duration::from_secs(20),
    );
    let e = r.expect("no timeout").expect_err("nobody listens");
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
    assert_eq!(lp.stats().sockets, 0);
}

#[test]
fn connected_finishes_a_socket2_started_connect() {
    use socket2::{Domain, Protocol, SockAddr, Socket, Type};
    let server = std::net::TcpListener::bind(any_port()).unwrap();
    let addr = server.local_addr().unwrap();
    let t = std::thread::spawn(move || {
        let (mut s, _) = server.accept().unwrap();
        s.write_all(b"hello").unwrap();
    });
    let lp = IoLoop::new();
    let got = lp.run_sync(async move {
        let sock = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap();
        sock.set_nonblocking(true).unwrap();
        sock.bind(&SockAddr::from(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))))
            .unwrap();
        match sock.connect(&SockAddr::from(addr)) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(115) /* EINPROGRESS */ => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => panic!("connect: {e}"),
        }
        let s = TcpStream::connected(sock.into()).await.unwrap();
        assert_eq!(s.peer_addr().unwrap(), addr);
        s.set_nodelay(true).unwrap();
        let mut out = Vec::new();
        let mut buf = [0u8; 16];
        loop {
            let n = s.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    });
    t.join().unwrap();
    assert_eq!(got, b"hello");
}

#[test]
fn connected_reports_refusal_of_a_socket2_started_connect() {
    use socket2::{Domain, SockAddr, Socket, Type};
    let port = {
        let l = std::net::TcpListener::bind(any_port()).unwrap();
        l.local_addr().unwrap().port()
    };
    let lp = IoLoop::new();
    let e = lp
        .run_sync(async move {
            let sock = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
            sock.set_nonblocking(true).unwrap();
            let _ = sock.connect(&SockAddr::from(SocketAddr::from((
                Ipv4Addr::LOCALHOST,
                port,
            ))));
            TcpStream::connected(sock.into()).await
        })
        .expect_err("refused");
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
}

#[test]
fn readiness_that_arrives_while_nobody_waits_is_remembered() {
    // Edge-triggered: the peer writes while our task is busy elsewhere (sleeping); the one
    // edge must not be lost, or the later read would hang.
    let server = std::net::TcpListener::bind(any_port()).unwrap();
    let addr = server.local_addr().unwrap();
    let t = std::thread::spawn(move || {
        let (mut s, _) = server.accept().unwrap();
        s.write_all(b"early bytes").unwrap();
        let mut b = [0u8; 1];
        let _ = s.read(&mut b); // wait for our close
    });
    let lp = IoLoop::new();
    let got = lp
        .run_sync_timeout(
            async move {
                let s = TcpStream::connect(addr).await.unwrap();
                // First read drains nothing yet (or everything); make sure the flag is cleared
                // by a WouldBlock before the data lands.
                let mut buf = [0u8; 64];
                let mut got = Vec::new();
                match s.try_read(&mut buf) {
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(e) => assert_eq!(e.kind(), ErrorKind::WouldBlock),
                }
                // Let the loop process the readable event with no waiter.
                sleep(Duration::from_millis(50)).await;
                while got.len() < 11 {
                    let n = s.read(&mut buf).await.unwrap();
                    assert!(n > 0);
                    got.extend_from_slice(&buf[..n]);
                }
                got
            },
            Duration::from_secs(10),
        )
        .expect("no lost wakeup");
    assert_eq!(got, b"early bytes");
    t.join().unwrap();
}

#[test]
fn try_read_would_block_then_eof_after_peer_closes() {
    let server = std::net::TcpListener::bind(any_port()).unwrap();
    let addr = server.local_addr().unwrap();
    let (close_tx, close_rx) = std::sync::mpsc::channel::<()>();
    let t = std::thread::spawn(move || {
        let (s, _) = server.accept().unwrap();
        close_rx.recv().unwrap();
        drop(s);
    });
    let lp = IoLoop::new();
    lp.run_sync(async move {
        let s = TcpStream::connect(addr).await.unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(
            s.try_read(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        close_tx.send(()).unwrap();
        // The idle stream sees the close: read returns 0, and try_read too.
        assert_eq!(s.read(&mut buf).await.unwrap(), 0);
        assert_eq!(s.try_read(&mut buf).unwrap(), 0);
    });
    t.join().unwrap();
}

#[test]
fn eof_after_a_short_read_is_not_lost() {
    // The peer sends a few bytes and closes at once: one event carries both "readable" and
    // "read closed". A short read clears the readable flag; the sticky closed flag must
    // still let the next read see end-of-stream instead of waiting for an edge that never
    // comes.
    let server = std::net::TcpListener::bind(any_port()).unwrap();
    let addr = server.local_addr().unwrap();
    let t = std::thread::spawn(move || {
        let (mut s, _) = server.accept().unwrap();
        s.write_all(b"abc").unwrap();
    });
    let lp = IoLoop::new();
    let r = lp.run_sync_timeout(
        async move {
            let s = TcpStream::connect(addr).await.unwrap();
            sleep(Duration::from_millis(50)).await; // data and FIN both arrive
            let mut buf = [0u8; 64];
            let n = s.read(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"abc");
            s.read(&mut buf).await.unwrap()
        },
        Duration::from_secs(10),
    );
    assert_eq!(r, Ok(0), "end of stream seen after the short read");
    t.join().unwrap();
}

#[test]
fn listener_made_before_run_accepts_many_clients() {
    let lp = IoLoop::new();
    // Bound outside the loop: registration happens on first poll, on the running loop.
    let listener = TcpListener::bind(any_port()).unwrap();
    let addr = listener.local_addr().unwrap();
    let sum = lp.run_sync(async move {
        let acceptor = spawn(async move {
            let mut sum = 0u32;
            for _ in 0..20 {
                let (s, peer) = listener.accept().await.unwrap();
                assert_eq!(peer.ip(), Ipv4Addr::LOCALHOST);
                let mut b = [0u8; 1];
                assert_eq!(s.read(&mut b).await.unwrap(), 1);
                sum += u32::from(b[0]);
            }
            sum
        });
        let mut clients = Vec::new();
        for i in 0..20u8 {
            clients.push(spawn(async move {
                let c = TcpStream::connect(addr).await.unwrap();
                c.write_all(&[i]).await.unwrap();
                c
            }));
        }
        let mut keep = Vec::new();
        for c in clients {
            keep.push(c.await.unwrap());
        }
        acceptor.await.unwrap()
    });
    assert_eq!(sum, (0..20).sum::<u32>());
    assert_eq!(lp.stats().sockets, 0, "dropped sockets are deregistered");
}

#[test]
fn write_vectored_and_from_std() {
    let server = std::net::TcpListener::bind(any_port()).unwrap();
    let addr = server.local_addr().unwrap();
    let t = std::thread::spawn(move || {
        let (mut s, _) = server.accept().unwrap();
        let mut all = Vec::new();
        s.read_to_end(&mut all).unwrap();
        all
    });
    let std_stream = std::net::TcpStream::connect(addr).unwrap();
    let lp = IoLoop::new();
    lp.run_sync(async move {
        let s = TcpStream::from_std(std_stream).unwrap();
        let parts = [
            std::io::IoSlice::new(b"GET / HTTP/1.1\r\n"),
            std::io::IoSlice::new(b"Host: x\r\n\r\n"),
        ];
        let n = std::future::poll_fn(|cx| s.poll_write_vectored(cx, &parts))
            .await
            .unwrap();
        assert_eq!(n, 27);
        assert!(s.local_addr().unwrap().ip().is_loopback());
    });
    assert_eq!(t.join().unwrap(), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
}

#[test]
fn a_pending_read_is_cancelled_cleanly_by_timeout() {
    let server = std::net::TcpListener::bind(any_port()).unwrap();
    let addr = server.local_addr().unwrap();
    let t = std::thread::spawn(move || {
        let (s, _) = server.accept().unwrap();
        std::thread::sleep(Duration::from_millis(200));
        drop(s);
    });
    let lp = IoLoop::new();
    lp.run_sync(async move {
        let s = TcpStream::connect(addr).await.unwrap();
        let mut buf = [0u8; 8];
        assert!(
            timeout(Duration::from_millis(20), s.read(&mut buf))
                .await
                .is_err()
        );
        // The stream still works after the abandoned read.
        assert_eq!(s.read(&mut buf).await.unwrap(), 0);
    });
    t.join().unwrap();
}

#[test]
fn udp_send_recv_and_connected_mode() {
    let lp = IoLoop::new();
    lp.run_sync_timeout(
        async {
            let a = UdpSocket::bind(any_port()).unwrap();
            let b = UdpSocket::bind(any_port()).unwrap();
            let (aa, ba) = (a.local_addr().unwrap(), b.local_addr().unwrap());
            let echo = spawn(async move {
                let mut buf = [0u8; 512];
                for _ in 0..3 {
                    let (n, from) = b.recv_from(&mut buf).await.unwrap();
                    b.send_to(&buf[..n], from).await.unwrap();
                }
            });
            a.connect(ba).unwrap();
            assert_eq!(a.peer_addr().unwrap(), ba);
            for msg in [&b"one"[..], b"two", b"three"] {
                assert_eq!(a.send(msg).await.unwrap(), msg.len());
                let mut buf = [0u8; 512];
                let n = a.recv(&mut buf).await.unwrap();
                assert_eq!(&buf[..n], msg);
            }
            echo.await.unwrap();
            assert_ne!(aa, ba);
        },
        Duration::from_secs(20),
    )
    .expect("udp round trips");
}

#[test]
fn l17_a_source_dropped_from_another_handler_loses_its_pending_event() {
    // Two connections become readable in the same iteration. Whichever task runs first
    // cancels the other one (dropping its stream): the other task must never run, the
    // stream is deregistered, and nothing is woken for it later.
    use std::cell::RefCell;
    let server = std::net::TcpListener::bind(any_port()).unwrap();
    let addr = server.local_addr().unwrap();
    let lp = IoLoop::new();
    let ran = Rc::new(RefCell::new(Vec::new()));
    let (ran2, lp2) = (ran.clone(), lp.clone());
    lp.run_sync_timeout(
        async move {
            let a = TcpStream::connect(addr).await.unwrap();
            let b = TcpStream::connect(addr).await.unwrap();
            let (mut sa, _) = server.accept().unwrap();
            let (mut sb, _) = server.accept().unwrap();
            let handles: Rc<RefCell<Vec<squall::ioloop::JoinHandle<()>>>> =
                Rc::new(RefCell::new(Vec::new()));
            for (me, name, s) in [(0usize, "a", a), (1, "b", b)] {
                let (ran, hs) = (ran2.clone(), handles.clone());
                let h = lp2.spawn(async move {
                    let mut buf = [0u8; 8];
                    // Clear the optimistic readiness first, so the read really waits.
                    while s.try_read(&mut buf).is_ok() {}
                    s.readable().await.unwrap();
                    ran.borrow_mut().push(name);
                    hs.borrow()[1 - me].cancel(); // the other one

                    drop(s);
                });
                handles.borrow_mut().push(h);
            }
            sleep(Duration::from_millis(20)).await; // both are waiting
            sa.write_all(b"x").unwrap();
            sb.write_all(b"y").unwrap();
            sleep(Duration::from_millis(50)).await;
        },
        Duration::from_secs(10),
    )
    .unwrap();
    assert_eq!(
        ran.borrow().len(),
        1,
        "only one handler ran: {:?}",
        ran.borrow()
    );
    assert_eq!(lp.stats().sockets, 0);
    assert_eq!(lp.stats().tasks, 0);
}

#[test]
fn is_read_ready_is_a_syscall_free_stale_check() {
    let server = std::net::TcpListener::bind(any_port()).unwrap();
    let addr = server.local_addr().unwrap();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let t = std::thread::spawn(move || {
        let (mut s, _) = server.accept().unwrap();
        s.write_all(b"response").unwrap();
        go_rx.recv().unwrap();
        drop(s); // the peer closes the idle connection
    });
    let lp = IoLoop::new();
    lp.run_sync_timeout(
        async move {
            let s = TcpStream::connect(addr).await.unwrap();
            let mut buf = [0u8; 64];
            let n = s.read(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"response");
            // A short read drained the socket: nothing new has arrived.
            assert!(!s.is_read_ready());
            sleep(Duration::from_millis(10)).await;
            assert!(!s.is_read_ready(), "idle and healthy");
            go_tx.send(()).unwrap();
            // After the loop has seen the FIN, the flag says "look before reuse".
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while !s.is_read_ready() && std::time::Instant::now() < deadline {
                sleep(Duration::from_millis(2)).await;
            }
            assert!(s.is_read_ready());
            assert_eq!(s.try_read(&mut buf).unwrap(), 0, "end of stream");
        },
        Duration::from_secs(20),
    )
    .unwrap();
    t.join().unwrap();
}
