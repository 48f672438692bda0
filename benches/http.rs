//! Benchmarks for the `http` layer (being built).
fn main() {}
