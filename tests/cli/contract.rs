//! End-to-end tests of the `squall` binary, with `shared/cli.md` as the contract: each option,
//! each exit code that loopback can produce, streaming, output order, against std-thread
//! servers the tests start on 127.0.0.1 ephemeral ports (canned replies, raw bytes, resets).
//! Exit 6 (DNS) uses a name with a 64-octet label: RFC 1035 caps labels at 63, so the system
//! resolver refuses it without sending a query off the machine.

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

// ------------------------------------------------------------------------------------------
// Usage, help, version
// ------------------------------------------------------------------------------------------

#[test]
fn help_lists_every_option_one_line_each() {
    let o = squall(&["--help"]);
    assert_code(&o, 0);
    let h = stdout(&o);
    for opt in [
        "-X, --request",
        "-H, --header",
        "-d, --data",
        "--data-binary",
        "--json",
        "-u, --user",
        "-A, --user-agent",
        "-o, --output",
        "-i, --include",
        "-I, --head",
        "-f, --fail",
        "--no-follow",
        "-L, --location",
        "--compressed",
        "--max-redirects",
        "--connect-timeout",
        "-m, --max-time",
        "--cacert",
        "--cert",
        "--key",
        "-k, --insecure",
        "--raw",
        "--max-body-size",
        "--max-filesize",
        "--resolve",
        "-w, --write-out",
        "-v, --verbose",
        "-s, --silent",
        "-P, --parallel",
        "--trace-loop",
        "-h, --help",
        "-V, --version",
    ] {
        let lines = h.lines().filter(|l| l.contains(opt)).count();
        assert!(lines >= 1, "--help lacks {opt}");
    }
    assert_eq!(squall(&["-h"]).stdout, o.stdout);
    let b = squall(&["bench", "--help"]);
    assert_code(&b, 0);
    for opt in ["-n", "-c", "-d", "--insecure", "--cacert", "--no-keepalive"] {
        assert!(stdout(&b).contains(opt), "bench --help lacks {opt}");
    }
}

