//! Fuzz target `gzip`: Content-Encoding decoding (gzip members, deflate) with its size limit.
//! The work is in `squall::http::fuzzing::fuzz_gzip`, which `tests/http/fuzz_corpus.rs` also calls
//! on every committed input; it must never panic, hang or allocate without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    squall::http::fuzzing::fuzz_gzip(data);
});
