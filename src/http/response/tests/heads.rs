//! Unit tests of reading one head through the parser: status lines, field lines, obs-fold,
//! the head limits and the wording of each refusal (`response/head.rs`,
//! `response/head_error.rs`). The harness (`ok`, `err`, `run_with`) is the parent module's.

use super::super::head::unfold;
use super::*;

#[test]
fn status_lines() {
    // S-01, S-02, S-03, S-05
    let cases: &[(&[u8], &str)] = &[
        (b"HTTP/1.1 200 OK\r\n\r\n", "head HTTP/1.1 200 OK"),
        (b"HTTP/1.1 200 \r\n\r\n", "head HTTP/1.1 200 OK"),
        (b"HTTP/1.1 200\r\n\r\n", "head HTTP/1.1 200 OK"),
        (
            b"HTTP/1.1 404 Nope Nope\r\n\r\n",
            "head HTTP/1.1 404 Nope Nope",
        ),
        (b"HTTP/1.0 599 \r\n\r\n", "head HTTP/1.0 599 Unknown"),
        (b"HTTP/1.1 999 Custom\r\n\r\n", "head HTTP/1.1 999 Custom"),
        (b"HTTP/1.1 000 \r\n\r\n", "head HTTP/1.1 0 Unknown"),
        (
            b"HTTP/1.1 200 Caf\xe9\r\n\r\n",
            "head HTTP/1.1 200 Caf\u{e9}",
        ),
        (b"HTTP/1.1 200 OK\nX: y\n\n", "head HTTP/1.1 200 OK [X: y]"), // S-28
        (b"\r\nHTTP/1.1 200 OK\r\n\r\n", "head HTTP/1.1 200 OK"),
    ];
    for (input, want) in cases {
        let out = ok("GET", input, true);
        assert_eq!(out[0], *want);
    }
}

#[test]
fn malformed_status_lines() {
    // S-04
    let cases: &[(&[u8], &str)] = &[
        (
            b"HTTP/2.0 200 OK\r\n\r\n",
            "Unexpected HTTP version in status line at byte 5: \"HTTP/2\"",
        ),
        (
            b"HTTP/1.2 200 OK\r\n\r\n",
            "Unexpected HTTP version in status line at byte 7: \"HTTP/1.2\"",
        ),
        (
            b"http/1.1 200 OK\r\n\r\n",
            "Unexpected HTTP version in status line at byte 0: \"h\"",
        ),
        (
            b"HTTP/1.1 20 OK\r\n\r\n",
            "invalid status code in status line at byte 11",
        ),
        (
            b"HTTP/1.1 2000 OK\r\n\r\n",
            "invalid status code in status line at byte 12",
        ),
        (
            b"HTTP/1.1  200 OK\r\n\r\n",
            "invalid status code in status line at byte 9",
        ),
        (
            b"HTTP/1.1 200 O\x01K\r\n\r\n",
            "control character in the reason phrase in status line at byte 14",
        ),
        (
            b"HTTP/1.1 200 O\x7fK\r\n\r\n",
            "control character in the reason phrase",
        ),
        (
            b"HTTP/1.1 200 OK\rX\r\n\r\n",
            "CR without LF in status line at byte 15",
        ),
        (
            b"ICY 200 OK\r\n\r\n",
            "Unexpected HTTP version in status line at byte 0: \"I\"",
        ),
        (b"\n\nHTTP/1.1 200 OK\r\nX\r\n\r\n", "line 2 at byte 20"),
        (
            b"\rHTTP/1.1 200 OK\r\n\r\n",
            "malformed status line: stray CR at byte 0",
        ),
    ];
    for (input, want) in cases {
        let e = err("GET", input, true);
        assert!(
            e.starts_with("Malformed: ") && e.contains(want),
            "{e} (wanted {want})"
        );
    }
}

