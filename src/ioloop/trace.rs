//! Watching the loop: an opt-in record of every turn.
//!
//! The module docs of [`ioloop`](super) describe a turn; this file lets you *see* turns.
//! With a [`LoopTrace`] installed ([`IoLoop::set_trace`](super::IoLoop::set_trace), or
//! `SQUALL_TRACE=1` in the environment, or the CLI's `--trace-loop FILE`), each turn reports
//! what it did:
//!
//! - how long the poll was allowed to block, and why: `0` because work was already waiting
//!   (ready jobs, the `run_sync` future woken, a cross-thread job), until the next **timer**,
//!   or **forever**; and how long it really waited;
//! - the events the kernel returned: token, readable / writable / closed / error, and the
//!   loop's own eventfd (`waker`);
//! - how many cross-thread jobs were drained, how many timers fired;
//! - how many tasks, callbacks and timer callbacks ran, and how many jobs were left for the
//!   next turn.
//!
//! Two formats. **Text**: one line per turn, for a terminal:
//!
//! ```text
//! [loop 1] turn 3 +0.402ms: poll <=19999.600ms (timer) waited 0.087ms; events: t1 writable; remote 0; timers 0; ran 2 (1 task, 1 callback) in 0.031ms; left 0
//! ```
//!
//! **Chrome Trace Event JSON** (the "JSON array" form): each turn becomes a `poll` and a `run`
//! slice on the loop's track, with the details above as `args`, plus a `ready left` counter;
//! the poll of `run_sync`'s own future between two turns is a `run_sync future` slice.
//! Perfetto (<https://ui.perfetto.dev>) and `chrome://tracing` open it as a timeline. It is
//! written by hand, so it needs no JSON library; the closing `]` is written when the trace is
//! dropped, and the viewers accept a file without it (a crashed program still leaves a
//! readable trace).
//!
//! When no trace is installed the cost is one `Cell<bool>` test per turn: [`traced_turn`] is
//! a second copy of the turn's five steps with measurements between them, and the normal
//! turn never enters it. The steps themselves are the same functions, so the two cannot
//! drift apart in what they do, only in what they record.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::executor::{self, Job};
use super::{LoopState, WAKER_TOKEN, timer};

/// Where and how the turns of one loop are recorded. Install it with
/// [`IoLoop::set_trace`](super::IoLoop::set_trace).
///
/// ```
/// use squall::ioloop::{IoLoop, LoopTrace, sleep};
/// use std::time::Duration;
///
/// let lp = IoLoop::new();
/// lp.set_trace(Some(LoopTrace::text(std::io::stderr())));
/// lp.run_sync(sleep(Duration::from_millis(1)));
/// lp.set_trace(None); // stop tracing (a JSON trace is finished here)
/// ```
pub struct LoopTrace {
    out: Box<dyn Write>,
    format: Format,
    /// Time zero of the trace's timestamps.
    origin: Instant,
    turns: u64,
    /// Nothing written yet (JSON: no comma before the first event).
    fresh: bool,
    /// A write failed: stop trying, the loop must not suffer for its trace.
    broken: bool,
    /// The last turn ended with `run_sync`'s future due for a poll, at this time: the gap
    /// until the next turn is that poll (it happens outside the turn, in `try_run_sync`).
    main_since: Option<Instant>,
    line: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    Chrome,
}

impl std::fmt::Debug for LoopTrace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopTrace")
            .field("json", &(self.format == Format::Chrome))
            .field("turns", &self.turns)
            .finish()
    }
}

impl LoopTrace {
    /// One text line per turn, written to `out` (each line in one `write_all`).
    pub fn text(out: impl Write + 'static) -> LoopTrace {
        LoopTrace::with(Box::new(out), Format::Text)
    }

    /// Chrome Trace Event JSON, written to `out` as the turns happen. Open the result in
    /// Perfetto or `chrome://tracing`.
    pub fn chrome_json(out: impl Write + 'static) -> LoopTrace {
        LoopTrace::with(Box::new(out), Format::Chrome)
    }

    /// The trace `SQUALL_TRACE` asks for: text on stderr when it is set to anything but
    /// empty or `0`. Read once per process.
    pub fn from_env() -> Option<LoopTrace> {
        static ON: OnceLock<bool> = OnceLock::new();
        let on = *ON.get_or_init(|| {
            std::env::var_os("SQUALL_TRACE").is_some_and(|v| !v.is_empty() && v != "0")
        });
        on.then(|| LoopTrace::text(io::stderr()))
    }

    fn with(out: Box<dyn Write>, format: Format) -> LoopTrace {
        LoopTrace {
            out,
            format,
            origin: Instant::now(),
            turns: 0,
            fresh: true,
            broken: false,
            main_since: None,
            line: String::new(),
        }
    }

