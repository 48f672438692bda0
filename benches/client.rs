//! End-to-end benchmarks of the client: `AsyncHttpClient::fetch` against a minimal keep-alive
//! server in the same process, on loopback, at 1 and at 64 concurrent requests.
//!
//! The server runs on its own thread with its own `IoLoop` (our `TcpListener`), and answers
//! every request head with a 12-byte `hello world\n` and a `Content-Length`, like the
//! perfbed's nginx `/small`. The client runs on the bench's main thread. So each side gets a
//! core on a 2-core machine, and the client's CPU is measured on its own thread.
//!
//! Two parts:
//! - criterion groups `client/c1`, `client/c64` (throughput in requests), next to `raw/c1`:
//!   the same exchange written by hand on `ioloop::TcpStream`, the floor below which the
//!   client's layers cannot go;
//! - a report printed at the end (skipped under `--test`): for a fixed number of requests,
//!   sequential GETs and POSTs (c=1) and 64 concurrent GETs, requests/s and CPU time per request of the client's loop thread (from
//!   `/proc/thread-self/schedstat`, Linux only) and of the whole process (client + server).
//!
//! Sequential POSTs (issue 15): a POST waits for its pooled connection to have been idle
//! 5 ms only while that connection has carried a single exchange (a server may close without
//! notice right after answering, and a POST is never replayed); once the server has kept it
//! open across a reuse, the non-blocking probe before writing is the whole check. One run,
//! 20,000 requests, the machine otherwise idle: before, POST 194 req/s against GET 10,654;
//! after, POST 10,812 against GET 10,698 (a second pair of runs: 194 → 10,754, GET 9,814).
//!
//! Run: `cargo bench --bench client` (all), `cargo bench --bench client -- c64` (one group;
//! the report still runs). `SQUALL_BENCH_REQUESTS=N` sets the report's request count;
//! `SQUALL_BENCH_REPORT_ONLY=1` skips criterion and prints only the report.

use std::cell::Cell;
use std::hint::black_box;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use squall::ioloop::{self, IoLoop, TcpListener, TcpStream};
use squall::{AsyncHttpClient, HttpRequest};

const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Type: text/plain\r\n\r\nhello world\n";

// ---------------------------------------------------------------------------------------------
// The server

/// Connections the server has accepted so far (keep-alive shows as a small number).
static ACCEPTED: AtomicUsize = AtomicUsize::new(0);

/// Start the keep-alive server on its own thread and loop; it lives until the process ends.
fn start_server() -> SocketAddr {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("bench-server".into())
        .spawn(move || {
            let lp = IoLoop::new();
            lp.run_sync(async move {
                let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                loop {
                    match listener.accept().await {
                        Ok((stream, _)) => {
                            ACCEPTED.fetch_add(1, Ordering::Relaxed);
                            let _ = stream.set_nodelay(true);
                            drop(ioloop::spawn(serve(stream)));
                        }
                        Err(e) => eprintln!("bench server: accept: {e}"),
                    }
                }
            })
        })
        .unwrap();
    rx.recv().unwrap()
}

/// Answer each complete request head (no request bodies here) with RESPONSE; pipelined
/// heads get their answers in one write.
async fn serve(stream: TcpStream) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut len = 0;
    let mut out = Vec::with_capacity(RESPONSE.len() * 4);
    loop {
        match stream.read(&mut buf[len..]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => len += n,
        }
        let mut start = 0;
        while let Some(end) = find_head_end(&buf[start..len]) {
            out.extend_from_slice(RESPONSE);
            start += end;
        }
        buf.copy_within(start..len, 0);
        len -= start;
        if len == buf.len() {
            return; // a head larger than the buffer: not a client we bench
        }
        if !out.is_empty() {
            if stream.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
    }
}

