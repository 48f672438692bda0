//! Callbacks and timers on the loop (L-07..L-13, L-15, L-16): `add_callback` from this
//! thread and others, `call_later`/`call_at` in deadline order, removal, panics, future
//! callbacks, loop time, `sleep` and `timeout`. Time-based tests assert order and generous
//! bounds only.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use squall::ioloop::{
    self, IoLoop, JoinError, RunError, oneshot, sleep, sleep_until, spawn, timeout,
};

use crate::ms;

#[test]
fn l07_add_callback_runs_next_iteration_without_timer_or_io() {
    let lp = IoLoop::new();
    let start = Instant::now();
    let (tx, rx) = oneshot::<u32>();
    lp.add_callback(move || {
        tx.send(7).unwrap();
    });
    // A far timer exists; the callback must not wait for it.
    lp.call_later(Duration::from_secs(60), || {});
    assert_eq!(lp.run_sync(rx), Ok(7));
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn l08_add_callback_from_other_thread_wakes_blocked_poll() {
    let lp = IoLoop::new();
    let handle = lp.handle();
    let (tx, rx) = oneshot::<Instant>();
    let t = std::thread::spawn(move || {
        std::thread::sleep(ms(50));
        let sent = Instant::now();
        handle.add_callback(move || {
            tx.send(sent).unwrap();
        });
    });
    // The loop blocks in poll with no timer at all: only the waker can wake it.
    let sent = lp.run_sync(rx).unwrap();
    let latency = sent.elapsed();
    t.join().unwrap();
    assert!(latency < Duration::from_secs(2), "woken after {latency:?}");
}

thread_local! {
    static SEEN: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

#[test]
fn l08_eight_threads_ten_thousand_callbacks_each_run_exactly_once() {
    const THREADS: usize = 8;
    const PER: usize = 10_000;
    let lp = IoLoop::new();
    let count = Arc::new(AtomicUsize::new(0));
    let (done_tx, done_rx) = oneshot::<()>();
    let done_tx = Arc::new(std::sync::Mutex::new(Some(done_tx)));
    let handle = lp.handle();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let handle = handle.clone();
            let count = count.clone();
            let done_tx = done_tx.clone();
            std::thread::spawn(move || {
                for i in 0..PER {
                    let count = count.clone();
                    let done_tx = done_tx.clone();
                    let id = t * PER + i;
                    handle.add_callback(move || {
                        // Runs on the loop thread: record the id there.
                        SEEN.with(|s| s.borrow_mut().push(id));
                        if count.fetch_add(1, Ordering::SeqCst) + 1 == THREADS * PER
                            && let Some(tx) = done_tx.lock().unwrap().take()
                        {
                            let _ = tx.send(());
                        }
                    });
                }
            })
        })
        .collect();
    lp.run_sync_timeout(done_rx, Duration::from_secs(60))
        .expect("all callbacks ran")
        .unwrap();
    for t in threads {
        t.join().unwrap();
    }
    let mut seen = vec![0u8; THREADS * PER];
    SEEN.with(|s| {
        for &id in s.borrow().iter() {
            seen[id] += 1;
        }
    });
    assert!(seen.iter().all(|&n| n == 1), "each callback exactly once");
    assert_eq!(count.load(Ordering::SeqCst), THREADS * PER);
    // Nothing more runs later.
    lp.run_sync(sleep(ms(5)));
    assert_eq!(count.load(Ordering::SeqCst), THREADS * PER);
}

#[test]
fn l09_add_callback_on_closed_loop_is_dropped_silently() {
    let lp = IoLoop::new();
    let handle = lp.handle();
    let ran = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let t = {
        let (handle, ran, stop) = (handle.clone(), ran.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) || n < 1000 {
                let ran = ran.clone();
                handle.add_callback(move || {
                    ran.fetch_add(1, Ordering::Relaxed);
                });
                n += 1;
            }
        })
    };
    lp.run_sync(sleep(ms(20)));
    lp.close();
    assert!(lp.is_closed());
    let after_close = ran.load(Ordering::Relaxed);
    std::thread::sleep(ms(20));
    stop.store(true, Ordering::Relaxed);
    t.join().unwrap();
    // The loop cannot run again, and nothing ran after close.
    assert_eq!(lp.try_run_sync(async {}), Err(RunError::Closed));
    assert_eq!(ran.load(Ordering::Relaxed), after_close);
    // Local add_callback on a closed loop is a silent no-op too.
    lp.add_callback(|| panic!("must not run"));
}

