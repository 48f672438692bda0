//! A one-value channel between threads and the loop.
//!
//! The typical use: a blocking job (a DNS lookup with `getaddrinfo`) runs on a helper
//! thread and sends its result back to the task waiting on the loop. The sender is `Send`;
//! sending stores the value and wakes the receiver's task. That waker is an ordinary task
//! waker, so from a foreign thread it goes through the loop's remote queue and `eventfd`:
//! the loop wakes up even if it is blocked in poll.
//!
//! It is a `Mutex` around a small state, which is plenty for one message.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

struct State<T> {
    value: Option<T>,
    waker: Option<Waker>,
    sender_gone: bool,
    receiver_gone: bool,
}

struct Chan<T> {
    state: Mutex<State<T>>,
}

impl<T> Chan<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }
}

/// A new channel for one value.
pub fn oneshot<T: Send>() -> (OneshotSender<T>, OneshotReceiver<T>) {
    let chan = Arc::new(Chan {
        state: Mutex::new(State {
            value: None,
            waker: None,
            sender_gone: false,
            receiver_gone: false,
        }),
    });
    (
        OneshotSender {
            chan: Some(chan.clone()),
        },
        OneshotReceiver { chan },
    )
}

/// The sending half; `Send`, usable from any thread. Dropping it unsent cancels the
/// receiver ([`Canceled`]).
pub struct OneshotSender<T> {
    chan: Option<Arc<Chan<T>>>,
}

impl<T> fmt::Debug for OneshotSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OneshotSender")
    }
}

impl<T> OneshotSender<T> {
    /// Send the value and wake the receiver. If the receiver is gone the value comes back
    /// as `Err`.
    pub fn send(mut self, value: T) -> Result<(), T> {
        let chan = self.chan.take().expect("sender used once");
        let waker = {
            let mut s = chan.lock();
            if s.receiver_gone {
                return Err(value);
            }
            s.value = Some(value);
            s.sender_gone = true;
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Has the receiver been dropped (so sending is pointless)?
    pub fn is_closed(&self) -> bool {
        self.chan.as_ref().is_none_or(|c| c.lock().receiver_gone)
    }
}

impl<T> Drop for OneshotSender<T> {
    fn drop(&mut self) {
        if let Some(chan) = self.chan.take() {
            let waker = {
                let mut s = chan.lock();
                s.sender_gone = true;
                s.waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
        }
    }
}

/// The receiving half: a future of `Result<T, Canceled>`.
pub struct OneshotReceiver<T> {
    chan: Arc<Chan<T>>,
}

impl<T> fmt::Debug for OneshotReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OneshotReceiver")
    }
}

impl<T> OneshotReceiver<T> {
    /// Take the value if it is there, without waiting. `Ok(None)` means not yet.
    pub fn try_recv(&mut self) -> Result<Option<T>, Canceled> {
        let mut s = self.chan.lock();
        match s.value.take() {
            Some(v) => Ok(Some(v)),
            None if s.sender_gone => Err(Canceled),
            None => Ok(None),
        }
    }
}

impl<T> Future for OneshotReceiver<T> {
    type Output = Result<T, Canceled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut s = self.chan.lock();
        if let Some(v) = s.value.take() {
            return Poll::Ready(Ok(v));
        }
        if s.sender_gone {
            return Poll::Ready(Err(Canceled));
        }
        match &s.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => s.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> Drop for OneshotReceiver<T> {
    fn drop(&mut self) {
        let mut s = self.chan.lock();
        s.receiver_gone = true;
        // Drop an unreceived value here rather than in whichever thread drops last.
        let v = s.value.take();
        let w = s.waker.take();
        drop(s);
        drop(v);
        drop(w);
    }
}

/// The sender was dropped without sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Canceled;

impl fmt::Display for Canceled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the sender was dropped without sending a value")
    }
}

impl std::error::Error for Canceled {}
