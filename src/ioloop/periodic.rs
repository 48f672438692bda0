//! [`PeriodicCallback`]: call a function every `period`, Tornado style.
//!
//! The schedule keeps its *phase*: runs are due at `start + k·period`. A run that takes too
//! long does not cause a burst of catch-up runs; the missed slots are skipped and the next
//! run lands on the next slot still in the future (L-21). If the clock seems to go
//! backwards, the next run still moves forward by one period (L-22). Optional jitter
//! stretches or shrinks each period by up to `±jitter/2` (L-23).
//!
//! The arithmetic lives in [`Schedule`], a pure value driven by the times you hand it, so it
//! is tested with made-up clocks; [`PeriodicCallback`] feeds it the loop's clock.

use std::cell::{Cell, RefCell};
use std::collections::hash_map::RandomState;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::executor::panic_message;
use super::{IoLoop, TimeoutHandle};

/// The period was zero (L-19).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodicError;

impl fmt::Display for PeriodicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Periodic callback must have a positive callback_time")
    }
}

impl std::error::Error for PeriodicError {}

/// The pure schedule of a periodic callback: when is the next run?
///
/// ```
/// use squall::ioloop::Schedule;
/// use std::time::{Duration, Instant};
///
/// let t0 = Instant::now();
/// let at = |s: u64| t0 + Duration::from_secs(s);
/// let mut s = Schedule::new(Duration::from_secs(10), 0.0);
/// assert_eq!(s.start(at(1000), 0.5), at(1010));
/// // The run at 1010 took 25 s: the 1020 and 1030 slots are skipped.
/// assert_eq!(s.after_run(at(1035), 0.5), at(1040));
/// ```
#[derive(Debug, Clone)]
pub struct Schedule {
    period: Duration,
    jitter: f64,
    next: Instant,
}

impl Schedule {
    /// A schedule with this period and jitter (0 for none).
    pub fn new(period: Duration, jitter: f64) -> Schedule {
        Schedule {
            period,
            jitter,
            next: Instant::now(),
        }
    }

    /// Start at `now`; returns the first run time, one period later. `r` is a random number
    /// in `[0, 1)` for the jitter (ignored without jitter).
    pub fn start(&mut self, now: Instant, r: f64) -> Instant {
        self.next = now;
        self.after_run(now, r)
    }

    /// A run finished (or began, for the first) at `now`; returns the next run time.
    pub fn after_run(&mut self, now: Instant, r: f64) -> Instant {
        let period = jittered(self.period, self.jitter, r);
        self.next = next_run(self.next, now, period);
        self.next
    }

    /// The run time computed last.
    pub fn next(&self) -> Instant {
        self.next
    }
}

/// `period` stretched by jitter: `period · (1 + jitter · (r − 0.5))` (L-23).
pub fn jittered(period: Duration, jitter: f64, r: f64) -> Duration {
    if jitter == 0.0 {
        return period;
    }
    let factor = 1.0 + jitter * (r - 0.5);
    if factor <= 0.0 || !factor.is_finite() {
        return Duration::from_nanos(1);
    }
    period.mul_f64(factor).max(Duration::from_nanos(1))
}

/// The next run after the one scheduled at `prev`, now that it is `now`: the first
/// `prev + k·period` (k ≥ 1) after `now`; if the clock went backwards (`now < prev`), simply
/// `prev + period`.
pub fn next_run(prev: Instant, now: Instant, period: Duration) -> Instant {
    if prev <= now {
        let late = now - prev;
        let p = period.as_nanos().max(1);
        let k = late.as_nanos() / p + 1;
        let step = period
            .checked_mul(u32::try_from(k).unwrap_or(u32::MAX))
            .unwrap_or(Duration::from_secs(86400 * 365));
        prev + step
    } else {
        prev + period
    }
}

type AsyncFn = Box<dyn FnMut() -> Pin<Box<dyn Future<Output = ()>>>>;

