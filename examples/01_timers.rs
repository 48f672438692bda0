//! Rung 1: timers on squall's loop. `call_later` callbacks scheduled out of order fire in
//! deadline order; callbacks with the *same* deadline fire in the order they were added (the
//! heap is ordered by `(deadline, sequence number)`, see `src/ioloop/timer.rs`); `sleep` is a
//! timer that wakes a task instead of calling a callback; a cancelled timer never fires.
//!
//! Run it: `cargo run --example 01_timers`.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use squall::IoLoop;
use squall::ioloop::sleep;

fn main() {
    let io_loop = IoLoop::new();
    let fired = Rc::new(RefCell::new(Vec::new()));
    let t0 = Instant::now();
    io_loop.run_sync(async {
        let lp = IoLoop::current();
        // Out of order: 30 ms, 10 ms, 20 ms.
        for ms in [30, 10, 20] {
            let fired = fired.clone();
            lp.call_later(Duration::from_millis(ms), move || {
                println!("{ms:>3} ms timer fired after {:?}", t0.elapsed());
                fired.borrow_mut().push(format!("{ms} ms"));
            });
        }
        // Three timers with one deadline: FIFO, so the output is a, b, c every time.
        let at = lp.time() + Duration::from_millis(15);
        for name in ["a", "b", "c"] {
            let fired = fired.clone();
            lp.call_at(at, move || {
                println!("  equal deadline: {name}");
                fired.borrow_mut().push(name.to_string());
            });
        }
        // A timer removed before it is due never runs.
        let cancelled = lp.call_later(Duration::from_millis(5), || println!("never printed"));
        lp.remove_timeout(cancelled);
        // `sleep` suspends this task; the loop keeps firing the callbacks meanwhile.
        sleep(Duration::from_millis(40)).await;
        println!("slept 40 ms; loop holds {:?}", lp.stats());
    });
    let order = fired.borrow().join(", ");
    println!("order: {order}");
    assert_eq!(order, "10 ms, a, b, c, 20 ms, 30 ms");
}

// Try this: give "a", "b", "c" the deadlines `at` + 3, 2 and 1 ms instead of one deadline
// (and fix the assert): they now fire c, b, a, because the deadline decides first and the
// sequence number only breaks ties. And set `SQUALL_TRACE=1` to
// watch each turn's poll block "(timer)" until the next deadline.
