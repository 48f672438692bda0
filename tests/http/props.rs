//! Property tests for the sans-IO HTTP core: however a body is chunked and however the bytes
//! are split on their way in, the parser yields the same body; and no byte sequence makes any
//! parser panic.

use proptest::prelude::*;
use squall::http::chunked::{ChunkedDecoder, ChunkedEvent, ChunkedLimits};
#[cfg(feature = "gzip")]
use squall::http::decode::{Coding, ContentDecoder};
use squall::http::fuzzing;
use squall::http::headers::HttpHeaders;
use squall::http::request::{BodyFraming, ChunkEncoder, write_head};
use squall::http::response::{Event, Limits, ResponseParser};
use squall::http::url::Url;

/// Cuts `data` at the given points (taken modulo its length, sorted).
fn split_at_points<'a>(data: &'a [u8], points: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = points
        .iter()
        .map(|p| {
            if data.is_empty() {
                0
            } else {
                p % (data.len() + 1)
            }
        })
        .collect();
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut last = 0;
    for c in cuts {
        out.push(&data[last..c]);
        last = c;
    }
    out.push(&data[last..]);
    out
}

/// Encodes `body` as chunks of the given sizes (cycled), with the ChunkEncoder.
fn chunk(body: &[u8], sizes: &[usize]) -> Vec<u8> {
    let mut enc = ChunkEncoder::new();
    let mut out = Vec::new();
    let mut rest = body;
    let mut k = 0;
    while !rest.is_empty() {
        let n = sizes[k % sizes.len()].clamp(1, rest.len());
        enc.encode(&rest[..n], &mut out);
        rest = &rest[n..];
        k += 1;
    }
    enc.finish(&mut out);
    out
}

