//! The keep-alive pool and the per-host connection limit.
//!
//! Tornado's simple client opens a connection per request. squall keeps connections
//! whose last response was read to its end and may be kept (HTTP/1.1 without
//! `Connection: close`, a framed body, no stray bytes after it), keyed by `PoolKey`: scheme,
//! host, port, TLS settings and source address. A connection made with other TLS roots is
//! never handed to a request that asked for different ones.
//!
//! Accounting is by ownership. Each open (or opening) connection holds a `Permit` for its
//! host; dropping the connection — after an error, a timeout, a dropped fetch — drops the
//! permit, which frees the host's place and hands it to the oldest waiter. So no code path
//! can leak a place, and a timed-out connection is closed simply by not giving it back.
//!
//! Before an idle connection is reused it is checked with a non-blocking read: a server that
//! closed it (or sent stray bytes) shows up as EOF or data, and the connection is discarded
//! instead of failing the request. Idle connections expire after `pool_idle_timeout`, swept by
//! one loop timer per client that runs only while something is idle.
//!
//! Three rules keep the pool from holding more than it should:
//!
//! - **Idle connections in total are capped** (`max_idle`, default
//!   [`DEFAULT_MAX_IDLE`](super::DEFAULT_MAX_IDLE)), beside the per-host limit: a crawler that
//!   visits thousands of hosts once each would otherwise keep a socket per host until the idle
//!   timeout, and run out of file descriptors. Past the cap the least recently used idle
//!   connection is closed. And when a connect fails with "too many open files" anyway, the
//!   client closes every idle connection and tries once more ([`Pool::evict_idle`]).
//! - **A connection belongs to one loop.** Its socket is registered with the reactor of the
//!   loop that opened it, and only that loop will ever report its events. A client used from
//!   another loop (one `IoLoop` after another, each with its own `run_sync`) does not reuse
//!   them: they are closed when found, and that loop opens its own.
//! - **Idle connections are small.** A connection's read buffer is allocated (a few KiB) only
//!   when response bytes are ready, grows while a big body streams in (see `exchange`), and is
//!   freed when the connection goes idle, as is its write buffer (see `Conn`, in `conn.rs`).

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::conn::Conn;
use crate::ioloop::IoLoop;
use crate::net::Stream;
use crate::net::tls::TlsSettings;

/// How long after its last response an idle connection counts as "hot": a request that must
/// not be replayed waits until then before it probes and takes it (see `Pool::settle_at`).
const HOT: Duration = Duration::from_millis(5);

/// Responses a connection must have carried before it is trusted without the "hot" wait:
/// two means it was reused once and the server kept it open (see `Pool::settle_at`).
const PROVEN_KEEP_ALIVE: u32 = 2;

/// What a pooled connection can be reused for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct PoolKey {
    pub https: bool,
    pub host: String,
    pub port: u16,
    pub tls: Option<TlsSettings>,
    pub bind: Option<IpAddr>,
    /// A connection to (or tunnelled through) a proxy is never reused without it.
    pub proxy: Option<super::prepare::HopProxy>,
}

/// One host's place in the per-host limit; frees it on drop.
pub(crate) struct Permit {
    pool: Weak<RefCell<PoolState>>,
    key: Rc<PoolKey>,
    armed: bool,
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Some(pool) = self.pool.upgrade() {
            let wake = {
                let mut st = pool.borrow_mut();
                st.release_place(&self.key, &pool)
            };
            if let Some(w) = wake {
                w.wake();
            }
        }
    }
}

/// What a checkout gives: a connection to reuse, or the right to open one.
pub(crate) enum Grant {
    Conn(Box<Conn>),
    Open(Permit),
}

