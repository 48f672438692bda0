//! The event loop end to end, one test binary for the layer (fewer binaries link faster):
//! scheduling (run_sync, callbacks, timers, tasks, cross-thread wakes), sockets on the loop,
//! `PeriodicCallback` and the loop trace. Open descriptors are counted apart, in
//! `tests/fds_ioloop.rs`: a process-wide figure needs a binary of its own.

mod net;
mod periodic;
mod scheduling;
mod trace;
