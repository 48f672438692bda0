//! A small DNS server for the stub resolver's tests and benchmark, on 127.0.0.1 ephemeral
//! ports (UDP and TCP on the same port number), so no test depends on the machine's DNS.
//!
//! Each query is handed to the test's handler, which says what to do: reply, reply from
//! another socket (a spoof: right bytes, wrong source), pause, or nothing at all (silence).
//! Queries are recorded so a test can check what the resolver asked, and in which order.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use squall::net::dns::message::{self, Rcode, ReplyBuilder, TYPE_A, TYPE_AAAA};

/// One query the server received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub id: u16,
    pub name: String,
    pub qtype: u16,
    pub tcp: bool,
    pub from: SocketAddr,
}

/// What the server does for a query, in order.
pub enum Out {
    /// Send these bytes back (over the transport the query came by).
    Reply(Vec<u8>),
    /// Send these bytes over UDP from another socket (a different source port).
    Spoof(Vec<u8>),
    /// Over TCP: send the framed reply one byte per write (1 ms apart, `TCP_NODELAY`), so
    /// the reader gets it in pieces. Over UDP: like `Reply`.
    Trickle(Vec<u8>),
    /// Wait.
    Sleep(Duration),
}

type Handler = dyn Fn(&Seen) -> Vec<Out> + Send + Sync;

/// A running test DNS server; stops when dropped.
pub struct DnsServer {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl DnsServer {
    pub fn start(handler: impl Fn(&Seen) -> Vec<Out> + Send + Sync + 'static) -> DnsServer {
        // UDP and TCP on one port number: take a UDP port, then try its TCP twin.
        let (udp, tcp) = loop {
            let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
            if let Ok(tcp) = TcpListener::bind(udp.local_addr().unwrap()) {
                break (udp, tcp);
            }
        };
        DnsServer::serve(udp, tcp, handler)
    }

    /// On a given address (the benchmark's port-53 mode), if it is free.
    pub fn start_on(
        addr: SocketAddr,
        handler: impl Fn(&Seen) -> Vec<Out> + Send + Sync + 'static,
    ) -> std::io::Result<DnsServer> {
        let udp = UdpSocket::bind(addr)?;
        let tcp = TcpListener::bind(addr)?;
        Ok(DnsServer::serve(udp, tcp, handler))
    }

    fn serve(
        udp: UdpSocket,
        tcp: TcpListener,
        handler: impl Fn(&Seen) -> Vec<Out> + Send + Sync + 'static,
    ) -> DnsServer {
        let addr = udp.local_addr().unwrap();
        udp.set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        tcp.set_nonblocking(true).unwrap();
        let handler: Arc<Handler> = Arc::new(handler);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let spoofer = UdpSocket::bind("127.0.0.1:0").unwrap();

        let udp_thread = {
            let (handler, seen, stop) = (handler.clone(), seen.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 2048];
                while !stop.load(Ordering::Acquire) {
                    let Ok((n, from)) = udp.recv_from(&mut buf) else {
                        continue;
                    };
                    let Some(q) = decode(&buf[..n], false, from) else {
                        continue;
                    };
                    seen.lock().unwrap().push(q.clone());
                    for out in handler(&q) {
                        match out {
                            Out::Reply(b) | Out::Trickle(b) => {
                                let _ = udp.send_to(&b, from);
                            }
                            Out::Spoof(b) => {
                                let _ = spoofer.send_to(&b, from);
                            }
                            Out::Sleep(d) => std::thread::sleep(d),
                        }
                    }
                }
            })
        };
        let tcp_thread = {
            let (handler, seen, stop) = (handler, seen.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Acquire) {
                    let Ok((mut s, from)) = tcp.accept() else {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    };
                    let _ = s.set_nonblocking(false);
                    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                    let mut len = [0u8; 2];
                    if s.read_exact(&mut len).is_err() {
                        continue;
                    }
                    let mut msg = vec![0u8; u16::from_be_bytes(len) as usize];
                    if s.read_exact(&mut msg).is_err() {
                        continue;
                    }
                    let Some(q) = decode(&msg, true, from) else {
                        continue;
                    };
                    seen.lock().unwrap().push(q.clone());
                    for out in handler(&q) {
                        match out {
                            Out::Reply(b) | Out::Spoof(b) => {
                                let mut framed = (b.len() as u16).to_be_bytes().to_vec();
                                framed.extend_from_slice(&b);
                                let _ = s.write_all(&framed);
                            }
                            Out::Trickle(b) => {
                                let _ = s.set_nodelay(true);
                                let mut framed = (b.len() as u16).to_be_bytes().to_vec();
                                framed.extend_from_slice(&b);
                                for byte in framed {
                                    let _ = s.write_all(&[byte]);
                                    std::thread::sleep(Duration::from_millis(1));
                                }
                            }
                            Out::Sleep(d) => std::thread::sleep(d),
                        }
                    }
                }
            })
        };
        DnsServer {
            addr,
            seen,
            stop,
            threads: vec![udp_thread, tcp_thread],
        }
    }

    /// The queries received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn decode(msg: &[u8], tcp: bool, from: SocketAddr) -> Option<Seen> {
    let m = message::parse(msg).ok()?;
    let q = m.questions.first()?;
    Some(Seen {
        id: m.id,
        name: q.name.clone(),
        qtype: q.qtype,
        tcp,
        from,
    })
}

/// A reply to `q` with `rcode` and no records.
pub fn empty(q: &Seen, rcode: Rcode) -> Vec<u8> {
    ReplyBuilder::new(q.id, &q.name, q.qtype, rcode)
        .unwrap()
        .finish()
}

/// An empty reply to `q` with the TC bit: "too big for UDP, ask over TCP".
pub fn truncated(q: &Seen) -> Vec<u8> {
    ReplyBuilder::new(q.id, &q.name, q.qtype, Rcode::NoError)
        .unwrap()
        .truncated()
        .finish()
}

/// A reply to `q` with the addresses of its type among `v4` and `v6` (TTL 60).
pub fn answer(q: &Seen, v4: &[Ipv4Addr], v6: &[Ipv6Addr]) -> Vec<u8> {
    let mut b = ReplyBuilder::new(q.id, &q.name, q.qtype, Rcode::NoError).unwrap();
    if q.qtype == TYPE_A {
        for ip in v4 {
            b = b.a(&q.name, 60, *ip).unwrap();
        }
    }
    if q.qtype == TYPE_AAAA {
        for ip in v6 {
            b = b.aaaa(&q.name, 60, *ip).unwrap();
        }
    }
    b.finish()
}
