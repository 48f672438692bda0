//! The reactor: sockets registered with mio, their readiness flags, and event dispatch.
//!
//! Every socket is registered once, for both reading and writing, **edge-triggered**: the
//! kernel tells us when a socket *becomes* readable or writable, once. (Level-triggered
//! would repeat the news on every poll until we act, which costs a wake-up per poll for a
//! socket nobody is reading.) Edges demand discipline, and this file is that discipline:
//!
//! - Each socket has an [`IoState`]: two readiness flags and the waker of whoever waits.
//! - An event *sets* a flag and wakes the waiter. If nobody waits, the flag stays set, so
//!   the next operation goes ahead: an edge is never forgotten.
//! - An operation runs while the flag is set, and a `WouldBlock` result *clears* it. After
//!   `WouldBlock`, the kernel owes us a new edge, so waiting is safe.
//! - One refinement, for TCP streams only (tokio makes the same one): a read that returns
//!   *fewer* bytes than asked for (or a write that takes fewer) has just seen the socket's
//!   buffer run dry (or fill up), so it clears the flag too. That saves the extra `read`
//!   that would only say `WouldBlock`: for a request/response protocol, one system call in
//!   four. No wake-up can be lost by it: the kernel raises a fresh edge for every byte that
//!   arrives after the edge we consumed, so anything that lands after our short read brings
//!   its own event. (Not for UDP: a short datagram says nothing about the queue behind it.)
//! - End of stream and errors are sticky: "read closed" and "write closed" flags are never
//!   cleared, because no new edge will ever announce them again.
//! - A socket is deregistered when dropped, so its token is never reused under it.
//!
//! New sockets start "ready" (optimistic): the first read or write is simply tried, which
//! saves a trip through poll when data is already there. A socket still connecting starts
//! "not writable" instead and waits for the kernel's edge.
//!
//! # The readiness flag, as a state machine
//!
//! Each socket has one of these per direction (read, write):
//!
//! ```text
//!                       event: readable / writable (an edge)
//!                       sets the flag, wakes the stored waker
//!            +----------------------------------------------------+
//!            |                                                    v
//!    +---------------+                                    +---------------+
//!    |   NOT READY   |  op says WouldBlock: clear the     |     READY     | <-- new socket
//!    |  (a waiter    | <--- flag; the task stores its  ---|  ops are      |     (optimistic;
//!    |   may wait)   |      waker and returns Pending     |  tried        |     a connecting
//!    +---------------+  op moved fewer bytes than asked   +---------------+     one starts
//!            |          (TCP stream only): clear too              |  op succeeds:   NOT READY)
//!            |                                                    |  stays READY
//!            |   event: hang-up or error (read-closed, write-closed, error)
//!            +-----------------------------+----------------------+
//!                                          v
//!                                  +---------------+
//!                                  |    CLOSED     |  sticky: never cleared, no edge will
//!                                  | (ops go ahead |  announce it again; a read returns 0
//!                                  |  and finish)  |  or the error at once
//!                                  +---------------+
//! ```
//!
//! The one rule behind every arrow: a task may wait (store its waker, return `Pending`) only
//! in NOT READY, and NOT READY is entered only when the kernel owes us a new edge.
//!
//! Registration is lazy: a socket joins the reactor of the loop that first polls it, so a
//! listener made before `run_sync` still lands on the loop that runs it.

use std::cell::{Cell, OnceCell, Ref, RefCell};
use std::io;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use mio::event::Source;
use mio::{Interest, Token};

use super::{IoLoop, LoopState, WAKER_TOKEN};

/// Readiness flag: reading may succeed.
pub(crate) const READABLE: u8 = 0b01;
/// Readiness flag: writing may succeed.
pub(crate) const WRITABLE: u8 = 0b10;
/// Sticky flag: the peer closed its side (or an error occurred); reads will not block.
const READ_CLOSED: u8 = 0b100;
/// Sticky flag: writing is over (or an error occurred); writes will not block.
const WRITE_CLOSED: u8 = 0b1000;

/// Which way an operation goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    fn bit(self) -> u8 {
        match self {
            Direction::Read => READABLE,
            Direction::Write => WRITABLE,
        }
    }

    /// The bits that mean "an operation this way will not block".
    fn ready_mask(self) -> u8 {
        match self {
            Direction::Read => READABLE | READ_CLOSED,
            Direction::Write => WRITABLE | WRITE_CLOSED,
        }
    }

    fn index(self) -> usize {
        match self {
            Direction::Read => 0,
            Direction::Write => 1,
        }
    }
}

/// Readiness of one registered socket, shared by the socket and the reactor.
pub(crate) struct IoState {
    ready: Cell<u8>,
    wakers: [Cell<Option<Waker>>; 2],
}

/// A tiny slab: tokens are indices into it.
struct Slab<T> {
    items: Vec<Option<T>>,
    free: Vec<usize>,
}

