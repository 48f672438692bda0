//! A first-in-first-out line of futures waiting for something to be handed to them.
//!
//! The client makes fetches wait in two places: for one of the `max_clients` slots
//! ([`queue`](super::queue)) and for a connection to a host that is at its per-host limit
//! ([`pool`](super::pool)). Both waits have the same shape, and this file is that shape once:
//!
//! - A waiter joins the back of a [`WaitQueue`] and keeps a [`WaitTicket`]. Whoever frees
//!   the resource takes the oldest waiter out of the line ([`WaitQueue::next_waiting`]) and
//!   puts a *grant* into its ticket ([`WaitTicket::grant`]): the slot, the connection, the
//!   right to open one. The grant moves straight to that waiter, so a newcomer can never
//!   overtake the line, and the freed resource never passes through a "free" state where
//!   two fetches could both claim it.
//! - The ticket's owner is a future. [`WaitTicket::poll_grant`] takes the grant when it is
//!   there, and otherwise leaves the latest waker in the ticket; `grant` returns that waker
//!   for the caller to wake once it has let go of its own state (waking under a `RefCell`
//!   borrow invites a re-entrant borrow). A grant that lands between two polls therefore
//!   always finds a waker: no wake-up is lost.
//! - Dropping a ticket cancels the wait: the ticket is marked abandoned, and the line skips
//!   it from then on, so a fetch that timed out in the line is never started later.
//!   A grant that reached a ticket whose future was then dropped before it looked is not
//!   lost either: it is dropped with the ticket, and when the grant is a guard (the
//!   `max_clients` slot is one) its own `Drop` passes the resource on to the next waiter.
//!   A caller whose grant needs more care takes it back first with [`WaitTicket::cancel`]
//!   (the pool puts a connection handed to a dropped checkout back in the pool).
//!
//! Each waiter may carry a little data `M` that decides what it can be given (the pool's
//! waiters say which loop they run on and whether an idle connection suits them; see
//! [`WaitQueue::take_first`]). Everything is single-threaded (`Rc`, `Cell`): the line lives on
//! one loop, as the client does.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// One waiter's place in line, shared by the queue and the waiting future.
struct Waiter<G, M> {
    /// What the waiter can be given (see [`WaitQueue::take_first`]).
    meta: M,
    /// Filled by [`WaitTicket::grant`], emptied by the waiting future.
    grant: RefCell<Option<G>>,
    /// The ticket was dropped (or cancelled): skip this waiter.
    abandoned: Cell<bool>,
    /// The waker of the future's latest poll; taken by the grant.
    waker: RefCell<Option<Waker>>,
}

/// A FIFO line of waiters for grants of type `G`, each waiter carrying `M` (often `()`).
pub(crate) struct WaitQueue<G, M = ()> {
    line: VecDeque<Rc<Waiter<G, M>>>,
}

impl<G, M> Default for WaitQueue<G, M> {
    fn default() -> Self {
        WaitQueue {
            line: VecDeque::new(),
        }
    }
}

impl<G, M> WaitQueue<G, M> {
    /// An empty line.
    pub fn new() -> Self {
        WaitQueue::default()
    }

    /// Joins the back of the line. `waker` is woken when the grant comes; the returned
    /// ticket is polled for it ([`WaitTicket::poll_grant`]) and cancels the wait when dropped.
    pub fn join(&mut self, meta: M, waker: &Waker) -> WaitTicket<G, M> {
        let waiter = Rc::new(Waiter {
            meta,
            grant: RefCell::new(None),
            abandoned: Cell::new(false),
            waker: RefCell::new(Some(waker.clone())),
        });
        self.line.push_back(waiter.clone());
        WaitTicket { waiter }
    }

    /// Someone is waiting (an abandoned ticket does not count).
    pub fn has_waiting(&self) -> bool {
        self.line.iter().any(|w| !w.abandoned.get())
    }

    /// How many are waiting (abandoned tickets do not count).
    #[cfg(test)]
    pub fn waiting(&self) -> usize {
        self.line.iter().filter(|w| !w.abandoned.get()).count()
    }

    /// Nothing is in the line, not even an abandoned ticket not yet swept out.
    pub fn is_empty(&self) -> bool {
        self.line.is_empty()
    }

