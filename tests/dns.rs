//! The DNS stub resolver against a DNS server written here (tests/support/dns.rs), on 127.0.0.1
//! ephemeral ports: every failure mode the resolver handles, and a fetch by name through it.
//! The resolver is configured explicitly (servers with ports, no hosts file), never from the
//! machine's /etc/resolv.conf, so nothing here touches real DNS.
//!
//! A binary of its own: one test proves a fetch by name never starts the threaded resolver
//! (`dns::resolver_threads()`, a count over the whole process), so nothing else here may use
//! that resolver.

mod support;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use squall::net::dns::message::{Rcode, ReplyBuilder, TYPE_A, TYPE_AAAA};
use squall::net::dns::{self, AddressStream, Resolver, StubConfig, StubResolver};
use squall::{AsyncHttpClient, ErrorKind, HttpRequest, TimeoutPhase};
use support::dns::{DnsServer, Out, Seen, answer, empty, truncated};
use support::server::run;

const V4: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);

fn config(servers: &[&DnsServer]) -> StubConfig {
    StubConfig {
        hosts_file: None,
        timeout: Duration::from_secs(5),
        ..StubConfig::with_servers(servers.iter().map(|s| s.addr).collect())
    }
}

/// Every address the lookup finds, however late (through `resolve_stream`, so the
/// resolution delay of `resolve()` cannot make a slow test machine drop one).
fn resolve(r: &StubResolver, name: &str) -> std::io::Result<Vec<SocketAddr>> {
    run(async {
        let mut s = r.resolve_stream(name, 80);
        let mut all = Vec::new();
        while let Some(batch) = dns::next_batch(&mut *s).await {
            all.extend(batch?);
        }
        Ok(all)
    })
}

fn sa(ip: impl Into<IpAddr>) -> SocketAddr {
    SocketAddr::new(ip.into(), 80)
}

#[test]
fn a_and_aaaa_at_once_then_from_the_cache() {
    let srv = DnsServer::start(|q| vec![Out::Reply(answer(q, &[V4], &[V6]))]);
    let r = StubResolver::new(config(&[&srv]));
    let mut got = resolve(&r, "Both.Test").unwrap();
    got.sort();
    assert_eq!(got, vec![sa(V4), sa(V6)]);
    let seen = srv.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    let mut types: Vec<u16> = seen.iter().map(|q| q.qtype).collect();
    types.sort();
    assert_eq!(types, vec![TYPE_A, TYPE_AAAA]);
    assert!(seen.iter().all(|q| q.name == "both.test" && !q.tcp));
    assert_ne!(seen[0].id, seen[1].id, "each query has its own ID");
    // Sent from a port the kernel picked, not from 53 or the server's own.
    assert_ne!(seen[0].from.port(), srv.addr.port());
    // Asked again: the cache answers, nothing is sent.
    let mut again = resolve(&r, "both.test.").unwrap();
    again.sort();
    assert_eq!(again, got);
    assert_eq!(srv.seen().len(), 2);
}

#[test]
fn addresses_arrive_one_family_at_a_time() {
    // AAAA is asked first and answered at once; the A answer comes 300 ms later.
    let srv = DnsServer::start(|q| {
        let mut out = Vec::new();
        if q.qtype == TYPE_A {
            out.push(Out::Sleep(Duration::from_millis(300)));
        }
        out.push(Out::Reply(answer(q, &[V4], &[V6])));
        out
    });
    let r = StubResolver::new(config(&[&srv]));
    let (first, second, end) = run(async {
        let mut s = r.resolve_stream("split.test", 80);
        let first = dns::next_batch(&mut *s).await.unwrap().unwrap();
        let second = dns::next_batch(&mut *s).await.unwrap().unwrap();
        let end = dns::next_batch(&mut *s).await.is_none();
        (first, second, end)
    });
    assert_eq!(first, vec![sa(V6)]);
    assert_eq!(second, vec![sa(V4)]);
    assert!(end);
}

#[test]
fn cname_chain_in_the_answer() {
    let srv = DnsServer::start(|q| {
        let b = ReplyBuilder::new(q.id, &q.name, q.qtype, Rcode::NoError)
            .unwrap()
            .cname(&q.name, 300, "edge.test")
            .unwrap()
            .cname("edge.test", 300, "real.test")
            .unwrap();
        let b = if q.qtype == TYPE_A {
            b.a("real.test", 60, V4).unwrap()
        } else {
            b
        };
        vec![Out::Reply(b.finish())]
    });
    let r = StubResolver::new(config(&[&srv]));
    assert_eq!(resolve(&r, "www.test").unwrap(), vec![sa(V4)]);
}

