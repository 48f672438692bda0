//! Benchmarks for the `ioloop` layer (being built).
fn main() {}