enum Callback {
    Sync(Box<dyn FnMut()>),
    Async(AsyncFn),
}

struct Pc {
    cb: RefCell<Callback>,
    schedule: RefCell<Schedule>,
    running: Cell<bool>,
    /// Bumped by every start/stop, so a stale timer or async run does nothing.
    epoch: Cell<u64>,
    timeout: Cell<Option<TimeoutHandle>>,
    lp: RefCell<Option<IoLoop>>,
    rng: Cell<u64>,
}

impl Pc {
    fn random(&self) -> f64 {
        // xorshift64*: plenty for jitter.
        let mut x = self.rng.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng.set(x);
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn schedule_next(self: &Rc<Self>, now: Instant, first: bool) {
        if !self.running.get() {
            return;
        }
        let r = self.random();
        let at = {
            let mut s = self.schedule.borrow_mut();
            if first {
                s.start(now, r)
            } else {
                s.after_run(now, r)
            }
        };
        let lp = self.lp.borrow().clone();
        let Some(lp) = lp else { return };
        let weak = Rc::downgrade(self);
        let epoch = self.epoch.get();
        let h = lp.call_at(at, move || run(weak, epoch));
        self.timeout.set(Some(h));
    }
}

fn run(weak: Weak<Pc>, epoch: u64) {
    let Some(pc) = weak.upgrade() else { return };
    if !pc.running.get() || pc.epoch.get() != epoch {
        return;
    }
    pc.timeout.set(None);
    let fut = {
        let mut cb = pc.cb.borrow_mut();
        match &mut *cb {
            Callback::Sync(f) => {
                if let Err(p) = catch_unwind(AssertUnwindSafe(&mut **f)) {
                    eprintln!(
                        "Exception in callback (PeriodicCallback): {}",
                        panic_message(&*p)
                    );
                }
                None
            }
            Callback::Async(f) => match catch_unwind(AssertUnwindSafe(&mut **f)) {
                Ok(fut) => Some(fut),
                Err(p) => {
                    eprintln!(
                        "Exception in callback (PeriodicCallback): {}",
                        panic_message(&*p)
                    );
                    None
                }
            },
        }
    };
    match fut {
        None => pc.schedule_next(Instant::now(), false),
        Some(fut) => {
            // L-24: the next run is scheduled only once this one has finished.
            let lp = pc.lp.borrow().clone();
            let Some(lp) = lp else { return };
            let weak = Rc::downgrade(&pc);
            drop(lp.spawn(async move {
                CatchUnwind(fut).await;
                if let Some(pc) = weak.upgrade()
                    && pc.epoch.get() == epoch
                {
                    pc.schedule_next(Instant::now(), false);
                }
            }));
        }
    }
}

/// Polls a boxed future, turning a panic into a report (L-25: the schedule continues).
struct CatchUnwind(Pin<Box<dyn Future<Output = ()>>>);

impl Future for CatchUnwind {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match catch_unwind(AssertUnwindSafe(|| self.0.as_mut().poll(cx))) {
            Ok(p) => p,
            Err(p) => {
                eprintln!(
                    "Exception in callback (PeriodicCallback): {}",
                    panic_message(&*p)
                );
                Poll::Ready(())
            }
        }
    }
}

/// Calls a function every `period` on the loop, skipping missed runs (Tornado's
/// `PeriodicCallback`).
///
/// The first run comes one period after [`start`](PeriodicCallback::start). A panic in the
/// callback is reported and the schedule goes on. Dropping the `PeriodicCallback` stops it
/// (unlike Tornado, where the loop keeps it alive): keep it as long as it should run.
pub struct PeriodicCallback {
    pc: Rc<Pc>,
}

impl fmt::Debug for PeriodicCallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeriodicCallback")
            .field("period", &self.pc.schedule.borrow().period)
            .field("running", &self.pc.running.get())
            .finish()
    }
}

