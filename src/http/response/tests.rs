//! Unit tests of the response parser: exact wire bytes in, exact events out, each input fed
//! whole, one byte at a time and split in two at every position (`testutil::feed_all_ways`).
//! They sit in a file of their own because they outweigh the parser they test.

use super::super::testutil::{Outcome, feed_all_ways};
use super::*;

mod heads;

/// One call into the parser: [`ResponseParser::parse`] or [`phased`].
type Step =
    for<'a> fn(&mut ResponseParser, &'a [u8]) -> Result<(usize, Option<Event<'a>>), ProtoError>;

/// The phase API driven as a caller would: `parse_head` while `phase()` is `Head`, then
/// `parse_body`.
fn phased<'a>(
    p: &mut ResponseParser,
    input: &'a [u8],
) -> Result<(usize, Option<Event<'a>>), ProtoError> {
    match p.phase() {
        Phase::Head => p.parse_head(input).map(|(n, ev)| (n, ev.map(Event::from))),
        Phase::Body | Phase::Done => p.parse_body(input).map(|(n, ev)| (n, ev.map(Event::from))),
    }
}

/// Parses `input` fed in all ways and renders the events; `close` calls eof() at the end.
/// Every input goes through both `parse` and the phase API, which must agree exactly.
fn run_with(method: &str, limits: Limits, input: &[u8], close: bool) -> Outcome {
    let flat = run_steps(method, &limits, input, close, ResponseParser::parse);
    let by_phase = run_steps(method, &limits, input, close, phased);
    assert_eq!(
        flat,
        by_phase,
        "parse and the phase API differ on {}",
        String::from_utf8_lossy(input)
    );
    flat
}

/// [`run_with`] through one way of calling the parser.
fn run_steps(method: &str, limits: &Limits, input: &[u8], close: bool, step: Step) -> Outcome {
    feed_all_ways(input, |parts| {
        let mut p = ResponseParser::new(method, limits.clone());
        let mut out: Vec<String> = Vec::new();
        let mut data = Vec::new();
        let flush = |data: &mut Vec<u8>, out: &mut Vec<String>| {
            if !data.is_empty() {
                out.push(format!("data {}", String::from_utf8_lossy(data)));
                data.clear();
            }
        };
        let mut left = Vec::new();
        for part in parts {
            let mut rest: &[u8] = part;
            loop {
                let (n, ev) = step(&mut p, rest).map_err(|e| format!("{:?}: {e}", e.kind))?;
                assert!(n <= rest.len());
                rest = rest.get(n..).unwrap_or_default();
                match ev {
                    None if n == 0 => break,
                    None => {}
                    Some(Event::Data(d)) => data.extend_from_slice(d),
                    Some(ev) => {
                        flush(&mut data, &mut out);
                        out.push(render(&ev));
                    }
                }
            }
            if p.is_done() {
                left.extend_from_slice(rest);
            }
        }
        // Drain what needs no more input.
        loop {
            match step(&mut p, b"").map_err(|e| format!("{:?}: {e}", e.kind))? {
                (_, None) => break,
                (_, Some(Event::Data(_))) => unreachable!(),
                (_, Some(ev)) => {
                    flush(&mut data, &mut out);
                    out.push(render(&ev));
                }
            }
        }
        flush(&mut data, &mut out);
        if !left.is_empty() {
            out.push(format!("left {}", String::from_utf8_lossy(&left)));
        }
        if close && !p.is_done() {
            let ev = p.eof().map_err(|e| format!("{:?}: {e}", e.kind))?;
            out.push(render(&ev));
            assert_eq!(p.phase(), Phase::Done);
        }
        Ok(out)
    })
}

fn render(ev: &Event<'_>) -> String {
    match ev {
        Event::Interim(h) => format!("interim {} {}", h.code, h.reason),
        Event::Head(h) => format!(
            "head {} {} {}{}",
            h.version,
            h.code,
            h.reason,
            h.headers
                .iter()
                .map(|(n, v)| format!(" [{n}: {v}]"))
                .collect::<String>()
        ),
        Event::Data(d) => format!("data {}", String::from_utf8_lossy(d)),
        Event::Trailers(t) => format!("trailers {t:?}"),
        Event::End { keep_alive } => format!("end keep_alive={keep_alive}"),
    }
}

fn ok(method: &str, input: &[u8], close: bool) -> Vec<String> {
    run_with(method, Limits::default(), input, close)
        .unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(input)))
}