#[test]
fn header_errors_and_folding() {
    // S-27 (section 0): obs-fold unfolded to one SP; whitespace right after the status
    // line is still an error.
    assert_eq!(
        ok(
            "GET",
            b"HTTP/1.1 200 OK\r\nX: a  \r\n \t b\r\nY: c\r\n\r\n",
            true
        )[0],
        "head HTTP/1.1 200 OK [X: a b] [Y: c]"
    );
    assert_eq!(
        ok("GET", b"HTTP/1.1 200 OK\r\nX:\r\n b\r\n  c\r\n\r\n", true)[0],
        "head HTTP/1.1 200 OK [X: b c]"
    );
    let e = err("GET", b"HTTP/1.1 200 OK\r\n X: a\r\n\r\n", true);
    assert!(e.contains("cannot start with whitespace"), "{e}");
    // S-29, S-28 (bare CR), S-30 (latin-1)
    let cases: &[(&[u8], &str)] = &[
        (
            b"HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n",
            "invalid header value in response head line 2 at byte 21: \"X: a\\0\"",
        ),
        (
            b"HTTP/1.1 200 OK\r\nA: 1\r\nX : a\r\n\r\n",
            "invalid header name in response head line 3 at byte 24",
        ),
        (b"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", "line 2"),
        (b"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", "line 2"),
    ];
    for (input, want) in cases {
        let e = err("GET", input, true);
        assert!(e.contains(want), "{e} (wanted {want})");
    }
    assert_eq!(
        ok("GET", b"HTTP/1.1 200 OK\r\nX: caf\xe9 \xa0\r\n\r\n", true)[0],
        "head HTTP/1.1 200 OK [X: caf\u{e9} \u{a0}]"
    );
}

#[test]
fn head_limits() {
    // S-31
    let limits = Limits {
        max_head_bytes: 64,
        max_headers: 3,
        ..Limits::default()
    };
    let fits = b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nContent-Length: 0\r\n\r\n";
    assert!(fits.len() > 40);
    let e = run_with("GET", limits.clone(), fits, false).unwrap_err();
    assert!(e.starts_with("TooManyHeaders:"), "{e}");
    let exactly = b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nContent-Length: 0\r\n\r\n";
    let at = Limits {
        max_head_bytes: exactly.len(),
        ..limits.clone()
    };
    assert!(run_with("GET", at.clone(), exactly, false).is_ok());
    let under = Limits {
        max_head_bytes: exactly.len() - 1,
        ..limits
    };
    let e = run_with("GET", under, exactly, false).unwrap_err();
    assert!(e.starts_with("HeadTooLarge:"), "{e}");
    // More than 32 fields goes through the growing path.
    let mut big = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..100 {
        big.extend_from_slice(format!("H{i}: {i}\r\n").as_bytes());
    }
    big.extend_from_slice(b"\r\n");
    let mut p = ResponseParser::new("GET", Limits::default());
    match p.parse(&big).unwrap() {
        (n, Some(Event::Head(h))) => {
            assert_eq!(n, big.len());
            assert_eq!(h.headers.len(), 100);
        }
        other => panic!("{other:?}"),
    }
    let mut p = ResponseParser::new("GET", Limits::default());
    let over = [&big[..big.len() - 2], b"X: 1\r\n\r\n"].concat();
    assert_eq!(
        p.parse(&over).unwrap_err().kind,
        ProtoErrorKind::TooManyHeaders
    );
}

#[test]
fn bad_status_line_refused_without_waiting_for_the_head_end() {
    let mut p = ResponseParser::new("GET", Limits::default());
    assert_eq!(p.parse(b"HTTP/").unwrap(), (5, None));
    let e = p.parse(b"2.0 200 OK\r\n").unwrap_err();
    assert!(e.to_string().starts_with("Unexpected HTTP version"), "{e}");
    // A bad header line cut short by a close is reported as what it is.
    let e = err("GET", b"HTTP/1.1 200 OK\r\nBad Name: x\r\n", true);
    assert!(e.starts_with("Malformed: invalid header name"), "{e}");
}

#[test]
fn unfold_replaces_each_fold() {
    assert_eq!(unfold(b"a\r\n b"), b"a b");
    assert_eq!(unfold(b"a \t\r\n\t b\n c"), b"a b c");
}
