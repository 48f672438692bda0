//! `max_clients`: at most N fetches are active; the rest wait in a FIFO queue.
//!
//! A `Slots` is a counting semaphore for one thread. Taking a slot when one is free costs a
//! counter increment (no allocation, no timer). Otherwise the fetch joins the back of the
//! queue with a small shared ticket; a released slot is handed straight to the oldest live
//! ticket (so nobody can overtake the queue), and a ticket whose fetch was dropped or timed
//! out is skipped — and never started later. A redirect hop keeps its slot: the
//! `Slot` guard lives as long as the whole fetch (D-17).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

struct Ticket {
    granted: Cell<bool>,
    abandoned: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

struct State {
    max: usize,
    active: usize,
    queue: VecDeque<Rc<Ticket>>,
}

/// A FIFO counting semaphore (single-threaded).
#[derive(Clone)]
pub(crate) struct Slots {
    state: Rc<RefCell<State>>,
}

/// One active fetch's slot; dropping it hands the slot to the next waiter.
pub(crate) struct Slot {
    state: Rc<RefCell<State>>,
}

impl Slots {
    pub fn new(max: usize) -> Slots {
        Slots {
            state: Rc::new(RefCell::new(State {
                max: max.max(1),
                active: 0,
                queue: VecDeque::new(),
            })),
        }
    }

    /// A slot now, if one is free and nobody is queued.
    pub fn try_acquire(&self) -> Option<Slot> {
        let mut s = self.state.borrow_mut();
        if s.active < s.max && s.queue.is_empty() {
            s.active += 1;
            Some(Slot {
                state: self.state.clone(),
            })
        } else {
            None
        }
    }

    /// Waits in line for a slot.
    pub fn acquire(&self) -> Acquire {
        Acquire {
            state: self.state.clone(),
            ticket: None,
        }
    }

    /// Fetches active and waiting.
    #[cfg(test)]
    pub fn counts(&self) -> (usize, usize) {
        let s = self.state.borrow();
        (
            s.active,
            s.queue.iter().filter(|t| !t.abandoned.get()).count(),
        )
    }
}

fn release(state: &Rc<RefCell<State>>) {
    let next = {
        let mut s = state.borrow_mut();
        loop {
            match s.queue.pop_front() {
                Some(t) if t.abandoned.get() => continue,
                Some(t) => {
                    t.granted.set(true);
                    break t.waker.borrow_mut().take();
                }
                None => {
                    s.active -= 1;
                    break None;
                }
            }
        }
    };
    if let Some(w) = next {
        w.wake();
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        release(&self.state);
    }
}

/// The future of [`Slots::acquire`].
pub(crate) struct Acquire {
    state: Rc<RefCell<State>>,
    ticket: Option<Rc<Ticket>>,
}

impl Future for Acquire {
    type Output = Slot;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Slot> {
        let this = &mut *self;
        match &this.ticket {
            None => {
                let mut s = this.state.borrow_mut();
                if s.active < s.max && s.queue.is_empty() {
                    s.active += 1;
                    return Poll::Ready(Slot {
                        state: this.state.clone(),
                    });
                }
                let t = Rc::new(Ticket {
                    granted: Cell::new(false),
                    abandoned: Cell::new(false),
                    waker: RefCell::new(Some(cx.waker().clone())),
                });
                s.queue.push_back(t.clone());
                this.ticket = Some(t);
                Poll::Pending
            }
            Some(t) => {
                if t.granted.get() {
                    this.ticket = None;
                    Poll::Ready(Slot {
                        state: this.state.clone(),
                    })
                } else {
                    *t.waker.borrow_mut() = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        }
    }
}

impl Drop for Acquire {
    fn drop(&mut self) {
        if let Some(t) = self.ticket.take() {
            if t.granted.get() {
                // Granted but never taken: pass the slot on.
                release(&self.state);
            } else {
                t.abandoned.set(true);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::Wake;

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
        let slots = Slots::new(2);
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

    #[test]
    fn q04_abandoned_ticket_is_skipped() {
        let slots = Slots::new(1);
        let a = slots.try_acquire().unwrap();
        let mut b = slots.acquire();
        let mut c = slots.acquire();
        assert!(poll(&mut b).is_pending());
        assert!(poll(&mut c).is_pending());
        drop(b); // timed out in the queue
        drop(a);
        assert!(matches!(poll(&mut c), Poll::Ready(_)));
        assert_eq!(slots.counts(), (0, 0));
    }

    #[test]
    fn granted_but_dropped_passes_the_slot_on() {
        let slots = Slots::new(1);
        let a = slots.try_acquire().unwrap();
        let mut b = slots.acquire();
        let mut c = slots.acquire();
        assert!(poll(&mut b).is_pending());
        assert!(poll(&mut c).is_pending());
        drop(a); // b is granted ...
        drop(b); // ... but dropped before it looked
        assert!(matches!(poll(&mut c), Poll::Ready(_)));
        assert_eq!(slots.counts(), (0, 0));
    }
}