fn err(method: &str, input: &[u8], close: bool) -> String {
    match run_with(method, Limits::default(), input, close) {
        Ok(v) => panic!("{} accepted: {v:?}", String::from_utf8_lossy(input)),
        Err(e) => e,
    }
}

fn v(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| s.to_string()).collect()
}

#[test]
fn close_after_interim_or_in_trailers_names_what_was_missing() {
    // Bytes of a response arrived (the 100), so this is a head cut short (8), not "no
    // response" (52): cli.md "a head cut short after some bytes is 8 too".
    let e = err("GET", b"HTTP/1.1 100 Continue\r\n\r\n", true);
    assert_eq!(
        e,
        "IncompleteHead: connection closed after 1 interim (1xx) response(s), before the final response"
    );
    // RFC 9112 §7.1: chunked-body ends with the CRLF after the trailer section; a close
    // after the last chunk but before that CRLF leaves the message incomplete (18).
    let e = err(
        "GET",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n",
        true,
    );
    assert!(e.starts_with("Incomplete: "), "{e}");
    assert!(
        e.contains("closed before the end of the trailer section"),
        "{e}"
    );
    let e = err(
        "GET",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n",
        true,
    );
    assert!(e.contains("no last chunk"), "{e}");
}

#[test]
fn content_length_body() {
    // S-07
    assert_eq!(
        ok(
            "GET",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP",
            false
        ),
        v(&[
            "head HTTP/1.1 200 OK [Content-Length: 5]",
            "data hello",
            "end keep_alive=true",
            "left HTTP"
        ])
    );
}

#[test]
fn content_length_incomplete_is_an_error() {
    // S-07: an early close is an error, never a short body.
    let e = err(
        "GET",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel",
        true,
    );
    assert_eq!(e, "Incomplete: body incomplete: 3 of 5 bytes received");
}

#[test]
fn chunked_body() {
    // S-08: last chunk and close arriving together.
    assert_eq!(
        ok(
            "GET",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            true
        ),
        v(&[
            "head HTTP/1.1 200 OK [Transfer-Encoding: Chunked]",
            "data abc",
            "end keep_alive=true"
        ])
    );
}

#[test]
fn chunk_errors_name_the_absolute_byte() {
    let input = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n";
    let e = err("GET", input, false);
    let at = input.len() - 4;
    assert_eq!(
        e,
        format!("Malformed: invalid chunk size at byte {at}: expected a hex digit, got 'z'")
    );
}

#[test]
fn read_until_close() {
    // S-06, 1.0 and 1.1 alike; never keep-alive.
    for ver in ["1.0", "1.1"] {
        let input = format!("HTTP/{ver} 200 OK\r\nConnection: keep-alive\r\n\r\nall of it");
        assert_eq!(
            ok("GET", input.as_bytes(), true),
            v(&[
                &format!("head HTTP/{ver} 200 OK [Connection: keep-alive]"),
                "data all of it",
                "end keep_alive=false"
            ])
        );
    }
}

#[test]
fn keep_alive_decision() {
    let cases: [(&str, bool); 6] = [
        ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true),
        (
            "HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n",
            false,
        ),
        (
            "HTTP/1.1 200 OK\r\nConnection: te, close\r\nContent-Length: 0\r\n\r\n",
            false,
        ),
        ("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false),
        (
            "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n",
            true,
        ),
        (
            "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n0\r\n\r\n",
            false,
        ),
    ];
    for (input, ka) in cases {
        let out = ok("GET", input.as_bytes(), false);
        assert_eq!(
            out.last().unwrap(),
            &format!("end keep_alive={ka}"),
            "{input}"
        );
    }
}

#[test]
fn no_body_responses() {
    // S-23, S-24, S-25 (section 0: 204/304 have no body whatever their headers say).
    for (method, status) in [
        ("HEAD", "200 OK"),
        ("GET", "204 No Content"),
        ("GET", "304 Not Modified"),
    ] {
        let input = format!(
            "HTTP/1.1 {status}\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\nNEXT"
        );
        let out = ok(method, input.as_bytes(), false);
        assert_eq!(out.len(), 3, "{out:?}");
        assert_eq!(out[1], "end keep_alive=true");
        assert_eq!(out[2], "left NEXT");
    }
    // S-25: an OPTIONS response with a body is read normally.
    let out = ok(
        "OPTIONS",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        false,
    );
    assert_eq!(out[1], "data ok");
}

