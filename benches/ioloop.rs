//! Benchmarks of the event loop: spawning tasks, scheduling and cancelling timers, and a
//! TCP ping-pong on loopback against the same ping-pong with blocking std sockets.
//!
//! `cargo bench --bench ioloop` runs them (short: 10 samples each). After criterion's
//! figures it prints the ping-pong's round trips per second and the client thread's CPU
//! time per round trip (from /proc/thread-self/schedstat), for the loop and for std.

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use squall::ioloop::{IoLoop, TcpStream, spawn};

const TASKS: u64 = 1_000_000;
const TIMERS: u64 = 1_000_000;
const MSG: usize = 64;

fn bench_spawn(c: &mut Criterion) {
    let mut g = c.benchmark_group("ioloop");
    g.throughput(Throughput::Elements(TASKS));
    let lp = IoLoop::new();
    g.bench_function("spawn_and_complete_1M_tasks", |b| {
        b.iter(|| {
            lp.run_sync(async {
                let mut last = None;
                for i in 0..TASKS {
                    last = Some(spawn(async move { black_box(i) }));
                }
                // Tasks finish in spawn order: the last one done means all are.
                last.unwrap().await.unwrap()
            })
        })
    });
    g.finish();
}

fn bench_timers(c: &mut Criterion) {
    let mut g = c.benchmark_group("ioloop");
    g.throughput(Throughput::Elements(TIMERS));
    let lp = IoLoop::new();
    let mut handles = Vec::with_capacity(TIMERS as usize);
    g.bench_function("schedule_and_cancel_1M_timers", |b| {
        b.iter(|| {
            for i in 0..TIMERS {
                handles.push(lp.call_later(Duration::from_millis(1000 + i % 997), || {}));
            }
            for h in handles.drain(..) {
                lp.remove_timeout(h);
            }
            assert_eq!(lp.stats().timers, 0);
        })
    });
    g.finish();
}

/// A blocking echo server on its own thread, one connection, fixed-size messages.
fn echo_server() -> SocketAddr {
    let l = std::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            s.set_nodelay(true).unwrap();
            std::thread::spawn(move || {
                let mut buf = [0u8; MSG];
                while s.read_exact(&mut buf).is_ok() {
                    if s.write_all(&buf).is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

async fn loop_round_trips(s: &TcpStream, n: u64) {
    let msg = [7u8; MSG];
    let mut buf = [0u8; MSG];
    for _ in 0..n {
        s.write_all(&msg).await.unwrap();
        let mut got = 0;
        while got < MSG {
            let k = s.read(&mut buf[got..]).await.unwrap();
            assert!(k > 0);
            got += k;
        }
    }
}

fn std_round_trips(s: &mut std::net::TcpStream, n: u64) {
    let msg = [7u8; MSG];
    let mut buf = [0u8; MSG];
    for _ in 0..n {
        s.write_all(&msg).unwrap();
        s.read_exact(&mut buf).unwrap();
    }
}

fn bench_pingpong(c: &mut Criterion, addr: SocketAddr) {
    const N: u64 = 1000;
    let mut g = c.benchmark_group("tcp_ping_pong_64B");
    g.throughput(Throughput::Elements(N));
    let lp = IoLoop::new();
    let stream = lp.run_sync(async {
        let s = TcpStream::connect(addr).await.unwrap();
        s.set_nodelay(true).unwrap();
        s
    });
    g.bench_function("ioloop_1000_round_trips", |b| {
        b.iter(|| lp.run_sync(loop_round_trips(&stream, N)))
    });
    let mut std_stream = std::net::TcpStream::connect(addr).unwrap();
    std_stream.set_nodelay(true).unwrap();
    g.bench_function("blocking_std_1000_round_trips", |b| {
        b.iter(|| std_round_trips(&mut std_stream, N))
    });
    g.finish();
}

/// CPU time of the calling thread, in nanoseconds (Linux).
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn cpu_report(addr: SocketAddr) {
    // Five interleaved rounds of each, medians reported: the machine is shared and noisy.
    const N: u64 = 5_000;
    const ROUNDS: usize = 5;
    let lp = IoLoop::new();
    let stream = lp.run_sync(async {
        let s = TcpStream::connect(addr).await.unwrap();
        s.set_nodelay(true).unwrap();
        s
    });
    let mut std_stream = std::net::TcpStream::connect(addr).unwrap();
    std_stream.set_nodelay(true).unwrap();
    lp.run_sync(loop_round_trips(&stream, 1000)); // warm up
    std_round_trips(&mut std_stream, 1000);

    let mut lp_runs = Vec::new();
    let mut std_runs = Vec::new();
    let measure = |f: &mut dyn FnMut()| {
        let (t0, c0) = (Instant::now(), thread_cpu_ns());
        f();
        let (t1, c1) = (Instant::now(), thread_cpu_ns());
        (t1 - t0, c0.zip(c1).map(|(a, b)| b - a))
    };
    for _ in 0..ROUNDS {
        lp_runs.push(measure(&mut || lp.run_sync(loop_round_trips(&stream, N))));
        std_runs.push(measure(&mut || std_round_trips(&mut std_stream, N)));
    }
    let report = |name: &str, runs: &mut Vec<(Duration, Option<u64>)>| {
        let mut walls: Vec<Duration> = runs.iter().map(|r| r.0).collect();
        walls.sort();
        let rps = N as f64 / walls[ROUNDS / 2].as_secs_f64();
        let mut cpus: Vec<u64> = runs.iter().filter_map(|r| r.1).collect();
        cpus.sort();
        match cpus.get(cpus.len() / 2) {
            Some(cpu) => println!(
                "{name:>14}: {rps:>9.0} round trips/s, client CPU {:.2} us per round trip \
                 (median of {ROUNDS})",
                *cpu as f64 / N as f64 / 1000.0
            ),
            None => println!("{name:>14}: {rps:>9.0} round trips/s (median of {ROUNDS})"),
        }
    };
    println!(
        "\nTCP ping-pong, {MSG}-byte messages, {N} round trips per round, client thread only:"
    );
    report("ioloop", &mut lp_runs);
    report("blocking std", &mut std_runs);
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let addr = echo_server();
    bench_spawn(&mut c);
    bench_timers(&mut c);
    bench_pingpong(&mut c, addr);
    c.final_summary();
    cpu_report(addr);
}
