//! The squall tour: the first thing to run, and the first thing to read.
//!
//! It starts a small HTTP/1.1 server on a loopback port (plain std threads, so the client's
//! own event loop is the only async code here), then walks through Tornado's founding
//! example in squall's shape: a GET whose body is read as text, a POST with a `User-Agent`
//! header and a body, `json_decode` of a JSON reply, all inside
//! `IoLoop::current().run_sync(main)`. After that it shows what the client does beyond the
//! seed: 100 concurrent fetches over a handful of keep-alive connections, a streamed download
//! with progress, a redirect, a 404 as an `HttpError`, and a timeout as a 599.
//!
//! Run it with `cargo run --release --example tour`. It needs no network beyond 127.0.0.1.
//!
//! The tour shows what the client does; the example ladder shows how, one rung at a time:
//! `00_bones` (an event loop in a page, without squall), `01_timers`, `02_threads`,
//! `03_hand_future`, `04_tcp_echo`, `05_raw_http`, `06_fetch`, `07_tls`, and `trace_fetch` to
//! watch the loop's turns during one fetch (`cargo run --example 00_bones`, and so on).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use squall::escape::json_decode;
use squall::{AsyncHttpClient, ErrorKind, HttpRequest, IoLoop};

/// Size of the streamed download: big enough that progress is worth showing.
const BIG: usize = 8 * 1024 * 1024;

fn main() {
    let server = TourServer::start();
    let started = Instant::now();
    // The seed's last line: start the loop and run `main` to completion on it.
    IoLoop::current().run_sync(tour(server.base.clone(), server.connections.clone()));
    println!(
        "\nThe whole tour took {:.2} s.",
        started.elapsed().as_secs_f64()
    );
    println!(
        "Next, how it works, one rung at a time: cargo run --example 00_bones \
         (then 01_timers .. 07_tls, and trace_fetch)."
    );
}