    /// How many turns were recorded so far.
    pub fn turns(&self) -> u64 {
        self.turns
    }

    fn micros(&self, at: Instant) -> f64 {
        at.saturating_duration_since(self.origin).as_secs_f64() * 1e6
    }

    fn emit(&mut self) {
        if self.broken {
            return;
        }
        if self.out.write_all(self.line.as_bytes()).is_err() {
            self.broken = true;
        }
    }

    fn record(&mut self, loop_id: usize, t: &TurnRecord) {
        self.turns += 1;
        self.line.clear();
        match self.format {
            Format::Text => self.text_line(loop_id, t),
            Format::Chrome => self.chrome_events(loop_id, t),
        }
        self.emit();
        self.main_since = t.main_next.then_some(t.done);
        if self.format == Format::Text {
            // Unbuffered writers (stderr) flush anyway; a buffered one shows lines as they come.
            let _ = self.out.flush();
        }
    }

    fn text_line(&mut self, loop_id: usize, t: &TurnRecord) {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let start = ms(t.start.saturating_duration_since(self.origin));
        let l = &mut self.line;
        let _ = write!(
            l,
            "[loop {loop_id}] turn {} +{start:.3}ms: poll ",
            self.turns
        );
        match t.timeout {
            Some(d) => {
                let _ = write!(l, "<={:.3}ms", ms(d));
            }
            None => l.push_str("forever"),
        }
        let _ = write!(
            l,
            " ({}) waited {:.3}ms; events:",
            t.why.text(),
            ms(t.polled - t.start)
        );
        if t.events.is_empty() {
            l.push_str(" none");
        }
        for (i, e) in t.events.iter().enumerate() {
            l.push_str(if i == 0 { " " } else { ", " });
            e.write_to(l);
        }
        let _ = write!(
            l,
            "; remote {}; timers {}; ran {}",
            t.remote,
            t.timers,
            t.ran.total()
        );
        let kinds = [
            (t.ran.tasks, "task"),
            (t.ran.calls, "callback"),
            (t.ran.timers, "timer callback"),
        ];
        let mut first = true;
        for (n, what) in kinds.into_iter().filter(|k| k.0 > 0) {
            l.push_str(if first { " (" } else { ", " });
            first = false;
            let _ = write!(l, "{n} {what}{}", plural(n));
        }
        if !first {
            l.push(')');
        }
        if t.ran.total() > 0 {
            let _ = write!(l, " in {:.3}ms", ms(t.done - t.ran_from));
        }
        let _ = write!(l, "; left {}", t.left);
        if t.main_next {
            l.push_str("; then run_sync's future");
        }
        l.push('\n');
    }

    fn chrome_events(&mut self, loop_id: usize, t: &TurnRecord) {
        let (start, polled) = (self.micros(t.start), self.micros(t.polled));
        let done = self.micros(t.done);
        let turn = self.turns;
        let main = self.main_since.map(|since| self.micros(since));
        let l = &mut self.line;
        if self.fresh {
            self.fresh = false;
            let _ = write!(
                l,
                "[\n{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":{loop_id},\"args\":{{\"name\":\"IoLoop {loop_id}\"}}}}"
            );
        }
        if let Some(since) = main {
            let _ = write!(
                l,
                ",\n{{\"name\":\"run_sync future\",\"cat\":\"ioloop\",\"ph\":\"X\",\"pid\":1,\"tid\":{loop_id},\"ts\":{:.3},\"dur\":{:.3},\"args\":{{\"after_turn\":{}}}}}",
                since,
                start - since,
                turn - 1
            );
        }
        let timeout = match t.timeout {
            Some(d) => format!("{:.3}", d.as_secs_f64() * 1e3),
            None => "null".to_string(),
        };
        let _ = write!(
            l,
            ",\n{{\"name\":\"poll\",\"cat\":\"ioloop\",\"ph\":\"X\",\"pid\":1,\"tid\":{loop_id},\"ts\":{start:.3},\"dur\":{:.3},\"args\":{{\"turn\":{turn},\"timeout_ms\":{timeout},\"why\":\"{}\",\"events\":[",
            polled - start,
            t.why.text()
        );
        let mut ev = String::new();
        for (i, e) in t.events.iter().enumerate() {
            if i > 0 {
                l.push(',');
            }
            ev.clear();
            e.write_to(&mut ev);
            // Only ASCII letters, digits and spaces: no escaping needed.
            let _ = write!(l, "\"{ev}\"");
        }
        let _ = write!(
            l,
            "]}}}},\n{{\"name\":\"run\",\"cat\":\"ioloop\",\"ph\":\"X\",\"pid\":1,\"tid\":{loop_id},\"ts\":{polled:.3},\"dur\":{:.3},\"args\":{{\"turn\":{turn},\"remote\":{},\"timers\":{},\"tasks\":{},\"callbacks\":{},\"timer_callbacks\":{},\"left\":{},\"main_next\":{}}}}}",
            done - polled,
            t.remote,
            t.timers,
            t.ran.tasks,
            t.ran.calls,
            t.ran.timers,
            t.left,
            t.main_next
        );
        let _ = write!(
            l,
            ",\n{{\"name\":\"ready left\",\"ph\":\"C\",\"pid\":1,\"tid\":{loop_id},\"ts\":{done:.3},\"args\":{{\"jobs\":{}}}}}",
            t.left
        );
    }
}

