//! Opening a connection for a hop: hostname mapping, DNS through the pluggable resolver
//! (skipped for IP literals), happy-eyeballs TCP connect from `net`, then TLS for https.
//!
//! `connect_timeout` bounds the three together (DNS + TCP + TLS), and the request's overall
//! deadline bounds them too; whichever comes first ends the attempt with an error that names
//! the phase: `Timeout while resolving <host>`, `Timeout while connecting to <addrs>`,
//! `Timeout during TLS handshake with <addr>`. A timed-out attempt is dropped, which closes
//! its socket mid-handshake (E-06).

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use super::ClientState;
use super::conn::Conn;
use super::deadline::{FetchClock, Phase, connect_timeout, earliest, resolve_timeout, until};
use super::error::{self, HttpError};
use super::pool::Permit;
use super::prepare::{HopProxy, Prepared};
use crate::http::headers::HttpHeaders;
use crate::http::request::{BodyFraming, write_head};
use crate::http::response::{Event, Limits, ResponseParser};
use crate::ioloop::TcpStream;
use crate::net::Stream;
use crate::net::connect::{ConnectOptions, connect, connect_streaming};
use crate::net::dns::{ResolveStream, next_batch};

/// RFC 8305's recommended delay before the next connection attempt.
pub(crate) const ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// Opens a connection for the current hop of `req`.
pub(crate) async fn connection(
    inner: &ClientState,
    req: &Prepared,
    ctx: &FetchClock,
    permit: Permit,
) -> Result<Box<Conn>, HttpError> {
    // Through a proxy, the TCP connection goes to the proxy; TLS (and SNI, and the
    // certificate check) is still with the origin, inside a CONNECT tunnel.
    let (host, port) = match &req.hop.proxy {
        Some(p) => (p.host.as_str(), p.port),
        None => (req.hop.url.host(), req.hop.url.port()),
    };
    let via_proxy = req.hop.proxy.is_some();
    let t0 = Instant::now();
    let deadline = earliest(req.opts.connect_timeout.map(|d| t0 + d), ctx.deadline);

    let (target, target_port) = inner.map_host(host, port);
    // For a name, the resolver hands addresses over as it finds them: the first usable
    // batch ends the resolve phase, later ones (say, `A` after `AAAA`) join the connect race.
    let mut more: Option<ResolveStream> = None;
    let mut addrs: Vec<SocketAddr> = match target.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, target_port)],
        Err(_) => {
            ctx.set_phase(Phase::Resolve(host.to_string()));
            let mut stream = inner.resolver.resolve_stream(&target, target_port);
            let allow_ipv6 = req.opts.allow_ipv6;
            let first_usable = async {
                loop {
                    match next_batch(&mut *stream).await {
                        Some(Ok(mut batch)) => {
                            if !allow_ipv6 {
                                batch.retain(|a| a.is_ipv4());
                            }
                            if !batch.is_empty() {
                                return Ok(batch);
                            }
                        }
                        Some(Err(e)) => return Err(e),
                        None => return Ok(Vec::new()),
                    }
                }
            };
            let res = match deadline {
                None => first_usable.await,
                Some(at) => match crate::ioloop::timeout_at(at, first_usable).await {
                    Ok(r) => r,
                    Err(_) => {
                        // Name what the resolver was doing (the servers it asked), if it says.
                        let doing = stream.describe();
                        let doing = if doing.contains("tried") {
                            doing.as_str()
                        } else {
                            ""
                        };
                        return Err(resolve_timeout(host, doing));
                    }
                },
            };
            let t1 = Instant::now();
            ctx.timing.borrow_mut().dns += t1 - t0;
            let batch = res.map_err(|e| error::resolve_error(e, host, via_proxy))?;
            more = Some(stream);
            batch
        }
    };
    if !req.opts.allow_ipv6 {
        addrs.retain(|a| a.is_ipv4());
    }
    if addrs.is_empty() {
        let ip_literal = target.parse::<IpAddr>().is_ok();
        return Err(error::no_addresses(
            host,
            via_proxy,
            ip_literal,
            req.opts.allow_ipv6,
        ));
    }
    let t1 = Instant::now();
    let opts = ConnectOptions {
        bind: req.opts.bind,
        allow_ipv6: req.opts.allow_ipv6,
        attempt_delay: ATTEMPT_DELAY,
    };
    ctx.set_phase(Phase::Connect(addrs.clone()));
    let attempt = async {
        match more {
            Some(more) => connect_streaming(&addrs, more, &opts).await,
            None => connect(&addrs, &opts).await,
        }
    };
    let mut result = until(deadline, attempt, || connect_timeout(&addrs)).await?;
    // Out of file descriptors: idle keep-alive sockets are the ones we can spare. (The retry
    // races the addresses at hand; a resolver's later answers were consumed by the first try.)
    if let Err(e) = &result
        && e.out_of_descriptors()
        && inner.pool.evict_idle() > 0
    {
        result = until(deadline, connect(&addrs, &opts), || connect_timeout(&addrs)).await?;
    }
    // The error names every address tried, and the host name when there was one.
    let named = !(req.hop.url.is_ip_host() && target == host);
    let (tcp, peer) = result.map_err(|e| error::connect_error(e, host, port, via_proxy, named))?;
    let _ = tcp.set_nodelay(true);
    let t2 = Instant::now();
    ctx.timing.borrow_mut().connect += t2 - t1;

    let stream = if req.hop.url.scheme() == "https" {
        if let Some(proxy) = &req.hop.proxy {
            tunnel(&tcp, req, proxy, deadline).await?;
        }
        ctx.set_phase(Phase::Tls(peer));
        let tls = super::handshake::handshake(tcp, req.hop.url.host(), peer, req, deadline).await?;
        ctx.timing.borrow_mut().tls += Instant::now() - t2;
        tls
    } else {
        Stream::Plain(tcp)
    };
    Ok(inner.pool.conn(stream, peer, permit))
}

