//! Entry points for fuzzers: each drives a parser over arbitrary bytes and must never panic.
//!
//! The `fuzz/` crate's cargo-fuzz targets call these, and `cargo test` replays the committed
//! corpus through them, so the targets and the replay cannot drift apart. Each function runs
//! its input whole and also split in two at a point derived from the data, so that the
//! buffering paths are exercised too.

use super::chunked::{ChunkedDecoder, ChunkedEvent, ChunkedLimits};
#[cfg(feature = "gzip")]
use super::decode::{Coding, ContentDecoder, MAX_OUT_PER_CALL};
use super::response::{Event, Limits, Phase, ResponseParser};
use super::url::Url;

/// A split point derived from the data (so a fuzzer controls it).
fn split_point(data: &[u8]) -> usize {
    match data.first() {
        Some(&b) if !data.is_empty() => (b as usize * 7919) % (data.len() + 1),
        _ => 0,
    }
}

fn pieces(data: &[u8]) -> [&[u8]; 2] {
    let at = split_point(data).min(data.len());
    let (a, b) = data.split_at(at);
    [a, b]
}

fn drive_response(method: &str, limits: &Limits, parts: &[&[u8]]) {
    let mut p = ResponseParser::new(method, limits.clone());
    // A twin fed the same bytes through the phase API must say exactly the same.
    let mut twin = ResponseParser::new(method, limits.clone());
    let mut total = 0u64;
    // Bodies are also decoded when the library can (feature `gzip`).
    #[cfg(feature = "gzip")]
    let mut decoder: Option<ContentDecoder> = None;
    #[cfg(feature = "gzip")]
    let mut decoded = Vec::new();
    for part in parts {
        let mut rest: &[u8] = part;
        loop {
            let step = p.parse(rest);
            let by_phase = match twin.phase() {
                Phase::Head => twin
                    .parse_head(rest)
                    .map(|(n, ev)| (n, ev.map(Event::from))),
                Phase::Body | Phase::Done => twin
                    .parse_body(rest)
                    .map(|(n, ev)| (n, ev.map(Event::from))),
            };
            assert_eq!(step, by_phase, "parse and the phase API differ");
            match step {
                Err(_) => return,
                Ok((n, ev)) => {
                    assert!(n <= rest.len(), "consumed more than given");
                    rest = rest.get(n..).unwrap_or_default();
                    match &ev {
                        #[cfg(feature = "gzip")]
                        Some(Event::Head(h)) => {
                            let coding = Coding::from_headers(&h.headers);
                            decoder = Some(ContentDecoder::new(coding, Some(1 << 16)));
                        }
                        Some(Event::Data(d)) => {
                            total += d.len() as u64;
                            #[cfg(feature = "gzip")]
                            if let Some(dec) = decoder.as_mut() {
                                let mut body: &[u8] = d;
                                while !body.is_empty() {
                                    let Ok(k) = dec.decode(body, &mut decoded) else {
                                        decoder = None;
                                        break;
                                    };
                                    body = body.get(k..).unwrap_or_default();
                                    decoded.clear();
                                }
                            }
                        }
                        #[cfg(feature = "gzip")]
                        Some(Event::End { .. }) => {
                            if let Some(dec) = decoder.as_mut() {
                                let _ = dec.finish(&mut decoded);
                            }
                        }
                        _ => {}
                    }
                    if ev.is_none() && n == 0 {
                        break;
                    }
                }
            }
        }
    }
    assert_eq!(total, p.body_bytes());
    assert_eq!(p.eof().map(|_| ()), twin.finish_at_eof());
}

/// The response parser (head, framing, chunked, trailers, eof) over arbitrary bytes, for a
/// GET and for a HEAD request, with default and with small limits.
pub fn fuzz_response(data: &[u8]) {
    let small = Limits {
        max_head_bytes: 512,
        max_headers: 8,
        max_body: Some(64),
        max_interim: 2,
        max_chunk_line: 16,
    };
    for method in ["GET", "HEAD", "CONNECT"] {
        drive_response(method, &Limits::default(), &[data]);
        drive_response(method, &small, &pieces(data));
    }
}