#[test]
fn connect_tunnel() {
    let mut p = ResponseParser::new("CONNECT", Limits::default());
    let input = b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01";
    let (n, ev) = p.parse(input).unwrap();
    assert!(matches!(ev, Some(Event::Head(_))));
    assert_eq!(
        p.parse(&input[n..]).unwrap(),
        (0, Some(Event::End { keep_alive: false }))
    );
    assert!(p.is_tunnel());
    assert_eq!(p.parse(&input[n..]).unwrap(), (0, None));
    // A non-2xx answer to CONNECT is an ordinary response.
    let out = ok(
        "CONNECT",
        b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 1\r\n\r\nx",
        false,
    );
    assert_eq!(out[1], "data x");
}

#[test]
fn interim_responses() {
    // S-21, S-22: interim heads are reported, then the final one; one body.
    assert_eq!(
        ok(
            "POST",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n\
              HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
            false
        ),
        v(&[
            "interim 100 Continue",
            "interim 103 Early Hints",
            "head HTTP/1.1 200 OK [Content-Length: 2]",
            "data hi",
            "end keep_alive=true"
        ])
    );
    let mut many = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(10);
    many.extend_from_slice(b"HTTP/1.1 204 No Content\r\n\r\n");
    assert_eq!(ok("GET", &many, false).len(), 12);
    let mut too_many = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(11);
    too_many.extend_from_slice(b"HTTP/1.1 204 No Content\r\n\r\n");
    assert_eq!(
        err("GET", &too_many, false),
        "TooManyInterim: Too many 1xx responses (more than 10)"
    );
    assert_eq!(
        err(
            "GET",
            b"HTTP/1.1 100 Continue\r\nContent-Length: 1\r\n\r\n",
            false
        ),
        "Malformed: Response code 100 cannot have body"
    );
    assert!(
        err("GET", b"HTTP/1.1 101 Switching Protocols\r\n\r\n", false)
            .contains("no upgrade was requested")
    );
}

#[test]
fn framing_errors() {
    let cases: &[(&[u8], &str)] = &[
        // S-09
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            "Malformed: Unsupported Transfer-Encoding \"gzip, chunked\"",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            "Malformed: Unsupported Transfer-Encoding \"chunked, chunked\"",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n",
            "Malformed: Unsupported Transfer-Encoding \"identity\"",
        ),
        // S-10
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            "Malformed: Message with both Transfer-Encoding and Content-Length",
        ),
        // S-16
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
            "Malformed: Multiple unequal Content-Lengths: 2 and 3",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\n",
            "Malformed: Multiple unequal Content-Lengths: 2 and 3",
        ),
        // S-17
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\n",
            "Malformed: Only integer Content-Length is allowed: \"+2\"",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "Malformed: Only integer Content-Length is allowed: \"-1\"",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n",
            "Malformed: Only integer Content-Length is allowed: \"0x10\"",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
            "Malformed: Only integer Content-Length is allowed: \"\"",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n",
            "Malformed: Content-Length 18446744073709551616 is out of range",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(&err("GET", input, false), want);
    }
    // S-16: equal duplicates are fine.
    for cl in ["2,2", "2, 2,2", " 2 "] {
        let input =
            format!("HTTP/1.1 200 OK\r\nContent-Length: {cl}\r\nContent-Length: 2\r\n\r\nokX");
        assert_eq!(ok("GET", input.as_bytes(), false)[1], "data ok");
    }
}

#[test]
fn body_limits() {
    // S-18: exactly the limit is fine; over it is refused before any body byte.
    let limits = Limits {
        max_body: Some(4),
        ..Limits::default()
    };
    let out = run_with(
        "GET",
        limits.clone(),
        b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfour",
        false,
    )
    .unwrap();
    assert_eq!(out[1], "data four");
    let e = run_with(
        "GET",
        limits.clone(),
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
        false,
    )
    .unwrap_err();
    assert_eq!(
        e,
        "BodyTooLarge: Content-Length too long: 5 bytes, the limit is 4"
    );
    // S-19: chunked and read-until-close bodies over the limit.
    let e = run_with(
        "GET",
        limits.clone(),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        false,
    )
    .unwrap_err();
    assert!(e.starts_with("BodyTooLarge: chunked body too large"), "{e}");
    let e = run_with("GET", limits.clone(), b"HTTP/1.1 200 OK\r\n\r\nfive!", true).unwrap_err();
    assert!(e.starts_with("BodyTooLarge: Body too long"), "{e}");
    let out = run_with("GET", limits, b"HTTP/1.1 200 OK\r\n\r\nfour", true).unwrap();
    assert_eq!(out[1], "data four");
}