struct Ticket {
    /// The waiter takes an idle connection too (not only the right to open one).
    allow_idle: bool,
    /// The loop the waiter runs on: only a connection of that loop is handed to it.
    loop_id: usize,
    grant: RefCell<Option<Grant>>,
    abandoned: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

#[derive(Default)]
struct Host {
    open: usize,
    // Boxed on purpose: a connection is moved out to a request and back on every reuse.
    #[allow(clippy::vec_box)]
    idle: Vec<Box<Conn>>,
    waiters: VecDeque<Rc<Ticket>>,
}

pub(crate) struct PoolState {
    hosts: HashMap<Rc<PoolKey>, Host>,
    max_per_host: usize,
    /// Idle connections over all hosts: at most `max_idle`.
    idle_total: usize,
    max_idle: usize,
    idle_timeout: Duration,
    sweep_at: Option<Instant>,
    /// The loop the sweep timer runs on, and the number of its chain of timers (a chain
    /// left on another loop, or replaced, stops when it sees a newer number).
    sweep_loop: usize,
    sweep_gen: u64,
    closed: bool,
    read_buf_size: usize,
}

impl PoolState {
    /// Takes the least recently used idle connection out (its permit still armed: dropping it
    /// frees its host's place).
    fn pop_lru(&mut self) -> Option<Box<Conn>> {
        let key = self
            .hosts
            .iter()
            .filter_map(|(k, h)| h.idle.first().map(|c| (c.idle_since, k)))
            .min_by_key(|(since, _)| *since)
            .map(|(_, k)| k.clone())?;
        let host = self.hosts.get_mut(&key)?;
        self.idle_total -= 1;
        Some(host.idle.remove(0))
    }

    /// A place of `key` was freed: hand it to the oldest live waiter, if any.
    fn release_place(&mut self, key: &Rc<PoolKey>, me: &Rc<RefCell<PoolState>>) -> Option<Waker> {
        let host = self.hosts.get_mut(key)?;
        host.open -= 1;
        while let Some(t) = host.waiters.pop_front() {
            if t.abandoned.get() {
                continue;
            }
            host.open += 1;
            *t.grant.borrow_mut() = Some(Grant::Open(Permit {
                pool: Rc::downgrade(me),
                key: key.clone(),
                armed: true,
            }));
            return t.waker.borrow_mut().take();
        }
        if host.open == 0 && host.idle.is_empty() {
            self.hosts.remove(key);
        }
        None
    }
}

/// The pool of one client.
#[derive(Clone)]
pub(crate) struct Pool {
    state: Rc<RefCell<PoolState>>,
}

impl Pool {
    /// `max_idle`: idle connections kept over all hosts (0 keeps none);
    /// `read_buf_size`: a connection's read buffer to begin with, and again when idle.
    pub fn new(
        max_per_host: usize,
        max_idle: usize,
        idle_timeout: Duration,
        read_buf_size: usize,
    ) -> Pool {
        Pool {
            state: Rc::new(RefCell::new(PoolState {
                hosts: HashMap::new(),
                max_per_host: max_per_host.max(1),
                idle_total: 0,
                max_idle,
                idle_timeout,
                sweep_at: None,
                sweep_loop: 0,
                sweep_gen: 0,
                closed: false,
                read_buf_size: read_buf_size.max(1024),
            })),
        }
    }

    /// Wraps a freshly opened stream into a connection holding `permit`.
    pub fn conn(&self, stream: Stream, peer: SocketAddr, permit: Permit) -> Box<Conn> {
        let size = self.state.borrow().read_buf_size;
        Conn::new(stream, peer, permit, size)
    }

    /// A connection for `key`: an idle one (when `allow_idle`), or the right to open one, or
    /// a wait in line for either.
    /// `probe`: check an idle connection with a syscall (see `Conn::still_usable`).
    pub fn checkout(&self, key: PoolKey, allow_idle: bool, probe: bool) -> Checkout {
        Checkout {
            pool: self.clone(),
            key,
            allow_idle,
            probe,
            ticket: None,
        }
    }

