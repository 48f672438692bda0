//! Rung 6: the seed's day. Everything below rung 5 disappears behind one call:
//! `client.fetch(request).await` queues the request, takes a pooled connection (or connects),
//! writes the head and body, parses the reply and hands back an `HttpResponse`. A status
//! outside 2xx is an `HttpError` that still carries the response, as in Tornado.
//! `docs/walkthrough.md` follows one fetch from this call down to write(2) and back.
//!
//! Run it: `cargo run --example 06_fetch` (then `examples/trace_fetch.rs` to watch its turns).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

use squall::escape::json_decode;
use squall::{AsyncHttpClient, HttpRequest, IoLoop};

async fn day(base: String) -> Result<(), Box<dyn std::error::Error>> {
    let client = AsyncHttpClient::new();

    let response = client.fetch(format!("{base}/hello")).await?;
    println!(
        "GET  /hello -> {} {}: {:?}",
        response.code,
        response.reason,
        response.text()?
    );

    let request = HttpRequest::new(&format!("{base}/echo"))
        .method("POST")
        .header("User-Agent", "seed/1.0")
        .body("hello from squall");
    let response = client.fetch(request).await?;
    let reply: serde_json::Value = json_decode(&response.body)?;
    println!(
        "POST /echo  -> the server saw {} and {}",
        reply["user_agent"], reply["body"]
    );

    match client.fetch(format!("{base}/missing")).await {
        Err(e) => println!("GET  /missing -> error {e} (code {})", e.code()),
        Ok(r) => println!("GET  /missing -> unexpected {}", r.code),
    }
    let t = response.time_info;
    println!(
        "POST timing: connect {:?}, first byte {:?}, total {:?}",
        t.connect, t.first_byte, t.total
    );
    Ok(())
}

fn main() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || serve(stream));
        }
    });
    IoLoop::current()
        .run_sync(day(base))
        .expect("the day goes well");
}

/// A keep-alive HTTP/1.1 server in a few lines: enough for this rung, not for the world.
fn serve(stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap_or(0) > 0 {
        let target = line.split(' ').nth(1).unwrap_or("/").to_string();
        let (mut length, mut agent) = (0, String::new());
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            let Some((name, value)) = line.trim_end().split_once(": ") else {
                break;
            };
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse().unwrap(),
                "user-agent" => agent = value.to_string(),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let (status, reply) = match target.as_str() {
            "/hello" => ("200 OK", "Hello, world".to_string()),
            "/echo" => (
                "200 OK",
                serde_json::json!({"user_agent": agent, "body": String::from_utf8_lossy(&body)})
                    .to_string(),
            ),
            _ => ("404 Not Found", "no such page".to_string()),
        };
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\n\r\n",
            reply.len()
        );
        out.write_all((head + &reply).as_bytes()).unwrap();
        line.clear();
    }
}

// Try this: count the connections in `main`'s accept loop (print a counter per stream). The
// three fetches share one: the pool keeps it alive between them. Add
// `.header("Connection", "close")` to the POST and the count becomes 2.
