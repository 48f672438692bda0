//! Unit tests of the chunked decoder: exact bytes in, exact events or errors out, each input
//! fed whole, one byte at a time and split at every position. A file of their own keeps
//! `chunked.rs` to the state machine.

use super::super::testutil::{Outcome, feed_all_ways};
use super::*;

fn run(input: &[u8], limits: ChunkedLimits) -> Outcome {
    feed_all_ways(input, |parts| {
        let mut d = ChunkedDecoder::new(limits.clone());
        let mut out: Vec<String> = Vec::new();
        for part in parts {
            let mut rest: &[u8] = part;
            loop {
                let (n, ev) = d.decode(rest).map_err(|e| e.to_string())?;
                rest = rest.get(n..).unwrap_or_default();
                match ev {
                    Some(ChunkedEvent::Data(b)) => {
                        // Pieces of data are merged: how the input was split decides how
                        // the data is sliced, never what it is.
                        let s = String::from_utf8_lossy(b);
                        match out.last_mut() {
                            Some(last) if last.starts_with("data ") => last.push_str(&s),
                            _ => out.push(format!("data {s}")),
                        }
                    }
                    Some(ChunkedEvent::Trailers(h)) => out.push(format!("trailers {h:?}")),
                    Some(ChunkedEvent::End) => out.push("end".into()),
                    None => {
                        if rest.is_empty() || d.is_done() {
                            break;
                        }
                    }
                }
            }
        }
        Ok(out)
    })
}

fn body(o: &Outcome) -> String {
    let v = o.as_ref().expect("ok");
    v.iter()
        .filter_map(|e| e.strip_prefix("data "))
        .collect::<String>()
}

#[test]
fn simple_body() {
    let o = run(
        b"4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n",
        ChunkedLimits::default(),
    );
    assert_eq!(o, Ok(vec!["data Wikipedia".to_string(), "end".to_string()]));
}

#[test]
fn upper_and_lower_hex_and_leading_zeros() {
    let o = run(
        b"000A\r\n0123456789\r\na\r\nabcdefghij\r\n00\r\n\r\n",
        ChunkedLimits::default(),
    );
    assert_eq!(body(&o), "0123456789abcdefghij");
}

#[test]
fn extensions_skipped() {
    // S-12 [BETTER]: extensions are ignored, including BWS before ';'.
    let o = run(
        b"2;a=b\r\nhi\r\n1 ; x=\"q;uoted\"\r\n!\r\n0;last\r\n\r\n",
        ChunkedLimits::default(),
    );
    assert_eq!(body(&o), "hi!");
}

