//! The sans-IO protocol core without sockets, one test binary: the raw-response corpus
//! replayed every way it can be split, property tests, the fuzzers' corpora, and
//! `squall::escape`.

#[cfg(feature = "gzip")]
mod corpus;
mod escape;
mod fuzz_corpus;
mod props;