impl Drop for LoopTrace {
    fn drop(&mut self) {
        if self.format == Format::Chrome && !self.broken {
            let tail: &[u8] = if self.fresh { b"[]\n" } else { b"\n]\n" };
            let _ = self.out.write_all(tail);
        }
        let _ = self.out.flush();
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Why the poll could block as long as it did.
#[derive(Clone, Copy)]
pub(crate) enum Why {
    /// Jobs were in the ready queue: do not sleep.
    Ready,
    /// `run_sync`'s future was woken: do not sleep.
    Main,
    /// Another thread queued a job: do not sleep.
    Remote,
    /// Until the earliest timer.
    Timer,
    /// Nothing to wait for but I/O.
    Forever,
}

impl Why {
    fn text(self) -> &'static str {
        match self {
            Why::Ready => "ready work",
            Why::Main => "main future woken",
            Why::Remote => "cross-thread job",
            Why::Timer => "timer",
            Why::Forever => "no timer, no work",
        }
    }
}

/// One event of a poll, as the trace shows it.
struct Event {
    /// `None` for the loop's own cross-thread waker.
    token: Option<usize>,
    readable: bool,
    writable: bool,
    read_closed: bool,
    write_closed: bool,
    error: bool,
}

impl Event {
    fn write_to(&self, s: &mut String) {
        let Some(token) = self.token else {
            s.push_str("waker");
            return;
        };
        let _ = write!(s, "t{token}");
        for (on, word) in [
            (self.readable, " readable"),
            (self.writable, " writable"),
            (self.read_closed, " read-closed"),
            (self.write_closed, " write-closed"),
            (self.error, " error"),
        ] {
            if on {
                s.push_str(word);
            }
        }
    }
}

/// Jobs run in a turn, by kind.
#[derive(Default)]
struct Ran {
    tasks: usize,
    calls: usize,
    timers: usize,
}

impl Ran {
    fn total(&self) -> usize {
        self.tasks + self.calls + self.timers
    }
}

/// Everything one turn did.
struct TurnRecord {
    start: Instant,
    timeout: Option<Duration>,
    why: Why,
    polled: Instant,
    events: Vec<Event>,
    remote: usize,
    timers: usize,
    ran_from: Instant,
    ran: Ran,
    done: Instant,
    left: usize,
    main_next: bool,
}

/// The turn of [`LoopState::turn`], step for step, with a record of each step. Keep the two in
/// the same order.
pub(crate) fn traced_turn(inner: &Rc<LoopState>) {
    let start = Instant::now();
    // 1. How long may we block?
    let (timeout, why) = inner.poll_timeout();
    // 2. Poll; events become readiness flags and wakes.
    inner.poll_reactor(timeout);
    let polled = Instant::now();
    let mut events = Vec::new();
    inner.reactor.for_each_event(|ev| {
        events.push(Event {
            token: (ev.token() != WAKER_TOKEN).then_some(ev.token().0),
            readable: ev.is_readable(),
            writable: ev.is_writable(),
            read_closed: ev.is_read_closed(),
            write_closed: ev.is_write_closed(),
            error: ev.is_error(),
        })
    });
    // 3. Cross-thread jobs.
    let before = inner.exec.ready.borrow().len();
    inner.drain_remote();
    let remote = inner.exec.ready.borrow().len() - before;
    // 4. Timers.
    let timers = timer::fire_due(inner);
    // 5. The ready queue: what is in it now is what runs (the batch rule of `run_ready`; if
    //    that rule ever stops a batch early, count only the jobs it really ran).
    let ran_from = Instant::now();
    let mut ran = Ran::default();
    for job in inner.exec.ready.borrow().iter() {
        match job {
            Job::Task(k) if *k == executor::MAIN_KEY => {}
            Job::Task(_) => ran.tasks += 1,
            Job::Call(_) => ran.calls += 1,
            Job::Timer(_) => ran.timers += 1,
        }
    }
    executor::run_ready(inner);
    let done = Instant::now();
    let record = TurnRecord {
        start,
        timeout,
        why,
        polled,
        events,
        remote,
        timers,
        ran_from,
        ran,
        done,
        left: inner.exec.ready.borrow().len(),
        main_next: inner.main_woken.get(),
    };
    // A callback may have removed the trace during this turn; then there is nothing to do.
    if let Ok(mut slot) = inner.trace.try_borrow_mut()
        && let Some(trace) = slot.as_mut()
    {
        trace.record(inner.id, &record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// A writer the test reads back.
    #[derive(Clone, Default)]
    struct Buf(Rc<RefCell<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Buf {
        fn text(&self) -> String {
            String::from_utf8(self.0.borrow().clone()).unwrap()
        }
    }

    /// A turn that started 1 ms after the trace began, polled with a 5 ms timer bound for
    /// 2 ms, saw a readable socket with its peer gone and the eventfd, drained one remote
    /// job, fired one timer, ran a task and a timer callback in 0.25 ms and left one job.
    fn record(origin: Instant, shift_us: u64) -> TurnRecord {
        let at = |us: u64| origin + Duration::from_micros(shift_us + us);
        TurnRecord {
            start: at(1000),
            timeout: Some(Duration::from_millis(5)),
            why: Why::Timer,
            polled: at(3000),
            events: vec![
                Event {
                    token: Some(3),
                    readable: true,
                    writable: false,
                    read_closed: true,
                    write_closed: false,
                    error: false,
                },
                Event {
                    token: None,
                    readable: true,
                    writable: false,
                    read_closed: false,
                    write_closed: false,
                    error: false,
                },
            ],
            remote: 1,
            timers: 1,
            ran_from: at(3250),
            ran: Ran {
                tasks: 1,
                calls: 0,
                timers: 1,
            },
            done: at(3500),
            left: 1,
            main_next: true,
        }
    }

    #[test]
    fn text_line_exactly() {
        let buf = Buf::default();
        let mut trace = LoopTrace::text(buf.clone());
        let t = record(trace.origin, 0);
        trace.record(7, &t);
        let idle = TurnRecord {
            timeout: None,
            why: Why::Forever,
            events: Vec::new(),
            remote: 0,
            timers: 0,
            ran: Ran::default(),
            left: 0,
            main_next: false,
            ..record(trace.origin, 0)
        };
        trace.record(7, &idle);
        assert_eq!(
            buf.text(),
            "[loop 7] turn 1 +1.000ms: poll <=5.000ms (timer) waited 2.000ms; events: t3 readable \
             read-closed, waker; remote 1; timers 1; ran 2 (1 task, 1 timer callback) in 0.250ms; \
             left 1; then run_sync's future\n\
             [loop 7] turn 2 +1.000ms: poll forever (no timer, no work) waited 2.000ms; events: \
             none; remote 0; timers 0; ran 0; left 0\n"
        );
        assert_eq!(trace.turns(), 2);
    }

    #[test]
    fn chrome_events_exactly() {
        let buf = Buf::default();
        let mut trace = LoopTrace::chrome_json(buf.clone());
        let t = record(trace.origin, 0);
        trace.record(7, &t);
        // The next turn, 3 ms later: between the two, run_sync's future was polled.
        let next = TurnRecord {
            main_next: false,
            ..record(trace.origin, 3000)
        };
        trace.record(7, &next);
        drop(trace);
        let expected = r#"[
{"name":"thread_name","ph":"M","pid":1,"tid":7,"args":{"name":"IoLoop 7"}},
{"name":"poll","cat":"ioloop","ph":"X","pid":1,"tid":7,"ts":1000.000,"dur":2000.000,"args":{"turn":1,"timeout_ms":5.000,"why":"timer","events":["t3 readable read-closed","waker"]}},
{"name":"run","cat":"ioloop","ph":"X","pid":1,"tid":7,"ts":3000.000,"dur":500.000,"args":{"turn":1,"remote":1,"timers":1,"tasks":1,"callbacks":0,"timer_callbacks":1,"left":1,"main_next":true}},
{"name":"ready left","ph":"C","pid":1,"tid":7,"ts":3500.000,"args":{"jobs":1}},
{"name":"run_sync future","cat":"ioloop","ph":"X","pid":1,"tid":7,"ts":3500.000,"dur":500.000,"args":{"after_turn":1}},
{"name":"poll","cat":"ioloop","ph":"X","pid":1,"tid":7,"ts":4000.000,"dur":2000.000,"args":{"turn":2,"timeout_ms":5.000,"why":"timer","events":["t3 readable read-closed","waker"]}},
{"name":"run","cat":"ioloop","ph":"X","pid":1,"tid":7,"ts":6000.000,"dur":500.000,"args":{"turn":2,"remote":1,"timers":1,"tasks":1,"callbacks":0,"timer_callbacks":1,"left":1,"main_next":false}},
{"name":"ready left","ph":"C","pid":1,"tid":7,"ts":6500.000,"args":{"jobs":1}}
]
"#;
        assert_eq!(buf.text(), expected);
    }
}
