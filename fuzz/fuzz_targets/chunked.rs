//! Fuzz target `chunked`: the chunked transfer-coding decoder on its own.
//! The work is in `squall::http::fuzzing::fuzz_chunked`, which `tests/http/fuzz_corpus.rs` also calls
//! on every committed input; it must never panic, hang or allocate without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    squall::http::fuzzing::fuzz_chunked(data);
});