/// The seed, step by step, then the extras. Every fetch goes through one client on one loop.
async fn tour(base: String, connections: Arc<AtomicUsize>) {
    section("0. The loop itself: timers, callbacks from another thread");
    the_loop().await;

    let client = AsyncHttpClient::new();

    section("1. GET, and the body as text");
    let response = client
        .fetch(format!("{base}/hello"))
        .await
        .expect("GET /hello");
    println!("HTTP {} {}", response.code, response.reason);
    println!("body: {:?}", response.text().expect("the body is UTF-8"));

    section("2. POST with a User-Agent header and a body");
    let request = HttpRequest::new(&format!("{base}/echo"))
        .method("POST")
        .header("User-Agent", "squall-tour/1.0")
        .header("Content-Type", "application/json")
        .body(r#"{"greeting": "hello", "from": "the tour"}"#);
    let response = client.fetch(request).await.expect("POST /echo");
    println!("HTTP {} {}", response.code, response.reason);

    section("3. json_decode of the JSON reply");
    let reply: serde_json::Value = json_decode(&response.body).expect("the server sends JSON");
    println!("the server saw method    {}", reply["method"]);
    println!("the server saw UA        {}", reply["user_agent"]);
    println!("the server saw the body  {}", reply["body"]);

    section("4. 100 concurrent fetches on one loop");
    let before = connections.load(Ordering::SeqCst);
    let t0 = Instant::now();
    let handles: Vec<_> = (0..100)
        .map(|i| {
            let client = client.clone();
            let url = format!("{base}/hello?n={i}");
            squall::ioloop::spawn(async move { client.fetch(url).await.map(|r| r.code) })
        })
        .collect();
    let mut ok = 0;
    for handle in handles {
        if let Ok(Ok(200)) = handle.await {
            ok += 1;
        }
    }
    let opened = connections.load(Ordering::SeqCst) - before;
    println!(
        "{ok}/100 answered 200 in {:.1} ms over {opened} new connection(s): \
         max_clients (10) caps the concurrency and keep-alive reuses sockets",
        t0.elapsed().as_secs_f64() * 1e3
    );

    section("5. A streamed download with progress");
    let mut stream = client
        .fetch_streaming(format!("{base}/big"))
        .await
        .expect("GET /big");
    let total: Option<u64> = stream
        .headers
        .get("Content-Length")
        .and_then(|v| v.parse().ok());
    let (mut got, mut next_mark) = (0u64, 0u64);
    while let Some(piece) = stream.chunk().await.expect("the download completes") {
        got += piece.len() as u64;
        if got >= next_mark {
            let pct = total.map_or(String::new(), |t| format!(" ({:3}%)", got * 100 / t));
            println!("  {:>9} bytes{pct}", got);
            next_mark += 2 * 1024 * 1024;
        }
    }
    println!("  {got} bytes in all, never more than one piece in memory");

    section("6. A redirect");
    let response = client
        .fetch(format!("{base}/old-place"))
        .await
        .expect("redirect");
    println!(
        "asked for /old-place, got HTTP {} from {} after {} redirect(s)",
        response.code,
        response.effective_url,
        response.num_redirects()
    );

    section("7. A 404 is an HttpError carrying the response");
    match client.fetch(format!("{base}/missing")).await {
        Ok(r) => println!("unexpected success: {}", r.code),
        Err(err) => {
            println!("error: {err}");
            let body = err.response().map(|r| r.body.len()).unwrap_or(0);
            println!(
                "code() = {}, and the response is still there ({body} body bytes)",
                err.code()
            );
        }
    }

    section("8. A timeout is a 599 that names its phase");
    let slow =
        HttpRequest::new(&format!("{base}/slow")).request_timeout(Duration::from_millis(300));
    match client.fetch(slow).await {
        Ok(r) => println!("unexpected success: {}", r.code),
        Err(err) => {
            assert!(matches!(err.kind(), ErrorKind::Timeout(_)));
            println!("error: {err} (code() = {})", err.code());
        }
    }
    client.close();
}

/// What every fetch below stands on: one thread, timers in a heap, and a waker that lets
/// other threads hand work to the loop.
async fn the_loop() {
    let io_loop = IoLoop::current();
    let t0 = io_loop.time();
    // Two timers, scheduled out of order: they fire in deadline order.
    io_loop.call_later(Duration::from_millis(20), move || {
        println!("  timer of 20 ms fired after {:?}", t0.elapsed())
    });
    io_loop.call_later(Duration::from_millis(10), move || {
        println!("  timer of 10 ms fired after {:?}", t0.elapsed())
    });
    // A thread hands a callback to the loop; the loop wakes from its poll to run it.
    let (tx, rx) = squall::ioloop::oneshot();
    let handle = io_loop.handle();
    thread::spawn(move || {
        thread::sleep(Duration::from_millis(5));
        handle.add_callback(move || {
            println!("  callback from another thread ran on the loop thread");
            let _ = tx.send(());
        });
    });
    let _ = rx.await;
    squall::ioloop::sleep(Duration::from_millis(30)).await;
    println!(
        "  slept 30 ms without blocking the loop ({:?} in all)",
        t0.elapsed()
    );
}

fn section(title: &str) {
    println!("\n== {title}");
}

/// A tiny HTTP/1.1 server for the tour: a thread per connection, keep-alive, a few routes.
struct TourServer {
    base: String,
    connections: Arc<AtomicUsize>,
}

impl TourServer {
    fn start() -> TourServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let base = format!("http://{}", listener.local_addr().expect("local address"));
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = connections.clone();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                counter.fetch_add(1, Ordering::SeqCst);
                thread::spawn(move || {
                    let _ = serve(stream);
                });
            }
        });
        println!("tour server listening on {base}");
        TourServer { base, connections }
    }
}

/// One connection: read requests until the client closes, answer each one.
fn serve(stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("/").to_string();
        let (mut length, mut user_agent) = (0usize, String::new());
        loop {
            let mut header = String::new();
            reader.read_line(&mut header)?;
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    "user-agent" => user_agent = value.trim().to_string(),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let path = target.split('?').next().unwrap_or("/");
        match path {
            "/hello" => reply(&mut out, "200 OK", "text/plain", b"Hello, world")?,
            "/echo" => {
                let json = serde_json::json!({
                    "method": method,
                    "user_agent": user_agent,
                    "body": String::from_utf8_lossy(&body),
                });
                reply(
                    &mut out,
                    "200 OK",
                    "application/json",
                    json.to_string().as_bytes(),
                )?
            }
            "/old-place" => out.write_all(
                b"HTTP/1.1 302 Found\r\nLocation: /hello\r\nContent-Length: 0\r\n\r\n",
            )?,
            "/big" => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\
                     Content-Length: {BIG}\r\n\r\n"
                );
                out.write_all(head.as_bytes())?;
                let piece = vec![b'x'; 64 * 1024];
                for _ in 0..BIG / piece.len() {
                    out.write_all(&piece)?;
                }
            }
            "/slow" => {
                thread::sleep(Duration::from_secs(2));
                reply(&mut out, "200 OK", "text/plain", b"too late")?
            }
            _ => reply(&mut out, "404 Not Found", "text/plain", b"no such page")?,
        }
    }
}

fn reply(
    out: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    // One write for head and body: two small writes would meet Nagle's algorithm on this
    // side and delayed ACKs on the client's, and every reply would wait ~40 ms.
    let mut reply = head.into_bytes();
    reply.extend_from_slice(body);
    out.write_all(&reply)
}
