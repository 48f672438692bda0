//! Open file descriptors come back to their baseline after 10,000 requests against a server
//! that misbehaves at random (closes before answering, closes mid-body, resets, sends garbage,
//! stalls past the timeout, says `Connection: close`). A process-wide figure: this test binary
//! holds nothing else.

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use squall::ioloop::{sleep, spawn};
use squall::{AsyncHttpClient, HttpRequest};
use support::proc::open_fd_count;
use support::server::*;

#[test]
fn fds_back_to_baseline_after_10k_requests_with_faults() {
    let seed = AtomicU64::new(0x9E37_79B9_7F4A_7C15);
    let srv = Server::start(move |_| {
        // xorshift: a fixed, reproducible sequence of faults.
        let mut x = seed.load(Ordering::SeqCst);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        seed.store(x, Ordering::SeqCst);
        match x % 100 {
            0..=59 => ok(b"fine"),
            60..=64 => vec![Step::Close],
            65..=69 => vec![
                write(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort".to_vec()),
                Step::Close,
            ],
            70..=74 => vec![write(b"HTTP/1.1 200 OK\r\nCont".to_vec()), Step::Reset],
            75..=79 => vec![write(b"garbage garbage\r\n\r\n".to_vec())],
            80..=84 => vec![
                write(resp(200, &[("Connection", "close")], b"bye")),
                Step::Close,
            ],
            85..=89 => vec![
                write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab".to_vec()),
                Step::Close,
            ],
            90 => late(Duration::from_millis(300), resp(200, &[], b"late")),
            _ => vec![write(resp(404, &[], b"nope"))],
        }
    });
    // Warm up: the loop and its reactor exist before the baseline.
    run(async { sleep(Duration::from_millis(1)).await });
    let baseline = open_fd_count();

    let (ok_count, err_count) = run(async {
        let c = AsyncHttpClient::builder()
            .max_clients(16)
            .max_per_host(16)
            .build();
        let mut handles = Vec::new();
        for w in 0..16 {
            let c = c.clone();
            let url = srv.url("/");
            handles.push(spawn(async move {
                let (mut ok, mut err) = (0, 0);
                for _ in 0..(10_000 / 16 + usize::from(w < 10_000 % 16)) {
                    match c
                        .fetch(HttpRequest::new(&url).request_timeout(Duration::from_millis(150)))
                        .await
                    {
                        Ok(_) => ok += 1,
                        Err(_) => err += 1,
                    }
                }
                (ok, err)
            }));
        }
        let mut totals = (0, 0);
        for h in handles {
            let (o, e) = h.await.unwrap();
            totals.0 += o;
            totals.1 += e;
        }
        c.close();
        totals
    });
    assert_eq!(ok_count + err_count, 10_000);
    assert!(
        ok_count > 5_000 && err_count > 1_000,
        "{ok_count} ok, {err_count} failed"
    );

    // The server's side closes once the client's did.
    let t0 = Instant::now();
    while srv.open.load(Ordering::SeqCst) > 0 && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    run(async { sleep(Duration::from_millis(20)).await });
    let now = open_fd_count();
    assert_eq!(now, baseline, "fds: {baseline} before, {now} after");
}