/// Opens a `CONNECT` tunnel through `proxy` to the origin of `req` (RFC 9110 §9.3.6): a 2xx
/// makes the connection a byte pipe to the origin; anything else is a tunnel error
/// (`ErrorKind::Proxy(Tunnel)`, curl's 56) that names the proxy and says what it answered.
/// Only this request carries `Proxy-Authorization`; what goes through the tunnel never does.
async fn tunnel(
    tcp: &TcpStream,
    req: &Prepared,
    proxy: &HopProxy,
    deadline: Option<Instant>,
) -> Result<(), HttpError> {
    let authority = req.hop.url.authority_form();
    let mut headers = HttpHeaders::new();
    if let Some(auth) = &proxy.auth {
        headers.add("Proxy-Authorization", auth);
    }
    if let Some(ua) = req.hop.headers.get("User-Agent") {
        headers.add("User-Agent", ua);
    }
    let mut head = Vec::with_capacity(128);
    write_head(
        "CONNECT",
        &authority,
        &authority,
        &headers,
        BodyFraming::None,
        &mut head,
    )
    .map_err(error::request_error)?;
    let proxy_name = error::host_port(&proxy.host, proxy.port);
    let fail_with = |status: Option<u16>, why: String| {
        error::tunnel_error(&proxy_name, &authority, status, &why)
    };
    let fail = |why: String| fail_with(None, why);
    let exchange = async {
        tcp.write_all(&head)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let mut parser = ResponseParser::new("CONNECT", Limits::default());
        // Read byte-exact up to the end of the head: what follows belongs to TLS.
        let mut buf = [0u8; 1];
        let mut pending: Vec<u8> = Vec::new();
        loop {
            let n = tcp.read(&mut buf).await.map_err(|e| fail(e.to_string()))?;
            if n == 0 {
                return Err(fail("the proxy closed the connection".to_string()));
            }
            pending.push(buf[0]);
            loop {
                let (used, ev) = parser.parse(&pending).map_err(|e| fail(e.to_string()))?;
                let verdict = match ev {
                    Some(Event::Head(h)) if (200..300).contains(&h.code) => Some(Ok(())),
                    Some(Event::Head(h)) => Some(Err(fail_with(
                        Some(h.code),
                        format!("the proxy answered HTTP {} {}", h.code, h.reason),
                    ))),
                    Some(_) => None,
                    None if used == 0 => break,
                    None => None,
                };
                pending.drain(..used);
                if let Some(v) = verdict {
                    return v;
                }
            }
        }
    };
    until(deadline, exchange, || {
        Phase::Tunnel(proxy_name.to_string()).timeout_error()
    })
    .await?
}