#[test]
fn version_prints_the_package_version_on_stdout() {
    for v in ["-V", "--version"] {
        let o = squall(&[v]);
        assert_code(&o, 0);
        assert_eq!(
            stdout(&o),
            format!("squall {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    assert_usage(&[], "no URL");
    assert_usage(&["-s"], "no URL");
    assert_usage(&["--frobnicate", "http://127.0.0.1:9/"], "--frobnicate");
    assert_usage(&["-m", "soon", "http://127.0.0.1:9/"], "max-time");
    assert_usage(
        &["--connect-timeout", "-3", "http://127.0.0.1:9/"],
        "connect-timeout",
    );
    assert_usage(&["-P", "0", "http://127.0.0.1:9/"], "parallel");
    assert_usage(
        &["--max-body-size", "big", "http://127.0.0.1:9/"],
        "max-body-size",
    );
    assert_usage(&["-H", "NoColon", "http://127.0.0.1:9/"], "Name: value");
    assert_usage(&["-X", "GET /x", "http://127.0.0.1:9/"], "token");
    assert_usage(&["--resolve", "bad", "http://127.0.0.1:9/"], "--resolve");
    assert_usage(&["http://127.0.0.1:9/", "--max-redirects"], "max-redirects");
    assert_usage(&["bench"], "no URL");
    assert_usage(&["bench", "-c", "zero", "http://127.0.0.1:9/"], "-c");
    assert_usage(&["bench", "--bogus", "http://127.0.0.1:9/"], "--bogus");
}

#[test]
fn crlf_in_header_or_method_is_refused_before_anything_is_sent() {
    let s = ok_server(b"x");
    let url = s.url("/");
    for args in [
        &["-H", "X-Evil: a\r\nInjected: 1", url.as_str()][..],
        &["-H", "X-Evil: a\nInjected: 1", url.as_str()],
        &["-H", "X-Evil\r\nInjected: 1", url.as_str()],
        &["-H", "Bad Name: 1", url.as_str()],
        &["-X", "GET / HTTP/1.1\r\nX: y", url.as_str()],
        &["-X", "GE(T", url.as_str()],
        &["-A", "ua\r\nX: y", url.as_str()],
    ] {
        let o = squall(args);
        assert_fails(&o, 2);
    }
    assert_no_connection(&s);
}

// ------------------------------------------------------------------------------------------
// Bodies out
// ------------------------------------------------------------------------------------------

#[test]
fn body_goes_to_stdout_byte_for_byte() {
    static BODY: [u8; 1024] = {
        let mut b = [0u8; 1024];
        let mut i = 0;
        while i < 1024 {
            b[i] = (i * 7 % 256) as u8;
            i += 1;
        }
        b
    };
    let s = ok_server(&BODY);
    let o = squall(&[&s.url("/bin")]);
    assert_code(&o, 0);
    assert_eq!(o.stdout, BODY);
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
    let r = &s.reqs()[0];
    assert_eq!(r.method, "GET");
    assert_eq!(r.target, "/bin");
    assert_eq!(
        r.header("user-agent"),
        Some(concat!("squall/", env!("CARGO_PKG_VERSION")))
    );
}

#[test]
fn any_status_is_exit_0_without_f_and_22_with_it() {
    let s = Server::start_writing(|r, s| {
        match r.target.as_str() {
            "/404" => respond(s, "404 Not Found", &[], b"no such thing"),
            "/500" => respond(s, "500 Internal Server Error", &[], b"oops"),
            _ => respond(s, "204 No Content", &[], b""),
        }
        true
    });
    let o = squall(&[&s.url("/404")]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "no such thing");
    let o = squall(&["-f", &s.url("/404")]);
    assert_fails(&o, 22);
    assert!(stderr(&o).contains("404"), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "-f prints no error body");
    let o = squall(&["--fail", &s.url("/500")]);
    assert_fails(&o, 22);
    let o = squall(&["-f", &s.url("/204")]);
    assert_code(&o, 0);
}

#[test]
fn output_file_and_unwritable_output_is_23() {
    let s = ok_server(b"file body\n");
    let path = temp_path("out.txt");
    let o = squall(&["-o", path.to_str().unwrap(), &s.url("/")]);
    assert_code(&o, 0);
    assert!(o.stdout.is_empty());
    assert_eq!(std::fs::read(&path).unwrap(), b"file body\n");
    let o = squall(&["--output", "/nonexistent-dir-squall/x/y", &s.url("/")]);
    assert_fails(&o, 23);
    // One -o per URL, in order; the rest go to stdout.
    let p2 = temp_path("out2.txt");
    let o = squall(&["-o", p2.to_str().unwrap(), &s.url("/a"), &s.url("/b")]);
    assert_code(&o, 0);
    assert_eq!(std::fs::read(&p2).unwrap(), b"file body\n");
    assert_eq!(stdout(&o), "file body\n");
}

#[test]
fn trace_loop_writes_the_turns_as_chrome_trace_json() {
    let s = ok_server(b"traced body\n");
    let path = temp_path("trace.json");
    let o = squall(&["--trace-loop", path.to_str().unwrap(), &s.url("/")]);
    assert_code(&o, 0);
    // The transfer itself is unchanged: the body on stdout, nothing extra on stderr.
    assert_eq!(stdout(&o), "traced body\n");
    assert_eq!(stderr(&o), "");
    let text = std::fs::read_to_string(&path).unwrap();
    let events: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let events = events.as_array().expect("the JSON array format");
    let polls: Vec<_> = events.iter().filter(|e| e["name"] == "poll").collect();
    let runs: Vec<_> = events.iter().filter(|e| e["name"] == "run").collect();
    assert!(polls.len() >= 2, "a fetch takes several turns: {text}");
    assert_eq!(polls.len(), runs.len());
    // Some poll returned the socket's events (connect: writable; reply: readable).
    let events_seen: Vec<&str> = polls
        .iter()
        .flat_map(|p| p["args"]["events"].as_array().unwrap())
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(events_seen.iter().any(|e| e.contains("writable")), "{text}");
    assert!(events_seen.iter().any(|e| e.contains("readable")), "{text}");
    // The fetch runs inside run_sync's own future, polled between turns.
    assert!(runs.iter().any(|r| r["args"]["main_next"] == true));
    assert!(events.iter().any(|e| e["name"] == "run_sync future"));
    // An unwritable trace file is refused before anything is sent, as -o is (23).
    let o = squall(&[
        "--trace-loop",
        "/nonexistent-dir-squall/t.json",
        &s.url("/"),
    ]);
    assert_fails(&o, 23);
    assert!(stderr(&o).contains("loop trace"), "{}", stderr(&o));
}

/// Resident set high-water mark of a running process, in KiB.
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    status_kib(&pid.to_string(), "VmHWM")
}

const BIG: usize = 256 << 20;

fn big_block() -> Vec<u8> {
    (0..1 << 20)
        .map(|i: usize| (i % 251) as u8 ^ (i >> 12) as u8)
        .collect()
}

fn big_server() -> Server {
    Server::start_writing(|_, s| {
        let block = big_block();
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {BIG}\r\n\r\n");
        if s.write_all(head.as_bytes()).is_err() {
            return false;
        }
        for _ in 0..BIG >> 20 {
            if s.write_all(&block).is_err() {
                return false;
            }
        }
        true
    })
}

#[test]
fn output_file_streams_256_mib_in_flat_memory() {
    let s = big_server();
    let path = temp_path("big.bin");
    let child = cmd(&["-s", "-o", path.to_str().unwrap(), &s.url("/big")])
        .spawn()
        .unwrap();
    let pid = child.id();
    let peak = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let (p2, d2) = (peak.clone(), done.clone());
    let watcher = thread::spawn(move || {
        while d2.load(Ordering::SeqCst) == 0 {
            if let Some(kib) = vm_hwm_kib(pid) {
                p2.fetch_max(kib as usize, Ordering::SeqCst);
            }
            thread::sleep(Duration::from_millis(5));
        }
    });
    let o = wait_bounded(child, Duration::from_secs(120));
    done.store(1, Ordering::SeqCst);
    watcher.join().unwrap();
    assert_code(&o, 0);
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.len(), BIG as u64);
    let block = big_block();
    let mut f = std::fs::File::open(&path).unwrap();
    let mut buf = vec![0; 1 << 20];
    for k in 0..BIG >> 20 {
        f.read_exact(&mut buf).unwrap();
        assert!(buf == block, "block {k} differs");
    }
    drop(f);
    std::fs::remove_file(&path).unwrap();
    let peak_mib = peak.load(Ordering::SeqCst) / 1024;
    assert!(peak_mib > 0, "no RSS sample");
    assert!(
        peak_mib < 64,
        "squall held {peak_mib} MiB for a 256 MiB body"
    );
}

#[test]
fn stdout_streams_256_mib_in_flat_memory() {
    let s = big_server();
    let mut child = cmd(&["--max-body-size", "1G", &s.url("/big")])
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut out = child.stdout.take().unwrap();
    let block = big_block();
    let mut buf = vec![0; 1 << 20];
    let mut peak = 0;
    for k in 0..BIG >> 20 {
        out.read_exact(&mut buf).unwrap();
        assert!(buf == block, "block {k} differs");
        if k % 16 == 0 {
            peak = peak.max(vm_hwm_kib(pid).unwrap_or(0));
        }
    }
    peak = peak.max(vm_hwm_kib(pid).unwrap_or(0));
    assert_eq!(out.read(&mut buf).unwrap(), 0, "nothing after the body");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(
        peak / 1024 < 64,
        "squall held {} MiB for a 256 MiB body",
        peak / 1024
    );
}

#[test]
fn stdout_body_is_capped_at_100_mib_by_default() {
    // One byte over the default cap: refused with 63 (with -o there is no default cap).
    let s = Server::start_writing(|_, s| {
        let n = (100 << 20) + 1;
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n");
        let _ = s.write_all(head.as_bytes());
        let block = vec![b'z'; 1 << 20];
        for _ in 0..100 {
            if s.write_all(&block).is_err() {
                return false;
            }
        }
        let _ = s.write_all(b"z");
        true
    });
    let o = squall(&[&s.url("/")]);
    assert_fails(&o, 63);
    assert!(o.stdout.len() <= 100 << 20);
    let o = squall(&["-o", "/dev/null", &s.url("/")]);
    assert_code(&o, 0);
}

// ------------------------------------------------------------------------------------------
// Several URLs
// ------------------------------------------------------------------------------------------

#[test]
fn parallel_output_is_in_command_line_order() {
    // /slow answers only once /b and /c have both been requested: that proves they ran at
    // the same time, and the output must still start with /slow.
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let s2 = seen.clone();
    let s = Server::start_writing(move |r, s| {
        s2.lock().unwrap().push(r.target.clone());
        if r.target == "/slow" {
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) {
                let got = s2.lock().unwrap().clone();
                if got.contains(&"/b".to_string()) && got.contains(&"/c".to_string()) {
                    break;
                }
                thread::sleep(Duration::from_millis(5));
            }
        }
        let body = format!("<{}>", r.target);
        respond(s, "200 OK", &[], body.as_bytes());
        true
    });
    let o = squall(&[
        "-P",
        "3",
        "-w",
        "[%{url_effective}]",
        &s.url("/slow"),
        &s.url("/b"),
        &s.url("/c"),
    ]);
    assert_code(&o, 0);
    assert_eq!(
        stdout(&o),
        format!(
            "</slow>[{}]</b>[{}]</c>[{}]",
            s.url("/slow"),
            s.url("/b"),
            s.url("/c")
        )
    );
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 3);
}

