//! The event loop: one thread, one `epoll` (through mio), many futures.
//!
//! squall does not use tokio. Everything asynchronous in the crate runs on this module's
//! [`IoLoop`], a single-threaded reactor with a tiny executor and a timer heap, shaped like
//! Tornado's `IOLoop` (`IoLoop::current().run_sync(main)`, `add_callback`, `call_later`...).
//! It knows nothing of HTTP.
//!
//! If you are new to event loops, run the example ladder first (`examples/00_bones.rs`, a
//! loop in 200 lines without squall, up to `examples/07_tls.rs`), then come back here.
//! `docs/walkthrough.md` follows one `fetch()` through these files down to `write(2)`.
//!
//! # One turn, in a picture
//!
//! Three queues feed the work of a turn: the **ready queue** (a `VecDeque` of jobs: poll a
//! task, call a callback, run a timer's callback), the **remote queue** (a `Mutex<Vec>` that
//! other threads push to, with an `eventfd` to wake the poll), and the **timer heap**.
//!
//! ```text
//!  other threads                      the loop's thread, one turn
//!  -------------                      ---------------------------------------------------
//!  LoopHandle::add_callback,          1. timeout = 0 if work waits, else until the
//!  Waker::wake off the loop              earliest timer, else forever
//!     |                               2. epoll_wait(timeout): socket events set readiness
//!     +--write--> eventfd --event-->     flags and wake the tasks waiting on them ----+
//!     |                                  (the eventfd's event only ends the wait)     |
//!     +--push---> [remote queue] ---> 3. drain the remote queue ----------------------+
//!                                     4. pop the due timers off [timer heap]:         |
//!                                        a sleep: wake its task ----------------------+
//!                                        a call_later: queue a Timer job -------------+
//!                                                                                     v
//!                                     5. run the jobs in [ready queue] as it is now:
//!                                        Task (poll once) | Call | Timer;
//!                                        jobs queued meanwhile wait for the next turn
//! ```
//!
//! Where a wake lands:
//!
//! | who wakes | how | lands in |
//! |---|---|---|
//! | a socket event (step 2), a `sleep` (step 4), a task or callback on the loop thread | [`Waker::wake`] | the ready queue, directly (no lock, no syscall) |
//! | anything on another thread (a DNS thread finishing, a [`OneshotSender`]) | [`Waker::wake`] | the remote queue + eventfd, moved to the ready queue in step 3 |
//! | [`LoopHandle::add_callback`] | a boxed closure | the remote queue + eventfd, then the ready queue |
//! | [`IoLoop::add_callback`] | a boxed closure | the ready queue |
//! | [`IoLoop::call_later`] / [`IoLoop::call_at`] | a timer | the heap; when due, the ready queue |
//! | `run_sync`'s own future | its waker sets a flag | polled right after the turn |
//!
//! A task is queued at most once however often it is woken (its *scheduled* flag, see
//! `executor.rs`). To watch this happen, install a [`LoopTrace`] (or set `SQUALL_TRACE=1`):
//! each turn then reports its timeout and why, its events, and the jobs it drained, fired,
//! ran and left.
//!
//! # One iteration of the loop, step by step
//!
//! The loop is a `loop { turn() }`. One turn does, in this order:
//!
//! 1. **Poll.** Ask the kernel (`epoll_wait` via [`mio::Poll`]) which sockets changed state.
//!    How long may it block? Zero if any work is already waiting (a ready task, a queued
//!    callback, a cross-thread message), else until the earliest timer, else forever. This is
//!    the only place the thread ever sleeps, and it is one system call per turn. The event
//!    buffer is allocated once and reused.
//! 2. **Events → readiness → wakers.** Sockets are registered *edge-triggered*: the kernel
//!    reports a change once, not a level over and over. So each socket keeps a little
//!    readiness flag ("readable", "writable") that the event sets and that an operation
//!    ending in `WouldBlock` clears (see `reactor.rs` for the one safe refinement). An event
//!    that arrives while nobody waits is not lost: the flag remembers it. If a task was
//!    waiting, its [`Waker`] is woken.
//! 3. **Cross-thread queue.** Other threads cannot touch the loop's state (it is `Rc`/`RefCell`,
//!    on purpose: no locks on the hot path). They push to one `Mutex`-protected queue and
//!    wake the poll with a [`mio::Waker`] (an `eventfd`). We drain that queue now.
//! 4. **Timers.** Timers live in one binary heap ordered by `(deadline, sequence number)`,
//!    so equal deadlines fire first-in-first-out. Every timer whose deadline has passed is
//!    moved to the ready queue (a `sleep` just wakes its task). A cancelled timer is freed at
//!    once and its heap item swept later, so cancelled timers do not pile up.
//!    Timers come *before* running the queue so that a task whose `sleep` just ended runs in
//!    this same turn, not one extra poll later.
//! 5. **Run the ready queue.** Waking a task does not poll it on the spot: it appends the task
//!    to a FIFO *ready queue* (same-thread wakes go straight into it; other threads go through
//!    step 3). Now we run exactly the jobs that were in the queue when this step began: tasks
//!    (poll their future once), callbacks, timer callbacks. Anything woken or added meanwhile
//!    waits for the next turn. That rule is what keeps a task that wakes itself forever from
//!    starving sockets and timers: after every batch we go back to step 1. A batch is also
//!    *bounded*: at most 128 jobs run per turn (`TURN_BUDGET` in `executor.rs`). Ten thousand
//!    fetches started at once are then started over many turns, each one followed by a poll
//!    and the timers, and the timers that come due behind such a backlog run first (step 4
//!    puts them at the front of the queue): a 100 ms timer is late by a budget's worth of
//!    work, not by the whole fan-out.
//!
//! Then back to 1. `run_sync(main)` is this same loop with one more step: whenever `main`'s
//! waker fired during a turn, `main` is polled once more, and the loop ends when it is ready.
//!
//! A task woken *while* it is being polled is queued again (its "scheduled"
//! flag is cleared just before the poll), so no wake-up is ever lost; a task woken twice
//! before it runs is queued once.
//!
//! A panic in a spawned task or callback is caught (`catch_unwind`), reported on stderr as
//! `Exception in callback ...` (Tornado's words) and the loop goes on; the task's
//! [`JoinHandle`] yields [`JoinError::Panicked`]. A panic in the future given to
//! [`IoLoop::run_sync`] is not caught: it unwinds into the caller, as a panic should.
//!
//! # The `Future` / `Waker` contract, as this loop relies on it
//!
//! - `poll` returns `Ready(value)` once; nobody polls a future again after that.
//! - `Pending` is a promise: before returning it, the future has arranged for the waker in
//!   its `Context` (the latest one: a task may be polled with a new waker) to be woken when
//!   progress is possible, by a socket event, a timer or another task. A future that returns
//!   `Pending` without arranging a wake-up is never polled again: the classic hang
//!   (`examples/03_hand_future.rs` shows it).
//! - Waking is cheap, thread-safe and idempotent: wake from any thread, any number of times,
//!   even during the poll. A wake never polls inline; it queues the task. A wake is a hint:
//!   a woken future re-checks its state, and a poll with nothing new to do is harmless.
//! - Dropping a future cancels it: it must let go of what it registered. A dropped [`Sleep`]
//!   removes its timer, a dropped socket leaves epoll, a dropped fetch frees its connection.
//!
//! # What squall adds to the bones, and why
//!
//! `examples/00_bones.rs` is the skeleton: a poll, a ready queue, a timer heap, `Wake`. It
//! works for its demo, and it breaks in ways that real programs find. squall adds:
//!
//! - **Generations.** Tasks and timers live in slabs, named by slot index *and* generation.
//!   A slot is reused after its task ends; a waker or [`TimeoutHandle`] that outlived it
//!   carries the old generation and is ignored, so it cannot poll or cancel the newcomer.
//! - **Tombstones.** Cancelling a timer frees its slot in O(1) and leaves its heap item as a
//!   tombstone, skipped when it surfaces and swept when tombstones outnumber live timers.
//!   The bones cannot cancel at all: a dropped sleep still wakes its task later.
//! - **The scheduled flag.** A task is queued only by the wake that flips its flag from
//!   false to true, and the flag is cleared right *before* the poll: many wakes cost one
//!   poll, and a wake that arrives during the poll is not lost.
//! - **One batch per turn.** Step 5 runs only the jobs queued when it began, so a task that
//!   wakes itself forever still lets sockets and timers have their turn.
//! - **Readiness flags that remember.** An edge that arrives while nobody waits sets a flag
//!   the next operation sees; the bones can only wake a waiter, so they must never wait
//!   without having seen `WouldBlock` first. See `reactor.rs` for the flag's state machine.
//! - **The short-read rule.** A TCP read that returns fewer bytes than asked for clears the
//!   readable flag, saving the `read` that would only say `WouldBlock`.
//! - **Local wakes skip the eventfd.** A wake on the loop's own thread pushes straight to the
//!   ready queue; only other threads pay for the lock and the `write(2)` (the bones write the
//!   eventfd on every wake: see the empty turn in their output).
//!
//! ## Exercises
//!
//! Each is a one-line change; the answer is an existing test. Make the change, run the test,
//! read why it fails, then `git checkout` the file.
//!
//! 1. In `executor.rs`, make `run_ready` drain the ready queue until it is empty (`loop`
//!    instead of `for _ in 0..n`). Which test never finishes? (`tests/ioloop/tasks.rs`,
//!    `a_self_waking_task_does_not_starve_timers_or_callbacks`: the spinning task is queued
//!    again before the batch ends, so the loop never reaches the poll or the timers, and even
//!    the test's own timeout, a timer, cannot fire.)
//! 2. In `TaskWaker::wake_by_ref`, queue the task even when it is already scheduled. Which
//!    test fails? (`tests/ioloop/tasks.rs`, `a_task_woken_twice_before_it_runs_is_polled_once`:
//!    3 polls instead of 2.)
//! 3. In `run_task`, clear the scheduled flag *after* the poll instead of before. Which test
//!    hangs? (`a_task_woken_during_its_poll_is_polled_again`: the wake during the poll sees
//!    the flag still set and does nothing; the flag is then cleared and nobody queues the
//!    task again.)
//! 4. In `Tasks::entry` (executor), stop comparing generations. (`tests/ioloop/tasks.rs`,
//!    `a_stale_wake_never_polls_the_task_that_reuses_the_slot`: the cancelled task's queued
//!    key polls its successor.) The same in `Timers::slot_mut` fails the unit test
//!    `ioloop::timer::tests::stale_handle_does_not_cancel_a_reused_slot`.
//! 5. In `Timers::maybe_compact`, never compact. (`ioloop::timer::tests::
//!    cancelled_timers_leave_memory_flat`: "heap kept 200000 tombstones".)
//! 6. In `Reactor::poll`, set the readiness flags only when a waker is waiting. (`tests/
//!    ioloop/net.rs`, `readiness_that_arrives_while_nobody_waits_is_remembered`: the edge
//!    came while the task slept, and the read waits for one that never comes; also
//!    `eof_after_a_short_read_is_not_lost`.)
//! 7. In `PollEvented::poll_stream_io`, drop the short-read rule. (`tests/ioloop/net.rs`,
//!    `is_read_ready_is_a_syscall_free_stale_check`: after a short read the flag still says
//!    "maybe readable", so the pool's syscall-free staleness check no longer works.)
//!
//! # Files
//!
//! - `mod.rs` (this file): [`IoLoop`]: making a loop, spawning tasks, callbacks, timers.
//! - `turn.rs`: the loop's state and the turn above (`LoopState::turn`), closing a loop.
//! - `run.rs`: `run_sync`, `start`, `stop`, `close`, and [`RunError`].
//! - `handle.rs`: [`LoopHandle`] and the locked queue other threads send through.
//! - `executor.rs`: tasks, their wakers, the ready queue, [`JoinHandle`].
//! - `reactor.rs`: mio registration, readiness flags, event dispatch.
//! - `timer.rs`: the timer heap, [`sleep`], [`timeout`].
//! - `net.rs`: [`TcpStream`], [`TcpListener`], [`UdpSocket`] on top of the reactor.
//! - `periodic.rs`: [`PeriodicCallback`] and its schedule arithmetic.
//! - `oneshot.rs`: a one-value channel whose sender works from any thread.
//! - `trace.rs`: [`LoopTrace`], the opt-in record of every turn.
//!
//! [`Waker`]: std::task::Waker
//! [`Waker::wake`]: std::task::Waker::wake

