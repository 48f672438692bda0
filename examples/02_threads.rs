//! Rung 2: other threads. The loop's state is single-threaded (`Rc`, `RefCell`, no locks),
//! so another thread cannot touch it. It gets a [`LoopHandle`] instead, whose `add_callback`
//! pushes the callback onto one mutex-protected queue and writes the loop's `eventfd` (a
//! `mio::Waker`). A loop asleep in `epoll_wait` wakes at once, drains the queue (step 3 of a
//! turn) and runs the callbacks on its own thread.
//!
//! Run it: `cargo run --example 02_threads` (add `SQUALL_TRACE=1` to see the `waker` events).

use std::thread;
use std::time::{Duration, Instant};

use squall::IoLoop;
use squall::ioloop::{LoopHandle, oneshot};

fn main() {
    let io_loop = IoLoop::new();
    let loop_thread = thread::current().id();
    let total = io_loop.run_sync(async move {
        let handle: LoopHandle = IoLoop::current().handle(); // Send + Sync + Clone
        let (tx, rx) = oneshot::<u64>();
        let t0 = Instant::now();
        let worker = thread::spawn(move || {
            // Blocking work belongs off the loop: here, a sum that takes a while.
            thread::sleep(Duration::from_millis(50));
            let sum: u64 = (1..=1_000_000).sum();
            // Hand the result back: this closure runs on the loop's thread.
            handle.add_callback(move || {
                assert_eq!(thread::current().id(), loop_thread);
                println!("callback on the loop thread after {:?}", t0.elapsed());
                let _ = tx.send(sum);
            });
        });
        // The loop has nothing else to do: it blocks in poll "forever" until the eventfd fires.
        let sum = rx.await.expect("the worker sends a value");
        worker.join().unwrap();
        println!("the worker's sum: {sum}");
        sum
    });
    assert_eq!(total, 500_000_500_000);

    // A closed loop drops what other threads send it, silently (Tornado's L-09).
    let handle = io_loop.handle();
    io_loop.close();
    thread::spawn(move || handle.add_callback(|| unreachable!("the loop is closed")))
        .join()
        .unwrap();
    println!("a callback sent to a closed loop was dropped");
}

// Try this: replace `handle.add_callback(..)` with a plain `tx.send(sum)` from the worker
// thread. It still works: the oneshot's waker is a `Waker`, and a waker used on a foreign
// thread takes the same road (remote queue + eventfd, see `wake_by_ref` in
// `src/ioloop/executor.rs`).
