//! The loop trace (`LoopTrace`, `SQUALL_TRACE`): a run with one known timer, one known
//! socket and one cross-thread callback must show exactly those in its turns, in text and in
//! Chrome Trace Event JSON (parsed here with serde_json), and tracing must change nothing
//! about what the loop does.

use std::cell::RefCell;
use std::future::{Future, poll_fn};
use std::io::{self, Write};
use std::net::SocketAddr;
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use squall::ioloop::{IoLoop, LoopTrace, TcpListener, oneshot, sleep, spawn};

/// A `Write` the test can read back after the loop wrote to it.
#[derive(Clone, Default)]
struct Shared(Rc<RefCell<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        String::from_utf8(self.0.borrow().clone()).expect("the trace is UTF-8")
    }
}

/// The scenario: a 30 ms `call_later` fires during a 60 ms sleep; a listener (the loop's
/// first socket, so token 0) accepts one connection (token 1) from a plain thread that
/// writes `ping` and closes; another thread hands the loop a callback through its
/// `LoopHandle`; then a task and a callback run. Returns what the
/// loop saw, in order, so traced and untraced runs can be compared.
fn scenario(lp: &IoLoop) -> Vec<String> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let l2 = log.clone();
    lp.run_sync(async move {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
        let addr = listener.local_addr().unwrap();
        let lp = IoLoop::current();
        let l3 = l2.clone();
        lp.call_later(Duration::from_millis(30), move || {
            l3.borrow_mut().push("timer".to_string())
        });
        // Let the timer fire before the socket is even touched.
        sleep(Duration::from_millis(60)).await;
        l2.borrow_mut().push("slept".to_string());
        // Poll the accept once before anyone connects: it finds nothing, so the listener
        // (registered now, lazily) must wait for its readable edge.
        let mut accept = pin!(listener.accept());
        let first = poll_fn(|cx| Poll::Ready(accept.as_mut().poll(cx))).await;
        assert!(first.is_pending());
        let client = std::thread::spawn(move || {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.write_all(b"ping").unwrap();
        });
        let (stream, _) = accept.await.unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 16];
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        l2.borrow_mut().push(String::from_utf8(got).unwrap());
        client.join().unwrap();
        // A callback from another thread, while the loop waits in poll.
        let (tx, rx) = oneshot();
        let handle = lp.handle();
        let thread = std::thread::spawn(move || {
            handle.add_callback(move || {
                let _ = tx.send("callback from a thread".to_string());
            });
        });
        let from_thread = rx.await.unwrap();
        l2.borrow_mut().push(from_thread);
        // Joined: the eventfd was written before the turns below poll, so they see it.
        thread.join().unwrap();
        // A task and a callback, to see both kinds run.
        let l4 = l2.clone();
        IoLoop::current().add_callback(move || l4.borrow_mut().push("callback".to_string()));
        let l5 = l2.clone();
        spawn(async move { l5.borrow_mut().push("task".to_string()) })
            .await
            .unwrap();
    });
    log.take()
}

#[test]
fn text_trace_shows_the_timer_the_socket_and_the_thread() {
    let lp = IoLoop::new();
    let out = Shared::default();
    assert!(lp.set_trace(Some(LoopTrace::text(out.clone()))).is_none());
    let log = scenario(&lp);
    let trace = lp.set_trace(None).expect("the trace was installed");
    assert!(trace.turns() >= 3, "{} turns", trace.turns());
    drop(trace);
    let text = out.text();
    let lines: Vec<&str> = text.lines().collect();
    assert!(!lines.is_empty());
    for (i, line) in lines.iter().enumerate() {
        assert!(
            line.contains(&format!("] turn {} +", i + 1)) && line.contains("; left "),
            "line {i} is not a turn line: {line}"
        );
    }
    // The sleep makes the poll block until a timer: the 30 ms callback, then the sleep.
    let timed: Vec<&&str> = lines.iter().filter(|l| l.contains("(timer)")).collect();
    assert!(!timed.is_empty(), "no poll bounded by a timer:\n{text}");
    assert!(
        lines.iter().any(|l| l.contains("timers 1;")
            && l.contains("ran 1 (1 timer callback)")
            && l.contains("events: none")),
        "no turn fired the 30 ms callback:\n{text}"
    );
    // The listener is token 0: its readable edge; the accepted stream (token 1): its data
    // and the peer's close.
    let has = |what: &[&str]| lines.iter().any(|l| what.iter().all(|w| l.contains(w)));
    assert!(has(&["t0 readable"]), "no event on the listener:\n{text}");
    assert!(has(&["t1 readable"]), "no data on the stream:\n{text}");
    assert!(
        has(&["t1 ", "read-closed"]),
        "no close on the stream:\n{text}"
    );
    // The thread's callback: one job drained from the remote queue, and the eventfd's event.
    assert!(has(&["remote 1;"]), "no cross-thread job drained:\n{text}");
    assert!(has(&["waker"]), "the eventfd never showed:\n{text}");
    assert_eq!(text.matches("remote 1;").count(), 1, "{text}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("ran 2 (1 task, 1 callback) in ")),
        "no turn ran the task and the callback together:\n{text}"
    );
    // A turn with work waiting does not sleep at all.
    assert!(
        lines
            .iter()
            .any(|l| l.contains("poll <=0.000ms (ready work)")),
        "{text}"
    );
    assert_eq!(
        log,
        [
            "timer",
            "slept",
            "ping",
            "callback from a thread",
            "callback",
            "task"
        ]
    );
}