/// The chunked decoder alone over arbitrary bytes.
pub fn fuzz_chunked(data: &[u8]) {
    for parts in [[data, &[][..]], pieces(data)] {
        let mut d = ChunkedDecoder::new(ChunkedLimits {
            max_line: 64,
            max_trailer_bytes: 256,
            max_trailer_fields: 8,
            max_body: Some(1 << 20),
        });
        let mut total = 0u64;
        'outer: for part in parts {
            let mut rest = part;
            loop {
                match d.decode(rest) {
                    Err(_) => break 'outer,
                    Ok((n, ev)) => {
                        assert!(n <= rest.len());
                        rest = rest.get(n..).unwrap_or_default();
                        if let Some(ChunkedEvent::Data(b)) = &ev {
                            total += b.len() as u64;
                        }
                        if ev.is_none() && n == 0 {
                            break;
                        }
                    }
                }
            }
        }
        assert_eq!(total, d.body_bytes());
    }
}

/// The URL parser, Display round trip, and reference resolution over arbitrary input.
pub fn fuzz_url(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let [a, b] = pieces(data);
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    for candidate in [&*s, &*a] {
        if let Ok(u) = Url::parse(candidate) {
            let again = Url::parse(&u.to_string()).expect("Display output must parse");
            assert_eq!(again, u, "Display must round-trip");
            let _ = (
                u.path_and_query(),
                u.host_header(),
                u.username(),
                u.password(),
            );
            let _ = (u.absolute_form(), u.authority_form(), u.port());
            if let Ok(j) = u.join(&b) {
                assert_eq!(Url::parse(&j.to_string()).as_ref(), Ok(&j));
            }
        }
    }
    if let Ok(base) = Url::parse("http://user:pw@example.com:8080/a/b/c?q")
        && let Ok(j) = base.join(&s)
    {
        assert_eq!(Url::parse(&j.to_string()).as_ref(), Ok(&j));
    }
}

/// Drives a content decoder over `parts`, as the client would, and checks its bounds.
/// Returns the decoded length and CRC-32 (the output itself is dropped as it comes, so memory
/// stays flat whatever the input inflates to), or `None` if the decoder refused the input.
#[cfg(feature = "gzip")]
fn drive_decoder(coding: Coding, max: Option<u64>, parts: &[&[u8]]) -> Option<(u64, u32)> {
    let mut d = ContentDecoder::new(coding, max);
    let mut out = Vec::new();
    let mut crc = flate2::Crc::new();
    let mut len = 0u64;
    for part in parts {
        let mut rest: &[u8] = part;
        while !rest.is_empty() {
            out.clear();
            let n = d.decode(rest, &mut out).ok()?;
            assert!(n <= rest.len(), "consumed more than given");
            assert!(out.len() <= MAX_OUT_PER_CALL, "unbounded output");
            crc.update(&out);
            len += out.len() as u64;
            rest = rest.get(n..).unwrap_or_default();
        }
    }
    out.clear();
    d.finish(&mut out).ok()?;
    crc.update(&out);
    len += out.len() as u64;
    assert_eq!(len, d.decoded_bytes());
    if let Some(max) = max {
        assert!(len <= max);
    }
    Some((len, crc.sum()))
}

/// gzip and deflate decoding over arbitrary bytes, whole and split, with and without a
/// size limit: splitting never changes the verdict or the output. Also checks that
/// gzip-compressing the data and decoding it gives it back.
///
/// Feature `gzip`.
#[cfg(feature = "gzip")]
pub fn fuzz_gzip(data: &[u8]) {
    for coding in [Coding::Gzip, Coding::Deflate] {
        let whole = drive_decoder(coding, None, &[data]);
        let split = drive_decoder(coding, None, &pieces(data));
        assert_eq!(whole, split, "splitting the input changed the result");
        let limited = drive_decoder(coding, Some(1024), &pieces(data));
        if let Some((len, _)) = whole {
            assert_eq!(
                limited.is_some(),
                len <= 1024,
                "the limit is applied exactly"
            );
        }
    }
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    if std::io::Write::write_all(&mut z, data).is_ok()
        && let Ok(z) = z.finish()
    {
        let back = drive_decoder(Coding::Gzip, None, &pieces(&z));
        let mut crc = flate2::Crc::new();
        crc.update(data);
        assert_eq!(
            back,
            Some((data.len() as u64, crc.sum())),
            "gzip round trip failed"
        );
    }
}
