//! Timers: one ordered map per loop, plus the [`sleep`] and [`timeout`] futures built on it.
//!
//! The map is a `BTreeMap` keyed by `(deadline, sequence number)`. The sequence number makes
//! every key unique and breaks ties first-in-first-out (L-11), so tests are deterministic.
//! Why a `BTreeMap` rather than a binary heap? Cancelling is a plain `remove`, so a million
//! timers scheduled and cancelled leave nothing behind (L-12), with no tombstones to sweep.
//! The earliest deadline is the first key, which sets the poll timeout.
//!
//! Two kinds of entries: a callback (`call_later` / `call_at`), and a waker (a [`Sleep`]
//! future waiting). When a deadline passes, a waker entry is removed and woken at once; a
//! callback entry is *queued* (a `Job::Timer` in the ready queue) but stays in the map until
//! it runs, so a callback that runs earlier in the same batch can still cancel it.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::executor::{Job, call_guarded};
use super::{Inner, IoLoop, far_future};

/// The key of a timer: deadline, then insertion order.
pub(crate) type TimerKey = (Instant, u64);

/// What a timer does when due.
pub(crate) enum Entry {
    Call { cb: Box<dyn FnOnce()>, queued: bool },
    Wake(Waker),
}

impl Entry {
    pub(crate) fn call(cb: Box<dyn FnOnce()>) -> Entry {
        Entry::Call { cb, queued: false }
    }
}

/// A timer's identity, for [`IoLoop::remove_timeout`](super::IoLoop::remove_timeout).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeoutHandle {
    key: TimerKey,
    loop_id: usize,
}

impl TimeoutHandle {
    /// When the timer is (or was) due.
    pub fn deadline(&self) -> Instant {
        self.key.0
    }
}

/// All timers of one loop.
pub(crate) struct Timers {
    map: BTreeMap<TimerKey, Entry>,
    next_seq: u64,
    loop_id: usize,
    /// Reused scratch space for `fire_due`.
    due: Vec<Due>,
}

enum Due {
    Wake(Waker),
    Queue(TimerKey),
}

impl Timers {
    pub(crate) fn new(loop_id: usize) -> Timers {
        Timers {
            map: BTreeMap::new(),
            next_seq: 0,
            loop_id,
            due: Vec::new(),
        }
    }

    pub(crate) fn insert(&mut self, at: Instant, e: Entry) -> TimeoutHandle {
        let key = (at, self.next_seq);
        self.next_seq += 1;
        self.map.insert(key, e);
        TimeoutHandle {
            key,
            loop_id: self.loop_id,
        }
    }

    /// Remove a timer; the entry is returned so the caller drops it outside the borrow.
    pub(crate) fn remove(&mut self, h: &TimeoutHandle) -> Option<Entry> {
        if h.loop_id != self.loop_id {
            return None;
        }
        self.map.remove(&h.key)
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.map.keys().next().map(|k| k.0)
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn take_all(&mut self) -> BTreeMap<TimerKey, Entry> {
        std::mem::take(&mut self.map)
    }
}

/// Step 4 of a turn: wake sleepers and queue callbacks whose deadline has passed.
pub(crate) fn fire_due(inner: &Rc<Inner>) {
    let mut due = {
        let mut t = inner.timers.borrow_mut();
        let Some(first) = t.next_deadline() else {
            return;
        };
        let now = Instant::now();
        if first > now {
            return;
        }
        let mut due = std::mem::take(&mut t.due);
        let mut wake_keys = 0usize;
        for (key, e) in t.map.range_mut(..=(now, u64::MAX)) {
            match e {
                Entry::Wake(_) => {
                    due.push(Due::Queue(*key));
                    wake_keys += 1;
                }
                Entry::Call { queued, .. } => {
                    if !*queued {
                        *queued = true;
                        due.push(Due::Queue(*key));
                    }
                }
            }
        }
        if wake_keys > 0 {
            // Wake entries leave the map now; keep the order by swapping in place.
            for d in due.iter_mut() {
                if let Due::Queue(key) = d
                    && let Some(Entry::Wake(_)) = t.map.get(key)
                    && let Some(Entry::Wake(w)) = t.map.remove(key)
                {
                    *d = Due::Wake(w);
                }
            }
        }
        due
    };
    for d in due.drain(..) {
        match d {
            Due::Wake(w) => w.wake(),
            Due::Queue(key) => inner.push_ready(Job::Timer(key)),
        }
    }
    inner.timers.borrow_mut().due = due;
}

/// Run a queued timer callback, unless it was removed since it was queued.
pub(crate) fn run_timer(inner: &Rc<Inner>, key: TimerKey) {
    let e = inner.timers.borrow_mut().map.remove(&key);
    match e {
        Some(Entry::Call { cb, .. }) => call_guarded("(timer)", cb),
        Some(Entry::Wake(w)) => w.wake(),
        None => {}
    }
}

/// A future that completes at a deadline. Made by [`sleep`] and [`sleep_until`].
///
/// It registers a timer on the running loop the first time it is polled (and not at all if
/// the deadline has already passed); dropping it removes the timer.
pub struct Sleep {
    deadline: Instant,
    timer: Option<(Weak<Inner>, TimeoutHandle)>,
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .finish()
    }
}

