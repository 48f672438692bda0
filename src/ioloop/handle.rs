//! Reaching a loop from another thread: [`LoopHandle`], and the one locked queue behind it.
//!
//! Everything in a loop is single-threaded (`Rc`, `RefCell`: no lock on the hot path), except
//! what this file holds. Another thread (a DNS thread finishing, a [`OneshotSender`], the
//! waker of a task woken off the loop, [`LoopHandle::add_callback`]) pushes a job to the
//! remote queue under a `Mutex` and writes the loop's eventfd (a [`mio::Waker`]), so that a
//! loop blocked in `epoll_wait` wakes up; the loop moves the jobs to its ready queue in step
//! 3 of its turn (see the [module docs](super) and `turn.rs`).
//!
//! [`OneshotSender`]: super::OneshotSender

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::IoLoop;
use super::executor::RemoteJob;

/// The part of a loop that other threads may touch: a locked queue and a way to wake the
/// poll. Everything else in the loop is single-threaded.
pub(crate) struct LoopShared {
    pub(super) id: usize,
    remote: Mutex<RemoteQueue>,
    /// Set when something was pushed to `remote` and the eventfd was (or is being) written;
    /// cleared by the loop before it drains. Saves one `write` syscall per extra message.
    pub(super) notified: AtomicBool,
    waker: mio::Waker,
}

/// What other threads sent the loop, not yet drained.
pub(super) struct RemoteQueue {
    pub(super) jobs: Vec<RemoteJob>,
    /// The loop is closed: what is sent from now on is dropped.
    closed: bool,
}

impl LoopShared {
    /// The shared part of loop `id`, whose poll `waker` wakes.
    pub(super) fn new(id: usize, waker: mio::Waker) -> LoopShared {
        LoopShared {
            id,
            remote: Mutex::new(RemoteQueue {
                jobs: Vec::new(),
                closed: false,
            }),
            notified: AtomicBool::new(false),
            waker,
        }
    }

    /// The remote queue, locked. A poisoned lock is taken anyway: nothing panics while
    /// holding it, so the data is still valid.
    pub(super) fn lock_remote(&self) -> MutexGuard<'_, RemoteQueue> {
        self.remote.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Marks the queue closed (what is sent from now on is dropped, L-09) and takes what it
    /// still holds, for the caller to drop outside the lock.
    pub(super) fn close_remote(&self) -> Vec<RemoteJob> {
        let mut q = self.lock_remote();
        q.closed = true;
        std::mem::take(&mut q.jobs)
    }

    /// Queue a job from any thread and wake the loop. Dropped silently once the loop is
    /// closed (L-09).
    pub(super) fn push_remote(&self, job: RemoteJob) {
        {
            let mut q = self.lock_remote();
            if q.closed {
                drop(q);
                drop(job);
                return;
            }
            q.jobs.push(job);
        }
        if !self.notified.swap(true, Ordering::AcqRel) {
            // If the write fails the loop is gone; nothing more to do.
            let _ = self.waker.wake();
        }
    }
}

/// A thread-safe handle to an [`IoLoop`]: the only way to reach a loop from another thread
/// (L-08).
#[derive(Clone)]
pub struct LoopHandle {
    pub(super) shared: Arc<LoopShared>,
}

impl fmt::Debug for LoopHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopHandle")
            .field("id", &self.shared.id)
            .finish()
    }
}

impl LoopHandle {
    /// Run `f` on the loop's thread, on its next iteration. Wakes the loop if it is blocked
    /// in poll. Dropped silently if the loop is closed (L-09).
    pub fn add_callback(&self, f: impl FnOnce() + Send + 'static) {
        self.shared.push_remote(RemoteJob::Call(Box::new(f)));
    }

    /// Ask the loop to stop, from any thread (an addition to Tornado's API, which would have
    /// you write `add_callback(loop.stop)`).
    pub fn stop(&self) {
        self.add_callback(|| {
            if let Some(l) = IoLoop::running() {
                l.stop();
            }
        });
    }
}
