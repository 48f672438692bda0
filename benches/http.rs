//! Benchmarks for the sans-IO HTTP core (`cargo bench --bench http`).
//!
//! - `head/squall` vs `head/httparse`: a typical 12-field response head through the whole
//!   parser (httparse, field copy into `HttpHeaders`, framing decision) and through httparse
//!   alone. The goal is a ratio within 1.2. Measured 2026-11-25 (same run, shared machine):
//!   squall 820 ns / httparse 230 ns (3.6x) before the head scan went word-at-a-time, 530 ns /
//!   229 ns (2.3x) after, ~508 ns / 233 ns (2.2x) with the lane counts. What is left (perf): the framing pass and copy in
//!   `parse_head_bytes` (~1x httparse, a third of it zeroing 32 scratch fields, as httparse's
//!   own bench does too), three allocations and frees (block, line index, reason), `from_utf8`,
//!   the Content-Length parse. The release profile is `opt-level = "s"`: no auto-vectorising,
//!   no `popcnt`, so byte loops over the head must be written a word at a time.
//! - `chunked/1MiB-in-16KiB-chunks`: the chunked decoder hands out slices, so this should run
//!   at memory speed.
//! - `request/8-headers`: serialising a request head.
//! - `gzip/1MiB`: inflating a 1 MiB body through the bounded streaming decoder.
//!
//! Runs are kept short (the machine is shared); pass `--measurement-time` for longer ones.

use std::hint::black_box;
use std::io::Write;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use squall::http::chunked::{ChunkedDecoder, ChunkedEvent, ChunkedLimits};
use squall::http::decode::{Coding, ContentDecoder};
use squall::http::headers::HttpHeaders;
use squall::http::request::{BodyFraming, ChunkEncoder, write_head};
use squall::http::response::{Event, Limits, ResponseParser};

const HEAD: &[u8] = b"HTTP/1.1 200 OK\r\n\
Date: Wed, 25 Nov 2026 09:00:00 GMT\r\n\
Server: nginx/1.25.3\r\n\
Content-Type: text/html; charset=utf-8\r\n\
Content-Length: 12345\r\n\
Connection: keep-alive\r\n\
Cache-Control: max-age=0, private, must-revalidate\r\n\
ETag: W/\"5e1f-6a7b8c9d0e1f\"\r\n\
Last-Modified: Tue, 24 Nov 2026 18:43:20 GMT\r\n\
Vary: Accept-Encoding\r\n\
X-Request-Id: 4f9c2d7e-1b3a-4c5d-8e6f-0a1b2c3d4e5f\r\n\
Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n\
Set-Cookie: session=abc123; Path=/; HttpOnly; Secure\r\n\
\r\n";

fn head(c: &mut Criterion) {
    let mut g = c.benchmark_group("head");
    g.throughput(Throughput::Bytes(HEAD.len() as u64));
    g.bench_function("squall", |b| {
        b.iter(|| {
            let mut p = ResponseParser::new("GET", Limits::default());
            match p.parse(black_box(HEAD)) {
                Ok((n, Some(Event::Head(h)))) => {
                    black_box((n, h));
                }
                other => panic!("{other:?}"),
            }
        })
    });
    g.bench_function("httparse", |b| {
        b.iter(|| {
            let mut fields = [httparse::EMPTY_HEADER; 32];
            let mut r = httparse::Response::new(&mut fields);
            let n = r.parse(black_box(HEAD)).unwrap();
            black_box((n, r.code, r.headers.len()));
        })
    });
    g.finish();
}

fn chunked(c: &mut Criterion) {
    let body: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
    let mut wire = Vec::new();
    let mut enc = ChunkEncoder::new();
    for piece in body.chunks(16 * 1024) {
        enc.encode(piece, &mut wire);
    }
    enc.finish(&mut wire);
    let mut g = c.benchmark_group("chunked");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("1MiB-in-16KiB-chunks", |b| {
        b.iter(|| {
            let mut d = ChunkedDecoder::new(ChunkedLimits::default());
            let mut rest = black_box(&wire[..]);
            let mut total = 0usize;
            loop {
                let (n, ev) = d.decode(rest).unwrap();
                rest = &rest[n..];
                match ev {
                    Some(ChunkedEvent::Data(data)) => total += black_box(data).len(),
                    Some(ChunkedEvent::End) => break,
                    _ => {}
                }
            }
            assert_eq!(total, 1 << 20);
        })
    });
    let mut response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    response.extend_from_slice(&wire);
    g.bench_function("1MiB-in-16KiB-chunks-via-response-parser", |b| {
        b.iter(|| {
            let mut p = ResponseParser::new("GET", Limits::default());
            let mut rest = black_box(&response[..]);
            let mut total = 0usize;
            loop {
                let (n, ev) = p.parse(rest).unwrap();
                rest = &rest[n..];
                match ev {
                    Some(Event::Data(data)) => total += black_box(data).len(),
                    Some(Event::End { .. }) => break,
                    _ => {}
                }
            }
            assert_eq!(total, 1 << 20);
        })
    });
    g.finish();
}

fn request(c: &mut Criterion) {
    let mut h = HttpHeaders::new();
    h.add("User-Agent", "squall/0.1.0");
    h.add("Accept", "*/*");
    h.add("Accept-Encoding", "gzip");
    h.add("Accept-Language", "en-GB,en;q=0.9");
    h.add("Authorization", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    h.add("Cookie", "session=abc123; theme=dark");
    h.add("Content-Type", "application/json");
    h.add("X-Request-Id", "4f9c2d7e-1b3a-4c5d-8e6f-0a1b2c3d4e5f");
    let mut out = Vec::with_capacity(1024);
    c.bench_function("request/8-headers", |b| {
        b.iter(|| {
            out.clear();
            write_head(
                "POST",
                black_box("/api/v1/items?page=2"),
                "example.com:8080",
                &h,
                BodyFraming::Length(512),
                &mut out,
            )
            .unwrap();
            black_box(out.len());
        })
    });
}

fn gzip(c: &mut Criterion) {
    // Text-like data: a few repeated words with varying numbers, about 5:1 compressible.
    let mut body = Vec::with_capacity(1 << 20);
    let mut i = 0u64;
    while body.len() < 1 << 20 {
        write!(
            body,
            "line {i} of the body, value={} ",
            i.wrapping_mul(2654435761) % 100_000
        )
        .unwrap();
        i += 1;
    }
    body.truncate(1 << 20);
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&body).unwrap();
    let z = e.finish().unwrap();
    let mut g = c.benchmark_group("gzip");
    g.throughput(Throughput::Bytes(body.len() as u64));
    let mut out = Vec::with_capacity(128 * 1024);
    g.bench_function("1MiB", |b| {
        b.iter(|| {
            let mut d = ContentDecoder::new(Coding::Gzip, None);
            let mut rest = black_box(&z[..]);
            let mut total = 0usize;
            while !rest.is_empty() {
                out.clear();
                let n = d.decode(rest, &mut out).unwrap();
                total += out.len();
                rest = &rest[n..];
            }
            out.clear();
            d.finish(&mut out).unwrap();
            total += out.len();
            assert_eq!(total, 1 << 20);
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = head, chunked, request, gzip
}
criterion_main!(benches);
