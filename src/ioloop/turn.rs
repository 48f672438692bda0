//! The loop's state, and one turn of the loop.
//!
//! An [`IoLoop`](super::IoLoop) is an `Rc<LoopState>`: the reactor, the executor and the
//! timers of one loop, and its flags (running, stopping, closed...). `LoopState::turn` is the
//! turn the [module docs](super) draw, its five steps one call each; `trace.rs` has a twin of
//! it that records every step, and the two must stay in step. Closing a loop is here too: it
//! drops tasks whose own `Drop` may queue more work, so it repeats until nothing is left.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::LoopTrace;
use super::executor::{self, Executor, Job, RemoteJob};
use super::handle::LoopShared;
use super::reactor::Reactor;
use super::timer::{self, Timers};
use super::trace;

/// The loop's state. [`IoLoop`](super::IoLoop) is an `Rc` of this.
pub(crate) struct LoopState {
    pub(super) id: usize,
    pub(super) shared: Arc<LoopShared>,
    pub(crate) reactor: Reactor,
    pub(crate) exec: Executor,
    pub(crate) timers: RefCell<Timers>,
    pub(super) running: Cell<bool>,
    pub(super) stopping: Cell<bool>,
    pub(super) closed: Cell<bool>,
    pub(super) close_requested: Cell<bool>,
    /// The `run_sync` future was woken and must be polled.
    pub(super) main_woken: Cell<bool>,
    /// Spare buffer swapped with the remote queue, so draining it allocates nothing.
    remote_spare: RefCell<Vec<RemoteJob>>,
    /// A [`LoopTrace`] is installed: turns go through `trace::traced_turn`.
    pub(super) tracing: Cell<bool>,
    pub(super) trace: RefCell<Option<LoopTrace>>,
}

impl LoopState {
    /// The state of a new loop `id` over `poll`, with the `trace` to record its turns (if any).
    pub(super) fn new(
        id: usize,
        shared: Arc<LoopShared>,
        poll: mio::Poll,
        trace: Option<LoopTrace>,
    ) -> LoopState {
        LoopState {
            id,
            shared,
            reactor: Reactor::new(poll),
            exec: Executor::new(),
            timers: RefCell::new(Timers::new(id)),
            running: Cell::new(false),
            stopping: Cell::new(false),
            closed: Cell::new(false),
            close_requested: Cell::new(false),
            main_woken: Cell::new(false),
            remote_spare: RefCell::new(Vec::new()),
            tracing: Cell::new(trace.is_some()),
            trace: RefCell::new(trace),
        }
    }

    /// Push a job to the ready queue (loop thread only).
    pub(crate) fn push_ready(&self, job: Job) {
        self.exec.ready.borrow_mut().push_back(job);
    }

    /// One turn of the loop; see the module docs.
    pub(super) fn turn(self: &Rc<Self>) {
        // The only cost of tracing when it is off: this one test per turn.
        if self.tracing.get() {
            return trace::traced_turn(self);
        }
        // 1. How long may we block?
        let (timeout, _why) = self.poll_timeout();
        // 2. Poll and turn events into readiness flags and wakes.
        self.poll_reactor(timeout);
        // 3. Cross-thread jobs.
        self.drain_remote();
        // 4. Timers that are due.
        timer::fire_due(self);
        // 5. The ready queue, as it is now.
        executor::run_ready(self);
    }

    /// Step 1: zero if work is waiting, else until the earliest timer, else forever.
    pub(super) fn poll_timeout(&self) -> (Option<Duration>, trace::Why) {
        use trace::Why;
        let why = if !self.exec.ready.borrow().is_empty() {
            Why::Ready
        } else if self.main_woken.get() {
            Why::Main
        } else if self.shared.notified.load(Ordering::Acquire) {
            Why::Remote
        } else {
            return match self.timers.borrow_mut().next_deadline() {
                Some(at) => (
                    Some(at.saturating_duration_since(Instant::now())),
                    Why::Timer,
                ),
                None => (None, Why::Forever),
            };
        };
        (Some(Duration::ZERO), why)
    }

    /// Step 2: the poll, the one place the thread sleeps.
    pub(super) fn poll_reactor(&self, timeout: Option<Duration>) {
        if let Err(e) = self.reactor.poll(timeout) {
            eprintln!("squall IoLoop: poll failed: {e}");
            // Avoid a hot spin on a persistent error.
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Step 3: move what other threads sent to the ready queue.
    pub(super) fn drain_remote(&self) {
        if !self.shared.notified.swap(false, Ordering::AcqRel) {
            return;
        }
        let mut batch = std::mem::take(&mut *self.remote_spare.borrow_mut());
        std::mem::swap(&mut self.shared.lock_remote().jobs, &mut batch);
        {
            let mut ready = self.exec.ready.borrow_mut();
            for job in batch.drain(..) {
                ready.push_back(match job {
                    RemoteJob::Task(key) => Job::Task(key),
                    RemoteJob::Call(f) => Job::Call(f),
                });
            }
        }
        *self.remote_spare.borrow_mut() = batch;
    }

    /// Free everything: tasks (closing their sockets), callbacks, timers, the poller.
    pub(super) fn do_close(&self) {
        if self.closed.replace(true) {
            return;
        }
        drop(self.shared.close_remote());
        // Dropping tasks can run arbitrary Drop code (which may add callbacks, cancel timers,
        // deregister sockets), so repeat until everything is empty, never holding a borrow.
        loop {
            let tasks = self.exec.take_all_tasks();
            let ready = std::mem::take(&mut *self.exec.ready.borrow_mut());
            let timers = self.timers.borrow_mut().take_all();
            let empty = tasks.is_empty() && ready.is_empty() && timers.is_empty();
            executor::abort_all(tasks);
            drop(ready);
            drop(timers);
            if empty {
                break;
            }
        }
        self.reactor.close();
    }
}

impl Drop for LoopState {
    fn drop(&mut self) {
        // Wakers and handles on other threads may outlive the loop: from now on what they
        // send is dropped instead of piling up in a queue nobody drains.
        drop(self.shared.close_remote());
        // Tasks still here are dropped with the loop; tell their JoinHandles.
        executor::abort_all(self.exec.take_all_tasks());
    }
}