mod executor;
mod handle;
mod net;
mod oneshot;
pub mod periodic;
mod reactor;
mod run;
mod timer;
mod trace;
mod turn;

pub use executor::{JoinError, JoinHandle};
pub use handle::LoopHandle;
pub use net::{TcpListener, TcpStream, UdpSocket};
pub use oneshot::{Canceled, OneshotReceiver, OneshotSender, oneshot};
pub use periodic::{PeriodicCallback, PeriodicError, Schedule};
pub use run::{RunError, TimeoutError};
pub use timer::{Elapsed, Sleep, Timeout, TimeoutHandle, sleep, sleep_until, timeout, timeout_at};
pub use trace::LoopTrace;

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use executor::Job;
use handle::LoopShared;
use turn::LoopState;

/// The mio token of the loop's cross-thread [`mio::Waker`].
const WAKER_TOKEN: mio::Token = mio::Token(usize::MAX);

static NEXT_LOOP_ID: AtomicUsize = AtomicUsize::new(1);

thread_local! {
    /// The loop running on this thread right now (at most one: nesting is refused).
    static RUNNING: RefCell<Option<Rc<LoopState>>> = const { RefCell::new(None) };
    /// This thread's default loop, made on first use by [`IoLoop::current`].
    static THREAD_LOOP: RefCell<Option<IoLoop>> = const { RefCell::new(None) };
}

