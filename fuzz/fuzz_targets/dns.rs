//! Fuzz target `dns`: the DNS message parser of the stub resolver (names with compression,
//! counts, record data) plus a build/parse round trip. The work is in
//! `squall::net::dns::message::fuzz_dns`, which `tests/http/fuzz_corpus.rs` also calls on every
//! committed input; it must never panic, hang or allocate without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    squall::net::dns::message::fuzz_dns(data);
});
