//! Replays the raw-response corpus in `tests/data/` through the response parser and the
//! content decoder, as the client drives them: each file fed whole, one byte at a time, and
//! split in two at every position (all positions for small files, a spread for big ones),
//! then `eof()` as a peer closing. Each way must give the outcome the file name states.
//!
//! Names: `<expect>.[<METHOD>.]<case>.http`; `<expect>` is `keep-alive` / `close` (complete,
//! with that reuse decision) or an error kind; `<case>.body` holds the expected decoded body.
//! `tests/data/make_corpus.py` wrote the files and says which behaviour item each covers.

use std::path::{Path, PathBuf};

use squall::http::decode::{Coding, ContentDecoder};
use squall::http::response::{Event, Limits, ProtoErrorKind, ResponseParser};

const MAX_BODY: u64 = 64 * 1024;

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Complete { keep_alive: bool, body: Vec<u8> },
    Proto(ProtoErrorKind),
    Decode { too_large: bool },
}

fn replay(method: &str, parts: &[&[u8]]) -> Outcome {
    let limits = Limits {
        max_body: Some(MAX_BODY),
        ..Limits::default()
    };
    let mut p = ResponseParser::new(method, limits);
    let mut decoder: Option<ContentDecoder> = None;
    let mut body = Vec::new();
    let feed = |dec: &mut Option<ContentDecoder>, mut data: &[u8], body: &mut Vec<u8>| {
        let d = dec.as_mut().expect("data before head");
        while !data.is_empty() {
            let n = d.decode(data, body)?;
            data = &data[n..];
        }
        Ok::<(), squall::http::decode::DecodeError>(())
    };
    let mut end = None;
    'feed: for part in parts {
        let mut rest: &[u8] = part;
        loop {
            let (n, ev) = match p.parse(rest) {
                Ok(r) => r,
                Err(e) => return Outcome::Proto(e.kind),
            };
            assert!(n <= rest.len());
            rest = &rest[n..];
            match ev {
                Some(Event::Head(h)) => {
                    let coding = Coding::from_headers(&h.headers);
                    decoder = Some(ContentDecoder::new(coding, Some(MAX_BODY)));
                }
                Some(Event::Data(d)) => {
                    if let Err(e) = feed(&mut decoder, d, &mut body) {
                        return Outcome::Decode {
                            too_large: e.is_too_large(),
                        };
                    }
                }
                Some(Event::End { keep_alive }) => {
                    end = Some(keep_alive);
                    assert!(rest.is_empty(), "bytes left after the end: {rest:?}");
                    break 'feed;
                }
                Some(Event::Interim(_)) | Some(Event::Trailers(_)) => {}
                None if n == 0 => break,
                None => {}
            }
        }
    }
    if end.is_none() {
        match p.parse(b"") {
            Ok((_, Some(Event::End { keep_alive }))) => end = Some(keep_alive),
            Ok(_) => {}
            Err(e) => return Outcome::Proto(e.kind),
        }
    }
    let keep_alive = match end {
        Some(k) => k,
        None => match p.eof() {
            Ok(Event::End { keep_alive }) => keep_alive,
            Ok(other) => panic!("eof gave {other:?}"),
            Err(e) => return Outcome::Proto(e.kind),
        },
    };
    if let Some(d) = decoder.as_mut()
        && let Err(e) = d.finish(&mut body)
    {
        return Outcome::Decode {
            too_large: e.is_too_large(),
        };
    }
    Outcome::Complete { keep_alive, body }
}

fn expected(path: &Path) -> (String, Outcome) {
    let stem = path.file_stem().unwrap().to_str().unwrap();
    let mut parts = stem.split('.');
    let expect = parts.next().unwrap();
    let second = parts.next().unwrap_or("");
    let method = if !second.is_empty() && second.bytes().all(|b| b.is_ascii_uppercase()) {
        second.to_string()
    } else {
        "GET".to_string()
    };
    let body = || std::fs::read(path.with_extension("body")).unwrap_or_default();
    let outcome = match expect {
        "keep-alive" => Outcome::Complete {
            keep_alive: true,
            body: body(),
        },
        "close" => Outcome::Complete {
            keep_alive: false,
            body: body(),
        },
        "malformed" => Outcome::Proto(ProtoErrorKind::Malformed),
        "head-too-large" => Outcome::Proto(ProtoErrorKind::HeadTooLarge),
        "too-many-headers" => Outcome::Proto(ProtoErrorKind::TooManyHeaders),
        "too-many-interim" => Outcome::Proto(ProtoErrorKind::TooManyInterim),
        "incomplete" => Outcome::Proto(ProtoErrorKind::Incomplete),
        "incomplete-head" => Outcome::Proto(ProtoErrorKind::IncompleteHead),
        "no-response" => Outcome::Proto(ProtoErrorKind::NoResponse),
        // Over the limit on the wire, or (a gzip bomb) after decoding.
        "body-too-large" if stem.contains("gzip") => Outcome::Decode { too_large: true },
        "body-too-large" => Outcome::Proto(ProtoErrorKind::BodyTooLarge),
        "decode-error" => Outcome::Decode { too_large: false },
        other => panic!("{}: unknown expectation {other:?}", path.display()),
    };
    (method, outcome)
}

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "http"))
        .collect();
    files.sort();
    files
}

#[test]
fn corpus_outcomes_match_file_names() {
    let files = corpus();
    assert!(files.len() >= 80, "corpus has only {} files", files.len());
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let data = std::fs::read(&path).unwrap();
        let (method, want) = expected(&path);
        let whole = replay(&method, &[&data]);
        assert_eq!(whole, want, "{name} (whole)");
        let bytes: Vec<&[u8]> = data.chunks(1).collect();
        assert_eq!(replay(&method, &bytes), want, "{name} (one byte at a time)");
        let step = if data.len() <= 4096 {
            1
        } else {
            data.len() / 97
        };
        for at in (0..=data.len()).step_by(step) {
            let (a, b) = data.split_at(at);
            assert_eq!(replay(&method, &[a, b]), want, "{name} (split at {at})");
        }
    }
}

#[test]
fn every_expectation_is_represented() {
    let names: Vec<String> = corpus()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for kind in [
        "keep-alive.",
        "close.",
        "malformed.",
        "head-too-large.",
        "too-many-headers.",
        "too-many-interim.",
        "body-too-large.",
        "incomplete.",
        "incomplete-head.",
        "no-response.",
        "decode-error.",
    ] {
        assert!(names.iter().any(|n| n.starts_with(kind)), "no {kind} case");
    }
}
