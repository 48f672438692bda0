//! Network conditions the connect tests need on loopback: an address whose connects hang (a
//! listener whose accept queue is full), and a resolver that answers every name with fixed
//! addresses (so a test decides the order happy eyeballs tries them in).

use std::future::Future;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::pin::Pin;
use std::time::Duration;

use socket2::{Domain, Socket, Type};

/// Whether `::1` can be bound here (some containers have no IPv6 loopback).
pub fn ipv6_loopback_works() -> bool {
    TcpListener::bind("[::1]:0").is_ok()
}

/// A listener that completes no more handshakes: its accept queue (backlog 0) is full, so the
/// kernel drops further SYNs and a connect to it hangs. Keep the value alive while testing.
pub struct Blackhole {
    pub addr: SocketAddr,
    _listener: Socket,
    _fillers: Vec<std::net::TcpStream>,
}

/// A [`Blackhole`] on `ip` (a loopback address); the queue is filled until a connect to it
/// times out, so the hole is proven, not assumed.
pub fn blackhole(ip: IpAddr) -> Blackhole {
    let listener = Socket::new(
        Domain::for_address(SocketAddr::new(ip, 0)),
        Type::STREAM,
        None,
    )
    .unwrap();
    listener.bind(&SocketAddr::new(ip, 0).into()).unwrap();
    listener.listen(0).unwrap();
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..64 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
            Ok(s) => fillers.push(s),
            Err(_) => {
                return Blackhole {
                    addr,
                    _listener: listener,
                    _fillers: fillers,
                };
            }
        }
    }
    panic!("could not fill the accept queue of a backlog-0 listener");
}

/// A resolver that answers every name with these addresses, in this order.
pub struct FixedResolver(pub Vec<SocketAddr>);

impl squall::net::dns::Resolver for FixedResolver {
    fn resolve(
        &self,
        _host: &str,
        _port: u16,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>>>> {
        let addrs = self.0.clone();
        Box::pin(async move { Ok(addrs) })
    }
}