#[test]
fn eof_cases() {
    let mut p = ResponseParser::new("GET", Limits::default());
    assert_eq!(p.eof().unwrap_err().kind, ProtoErrorKind::NoResponse);
    let e = err("GET", b"HTTP/1.1 200 OK\r\nContent-", true);
    assert!(e.starts_with("IncompleteHead:"), "{e}");
    let e = err("GET", b"HTTP/1.1 100 Continue\r\n\r\n", true);
    assert!(e.starts_with("IncompleteHead:"), "{e}");
    let e = err(
        "GET",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        true,
    );
    assert!(e.starts_with("Incomplete:"), "{e}");
    let e = err(
        "GET",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
        true,
    );
    assert!(e.starts_with("Incomplete:"), "{e}");
    // Errors stick.
    let mut p = ResponseParser::new("GET", Limits::default());
    assert!(p.parse(b"HTTP/9").is_err());
    assert!(p.parse(b"").is_err());
    assert!(p.eof().is_err());
}

#[test]
fn trailers_are_reported() {
    assert_eq!(
        ok(
            "GET",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nX-T: 1\r\n\r\n",
            false
        ),
        v(&[
            "head HTTP/1.1 200 OK [Transfer-Encoding: chunked]",
            "data x",
            "trailers [(\"X-T\", \"1\")]",
            "end keep_alive=true"
        ])
    );
}

#[test]
fn data_is_a_slice_of_the_input() {
    let input = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
    let mut p = ResponseParser::new("GET", Limits::default());
    let (n, _) = p.parse(input).unwrap();
    let rest = &input[n..];
    match p.parse(rest).unwrap() {
        (3, Some(Event::Data(d))) => assert_eq!(d.as_ptr(), rest.as_ptr()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn phases_follow_the_response() {
    let mut p = ResponseParser::new("GET", Limits::default());
    assert_eq!(p.phase(), Phase::Head);
    let input = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
    let (n, ev) = p.parse_head(input).unwrap();
    assert!(matches!(ev, Some(HeadEvent::Interim(ref h)) if h.code == 100));
    assert_eq!(p.phase(), Phase::Head);
    let rest = &input[n..];
    let (n, ev) = p.parse_head(rest).unwrap();
    assert!(matches!(ev, Some(HeadEvent::Final(ref h)) if h.code == 200));
    assert_eq!(p.phase(), Phase::Body);
    let rest = &rest[n..];
    assert_eq!(
        p.parse_body(rest).unwrap(),
        (2, Some(BodyEvent::Data(b"hi")))
    );
    assert_eq!(
        p.parse_body(b"").unwrap(),
        (0, Some(BodyEvent::End { keep_alive: true }))
    );
    assert_eq!(p.phase(), Phase::Done);
    assert_eq!(p.parse_body(b"").unwrap(), (0, None));
}

#[test]
fn a_phase_method_in_the_wrong_phase_is_refused_without_poisoning_the_parser() {
    let mut p = ResponseParser::new("GET", Limits::default());
    let e = p
        .parse_body(b"HTTP/1.1 204 No Content\r\n\r\n")
        .unwrap_err();
    assert_eq!(e.kind, ProtoErrorKind::Malformed);
    assert_eq!(
        e.message(),
        "ResponseParser::parse_body called in the Head phase"
    );
    let (n, ev) = p.parse_head(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
    assert_eq!(n, 27);
    assert!(matches!(ev, Some(HeadEvent::Final(ref h)) if h.code == 204));
    let e = p.parse_head(b"").unwrap_err();
    assert_eq!(
        e.message(),
        "ResponseParser::parse_head called in the Body phase"
    );
    assert_eq!(
        p.parse_body(b"").unwrap(),
        (0, Some(BodyEvent::End { keep_alive: true }))
    );
}

#[test]
fn finish_at_eof_ends_a_close_delimited_body_and_names_what_was_cut_short() {
    let mut p = ResponseParser::new("GET", Limits::default());
    p.parse_head(b"HTTP/1.1 200 OK\r\n\r\n").unwrap();
    assert_eq!(
        p.parse_body(b"abc").unwrap(),
        (3, Some(BodyEvent::Data(b"abc")))
    );
    assert_eq!(p.finish_at_eof(), Ok(()));
    assert_eq!(p.phase(), Phase::Done);

    let mut p = ResponseParser::new("GET", Limits::default());
    p.parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
        .unwrap();
    p.parse_body(b"ab").unwrap();
    let e = p.finish_at_eof().unwrap_err();
    assert_eq!(e.kind, ProtoErrorKind::Incomplete);
    assert_eq!(e.message(), "body incomplete: 2 of 5 bytes received");
}