/// Feeds `parts` to a response parser and collects the body, trailers and end.
fn parse_response(parts: &[&[u8]], close: bool) -> Result<(Vec<u8>, bool), String> {
    let mut p = ResponseParser::new("GET", Limits::default());
    let mut body = Vec::new();
    let mut ended = None;
    for part in parts {
        let mut rest = *part;
        loop {
            let (n, ev) = p.parse(rest).map_err(|e| e.to_string())?;
            rest = &rest[n..];
            match ev {
                Some(Event::Data(d)) => body.extend_from_slice(d),
                Some(Event::End { keep_alive }) => ended = Some(keep_alive),
                Some(_) => {}
                None if n == 0 => break,
                None => {}
            }
        }
    }
    if ended.is_none()
        && let (_, Some(Event::End { keep_alive })) = p.parse(b"").map_err(|e| e.to_string())?
    {
        ended = Some(keep_alive);
    }
    if ended.is_none()
        && close
        && let Event::End { keep_alive } = p.eof().map_err(|e| e.to_string())?
    {
        ended = Some(keep_alive);
    }
    ended.map(|k| (body, k)).ok_or_else(|| "no end".to_string())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn chunked_bodies_survive_any_chunking_and_split(
        body in proptest::collection::vec(any::<u8>(), 0..4000),
        sizes in proptest::collection::vec(1usize..700, 1..8),
        points in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        wire.extend(chunk(&body, &sizes));
        let parts = split_at_points(&wire, &points);
        let (got, keep_alive) = parse_response(&parts, false).unwrap();
        prop_assert_eq!(got, body);
        prop_assert!(keep_alive);
    }

    #[test]
    fn chunked_decoder_alone(
        body in proptest::collection::vec(any::<u8>(), 0..3000),
        sizes in proptest::collection::vec(1usize..300, 1..6),
        points in proptest::collection::vec(any::<usize>(), 0..20),
    ) {
        let wire = chunk(&body, &sizes);
        let mut d = ChunkedDecoder::new(ChunkedLimits::default());
        let mut got = Vec::new();
        let mut ended = false;
        for part in split_at_points(&wire, &points) {
            let mut rest = part;
            loop {
                let (n, ev) = d.decode(rest).unwrap();
                rest = &rest[n..];
                match ev {
                    Some(ChunkedEvent::Data(b)) => got.extend_from_slice(b),
                    Some(ChunkedEvent::End) => ended = true,
                    Some(ChunkedEvent::Trailers(_)) => {}
                    None if n == 0 => break,
                    None => {}
                }
            }
        }
        prop_assert!(ended);
        prop_assert_eq!(got, body);
    }

    #[test]
    fn content_length_and_close_bodies(
        body in proptest::collection::vec(any::<u8>(), 0..3000),
        points in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut wire = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
        wire.extend_from_slice(&body);
        let (got, ka) = parse_response(&split_at_points(&wire, &points), false).unwrap();
        prop_assert_eq!(&got, &body);
        prop_assert!(ka);
        let mut wire = b"HTTP/1.0 200 OK\r\n\r\n".to_vec();
        wire.extend_from_slice(&body);
        let (got, ka) = parse_response(&split_at_points(&wire, &points), true).unwrap();
        prop_assert_eq!(&got, &body);
        prop_assert!(!ka);
    }

    #[test]
    #[cfg(feature = "gzip")]
    fn gzip_bodies_survive_any_split(
        body in proptest::collection::vec(any::<u8>(), 0..5000),
        members in 1usize..4,
        points in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut wire = Vec::new();
        let per = body.len() / members + 1;
        for piece in body.chunks(per) {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            std::io::Write::write_all(&mut e, piece).unwrap();
            wire.extend(e.finish().unwrap());
        }
        let mut d = ContentDecoder::new(Coding::Gzip, None);
        let mut out = Vec::new();
        for part in split_at_points(&wire, &points) {
            let mut rest = part;
            while !rest.is_empty() {
                let n = d.decode(rest, &mut out).unwrap();
                rest = &rest[n..];
            }
        }
        d.finish(&mut out).unwrap();
        prop_assert_eq!(out, body);
    }

    #[test]
    fn request_heads_never_smuggle(
        name in "[ -~\t\r\n\u{0}\u{7f}\u{e9}]{0,12}",
        value in "[ -~\t\r\n\u{0}\u{7f}\u{e9}\u{100}]{0,20}",
    ) {
        let mut h = HttpHeaders::new();
        h.add(&name, &value);
        let mut out = Vec::new();
        match write_head("GET", "/", "h", &h, BodyFraming::None, &mut out) {
            Err(_) => prop_assert!(out.is_empty()),
            Ok(()) => {
                // Exactly one field besides Host, and it is the one we set.
                let mut fields = [httparse::EMPTY_HEADER; 4];
                let mut req = httparse::Request::new(&mut fields);
                let n = req.parse(&out).unwrap();
                prop_assert_eq!(n, httparse::Status::Complete(out.len()));
                prop_assert_eq!(req.headers.len(), 2);
                prop_assert!(req.headers[1].name.eq_ignore_ascii_case(&name));
            }
        }
    }

    #[test]
    fn urls_round_trip(
        scheme in "(http|https|HTTP)",
        user in proptest::option::of("[a-z0-9%:]{0,6}"),
        host in "([a-z][a-z0-9-]{0,9}(\\.[a-z]{1,5}){0,2}|\\[::1\\]|127\\.0\\.0\\.1)",
        port in proptest::option::of(0u32..70000),
        path in "(/[a-zA-Z0-9._~%!$&'()*+,;=:@-]{0,8}){0,4}",
        query in proptest::option::of("[a-zA-Z0-9=&/?%]{0,10}"),
    ) {
        let mut s = format!("{scheme}://");
        if let Some(u) = &user { s.push_str(u); s.push('@'); }
        s.push_str(&host);
        if let Some(p) = port { s.push_str(&format!(":{p}")); }
        s.push_str(&path);
        if let Some(q) = &query { s.push('?'); s.push_str(q); }
        match Url::parse(&s) {
            Ok(u) => {
                prop_assert!(port.is_none_or(|p| p <= 65535));
                prop_assert_eq!(Url::parse(&u.to_string()).unwrap(), u.clone());
                // Display is the input with the scheme lower-cased and the path's dot
                // segments removed (RFC 3986 §5.2.2).
                let cut = s.len() - path.len() - query.as_ref().map_or(0, |q| q.len() + 1);
                let normal = format!(
                    "{}{}{}",
                    s[..cut].replacen(&scheme, &scheme.to_ascii_lowercase(), 1),
                    squall::http::url::remove_dot_segments(&path),
                    &s[cut + path.len()..]
                );
                prop_assert_eq!(u.to_string(), normal);
                prop_assert!(u.path_and_query().starts_with('/'));
            }
            Err(e) => prop_assert!(port.is_some_and(|p| p > 65535), "{}: {}", s, e),
        }
    }

    #[test]
    #[cfg(feature = "gzip")]
    fn decoder_always_progresses_or_fails(
        body in proptest::collection::vec(any::<u8>(), 0..3000),
        cut in any::<usize>(),
        noise in proptest::collection::vec(any::<u8>(), 0..40),
        deflate in any::<bool>(),
    ) {
        // C-12: a step that neither consumes nor produces is an error, never a spin. Feed
        // valid data, then noise, and check every single call.
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut e, &body).unwrap();
        let mut wire = e.finish().unwrap();
        let coding = if deflate { Coding::Deflate } else { Coding::Gzip };
        if deflate {
            wire = wire[10..wire.len() - 8].to_vec(); // the raw DEFLATE stream
        }
        let cut = cut % (wire.len() + 1);
        wire.truncate(cut);
        wire.extend_from_slice(&noise);
        let mut d = ContentDecoder::new(coding, None);
        let mut out = Vec::new();
        let mut rest = &wire[..];
        while !rest.is_empty() {
            out.clear();
            match d.decode(rest, &mut out) {
                Ok(n) => {
                    prop_assert!(n > 0 || !out.is_empty(), "no progress without an error");
                    rest = &rest[n..];
                }
                Err(_) => break,
            }
        }
    }

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        fuzzing::fuzz_response(&data);
        fuzzing::fuzz_chunked(&data);
        fuzzing::fuzz_url(&data);
        #[cfg(feature = "gzip")]
        fuzzing::fuzz_gzip(&data);
    }

    #[test]
    fn near_valid_responses_never_panic(
        tail in proptest::collection::vec(any::<u8>(), 0..200),
        head in prop::sample::select(vec![
            &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"HTTP/1.0 200 OK\r\nX: a\r\n ",
        ]),
    ) {
        let mut data = head.to_vec();
        data.extend(tail);
        fuzzing::fuzz_response(&data);
    }
}

#[test]
fn fuzz_entry_points_take_the_empty_input() {
    fuzzing::fuzz_response(b"");
    fuzzing::fuzz_chunked(b"");
    fuzzing::fuzz_url(b"");
    #[cfg(feature = "gzip")]
    fuzzing::fuzz_gzip(b"");
}
