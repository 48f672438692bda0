//! Fuzz target `response`: the response parser (heads, framing, chunked/CL/close bodies, trailers, 1xx) together with the body decoder.
//! The work is in `squall::http::fuzzing::fuzz_response`, which `tests/http/fuzz_corpus.rs` also calls
//! on every committed input; it must never panic, hang or allocate without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    squall::http::fuzzing::fuzz_response(data);
});
