//! Canned-reply servers: each connection gets raw bytes chosen before the test runs, whatever
//! it asked, which is how hostile replies (cut bodies, bad framing, resets) are served. The
//! request read on each connection is kept, so a test can also check what was sent.
//!
//! A server answers connection *i* with `replies[i]` (the last one again after that) and
//! then closes its side the way the [`Reply`] says: a FIN after draining what the client
//! still sends (so unread bytes never turn the close into a reset), a hold, or a reset.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// What the server does on one connection, after reading the request.
#[derive(Clone)]
pub enum Reply {
    /// Write the bytes, then close (FIN).
    Close(Vec<u8>),
    /// Write the bytes, then keep the connection open for a long while (a hang detector).
    Hold(Vec<u8>),
    /// Write the bytes, then reset the connection (SO_LINGER 0).
    Reset(Vec<u8>),
}

/// A running canned server on 127.0.0.1 and the requests it read, in order.
pub struct Canned {
    pub port: u16,
    requests: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Canned {
    /// A server that answers every connection with `reply`, then closes: [`once`].
    pub fn new(reply: &[u8]) -> Canned {
        once(reply)
    }

    /// A server that answers every connection with a 200 carrying `body`.
    pub fn ok(body: &str) -> Canned {
        once(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// Each request as read (its head and its Content-Length body), as text.
    pub fn requests(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .map(|r| String::from_utf8_lossy(r).into_owned())
            .collect()
    }

    /// The request lines received, in order.
    pub fn request_lines(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|s| s.split("\r\n").next().unwrap_or("").to_string())
            .collect()
    }
}

/// Reads a request head and its Content-Length body, if any; `None` if the peer closed or
/// stalled before the head was complete.
pub fn read_request(s: &mut impl Read) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut b = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut b).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&b[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let len: usize = head
        .split("\r\n")
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = s.read(&mut b).ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&b[..n]);
    }
    Some(buf)
}

/// A server that answers connection i with `replies[i]` (the last one again after that).
pub fn serve(replies: Vec<Reply>) -> Canned {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = requests.clone();
    thread::spawn(move || {
        for (i, conn) in l.incoming().enumerate() {
            let Ok(mut s) = conn else { return };
            let reply = replies.get(i).or(replies.last()).cloned().expect("a reply");
            let log = log.clone();
            thread::spawn(move || {
                let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                let Some(req) = read_request(&mut s) else {
                    return;
                };
                log.lock().unwrap().push(req);
                match reply {
                    Reply::Close(bytes) => {
                        let _ = s.write_all(&bytes);
                        let _ = s.shutdown(Shutdown::Write);
                        // Drain until the client closes, so that unread bytes never turn
                        // the close into a reset.
                        let _ = s.set_read_timeout(Some(Duration::from_secs(3)));
                        let mut sink = [0u8; 4096];
                        while matches!(s.read(&mut sink), Ok(n) if n > 0) {}
                    }
                    Reply::Hold(bytes) => {
                        let _ = s.write_all(&bytes);
                        thread::sleep(Duration::from_secs(20));
                    }
                    Reply::Reset(bytes) => {
                        let _ = s.write_all(&bytes);
                        thread::sleep(Duration::from_millis(100));
                        let _ = socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO));
                    }
                }
            });
        }
    });
    Canned { port, requests }
}

/// A server that answers every connection with `bytes`, then closes (FIN).
pub fn once(bytes: &[u8]) -> Canned {
    serve(vec![Reply::Close(bytes.to_vec())])
}
