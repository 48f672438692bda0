//! Response bodies on stdout and in files: byte for byte, streamed in flat memory, capped, and in order when several run.

use super::*;

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