    /// Takes the oldest live waiter out of the line, dropping the abandoned ones in front of
    /// it. `None` when nobody is waiting (the line is then empty).
    ///
    /// Cheap however long the line: only abandoned tickets at the front are looked at.
    pub fn next_waiting(&mut self) -> Option<Granting<G, M>> {
        while let Some(w) = self.line.pop_front() {
            if !w.abandoned.get() {
                return Some(Granting { waiter: w });
            }
        }
        None
    }

    /// Drops every abandoned ticket, then takes out the oldest waiter whose `meta` passes
    /// `fits` (waiters that do not fit keep their places).
    pub fn take_first(&mut self, fits: impl Fn(&M) -> bool) -> Option<Granting<G, M>> {
        self.line.retain(|w| !w.abandoned.get());
        let i = self.line.iter().position(|w| fits(&w.meta))?;
        self.line.remove(i).map(|waiter| Granting { waiter })
    }
}

/// A waiter just taken out of the line, to be given its grant.
///
/// The only thing to do with it is [`grant`](Granting::grant): a waiter taken out of the
/// line and never granted would wait forever, so this type must be used.
#[must_use = "a waiter taken out of the line must be granted, or it waits forever"]
pub(crate) struct Granting<G, M> {
    waiter: Rc<Waiter<G, M>>,
}

impl<G, M> Granting<G, M> {
    /// What the waiter said it can be given.
    #[cfg(test)]
    pub fn meta(&self) -> &M {
        &self.waiter.meta
    }

    /// Hands `grant` to the waiter. Returns its waker: wake it once your own state is no
    /// longer borrowed.
    pub fn grant(self, grant: G) -> Option<Waker> {
        *self.waiter.grant.borrow_mut() = Some(grant);
        self.waiter.waker.borrow_mut().take()
    }
}

/// A future's place in a [`WaitQueue`]. Dropping it leaves the line.
pub(crate) struct WaitTicket<G, M = ()> {
    waiter: Rc<Waiter<G, M>>,
}

