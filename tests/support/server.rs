//! A small std-thread HTTP/1.1 test server for the client tests: one thread per connection,
//! loopback, ephemeral port. Each request is parsed (head, Content-Length or chunked body)
//! and handed to the test's handler, which answers with a list of [`Step`]s: raw bytes to
//! write, pauses, a close. The server counts connections and records every request, so a
//! test can prove keep-alive (one connection, many requests) or see exactly what was sent.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Req {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Which connection (0, 1, ...) it came on.
    pub conn: usize,
    /// Its index on that connection.
    pub nth_on_conn: usize,
    pub raw_head: Vec<u8>,
    pub chunked: bool,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
}

/// What the server does for one request.
#[derive(Clone, Debug)]
pub enum Step {
    Write(Vec<u8>),
    Sleep(Duration),
    /// Close the connection (after the steps before it).
    Close,
    /// Reset the connection (SO_LINGER 0).
    Reset,
}

pub fn write(b: impl Into<Vec<u8>>) -> Step {
    Step::Write(b.into())
}

/// A complete response with Content-Length, its reason phrase the standard one.
pub fn resp(code: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    resp_status(&format!("{code} {}", reason(code)), headers, body)
}

/// A complete response with Content-Length and the status line `HTTP/1.1 {status}`.
pub fn resp_status(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n").into_bytes();
    for (n, v) in headers {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

pub fn ok(body: &[u8]) -> Vec<Step> {
    vec![Step::Write(resp(200, &[], body))]
}

/// `reply` after a pause of `delay`: a slow server, for timeouts and queueing.
pub fn late(delay: Duration, reply: Vec<u8>) -> Vec<Step> {
    vec![Step::Sleep(delay), Step::Write(reply)]
}

pub fn reason(code: u16) -> &'static str {
    match code {
        100 => "Continue",
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Whatever",
    }
}

/// What the server runs for each request: it answers on the connection itself and says
/// whether the connection stays open for another request.
type Handler = dyn Fn(&Req, &mut TcpStream) -> bool + Send + Sync;

pub struct Server {
    pub addr: SocketAddr,
    pub connections: Arc<AtomicUsize>,
    pub requests: Arc<Mutex<Vec<Req>>>,
    /// Connections currently open on the server side.
    pub open: Arc<AtomicUsize>,
    pub max_open: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Server {
    /// A server whose `handler` answers each request with [`Step`]s.
    pub fn start(handler: impl Fn(&Req) -> Vec<Step> + Send + Sync + 'static) -> Server {
        Server::start_writing(move |req, out| play(&handler(req), out))
    }

    /// A server whose `handler` writes each answer on the connection itself and returns
    /// whether the connection stays open for another request.
    pub fn start_writing(
        handler: impl Fn(&Req, &mut TcpStream) -> bool + Send + Sync + 'static,
    ) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let open = Arc::new(AtomicUsize::new(0));
        let max_open = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        {
            let (connections, requests, open, max_open, stop) = (
                connections.clone(),
                requests.clone(),
                open.clone(),
                max_open.clone(),
                stop.clone(),
            );
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let id = connections.fetch_add(1, Ordering::SeqCst);
                    let now = open.fetch_add(1, Ordering::SeqCst) + 1;
                    max_open.fetch_max(now, Ordering::SeqCst);
                    let (handler, requests, open) =
                        (handler.clone(), requests.clone(), open.clone());
                    thread::spawn(move || {
                        serve(stream, id, &*handler, &requests);
                        open.fetch_sub(1, Ordering::SeqCst);
                    });
                }
            });
        }
        Server {
            addr,
            connections,
            requests,
            open,
            max_open,
            stop,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn conns(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn reqs(&self) -> Vec<Req> {
        self.requests.lock().unwrap().clone()
    }

    pub fn last(&self) -> Req {
        self.reqs().last().cloned().expect("a request")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(stream: TcpStream, conn: usize, handler: &Handler, log: &Mutex<Vec<Req>>) {
    let mut out = stream.try_clone().unwrap();
    let mut rd = BufReader::new(stream);
    let mut nth = 0;
    loop {
        let Some(req) = read_request(&mut rd, &mut out, conn, nth) else {
            return;
        };
        nth += 1;
        log.lock().unwrap().push(req.clone());
        if !handler(&req, &mut out) {
            return;
        }
    }
}

/// Plays `steps` on the connection; false once it is closed, reset or broken.
fn play(steps: &[Step], out: &mut TcpStream) -> bool {
    for step in steps {
        match step {
            Step::Write(b) => {
                if out.write_all(b).is_err() {
                    return false;
                }
            }
            Step::Sleep(d) => thread::sleep(*d),
            Step::Close => {
                let _ = out.shutdown(Shutdown::Both);
                return false;
            }
            Step::Reset => {
                let s = socket2::SockRef::from(&*out);
                let _ = s.set_linger(Some(Duration::ZERO));
                return false;
            }
        }
    }
    true
}

fn read_request(
    rd: &mut BufReader<TcpStream>,
    out: &mut TcpStream,
    conn: usize,
    nth: usize,
) -> Option<Req> {
    let mut raw = Vec::new();
    loop {
        let mut line = Vec::new();
        let n = rd.read_until(b'\n', &mut line).ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&line);
        if line == b"\r\n" || line == b"\n" {
            break;
        }
    }
    let text = String::from_utf8_lossy(&raw).to_string();
    let mut lines = text.split("\r\n");
    let first = lines.next()?;
    let mut parts = first.split(' ');
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    for l in lines {
        if l.is_empty() {
            continue;
        }
        if let Some((n, v)) = l.split_once(':') {
            headers.push((n.to_string(), v.trim().to_string()));
        }
    }
    // Header values as raw bytes would need latin-1; tests that care read raw_head.
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _): &&(String, String)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    if find("Expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        let _ = out.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
    }
    let mut body = Vec::new();
    let chunked = find("Transfer-Encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    if chunked {
        loop {
            let mut line = String::new();
            rd.read_line(&mut line).ok()?;
            let size = usize::from_str_radix(line.trim().split(';').next()?, 16).ok()?;
            if size == 0 {
                // Trailers, if any, up to the empty line.
                loop {
                    let mut line = String::new();
                    rd.read_line(&mut line).ok()?;
                    if line.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
            let mut chunk = vec![0; size + 2];
            rd.read_exact(&mut chunk).ok()?;
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(cl) = find("Content-Length") {
        let n: usize = cl.parse().ok()?;
        body.resize(n, 0);
        rd.read_exact(&mut body).ok()?;
    }
    Some(Req {
        method,
        target,
        headers,
        body,
        conn,
        nth_on_conn: nth,
        raw_head: raw,
        chunked,
    })
}

/// A server that accepts and then runs `f` on each raw connection (for byte-exact tests).
pub fn raw_server(
    f: impl Fn(TcpStream, usize) + Send + Sync + 'static,
) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let c2 = count.clone();
    let f = Arc::new(f);
    thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(s) = s else { continue };
            let id = c2.fetch_add(1, Ordering::SeqCst);
            let f = f.clone();
            thread::spawn(move || f(s, id));
        }
    });
    (addr, count)
}

/// Reads one request head (to the blank line) from a raw connection.
pub fn read_head(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut b) {
            Ok(1) => head.push(b[0]),
            _ => return None,
        }
    }
    Some(head)
}

/// gzip-compresses `data`.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Runs `f` on this thread's loop.
pub fn run<F: std::future::Future>(f: F) -> F::Output {
    squall::IoLoop::current().run_sync(f)
}

/// A loopback port with nothing listening on it: bind an ephemeral port, then drop the
/// listener. (Very likely closed until the kernel hands it out again.)
pub fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `Cell` that a request callback can hold: callbacks must be `Send`, so what a test shares
/// with one sits behind an `Arc<Mutex<_>>`. Clone it into the callback; `get`/`set` anywhere.
#[derive(Clone, Debug, Default)]
pub struct SharedCell<T>(Arc<Mutex<T>>);

impl<T: Copy> SharedCell<T> {
    pub fn new(v: T) -> SharedCell<T> {
        SharedCell(Arc::new(Mutex::new(v)))
    }
    pub fn get(&self) -> T {
        *self.0.lock().unwrap()
    }
    pub fn set(&self, v: T) {
        *self.0.lock().unwrap() = v;
    }
}