#[test]
fn chrome_trace_parses_and_has_a_poll_and_a_run_per_turn() {
    let lp = IoLoop::new();
    let out = Shared::default();
    lp.set_trace(Some(LoopTrace::chrome_json(out.clone())));
    scenario(&lp);
    let turns = lp.set_trace(None).unwrap().turns(); // dropped: the closing bracket
    let json: serde_json::Value = serde_json::from_str(&out.text()).expect("valid JSON");
    let events = json.as_array().expect("the JSON array format");
    let named = |name: &str| -> Vec<&serde_json::Value> {
        events.iter().filter(|e| e["name"] == name).collect()
    };
    assert_eq!(named("thread_name").len(), 1);
    assert!(
        !named("run_sync future").is_empty(),
        "the main future's polls between turns"
    );
    let polls = named("poll");
    let runs = named("run");
    assert_eq!(polls.len() as u64, turns);
    assert_eq!(runs.len() as u64, turns);
    assert_eq!(named("ready left").len() as u64, turns);
    let mut last_ts = 0.0;
    for (i, (p, r)) in polls.iter().zip(&runs).enumerate() {
        assert_eq!(p["ph"], "X");
        assert_eq!(r["ph"], "X");
        assert_eq!(p["args"]["turn"], i as u64 + 1);
        assert_eq!(r["args"]["turn"], i as u64 + 1);
        let ts = p["ts"].as_f64().unwrap();
        assert!(ts >= last_ts, "timestamps go forward");
        assert!(p["dur"].as_f64().unwrap() >= 0.0);
        assert!(r["ts"].as_f64().unwrap() >= ts);
        last_ts = ts;
    }
    let why = |w: &str| polls.iter().filter(|p| p["args"]["why"] == w).count();
    assert!(why("timer") >= 1);
    assert!(why("ready work") >= 1);
    assert!(
        polls
            .iter()
            .filter(|p| p["args"]["why"] == "timer")
            .all(|p| p["args"]["timeout_ms"].as_f64().unwrap() <= 60.0)
    );
    let has_event = |e: &str| {
        polls.iter().any(|p| {
            p["args"]["events"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x.as_str().unwrap().contains(e))
        })
    };
    assert!(has_event("t0 readable"));
    assert!(has_event("waker"));
    let sum = |k: &str| {
        runs.iter()
            .map(|r| r["args"][k].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(sum("timer_callbacks"), 1, "the one call_later");
    assert_eq!(sum("remote"), 1, "the one cross-thread callback");
    assert!(sum("timers") >= 2, "the call_later and the sleep");
    assert!(sum("tasks") >= 1);
    assert_eq!(
        sum("callbacks"),
        2,
        "add_callback, from the thread and on the loop"
    );
}

#[test]
fn a_trace_changes_nothing_the_loop_does() {
    let plain = scenario(&IoLoop::new());
    let lp = IoLoop::new();
    let out = Shared::default();
    lp.set_trace(Some(LoopTrace::text(out.clone())));
    let traced = scenario(&lp);
    assert_eq!(plain, traced);
    // Off again: the loop keeps working and nothing more is recorded.
    assert!(lp.set_trace(None).unwrap().turns() > 0);
    let written = out.text().len();
    assert!(written > 0);
    assert_eq!(scenario(&lp), plain);
    assert_eq!(out.text().len(), written);
}

#[test]
fn an_empty_chrome_trace_is_still_valid_json() {
    let out = Shared::default();
    drop(LoopTrace::chrome_json(out.clone()));
    let v: serde_json::Value = serde_json::from_str(&out.text()).unwrap();
    assert_eq!(v, serde_json::json!([]));
}

#[test]
fn a_failing_writer_does_not_disturb_the_loop() {
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::other("disk full"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::other("disk full"))
        }
    }
    let lp = IoLoop::new();
    lp.set_trace(Some(LoopTrace::chrome_json(Broken)));
    let plain = scenario(&IoLoop::new());
    assert_eq!(scenario(&lp), plain);
}
