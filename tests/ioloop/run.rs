//! Running a loop (L-01..L-06, L-14, L-18): `run_sync` and its output, errors, panics and
//! timeout, stopping, the current loop, nested runs, and closing loops. Time-based tests assert
//! order and generous bounds only.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use squall::ioloop::{IoLoop, RunError, sleep};

use crate::ms;

#[test]
fn l01_run_sync_returns_the_future_output() {
    let lp = IoLoop::new();
    assert_eq!(lp.run_sync(async { 6 * 7 }), 42);
    // With an await that really suspends.
    let v = lp.run_sync(async {
        sleep(ms(1)).await;
        "done"
    });
    assert_eq!(v, "done");
    assert!(!lp.is_running());
}

#[test]
fn l02_run_sync_returns_errors_and_leaves_loop_stopped() {
    let lp = IoLoop::new();
    let r: Result<(), String> = lp.run_sync(async {
        sleep(ms(1)).await;
        Err("boom".to_string())
    });
    assert_eq!(r, Err("boom".to_string()));
    assert!(!lp.is_running());
    // Runs again fine.
    assert_eq!(lp.run_sync(async { 1 }), 1);
}

#[test]
fn l02_panic_in_run_sync_future_reaches_caller_and_loop_is_reusable() {
    let lp = IoLoop::new();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        lp.run_sync(async {
            sleep(ms(1)).await;
            panic!("main future failed");
        })
    }));
    let err = r.expect_err("the panic must propagate");
    let msg = err.downcast_ref::<&str>().copied().unwrap_or("");
    assert_eq!(msg, "main future failed");
    assert!(!lp.is_running());
    assert!(IoLoop::running().is_none());
    assert_eq!(lp.run_sync(async { 5 }), 5);
}

#[test]
fn l04_run_sync_timeout_message_and_future_dropped() {
    struct DropFlag(Rc<Cell<bool>>);
    impl Drop for DropFlag {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let lp = IoLoop::new();
    let dropped = Rc::new(Cell::new(false));
    let flag = DropFlag(dropped.clone());
    let start = Instant::now();
    let r = lp.run_sync_timeout(
        async move {
            let _f = flag;
            sleep(Duration::from_secs(30)).await;
        },
        Duration::from_millis(10),
    );
    let e = r.expect_err("must time out");
    assert_eq!(e.to_string(), "Operation timed out after 0.01 seconds");
    assert!(dropped.get(), "the timed-out future is dropped");
    assert!(start.elapsed() < Duration::from_secs(10));
    // Whole seconds print without a fraction, as Tornado prints the number given.
    let r = lp.run_sync_timeout(sleep(Duration::from_secs(60)), Duration::from_secs(1));
    assert_eq!(
        r.unwrap_err().to_string(),
        "Operation timed out after 1 seconds"
    );
    // A future that finishes in time is returned.
    assert_eq!(
        lp.run_sync_timeout(async { 3 }, Duration::from_secs(5)),
        Ok(3)
    );
}

#[test]
fn l05_stop_before_future_completes() {
    let lp = IoLoop::new();
    let lp2 = lp.clone();
    lp.add_callback(move || lp2.stop());
    let r = lp.try_run_sync(sleep(Duration::from_secs(30)));
    assert_eq!(r, Err(RunError::Stopped));
    assert_eq!(
        RunError::Stopped.to_string(),
        "Event loop stopped before Future completed."
    );
    // run_sync panics with that message.
    let lp2 = lp.clone();
    lp.add_callback(move || lp2.stop());
    let p = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        lp.run_sync(sleep(Duration::from_secs(30)))
    }))
    .expect_err("run_sync panics");
    let msg = p.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        msg.contains("Event loop stopped before Future completed."),
        "{msg}"
    );
    // The loop is usable afterwards.
    assert_eq!(lp.run_sync(async { 9 }), 9);
}