impl PeriodicCallback {
    /// Call `f` every `period`.
    ///
    /// Panics with `Periodic callback must have a positive callback_time` if `period` is zero
    /// (L-19; Tornado raises `ValueError`). Use [`try_new`](PeriodicCallback::try_new) when
    /// the period comes from outside the program.
    pub fn new(f: impl FnMut() + 'static, period: Duration) -> PeriodicCallback {
        match PeriodicCallback::try_new(f, period) {
            Ok(pc) => pc,
            Err(e) => panic!("{e}"),
        }
    }

    /// Call `f` every `period`; a zero period is an error (L-19).
    pub fn try_new(
        f: impl FnMut() + 'static,
        period: Duration,
    ) -> Result<PeriodicCallback, PeriodicError> {
        PeriodicCallback::make(Callback::Sync(Box::new(f)), period)
    }

    /// Call the async function `f` every `period`; a run's future finishes before the next
    /// run is scheduled, so runs never overlap (L-24). Panics on a zero period, like `new`.
    pub fn new_async<Fut: Future<Output = ()> + 'static>(
        f: impl FnMut() -> Fut + 'static,
        period: Duration,
    ) -> PeriodicCallback {
        match PeriodicCallback::try_new_async(f, period) {
            Ok(pc) => pc,
            Err(e) => panic!("{e}"),
        }
    }

    /// Like [`new_async`](PeriodicCallback::new_async), with a zero period an error.
    pub fn try_new_async<Fut: Future<Output = ()> + 'static>(
        mut f: impl FnMut() -> Fut + 'static,
        period: Duration,
    ) -> Result<PeriodicCallback, PeriodicError> {
        PeriodicCallback::make(
            Callback::Async(Box::new(move || {
                Box::pin(f()) as Pin<Box<dyn Future<Output = ()>>>
            })),
            period,
        )
    }

    fn make(cb: Callback, period: Duration) -> Result<PeriodicCallback, PeriodicError> {
        if period.is_zero() {
            return Err(PeriodicError);
        }
        let seed = RandomState::new().build_hasher().finish() | 1;
        Ok(PeriodicCallback {
            pc: Rc::new(Pc {
                cb: RefCell::new(cb),
                schedule: RefCell::new(Schedule::new(period, 0.0)),
                running: Cell::new(false),
                epoch: Cell::new(0),
                timeout: Cell::new(None),
                lp: RefCell::new(None),
                rng: Cell::new(seed),
            }),
        })
    }

    /// Vary each period randomly by up to `±jitter/2` of it (e.g. 0.1 for ±5 %).
    pub fn with_jitter(self, jitter: f64) -> PeriodicCallback {
        let j = if jitter.is_finite() {
            jitter.max(0.0)
        } else {
            0.0
        };
        self.pc.schedule.borrow_mut().jitter = j;
        self
    }

    /// Start: the first run is one period from now, on [`IoLoop::current`]. A no-op if
    /// already running.
    pub fn start(&self) {
        if self.pc.running.get() {
            return;
        }
        self.pc.running.set(true);
        self.pc.epoch.set(self.pc.epoch.get() + 1);
        *self.pc.lp.borrow_mut() = Some(IoLoop::current());
        self.pc.schedule_next(Instant::now(), true);
    }

    /// Stop: the pending run is cancelled (L-25).
    pub fn stop(&self) {
        self.pc.running.set(false);
        self.pc.epoch.set(self.pc.epoch.get() + 1);
        let h = self.pc.timeout.take();
        let lp = self.pc.lp.borrow_mut().take();
        if let (Some(h), Some(lp)) = (h, lp) {
            lp.remove_timeout(h);
        }
    }

    /// Is it started (and not stopped)?
    pub fn is_running(&self) -> bool {
        self.pc.running.get()
    }
}

impl Drop for PeriodicCallback {
    fn drop(&mut self) {
        self.stop();
    }
}
