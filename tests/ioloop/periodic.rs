//! PeriodicCallback: the schedule arithmetic on made-up clocks (L-20..L-23, as Tornado's
//! `TestPeriodicCallbackMath` does it), then the real thing on a loop (L-19, L-24, L-25).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use squall::ioloop::periodic::{jittered, next_run};
use squall::ioloop::{IoLoop, PeriodicCallback, Schedule, sleep};

/// A fake clock: second `t` of an imaginary timeline (offset so that "negative" jumps stay
/// representable as `Instant`s).
struct Clock(Instant);

impl Clock {
    fn new() -> Clock {
        Clock(Instant::now() + Duration::from_secs(100_000))
    }
    fn at(&self, secs: f64) -> Instant {
        if secs >= 0.0 {
            self.0 + Duration::from_secs_f64(secs)
        } else {
            self.0 - Duration::from_secs_f64(-secs)
        }
    }
    fn secs(&self, t: Instant) -> f64 {
        if t >= self.0 {
            (t - self.0).as_secs_f64()
        } else {
            -(self.0 - t).as_secs_f64()
        }
    }
}

/// Start at t=1000, then for each call duration (negative = the clock stepped back) ask the
/// schedule for the next run; returns the run times (Tornado's `simulate_calls`).
fn simulate(period_s: f64, jitter: f64, durations: &[f64], randoms: &[f64]) -> Vec<f64> {
    let clock = Clock::new();
    let mut s = Schedule::new(Duration::from_secs_f64(period_s), jitter);
    let mut now = clock.at(1000.0);
    let mut calls = Vec::new();
    for (i, d) in durations.iter().enumerate() {
        let r = randoms.get(i).copied().unwrap_or(0.5);
        let next = if i == 0 {
            s.start(now, r)
        } else {
            s.after_run(now, r)
        };
        let t = clock.secs(next);
        calls.push((t * 1000.0).round() / 1000.0);
        now = clock.at(t + d);
    }
    calls
}

#[test]
fn l20_first_run_one_period_after_start_then_every_period() {
    assert_eq!(
        simulate(10.0, 0.0, &[0.0; 5], &[]),
        vec![1010.0, 1020.0, 1030.0, 1040.0, 1050.0]
    );
}

#[test]
fn l21_overruns_skip_whole_periods_and_keep_phase() {
    let durations = [9., 9., 10., 11., 20., 20., 35., 35., 0., 0., 0.];
    assert_eq!(
        simulate(10.0, 0.0, &durations, &[]),
        vec![
            1010., 1020., 1030., 1050., 1070., 1100., 1130., 1170., 1210., 1220., 1230.
        ]
    );
}

#[test]
fn l22_clock_going_backwards_still_moves_forward_one_period() {
    assert_eq!(
        simulate(10.0, 0.0, &[-2., -1., -3., -2., 0.], &[]),
        vec![1010., 1020., 1030., 1040., 1050.]
    );
    assert_eq!(
        simulate(10.0, 0.0, &[-100., 0., 0.], &[]),
        vec![1010., 1020., 1030.]
    );
}

#[test]
fn l23_jitter_scales_each_period() {
    // jitter 0.5: r=0.5 -> x1, r=1 -> x1.25, r=0 -> x0.75, r=0.75 -> x1.125
    assert_eq!(
        simulate(10.0, 0.5, &[0.0; 4], &[0.5, 1.0, 0.0, 0.75]),
        vec![1010., 1022.5, 1030., 1041.25]
    );
    let p = Duration::from_secs(10);
    assert_eq!(jittered(p, 0.0, 0.9), p);
    assert_eq!(jittered(p, 0.2, 0.5), p);
    assert_eq!(jittered(p, 0.2, 0.0), Duration::from_secs(9));
}

#[test]
fn next_run_pure_function_edges() {
    let c = Clock::new();
    let p = Duration::from_secs(10);
    // Exactly on a slot boundary counts as late: the next slot.
    assert_eq!(next_run(c.at(0.), c.at(10.), p), c.at(20.));
    assert_eq!(next_run(c.at(0.), c.at(9.999), p), c.at(10.));
    assert_eq!(next_run(c.at(0.), c.at(0.), p), c.at(10.));
    assert_eq!(next_run(c.at(0.), c.at(-5.), p), c.at(10.));
}