#[test]
fn sequential_urls_share_a_keep_alive_connection() {
    let s = ok_server(b"k");
    let o = squall(&[&s.url("/1"), &s.url("/2"), &s.url("/3")]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "kkk");
    assert_eq!(s.conns(), 1, "one pooled connection for three URLs");
}

#[test]
fn exit_code_is_the_first_failing_url_in_order() {
    let s = Server::start_writing(|r, s| {
        let status = if r.target == "/missing" {
            "404 Not Found"
        } else {
            "200 OK"
        };
        respond(s, status, &[], b"x");
        true
    });
    let dead = format!("http://127.0.0.1:{}/", closed_port());
    let o = squall(&[
        "-f",
        "-w",
        "%{http_code}\\n",
        &s.url("/ok"),
        &dead,
        &s.url("/missing"),
        &s.url("/ok2"),
    ]);
    assert_code(&o, 7);
    // -w runs once per URL, also after failures (000 when no response came).
    assert_eq!(stdout(&o), "x200\n000\n404\nx200\n");
    assert_eq!(stderr(&o).lines().count(), 2, "{}", stderr(&o));
    let o = squall(&["-P", "4", "-f", &s.url("/missing"), &dead]);
    assert_code(&o, 22);
}

// ------------------------------------------------------------------------------------------
// Requests out
// ------------------------------------------------------------------------------------------

