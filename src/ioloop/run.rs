//! Running a loop: `run_sync`, `start`, `stop`, `close`, and why a run can fail.
//!
//! A loop does its work only inside one of these calls. Each first marks the loop as the one
//! running on this thread (`RunGuard`: at most one loop runs per thread, and a loop cannot be
//! run again from inside itself), then turns it (`LoopState::turn`) until its future is
//! ready or [`IoLoop::stop`] is called, and undoes the mark on the way out, panics included.
//! `run_sync` adds the one step the module docs mention: it polls its own future again
//! whenever that future's waker fired during a turn.

use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use super::executor::{MAIN_KEY, TaskWaker};
use super::turn::LoopState;
use super::{IoLoop, RUNNING, timeout};

/// Sets up "this loop is running on this thread" and undoes it on exit, panics included.
pub(super) struct RunGuard<'a> {
    inner: &'a Rc<LoopState>,
}

impl<'a> RunGuard<'a> {
    pub(super) fn enter(inner: &'a Rc<LoopState>) -> Result<Self, RunError> {
        if inner.closed.get() {
            return Err(RunError::Closed);
        }
        let busy = RUNNING
            .try_with(|r| r.try_borrow().map(|r| r.is_some()).unwrap_or(true))
            .unwrap_or(true);
        if busy || inner.running.get() {
            return Err(RunError::AlreadyRunning);
        }
        RUNNING.with(|r| *r.borrow_mut() = Some(inner.clone()));
        inner.running.set(true);
        Ok(RunGuard { inner })
    }
}

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        self.inner.running.set(false);
        self.inner.stopping.set(false);
        let prev = RUNNING.try_with(|r| r.borrow_mut().take()).ok().flatten();
        drop(prev);
        if self.inner.close_requested.get() {
            self.inner.do_close();
        }
    }
}

impl IoLoop {
    /// Run the loop until `fut` completes and return its output (L-01).
    ///
    /// Panics with a clear message if a loop is already running on this thread (L-14), if
    /// [`stop`](IoLoop::stop) ends the loop first (L-05) or if the loop is closed; see
    /// [`try_run_sync`](IoLoop::try_run_sync) for the same without panics. A panic inside
    /// `fut` propagates to the caller.
    pub fn run_sync<F: Future>(&self, fut: F) -> F::Output {
        match self.try_run_sync(fut) {
            Ok(v) => v,
            Err(e) => panic!("IoLoop::run_sync: {e}"),
        }
    }

    /// Like [`run_sync`](IoLoop::run_sync), but reports why the loop could not finish the
    /// future instead of panicking.
    pub fn try_run_sync<F: Future>(&self, fut: F) -> Result<F::Output, RunError> {
        let inner = &self.inner;
        let _guard = RunGuard::enter(inner)?;
        let mut fut = pin!(fut);
        let main = Arc::new(TaskWaker::new(inner.shared.clone(), MAIN_KEY));
        let waker = Waker::from(main.clone());
        let mut cx = Context::from_waker(&waker);
        inner.main_woken.set(true);
        loop {
            if inner.main_woken.replace(false) {
                main.clear_scheduled();
                if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                    return Ok(v);
                }
            }
            if inner.stopping.get() || inner.closed.get() {
                return Err(RunError::Stopped);
            }
            inner.turn();
        }
    }

    /// Run `fut` with a time limit. When it expires, `fut` is dropped (cancelled) and the
    /// error reads `Operation timed out after N seconds` (L-04). Panics like `run_sync` if the
    /// loop cannot run.
    pub fn run_sync_timeout<F: Future>(
        &self,
        fut: F,
        d: Duration,
    ) -> Result<F::Output, TimeoutError> {
        self.run_sync(async move {
            match timeout(d, fut).await {
                Ok(v) => Ok(v),
                Err(_) => Err(TimeoutError { after: d }),
            }
        })
    }

    /// Run the loop until [`stop`](IoLoop::stop) is called. Panics if a loop is already
    /// running on this thread (see [`try_start`](IoLoop::try_start)).
    pub fn start(&self) {
        if let Err(e) = self.try_start() {
            panic!("IoLoop::start: {e}");
        }
    }

    /// Run the loop until [`stop`](IoLoop::stop) is called, or report why it cannot run.
    pub fn try_start(&self) -> Result<(), RunError> {
        let inner = &self.inner;
        let _guard = RunGuard::enter(inner)?;
        loop {
            inner.turn();
            if inner.stopping.get() || inner.closed.get() {
                return Ok(());
            }
        }
    }

    /// Ask the loop to stop after the current iteration. `start` returns and a pending
    /// `run_sync` fails with [`RunError::Stopped`]. If the loop is not running, the next run
    /// stops after its first iteration (as in Tornado).
    pub fn stop(&self) {
        self.inner.stopping.set(true);
    }

    /// Close the loop: drop every task (closing their sockets; their `JoinHandle`s report
    /// [`JoinError::Cancelled`](super::JoinError::Cancelled)), callback and timer, and free the poller. Callbacks sent
    /// from other threads afterwards are dropped silently (L-09). Called on a running loop,
    /// it stops the loop and closes it when the run returns.
    pub fn close(&self) {
        if self.inner.running.get() {
            self.inner.close_requested.set(true);
            self.inner.stopping.set(true);
        } else {
            self.inner.do_close();
        }
    }
}

/// Why [`IoLoop::try_run_sync`] (or `start`) could not run a future to completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError {
    /// This loop, or another loop on this thread, is already running (L-14).
    AlreadyRunning,
    /// [`IoLoop::stop`] was called before the future completed (L-05).
    Stopped,
    /// The loop was closed.
    Closed,
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::AlreadyRunning => f.write_str(
                "This event loop is already running (an IoLoop cannot be run again from inside a running loop)",
            ),
            RunError::Stopped => f.write_str("Event loop stopped before Future completed."),
            RunError::Closed => f.write_str("The event loop is closed"),
        }
    }
}

impl std::error::Error for RunError {}

/// [`IoLoop::run_sync_timeout`] gave up: the future did not finish in time and was dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeoutError {
    after: Duration,
}

impl TimeoutError {
    /// The time limit that was exceeded.
    pub fn after(&self) -> Duration {
        self.after
    }
}

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Tornado prints the number as given: 0.01 -> "0.01", 5 -> "5".
        write!(
            f,
            "Operation timed out after {} seconds",
            self.after.as_secs_f64()
        )
    }
}

impl std::error::Error for TimeoutError {}
