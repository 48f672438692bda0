//! One lookup of the stub resolver, from the name to the addresses (steps 2, 4 and 5 of the
//! [parent module's](super) docs).
//!
//! [`StubResolver`] answers what it can from the files and starts a [`Lookup`] for the rest;
//! this file is that lookup: the candidate names the search list gives ([`candidates`]), the
//! cache, the `A` and `AAAA` queries sent at once over UDP (random IDs, replies believed only
//! when they repeat the question), TCP when a reply is truncated, the next server on failure,
//! and the addresses found in an answer, CNAMEs followed ([`addresses`]).

use std::cell::RefCell;
use std::future::poll_fn;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime};

use super::{MAX_CNAME_CHAIN, Outbox, StubConfig, StubResolver, list};
use crate::ioloop::{self, TcpStream, UdpSocket};
use crate::net::dns::cache::{self, Cached};
use crate::net::dns::message::{self, Message, RData, Rcode, TYPE_A, TYPE_AAAA, TYPE_CNAME};

/// The largest UDP reply read (RFC 1035 says 512 without EDNS; servers sending more are not
/// cut short here).
const UDP_BUF: usize = 4096;

/// A random 16-bit query ID (see the stub module's docs for where the randomness comes from).
fn random_id() -> u16 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    h.write_u128(now.as_nanos());
    h.finish() as u16
}

/// The names to try for `name`, in order (see the module docs, step 2).
pub fn candidates(name: &str, search: &[String], ndots: u8) -> Vec<String> {
    if let Some(abs) = name.strip_suffix('.') {
        return vec![abs.to_owned()];
    }
    let with: Vec<String> = search.iter().map(|s| format!("{name}.{s}")).collect();
    let dots = name.matches('.').count();
    if dots >= ndots as usize {
        std::iter::once(name.to_owned()).chain(with).collect()
    } else {
        with.into_iter()
            .chain(std::iter::once(name.to_owned()))
            .collect()
    }
}

/// The addresses of type `qtype` for `qname` in `msg`, following CNAMEs inside the answer,
/// and the smallest TTL along the way.
pub fn addresses(msg: &Message, qname: &str, qtype: u16) -> io::Result<(Vec<IpAddr>, u32)> {
    let mut name = message::normalise(qname);
    let mut ttl = u32::MAX;
    let mut links = 0;
    while let Some(r) = msg
        .answers
        .iter()
        .find(|r| r.rtype == TYPE_CNAME && r.name == name)
    {
        links += 1;
        if links > MAX_CNAME_CHAIN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("CNAME chain from {qname} longer than {MAX_CNAME_CHAIN} links (or a loop)"),
            ));
        }
        ttl = ttl.min(r.ttl);
        if let RData::Cname(target) = &r.data {
            name = target.clone();
        }
    }
    let mut ips = Vec::new();
    for r in msg
        .answers
        .iter()
        .filter(|r| r.name == name && r.rtype == qtype)
    {
        let ip = match (&r.data, qtype) {
            (RData::A(v4), TYPE_A) => IpAddr::V4(*v4),
            (RData::Aaaa(v6), TYPE_AAAA) => IpAddr::V6(*v6),
            _ => continue,
        };
        ttl = ttl.min(r.ttl);
        if !ips.contains(&ip) {
            ips.push(ip);
        }
    }
    Ok((ips, ttl))
}

/// What one type of one candidate came to.
#[derive(Debug)]
enum Outcome {
    /// Addresses (possibly none: the name exists without this type).
    Found(Vec<IpAddr>),
    /// The name does not exist.
    NxDomain,
}

/// One lookup: its settings, fixed at the start.
pub(super) struct Lookup {
    pub(super) resolver: StubResolver,
    pub(super) name: String,
    pub(super) port: u16,
    pub(super) config: StubConfig,
    pub(super) servers: Vec<SocketAddr>,
    pub(super) out: Rc<RefCell<Outbox>>,
}

/// Why a query to one server did not settle a type.
enum TryFailure {
    /// No believable reply in time.
    Silent,
    /// The server answered with this code (SERVFAIL, REFUSED...) or an unusable message.
    Failed(String),
}

