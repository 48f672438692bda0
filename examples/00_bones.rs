//! Rung 0: the bones of an event loop, standing alone (it does not use squall at all).
//!
//! Before reading `src/ioloop/`, see the skeleton every such loop shares: a mio `Poll` (the
//! one place the thread sleeps), a `VecDeque` of ready tasks, a `BinaryHeap` of timers, and
//! std's `Wake` trait to turn "wake task 3" into a `Waker`. One turn is: work out how long
//! the poll may block, poll, wake the tasks whose sockets have events, wake the tasks whose
//! timers are due, then poll every task that was ready. squall's loop is this, plus the
//! safety rails listed in `src/ioloop/mod.rs` ("what squall adds to the bones").
//!
//! Run it: `cargo run --example 00_bones`.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::future::{Future, poll_fn};
use std::io::{ErrorKind, Read, Write};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use mio::net::TcpListener;
use mio::{Events, Interest, Token};

/// The waker's token for the poll itself (another thread woke a task).
const WAKE_TOKEN: Token = Token(usize::MAX);

/// A waker: "put task `id` in the ready queue, and interrupt the poll". The queue is behind
/// a mutex because `Waker` must be `Send`: any thread may wake a task.
struct TaskWaker {
    id: usize,
    ready: Arc<Mutex<VecDeque<usize>>>,
    poll_waker: Arc<mio::Waker>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.ready.lock().unwrap().push_back(self.id);
        let _ = self.poll_waker.wake(); // an eventfd write: the poll returns at once
    }
}

/// What futures reach through a thread-local: timers and sockets waiting for an event.
#[derive(Default)]
struct Reactor {
    timers: BinaryHeap<Reverse<(Instant, u64)>>, // (deadline, sequence): ties fire FIFO
    timer_wakers: HashMap<u64, Waker>,
    io_wakers: HashMap<Token, Waker>,
    next_seq: u64,
    registry: Option<mio::Registry>,
}

thread_local! { static REACTOR: RefCell<Reactor> = RefCell::default(); }

/// A future that is ready once `at` has passed.
fn sleep(d: Duration) -> impl Future<Output = ()> {
    let at = Instant::now() + d;
    poll_fn(move |cx| {
        if Instant::now() >= at {
            return Poll::Ready(());
        }
        REACTOR.with(|r| {
            let mut r = r.borrow_mut();
            let seq = r.next_seq;
            r.next_seq += 1;
            r.timers.push(Reverse((at, seq)));
            r.timer_wakers.insert(seq, cx.waker().clone());
        });
        Poll::Pending
    })
}

/// Wait for the next event on `token`. Call it only after an operation said WouldBlock:
/// the kernel reports *edges*, and only WouldBlock guarantees a fresh one is coming.
fn io_event(token: Token) -> impl Future<Output = ()> {
    let mut waited = false;
    poll_fn(move |cx| {
        if waited {
            return Poll::Ready(());
        }
        waited = true;
        REACTOR.with(|r| r.borrow_mut().io_wakers.insert(token, cx.waker().clone()));
        Poll::Pending
    })
}

/// Register a socket for both directions, edge-triggered (mio's only mode).
fn register(src: &mut impl mio::event::Source, token: Token) {
    REACTOR.with(|r| {
        let r = r.borrow();
        let registry = r.registry.as_ref().expect("called inside run()");
        registry
            .register(src, token, Interest::READABLE | Interest::WRITABLE)
            .unwrap();
    });
}

/// Try `op`; on WouldBlock, wait for the socket's next edge and try again.
async fn retry<T>(token: Token, mut op: impl FnMut() -> std::io::Result<T>) -> T {
    loop {
        match op() {
            Ok(v) => return v,
            Err(e) if e.kind() == ErrorKind::WouldBlock => io_event(token).await,
            Err(e) => panic!("{e}"),
        }
    }
}

type Task = Pin<Box<dyn Future<Output = ()>>>;

