//! [`ThreadedResolver`]: the system's `getaddrinfo` on a small pool of worker threads.
//!
//! `getaddrinfo` blocks, and the loop thread must not. So each lookup is a job for a
//! process-wide pool (started lazily, at most [`MAX_RESOLVER_THREADS`] threads, each leaving
//! after [`RESOLVER_IDLE_EXIT`] idle), and the answer comes back to the loop through
//! [`ioloop::oneshot`]. Concurrent lookups of one name and port share a single call; a
//! lookup nobody waits for any more is skipped if it has not started yet. The rest of the
//! resolver machinery (the trait, literals and `localhost`, mapping) is in the module root.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use super::{ResolveFuture, Resolver, resolve_without_lookup, strip_brackets};
use crate::ioloop;

/// The most worker threads the process-wide resolver pool runs at once. Further lookups queue.
pub const MAX_RESOLVER_THREADS: usize = 4;

/// How long a resolver thread waits for work before it exits.
pub const RESOLVER_IDLE_EXIT: Duration = Duration::from_secs(10);

/// The default resolver: the system's `getaddrinfo` (through std's [`ToSocketAddrs`]) on a
/// small process-wide thread pool, with the answer delivered to the loop through
/// [`ioloop::oneshot`].
///
/// IP literals and `localhost` are answered without touching the pool. All
/// `ThreadedResolver` values share one pool, so creating many is free.
#[derive(Clone, Copy, Debug, Default)]
pub struct ThreadedResolver;

impl ThreadedResolver {
    /// A handle on the process-wide resolver pool (no thread is started until needed).
    pub fn new() -> ThreadedResolver {
        ThreadedResolver
    }
}

impl Resolver for ThreadedResolver {
    fn resolve(&self, host: &str, port: u16) -> ResolveFuture {
        if let Some(answer) = resolve_without_lookup(host, port) {
            return Box::pin(std::future::ready(answer));
        }
        let host = host.to_owned();
        let (tx, rx) = ioloop::oneshot::<io::Result<Vec<SocketAddr>>>();
        let cancelled = Arc::new(AtomicBool::new(false));
        let guard = CancelOnDrop(cancelled.clone());
        if let Err(e) = start_lookup(&host, port, Waiter { tx, cancelled }) {
            let err = io::Error::new(e.kind(), format!("failed to resolve {host}: {e}"));
            return Box::pin(std::future::ready(Err(err)));
        }
        Box::pin(async move {
            let _guard = guard;
            match rx.await {
                Ok(answer) => answer,
                Err(_) => Err(io::Error::other(format!(
                    "failed to resolve {host}: the resolver thread went away"
                ))),
            }
        })
    }

    fn name(&self) -> String {
        "threaded resolver (getaddrinfo)".to_owned()
    }
}

/// One future waiting for a lookup.
struct Waiter {
    tx: ioloop::OneshotSender<io::Result<Vec<SocketAddr>>>,
    cancelled: Arc<AtomicBool>,
}

type LookupKey = (String, u16);

/// Lookups queued or running, by name and port, with everyone waiting for each: concurrent
/// requests for one name (a burst of fetches to one host) share a single `getaddrinfo`.
fn in_flight() -> MutexGuard<'static, HashMap<LookupKey, Vec<Waiter>>> {
    static IN_FLIGHT: OnceLock<Mutex<HashMap<LookupKey, Vec<Waiter>>>> = OnceLock::new();
    IN_FLIGHT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// Join the lookup of `host`:`port` in flight, or queue a new one on the pool.
fn start_lookup(host: &str, port: u16, waiter: Waiter) -> io::Result<()> {
    let key: LookupKey = (host.to_ascii_lowercase(), port);
    let mut map = in_flight();
    if let Some(waiters) = map.get_mut(&key) {
        waiters.push(waiter);
        return Ok(());
    }
    map.insert(key.clone(), vec![waiter]);
    let job_key = key.clone();
    let job: Job = Box::new(move || run_lookup(job_key));
    // Submitting under the map's lock keeps the entry and its job in step; the pool's own
    // lock is never held while taking this one.
    if let Err(e) = pool().submit(job) {
        map.remove(&key);
        return Err(e);
    }
    Ok(())
}

/// The job a worker runs: skip the lookup if every waiter has gone, else look up and answer
/// every waiter (those who joined while it ran included).
fn run_lookup(key: LookupKey) {
    {
        let mut map = in_flight();
        let wanted = map
            .get(&key)
            .is_some_and(|ws| ws.iter().any(|w| !w.cancelled.load(Ordering::Acquire)));
        if !wanted {
            map.remove(&key);
            return;
        }
    }
    #[cfg(test)]
    tests::count_lookup(&key);
    let answer = lookup(&key.0, key.1);
    let waiters = in_flight().remove(&key).unwrap_or_default();
    for w in waiters {
        let copy = match &answer {
            Ok(addrs) => Ok(addrs.clone()),
            Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
        };
        // A receiver dropped in the meantime is fine: the answer is discarded.
        let _ = w.tx.send(copy);
    }
}

