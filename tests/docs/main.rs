//! The documentation stays true, one test binary: the behaviour IDs and options the docs
//! cite, the example ladder run as processes, and every example of README.md.

#[path = "../support/mod.rs"]
mod support;

mod examples;
#[cfg(all(feature = "cli", feature = "json"))]
mod readme;
mod references;