    fn try_checkout(
        &self,
        key: &PoolKey,
        allow_idle: bool,
        probe: bool,
    ) -> Result<Grant, Rc<PoolKey>> {
        let mut dead = Vec::new();
        let loop_id = IoLoop::current().id();
        let result = {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            // The host's own key when it has an entry (one `Rc` per host), else a new one.
            let rc_key = match st.hosts.get_key_value(key) {
                Some((k, _)) => k.clone(),
                None => Rc::new(key.clone()),
            };
            let host = st.hosts.entry(rc_key.clone()).or_default();
            let mut found = None;
            if allow_idle {
                let now = Instant::now();
                while let Some(mut c) = host.idle.pop() {
                    st.idle_total -= 1;
                    // A connection of another loop is closed: its events go to that loop.
                    if c.loop_id == loop_id
                        && now.duration_since(c.idle_since) < st.idle_timeout
                        && c.still_usable(probe)
                    {
                        found = Some(c);
                        break;
                    }
                    c.permit.armed = false;
                    host.open -= 1;
                    dead.push(c);
                }
            }
            let can_open =
                host.open < st.max_per_host && host.waiters.iter().all(|t| t.abandoned.get());
            if let Some(c) = found {
                Ok(Grant::Conn(c))
            } else if can_open {
                host.open += 1;
                Ok(Grant::Open(Permit {
                    pool: Rc::downgrade(&self.state),
                    key: rc_key,
                    armed: true,
                }))
            } else {
                Err(rc_key)
            }
        };
        drop(dead);
        result
    }

    /// When the most recent idle connection for `key` stops being "hot", if it still is and
    /// the server has not yet shown that it keeps connections open.
    ///
    /// A server that closes right after answering (without saying `Connection: close`) may
    /// not have had its FIN arrive yet, and no probe can see a FIN still on its way; a request
    /// that must not be replayed (a POST) would then be lost on that connection. So such a
    /// request waits until a connection has been idle a few milliseconds before probing it.
    ///
    /// The wait is paid once per connection, not once per request: a connection that has
    /// already carried a second exchange has shown that this server keeps it open after an
    /// answer, so from then on the non-blocking probe just before writing is the whole check
    /// and back-to-back POSTs go out at once (issue 15: sequential POSTs at GET's rate).
    pub fn settle_at(&self, key: &PoolKey) -> Option<Instant> {
        let st = self.state.borrow();
        let last = st.hosts.get(key)?.idle.last()?;
        if last.uses >= PROVEN_KEEP_ALIVE {
            return None;
        }
        let at = last.idle_since + HOT;
        (at > Instant::now()).then_some(at)
    }

    /// Gives a connection back. Reusable ones go to the oldest waiter or the idle list (which
    /// may push the least recently used idle connection out); others are closed (which frees
    /// their place).
    pub fn checkin(&self, mut conn: Box<Conn>, reusable: bool) {
        if !reusable {
            return;
        }
        conn.uses += 1;
        let lp = IoLoop::current();
        let loop_id = lp.id();
        let mut schedule = None;
        let mut dead = Vec::new();
        let wake = {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            if st.closed || st.idle_timeout.is_zero() || st.max_idle == 0 {
                dead.push(conn);
                None
            } else {
                let key = conn.permit.key.clone();
                let host = st.hosts.entry(key).or_default();
                let mut wake = None;
                host.waiters.retain(|t| !t.abandoned.get());
                let waiter = host
                    .waiters
                    .iter()
                    .position(|t| t.allow_idle && t.loop_id == loop_id)
                    .and_then(|i| host.waiters.remove(i));
                if let Some(t) = waiter {
                    *t.grant.borrow_mut() = Some(Grant::Conn(conn));
                    wake = t.waker.borrow_mut().take();
                } else {
                    let mut c = conn;
                    c.release_buffers();
                    c.idle_since = Instant::now();
                    host.idle.push(c);
                    st.idle_total += 1;
                    while st.idle_total > st.max_idle {
                        match st.pop_lru() {
                            Some(c) => dead.push(c),
                            None => break,
                        }
                    }
                    if st.sweep_at.is_none() || st.sweep_loop != loop_id {
                        let at = Instant::now() + st.idle_timeout;
                        st.sweep_at = Some(at);
                        st.sweep_loop = loop_id;
                        st.sweep_gen += 1;
                        schedule = Some((at, st.sweep_gen));
                    }
                }
                wake
            }
        };
        // Closed outside the borrow: their permits free their hosts' places.
        drop(dead);
        if let Some(w) = wake {
            w.wake();
        }
        if let Some((at, generation)) = schedule {
            let weak = Rc::downgrade(&self.state);
            lp.call_at(at, move || sweep(weak, generation));
        }
    }

