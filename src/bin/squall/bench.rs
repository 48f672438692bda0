//! `squall bench`: C concurrent loops over one AsyncHttpClient, through the public API only.
//!
//! Each loop fetches the URL, reads the body whole (as `fetch` does), records the latency and
//! goes again, until N requests have been started in all or the time is up. Keep-alive is what
//! users get by default; `--no-keepalive` sends `Connection: close` and keeps no idle
//! connection, so every request pays a connect (and a TLS handshake). Nothing is printed and
//! nothing large is allocated per request: the request is built once and cloned (its body and
//! headers are shared), and a latency is one histogram increment.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use squall::{AsyncHttpClient, HttpError, HttpRequest, IoLoop};

use crate::args::BenchArgs;
use crate::exit;
use crate::stats::{Histogram, fmt_latency};

#[derive(Default)]
struct Tally {
    started: u64,
    errors: u64,
    status_errors: u64,
    body_bytes: u64,
    hist: Histogram,
    first_error: Option<HttpError>,
    last_done: Option<Instant>,
}

/// Run the benchmark; returns the exit code.
pub fn run(b: BenchArgs) -> u8 {
    IoLoop::current().run_sync(bench(b))
}

async fn bench(b: BenchArgs) -> u8 {
    let c = b.concurrency;
    let mut builder = AsyncHttpClient::builder()
        .max_clients(c)
        .max_per_host(c)
        .max_body_size(u64::MAX);
    if b.no_keepalive {
        builder = builder.pool_idle_timeout(Duration::ZERO);
    }
    let client = builder.build();
    let mut req = HttpRequest::new(&b.url)
        .raise_error(false)
        .user_agent(concat!("squall/", env!("CARGO_PKG_VERSION")));
    if b.no_keepalive {
        req = req.header("Connection", "close");
    }
    if b.insecure {
        req = req.validate_cert(false);
    }
    if let Some(p) = &b.cacert {
        req = req.ca_certs(p);
    }
    let tally = Rc::new(RefCell::new(Tally::default()));
    let start = Instant::now();
    let deadline = b.duration.map(|d| start + d);
    let workers: Vec<_> = (0..c)
        .map(|_| {
            let (client, req, tally) = (client.clone(), req.clone(), tally.clone());
            let limit = b.requests;
            squall::ioloop::spawn(async move {
                loop {
                    {
                        let mut t = tally.borrow_mut();
                        if limit.is_some_and(|n| t.started >= n)
                            || deadline.is_some_and(|d| Instant::now() >= d)
                        {
                            break;
                        }
                        t.started += 1;
                    }
                    let t0 = Instant::now();
                    let r = client.fetch(req.clone()).await;
                    let now = Instant::now();
                    let mut t = tally.borrow_mut();
                    t.last_done = Some(now);
                    match r {
                        Ok(resp) if resp.code < 400 => {
                            t.body_bytes += resp.body.len() as u64;
                            t.hist.record(now - t0);
                        }
                        Ok(_) => {
                            t.errors += 1;
                            t.status_errors += 1;
                        }
                        Err(e) => {
                            t.errors += 1;
                            if t.first_error.is_none() {
                                t.first_error = Some(e);
                            }
                        }
                    }
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.await;
    }
    client.close();
    let t = tally.borrow();
    let elapsed = t
        .last_done
        .unwrap_or(start)
        .saturating_duration_since(start);
    let secs = elapsed.as_secs_f64();
    let rps = if secs > 0.0 {
        t.hist.len() as f64 / secs
    } else {
        0.0
    };
    if let Some(e) = &t.first_error {
        eprintln!("squall: bench: {}: {e}", b.url);
    }
    let keepalive = if b.no_keepalive { "off" } else { "on" };
    let mut s = String::new();
    s.push_str(&format!("url: {}\n", b.url));
    s.push_str(&format!("concurrency: {c} (keep-alive {keepalive})\n"));
    s.push_str(&format!("requests: {}\n", t.hist.len() + t.errors));
    s.push_str(&format!("errors: {}", t.errors));
    if t.status_errors > 0 {
        s.push_str(&format!(" ({} with status >= 400)", t.status_errors));
    }
    s.push('\n');
    s.push_str(&format!("body bytes: {}\n", t.body_bytes));
    s.push_str(&format!("elapsed: {secs:.3} s\n"));
    s.push_str(&format!(
        "latency p50: {}\n",
        fmt_latency(t.hist.percentile(50.0))
    ));
    s.push_str(&format!(
        "latency p99: {}\n",
        fmt_latency(t.hist.percentile(99.0))
    ));
    s.push_str(&format!("latency max: {}\n", fmt_latency(t.hist.max())));
    s.push_str(&format!("req/s: {rps:.1}\n"));
    print!("{s}");
    if t.hist.len() == 0 {
        // Not one request succeeded: the run measured nothing; say why in the exit code.
        return match &t.first_error {
            Some(e) => exit::for_error(e.kind(), false, e.code()).max(1),
            None => exit::HTTP_FAIL,
        };
    }
    exit::OK
}