#[test]
fn l19_zero_period_is_refused() {
    let e = PeriodicCallback::try_new(|| {}, Duration::ZERO).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Periodic callback must have a positive callback_time"
    );
    assert!(PeriodicCallback::try_new(|| {}, Duration::from_millis(1)).is_ok());
    assert!(PeriodicCallback::try_new_async(|| async {}, Duration::ZERO).is_err());
    // `new` treats a zero period as a programming error, with the same message.
    let p = std::panic::catch_unwind(|| PeriodicCallback::new(|| {}, Duration::ZERO))
        .expect_err("zero period panics");
    let msg = p.downcast_ref::<String>().cloned().unwrap_or_default();
    assert_eq!(msg, "Periodic callback must have a positive callback_time");
}

#[test]
fn l25_runs_periodically_stop_cancels_and_is_running_reports() {
    let lp = IoLoop::new();
    let count = Rc::new(Cell::new(0u32));
    let c = count.clone();
    let pc = Rc::new(PeriodicCallback::new(
        move || c.set(c.get() + 1),
        Duration::from_millis(10),
    ));
    assert!(!pc.is_running());
    let pc2 = pc.clone();
    let c2 = count.clone();
    lp.run_sync(async move {
        pc2.start();
        assert!(pc2.is_running());
        assert_eq!(c2.get(), 0, "the first run is one period after start");
        while c2.get() < 3 {
            sleep(Duration::from_millis(2)).await;
        }
        pc2.stop();
        assert!(!pc2.is_running());
        let at_stop = c2.get();
        sleep(Duration::from_millis(50)).await;
        assert_eq!(c2.get(), at_stop, "no run after stop");
    });
    assert_eq!(lp.stats().timers, 0, "stop removed the pending timer");
    assert!(count.get() >= 3);
}

#[test]
fn l25_a_panicking_callback_is_reported_and_the_schedule_continues() {
    let lp = IoLoop::new();
    let count = Rc::new(Cell::new(0u32));
    let c = count.clone();
    let pc = PeriodicCallback::new(
        move || {
            c.set(c.get() + 1);
            if c.get() == 1 {
                panic!("first run fails");
            }
        },
        Duration::from_millis(5),
    )
    .with_jitter(0.1);
    let c2 = count.clone();
    lp.run_sync_timeout(
        async move {
            pc.start();
            while c2.get() < 3 {
                sleep(Duration::from_millis(2)).await;
            }
        },
        Duration::from_secs(20),
    )
    .expect("the schedule went on after the panic");
}

#[test]
fn l24_async_callback_runs_never_overlap() {
    let lp = IoLoop::new();
    let active = Rc::new(Cell::new(0u32));
    let max_active = Rc::new(Cell::new(0u32));
    let starts = Rc::new(RefCell::new(Vec::new()));
    let (a, m, s) = (active.clone(), max_active.clone(), starts.clone());
    // Each run takes 25 ms, the period is 10 ms: runs must queue, not overlap.
    let pc = PeriodicCallback::new_async(
        move || {
            let (a, m, s) = (a.clone(), m.clone(), s.clone());
            async move {
                a.set(a.get() + 1);
                m.set(m.get().max(a.get()));
                s.borrow_mut().push(Instant::now());
                sleep(Duration::from_millis(25)).await;
                a.set(a.get() - 1);
            }
        },
        Duration::from_millis(10),
    );
    let s2 = starts.clone();
    lp.run_sync_timeout(
        async move {
            pc.start();
            while s2.borrow().len() < 3 {
                sleep(Duration::from_millis(5)).await;
            }
            pc.stop();
        },
        Duration::from_secs(20),
    )
    .unwrap();
    assert_eq!(max_active.get(), 1, "runs overlapped");
    let starts = starts.borrow();
    for w in starts.windows(2) {
        assert!(w[1] - w[0] >= Duration::from_millis(25));
    }
}

#[test]
fn dropping_the_periodic_callback_stops_it() {
    let lp = IoLoop::new();
    let count = Rc::new(Cell::new(0u32));
    let c = count.clone();
    lp.run_sync(async move {
        let pc = PeriodicCallback::new(move || c.set(c.get() + 1), Duration::from_millis(5));
        pc.start();
        drop(pc);
        sleep(Duration::from_millis(30)).await;
    });
    assert_eq!(count.get(), 0);
    assert_eq!(lp.stats().timers, 0);
}