#[test]
fn l06_current_is_the_running_loop_only_while_it_runs() {
    let lp = IoLoop::new();
    assert_ne!(
        IoLoop::current(),
        lp,
        "a new loop is not current before it runs"
    );
    assert!(IoLoop::running().is_none());
    for _ in 0..2 {
        let inside = lp.run_sync(async { IoLoop::current() });
        assert_eq!(inside, lp);
        assert_ne!(IoLoop::current(), lp);
    }
    // Outside any run, current() is this thread's own loop, stable across calls.
    assert_eq!(IoLoop::current(), IoLoop::current());
    let other = std::thread::spawn(|| IoLoop::current().run_sync(async { 1 }));
    assert_eq!(other.join().unwrap(), 1);
}

#[test]
fn l14_nested_run_sync_is_a_clean_error() {
    let lp = IoLoop::new();
    let inner = lp.clone();
    let r = lp.run_sync(async move {
        let same = inner.try_run_sync(async { 1 });
        let other = IoLoop::new().try_run_sync(async { 2 });
        (same, other)
    });
    assert_eq!(r.0, Err(RunError::AlreadyRunning));
    assert_eq!(r.1, Err(RunError::AlreadyRunning));
    // And run_sync itself panics with a message rather than deadlocking.
    let lp2 = lp.clone();
    let r = lp.run_sync(async move {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| lp2.run_sync(async {}))).is_err()
    });
    assert!(r);
    // start() while running is an error as well.
    let lp3 = lp.clone();
    assert_eq!(
        lp.run_sync(async move { lp3.try_start() }),
        Err(RunError::AlreadyRunning)
    );
}

#[test]
fn start_and_stop_from_callback_and_from_other_thread() {
    let lp = IoLoop::new();
    let lp2 = lp.clone();
    lp.call_later(ms(2), move || lp2.stop());
    lp.start();
    assert!(!lp.is_running());
    let handle = lp.handle();
    let t = std::thread::spawn(move || {
        std::thread::sleep(ms(20));
        handle.stop();
    });
    lp.start();
    t.join().unwrap();
}

#[test]
fn l18_close_drops_tasks_and_loops_on_threads_are_independent() {
    let lp = IoLoop::new();
    let h = lp.spawn(sleep(Duration::from_secs(60)));
    lp.call_later(Duration::from_secs(60), || {});
    lp.close();
    assert_eq!(lp.stats().tasks, 0);
    assert_eq!(lp.stats().timers, 0);
    assert!(h.is_finished());
    // Closing twice is fine.
    lp.close();
    // A spawn on a closed loop is cancelled at once.
    let h2 = lp.spawn(async { 1 });
    assert!(h2.is_finished());

    let threads: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                let lp = IoLoop::new();
                let v = lp.run_sync(async move {
                    sleep(ms(5)).await;
                    i * 10
                });
                lp.close();
                v
            })
        })
        .collect();
    let got: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(got, vec![0, 10, 20, 30]);
}

#[test]
fn close_while_running_happens_when_the_run_ends() {
    let lp = IoLoop::new();
    let lp2 = lp.clone();
    let r = lp.try_run_sync(async move {
        lp2.close();
        sleep(Duration::from_secs(60)).await;
    });
    assert_eq!(r, Err(RunError::Stopped));
    assert!(lp.is_closed());
}

#[test]
fn l03_unit_and_value_outputs_are_both_fine() {
    // Tornado rejects a plain non-future return value at run time (BadYieldError); in Rust
    // run_sync takes a Future, so the type system rules that case out. Unit and values work.
    let lp = IoLoop::new();
    lp.run_sync(async {});
    assert_eq!(lp.run_sync(async { vec![1, 2] }), vec![1, 2]);
}

#[test]
fn current_replaces_a_closed_thread_loop() {
    std::thread::spawn(|| {
        let first = IoLoop::current();
        assert_eq!(first.run_sync(async { 1 }), 1);
        first.close();
        let second = IoLoop::current();
        assert_ne!(first, second);
        assert_eq!(second.run_sync(async { 2 }), 2);
        assert_eq!(IoLoop::current(), second);
    })
    .join()
    .unwrap();
}