#[test]
fn l10_call_later_and_call_at_run_callbacks_and_return_handles() {
    let lp = IoLoop::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    let (l1, l2) = (log.clone(), log.clone());
    let arg = String::from("bound argument");
    lp.call_later(ms(5), move || l1.borrow_mut().push(arg));
    let at = Instant::now() + ms(1);
    let h = lp.call_at(at, move || l2.borrow_mut().push("at".to_string()));
    assert_eq!(h.deadline(), at);
    lp.run_sync(sleep(ms(30)));
    assert_eq!(
        *log.borrow(),
        vec!["at".to_string(), "bound argument".to_string()]
    );
}

#[test]
fn l11_timers_fire_in_deadline_order_ties_fifo_past_runs_next_iteration() {
    let lp = IoLoop::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    let base = Instant::now() + ms(20);
    let push = |tag: &'static str| {
        let log = log.clone();
        move || log.borrow_mut().push(tag)
    };
    lp.call_at(base + ms(10), push("c"));
    lp.call_at(base, push("a1"));
    lp.call_at(base, push("a2"));
    lp.call_at(base + ms(5), push("b"));
    lp.call_at(base, push("a3"));
    lp.run_sync(sleep_until(base + ms(40)));
    assert_eq!(*log.borrow(), vec!["a1", "a2", "a3", "b", "c"]);

    // A deadline in the past does not run inline, but on the next iteration.
    log.borrow_mut().clear();
    let log2 = log.clone();
    let lp2 = lp.clone();
    lp.run_sync(async move {
        lp2.call_at(Instant::now() - ms(100), {
            let log = log2.clone();
            move || log.borrow_mut().push("past")
        });
        log2.borrow_mut().push("after call_at");
        sleep(ms(5)).await;
    });
    assert_eq!(*log.borrow(), vec!["after call_at", "past"]);
}

#[test]
fn timers_and_callbacks_interleave_in_a_stable_order() {
    // Callbacks already queued run before timers that become due in the same iteration;
    // each batch keeps FIFO order; work added during a batch waits for the next one.
    let lp = IoLoop::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    let lp2 = lp.clone();
    lp.run_sync(async move {
        let l1 = l.clone();
        lp2.call_later(Duration::ZERO, move || l1.borrow_mut().push("timer0"));
        let l2 = l.clone();
        lp2.add_callback(move || l2.borrow_mut().push("cb1"));
        let l3 = l.clone();
        let lp3 = lp2.clone();
        lp2.add_callback(move || {
            l3.borrow_mut().push("cb2");
            let l4 = l3.clone();
            lp3.add_callback(move || l4.borrow_mut().push("cb3 (added by cb2)"));
        });
        sleep(ms(10)).await;
    });
    assert_eq!(
        *log.borrow(),
        vec!["cb1", "cb2", "timer0", "cb3 (added by cb2)"]
    );
}

#[test]
fn l12_remove_timeout_after_fire_is_noop_and_cancel_from_callback_works() {
    let lp = IoLoop::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    // After it fired.
    let l = log.clone();
    let h = lp.call_later(Duration::ZERO, move || l.borrow_mut().push("fired"));
    lp.run_sync(sleep(ms(5)));
    lp.remove_timeout(h);
    lp.remove_timeout(h); // twice is fine too
    assert_eq!(*log.borrow(), vec!["fired"]);

    // A timer cancels another one due in the same iteration: it never runs.
    log.borrow_mut().clear();
    let at = Instant::now() + ms(5);
    let victim_slot: Rc<Cell<Option<ioloop::TimeoutHandle>>> = Rc::new(Cell::new(None));
    let (l1, slot, lp1) = (log.clone(), victim_slot.clone(), lp.clone());
    lp.call_at(at, move || {
        l1.borrow_mut().push("canceller");
        lp1.remove_timeout(slot.get().unwrap());
    });
    let l2 = log.clone();
    victim_slot.set(Some(lp.call_at(at, move || l2.borrow_mut().push("victim"))));
    lp.run_sync(sleep(ms(30)));
    assert_eq!(*log.borrow(), vec!["canceller"]);
    assert_eq!(lp.stats().timers, 0);

    // A timer removed from inside an add_callback before it is due.
    log.borrow_mut().clear();
    let l3 = log.clone();
    let h = lp.call_later(ms(10), move || l3.borrow_mut().push("late"));
    let lp3 = lp.clone();
    lp.add_callback(move || lp3.remove_timeout(h));
    lp.run_sync(sleep(ms(30)));
    assert!(log.borrow().is_empty());
}