/// A single-threaded event loop (Tornado's `IOLoop`): a reactor over mio, an executor for
/// `!Send` futures, timers and callbacks.
///
/// `IoLoop` is a cheap handle (`Rc` inside); clones refer to the same loop. It is `!Send`:
/// the loop lives on one thread. To reach it from another thread, use [`IoLoop::handle`].
///
/// ```
/// use squall::ioloop::{IoLoop, sleep};
/// use std::time::Duration;
///
/// let answer = IoLoop::new().run_sync(async {
///     sleep(Duration::from_millis(1)).await;
///     42
/// });
/// assert_eq!(answer, 42);
/// ```
#[derive(Clone)]
pub struct IoLoop {
    inner: Rc<LoopState>,
}

impl fmt::Debug for IoLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IoLoop")
            .field("id", &self.inner.id)
            .field("running", &self.inner.running.get())
            .field("closed", &self.inner.closed.get())
            .finish()
    }
}

/// Two handles are equal when they refer to the same loop.
impl PartialEq for IoLoop {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for IoLoop {}

impl Default for IoLoop {
    fn default() -> Self {
        IoLoop::new()
    }
}

impl IoLoop {
    /// A new loop. It does not become [`current`](IoLoop::current) until it runs.
    ///
    /// Panics only if the operating system refuses an `epoll` instance or an `eventfd`
    /// (out of file descriptors); use [`IoLoop::try_new`] to handle that.
    pub fn new() -> IoLoop {
        match IoLoop::try_new() {
            Ok(l) => l,
            Err(e) => panic!("cannot create the IoLoop's poller: {e}"),
        }
    }