#[test]
fn truncated_reply_is_asked_again_over_tcp() {
    let srv = DnsServer::start(|q| {
        if q.tcp {
            // Over TCP the reply arrives a byte at a time: the length prefix and the message
            // are reassembled from pieces.
            vec![Out::Trickle(answer(q, &[V4], &[V6]))]
        } else {
            vec![Out::Reply(truncated(q))]
        }
    });
    let r = StubResolver::new(config(&[&srv]));
    let mut got = resolve(&r, "big.test").unwrap();
    got.sort();
    assert_eq!(got, vec![sa(V4), sa(V6)]);
    let seen = srv.seen();
    assert_eq!(seen.iter().filter(|q| q.tcp).count(), 2, "{seen:?}");
    assert_eq!(seen.iter().filter(|q| !q.tcp).count(), 2, "{seen:?}");
}

#[test]
fn servfail_and_refused_move_on_to_the_next_server() {
    let servfail = DnsServer::start(|q| vec![Out::Reply(empty(q, Rcode::ServFail))]);
    let refused = DnsServer::start(|q| vec![Out::Reply(empty(q, Rcode::Refused))]);
    let good = DnsServer::start(|q| vec![Out::Reply(answer(q, &[V4], &[]))]);
    let r = StubResolver::new(config(&[&servfail, &refused, &good]));
    assert_eq!(resolve(&r, "fail.test").unwrap(), vec![sa(V4)]);
    assert_eq!(servfail.seen().len(), 2);
    assert_eq!(refused.seen().len(), 2);
    assert_eq!(good.seen().len(), 2);

    // With no good server, the error says what each one answered, after `attempts` rounds.
    let r = StubResolver::new(StubConfig {
        attempts: 3,
        ..config(&[&servfail, &refused])
    });
    let err = resolve(&r, "down.test").unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("down.test: no usable answer ("), "{msg}");
    assert!(
        msg.contains(&format!("{}: SERVFAIL", servfail.addr)),
        "{msg}"
    );
    assert!(msg.contains(&format!("{}: REFUSED", refused.addr)), "{msg}");
    assert_eq!(servfail.seen().len(), 2 + 3 * 2);
}

#[test]
fn nxdomain_tries_the_search_list_then_names_the_name() {
    let srv = DnsServer::start(|q| {
        if q.name == "db.lab.test" {
            vec![Out::Reply(answer(q, &[V4], &[]))]
        } else {
            vec![Out::Reply(empty(q, Rcode::NxDomain))]
        }
    });
    let cfg = StubConfig {
        search: vec!["corp.test".into(), "lab.test".into()],
        ..config(&[&srv])
    };
    let r = StubResolver::new(cfg);
    assert_eq!(resolve(&r, "db").unwrap(), vec![sa(V4)]);
    let names: Vec<String> = srv.seen().into_iter().map(|q| q.name).collect();
    // NXDOMAIN for the first suffix ends that candidate (its other query may have been
    // answered already, so one or two queries for it).
    assert_eq!(names.first().map(String::as_str), Some("db.corp.test"));
    assert!(names.contains(&"db.lab.test".to_string()), "{names:?}");
    assert!(!names.contains(&"db".to_string()), "{names:?}");

    let err = resolve(&r, "nothing").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    assert_eq!(
        err.to_string(),
        "no such name (NXDOMAIN): nothing (tried nothing.corp.test, nothing.lab.test, nothing)"
    );
    // The negative answer is cached for a moment: asking again sends nothing.
    let before = srv.seen().len();
    assert!(resolve(&r, "nothing").is_err());
    assert_eq!(srv.seen().len(), before);
}

#[test]
fn silence_times_out_naming_the_name_and_servers() {
    let quiet1 = DnsServer::start(|_| vec![]);
    let quiet2 = DnsServer::start(|_| vec![]);
    let r = StubResolver::new(StubConfig {
        timeout: Duration::from_millis(100),
        attempts: 2,
        ..config(&[&quiet1, &quiet2])
    });
    let err = resolve(&r, "quiet.test").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    assert_eq!(
        err.to_string(),
        format!(
            "Timeout while resolving quiet.test: no reply from {}, {} (2 attempts, 0.1 s each)",
            quiet1.addr, quiet2.addr
        )
    );
    // Two rounds over both servers, A and AAAA each time.
    assert_eq!(quiet1.seen().len(), 4);
    assert_eq!(quiet2.seen().len(), 4);
}