/// Sleep for `d` (from now).
pub fn sleep(d: Duration) -> Sleep {
    sleep_until(Instant::now().checked_add(d).unwrap_or_else(far_future))
}

/// Sleep until `at`.
pub fn sleep_until(at: Instant) -> Sleep {
    Sleep {
        deadline: at,
        timer: None,
    }
}

impl Sleep {
    /// When this sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Has the deadline passed?
    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Move the deadline (e.g. an idle timeout pushed back on every byte received).
    pub fn reset(&mut self, at: Instant) {
        self.cancel_timer();
        self.deadline = at;
    }

    fn cancel_timer(&mut self) {
        if let Some((weak, h)) = self.timer.take()
            && let Some(inner) = weak.upgrade()
        {
            let e = inner.timers.borrow_mut().remove(&h);
            drop(e);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            self.cancel_timer();
            return Poll::Ready(());
        }
        match &self.timer {
            Some((weak, h)) => {
                let Some(inner) = weak.upgrade() else {
                    return Poll::Pending; // loop gone: never fires
                };
                let mut t = inner.timers.borrow_mut();
                match t.map.get_mut(&h.key) {
                    Some(Entry::Wake(w)) => {
                        if !w.will_wake(cx.waker()) {
                            *w = cx.waker().clone();
                        }
                    }
                    _ => {
                        // Fired (woken) but the clock says not yet due: cannot happen with a
                        // monotonic clock, but re-arm rather than hang.
                        let h2 = t.insert(self.deadline, Entry::Wake(cx.waker().clone()));
                        drop(t);
                        self.timer = Some((Rc::downgrade(&inner), h2));
                    }
                }
            }
            None => {
                let lp = IoLoop::current();
                let inner = lp.inner();
                let h = inner
                    .timers
                    .borrow_mut()
                    .insert(self.deadline, Entry::Wake(cx.waker().clone()));
                self.timer = Some((Rc::downgrade(inner), h));
            }
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel_timer();
    }
}

/// The error of [`timeout`]: the deadline passed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Timeout")
    }
}

impl std::error::Error for Elapsed {}

/// A future with a deadline. Made by [`timeout`] and [`timeout_at`].
pub struct Timeout<F> {
    fut: Pin<Box<F>>,
    sleep: Sleep,
}

impl<F> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("deadline", &self.sleep.deadline)
            .finish()
    }
}

/// Run `fut` for at most `d`. If time runs out first the output is `Err(Elapsed)` and `fut`
/// is dropped when the `Timeout` is.
pub fn timeout<F: Future>(d: Duration, fut: F) -> Timeout<F> {
    Timeout {
        fut: Box::pin(fut),
        sleep: sleep(d),
    }
}

/// Run `fut` until `at` at most.
pub fn timeout_at<F: Future>(at: Instant, fut: F) -> Timeout<F> {
    Timeout {
        fut: Box::pin(fut),
        sleep: sleep_until(at),
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Poll::Ready(v) = self.fut.as_mut().poll(cx) {
            return Poll::Ready(Ok(v));
        }
        match Pin::new(&mut self.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}
