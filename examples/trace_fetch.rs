//! Watch one fetch, turn by turn. The loop's trace (see `squall::ioloop::LoopTrace`) prints
//! one line per turn of the event loop: how long the poll could block and why, the socket
//! events it returned, and what ran. A fetch from a loopback server takes only a handful of
//! turns: connect (the socket becomes writable), write the request, wait for the reply (the
//! socket becomes readable), done. Most of the work happens in `run_sync`'s own future,
//! which the loop polls right after a turn that woke it ("+ run_sync's future").
//!
//! Run it: `cargo run --example trace_fetch` (the trace goes to stderr), or
//! `cargo run --example trace_fetch -- fetch.json` to also write a Chrome Trace Event file
//! for https://ui.perfetto.dev. `SQUALL_TRACE=1` does the same for any program.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::net::TcpListener;
use std::thread;

use squall::ioloop::LoopTrace;
use squall::{AsyncHttpClient, IoLoop};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A server that answers one request, after a pause, so one turn visibly waits for it.
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}/hello", listener.local_addr()?);
    thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 2 {
            line.clear();
        }
        thread::sleep(std::time::Duration::from_millis(10));
        let mut out = stream;
        out.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nHello, world")
            .unwrap();
    });

    let io_loop = IoLoop::new();
    let json = std::env::args().nth(1);
    io_loop.set_trace(Some(match &json {
        Some(path) => LoopTrace::chrome_json(BufWriter::new(File::create(path)?)),
        None => LoopTrace::text(std::io::stderr()),
    }));
    let response = io_loop.run_sync(async {
        let client = AsyncHttpClient::new();
        client.fetch(url).await
    })?;
    let trace = io_loop.set_trace(None).expect("installed above");
    println!(
        "HTTP {} {:?} in {} turns of the loop",
        response.code,
        response.text()?,
        trace.turns()
    );
    drop(trace); // a JSON trace is complete (closing bracket, flushed) once dropped
    if let Some(path) = json {
        println!("wrote {path}: open it in https://ui.perfetto.dev or chrome://tracing");
    }
    Ok(())
}

// Try this: let the server answer two requests on its connection (a `for _ in 0..2` around
// its read-and-reply) and fetch the URL twice in the same `run_sync`. The second fetch takes a
// single turn: the pool hands back the open connection, so there is no connect and no
// `writable` edge to wait for; the request is written at once and the turn waits for the reply.
