//! Rung 3: futures by hand. `async` blocks are made of `poll` calls; here are two written
//! out. `Signal` keeps the waker it was polled with and is completed by someone else (a timer
//! callback): the whole `Future`/`Waker` contract in twenty lines. `Spin` wakes *itself* on
//! every poll, which a naive executor would run forever; squall's runs each turn only the
//! jobs that were queued when the turn began, so timers still fire between its polls.
//!
//! Run it: `cargo run --example 03_hand_future`.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use squall::IoLoop;

/// Completed from outside: `fire` sets the value and wakes whoever waits.
#[derive(Clone, Default)]
struct Signal(Rc<RefCell<(Option<&'static str>, Option<Waker>)>>);

impl Signal {
    fn fire(&self, value: &'static str) {
        let waker = {
            let mut s = self.0.borrow_mut();
            s.0 = Some(value);
            s.1.take()
        }; // release the borrow before waking: the woken task may poll us at once
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl Future for Signal {
    type Output = &'static str;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'static str> {
        let mut s = self.0.borrow_mut();
        match s.0 {
            Some(v) => Poll::Ready(v),
            None => {
                // The contract: before returning Pending, arrange for *this* waker (the latest
                // one; a task may be polled with a new one) to be woken when progress is possible.
                s.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Wakes itself and yields, `left` times: a busy task that must not starve the loop.
struct Spin {
    left: u32,
}

impl Future for Spin {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.left == 0 {
            return Poll::Ready(());
        }
        self.left -= 1;
        println!("  spin: {} polls left", self.left);
        cx.waker().wake_by_ref(); // "poll me again": queued for the *next* turn
        Poll::Pending
    }
}

fn main() {
    let io_loop = IoLoop::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    let log2 = log.clone();
    let got = io_loop.run_sync(async move {
        let lp = IoLoop::current();
        let signal = Signal::default();
        let s = signal.clone();
        lp.call_later(Duration::from_millis(20), move || {
            s.fire("fired by a timer")
        });
        // A timer due "now" and a callback: both must run while Spin is still spinning.
        let l = log2.clone();
        lp.call_later(Duration::ZERO, move || l.borrow_mut().push("timer"));
        let l = log2.clone();
        lp.add_callback(move || l.borrow_mut().push("callback"));
        let l = log2.clone();
        let spin = lp.spawn(async move {
            Spin { left: 5 }.await;
            l.borrow_mut().push("spin done");
        });
        let value = signal.await;
        spin.await.unwrap();
        value
    });
    println!("signal: {got}; order: {:?}", log.borrow());
    assert_eq!(got, "fired by a timer");
    assert_eq!(*log.borrow(), ["callback", "timer", "spin done"]);
}

// Try this: delete the line `s.1 = Some(cx.waker().clone());` in `Signal::poll`. Nothing
// wakes the task any more, so `run_sync` waits forever: a future that returns Pending
// without arranging a wake-up is the classic async bug. With `SQUALL_TRACE=1`, the last line
// is the turn that ran the timer's `fire`; after it the loop has no timer and no work left,
// and its next poll blocks for good.