/// Marks a queued lookup as unwanted when its future is dropped (or completes).
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}
/// The blocking lookup a worker thread runs. Errors name the host.
fn lookup(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    let bare = strip_brackets(host);
    match (bare, port).to_socket_addrs() {
        Ok(iter) => {
            let mut addrs: Vec<SocketAddr> = Vec::new();
            for a in iter {
                if !addrs.contains(&a) {
                    addrs.push(a);
                }
            }
            if addrs.is_empty() {
                Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("failed to resolve {host}: no addresses found"),
                ))
            } else {
                Ok(addrs)
            }
        }
        Err(e) => Err(io::Error::new(
            e.kind(),
            format!("failed to resolve {host}: {e}"),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// The worker pool.

type Job = Box<dyn FnOnce() + Send + 'static>;

struct Pool {
    state: Mutex<PoolState>,
    work: Condvar,
}

#[derive(Default)]
struct PoolState {
    queue: VecDeque<Job>,
    threads: usize,
    idle: usize,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::new(PoolState::default()),
        work: Condvar::new(),
    })
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // Jobs run outside the lock, so poisoning can only come from a bug in this file; the
        // state stays consistent either way.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queue a job, starting a worker thread if none is free and the cap allows one.
    fn submit(&'static self, job: Job) -> io::Result<()> {
        let mut st = self.lock();
        st.queue.push_back(job);
        if st.queue.len() > st.idle && st.threads < MAX_RESOLVER_THREADS {
            let spawned = std::thread::Builder::new()
                .name("squall-resolver".into())
                .spawn(move || self.worker());
            match spawned {
                Ok(_) => st.threads += 1,
                Err(e) if st.threads == 0 => {
                    // Nobody would ever run the job: take it back and report.
                    st.queue.pop_back();
                    return Err(e);
                }
                Err(_) => {} // the running workers will get to it
            }
        }
        if st.idle > 0 {
            self.work.notify_one();
        }
        Ok(())
    }

    fn worker(&self) {
        loop {
            let job = {
                let mut st = self.lock();
                loop {
                    if let Some(job) = st.queue.pop_front() {
                        break job;
                    }
                    st.idle += 1;
                    let (guard, res) = self
                        .work
                        .wait_timeout(st, RESOLVER_IDLE_EXIT)
                        .unwrap_or_else(|e| e.into_inner());
                    st = guard;
                    st.idle -= 1;
                    if res.timed_out() && st.queue.is_empty() {
                        st.threads -= 1;
                        return;
                    }
                }
            };
            // A panicking lookup must not take the worker count down with it.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
        }
    }
}

/// How many resolver threads are alive right now (for tests and diagnostics).
pub fn resolver_threads() -> usize {
    pool().lock().threads
}
#[cfg(test)]
mod tests {
    use super::*;

    static LOOKUPS: Mutex<Vec<LookupKey>> = Mutex::new(Vec::new());
    /// Held by the test below while it queues its lookups, so none can finish early.
    static GATE: Mutex<()> = Mutex::new(());
    const SHARED_PORT: u16 = 47_113; // a port no other test uses: the key is ours alone

    pub(super) fn count_lookup(key: &LookupKey) {
        if key.1 == SHARED_PORT {
            drop(GATE.lock().unwrap_or_else(|e| e.into_inner()));
        }
        LOOKUPS.lock().unwrap().push(key.clone());
    }

    #[test]
    fn concurrent_lookups_of_one_name_share_one_call() {
        // "127.1" goes through getaddrinfo (Rust's parser refuses it) without any query.
        const PORT: u16 = SHARED_PORT;
        let lp = crate::ioloop::IoLoop::new();
        let answers = lp.run_sync(async {
            let gate = GATE.lock().unwrap();
            let futs: Vec<_> = (0..16)
                .map(|_| ThreadedResolver.resolve("127.1", PORT))
                .collect();
            drop(gate);
            let mut out = Vec::new();
            for f in futs {
                out.push(f.await.unwrap());
            }
            out
        });
        for a in &answers {
            assert_eq!(a, &vec![SocketAddr::from(([127, 0, 0, 1], PORT))]);
        }
        let calls = LOOKUPS
            .lock()
            .unwrap()
            .iter()
            .filter(|k| k.1 == PORT)
            .count();
        // All 16 were queued while the first lookup was held at the gate: they joined it.
        assert_eq!(calls, 1);
    }

    #[test]
    fn lookup_errors_name_the_host() {
        // A name with a NUL byte is refused before any query leaves the machine, so this
        // exercises the error path offline.
        let err = lookup("bad\0name.invalid", 80).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("failed to resolve bad\0name.invalid: "),
            "{msg}"
        );
    }
}