impl<T> Slab<T> {
    fn insert(&mut self, v: T) -> usize {
        if let Some(i) = self.free.pop() {
            self.items[i] = Some(v);
            i
        } else {
            self.items.push(Some(v));
            self.items.len() - 1
        }
    }

    fn remove(&mut self, i: usize) -> Option<T> {
        let v = self.items.get_mut(i)?.take();
        if v.is_some() {
            self.free.push(i);
        }
        v
    }

    fn get(&self, i: usize) -> Option<&T> {
        self.items.get(i)?.as_ref()
    }
}

/// The poller, its reusable event buffer, and the registered sockets.
pub(crate) struct Reactor {
    poll: RefCell<Option<mio::Poll>>,
    events: RefCell<mio::Events>,
    sources: RefCell<Slab<Rc<IoState>>>,
    /// Wakers collected during dispatch, woken after every borrow is released.
    wake_buf: RefCell<Vec<Waker>>,
}

impl Reactor {
    pub(crate) fn new(poll: mio::Poll) -> Reactor {
        Reactor {
            poll: RefCell::new(Some(poll)),
            events: RefCell::new(mio::Events::with_capacity(1024)),
            sources: RefCell::new(Slab {
                items: Vec::new(),
                free: Vec::new(),
            }),
            wake_buf: RefCell::new(Vec::with_capacity(64)),
        }
    }

    /// Free the poller (the epoll fd).
    pub(crate) fn close(&self) {
        let p = self.poll.borrow_mut().take();
        drop(p);
        let sources = std::mem::take(&mut self.sources.borrow_mut().items);
        drop(sources);
    }

    fn register(&self, src: &mut impl Source, state: Rc<IoState>) -> io::Result<Token> {
        let poll = self.poll.borrow();
        let Some(poll) = poll.as_ref() else {
            return Err(io::Error::other("the IoLoop is closed"));
        };
        let token = Token(self.sources.borrow_mut().insert(state));
        let r = poll
            .registry()
            .register(src, token, Interest::READABLE | Interest::WRITABLE);
        if let Err(e) = r {
            self.sources.borrow_mut().remove(token.0);
            return Err(e);
        }
        Ok(token)
    }

    fn deregister(&self, src: &mut impl Source, token: Token) {
        let state = self.sources.borrow_mut().remove(token.0);
        if let Some(poll) = self.poll.borrow().as_ref() {
            // Fails only if the fd is already gone from epoll; nothing to do then.
            let _ = poll.registry().deregister(src);
        }
        if let Some(state) = state {
            // Whoever still waits on this socket will never get an event: drop the wakers.
            let wakers = [state.wakers[0].take(), state.wakers[1].take()];
            drop(wakers);
        }
    }

    /// Steps 1 and 2 of a turn: wait for events, set readiness flags, wake waiters.
    pub(crate) fn poll(&self, timeout: Option<Duration>) -> io::Result<()> {
        let mut wake = std::mem::take(&mut *self.wake_buf.borrow_mut());
        {
            let mut poll = self.poll.borrow_mut();
            let Some(poll) = poll.as_mut() else {
                return Ok(());
            };
            let mut events = self.events.borrow_mut();
            match poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
                Err(e) => return Err(e),
            }
            let sources = self.sources.borrow();
            for ev in events.iter() {
                let token = ev.token();
                if token == WAKER_TOKEN {
                    continue; // the remote queue is drained right after
                }
                let Some(state) = sources.get(token.0) else {
                    continue;
                };
                let mut bits = 0;
                if ev.is_readable() {
                    bits |= READABLE;
                }
                if ev.is_read_closed() || ev.is_error() {
                    bits |= READABLE | READ_CLOSED;
                }
                if ev.is_writable() {
                    bits |= WRITABLE;
                }
                if ev.is_write_closed() || ev.is_error() {
                    bits |= WRITABLE | WRITE_CLOSED;
                }
                state.ready.set(state.ready.get() | bits);
                if bits & READABLE != 0
                    && let Some(w) = state.wakers[0].take()
                {
                    wake.push(w);
                }
                if bits & WRITABLE != 0
                    && let Some(w) = state.wakers[1].take()
                {
                    wake.push(w);
                }
            }
        }
        for w in wake.drain(..) {
            w.wake();
        }
        *self.wake_buf.borrow_mut() = wake;
        Ok(())
    }

    /// The events of the last poll (for the loop trace; the buffer is kept until the next).
    pub(crate) fn for_each_event(&self, mut f: impl FnMut(&mio::event::Event)) {
        for ev in self.events.borrow().iter() {
            f(ev);
        }
    }

    /// How many sockets are registered (for tests and diagnostics).
    pub(crate) fn source_count(&self) -> usize {
        self.sources.borrow().items.iter().flatten().count()
    }
}

