//! Memory stays flat while a 256 MiB body streams through the client (pull-style
//! `fetch_streaming` and a `streaming_callback`), and a 64 MiB gzip bomb streams through the
//! decoder in bounded steps (C-10). RSS is a process-wide figure, so it is measured in a child
//! process: this test runs its own binary again with an environment variable set.

mod support;

use std::io::Write;
use std::process::Command;

use squall::{AsyncHttpClient, HttpRequest};
use support::proc::status_kib;
use support::server::*;

const CHILD: &str = "SQUALL_CLIENT_RSS_CHILD";
const TOTAL: u64 = 256 << 20;
const MIB: u64 = 1 << 20;

fn rss_bytes() -> u64 {
    status_kib("self", "VmRSS").expect("VmRSS in /proc/self/status") * 1024
}

/// A raw server sending `TOTAL` bytes of body in 64 KiB writes (plain or a gzip bomb).
fn big_server() -> std::net::SocketAddr {
    let bomb = gzip(&vec![0u8; 64 << 20]);
    let (addr, _) = raw_server(move |mut s, _| {
        while let Some(head) = read_head(&mut s) {
            let head = String::from_utf8_lossy(&head).to_string();
            if head.starts_with("GET /bomb") {
                let h = format!(
                    "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
                    bomb.len()
                );
                if s.write_all(h.as_bytes()).is_err() || s.write_all(&bomb).is_err() {
                    return;
                }
                continue;
            }
            let h = format!("HTTP/1.1 200 OK\r\nContent-Length: {TOTAL}\r\n\r\n");
            if s.write_all(h.as_bytes()).is_err() {
                return;
            }
            let block = vec![b'z'; 64 * 1024];
            let mut sent = 0;
            while sent < TOTAL {
                if s.write_all(&block).is_err() {
                    return;
                }
                sent += block.len() as u64;
            }
        }
    });
    addr
}

fn child() {
    let addr = big_server();
    run(async {
        let c = AsyncHttpClient::builder().max_body_size(u64::MAX).build();
        // Pull-style.
        let mut r = c
            .fetch_streaming(format!("http://{addr}/pull"))
            .await
            .unwrap();
        let (mut got, mut base, mut peak) = (0u64, 0u64, 0u64);
        while let Some(piece) = r.chunk().await.unwrap() {
            got += piece.len() as u64;
            if base == 0 && got >= 16 * MIB {
                base = rss_bytes();
            }
            if got % (8 * MIB) < piece.len() as u64 {
                peak = peak.max(rss_bytes());
            }
        }
        assert_eq!(got, TOTAL);
        println!("RSS pull base={base} peak={peak}");

        // Callback-style.
        let seen = SharedCell::new(0u64);
        let samples = SharedCell::new((0u64, 0u64));
        let (s2, m2) = (seen.clone(), samples.clone());
        let resp = c
            .fetch(
                HttpRequest::new(&format!("http://{addr}/cb")).streaming_callback(move |d| {
                    let before = s2.get();
                    s2.set(before + d.len() as u64);
                    let (mut b, mut p) = m2.get();
                    if b == 0 && s2.get() >= 16 * MIB {
                        b = rss_bytes();
                    }
                    if s2.get() / (8 * MIB) != before / (8 * MIB) {
                        p = p.max(rss_bytes());
                    }
                    m2.set((b, p));
                }),
            )
            .await
            .unwrap();
        assert!(resp.body.is_empty());
        assert_eq!(seen.get(), TOTAL);
        let (b, p) = samples.get();
        println!("RSS callback base={b} peak={p}");

        // C-10: a 64 MiB gzip bomb, decoded in bounded steps (with the `gzip` feature).
        #[cfg(feature = "gzip")]
        {
            let before = rss_bytes();
            let mut r = c
                .fetch_streaming(format!("http://{addr}/bomb"))
                .await
                .unwrap();
            let (mut got, mut peak) = (0u64, before);
            while let Some(piece) = r.chunk().await.unwrap() {
                assert!(
                    piece.len() <= 256 * 1024,
                    "one step gave {} bytes",
                    piece.len()
                );
                got += piece.len() as u64;
                peak = peak.max(rss_bytes());
            }
            assert_eq!(got, 64 << 20);
            println!("RSS bomb base={before} peak={peak}");
        }
    });
}

#[test]
fn rss_flat_while_streaming_256_mib() {
    if std::env::var_os(CHILD).is_some() {
        child();
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Command::new(exe);
    // The child's server is on loopback: no proxy from the machine's environment.
    for v in squall::client::proxy::PROXY_VARIABLES {
        cmd.env_remove(v);
    }
    let out = cmd
        .args([
            "rss_flat_while_streaming_256_mib",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut checked = 0;
    for line in stdout
        .lines()
        .filter_map(|l| l.find("RSS ").map(|i| &l[i..]))
    {
        let nums: Vec<u64> = line
            .split_whitespace()
            .filter_map(|w| w.split_once('=').map(|(_, v)| v.parse().unwrap()))
            .collect();
        let (base, peak) = (nums[0], nums[1]);
        assert!(base > 0, "{line}");
        let growth = peak.saturating_sub(base);
        assert!(growth < 16 * MIB, "{line}: grew by {} KiB", growth / 1024);
        checked += 1;
    }
    // pull, callback, and (with `gzip`) the bomb.
    let expected = if cfg!(feature = "gzip") { 3 } else { 2 };
    assert_eq!(checked, expected, "{stdout}");
}
