//! The example ladder (`examples/00_bones.rs` .. `07_tls.rs`, `trace_fetch.rs`) is run here,
//! so no rung rots: each runs as its own process, must exit 0 within a generous bound, and
//! must print what its doc comment promises. `cargo test` builds the examples before it runs
//! any test; the binaries sit next to this test's own (`target/<profile>/examples/`). When
//! one is missing or older than its source or the library (e.g. after
//! `cargo test --test docs` alone), it is built first with the same cargo.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Far more than any rung needs (they take well under a second); a hung rung fails here.
const LIMIT: Duration = Duration::from_secs(90);

fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    // target/<profile>/deps/examples-<hash> -> target/<profile>/examples/<name>
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let bin = dir.join("examples").join(name);
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(format!("{name}.rs"));
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let library = newest(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let stale = match (modified(&bin), modified(&source)) {
        (Some(b), Some(s)) => b < s || library.is_some_and(|l| b < l),
        _ => true,
    };
    if stale {
        // One build of every example, shared by the tests that find theirs stale.
        static BUILT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        let ok = *BUILT.get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
            let mut build = Command::new(cargo);
            build
                .args(["build", "--quiet", "--examples"])
                .current_dir(env!("CARGO_MANIFEST_DIR"));
            if dir.ends_with("release") {
                build.arg("--release");
            }
            build.status().is_ok_and(|s| s.success())
        });
        assert!(ok, "cargo build --examples failed");
    }
    bin
}

/// The newest modification time of any file under `dir`.
fn newest(dir: &Path) -> Option<std::time::SystemTime> {
    let mut best = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        let t = if path.is_dir() {
            newest(&path)
        } else {
            entry.metadata().and_then(|m| m.modified()).ok()
        };
        best = best.max(t);
    }
    best
}

/// Run an example with `args` and `env`, killing it if it outlives [`LIMIT`].
fn run(name: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(example_binary(name));
    // The caller's shell must not change what is tested: no trace unless asked, and no proxy
    // (the examples' servers are on loopback, which a proxy variable would redirect).
    command.env_remove("SQUALL_TRACE");
    for v in squall::client::proxy::PROXY_VARIABLES {
        command.env_remove(v);
    }
    let mut child = command
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start example {name}: {e}"));
    // Drain the pipes on threads so a chatty example cannot block on a full pipe.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("example {name} ran longer than {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let o = Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    assert!(
        o.status.success(),
        "example {name} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Run `name` and check that its stdout has every one of `expected`, in that order.
fn rung(name: &str, expected: &[&str]) -> String {
    let o = run(name, &[], &[]);
    let stdout = String::from_utf8(o.stdout).unwrap();
    let mut rest = stdout.as_str();
    for e in expected {
        match rest.find(e) {
            Some(i) => rest = &rest[i + e.len()..],
            None => panic!("example {name}: {e:?} missing (or out of order) in:\n{stdout}"),
        }
    }
    stdout
}

#[test]
fn rung_00_bones() {
    rung(
        "00_bones",
        &[
            "turn 1:",
            "task 1: read \"hello from a thread\"",
            "task 0: slept 30 ms",
            "all tasks done",
        ],
    );
}

#[test]
fn rung_01_timers() {
    let out = rung(
        "01_timers",
        &[
            "equal deadline: a",
            "equal deadline: b",
            "equal deadline: c",
        ],
    );
    assert!(out.contains("order: 10 ms, a, b, c, 20 ms, 30 ms"), "{out}");
    assert!(!out.contains("never printed"));
}

#[test]
fn rung_01_timers_with_squall_trace_shows_its_turns() {
    let o = run("01_timers", &[], &[("SQUALL_TRACE", "1")]);
    let err = String::from_utf8(o.stderr).unwrap();
    let turns: Vec<&str> = err.lines().filter(|l| l.starts_with("[loop ")).collect();
    assert!(turns.len() >= 2, "{err}");
    assert!(turns.iter().any(|l| l.contains("(timer)")), "{err}");
    // "a", "b" and "c" share a deadline, so one turn runs all three (more if the machine was
    // slow enough for a neighbouring deadline to be due too).
    let timer_callbacks = |l: &str| -> u32 {
        l.split(['(', ',', ')'])
            .find_map(|part| part.trim().strip_suffix(" timer callbacks"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    assert!(turns.iter().any(|l| timer_callbacks(l) >= 3), "{err}");
    // The program's own output is unchanged by the trace.
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("order: 10 ms, a, b, c, 20 ms, 30 ms"), "{out}");
    assert!(!out.contains("[loop "));
}

#[test]
fn rung_02_threads() {
    rung(
        "02_threads",
        &[
            "callback on the loop thread",
            "the worker's sum: 500000500000",
            "a callback sent to a closed loop was dropped",
        ],
    );
}

#[test]
fn rung_03_hand_future() {
    rung(
        "03_hand_future",
        &[
            "spin: 4 polls left",
            "spin: 0 polls left",
            "signal: fired by a timer; order: [\"callback\", \"timer\", \"spin done\"]",
        ],
    );
}

#[test]
fn rung_04_tcp_echo() {
    rung(
        "04_tcp_echo",
        &[
            "client: try_read: WouldBlock",
            "client: got back \"hello, edge-triggered world\"",
            "server: echoed 27 bytes",
        ],
    );
}

#[test]
fn rung_05_raw_http() {
    rung(
        "05_raw_http",
        &[
            "server <- GET /hello HTTP/1.1",
            "server <- User-Agent: 05_raw_http",
            "client: head HTTP/1.1 200 OK",
            "client: end of message, keep-alive true",
            "body: \"hello, world!\"",
        ],
    );
}

#[test]
#[cfg(feature = "json")]
fn rung_06_fetch() {
    rung(
        "06_fetch",
        &[
            "GET  /hello -> 200 OK: \"Hello, world\"",
            "the server saw \"seed/1.0\" and \"hello from squall\"",
            "GET  /missing -> error HTTP 404: Not Found (code 404)",
            "POST timing:",
        ],
    );
}

#[test]
#[cfg(feature = "tls")]
fn rung_07_tls() {
    rung("07_tls", &["-> 200 \"hello over TLS\"", "TLS handshake"]);
}

#[test]
fn trace_fetch_prints_a_few_turns() {
    let o = run("trace_fetch", &[], &[]);
    let out = String::from_utf8(o.stdout).unwrap();
    let err = String::from_utf8(o.stderr).unwrap();
    let turns = err.lines().filter(|l| l.starts_with("[loop ")).count();
    assert!((2..=20).contains(&turns), "{turns} turns:\n{err}");
    assert!(
        out.contains(&format!("HTTP 200 \"Hello, world\" in {turns} turns")),
        "{out}"
    );
    assert!(
        err.contains("writable") && err.contains("readable"),
        "{err}"
    );
}

#[test]
fn trace_fetch_writes_chrome_trace_json() {
    let path = std::env::temp_dir().join(format!("squall-trace-fetch-{}.json", std::process::id()));
    let o = run("trace_fetch", &[path.to_str().unwrap()], &[]);
    let out = String::from_utf8(o.stdout).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let polls = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["name"] == "poll")
        .count();
    assert!(out.contains(&format!("in {polls} turns")), "{out}\n{text}");
    assert!(o.stderr.is_empty());
}