#[test]
fn extension_grammar() {
    // RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ), value a
    // token or a quoted-string (RFC 9110 §5.6.4, quoted-pair included). Valid ones are
    // ignored; anything else is a malformed chunk line, as a size that is not hex is.
    for ok in [
        &b"1;a\r\nx\r\n0\r\n\r\n"[..],
        b"1;a=b;c\r\nx\r\n0\r\n\r\n",
        b"1 ;\ta = \"q;\\\" \xe9\" ; b\r\nx\r\n0;z=\"\"\r\n\r\n",
        b"1;a=\"x\"\r\nx\r\n0\r\n\r\n",
    ] {
        assert_eq!(
            body(&run(ok, ChunkedLimits::default())),
            "x",
            "{}",
            String::from_utf8_lossy(ok)
        );
    }
    for (bad, at) in [
        (
            &b"1;\r\nx\r\n0\r\n\r\n"[..],
            "byte 2: control character 0x0d",
        ),
        (b"1;=x\r\nx\r\n0\r\n\r\n", "byte 2: unexpected '='"),
        (b"1;a b\r\nx\r\n0\r\n\r\n", "byte 4: unexpected 'b'"),
        (b"1;a=\r\nx\r\n0\r\n\r\n", "byte 4: control character 0x0d"),
        (b"1;a=b c\r\nx\r\n0\r\n\r\n", "byte 6: unexpected 'c'"),
        (
            b"1;a=b \r\nx\r\n0\r\n\r\n",
            "byte 6: control character 0x0d",
        ),
        (
            b"1;a=\"x\ry\"\r\nx\r\n0\r\n\r\n",
            "byte 6: control character 0x0d",
        ),
        (
            b"1;a=\"x\r\nx\r\n0\r\n\r\n",
            "byte 6: control character 0x0d",
        ),
        (b"1;a=\"x\"y\r\nx\r\n0\r\n\r\n", "byte 7: unexpected 'y'"),
        (b"1;a\xe9\r\nx\r\n0\r\n\r\n", "byte 3: unexpected"),
        (
            b"1;a=\x7f\r\nx\r\n0\r\n\r\n",
            "byte 4: control character 0x7f",
        ),
        (b"1;a\nx\r\n0\r\n\r\n", "byte 3: control character 0x0a"),
    ] {
        let e = run(bad, ChunkedLimits::default()).unwrap_err();
        assert!(
            e.starts_with("invalid chunk extension at ") && e.contains(at),
            "{}: {e}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn extension_line_limit() {
    let mut input = b"1;".to_vec();
    input.extend(std::iter::repeat_n(b'x', 5000));
    input.extend_from_slice(b"\r\na\r\n0\r\n\r\n");
    let e = run(&input, ChunkedLimits::default()).unwrap_err();
    assert!(e.contains("chunk size line too long"), "{e}");
}

#[test]
fn trailers() {
    // S-14 [BETTER]: trailers are accepted.
    let o = run(
        b"3\r\nabc\r\n0\r\nExpires: never\r\nX-Sum: 1\r\n\r\n",
        ChunkedLimits::default(),
    )
    .unwrap();
    assert_eq!(
        o,
        [
            "data abc",
            "trailers [(\"Expires\", \"never\"), (\"X-Sum\", \"1\")]",
            "end"
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
    );
}

#[test]
fn trailer_obs_fold_is_unfolded() {
    // RFC 9112 §5.2: a user agent replaces each obs-fold in a response with SP before
    // interpreting the field; trailer fields are field lines (§7.1.2), so the same holds.
    let o = run(
        b"1\r\na\r\n0\r\nX-T: one  \r\n \t two\r\nY: 3\r\n\r\n",
        ChunkedLimits::default(),
    )
    .unwrap();
    assert_eq!(
        o,
        v(&[
            "data a",
            "trailers [(\"X-T\", \"one two\"), (\"Y\", \"3\")]",
            "end"
        ])
    );
    // A first trailer line that starts with whitespace folds onto nothing: refused.
    let e = run(b"0\r\n X: 1\r\n\r\n", ChunkedLimits::default()).unwrap_err();
    assert!(e.contains("chunked trailer"), "{e}");
}

fn v(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| s.to_string()).collect()
}

#[test]
fn errors() {
    let cases: &[(&[u8], &str)] = &[
        // S-11: bare LF after the size
        (b"4\nWiki\r\n0\r\n\r\n", "invalid chunk size at byte 1"),
        (b"\r\n", "invalid chunk size at byte 0"),
        (b"x\r\n", "invalid chunk size at byte 0"),
        (b"-1\r\n", "invalid chunk size at byte 0"),
        (b"+1\r\n", "invalid chunk size at byte 0"),
        (b"0x1\r\n", "invalid chunk size at byte 1"),
        (b"1 \r\nx\r\n0\r\n\r\n", "invalid chunk size at byte 2"),
        (b"1\r\rx", "CR not followed by LF"),
        (
            b"10000000000000000\r\n",
            "invalid chunk size at byte 16: too large",
        ),
        // S-13
        (b"2\r\nabc\r\n", "improperly terminated chunk at byte 5"),
        (
            b"2\r\nab\n0\r\n\r\n",
            "improperly terminated chunk at byte 5",
        ),
        (
            b"2\r\nab\r0\r\n\r\n",
            "improperly terminated chunk at byte 6",
        ),
        (b"0\r\n\n", "bare LF in chunked trailer section at byte 3"),
        (b"0\r\nA: b\n\r\n", "bare LF in chunked trailer section"),
        (
            b"0\r\nA b\r\n\r\n",
            "invalid header name in chunked trailer",
        ),
        (b"1;\x00\r\n", "control character"),
    ];
    for (input, want) in cases {
        let e = run(input, ChunkedLimits::default()).unwrap_err();
        assert!(
            e.contains(want),
            "{:?}: {e} (wanted {want})",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn body_limit() {
    // S-19: a chunked body over the limit fails, checked as soon as the size is known.
    let limits = ChunkedLimits {
        max_body: Some(5),
        ..ChunkedLimits::default()
    };
    assert_eq!(
        body(&run(b"5\r\nhello\r\n0\r\n\r\n", limits.clone())),
        "hello"
    );
    let e = run(b"3\r\nhel\r\n3\r\n", limits).unwrap_err();
    assert!(e.starts_with("chunked body too large"), "{e}");
}

#[test]
fn stops_after_end() {
    let mut d = ChunkedDecoder::new(ChunkedLimits::default());
    let input = b"0\r\n\r\nHTTP/1.1 200 OK\r\n";
    let (n, ev) = d.decode(input).unwrap();
    assert_eq!((n, ev), (5, Some(ChunkedEvent::End)));
    assert_eq!(d.decode(&input[5..]).unwrap(), (0, None));
}

#[test]
fn trailer_limits() {
    let limits = ChunkedLimits {
        max_trailer_bytes: 20,
        max_trailer_fields: 2,
        ..ChunkedLimits::default()
    };
    let e = run(b"0\r\nA: 01234567890123456789\r\n\r\n", limits.clone()).unwrap_err();
    assert!(e.contains("trailer section larger than 20"), "{e}");
    let e = run(
        b"0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
        ChunkedLimits {
            max_trailer_bytes: 100,
            ..limits
        },
    )
    .unwrap_err();
    assert!(e.contains("too many trailer fields"), "{e}");
}
