//! Rung 5: HTTP by hand. `fetch` is a loop around two sans-IO pieces that never touch a
//! socket: `http::request::write_head` turns a request into bytes, and
//! `http::response::ResponseParser` turns bytes into events (`Head`, `Data`, `End`). Here we
//! drive them ourselves on a loopback `TcpStream`, against a server (a std thread) that
//! answers in two pieces with a chunked body. This is what `src/client/exchange.rs` automates,
//! plus pooling, timeouts, redirects and decoding.
//!
//! Run it: `cargo run --example 05_raw_http`.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener as StdListener};
use std::thread;
use std::time::Duration;

use squall::HttpHeaders;
use squall::IoLoop;
use squall::http::request::{BodyFraming, write_head};
use squall::http::response::{Event, Limits, ResponseParser};
use squall::ioloop::TcpStream;

/// One request in, one chunked reply out, sent in two writes with a pause between.
fn server(listener: StdListener) {
    let (stream, _) = listener.accept().unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 2 {
        print!("server <- {line}");
        line.clear();
    }
    let mut out = stream;
    out.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello,\r\n")
        .unwrap();
    thread::sleep(Duration::from_millis(20)); // the client's next read waits for this
    out.write_all(b"7\r\n world!\r\n0\r\n\r\n").unwrap();
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = StdListener::bind("127.0.0.1:0")?;
    let addr: SocketAddr = listener.local_addr()?;
    let server = thread::spawn(move || server(listener));

    let body = IoLoop::new().run_sync(async move {
        // 1. The request head, as bytes (validated first: a CR in a header would be refused).
        let mut headers = HttpHeaders::new();
        headers.add("User-Agent", "05_raw_http");
        let mut wire = Vec::new();
        write_head(
            "GET",
            "/hello",
            &addr.to_string(),
            &headers,
            BodyFraming::None,
            &mut wire,
        )?;
        // 2. Out through the socket.
        let stream = TcpStream::connect(addr).await?;
        stream.write_all(&wire).await?;
        // 3. Bytes in, events out. The parser may consume part of a buffer; feed it the rest.
        let mut parser = ResponseParser::new("GET", Limits::default());
        let (mut buf, mut body) = (vec![0u8; 64 * 1024], Vec::new());
        loop {
            let n = stream.read(&mut buf).await?;
            println!("client: read {n} bytes");
            if n == 0 {
                parser.eof()?; // closed early: an error that names what is missing
                break;
            }
            let mut input = &buf[..n];
            loop {
                let (used, event) = parser.parse(input)?;
                input = &input[used..];
                match event {
                    Some(Event::Head(head)) => {
                        println!("client: head {}", head.status_line().trim_end())
                    }
                    Some(Event::Data(d)) => body.extend_from_slice(d),
                    Some(Event::End { keep_alive }) => {
                        println!("client: end of message, keep-alive {keep_alive}");
                        return Ok::<_, Box<dyn std::error::Error>>(body);
                    }
                    Some(_) => {}
                    None if used == 0 => break, // needs more bytes
                    None => {}
                }
            }
        }
        Ok(body)
    })?;
    server.join().unwrap();
    println!("body: {:?}", String::from_utf8_lossy(&body));
    assert_eq!(body, b"hello, world!");
    Ok(())
}

// Try this: make the server send `Content-Length: 13` with `Transfer-Encoding: chunked`.
// The parser refuses the head ("Message with both Transfer-Encoding and Content-Length",
// Tornado's S-10): such a reply is how request smuggling starts, so it is never guessed at.
