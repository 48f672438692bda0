//! The `squall` command-line tool (being built).
fn main() {}
