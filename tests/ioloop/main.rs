//! The event loop end to end, one test binary for the layer (fewer binaries link faster):
//! running a loop, callbacks and timers, tasks and cross-thread wakes, sockets on the loop,
//! `PeriodicCallback` and the loop trace. Open descriptors are counted apart, in
//! `tests/fds_ioloop.rs`: a process-wide figure needs a binary of its own.

use std::time::Duration;

mod callbacks_and_timers;
mod net;
mod periodic;
mod run;
mod tasks;
mod trace;

/// `n` milliseconds.
fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}
