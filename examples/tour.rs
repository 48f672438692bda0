//! The tour (being built).
fn main() {}
