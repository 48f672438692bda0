//! A real HTTP proxy for the tests, on a loopback ephemeral port: it forwards absolute-form
//! requests (`GET http://host:port/path HTTP/1.1`) to the origin in origin-form, and opens
//! `CONNECT` tunnels, as squid or any forward proxy would. It exists so that the proxy tests
//! exercise the client against a proxy's whole job, not a canned reply.
//!
//! It only ever connects to 127.0.0.1: every host name resolves there (so a test can name
//! the origin `origin.test` and prove that the proxy, not the client, resolved it). It
//! records every head it receives, can demand credentials (407 without them), and can refuse
//! tunnels with a status of the test's choosing. [`TlsOrigin`] (in `tls_origin.rs`) is an
//! https origin to reach through its tunnels. It uses the [`server`](super::server) and
//! [`tls`](super::tls) support beside it.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

// The https origin for the tunnel tests: TLS-only, in a file of its own.
pub mod tls_origin;
#[allow(unused_imports)] // only the binaries with proxy tests name it
pub use tls_origin::TlsOrigin;

/// How the proxy behaves.
#[derive(Clone, Debug, Default)]
pub struct ProxyOptions {
    /// Demand this exact `Proxy-Authorization` value; 407 otherwise.
    pub require_auth: Option<String>,
    /// Answer every `CONNECT` with this status instead of opening the tunnel.
    pub refuse_connect: Option<u16>,
}

/// A running proxy.
pub struct TestProxy {
    pub addr: SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
    conns: Arc<AtomicUsize>,
}

impl TestProxy {
    /// A proxy that forwards and tunnels anything.
    pub fn start() -> TestProxy {
        TestProxy::with(ProxyOptions::default())
    }

