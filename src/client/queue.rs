//! `max_clients`: at most N fetches are active; the rest wait in a FIFO queue.
//!
//! A `FetchSlots` is a counting semaphore for one thread. Taking a slot when one is free costs a
//! counter increment (no allocation, no timer). Otherwise the fetch joins the back of a
//! `WaitQueue` (`wait_queue.rs`, the kind of line the pool's per-host waiters stand in); a
//! released slot is handed straight to the oldest live waiter (so nobody can overtake the
//! queue), and a waiter whose fetch was dropped or timed out is skipped — and never started
//! later. A redirect hop keeps its slot: the `FetchSlot` guard lives as long as the whole
//! fetch (D-17).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::wait_queue::{WaitQueue, WaitTicket};

struct State {
    max: usize,
    active: usize,
    /// Fetches waiting for a slot; a freed slot is granted to the oldest.
    line: WaitQueue<FetchSlot>,
}

/// A FIFO counting semaphore (single-threaded).
#[derive(Clone)]
pub(crate) struct FetchSlots {
    state: Rc<RefCell<State>>,
}

/// One active fetch's slot; dropping it hands the slot to the next waiter.
///
/// It is also what a waiter is granted: a slot handed to a fetch that was dropped before it
/// looked is dropped with its ticket, and so passes on again.
pub(crate) struct FetchSlot {
    state: Rc<RefCell<State>>,
}

impl FetchSlots {
    pub fn new(max: usize) -> FetchSlots {
        FetchSlots {
            state: Rc::new(RefCell::new(State {
                max: max.max(1),
                active: 0,
                line: WaitQueue::new(),
            })),
        }
    }

    /// A slot now, if one is free and nobody is queued.
    pub fn try_acquire(&self) -> Option<FetchSlot> {
        take_free(&self.state)
    }

    /// Waits in line for a slot.
    pub fn acquire(&self) -> AcquireSlot {
        AcquireSlot {
            state: self.state.clone(),
            ticket: None,
        }
    }

    /// Fetches active and waiting.
    #[cfg(test)]
    pub fn counts(&self) -> (usize, usize) {
        let s = self.state.borrow();
        (s.active, s.line.waiting())
    }
}

/// A free slot, unless all are taken or someone is already in line (no overtaking).
fn take_free(state: &Rc<RefCell<State>>) -> Option<FetchSlot> {
    let mut s = state.borrow_mut();
    if s.active < s.max && s.line.is_empty() {
        s.active += 1;
        Some(FetchSlot {
            state: state.clone(),
        })
    } else {
        None
    }
}

impl Drop for FetchSlot {
    fn drop(&mut self) {
        // The slot goes straight to the oldest waiter (it stays counted as active), or is
        // freed when nobody waits.
        let wake = {
            let mut s = self.state.borrow_mut();
            match s.line.next_waiting() {
                Some(next) => next.grant(FetchSlot {
                    state: self.state.clone(),
                }),
                None => {
                    s.active -= 1;
                    None
                }
            }
        };
        if let Some(w) = wake {
            w.wake();
        }
    }
}

/// The future of [`FetchSlots::acquire`]. Dropping it leaves the line, and passes on a
/// slot granted to it but never taken.
pub(crate) struct AcquireSlot {
    state: Rc<RefCell<State>>,
    ticket: Option<WaitTicket<FetchSlot>>,
}

impl Future for AcquireSlot {
    type Output = FetchSlot;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<FetchSlot> {
        let this = &mut *self;
        match &this.ticket {
            None => {
                if let Some(slot) = take_free(&this.state) {
                    return Poll::Ready(slot);
                }
                let ticket = this.state.borrow_mut().line.join((), cx.waker());
                this.ticket = Some(ticket);
                Poll::Pending
            }
            Some(t) => {
                let slot = std::task::ready!(t.poll_grant(cx));
                this.ticket = None;
                Poll::Ready(slot)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    struct Flag(std::sync::atomic::AtomicBool);
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn poll<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
        let w = Waker::from(Arc::new(Flag(false.into())));
        Pin::new(f).poll(&mut Context::from_waker(&w))
    }

    #[test]
    fn q02_fifo_handoff() {
        let slots = FetchSlots::new(2);
        let a = slots.try_acquire().unwrap();
        let b = slots.try_acquire().unwrap();
        assert!(slots.try_acquire().is_none());
        let mut c = slots.acquire();
        let mut d = slots.acquire();
        assert!(poll(&mut c).is_pending());
        assert!(poll(&mut d).is_pending());
        assert_eq!(slots.counts(), (2, 2));
        drop(a);
        // The freed slot goes to c, the oldest waiter, not to a newcomer.
        assert!(slots.try_acquire().is_none());
        assert!(poll(&mut d).is_pending());
        let c = match poll(&mut c) {
            Poll::Ready(s) => s,
            Poll::Pending => panic!("c should have the slot"),
        };
        drop(b);
        assert!(matches!(poll(&mut d), Poll::Ready(_)));
        drop(c);
        assert_eq!(slots.counts(), (0, 0));
    }

    /// One slot held by `a` and two fetches waiting, `b` then `c`: `leave` ends `a` and `b` in
    /// some order, after which `c` must hold the slot and nothing may be left counted.
    fn c_gets_the_slot_after(leave: impl FnOnce(FetchSlot, AcquireSlot)) {
        let slots = FetchSlots::new(1);
        let a = slots.try_acquire().unwrap();
        let mut b = slots.acquire();
        let mut c = slots.acquire();
        assert!(poll(&mut b).is_pending());
        assert!(poll(&mut c).is_pending());
        leave(a, b);
        assert!(matches!(poll(&mut c), Poll::Ready(_)));
        assert_eq!(slots.counts(), (0, 0));
    }

    #[test]
    fn q04_abandoned_ticket_is_skipped() {
        c_gets_the_slot_after(|a, b| {
            drop(b); // timed out in the queue
            drop(a);
        });
    }

    #[test]
    fn granted_but_dropped_passes_the_slot_on() {
        c_gets_the_slot_after(|a, b| {
            drop(a); // b is granted ...
            drop(b); // ... but dropped before it looked
        });
    }
}