/// The length of the first head in `b` (through its blank line), if complete.
fn find_head_end(b: &[u8]) -> Option<usize> {
    b.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

// ---------------------------------------------------------------------------------------------
// The clients

/// `n` fetches over `conc` concurrent workers sharing one client; returns the wall time.
async fn run_client(client: &AsyncHttpClient, url: &str, n: u64, conc: usize) -> Duration {
    let req = HttpRequest::new(url);
    run_requests(client, &req, n, conc).await
}

/// `n` sequential POSTs (an empty body, so the server above needs no body parsing): a POST is
/// not idempotent, so it may not take a pooled connection on the cheap check a GET takes.
async fn run_post(client: &AsyncHttpClient, url: &str, n: u64) -> Duration {
    let req = HttpRequest::new(url).method("POST").body("");
    run_requests(client, &req, n, 1).await
}

async fn run_requests(
    client: &AsyncHttpClient,
    req: &HttpRequest,
    n: u64,
    conc: usize,
) -> Duration {
    let start = Instant::now();
    let left = Rc::new(Cell::new(n));
    let mut workers = Vec::with_capacity(conc);
    for _ in 0..conc {
        let (client, req, left) = (client.clone(), req.clone(), left.clone());
        workers.push(ioloop::spawn(async move {
            while left.get() > 0 {
                left.set(left.get() - 1);
                let resp = client.fetch(req.clone()).await.expect("fetch failed");
                assert_eq!(resp.body.len(), 12);
                black_box(resp);
            }
        }));
    }
    for w in workers {
        w.await.expect("worker failed");
    }
    start.elapsed()
}

/// The same exchange by hand over one `TcpStream`: write the request, read the 12-byte
/// answer by its known length. The floor for `client/c1`.
async fn run_raw(addr: SocketAddr, n: u64) -> Duration {
    let stream = TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let req = format!("GET /small HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let mut buf = vec![0u8; 4096];
    let start = Instant::now();
    for _ in 0..n {
        stream.write_all(req.as_bytes()).await.unwrap();
        let mut got = 0;
        while got < RESPONSE.len() {
            let k = stream.read(&mut buf[got..]).await.unwrap();
            assert!(k > 0, "server closed");
            got += k;
        }
    }
    start.elapsed()
}

fn make_client(lp: &IoLoop, conc: usize) -> AsyncHttpClient {
    lp.run_sync(async move {
        AsyncHttpClient::builder()
            .max_clients(conc.max(10))
            .max_per_host(conc.max(6))
            .build()
    })
}

// ---------------------------------------------------------------------------------------------
// CPU accounting (Linux /proc; None elsewhere)

/// CPU time of the calling thread, in ns precision.
fn thread_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// CPU time of every live thread of the process (client, server, anything else).
fn process_cpu() -> Option<Duration> {
    let mut total = Duration::ZERO;
    for entry in std::fs::read_dir("/proc/self/task").ok()? {
        let path = entry.ok()?.path().join("schedstat");
        let s = std::fs::read_to_string(path).ok()?;
        let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
        total += Duration::from_nanos(ns);
    }
    Some(total)
}

struct Figures {
    rps: f64,
    client_us: Option<f64>,
    process_us: Option<f64>,
    new_conns: usize,
}

fn measure(lp: &IoLoop, n: u64, f: impl std::future::Future<Output = Duration>) -> Figures {
    let (t0, p0, c0) = (
        thread_cpu(),
        process_cpu(),
        ACCEPTED.load(Ordering::Relaxed),
    );
    let wall = lp.run_sync(f);
    let (t1, p1, c1) = (
        thread_cpu(),
        process_cpu(),
        ACCEPTED.load(Ordering::Relaxed),
    );
    let per =
        |a: Option<Duration>, b: Option<Duration>| Some((b? - a?).as_secs_f64() * 1e6 / n as f64);
    Figures {
        rps: n as f64 / wall.as_secs_f64(),
        client_us: per(t0, t1),
        process_us: per(p0, p1),
        new_conns: c1 - c0,
    }
}

fn fmt_us(v: Option<f64>) -> String {
    v.map(|v| format!("{v:6.2} µs"))
        .unwrap_or_else(|| "   n/a".into())
}

fn report(lp: &IoLoop, addr: SocketAddr) {
    let n: u64 = std::env::var("SQUALL_BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let url = format!("http://{addr}/small");
    println!();
    println!("report: {n} requests each, loopback, in-process keep-alive server");
    println!(
        "{:<14} {:>10} {:>22} {:>26} {:>10}",
        "case", "req/s", "client CPU/request", "process CPU/request", "new conns"
    );
    let mut rows = Vec::new();
    let raw = measure(lp, n, run_raw(addr, n));
    rows.push(("raw c=1", raw));
    for conc in [1usize, 64] {
        let client = make_client(lp, conc);
        // Warm up: open the connections first.
        lp.run_sync(run_client(&client, &url, conc as u64 * 4, conc));
        let f = measure(lp, n, run_client(&client, &url, n, conc));
        client.close();
        rows.push((
            if conc == 1 {
                "client c=1"
            } else {
                "client c=64"
            },
            f,
        ));
    }
    // Sequential POSTs: each takes a pooled connection that just answered, the case where a
    // request that must not be replayed waited out a 5 ms "hot" period every time (now only
    // on a connection's first reuse).
    let client = make_client(lp, 1);
    lp.run_sync(run_post(&client, &url, 4));
    let f = measure(lp, n, run_post(&client, &url, n));
    client.close();
    rows.push(("client c=1 POST", f));
    for (name, f) in rows {
        println!(
            "{:<14} {:>10.0} {:>22} {:>26} {:>10}",
            name,
            f.rps,
            fmt_us(f.client_us),
            fmt_us(f.process_us),
            f.new_conns
        );
    }
    println!("(client CPU: the loop thread that runs the client; process: client + server)");
    println!(
        "connections accepted in all: {}",
        ACCEPTED.load(Ordering::Relaxed)
    );
}

// ---------------------------------------------------------------------------------------------

fn benches(c: &mut Criterion, lp: &IoLoop, addr: SocketAddr) {
    let url = format!("http://{addr}/small");

    let mut g = c.benchmark_group("raw");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(4));
    g.bench_function("c1", |b| {
        b.iter_custom(|iters| lp.run_sync(run_raw(addr, iters)))
    });
    g.finish();

    let mut g = c.benchmark_group("client");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(5));
    for conc in [1usize, 64] {
        let client = make_client(lp, conc);
        lp.run_sync(run_client(&client, &url, conc as u64 * 4, conc));
        g.bench_function(format!("c{conc}"), |b| {
            b.iter_custom(|iters| lp.run_sync(run_client(&client, &url, iters, conc)))
        });
        client.close();
    }
    g.finish();
}

fn main() {
    let addr = start_server();
    let lp = IoLoop::current();
    let test_mode = std::env::args().any(|a| a == "--test" || a == "--list");
    let report_only = std::env::var_os("SQUALL_BENCH_REPORT_ONLY").is_some();
    if !report_only {
        let mut c = Criterion::default()
            .sample_size(20)
            .warm_up_time(Duration::from_secs(1))
            .configure_from_args();
        benches(&mut c, &lp, addr);
        c.final_summary();
    }
    if !test_mode {
        report(&lp, addr);
    }
}
