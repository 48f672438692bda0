//! Timers: one binary heap per loop, plus the [`sleep`] and [`timeout`] futures built on it.
//!
//! A timer is two things:
//!
//! - an **entry** in a slab (a `Vec` with a free list): what to do when due, a callback
//!   (`call_later` / `call_at`) or the waker of a [`Sleep`]. A [`TimeoutHandle`] names the
//!   slot (index + generation, so a stale handle never hits a reused slot);
//! - a **heap item** `(deadline, sequence number, slot)` in a min-heap. The sequence number
//!   breaks ties first-in-first-out (L-11), so tests are deterministic. The earliest
//!   deadline is the top of the heap, which sets the poll timeout.
//!
//! Cancelling (`remove_timeout`, dropping a `Sleep`) frees the slot at once, in O(1), and
//! leaves its heap item behind as a tombstone: "lazy deletion". Tombstones are skipped
//! when they reach the top, and when they outnumber live timers the heap is rebuilt without
//! them, in O(n) amortised over the cancellations that made them. So a million timers
//! scheduled and cancelled leave memory flat (L-12), and both scheduling and cancelling stay
//! cheap (a `BTreeMap` would pay a tree walk and node allocations for each).
//!
//! When a deadline passes, a `Sleep`'s waker is woken at once; a callback is *queued* (a
//! `Job::Timer` in the ready queue) but keeps its slot until it runs, so a callback that runs
//! earlier in the same batch can still cancel it, and then it never runs (L-12).

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::executor::{Job, call_guarded};
use super::{IoLoop, LoopState, far_future};

/// Names a timer slot: index in the low 32 bits, generation in the high 32.
pub(crate) type TimerKey = u64;

/// What a timer does when due.
pub(crate) enum Entry {
    Call(Box<dyn FnOnce()>),
    Wake(Waker),
}

impl Entry {
    pub(crate) fn call(cb: Box<dyn FnOnce()>) -> Entry {
        Entry::Call(cb)
    }
}

/// A timer's identity, for [`IoLoop::remove_timeout`](super::IoLoop::remove_timeout).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeoutHandle {
    key: TimerKey,
    at: Instant,
    loop_id: usize,
}

impl TimeoutHandle {
    /// When the timer is (or was) due.
    pub fn deadline(&self) -> Instant {
        self.at
    }
}

/// One item of the heap. Ordered so that `BinaryHeap` (a max-heap) pops the earliest
/// deadline first, and among equal deadlines the lowest sequence number.
struct HeapItem {
    at: Instant,
    seq: u64,
    key: TimerKey,
}

impl PartialEq for HeapItem {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for HeapItem {}
impl PartialOrd for HeapItem {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for HeapItem {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

struct TimerSlot {
    generation: u32,
    entry: Option<Entry>,
    /// Its heap item is still in the heap (not yet popped as due).
    in_heap: bool,
    next_free: u32,
}

const NO_FREE: u32 = u32::MAX;

/// All timers of one loop.
pub(crate) struct Timers {
    heap: BinaryHeap<HeapItem>,
    slots: Vec<TimerSlot>,
    free: u32,
    live: usize,
    /// Heap items whose timer was cancelled (tombstones).
    stale: usize,
    next_seq: u64,
    loop_id: usize,
    /// Reused scratch space for `fire_due`.
    due: Vec<Due>,
}

enum Due {
    Wake(Waker),
    Queue(TimerKey),
}

fn split(key: TimerKey) -> (usize, u32) {
    ((key & 0xffff_ffff) as usize, (key >> 32) as u32)
}

impl Timers {
    pub(crate) fn new(loop_id: usize) -> Timers {
        Timers {
            heap: BinaryHeap::new(),
            slots: Vec::new(),
            free: NO_FREE,
            live: 0,
            stale: 0,
            next_seq: 0,
            loop_id,
            due: Vec::new(),
        }
    }