struct Registration {
    state: Rc<IoState>,
    token: Token,
    lp: Weak<LoopState>,
}

/// A mio-compatible socket plus its registration: the building block of `net.rs`.
pub(crate) struct PollEvented<S: Source> {
    /// In a `RefCell` only because mio wants `&mut` to register, which happens lazily on
    /// the first poll, through `&self`.
    io: RefCell<S>,
    reg: OnceCell<Registration>,
    initial: u8,
}

impl<S: Source> PollEvented<S> {
    /// Wrap `io`; `initial` is the readiness assumed before the first event.
    pub(crate) fn new(io: S, initial: u8) -> PollEvented<S> {
        PollEvented {
            io: RefCell::new(io),
            reg: OnceCell::new(),
            initial,
        }
    }

    pub(crate) fn get_ref(&self) -> Ref<'_, S> {
        self.io.borrow()
    }

    fn registration(&self) -> io::Result<&Registration> {
        if let Some(r) = self.reg.get() {
            return Ok(r);
        }
        let lp = IoLoop::current();
        let inner = lp.state();
        let state = Rc::new(IoState {
            ready: Cell::new(self.initial),
            wakers: [Cell::new(None), Cell::new(None)],
        });
        let token = inner
            .reactor
            .register(&mut *self.io.borrow_mut(), state.clone())?;
        let _ = self.reg.set(Registration {
            state,
            token,
            lp: Rc::downgrade(inner),
        });
        Ok(self.reg.get().expect("just set"))
    }

    /// Forget a readiness (after an operation that did not go through `poll_io` saw
    /// `WouldBlock`).
    pub(crate) fn clear(&self, dir: Direction) {
        if let Some(r) = self.reg.get() {
            r.state.ready.set(r.state.ready.get() & !dir.bit());
        }
    }

    /// Is the `dir` flag (or its sticky closed flag) set, i.e. would an operation be tried
    /// rather than wait? No system call. An unregistered socket reports its initial flags.
    pub(crate) fn is_ready(&self, dir: Direction) -> bool {
        let bits = match self.reg.get() {
            Some(r) => r.state.ready.get(),
            None => self.initial,
        };
        bits & dir.ready_mask() != 0
    }

    /// Has an event said this direction is over for good (hang-up, error)?
    pub(crate) fn is_closed(&self, dir: Direction) -> bool {
        let closed = match dir {
            Direction::Read => READ_CLOSED,
            Direction::Write => WRITE_CLOSED,
        };
        self.reg
            .get()
            .is_some_and(|r| r.state.ready.get() & closed != 0)
    }

    /// Ready when the `dir` flag is set; otherwise remember the waker.
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<io::Result<()>> {
        let reg = self.registration()?;
        if reg.state.ready.get() & dir.ready_mask() != 0 {
            return Poll::Ready(Ok(()));
        }
        store_waker(&reg.state.wakers[dir.index()], cx.waker());
        Poll::Pending
    }

    /// Run `op` while the `dir` flag is set; on `WouldBlock` clear the flag and wait.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let reg = self.registration()?;
        loop {
            if reg.state.ready.get() & dir.ready_mask() == 0 {
                store_waker(&reg.state.wakers[dir.index()], cx.waker());
                return Poll::Pending;
            }
            match op(&self.io.borrow()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    reg.state.ready.set(reg.state.ready.get() & !dir.bit());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return Poll::Ready(r),
            }
        }
    }

    /// Like `poll_io` for a stream read or write of `len` bytes: a partial transfer
    /// (`0 < n < len`) also clears the flag (see the module docs for why that is safe).
    pub(crate) fn poll_stream_io(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        len: usize,
        op: impl FnMut(&S) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let r = self.poll_io(cx, dir, op);
        if let Poll::Ready(Ok(n)) = r
            && n > 0
            && n < len
        {
            self.clear(dir);
        }
        r
    }

    /// Run `op` once without waiting; `WouldBlock` clears the flag and is returned.
    pub(crate) fn try_io<R>(
        &self,
        dir: Direction,
        op: impl FnOnce(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        let r = op(&self.io.borrow());
        if let Err(e) = &r
            && e.kind() == io::ErrorKind::WouldBlock
        {
            self.clear(dir);
        }
        r
    }
}

fn store_waker(slot: &Cell<Option<Waker>>, w: &Waker) {
    let old = slot.take();
    match old {
        Some(o) if o.will_wake(w) => slot.set(Some(o)),
        _ => slot.set(Some(w.clone())),
    }
}

impl<S: Source> Drop for PollEvented<S> {
    fn drop(&mut self) {
        if let Some(reg) = self.reg.take()
            && let Some(inner) = reg.lp.upgrade()
        {
            inner.reactor.deregister(self.io.get_mut(), reg.token);
        }
        // `io` is dropped (closed) after this.
    }
}