    pub fn with(opts: ProxyOptions) -> TestProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let conns = Arc::new(AtomicUsize::new(0));
        let (h2, c2) = (heads.clone(), conns.clone());
        thread::spawn(move || {
            for s in listener.incoming() {
                let Ok(s) = s else { continue };
                c2.fetch_add(1, Ordering::SeqCst);
                let (heads, opts) = (h2.clone(), opts.clone());
                thread::spawn(move || serve(s, &heads, &opts));
            }
        });
        TestProxy { addr, heads, conns }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:<port>`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request head received, in order.
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }

    /// Connections accepted.
    pub fn conns(&self) -> usize {
        self.conns.load(Ordering::SeqCst)
    }
}

/// The value of `name` in a head, if present.
pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Asserts that `head` is a `CONNECT` to `origin.test:<port>` carrying exactly this
/// `Proxy-Authorization` (or none).
#[track_caller]
pub fn assert_connect(head: &str, port: u16, auth: Option<&str>) {
    let want = format!("CONNECT origin.test:{port} HTTP/1.1\r\n");
    assert!(head.starts_with(&want), "{head}");
    assert_eq!(header(head, "Proxy-Authorization"), auth, "{head}");
}

fn read_head(s: &mut TcpStream) -> Option<String> {
    String::from_utf8(crate::support::server::read_head(s)?).ok()
}

fn answer(s: &mut TcpStream, code: u16, extra: &str) {
    let reason = match code {
        400 => "Bad Request",
        403 => "Forbidden",
        407 => "Proxy Authentication Required",
        502 => "Bad Gateway",
        _ => "Status",
    };
    let _ = s.write_all(
        format!("HTTP/1.1 {code} {reason}\r\n{extra}Content-Length: 0\r\n\r\n").as_bytes(),
    );
}

/// `host:port` of an authority (`[v6]:port` too) as a loopback address with that port.
fn loopback(authority: &str) -> Option<SocketAddr> {
    let port: u16 = authority.rsplit_once(':')?.1.parse().ok()?;
    Some(SocketAddr::from(([127, 0, 0, 1], port)))
}

fn serve(mut client: TcpStream, heads: &Mutex<Vec<String>>, opts: &ProxyOptions) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(30)));
    // Several requests may come on one kept-alive connection.
    while let Some(head) = read_head(&mut client) {
        heads.lock().unwrap().push(head.clone());
        let mut line = head.split("\r\n").next().unwrap_or("").split(' ');
        let (method, target) = (line.next().unwrap_or(""), line.next().unwrap_or(""));
        if let Some(want) = &opts.require_auth
            && header(&head, "Proxy-Authorization") != Some(want.as_str())
        {
            answer(
                &mut client,
                407,
                "Proxy-Authenticate: Basic realm=\"test\"\r\n",
            );
            continue;
        }
        if method == "CONNECT" {
            if let Some(code) = opts.refuse_connect {
                answer(&mut client, code, "");
                return;
            }
            tunnel(client, target);
            return;
        }
        if !forward(&mut client, method, target, &head) {
            return;
        }
    }
}

/// Pipes bytes both ways between the client and the origin named by `authority`.
fn tunnel(mut client: TcpStream, authority: &str) {
    let Some(origin) = loopback(authority).and_then(|a| TcpStream::connect(a).ok()) else {
        answer(&mut client, 502, "");
        return;
    };
    let _ = client.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n");
    let (mut c2, mut o2) = (client.try_clone().unwrap(), origin.try_clone().unwrap());
    let up = thread::spawn(move || {
        let _ = std::io::copy(&mut c2, &mut o2);
        let _ = o2.shutdown(Shutdown::Write);
    });
    let (mut o3, mut c3) = (origin, client);
    let _ = std::io::copy(&mut o3, &mut c3);
    let _ = c3.shutdown(Shutdown::Write);
    let _ = up.join();
}

/// Forwards one absolute-form request in origin-form (without the proxy's own fields) on a
/// new connection to the origin, and relays the answer. False when the client connection
/// cannot go on.
fn forward(client: &mut TcpStream, method: &str, target: &str, head: &str) -> bool {
    let Some(rest) = target.strip_prefix("http://") else {
        answer(client, 400, "");
        return false;
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let authority_with_port = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| !p.contains(']'))
    {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let Some(mut origin) = loopback(&authority_with_port).and_then(|a| TcpStream::connect(a).ok())
    else {
        answer(client, 502, "");
        return false;
    };
    let mut out = format!("{method} {path} HTTP/1.1\r\n");
    let mut length = 0usize;
    for line in head.split("\r\n").skip(1).filter(|l| !l.is_empty()) {
        let name = line.split(':').next().unwrap_or("").trim();
        if name.eq_ignore_ascii_case("Content-Length") {
            length = line[name.len() + 1..].trim().parse().unwrap_or(0);
        }
        if ["Proxy-Authorization", "Proxy-Connection", "Connection"]
            .iter()
            .any(|n| n.eq_ignore_ascii_case(name))
        {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    let mut body = vec![0u8; length];
    if client.read_exact(&mut body).is_err() {
        return false;
    }
    if origin.write_all(out.as_bytes()).is_err() || origin.write_all(&body).is_err() {
        answer(client, 502, "");
        return false;
    }
    // The answer: its head, then a Content-Length body (or everything up to the close).
    let _ = origin.set_read_timeout(Some(Duration::from_secs(30)));
    let Some(reply_head) = read_head(&mut origin) else {
        answer(client, 502, "");
        return false;
    };
    let mut reply = reply_head.clone().into_bytes();
    match header(&reply_head, "Content-Length").and_then(|v| v.parse::<usize>().ok()) {
        _ if method == "HEAD" => {}
        Some(n) => {
            let mut body = vec![0u8; n];
            if origin.read_exact(&mut body).is_err() {
                return false;
            }
            reply.extend_from_slice(&body);
        }
        None => {
            let _ = origin.read_to_end(&mut reply);
        }
    }
    client.write_all(&reply).is_ok()
}

/// The `Authorization`/`Proxy-Authorization` value for `user:pass` (RFC 7617).
pub fn basic(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        squall::client::request::base64(format!("{user}:{pass}").as_bytes())
    )
}