    /// Closes every idle connection (of every loop) now, as when a connect ran out of file
    /// descriptors; returns how many were closed.
    pub fn evict_idle(&self) -> usize {
        let dead: Vec<Box<Conn>> = {
            let mut st = self.state.borrow_mut();
            st.idle_total = 0;
            st.hosts
                .values_mut()
                .flat_map(|h| h.idle.drain(..))
                .collect()
        };
        let n = dead.len();
        drop(dead);
        n
    }

    /// Closes every idle connection; later check-ins are closed too.
    pub fn close(&self) {
        let dead: Vec<Box<Conn>> = {
            let mut st = self.state.borrow_mut();
            st.closed = true;
            let mut dead = Vec::new();
            for host in st.hosts.values_mut() {
                for mut c in host.idle.drain(..) {
                    c.permit.armed = false;
                    host.open -= 1;
                    dead.push(c);
                }
            }
            st.idle_total = 0;
            st.hosts.retain(|_, h| h.open > 0 || !h.waiters.is_empty());
            dead
        };
        drop(dead);
    }

    /// (open connections, idle connections) over all hosts.
    pub fn counts(&self) -> (usize, usize) {
        let st = self.state.borrow();
        st.hosts
            .values()
            .fold((0, 0), |(o, i), h| (o + h.open, i + h.idle.len()))
    }
}

fn sweep(weak: Weak<RefCell<PoolState>>, generation: u64) {
    let Some(state) = weak.upgrade() else { return };
    let mut next = None;
    let dead: Vec<Box<Conn>> = {
        let mut st = state.borrow_mut();
        let st = &mut *st;
        if st.sweep_gen != generation {
            return; // a newer chain of sweeps runs (on another loop)
        }
        st.sweep_at = None;
        let now = Instant::now();
        let timeout = st.idle_timeout;
        let mut dead = Vec::new();
        for host in st.hosts.values_mut() {
            let mut i = 0;
            while i < host.idle.len() {
                let expires = host.idle[i].idle_since + timeout;
                if expires <= now {
                    let mut c = host.idle.remove(i);
                    c.permit.armed = false;
                    host.open -= 1;
                    st.idle_total -= 1;
                    dead.push(c);
                } else {
                    next = Some(next.map_or(expires, |n: Instant| n.min(expires)));
                    i += 1;
                }
            }
        }
        st.hosts.retain(|_, h| h.open > 0 || !h.waiters.is_empty());
        st.sweep_at = next;
        dead
    };
    drop(dead);
    if let Some(at) = next {
        IoLoop::current().call_at(at, move || sweep(weak, generation));
    }
}

/// The future of [`Pool::checkout`].
pub(crate) struct Checkout {
    pool: Pool,
    key: PoolKey,
    allow_idle: bool,
    probe: bool,
    ticket: Option<Rc<Ticket>>,
}

impl Future for Checkout {
    type Output = Grant;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Grant> {
        let this = &mut *self;
        if let Some(t) = &this.ticket {
            let granted = t.grant.borrow_mut().take();
            if let Some(g) = granted {
                this.ticket = None;
                return Poll::Ready(g);
            }
            *t.waker.borrow_mut() = Some(cx.waker().clone());
            return Poll::Pending;
        }
        match this
            .pool
            .try_checkout(&this.key, this.allow_idle, this.probe)
        {
            Ok(g) => Poll::Ready(g),
            Err(rc_key) => {
                let t = Rc::new(Ticket {
                    allow_idle: this.allow_idle,
                    loop_id: IoLoop::current().id(),
                    grant: RefCell::new(None),
                    abandoned: Cell::new(false),
                    waker: RefCell::new(Some(cx.waker().clone())),
                });
                let mut st = this.pool.state.borrow_mut();
                st.hosts
                    .entry(rc_key)
                    .or_default()
                    .waiters
                    .push_back(t.clone());
                this.ticket = Some(t);
                Poll::Pending
            }
        }
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        if let Some(t) = self.ticket.take() {
            t.abandoned.set(true);
            let grant = t.grant.borrow_mut().take();
            match grant {
                Some(Grant::Conn(c)) => {
                    let mut c = c;
                    c.uses = c.uses.saturating_sub(1);
                    self.pool.checkin(c, true);
                }
                Some(Grant::Open(p)) => drop(p),
                None => {}
            }
        }
    }
}