impl Lookup {
    pub(super) async fn run(self) -> io::Result<()> {
        if self.servers.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("cannot resolve {}: no name servers configured", self.name),
            ));
        }
        // The name itself must be a valid DNS name; a search suffix that makes it too long
        // is skipped, as glibc does.
        if let Err(e) = message::encode_name(&self.name, &mut Vec::new()) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, e));
        }
        let tried_names: Vec<String> =
            candidates(&self.name, &self.config.search, self.config.ndots)
                .into_iter()
                .filter(|c| message::encode_name(c, &mut Vec::new()).is_ok())
                .collect();
        let mut last_failure: Option<io::Error> = None;
        let mut nxdomain = false;
        for cand in &tried_names {
            match self.candidate(cand).await {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => nxdomain = true,
                // Servers failing or silent: stop here, as glibc does, rather than ask about
                // the next candidate and maybe get a misleading answer.
                Err(e) => {
                    last_failure = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = last_failure {
            return Err(e);
        }
        let why = if nxdomain {
            "no such name (NXDOMAIN)"
        } else {
            "no address records"
        };
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{why}: {} (tried {})", self.name, tried_names.join(", ")),
        ))
    }

    fn emit(&self, ips: &[IpAddr]) {
        if !ips.is_empty() {
            let batch = ips
                .iter()
                .map(|ip| SocketAddr::new(*ip, self.port))
                .collect();
            self.out.borrow_mut().batches.push_back(batch);
        }
    }

    /// Resolve one candidate name. `Ok(true)`: addresses were found (and emitted);
    /// `Ok(false)`: the name has none; `Err(NotFound)`: NXDOMAIN; other errors: the servers
    /// failed or stayed silent.
    async fn candidate(&self, cand: &str) -> io::Result<bool> {
        let key = message::normalise(cand);
        let mut want: Vec<u16> = Vec::new();
        let mut found_any = false;
        for qtype in [TYPE_AAAA, TYPE_A] {
            let cached = self.resolver.lock().cache.get(&key, qtype, Instant::now());
            match cached {
                Some(Cached::NoSuchName) => return Err(nx()),
                Some(Cached::Addrs(ips)) => {
                    found_any |= !ips.is_empty();
                    self.out.borrow_mut().answered_by = Some("stub resolver, cache".into());
                    self.emit(&ips);
                }
                None => want.push(qtype),
            }
        }
        if want.is_empty() {
            return Ok(found_any);
        }
        let mut failures: Vec<String> = Vec::new();
        for _round in 0..self.config.attempts.max(1) {
            for &server in &self.servers {
                {
                    let mut o = self.out.borrow_mut();
                    if !o.tried.contains(&server) {
                        o.tried.push(server);
                    }
                }
                let results = self.ask(server, cand, &want).await?;
                for (qtype, res) in results {
                    match res {
                        // (An NXDOMAIN after the other family gave addresses contradicts
                        // it; the addresses stand.)
                        Ok(Outcome::NxDomain) if !found_any => return Err(nx()),
                        Ok(Outcome::NxDomain) => want.retain(|&t| t != qtype),
                        Ok(Outcome::Found(ips)) => {
                            found_any |= !ips.is_empty();
                            want.retain(|&t| t != qtype);
                        }
                        Err(TryFailure::Silent) => {
                            failures.push(format!("no reply from {server}"));
                        }
                        Err(TryFailure::Failed(why)) => {
                            failures.push(format!("{server}: {why}"));
                        }
                    }
                }
                if want.is_empty() {
                    return Ok(found_any);
                }
            }
        }
        if found_any {
            // One family answered, the other never did: what we have is the answer.
            return Ok(true);
        }
        failures.dedup();
        let silent = failures.iter().all(|f| f.starts_with("no reply"));
        if silent {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "Timeout while resolving {}: no reply from {} ({} attempts, {} s each)",
                    self.name,
                    list(&self.servers),
                    self.config.attempts.max(1),
                    self.config.timeout.as_secs_f32()
                ),
            ))
        } else {
            Err(io::Error::other(format!(
                "{}: no usable answer ({})",
                self.name,
                failures.join("; ")
            )))
        }
    }

    /// Ask `server` about `cand` for each type of `want`, all at once over one UDP socket;
    /// wait up to `timeout` for the replies. Returns the outcome of each type asked. An error
    /// is local (no socket), not the server's.
    async fn ask(
        &self,
        server: SocketAddr,
        cand: &str,
        want: &[u16],
    ) -> io::Result<Vec<(u16, Result<Outcome, TryFailure>)>> {
        let bind: SocketAddr = if server.is_ipv4() {
            (Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let sock = UdpSocket::bind(bind)?;
        let mut pending: Vec<(u16, u16)> = Vec::new(); // (qtype, id)
        let mut results = Vec::new();
        for &qtype in want {
            let id = random_id();
            let q = message::query(id, cand, qtype)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            match sock.send_to(&q, server).await {
                Ok(_) => pending.push((qtype, id)),
                // Unreachable network and the like: this server cannot be asked.
                Err(e) => results.push((qtype, Err(TryFailure::Failed(e.to_string())))),
            }
        }
        let deadline = Instant::now() + self.config.timeout;
        let mut sleep = Box::pin(ioloop::sleep_until(deadline));
        let mut buf = vec![0u8; UDP_BUF];
        while !pending.is_empty() {
            let got = poll_fn(|cx| {
                if let Poll::Ready(r) = sock.poll_recv_from(cx, &mut buf) {
                    return Poll::Ready(Some(r));
                }
                sleep.as_mut().poll(cx).map(|_| None)
            })
            .await;
            let (n, from) = match got {
                None => break, // timeout
                Some(Ok(r)) => r,
                Some(Err(e)) => {
                    let why = e.to_string();
                    for (qtype, _) in pending.drain(..) {
                        results.push((qtype, Err(TryFailure::Failed(why.clone()))));
                    }
                    break;
                }
            };
            if from != server {
                continue; // not from the server we asked: spoofed or stray
            }
            let Ok(msg) = message::parse(&buf[..n]) else {
                continue; // garbage from the right address: keep waiting for the real reply
            };
            let Some(i) = pending
                .iter()
                .position(|&(qtype, id)| msg.id == id && answers_question(&msg, cand, qtype))
            else {
                continue;
            };
            let (qtype, id) = pending.remove(i);
            let msg = if msg.truncated {
                match self.ask_tcp(server, cand, qtype, id, deadline).await {
                    Ok(m) => m,
                    Err(why) => {
                        results.push((qtype, Err(why)));
                        continue;
                    }
                }
            } else {
                msg
            };
            results.push((qtype, self.settle(server, cand, qtype, &msg)));
        }
        for (qtype, _) in pending {
            results.push((qtype, Err(TryFailure::Silent)));
        }
        Ok(results)
    }

    /// Turn a believable reply into an outcome: cache it, emit its addresses.
    fn settle(
        &self,
        server: SocketAddr,
        cand: &str,
        qtype: u16,
        msg: &Message,
    ) -> Result<Outcome, TryFailure> {
        let key = message::normalise(cand);
        let now = Instant::now();
        match msg.rcode {
            Rcode::NoError => {
                let (ips, ttl) =
                    addresses(msg, cand, qtype).map_err(|e| TryFailure::Failed(e.to_string()))?;
                let ttl = if ips.is_empty() {
                    cache::NEGATIVE_TTL
                } else {
                    Duration::from_secs(ttl as u64)
                };
                self.resolver
                    .lock()
                    .cache
                    .put(&key, qtype, Cached::Addrs(ips.clone()), ttl, now);
                if !ips.is_empty() {
                    self.out.borrow_mut().answered_by =
                        Some(format!("stub resolver, nameserver {server}"));
                }
                self.emit(&ips);
                Ok(Outcome::Found(ips))
            }
            Rcode::NxDomain => {
                let mut sh = self.resolver.lock();
                for t in [TYPE_A, TYPE_AAAA] {
                    sh.cache
                        .put(&key, t, Cached::NoSuchName, cache::NEGATIVE_TTL, now);
                }
                Ok(Outcome::NxDomain)
            }
            other => Err(TryFailure::Failed(other.to_string())),
        }
    }

    /// The query again over TCP (the UDP reply was truncated): 2-byte length prefix, one
    /// message each way (RFC 1035 §4.2.2), bounded by the same deadline.
    async fn ask_tcp(
        &self,
        server: SocketAddr,
        cand: &str,
        qtype: u16,
        id: u16,
        deadline: Instant,
    ) -> Result<Message, TryFailure> {
        let exchange = async {
            let stream = TcpStream::connect(server).await?;
            let q = message::query(id, cand, qtype)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            let mut framed = (q.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&q);
            stream.write_all(&framed).await?;
            let mut len = [0u8; 2];
            read_exact(&stream, &mut len).await?;
            let mut body = vec![0u8; u16::from_be_bytes(len) as usize];
            read_exact(&stream, &mut body).await?;
            Ok::<_, io::Error>(body)
        };
        let body = match ioloop::timeout_at(deadline, exchange).await {
            Err(_) => return Err(TryFailure::Silent),
            Ok(Err(e)) => return Err(TryFailure::Failed(format!("over TCP: {e}"))),
            Ok(Ok(b)) => b,
        };
        let msg =
            message::parse(&body).map_err(|e| TryFailure::Failed(format!("over TCP: {e}")))?;
        if msg.id != id || !answers_question(&msg, cand, qtype) {
            return Err(TryFailure::Failed(
                "over TCP: the reply does not match the query".into(),
            ));
        }
        Ok(msg)
    }
}

fn nx() -> io::Error {
    io::Error::from(io::ErrorKind::NotFound)
}

/// Whether `msg` is a reply to our question `cand`/`qtype` (case-insensitively: some servers
/// echo the question with its case changed).
fn answers_question(msg: &Message, cand: &str, qtype: u16) -> bool {
    msg.response
        && msg.opcode == 0
        && msg.questions.len() == 1
        && msg.questions[0].qtype == qtype
        && msg.questions[0].qclass == message::CLASS_IN
        && msg.questions[0].name == message::normalise(cand)
}

async fn read_exact(s: &TcpStream, mut buf: &mut [u8]) -> io::Result<()> {
    while !buf.is_empty() {
        let n = s.read(buf).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection mid-message",
            ));
        }
        buf = &mut buf[n..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::dns::message::ReplyBuilder;

    #[test]
    fn candidates_follow_ndots_and_search() {
        let search = vec!["corp.example".to_owned(), "lab.example".to_owned()];
        assert_eq!(
            candidates("db", &search, 1),
            vec!["db.corp.example", "db.lab.example", "db"]
        );
        assert_eq!(
            candidates("www.example.com", &search, 1),
            vec![
                "www.example.com",
                "www.example.com.corp.example",
                "www.example.com.lab.example"
            ]
        );
        assert_eq!(
            candidates("a.b", &search, 2),
            vec!["a.b.corp.example", "a.b.lab.example", "a.b"]
        );
        assert_eq!(candidates("abs.example.", &search, 5), vec!["abs.example"]);
        assert_eq!(candidates("db", &[], 1), vec!["db"]);
    }

    #[test]
    fn cname_chains_inside_the_answer() {
        let reply = ReplyBuilder::new(1, "www.test", TYPE_A, Rcode::NoError)
            .unwrap()
            .cname("www.test", 300, "edge.test")
            .unwrap()
            .cname("edge.test", 100, "node.test")
            .unwrap()
            .a("node.test", 200, Ipv4Addr::new(10, 0, 0, 7))
            .unwrap()
            .a("other.test", 1, Ipv4Addr::new(10, 0, 0, 8))
            .unwrap()
            .finish();
        let msg = message::parse(&reply).unwrap();
        let (ips, ttl) = addresses(&msg, "WWW.test.", TYPE_A).unwrap();
        assert_eq!(ips, vec![IpAddr::from([10, 0, 0, 7])]);
        assert_eq!(ttl, 100);
        // The AAAA question over the same records: the chain exists, no address.
        assert!(addresses(&msg, "www.test", TYPE_AAAA).unwrap().0.is_empty());
    }

    #[test]
    fn cname_loops_and_long_chains_are_errors() {
        let mut b = ReplyBuilder::new(1, "l.test", TYPE_A, Rcode::NoError)
            .unwrap()
            .cname("l.test", 1, "m.test")
            .unwrap()
            .cname("m.test", 1, "l.test")
            .unwrap();
        let msg = message::parse(&b.clone().finish()).unwrap();
        let err = addresses(&msg, "l.test", TYPE_A).unwrap_err();
        assert!(err.to_string().contains("longer than 8 links"), "{err}");
        b = ReplyBuilder::new(1, "c0.test", TYPE_A, Rcode::NoError).unwrap();
        for i in 0..MAX_CNAME_CHAIN {
            b = b
                .cname(&format!("c{i}.test"), 1, &format!("c{}.test", i + 1))
                .unwrap();
        }
        let eight = b
            .clone()
            .a(&format!("c{MAX_CNAME_CHAIN}.test"), 1, Ipv4Addr::LOCALHOST)
            .unwrap();
        let msg = message::parse(&eight.finish()).unwrap();
        assert_eq!(addresses(&msg, "c0.test", TYPE_A).unwrap().0.len(), 1);
        let nine = b
            .cname(&format!("c{MAX_CNAME_CHAIN}.test"), 1, "end.test")
            .unwrap();
        let msg = message::parse(&nine.finish()).unwrap();
        assert!(addresses(&msg, "c0.test", TYPE_A).is_err());
    }

    #[test]
    fn ids_vary() {
        let ids: std::collections::HashSet<u16> = (0..64).map(|_| random_id()).collect();
        // 64 draws from 65536 values: a handful of collisions at most, never all equal.
        assert!(ids.len() > 48, "{}", ids.len());
    }

    #[test]
    fn reply_must_repeat_the_question() {
        let ok = message::parse(
            &ReplyBuilder::new(9, "A.Test", TYPE_A, Rcode::NoError)
                .unwrap()
                .finish(),
        )
        .unwrap();
        assert!(answers_question(&ok, "a.test", TYPE_A));
        assert!(!answers_question(&ok, "a.test", TYPE_AAAA));
        assert!(!answers_question(&ok, "b.test", TYPE_A));
        let query = message::parse(&message::query(9, "a.test", TYPE_A).unwrap()).unwrap();
        assert!(!answers_question(&query, "a.test", TYPE_A)); // not a response
    }
}