impl<G, M> WaitTicket<G, M> {
    /// The grant, if it has come; otherwise remember `cx`'s waker (the latest poll's) and
    /// stay pending.
    pub fn poll_grant(&self, cx: &mut Context<'_>) -> Poll<G> {
        if let Some(g) = self.waiter.grant.borrow_mut().take() {
            return Poll::Ready(g);
        }
        *self.waiter.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Leaves the line, giving back a grant that came but was never taken, for the caller to
    /// pass on (dropping the ticket drops such a grant instead).
    pub fn cancel(self) -> Option<G> {
        self.waiter.abandoned.set(true);
        self.waiter.grant.borrow_mut().take()
    }
}

impl<G, M> Drop for WaitTicket<G, M> {
    fn drop(&mut self) {
        self.waiter.abandoned.set(true);
        // Taken out of the cell first: the grant's own Drop may reach the queue again.
        let grant = self.waiter.grant.borrow_mut().take();
        drop(grant);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    /// A waker that counts its wakes.
    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counter() -> (Arc<Count>, Waker) {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        (c.clone(), Waker::from(c))
    }

    fn wakes(c: &Count) -> usize {
        c.0.load(Ordering::SeqCst)
    }

    fn poll<G, M>(t: &WaitTicket<G, M>, w: &Waker) -> Poll<G> {
        t.poll_grant(&mut Context::from_waker(w))
    }

    /// Grants the oldest waiter and wakes it, as the queue's and the pool's release paths do.
    fn grant_next<G, M>(q: &mut WaitQueue<G, M>, g: G) -> bool {
        match q.next_waiting() {
            Some(w) => {
                if let Some(w) = w.grant(g) {
                    w.wake();
                }
                true
            }
            None => false,
        }
    }

    #[test]
    fn grants_go_out_in_the_order_waiters_joined() {
        let (_, w) = counter();
        let mut q: WaitQueue<u32> = WaitQueue::new();
        let a = q.join((), &w);
        let b = q.join((), &w);
        let c = q.join((), &w);
        assert_eq!(q.waiting(), 3);
        for g in [10, 20, 30] {
            assert!(grant_next(&mut q, g));
        }
        assert!(!grant_next(&mut q, 40), "nobody left to grant");
        assert_eq!(poll(&c, &w), Poll::Ready(30));
        assert_eq!(poll(&a, &w), Poll::Ready(10));
        assert_eq!(poll(&b, &w), Poll::Ready(20));
        assert!(q.is_empty());
    }

    #[test]
    fn a_dropped_ticket_is_skipped() {
        let (_, w) = counter();
        let mut q: WaitQueue<u32> = WaitQueue::new();
        let a = q.join((), &w);
        let b = q.join((), &w);
        drop(a);
        assert_eq!(q.waiting(), 1);
        assert!(q.has_waiting());
        assert!(grant_next(&mut q, 7));
        assert_eq!(poll(&b, &w), Poll::Ready(7));
        assert!(!q.has_waiting());
        assert!(q.is_empty(), "the abandoned ticket was swept out");
    }

    #[test]
    fn a_grant_to_a_dropped_ticket_passes_to_the_next_waiter() {
        // The grant is a guard that, like the max_clients slot, hands itself on when dropped.
        struct Guard(Rc<RefCell<WaitQueue<Guard>>>, u32);
        impl Drop for Guard {
            fn drop(&mut self) {
                let next = self.0.borrow_mut().next_waiting();
                if let Some(n) = next {
                    let wake = n.grant(Guard(self.0.clone(), self.1 + 1));
                    if let Some(w) = wake {
                        w.wake();
                    }
                }
            }
        }
        let (woken, w) = counter();
        let q = Rc::new(RefCell::new(WaitQueue::new()));
        let a = q.borrow_mut().join((), &w);
        let b = q.borrow_mut().join((), &w);
        let g = Guard(q.clone(), 1);
        let first = q.borrow_mut().next_waiting().unwrap();
        assert!(first.grant(g).is_some());
        drop(a); // granted, but gone before it looked: the guard passes on
        assert_eq!(wakes(&woken), 1, "b was woken by the hand-off");
        match poll(&b, &w) {
            Poll::Ready(g) => assert_eq!(g.1, 2, "b holds the guard a never took"),
            Poll::Pending => panic!("the grant was lost with the dropped ticket"),
        }
    }

    #[test]
    fn cancel_gives_back_a_grant_that_was_never_taken() {
        let (_, w) = counter();
        let mut q: WaitQueue<&str> = WaitQueue::new();
        let a = q.join((), &w);
        let b = q.join((), &w);
        assert!(grant_next(&mut q, "conn"));
        assert_eq!(a.cancel(), Some("conn"));
        assert_eq!(b.cancel(), None);
        assert!(
            !grant_next(&mut q, "next"),
            "a cancelled ticket is never granted"
        );
    }

    #[test]
    fn the_latest_waker_is_woken_once_per_grant() {
        let (first, w1) = counter();
        let (second, w2) = counter();
        let mut q: WaitQueue<u8> = WaitQueue::new();
        let t = q.join((), &w1);
        // Polled again with another waker (the task moved): that one must be woken.
        assert_eq!(poll(&t, &w2), Poll::Pending);
        assert!(grant_next(&mut q, 1));
        assert_eq!((wakes(&first), wakes(&second)), (0, 1));
        assert_eq!(poll(&t, &w2), Poll::Ready(1));
    }

    #[test]
    fn a_grant_before_the_first_poll_wakes_the_joining_waker() {
        // The waker given to `join` is live at once: a grant that comes before the future is
        // polled again still wakes it, so no wake-up is lost.
        let (woken, w) = counter();
        let mut q: WaitQueue<u8> = WaitQueue::new();
        let t = q.join((), &w);
        assert!(grant_next(&mut q, 5));
        assert_eq!(wakes(&woken), 1);
        assert_eq!(poll(&t, &w), Poll::Ready(5));
        assert_eq!(
            wakes(&woken),
            1,
            "no spurious wake after the grant was taken"
        );
    }

    #[test]
    fn take_first_picks_the_oldest_that_fits_and_keeps_the_others_in_line() {
        let (_, w) = counter();
        let mut q: WaitQueue<u8, bool> = WaitQueue::new();
        let no = q.join(false, &w);
        let gone = q.join(true, &w);
        let yes = q.join(true, &w);
        drop(gone);
        let n = q.take_first(|fits| *fits).expect("one fits");
        assert!(*n.meta());
        assert!(n.grant(9).is_some());
        assert_eq!(poll(&yes, &w), Poll::Ready(9));
        assert!(q.take_first(|fits| *fits).is_none());
        assert_eq!(q.waiting(), 1, "the waiter that did not fit kept its place");
        assert!(grant_next(&mut q, 3));
        assert_eq!(poll(&no, &w), Poll::Ready(3));
    }
}
