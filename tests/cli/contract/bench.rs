//! `squall bench` against a loopback server.

use super::tls::{pki, tls_server};
use super::*;

fn last_rps(out: &str) -> f64 {
    let last = out.lines().rfind(|l| !l.trim().is_empty()).unwrap();
    let n = last
        .strip_prefix("req/s: ")
        .unwrap_or_else(|| panic!("last line {last:?}"));
    n.parse().unwrap()
}

#[test]
fn bench_keep_alive_prints_stats_and_req_s_last() {
    let s = ok_server(b"hello world\n");
    let o = squall(&["bench", "-n", "300", "-c", "4", &s.url("/small")]);
    assert_code(&o, 0);
    let out = stdout(&o);
    assert!(last_rps(&out) > 0.0, "{out}");
    for k in ["requests: 300", "errors: 0", "p50", "p99", "max"] {
        assert!(out.contains(k), "{out} lacks {k}");
    }
    assert_eq!(s.reqs().len(), 300);
    assert!(s.conns() <= 4, "keep-alive: {} connections", s.conns());
}

#[test]
fn bench_no_keepalive_opens_a_connection_per_request() {
    let s = Server::start_writing(|r, s| {
        respond(s, "200 OK", &[("Connection", "close")], b"x");
        r.header("connection") != Some("close")
    });
    let o = squall(&[
        "bench",
        "-n",
        "50",
        "-c",
        "2",
        "--no-keepalive",
        &s.url("/"),
    ]);
    assert_code(&o, 0);
    assert!(last_rps(&stdout(&o)) > 0.0);
    assert_eq!(s.reqs().len(), 50);
    assert!(
        s.reqs()
            .iter()
            .all(|r| r.header("connection") == Some("close"))
    );
    assert_eq!(s.conns(), 50);
}

#[test]
fn bench_for_a_duration_and_with_errors() {
    let s = ok_server(b"x");
    let o = squall(&["bench", "-d", "0.3", "-c", "2", &s.url("/")]);
    assert_code(&o, 0);
    assert!(last_rps(&stdout(&o)) > 0.0);
    // Nothing listening: every request fails; the report still ends with req/s.
    let url = format!("http://127.0.0.1:{}/", closed_port());
    let o = squall(&["bench", "-n", "5", &url]);
    assert_code(&o, 7);
    let out = stdout(&o);
    assert!(out.contains("errors: 5"), "{out}");
    assert_eq!(last_rps(&out), 0.0);
}

#[test]
fn bench_over_tls() {
    let p = pki("bench", false);
    let addr = tls_server(p.server_config.clone());
    let url = format!("https://{addr}/");
    let o = squall(&[
        "bench",
        "-n",
        "40",
        "-c",
        "2",
        "--cacert",
        p.ca_pem.to_str().unwrap(),
        &url,
    ]);
    assert_code(&o, 0);
    assert!(stdout(&o).contains("errors: 0"), "{}", stdout(&o));
    let o = squall(&["bench", "-n", "10", "-k", &url]);
    assert_code(&o, 0);
}