/// Run every task to completion.
fn run(tasks: Vec<Task>) {
    let mut poll = mio::Poll::new().unwrap();
    let poll_waker = Arc::new(mio::Waker::new(poll.registry(), WAKE_TOKEN).unwrap());
    let registry = poll.registry().try_clone().unwrap();
    REACTOR.with(|r| r.borrow_mut().registry = Some(registry));
    let ready = Arc::new(Mutex::new((0..tasks.len()).collect::<VecDeque<_>>()));
    let mut tasks: Vec<Option<Task>> = tasks.into_iter().map(Some).collect();
    let mut events = Events::with_capacity(64);
    let mut turn = 0;
    while tasks.iter().any(Option::is_some) {
        turn += 1;
        // 1. How long may the poll block? Not at all if work waits, else until the next timer.
        let next_timer = REACTOR.with(|r| r.borrow().timers.peek().map(|t| t.0.0));
        let timeout = if !ready.lock().unwrap().is_empty() {
            Some(Duration::ZERO)
        } else {
            next_timer.map(|at| at.saturating_duration_since(Instant::now()))
        };
        poll.poll(&mut events, timeout).unwrap();
        // 2. Events wake the tasks waiting on those sockets.
        for ev in events.iter() {
            if let Some(w) = REACTOR.with(|r| r.borrow_mut().io_wakers.remove(&ev.token())) {
                w.wake();
            }
        }
        // 3. Timers that are due wake their tasks, earliest first.
        let now = Instant::now();
        while let Some(w) = REACTOR.with(|r| {
            let mut r = r.borrow_mut();
            let Reverse((at, seq)) = *r.timers.peek()?;
            (at <= now)
                .then(|| r.timers.pop())
                .and_then(|_| r.timer_wakers.remove(&seq))
        }) {
            w.wake();
        }
        // 4. Poll the tasks that are ready now; tasks woken meanwhile wait for the next turn.
        let batch: Vec<usize> = ready.lock().unwrap().drain(..).collect();
        println!(
            "turn {turn}: {} event(s), running tasks {batch:?}",
            events.iter().count()
        );
        for id in batch {
            // A finished task may still be queued by a late wake: skip it.
            let Some(task) = tasks[id].as_mut() else {
                continue;
            };
            let waker = Waker::from(Arc::new(TaskWaker {
                id,
                ready: ready.clone(),
                poll_waker: poll_waker.clone(),
            }));
            let mut cx = Context::from_waker(&waker);
            if task.as_mut().poll(&mut cx).is_ready() {
                tasks[id] = None;
            }
        }
    }
}

fn main() {
    let timer: Task = Box::pin(async {
        sleep(Duration::from_millis(30)).await;
        println!("task 0: slept 30 ms");
    });
    let reader: Task = Box::pin(async {
        let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        register(&mut listener, Token(0));
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.write_all(b"hello from a thread").unwrap();
        });
        let (mut stream, _) = retry(Token(0), || listener.accept()).await;
        register(&mut stream, Token(1));
        let (mut got, mut buf) = (Vec::new(), [0u8; 64]);
        loop {
            match retry(Token(1), || stream.read(&mut buf)).await {
                0 => break, // end of stream: the thread closed its socket
                n => got.extend_from_slice(&buf[..n]),
            }
        }
        println!("task 1: read {:?}", String::from_utf8_lossy(&got));
    });
    run(vec![timer, reader]);
    println!("all tasks done");
}

// Try this: in step 4, drain the queue until it is empty instead of taking one batch, and add
// a task that wakes itself forever (`poll_fn(|cx| { cx.waker().wake_by_ref(); Poll::<()>::Pending })`):
// the timer task never gets its turn and the program never ends. That is why squall's
// executor runs one batch per turn (`tests/ioloop/tasks.rs::a_self_waking_task_does_not_starve_timers_or_callbacks`
// checks it).