#[test]
fn spoofed_replies_are_ignored() {
    let evil = Ipv4Addr::new(6, 6, 6, 6);
    let srv = DnsServer::start(move |q| {
        let real = answer(q, &[V4], &[]);
        let fake = answer(q, &[evil], &[]);
        // Right ID and question, wrong source port.
        let spoof = Out::Spoof(fake.clone());
        // Right source, wrong ID.
        let mut wrong_id = fake.clone();
        wrong_id[0] ^= 0xff;
        // Right source and ID, another question.
        let other_q = answer(
            &Seen {
                name: "other.test".into(),
                ..q.clone()
            },
            &[evil],
            &[],
        );
        // Not a reply at all: the query itself echoed back.
        let mut not_reply = fake;
        not_reply[2] &= 0x7f;
        vec![
            spoof,
            Out::Reply(wrong_id),
            Out::Reply(other_q),
            Out::Reply(not_reply),
            Out::Reply(b"garbage".to_vec()),
            Out::Sleep(Duration::from_millis(50)),
            Out::Reply(real),
        ]
    });
    let r = StubResolver::new(config(&[&srv]));
    assert_eq!(resolve(&r, "victim.test").unwrap(), vec![sa(V4)]);
}

#[test]
fn hosts_file_answers_first_and_localhost_needs_nothing() {
    let srv = DnsServer::start(|q| vec![Out::Reply(answer(q, &[V4], &[]))]);
    let dir = std::env::temp_dir().join(format!("squall-dns-stub-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let hosts = dir.join("hosts");
    std::fs::write(&hosts, "10.9.9.9 fromfile.test\n").unwrap();
    let r = StubResolver::new(StubConfig {
        hosts_file: Some(hosts),
        ..config(&[&srv])
    });
    assert_eq!(
        resolve(&r, "FromFile.test").unwrap(),
        vec![sa(Ipv4Addr::new(10, 9, 9, 9))]
    );
    let lo = resolve(&r, "localhost").unwrap();
    assert_eq!(lo[0], sa(Ipv4Addr::LOCALHOST));
    assert!(srv.seen().is_empty(), "no query for names the files answer");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_names_fail_before_any_query() {
    let srv = DnsServer::start(|q| vec![Out::Reply(answer(q, &[V4], &[]))]);
    let r = StubResolver::new(config(&[&srv]));
    let long = format!("{}.test", "a".repeat(64));
    let err = resolve(&r, &long).unwrap_err();
    assert!(
        err.to_string().contains("label longer than 63 bytes"),
        "{err}"
    );
    assert!(srv.seen().is_empty());
}

#[test]
fn fetch_by_name_through_the_stub_uses_no_resolver_thread() {
    let web = support::canned::once(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi",
    );
    let port = web.port;
    let srv = DnsServer::start(|q| vec![Out::Reply(answer(q, &[Ipv4Addr::LOCALHOST], &[]))]);
    let c = AsyncHttpClient::builder()
        .resolver(StubResolver::new(config(&[&srv])))
        .build();
    assert!(
        c.resolver_name()
            .starts_with("stub resolver (nameservers 127.0.0.1:")
    );
    let r = run(c.fetch(format!("http://web.test:{port}/x"))).unwrap();
    assert_eq!(r.body, b"hi");
    let head = web.requests().concat();
    assert!(head.contains(&format!("Host: web.test:{port}")), "{head}");
    assert_eq!(
        dns::resolver_threads(),
        0,
        "the threaded resolver never ran"
    );
}

#[test]
fn client_deadline_cuts_a_silent_lookup_and_names_the_servers() {
    let quiet = DnsServer::start(|_| vec![]);
    let c = AsyncHttpClient::builder()
        .resolver(StubResolver::new(config(&[&quiet])))
        .build();
    let e = run(
        c.fetch(HttpRequest::new("http://quiet.test/").connect_timeout(Duration::from_millis(200)))
    )
    .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Timeout(TimeoutPhase::Resolve));
    assert_eq!(
        e.to_string(),
        format!(
            "Timeout while resolving quiet.test (stub resolver, nameservers tried: {})",
            quiet.addr
        )
    );
    // The stub's own retries running out is a resolve timeout too.
    let c = AsyncHttpClient::builder()
        .resolver(StubResolver::new(StubConfig {
            timeout: Duration::from_millis(50),
            attempts: 1,
            ..config(&[&quiet])
        }))
        .build();
    let e = run(c.fetch("http://quiet.test/")).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Timeout(TimeoutPhase::Resolve));
    assert!(
        e.to_string()
            .starts_with("Timeout while resolving quiet.test: no reply from")
    );
}

#[test]
fn happy_eyeballs_takes_addresses_that_arrive_late() {
    use squall::net::connect::{ConnectOptions, connect_streaming};
    use std::task::{Context, Poll};
    /// Yields `addr` only after `delay`.
    struct Late {
        sleep: std::pin::Pin<Box<squall::ioloop::Sleep>>,
        addr: Option<SocketAddr>,
    }
    impl AddressStream for Late {
        fn poll_next(
            &mut self,
            cx: &mut Context<'_>,
        ) -> Poll<Option<std::io::Result<Vec<SocketAddr>>>> {
            if self.addr.is_none() {
                return Poll::Ready(None);
            }
            std::task::ready!(self.sleep.as_mut().poll(cx));
            Poll::Ready(self.addr.take().map(|a| Ok(vec![a])))
        }
    }
    use std::future::Future;
    let good = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let good_addr = good.local_addr().unwrap();
    let refused = SocketAddr::from(([127, 0, 0, 1], support::server::closed_port()));
    let (won, _) = run(async {
        let late = Late {
            sleep: Box::pin(squall::ioloop::sleep(Duration::from_millis(100))),
            addr: Some(good_addr),
        };
        // The first batch fails at once; the race waits for the late address, not giving up.
        let (stream, addr) =
            connect_streaming(&[refused], Box::new(late), &ConnectOptions::default())
                .await
                .unwrap();
        (addr, stream)
    });
    assert_eq!(won, good_addr);
    // When the late batch brings nothing that works, the error lists everything tried.
    let err = run(async {
        let late = Late {
            sleep: Box::pin(squall::ioloop::sleep(Duration::from_millis(10))),
            addr: Some(refused),
        };
        let other = SocketAddr::from(([127, 0, 0, 1], support::server::closed_port()));
        connect_streaming(&[other], Box::new(late), &ConnectOptions::default())
            .await
            .unwrap_err()
    });
    assert_eq!(err.attempts.len(), 2, "{err}");
}

#[test]
fn a_silent_server_is_skipped_after_its_timeout() {
    let quiet = DnsServer::start(|_| vec![]);
    let good = DnsServer::start(|q| vec![Out::Reply(answer(q, &[V4], &[]))]);
    let r = StubResolver::new(StubConfig {
        timeout: Duration::from_millis(100),
        ..config(&[&quiet, &good])
    });
    assert_eq!(resolve(&r, "slow.test").unwrap(), vec![sa(V4)]);
    assert_eq!(quiet.seen().len(), 2);
    assert_eq!(good.seen().len(), 2);
}

#[test]
fn rotate_starts_each_lookup_at_the_next_server() {
    let one = DnsServer::start(|q| vec![Out::Reply(answer(q, &[V4], &[]))]);
    let two = DnsServer::start(|q| vec![Out::Reply(answer(q, &[V4], &[]))]);
    let cfg = StubConfig {
        cache_size: 0,
        ..config(&[&one, &two])
    };
    let plain = StubResolver::new(cfg.clone());
    for i in 0..4 {
        resolve(&plain, &format!("p{i}.test")).unwrap();
    }
    assert_eq!((one.seen().len(), two.seen().len()), (8, 0));
    let rotating = StubResolver::new(StubConfig {
        rotate: true,
        ..cfg
    });
    for i in 0..4 {
        resolve(&rotating, &format!("r{i}.test")).unwrap();
    }
    assert_eq!((one.seen().len(), two.seen().len()), (8 + 4, 4));
}

#[test]
fn resolve_does_not_wait_for_a_silent_family() {
    // A is answered, AAAA never: resolve() gives the A answer after a short resolution
    // delay instead of waiting out every timeout (2 rounds of 10 s here).
    let srv = DnsServer::start(|q| {
        if q.qtype == TYPE_A {
            vec![Out::Reply(answer(q, &[V4], &[]))]
        } else {
            vec![]
        }
    });
    let r = StubResolver::new(StubConfig {
        timeout: Duration::from_secs(10),
        ..config(&[&srv])
    });
    let t0 = std::time::Instant::now();
    assert_eq!(run(r.resolve("v4only.test", 80)).unwrap(), vec![sa(V4)]);
    // A bound far above the 50 ms delay and far below the 20 s of timeouts.
    assert!(t0.elapsed() < Duration::from_secs(8), "{:?}", t0.elapsed());
}

#[test]
fn a_search_suffix_that_makes_the_name_too_long_is_skipped() {
    let srv = DnsServer::start(|q| vec![Out::Reply(answer(q, &[V4], &[]))]);
    let long = vec!["a".repeat(60); 4].join("."); // 243 characters: + ".example.org" is too long
    let r = StubResolver::new(StubConfig {
        search: vec!["example.org".into()],
        ndots: 9, // the suffixed name would come first
        ..config(&[&srv])
    });
    assert_eq!(resolve(&r, &long).unwrap(), vec![sa(V4)]);
    assert!(
        srv.seen().iter().all(|q| q.name == long),
        "{:?}",
        srv.seen()
    );
}
