//! End-to-end tests of the `squall` binary, with `docs/cli.md` as the contract: each option,
//! each exit code that loopback can produce, streaming, output order, against std-thread
//! servers the tests start on 127.0.0.1 ephemeral ports (canned replies, raw bytes, resets).
//! Exit 6 (DNS) uses a name with a 64-octet label: RFC 1035 caps labels at 63, so the system
//! resolver refuses it without sending a query off the machine.
//!
//! One module per part of the contract (usage, bodies, several URLs, requests, heads, exit
//! codes, TLS, bench); the runners, assertions and servers they share are here.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::cli::{
    LIMIT, cmd, run_bounded, squall, squall_stdin, stderr, stdout, wait_bounded,
};
use crate::support::proc::status_kib;
use crate::support::server::{Server, closed_port, gzip, resp_status};
use crate::support::tls::{Ca, TempDir, serve_every_request, server_config};

mod bench;
mod bodies;
mod exit_codes;
mod heads;
mod requests;
mod several_urls;
mod tls;
mod usage;
// ------------------------------------------------------------------------------------------
// Running the binary
// ------------------------------------------------------------------------------------------

#[track_caller]
fn assert_code(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "exit code; stderr: {:?}; stdout: {:?}",
        stderr(o),
        String::from_utf8_lossy(&o.stdout[..o.stdout.len().min(500)])
    );
}

/// A failure: the exit code, and one line `squall: ...` on stderr.
#[track_caller]
fn assert_fails(o: &Output, code: i32) {
    assert_code(o, code);
    let e = stderr(o);
    assert!(e.starts_with("squall: "), "{e:?}");
    assert_eq!(e.lines().count(), 1, "one line: {e:?}");
}

/// A usage error: exit 2, one line `squall: <reason>` on stderr, nothing on stdout.
#[track_caller]
fn assert_usage(args: &[&str], needle: &str) {
    let o = squall(args);
    assert_fails(&o, 2);
    assert!(
        stderr(&o).contains(needle),
        "{args:?}: {:?} lacks {needle:?}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty());
}

fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("squall-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

// ------------------------------------------------------------------------------------------
// Test servers
// ------------------------------------------------------------------------------------------

/// Write a complete response with a Content-Length.
fn respond(s: &mut TcpStream, status: &str, headers: &[(&str, &str)], body: &[u8]) {
    let _ = s.write_all(&resp_status(status, headers, body));
}

/// A server that answers every request with 200 and `body`.
fn ok_server(body: &'static [u8]) -> Server {
    Server::start_writing(move |_, s| {
        respond(s, "200 OK", &[("Content-Type", "text/plain")], body);
        true
    })
}

/// A server that answers one request with `raw` bytes, then closes.
fn raw_server(raw: &'static [u8]) -> Server {
    Server::start_writing(move |_, s| {
        let _ = s.write_all(raw);
        let _ = s.flush();
        let _ = s.shutdown(Shutdown::Write);
        // Let the client read everything before the socket goes away.
        thread::sleep(Duration::from_millis(200));
        false
    })
}

/// The server saw no connection (given a moment for a connect in flight to be counted).
#[track_caller]
fn assert_no_connection(s: &Server) {
    thread::sleep(Duration::from_millis(150));
    assert_eq!(s.conns(), 0, "nothing may be sent");
}