    /// A new loop, or the OS error that prevented making its poller.
    pub fn try_new() -> io::Result<IoLoop> {
        let poll = mio::Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), WAKER_TOKEN)?;
        let id = NEXT_LOOP_ID.fetch_add(1, Ordering::Relaxed);
        let trace = LoopTrace::from_env();
        let shared = Arc::new(LoopShared::new(id, waker));
        Ok(IoLoop {
            inner: Rc::new(LoopState::new(id, shared, poll, trace)),
        })
    }

    /// The loop running on this thread; if none runs, this thread's own loop (made on first
    /// use and kept for the thread's life, or until it is closed: then the next call makes a
    /// fresh one).
    pub fn current() -> IoLoop {
        if let Some(l) = IoLoop::running() {
            return l;
        }
        THREAD_LOOP.with(|t| {
            let mut t = t.borrow_mut();
            // A closed thread loop is replaced: `current()` always returns a usable loop.
            if t.as_ref().is_some_and(|l| l.is_closed()) {
                *t = None;
            }
            t.get_or_insert_with(IoLoop::new).clone()
        })
    }

    /// The loop running on this thread, if any.
    pub fn running() -> Option<IoLoop> {
        RUNNING
            .try_with(|r| {
                r.try_borrow().ok().and_then(|r| {
                    r.as_ref().map(|inner| IoLoop {
                        inner: inner.clone(),
                    })
                })
            })
            .ok()
            .flatten()
    }

    /// The loop's single-threaded state, for the executor, the timers and the reactor.
    pub(crate) fn state(&self) -> &Rc<LoopState> {
        &self.inner
    }

    /// A number naming this loop, never reused in the process (what a socket registered with
    /// this loop can be matched against).
    pub(crate) fn id(&self) -> usize {
        self.inner.id
    }

    /// Diagnostics: how many tasks, timers and sockets the loop holds right now. Handy to
    /// check that nothing leaks (cancelled timers leave, finished tasks leave).
    pub fn stats(&self) -> LoopStats {
        LoopStats {
            tasks: self.inner.exec.task_count(),
            timers: self.inner.timers.borrow().len(),
            sockets: self.inner.reactor.source_count(),
        }
    }

    /// Record every turn of this loop from now on into `trace` (see [`LoopTrace`]), or stop
    /// recording with `None`. Returns the trace that was installed, if any; dropping it
    /// finishes it (a JSON trace gets its closing bracket). `SQUALL_TRACE=1` in the
    /// environment installs a text trace on stderr in every new loop.
    pub fn set_trace(&self, trace: Option<LoopTrace>) -> Option<LoopTrace> {
        self.inner.tracing.set(trace.is_some());
        std::mem::replace(&mut *self.inner.trace.borrow_mut(), trace)
    }

    /// Is the loop running (inside `run_sync` or `start`)?
    pub fn is_running(&self) -> bool {
        self.inner.running.get()
    }

    /// Has [`close`](IoLoop::close) been done?
    pub fn is_closed(&self) -> bool {
        self.inner.closed.get()
    }

    /// Run `fut` as a task on this loop. The returned handle is a future of its output;
    /// dropping it detaches the task; [`JoinHandle::cancel`] drops the task.
    pub fn spawn<F: Future + 'static>(&self, fut: F) -> JoinHandle<F::Output> {
        executor::spawn_on(&self.inner, fut)
    }

    /// Call `f` on the next iteration (Tornado's `spawn_callback`; same as `add_callback`).
    pub fn spawn_callback(&self, f: impl FnOnce() + 'static) {
        self.add_callback(f);
    }

    /// Call `f` on the next iteration of the loop, after what is already queued (L-07). A
    /// closed loop drops it. From another thread, use [`LoopHandle::add_callback`].
    pub fn add_callback(&self, f: impl FnOnce() + 'static) {
        if self.inner.closed.get() {
            return;
        }
        self.inner.push_ready(Job::Call(Box::new(f)));
    }

    /// Run `fut` as a task and call `cb` with its output, on a later iteration than the one
    /// that completed it (never inline, L-15). If the task panics, `cb` is not called.
    pub fn add_future<F: Future + 'static>(&self, fut: F, cb: impl FnOnce(F::Output) + 'static) {
        let weak = Rc::downgrade(&self.inner);
        let task = async move {
            let out = fut.await;
            if let Some(inner) = weak.upgrade() {
                IoLoop { inner }.add_callback(move || cb(out));
            }
        };
        drop(self.spawn(task));
    }

    /// Call `f` once `d` has passed. Returns a handle for [`remove_timeout`](IoLoop::remove_timeout).
    pub fn call_later(&self, d: Duration, f: impl FnOnce() + 'static) -> TimeoutHandle {
        let at = Instant::now().checked_add(d).unwrap_or_else(far_future);
        self.call_at(at, f)
    }

    /// Call `f` at `at` (monotonic clock, L-16). A time in the past runs on the next
    /// iteration (L-11); equal times run in the order they were added.
    pub fn call_at(&self, at: Instant, f: impl FnOnce() + 'static) -> TimeoutHandle {
        self.inner
            .timers
            .borrow_mut()
            .insert(at, timer::Entry::call(Box::new(f)))
    }

    /// Cancel a timer. A no-op if it already ran or was removed (L-12).
    pub fn remove_timeout(&self, h: TimeoutHandle) {
        let removed = self.inner.timers.borrow_mut().remove(&h);
        drop(removed);
    }

    /// The loop's clock: monotonic (L-16).
    pub fn time(&self) -> Instant {
        Instant::now()
    }

    /// A `Send + Sync` handle for other threads.
    pub fn handle(&self) -> LoopHandle {
        LoopHandle {
            shared: self.inner.shared.clone(),
        }
    }
}

/// What a loop holds, from [`IoLoop::stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoopStats {
    /// Spawned tasks not yet finished.
    pub tasks: usize,
    /// Timers scheduled and neither fired nor cancelled (sleeps included).
    pub timers: usize,
    /// Sockets registered with the reactor.
    pub sockets: usize,
}

/// A deadline that never comes (about 30 years ahead), for overflowing durations.
pub(crate) fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86400 * 365 * 30)
}

/// Spawn `fut` on [`IoLoop::current`].
pub fn spawn<F: Future + 'static>(fut: F) -> JoinHandle<F::Output> {
    IoLoop::current().spawn(fut)
}