#[test]
fn l12_many_add_remove_cycles_leave_nothing_behind() {
    let lp = IoLoop::new();
    for round in 0..5 {
        let handles: Vec<_> = (0..20_000)
            .map(|i| lp.call_later(Duration::from_secs(100 + i % 7), || {}))
            .collect();
        assert_eq!(lp.stats().timers, 20_000, "round {round}");
        for h in handles {
            lp.remove_timeout(h);
        }
        assert_eq!(lp.stats().timers, 0);
    }
    // Sleeps that are dropped before firing leave too.
    lp.run_sync(async {
        for _ in 0..1000 {
            let _ = timeout(Duration::from_secs(100), async {}).await;
            let _ = timeout(Duration::from_secs(100), sleep(Duration::ZERO)).await;
        }
    });
    assert_eq!(lp.stats().timers, 0);
}

#[test]
fn l13_panicking_callback_and_task_are_reported_and_loop_survives() {
    let lp = IoLoop::new();
    lp.add_callback(|| panic!("callback exploded"));
    lp.spawn_callback(|| panic!("spawn_callback exploded"));
    lp.call_later(Duration::ZERO, || panic!("timer exploded"));
    let h = lp.spawn(async {
        sleep(ms(1)).await;
        panic!("task exploded");
    });
    let r = lp.run_sync(async move {
        let r = h.await;
        sleep(ms(5)).await;
        r
    });
    match r {
        Err(JoinError::Panicked(m)) => assert_eq!(m, "task exploded"),
        other => panic!("unexpected {other:?}"),
    }
    // Still alive, runs more work.
    assert_eq!(lp.run_sync(async { spawn(async { 11 }).await }), Ok(11));
}

#[test]
fn l13_spawn_callback_equals_add_callback_in_order() {
    let lp = IoLoop::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    for i in 0..6 {
        let l = log.clone();
        if i % 2 == 0 {
            lp.add_callback(move || l.borrow_mut().push(i));
        } else {
            lp.spawn_callback(move || l.borrow_mut().push(i));
        }
    }
    lp.run_sync(sleep(ms(2)));
    assert_eq!(*log.borrow(), vec![0, 1, 2, 3, 4, 5]);
}

#[test]
fn l15_add_future_callback_runs_on_a_later_iteration() {
    let lp = IoLoop::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    let l2 = log.clone();
    lp.add_future(
        async move {
            l.borrow_mut().push("future done".to_string());
            5
        },
        move |v| l2.borrow_mut().push(format!("callback {v}")),
    );
    let l3 = log.clone();
    // Queued right after the task's first poll: an inline callback would come first.
    lp.add_callback(move || l3.borrow_mut().push("next callback".to_string()));
    lp.run_sync(sleep(ms(5)));
    assert_eq!(
        *log.borrow(),
        vec!["future done", "next callback", "callback 5"]
    );
}

#[test]
fn l16_loop_time_is_monotonic() {
    let lp = IoLoop::new();
    let a = lp.time();
    let b = lp.time();
    assert!(b >= a);
}

#[test]
fn timeout_combinator() {
    let lp = IoLoop::new();
    lp.run_sync(async {
        assert_eq!(timeout(ms(500), async { 4 }).await, Ok(4));
        let e = timeout(ms(5), sleep(Duration::from_secs(60)))
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), "Timeout");
        let at = Instant::now() + ms(5);
        assert!(
            ioloop::timeout_at(at, sleep(Duration::from_secs(60)))
                .await
                .is_err()
        );
        assert!(Instant::now() >= at);
    });
}

#[test]
fn sleep_lasts_at_least_its_duration() {
    let lp = IoLoop::new();
    let start = Instant::now();
    lp.run_sync(sleep(ms(15)));
    let e = start.elapsed();
    assert!(e >= ms(15), "{e:?}");
    assert!(e < Duration::from_secs(5), "{e:?}");
}
