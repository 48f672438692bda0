//! `squall --dns-servers` and `squall -v` naming the resolver, end to end: the binary asks the
//! DNS server of tests/support/dns.rs on 127.0.0.1 (never the machine's), then fetches from a
//! loopback HTTP server by name.

use std::net::Ipv4Addr;
use std::process::Output;
use std::time::Duration;

use crate::support::canned::once;
use crate::support::dns::{DnsServer, Out, answer, empty};
use squall::net::dns::message::Rcode;

/// Run squall with a generous time bound (a hang fails the test instead of stalling it).
fn squall(args: &[&str]) -> Output {
    let mut cmd = crate::support::cli::squall_command();
    cmd.args(args).env_remove("SQUALL_RESOLVER");
    crate::support::cli::run_bounded(cmd, Duration::from_secs(60))
}

/// A loopback HTTP server answering with `hi`.
fn one_shot_http() -> u16 {
    once(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi").port
}

#[test]
fn dns_servers_are_asked_and_verbose_names_the_resolver() {
    let dns = DnsServer::start(|q| vec![Out::Reply(answer(q, &[Ipv4Addr::LOCALHOST], &[]))]);
    let port = one_shot_http();
    let servers = format!("{},127.0.0.2:9", dns.addr);
    let o = squall(&[
        "-v",
        "--dns-servers",
        &servers,
        &format!("http://web.test:{port}/"),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert_eq!(o.stdout, b"hi");
    assert!(
        err.contains(&format!(
            "* Host web.test:{port} resolved by stub resolver, nameserver {}: 127.0.0.1\n",
            dns.addr
        )),
        "{err}"
    );
    // (The machine's resolv.conf search list may put a suffixed name first.)
    assert!(dns.seen().iter().any(|q| q.name.starts_with("web.test")));
}

#[test]
fn nxdomain_from_dns_servers_is_exit_6_naming_the_host() {
    let dns = DnsServer::start(|q| vec![Out::Reply(empty(q, Rcode::NxDomain))]);
    let servers = dns.addr.to_string();
    let o = squall(&["--dns-servers", &servers, "http://nowhere.test/"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(6), "{err}");
    assert!(
        err.contains("nowhere.test") && err.contains("NXDOMAIN"),
        "{err}"
    );
}

#[test]
fn bad_dns_servers_is_a_usage_error() {
    let o = squall(&["--dns-servers", "dns.example", "http://x.test/"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--dns-servers"));
}