    pub(crate) fn insert(&mut self, at: Instant, e: Entry) -> TimeoutHandle {
        let index = if self.free != NO_FREE {
            let i = self.free;
            self.free = self.slots[i as usize].next_free;
            i
        } else {
            let i = self.slots.len() as u32;
            assert!(i != NO_FREE, "too many timers");
            self.slots.push(TimerSlot {
                generation: 0,
                entry: None,
                in_heap: false,
                next_free: NO_FREE,
            });
            i
        };
        let slot = &mut self.slots[index as usize];
        slot.entry = Some(e);
        slot.in_heap = true;
        let key = (u64::from(slot.generation) << 32) | u64::from(index);
        self.heap.push(HeapItem {
            at,
            seq: self.next_seq,
            key,
        });
        self.next_seq += 1;
        self.live += 1;
        TimeoutHandle {
            key,
            at,
            loop_id: self.loop_id,
        }
    }

    fn slot_mut(&mut self, key: TimerKey) -> Option<&mut TimerSlot> {
        let (index, generation) = split(key);
        self.slots
            .get_mut(index)
            .filter(|s| s.generation == generation && s.entry.is_some())
    }

    /// Free a slot and return its entry (the caller drops it outside the borrow).
    fn take(&mut self, key: TimerKey) -> Option<Entry> {
        let (index, _) = split(key);
        let free = self.free;
        let slot = self.slot_mut(key)?;
        let e = slot.entry.take();
        slot.generation = slot.generation.wrapping_add(1);
        slot.next_free = free;
        let tombstone = std::mem::replace(&mut slot.in_heap, false);
        self.free = index as u32;
        self.live -= 1;
        if tombstone {
            self.stale += 1;
            self.maybe_compact();
        }
        e
    }

    /// Rebuild the heap without tombstones once they outnumber live timers.
    fn maybe_compact(&mut self) {
        if self.stale > 1024 && self.stale > self.heap.len() / 2 {
            let slots = &self.slots;
            self.heap.retain(|item| {
                let (index, generation) = split(item.key);
                slots[index].generation == generation
            });
            self.stale = 0;
            if self.heap.capacity() > 4 * self.heap.len().max(64) {
                self.heap.shrink_to(2 * self.heap.len().max(64));
            }
        }
    }

    /// Cancel a timer; the entry is returned so the caller drops it outside the borrow.
    pub(crate) fn remove(&mut self, h: &TimeoutHandle) -> Option<Entry> {
        if h.loop_id != self.loop_id {
            return None;
        }
        self.take(h.key)
    }

    /// Drop tombstones from the top of the heap.
    fn skip_stale(&mut self) {
        while let Some(top) = self.heap.peek() {
            let (index, generation) = split(top.key);
            if self.slots[index].generation == generation {
                break;
            }
            self.heap.pop();
            self.stale -= 1;
        }
    }

    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        self.skip_stale();
        self.heap.peek().map(|top| top.at)
    }

    /// Live timers (scheduled, not fired, not cancelled).
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// Empty everything (for `close`); the entries are returned to be dropped outside.
    pub(crate) fn take_all(&mut self) -> Vec<Entry> {
        self.heap.clear();
        self.stale = 0;
        self.live = 0;
        self.free = NO_FREE;
        std::mem::take(&mut self.slots)
            .into_iter()
            .filter_map(|s| s.entry)
            .collect()
    }

