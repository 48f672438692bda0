//! A crawler under a low file-descriptor limit: many hosts visited once each must not run the
//! process out of descriptors (issue: 3,000 hosts under `ulimit -n 1024` failed from the
//! ~1,017th with "Too many open files", one idle keep-alive socket kept per host).
//!
//! The limit is process-wide, so the crawl runs in a child process: this test binary runs
//! itself again through `sh -c 'ulimit -n 64; exec ...'`, selecting the ignored test
//! `crawler_child`, while the server runs here in the parent, out of the child's budget. The
//! hosts are names mapped to that one server (`hostname_mapping`), so each is a pool key of
//! its own, as distinct hosts would be.

mod support;

use std::process::Command;

use squall::{AsyncHttpClient, HttpRequest};
use support::proc::open_fd_count;
use support::server::*;

const LIMIT: u32 = 64;
const HOSTS: usize = 300;
const ADDR_VAR: &str = "SQUALL_FD_LIMIT_SERVER";

#[test]
fn crawler_under_a_low_fd_limit() {
    let srv = Server::start(|r| ok(r.target.as_bytes()));
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n {LIMIT} && exec \"$0\" \"$@\""))
        .arg(&exe)
        .args([
            "--exact",
            "crawler_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ADDR_VAR, srv.addr.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "child failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    assert!(stdout.contains("crawled: capped"), "{stdout}");
    assert!(stdout.contains("crawled: default"), "{stdout}");
    // Two crawls of HOSTS hosts each, every one a new connection.
    assert_eq!(srv.conns(), 2 * HOSTS);
}

fn crawler(addr: &str, cap: Option<usize>, concurrency: usize) -> AsyncHttpClient {
    let mut b = AsyncHttpClient::builder().max_clients(concurrency);
    if let Some(n) = cap {
        b = b.max_idle_connections(n);
    }
    for i in 0..HOSTS {
        b = b.hostname_mapping(&format!("host{i}.test"), addr);
    }
    b.build()
}

async fn crawl(c: &AsyncHttpClient, concurrency: usize, cap: usize) {
    let next = std::rc::Rc::new(std::cell::Cell::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (c, next) = (c.clone(), next.clone());
        workers.push(squall::ioloop::spawn(async move {
            loop {
                let i = next.get();
                if i >= HOSTS {
                    return;
                }
                next.set(i + 1);
                let url = format!("http://host{i}.test/page{i}");
                let r = c
                    .fetch(HttpRequest::new(&url))
                    .await
                    .unwrap_or_else(|e| panic!("{url}: {e}"));
                assert_eq!(r.body, format!("/page{i}").as_bytes());
                let (_, idle) = c.pool_counts();
                assert!(idle <= cap, "{idle} idle connections, cap {cap}");
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
}

#[test]
#[ignore = "run by crawler_under_a_low_fd_limit in a child process under ulimit -n"]
fn crawler_child() {
    let Ok(addr) = std::env::var(ADDR_VAR) else {
        eprintln!("crawler_child runs only as the child of crawler_under_a_low_fd_limit");
        return;
    };
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    assert_eq!(
        line.split_whitespace().nth(3),
        Some(LIMIT.to_string().as_str()),
        "the child runs under the low limit: {line}"
    );

    // A cap well under the limit: idle sockets never pile up, no connect ever fails.
    let cap = 16;
    let c = crawler(&addr, Some(cap), 4);
    run(crawl(&c, 4, cap));
    assert!(open_fd_count() < LIMIT as usize);
    c.close();
    println!("crawled: capped");

    // The default cap (256) is above this limit: connects run out of descriptors, and the
    // client closes its idle connections and tries again instead of failing.
    assert!(squall::client::DEFAULT_MAX_IDLE > LIMIT as usize);
    let c = crawler(&addr, None, 1);
    run(crawl(&c, 1, squall::client::DEFAULT_MAX_IDLE));
    c.close();
    println!("crawled: default");
}