#[test]
fn data_posts_a_form_unless_told_otherwise() {
    let s = ok_server(b"ok");
    let o = squall(&["-d", "a=1&b=2", &s.url("/form")]);
    assert_code(&o, 0);
    let r = &s.reqs()[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.body, b"a=1&b=2");
    assert_eq!(
        r.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    // -H wins over the form type; -X over POST; several -d join with &.
    let o = squall(&[
        "-X",
        "PUT",
        "-H",
        "Content-Type: text/plain",
        "-d",
        "one",
        "--data-binary",
        "two",
        &s.url("/put"),
    ]);
    assert_code(&o, 0);
    let r = &s.reqs()[1];
    assert_eq!(r.method, "PUT");
    assert_eq!(r.body, b"one&two");
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert_eq!(
        r.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            .count(),
        1
    );
}

#[test]
fn json_sets_content_type_and_accept() {
    let s = ok_server(b"{}");
    let o = squall(&["--json", r#"{"a":1}"#, &s.url("/j")]);
    assert_code(&o, 0);
    let r = &s.reqs()[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.body, br#"{"a":1}"#);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("accept"), Some("application/json"));
}

#[test]
fn data_from_a_file_and_from_stdin() {
    let s = ok_server(b"ok");
    let path = temp_path("body.bin");
    let body: Vec<u8> = (0..=255u8).chain(b"\r\n\0tail".iter().copied()).collect();
    std::fs::write(&path, &body).unwrap();
    let arg = format!("@{}", path.display());
    let o = squall(&["--data-binary", &arg, &s.url("/f")]);
    assert_code(&o, 0);
    assert_eq!(s.reqs()[0].body, body, "the file, byte for byte");
    let o = squall_stdin(&["-d", "@-", &s.url("/stdin")], b"from\nstdin\0!");
    assert_code(&o, 0);
    assert_eq!(s.reqs()[1].body, b"from\nstdin\0!");
}

#[test]
fn unreadable_data_file_is_26_before_anything_is_sent() {
    let s = ok_server(b"ok");
    let o = squall(&["-d", "@/nonexistent/squall-body", &s.url("/")]);
    assert_fails(&o, 26);
    assert!(
        stderr(&o).contains("/nonexistent/squall-body"),
        "{}",
        stderr(&o)
    );
    assert_no_connection(&s);
}

#[test]
fn methods_headers_user_agent_and_auth() {
    let s = ok_server(b"ok");
    let o = squall(&[
        "-X",
        "PURGE",
        "-H",
        "X-One: 1",
        "-H",
        "X-Two:  two words ",
        "-A",
        "agent/9",
        "-u",
        "me:p:w",
        &s.url("/m"),
    ]);
    assert_code(&o, 0);
    let r = &s.reqs()[0];
    assert_eq!(r.method, "PURGE");
    assert!(r.body.is_empty());
    assert_eq!(r.header("x-one"), Some("1"));
    assert_eq!(r.header("x-two"), Some("two words"));
    assert_eq!(r.header("user-agent"), Some("agent/9"));
    // base64("me:p:w")
    assert_eq!(r.header("authorization"), Some("Basic bWU6cDp3"));
    // -H User-Agent replaces the default instead of adding a second one.
    let o = squall(&["-H", "User-Agent: mine", &s.url("/ua")]);
    assert_code(&o, 0);
    let r = &s.reqs()[1];
    assert_eq!(r.header("user-agent"), Some("mine"));
    assert_eq!(
        r.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("user-agent"))
            .count(),
        1
    );
}

#[test]
fn url_userinfo_wins_default_user_agent_and_any_method_with_a_body() {
    let s = ok_server(b"ok");
    // Userinfo in the URL wins over -u (as in Tornado).
    let url = format!("http://url:pw@{}/u", s.addr);
    let o = squall(&["-u", "flag:x", &url]);
    assert_code(&o, 0);
    let r = &s.reqs()[0];
    assert_eq!(r.header("authorization"), Some("Basic dXJsOnB3")); // base64("url:pw")
    assert_eq!(
        r.header("user-agent").map(str::to_string),
        Some(format!("squall/{}", env!("CARGO_PKG_VERSION")))
    );
    // -X is sent as given, with a body too (GET with -d, as curl does).
    let o = squall(&["-X", "GET", "-d", "q=1", &s.url("/g")]);
    assert_code(&o, 0);
    let r = &s.reqs()[1];
    assert_eq!(r.method, "GET");
    assert_eq!(r.body, b"q=1");
}

#[test]
fn resolve_maps_a_name_to_the_local_server() {
    let s = ok_server(b"resolved");
    let map = format!("squall-test.example:{}:127.0.0.1", s.port());
    let url = format!("http://squall-test.example:{}/r", s.port());
    let o = squall(&["--resolve", &map, &url]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "resolved");
    let host = format!("squall-test.example:{}", s.port());
    assert_eq!(s.reqs()[0].header("host"), Some(host.as_str()));
}

#[test]
fn raw_sends_no_accept_encoding() {
    let s = ok_server(b"ok");
    assert_code(&squall(&[&s.url("/")]), 0);
    assert_code(&squall(&["--raw", &s.url("/")]), 0);
    assert_code(&squall(&["--compressed", &s.url("/")]), 0);
    let r = s.reqs();
    assert_eq!(r[0].header("accept-encoding"), Some("gzip"));
    assert_eq!(r[1].header("accept-encoding"), None);
    assert_eq!(r[2].header("accept-encoding"), Some("gzip"));
}

#[test]
fn gzip_is_decoded_unless_raw_and_broken_gzip_is_61() {
    let z = gzip(b"inflated text");
    let z2 = z.clone();
    let s = Server::start_writing(move |r, s| {
        if r.target == "/broken" {
            respond(
                s,
                "200 OK",
                &[("Content-Encoding", "gzip")],
                b"\x1f\x8b\x08\x00garbage!",
            );
        } else {
            respond(s, "200 OK", &[("Content-Encoding", "gzip")], &z2);
        }
        true
    });
    let o = squall(&["-w", "%{size_download}", &s.url("/z")]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "inflated text13");
    let o = squall(&["--raw", &s.url("/z")]);
    assert_code(&o, 0);
    assert_eq!(o.stdout, z);
    let o = squall(&[&s.url("/broken")]);
    assert_fails(&o, 61);
}

#[test]
fn unknown_content_encoding_passes_through() {
    let s = Server::start_writing(|_, s| {
        respond(
            s,
            "200 OK",
            &[("Content-Encoding", "br")],
            b"\x0bnot-really-br",
        );
        true
    });
    let o = squall(&[&s.url("/")]);
    assert_code(&o, 0);
    assert_eq!(o.stdout, b"\x0bnot-really-br");
}

#[test]
fn a_url_without_scheme_is_http() {
    let s = ok_server(b"bare");
    let o = squall(&[&format!("127.0.0.1:{}/x", s.port())]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "bare");
    assert_eq!(s.reqs()[0].target, "/x");
}

// ------------------------------------------------------------------------------------------
// Heads: -i, -I, -v, -w
// ------------------------------------------------------------------------------------------

fn redirect_server() -> Server {
    Server::start_writing(|r, s| {
        match r.target.as_str() {
            "/r1" => respond(s, "302 Found", &[("Location", "/r2")], b"moved 1"),
            "/r2" => respond(
                s,
                "301 Moved Permanently",
                &[("Location", "/end")],
                b"moved 2",
            ),
            "/loop" => respond(s, "302 Found", &[("Location", "/loop")], b""),
            _ => respond(s, "200 OK", &[("Content-Type", "text/x-end")], b"the end"),
        }
        true
    })
}

#[test]
fn include_prints_every_head_of_the_chain() {
    let s = redirect_server();
    let o = squall(&["-i", &s.url("/r1")]);
    assert_code(&o, 0);
    let out = stdout(&o);
    let heads: Vec<&str> = out.split("\r\n\r\n").collect();
    assert_eq!(heads.len(), 4, "{out:?}");
    assert!(heads[0].starts_with("HTTP/1.1 302 Found\r\n"), "{out:?}");
    assert!(heads[0].contains("Location: /r2"), "{out:?}");
    assert!(
        heads[1].starts_with("HTTP/1.1 301 Moved Permanently\r\n"),
        "{out:?}"
    );
    assert!(heads[2].starts_with("HTTP/1.1 200 OK\r\n"), "{out:?}");
    assert!(heads[2].contains("Content-Type: text/x-end"), "{out:?}");
    assert_eq!(heads[3], "the end");
}

#[test]
fn head_sends_head_and_prints_the_head() {
    let s = Server::start_writing(|r, s| {
        let _ = s.write_all(
            format!(
                "HTTP/1.1 200 OK\r\nX-Method: {}\r\nContent-Length: 1000\r\n\r\n",
                r.method
            )
            .as_bytes(),
        );
        true
    });
    let o = squall(&["-I", &s.url("/h")]);
    assert_code(&o, 0);
    assert_eq!(s.reqs()[0].method, "HEAD");
    assert_eq!(
        stdout(&o),
        "HTTP/1.1 200 OK\r\nX-Method: HEAD\r\nContent-Length: 1000\r\n\r\n"
    );
}

#[test]
fn folded_header_lines_are_unfolded_with_a_space() {
    let s = raw_server(b"HTTP/1.1 200 OK\r\nX-Fold: one\r\n  two\r\nContent-Length: 2\r\n\r\nok");
    let o = squall(&["-i", &s.url("/")]);
    assert_code(&o, 0);
    assert!(
        stdout(&o).contains("X-Fold: one two\r\n"),
        "{:?}",
        stdout(&o)
    );
    assert!(stdout(&o).ends_with("\r\n\r\nok"));
}

#[test]
fn follow_by_default_no_follow_and_last_one_wins() {
    let s = redirect_server();
    let o = squall(&["-w", " %{http_code} %{num_redirects}", &s.url("/r1")]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "the end 200 2");
    let o = squall(&[
        "--no-follow",
        "-w",
        " %{http_code} %{num_redirects}",
        &s.url("/r1"),
    ]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "moved 1 302 0");
    let o = squall(&["--no-follow", "-L", &s.url("/r1")]);
    assert_eq!(stdout(&o), "the end");
    let o = squall(&["-L", "--no-follow", &s.url("/r1")]);
    assert_eq!(stdout(&o), "moved 1");
}

#[test]
fn too_many_redirects_is_47() {
    let s = redirect_server();
    let o = squall(&["--max-redirects", "1", "-w", "%{http_code}", &s.url("/r1")]);
    assert_fails(&o, 47);
    assert_eq!(stdout(&o), "301", "-w shows the last 3xx: {}", stdout(&o));
    let o = squall(&[&s.url("/loop")]);
    assert_fails(&o, 47);
    assert_eq!(
        s.reqs().iter().filter(|r| r.target == "/loop").count(),
        6,
        "default 5"
    );
    // -i shows the heads received before giving up, as curl -i -L does; no body.
    let o = squall(&["-i", "--max-redirects", "1", &s.url("/r1")]);
    assert_fails(&o, 47);
    let out = stdout(&o);
    assert!(out.starts_with("HTTP/1.1 302 Found\r\n"), "{out:?}");
    assert!(
        out.contains("\r\n\r\nHTTP/1.1 301 Moved Permanently\r\n"),
        "{out:?}"
    );
    assert!(out.ends_with("\r\n\r\n"), "{out:?}");
}

#[test]
fn write_out_variables() {
    let s = redirect_server();
    let fmt = "%{http_code}|%{url_effective}|%{num_redirects}|%{size_download}|\
               %{content_type}|%{time_connect}|%{time_starttransfer}|%{time_total}\\n%%\\t.";
    let o = squall(&["-w", fmt, &s.url("/r1")]);
    assert_code(&o, 0);
    let out = stdout(&o);
    let rest = out.strip_prefix("the end").expect(&out);
    let (line, tail) = rest.split_once('\n').unwrap();
    assert_eq!(tail, "%\t.");
    let f: Vec<&str> = line.split('|').collect();
    let end = s.url("/end");
    assert_eq!(f[..5], ["200", end.as_str(), "2", "7", "text/x-end"]);
    let times: Vec<f64> = f[5..].iter().map(|t| t.parse().unwrap()).collect();
    for t in &times {
        assert!(*t >= 0.0 && *t < 30.0, "{line}");
    }
    assert!(times[0] <= times[2] && times[1] <= times[2], "{line}");
    // After a failure with no response: 000.
    let dead = format!("http://127.0.0.1:{}/", closed_port());
    let o = squall(&["-w", "%{http_code} %{size_download}\\n", &dead]);
    assert_fails(&o, 7);
    assert_eq!(stdout(&o), "000 0\n");
}

#[test]
fn write_out_from_a_file_and_dash_output_is_stdout() {
    let s = ok_server(b"body");
    let fmt = temp_path("fmt.txt");
    std::fs::write(&fmt, "[%{http_code} %{method}]").unwrap();
    let arg = format!("@{}", fmt.display());
    let o = squall(&["-o", "-", "-w", &arg, &s.url("/")]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "body[200 GET]");
    // An unknown variable is a warning, not a failure; it prints nothing.
    let o = squall(&["-w", "<%{no_such_thing}>", &s.url("/")]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "body<>");
    assert!(stderr(&o).contains("no_such_thing"));
}

#[test]
fn verbose_shows_both_heads_on_stderr() {
    let s = ok_server(b"body");
    let o = squall(&["-v", "-H", "X-Probe: 1", &s.url("/v")]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "body");
    let e = stderr(&o);
    assert!(e.contains("> GET /v HTTP/1.1"), "{e}");
    assert!(e.contains("> X-Probe: 1"), "{e}");
    assert!(e.contains("< HTTP/1.1 200 OK"), "{e}");
    assert!(e.contains("< Content-Type: text/plain"), "{e}");
}

#[test]
fn verbose_interleaves_request_and_response_heads_per_hop() {
    // As curl -v -L: each request head, then the response head it got, hop by hop.
    let s = redirect_server();
    let o = squall(&["-v", "-s", &s.url("/r1")]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "the end");
    let e = stderr(&o);
    let order: Vec<&str> = e
        .lines()
        .filter(|l| l.starts_with("> GET") || l.starts_with("< HTTP/"))
        .collect();
    assert_eq!(
        order,
        [
            "> GET /r1 HTTP/1.1",
            "< HTTP/1.1 302 Found",
            "> GET /r2 HTTP/1.1",
            "< HTTP/1.1 301 Moved Permanently",
            "> GET /end HTTP/1.1",
            "< HTTP/1.1 200 OK",
        ],
        "{e}"
    );
    // Too many redirects (47): the heads are still shown, in order.
    let o = squall(&["-v", "-s", "--max-redirects", "1", &s.url("/loop")]);
    assert_code(&o, 47);
    let e = stderr(&o);
    let order: Vec<&str> = e
        .lines()
        .filter(|l| l.starts_with("> GET") || l.starts_with("< HTTP/"))
        .collect();
    assert_eq!(
        order,
        [
            "> GET /loop HTTP/1.1",
            "< HTTP/1.1 302 Found",
            "> GET /loop HTTP/1.1",
            "< HTTP/1.1 302 Found",
        ],
        "{e}"
    );
}

#[test]
fn include_and_verbose_show_interim_1xx_heads() {
    // curl -i prints every head received, 1xx ones included (RFC 9110 §15.2).
    let s = raw_server(
        b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n\
          HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    );
    let o = squall(&["-s", "-i", "-v", "-w", "|%{size_header}", &s.url("/")]);
    assert_code(&o, 0);
    let head = "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n\
                HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
    assert_eq!(stdout(&o), format!("{head}ok|{}", head.len()));
    let e = stderr(&o);
    let early = e.find("< HTTP/1.1 103 Early Hints").expect(&e);
    let ok = e.find("< HTTP/1.1 200 OK").expect(&e);
    assert!(early < ok, "{e}");
}

#[test]
fn include_prints_the_reason_phrase_the_library_reports() {
    // A reason phrase that came is printed as it came. One that did not come (RFC 9112 §4
    // allows an empty one) cannot be: the library fills in the standard phrase (S-02) and the
    // header callback rebuilds its lines from the same filled-in head, so the wire bytes are
    // not reachable through the public API. squall prints the library's phrase rather than
    // guess (only an API that handed over the head as received could print the empty one).
    let s = raw_server(b"HTTP/1.1 200 Fine Thanks\r\nContent-Length: 0\r\n\r\n");
    let o = squall(&["-s", "-i", &s.url("/")]);
    assert_code(&o, 0);
    assert_eq!(
        stdout(&o),
        "HTTP/1.1 200 Fine Thanks\r\nContent-Length: 0\r\n\r\n"
    );
    let s = raw_server(b"HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n");
    let o = squall(&["-s", "-i", &s.url("/")]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
}

#[test]
fn silent_and_piped_stderr_show_no_progress() {
    let s = ok_server(b"quiet");
    for args in [&[][..], &["-s"][..]] {
        let mut a = args.to_vec();
        let url = s.url("/");
        a.push(url.as_str());
        let o = squall(&a);
        assert_code(&o, 0);
        assert!(o.stderr.is_empty(), "{:?}", stderr(&o));
    }
}

// ------------------------------------------------------------------------------------------
// Exit codes of failed transfers
// ------------------------------------------------------------------------------------------

#[test]
fn unsupported_scheme_is_1_and_malformed_url_is_3() {
    assert_fails(&squall(&["ftp://127.0.0.1/file"]), 1);
    assert_fails(&squall(&["http://[::1/"]), 3);
    assert_fails(&squall(&["http://127.0.0.1:99999/"]), 3);
    // A scheme without an authority is not a host name to guess a scheme for.
    assert_fails(&squall(&["http:/127.0.0.1/x"]), 3);
    assert_fails(&squall(&["file:/etc/hostname"]), 1);
}

#[test]
fn unresolvable_host_is_6() {
    let name = format!("{}.invalid", "a".repeat(64));
    let o = squall(&[&format!("http://{name}/")]);
    assert_fails(&o, 6);
    assert!(stderr(&o).contains(&name), "names the host: {}", stderr(&o));
}

#[test]
fn refused_connection_is_7() {
    let url = format!("http://127.0.0.1:{}/", closed_port());
    let o = squall(&[&url]);
    assert_fails(&o, 7);
    assert!(
        stderr(&o).contains("127.0.0.1"),
        "names the address: {}",
        stderr(&o)
    );
}

#[test]
fn malformed_replies_are_8() {
    for raw in [
        &b"HTTP/1.1 abc Broken\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\nBad Header Line\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Ty",
        b"SSH-2.0-OpenSSH_9.6\r\n",
    ] {
        let raw: &'static [u8] = Box::leak(raw.to_vec().into_boxed_slice());
        let s = raw_server(raw);
        let o = squall(&[&s.url("/")]);
        assert_fails(&o, 8);
    }
}

#[test]
fn body_cut_short_is_18() {
    let s = raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b");
    let o = squall(&[&s.url("/")]);
    assert_fails(&o, 18);
    let s = raw_server(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n");
    assert_fails(&squall(&[&s.url("/")]), 18);
}

#[test]
fn closed_without_reply_is_52() {
    let s = Server::start_writing(|_, _| false);
    let o = squall(&[&s.url("/")]);
    assert_fails(&o, 52);
}

#[test]
fn reset_is_56() {
    let s = Server::start_writing(|_, s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\npartial");
        thread::sleep(Duration::from_millis(50));
        let sock = socket2::SockRef::from(&*s);
        let _ = sock.set_linger(Some(Duration::ZERO));
        false
    });
    let o = squall(&[&s.url("/")]);
    assert_fails(&o, 56);
}

#[test]
fn timeout_is_28() {
    let s = Server::start_writing(|_, _| {
        thread::sleep(Duration::from_secs(5));
        false
    });
    let start = Instant::now();
    let o = squall(&["-m", "0.3", &s.url("/")]);
    assert_fails(&o, 28);
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "the budget bounds the transfer"
    );
    assert!(stderr(&o).contains("Timeout"), "{}", stderr(&o));
}

#[test]
fn body_over_max_body_size_is_63() {
    let s = ok_server(b"0123456789abcdef");
    assert_fails(&squall(&["--max-body-size", "10", &s.url("/")]), 63);
    assert_fails(&squall(&["--max-filesize", "15", &s.url("/")]), 63);
    let o = squall(&["--max-body-size", "16", &s.url("/")]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "0123456789abcdef");
}

// ------------------------------------------------------------------------------------------
// TLS
// ------------------------------------------------------------------------------------------

/// A CA, a server certificate from it, and a client certificate from it, as PEM files.
struct Pki {
    _dir: TempDir,
    ca_pem: PathBuf,
    server_config: Arc<rustls::ServerConfig>,
    client_cert: PathBuf,
    client_key: PathBuf,
}

fn pki(name: &str, require_client_cert: bool) -> Pki {
    let ca = Ca::new(name);
    let leaf = ca.leaf(&["127.0.0.1", "localhost"]);
    let client = ca.leaf(&["client"]);
    let dir = TempDir::new(&format!("cli-{name}"));
    Pki {
        ca_pem: dir.write("ca.pem", ca.pem()),
        server_config: server_config(&leaf, require_client_cert.then_some(&ca)),
        client_cert: dir.write("client.pem", &client.chain_pem),
        client_key: dir.write("client.key", client.key_pem()),
        _dir: dir,
    }
}

/// An https server answering every request with 200 "secure".
fn tls_server(config: Arc<rustls::ServerConfig>) -> SocketAddr {
    serve_every_request(config, "secure").0
}

#[test]
fn tls_with_cacert_insecure_and_verification_failure() {
    let p = pki("tls", false);
    let addr = tls_server(p.server_config.clone());
    let url = format!("https://{addr}/");
    let ca = p.ca_pem.to_str().unwrap();
    let o = squall(&["--cacert", ca, &url]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "secure");
    // The default roots do not know this CA: 60. -k skips verification.
    assert_fails(&squall(&[&url]), 60);
    let o = squall(&["-k", &url]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "secure");
    // SSL_CERT_FILE stands in for --cacert.
    let mut c = cmd(&[&url]);
    c.env("SSL_CERT_FILE", ca);
    let o = run_bounded(c, LIMIT);
    assert_code(&o, 0);
    // The wrong name for the certificate: 60.
    let o = squall(&[
        "--cacert",
        ca,
        "--resolve",
        &format!("wrong.example:{}:127.0.0.1", addr.port()),
        &format!("https://wrong.example:{}/", addr.port()),
    ]);
    assert_fails(&o, 60);
}

#[test]
fn unreadable_ca_file_is_77() {
    let p = pki("ca77", false);
    let addr = tls_server(p.server_config.clone());
    let url = format!("https://{addr}/");
    assert_fails(&squall(&["--cacert", "/nonexistent/ca.pem", &url]), 77);
    let mut c = cmd(&[&url]);
    c.env("SSL_CERT_FILE", "/nonexistent/ca.pem");
    assert_fails(&run_bounded(c, LIMIT), 77);
    let mut c = cmd(&[&url]);
    c.env("SSL_CERT_DIR", "/nonexistent/certs");
    assert_fails(&run_bounded(c, LIMIT), 77);
    // A readable folder holding the CA is trusted like --cacert.
    let dir = temp_path("ca77-dir");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(&p.ca_pem, dir.join("ca.pem")).unwrap();
    let mut c = cmd(&[&url]);
    c.env("SSL_CERT_DIR", &dir);
    assert_code(&run_bounded(c, LIMIT), 0);
    let junk = temp_path("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    assert_fails(&squall(&["--cacert", junk.to_str().unwrap(), &url]), 77);
}

#[test]
fn client_certificates_35_and_58() {
    let p = pki("mtls", true);
    let addr = tls_server(p.server_config.clone());
    let url = format!("https://{addr}/");
    let ca = p.ca_pem.to_str().unwrap();
    let (cert, key) = (
        p.client_cert.to_str().unwrap(),
        p.client_key.to_str().unwrap(),
    );
    let o = squall(&["--cacert", ca, "--cert", cert, "--key", key, &url]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "secure");
    // The server refuses a handshake without a client certificate: 35.
    assert_fails(&squall(&["--cacert", ca, &url]), 35);
    // An unreadable client certificate or key: 58.
    assert_fails(
        &squall(&[
            "--cacert",
            ca,
            "--cert",
            "/nonexistent/c.pem",
            "--key",
            key,
            &url,
        ]),
        58,
    );
    assert_fails(
        &squall(&[
            "--cacert",
            ca,
            "--cert",
            cert,
            "--key",
            "/nonexistent/k.pem",
            &url,
        ]),
        58,
    );
}

#[test]
fn plain_http_server_on_https_is_35() {
    // A server that speaks HTTP at once, whatever arrives.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(mut tcp) = tcp else { continue };
            let _ = tcp.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
            thread::sleep(Duration::from_millis(200));
        }
    });
    let o = squall(&["-k", &format!("https://{addr}/")]);
    assert_fails(&o, 35);
}

// ------------------------------------------------------------------------------------------
// bench
// ------------------------------------------------------------------------------------------

fn last_rps(out: &str) -> f64 {
    let last = out.lines().rfind(|l| !l.trim().is_empty()).unwrap();
    let n = last
        .strip_prefix("req/s: ")
        .unwrap_or_else(|| panic!("last line {last:?}"));
    n.parse().unwrap()
}

#[test]
fn bench_keep_alive_prints_stats_and_req_s_last() {
    let s = ok_server(b"hello world\n");
    let o = squall(&["bench", "-n", "300", "-c", "4", &s.url("/small")]);
    assert_code(&o, 0);
    let out = stdout(&o);
    assert!(last_rps(&out) > 0.0, "{out}");
    for k in ["requests: 300", "errors: 0", "p50", "p99", "max"] {
        assert!(out.contains(k), "{out} lacks {k}");
    }
    assert_eq!(s.reqs().len(), 300);
    assert!(s.conns() <= 4, "keep-alive: {} connections", s.conns());
}

#[test]
fn bench_no_keepalive_opens_a_connection_per_request() {
    let s = Server::start_writing(|r, s| {
        respond(s, "200 OK", &[("Connection", "close")], b"x");
        r.header("connection") != Some("close")
    });
    let o = squall(&[
        "bench",
        "-n",
        "50",
        "-c",
        "2",
        "--no-keepalive",
        &s.url("/"),
    ]);
    assert_code(&o, 0);
    assert!(last_rps(&stdout(&o)) > 0.0);
    assert_eq!(s.reqs().len(), 50);
    assert!(
        s.reqs()
            .iter()
            .all(|r| r.header("connection") == Some("close"))
    );
    assert_eq!(s.conns(), 50);
}

#[test]
fn bench_for_a_duration_and_with_errors() {
    let s = ok_server(b"x");
    let o = squall(&["bench", "-d", "0.3", "-c", "2", &s.url("/")]);
    assert_code(&o, 0);
    assert!(last_rps(&stdout(&o)) > 0.0);
    // Nothing listening: every request fails; the report still ends with req/s.
    let url = format!("http://127.0.0.1:{}/", closed_port());
    let o = squall(&["bench", "-n", "5", &url]);
    assert_code(&o, 7);
    let out = stdout(&o);
    assert!(out.contains("errors: 5"), "{out}");
    assert_eq!(last_rps(&out), 0.0);
}

#[test]
fn bench_over_tls() {
    let p = pki("bench", false);
    let addr = tls_server(p.server_config.clone());
    let url = format!("https://{addr}/");
    let o = squall(&[
        "bench",
        "-n",
        "40",
        "-c",
        "2",
        "--cacert",
        p.ca_pem.to_str().unwrap(),
        &url,
    ]);
    assert_code(&o, 0);
    assert!(stdout(&o).contains("errors: 0"), "{}", stdout(&o));
    let o = squall(&["bench", "-n", "10", "-k", &url]);
    assert_code(&o, 0);
}

/// RFC 9110 §10.2.2: two different Location fields make the target ambiguous. Where the
/// redirect would be followed (the default, or -L) it is not: exit 8 (a malformed reply), and
/// the message names both values. Identical repeats are one target and are followed.
#[test]
fn two_different_locations_are_exit_8_naming_both() {
    let s = Server::start_writing(|req, s| {
        match req.target.as_str() {
            "/two" => respond(
                s,
                "302 Found",
                &[("Location", "/left"), ("Location", "/right")],
                b"",
            ),
            "/same" => respond(
                s,
                "302 Found",
                &[("Location", "/left"), ("Location", "/left")],
                b"",
            ),
            _ => respond(s, "200 OK", &[], b"landed"),
        }
        true
    });
    let o = squall(&["-L", &s.url("/two")]);
    assert_fails(&o, 8);
    let e = stderr(&o);
    assert!(e.contains("\"/left\"") && e.contains("\"/right\""), "{e}");
    assert_eq!(s.reqs().len(), 1, "not followed");
    let o = squall(&["-L", &s.url("/same")]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "landed");
    // Not following (--no-follow), the 3xx is just the answer.
    assert_code(&squall(&["--no-follow", &s.url("/two")]), 0);
}

/// As curl, the CLI honours SSLKEYLOGFILE (the library alone does not, tests/tls/roots.rs).
#[test]
fn sslkeylogfile_gets_the_session_secrets() {
    let p = pki("keylog", false);
    let addr = tls_server(p.server_config.clone());
    let log = temp_path("keys.log");
    let _ = std::fs::remove_file(&log);
    let mut c = cmd(&[
        "--cacert",
        p.ca_pem.to_str().unwrap(),
        &format!("https://{addr}/"),
    ]);
    c.env("SSLKEYLOGFILE", &log);
    let o = run_bounded(c, LIMIT);
    assert_code(&o, 0);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        text.contains("CLIENT_TRAFFIC_SECRET_0") || text.contains("CLIENT_RANDOM"),
        "{text:?}"
    );
}