    /// Re-point a `Sleep`'s timer at a new waker. False if the timer is gone.
    fn set_waker(&mut self, key: TimerKey, w: &Waker) -> bool {
        match self.slot_mut(key).and_then(|s| s.entry.as_mut()) {
            Some(Entry::Wake(old)) => {
                if !old.will_wake(w) {
                    *old = w.clone();
                }
                true
            }
            _ => false,
        }
    }
}

/// Step 4 of a turn: wake sleepers and queue callbacks whose deadline has passed.
pub(crate) fn fire_due(inner: &Rc<LoopState>) -> usize {
    let mut due = {
        let mut t = inner.timers.borrow_mut();
        let Some(first) = t.next_deadline() else {
            return 0;
        };
        let now = Instant::now();
        if first > now {
            return 0;
        }
        let mut due = std::mem::take(&mut t.due);
        while let Some(top) = t.heap.peek() {
            if top.at > now {
                break;
            }
            let key = top.key;
            t.heap.pop();
            let (index, generation) = split(key);
            let slot = &mut t.slots[index];
            if slot.generation != generation {
                t.stale -= 1; // a tombstone
                continue;
            }
            slot.in_heap = false;
            if let Some(Entry::Wake(_)) = slot.entry {
                if let Some(Entry::Wake(w)) = t.take(key) {
                    due.push(Due::Wake(w));
                }
            } else {
                due.push(Due::Queue(key));
            }
        }
        due
    };
    let fired = due.len();
    let before = inner.exec.ready.borrow().len();
    for d in due.drain(..) {
        match d {
            Due::Wake(w) => w.wake(),
            Due::Queue(key) => inner.push_ready(Job::Timer(key)),
        }
    }
    inner.timers.borrow_mut().due = due;
    // Behind a batch the turn budget cut short, the timers' jobs go first: they are due
    // already, and the backlog is only waiting for its turn.
    if inner.exec.cut_short.get() {
        let mut ready = inner.exec.ready.borrow_mut();
        let queued = ready.len() - before;
        ready.rotate_right(queued);
    }
    fired
}

/// Run a queued timer callback, unless it was removed since it was queued.
pub(crate) fn run_timer(inner: &Rc<LoopState>, key: TimerKey) {
    let e = inner.timers.borrow_mut().take(key);
    match e {
        Some(Entry::Call(cb)) => call_guarded("(timer)", cb),
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
    timer: Option<(Weak<LoopState>, TimeoutHandle)>,
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
        if let Some((weak, h)) = &self.timer {
            if let Some(inner) = weak.upgrade() {
                if inner.timers.borrow_mut().set_waker(h.key, cx.waker()) {
                    return Poll::Pending;
                }
                // Fired (woken) yet the clock says not due: cannot happen with a monotonic
                // clock, but re-arm rather than hang.
                let h2 = inner
                    .timers
                    .borrow_mut()
                    .insert(self.deadline, Entry::Wake(cx.waker().clone()));
                self.timer = Some((Rc::downgrade(&inner), h2));
            }
            return Poll::Pending; // if the loop is gone, never fires
        }
        let lp = IoLoop::current();
        let inner = lp.state();
        let h = inner
            .timers
            .borrow_mut()
            .insert(self.deadline, Entry::Wake(cx.waker().clone()));
        self.timer = Some((Rc::downgrade(inner), h));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn noop() -> Entry {
        Entry::call(Box::new(|| {}))
    }

    #[test]
    fn cancelled_timers_leave_memory_flat() {
        let mut t = Timers::new(1);
        let base = Instant::now();
        let mut handles = Vec::new();
        for round in 0..20u64 {
            for i in 0..10_000u64 {
                let at = base + Duration::from_millis(1000 + (i * 7919 + round) % 5000);
                handles.push(t.insert(at, noop()));
            }
            for h in handles.drain(..) {
                drop(t.remove(&h));
            }
            assert_eq!(t.len(), 0);
        }
        // 200,000 scheduled and cancelled: the heap holds at most a compaction's worth of
        // tombstones, and the slab never grew past one round.
        assert!(
            t.heap.len() <= 10_000,
            "heap kept {} tombstones",
            t.heap.len()
        );
        assert!(t.slots.len() <= 10_000);
        assert_eq!(t.next_deadline(), None);
        assert_eq!(t.heap.len(), 0, "the tombstones on top are swept");
    }

    #[test]
    fn stale_handle_does_not_cancel_a_reused_slot() {
        let mut t = Timers::new(1);
        let now = Instant::now();
        let h1 = t.insert(now, noop());
        assert!(t.remove(&h1).is_some());
        let h2 = t.insert(now, noop());
        assert!(
            t.remove(&h1).is_none(),
            "old handle, same slot, new generation"
        );
        assert_eq!(t.len(), 1);
        assert!(t.remove(&h2).is_some());
        // A handle from another loop is ignored.
        let h3 = t.insert(now, noop());
        let foreign = TimeoutHandle { loop_id: 2, ..h3 };
        assert!(t.remove(&foreign).is_none());
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn heap_pops_by_deadline_then_insertion_order() {
        let mut t = Timers::new(1);
        let base = Instant::now();
        let order = [3u64, 1, 2, 1, 0, 3];
        for d in order {
            t.insert(base + Duration::from_millis(d), noop());
        }
        let mut got = Vec::new();
        while let Some(item) = t.heap.pop() {
            got.push((item.at - base).as_millis() as u64 * 100 + item.seq);
        }
        assert_eq!(got, vec![4, 101, 103, 202, 300, 305]);
    }
}
