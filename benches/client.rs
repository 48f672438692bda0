//! Benchmarks for the `client` layer (being built).
fn main() {}
