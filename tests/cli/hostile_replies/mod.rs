//! Black-box tests of the `squall` binary against hostile servers: every case is raw canned
//! bytes from a std-thread server on 127.0.0.1, and the verdict is the exit code that
//! `docs/cli.md` names (its "How replies are judged" section and exit-code table), plus stdout
//! where the bytes matter. The cases are written from RFC 9112 (framing), RFC 9110 (semantics), RFC 1952
//! (gzip) and RFC 3986 (URLs); where the RFC leaves a choice, the comment beside the case says
//! which section decided it.
//!
//! Each server answers one canned reply per connection, then closes its side (a FIN, never a
//! reset unless the case asks for one). Cases run in a table per topic; a failing table lists
//! every case that failed, not only the first.
//!
//! One module per topic (status lines, field lines, framing, chunked, codings, hangs,
//! keep-alive, redirects, URLs, `-w`/`-i`/`-I`); the table runner and reply builders they
//! share are here.

use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::canned::{Reply, once, read_request, serve};
use crate::support::cli::squall;
use crate::support::server::{Server, gzip, write};

/// One table row: the server's bytes, extra arguments, the exit code, and (when given) the
/// exact stdout.
mod chunked;
mod codings;
mod field_lines;
mod framing;
mod hangs;
mod keep_alive;
mod redirects;
mod status_lines;
mod urls;
mod write_out;

struct Case {
    name: &'static str,
    reply: Vec<u8>,
    args: Vec<&'static str>,
    code: i32,
    stdout: Option<Vec<u8>>,
}

fn case(name: &'static str, reply: impl AsRef<[u8]>, code: i32) -> Case {
    Case {
        name,
        reply: reply.as_ref().to_vec(),
        args: Vec::new(),
        code,
        stdout: None,
    }
}

impl Case {
    fn out(mut self, s: impl AsRef<[u8]>) -> Case {
        self.stdout = Some(s.as_ref().to_vec());
        self
    }
    fn args(mut self, a: &[&'static str]) -> Case {
        self.args = a.to_vec();
        self
    }
}

/// Runs every case (in parallel, a few at a time) and fails listing each mismatch.
fn run_table(cases: Vec<Case>) {
    let failures = Arc::new(Mutex::new(Vec::new()));
    for group in cases.chunks(8) {
        thread::scope(|sc| {
            for c in group {
                let failures = failures.clone();
                sc.spawn(move || {
                    let s = once(&c.reply);
                    let url = s.url("/");
                    let mut args: Vec<&str> = vec!["-s"];
                    args.extend(c.args.iter().copied());
                    args.push(&url);
                    let o = squall(&args);
                    let err = String::from_utf8_lossy(&o.stderr).into_owned();
                    let mut bad = Vec::new();
                    if o.status.code() != Some(c.code) {
                        bad.push(format!("exit {:?}, expected {}", o.status.code(), c.code));
                    }
                    if let Some(want) = &c.stdout
                        && &o.stdout != want
                    {
                        bad.push(format!(
                            "stdout {:?}, expected {:?}",
                            String::from_utf8_lossy(&o.stdout),
                            String::from_utf8_lossy(want)
                        ));
                    }
                    if c.code != 0 && !(err.starts_with("squall: ") && err.lines().count() == 1) {
                        bad.push("a failure prints one line `squall: ...`".to_string());
                    }
                    if !bad.is_empty() {
                        failures.lock().unwrap().push(format!(
                            "{}: {} (stderr {:?})",
                            c.name,
                            bad.join("; "),
                            err.trim_end()
                        ));
                    }
                });
            }
        });
    }
    let f = failures.lock().unwrap();
    assert!(
        f.is_empty(),
        "{} case(s) failed:\n{}",
        f.len(),
        f.join("\n")
    );
}

const OK: &str = "HTTP/1.1 200 OK\r\n";
const CH: &str = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn redirect(code: u16, location: &str) -> Reply {
    Reply::Close(
        format!("HTTP/1.1 {code} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n")
            .into_bytes(),
    )
}

fn ok_reply(body: &str) -> Reply {
    Reply::Close(format!("{OK}Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes())
}

fn with_ce(coding: &str, body: &[u8]) -> Vec<u8> {
    cat(&[
        format!(
            "{OK}Content-Encoding: {coding}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
        body,
    ])
}
