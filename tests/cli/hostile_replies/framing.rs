//! Framing (RFC 9112 §6): Content-Length, Transfer-Encoding and bodies read until close.

use super::*;

#[test]
fn message_framing() {
    run_table(vec![
        // §6.3 rule 3: TE with CL "ought to be handled as an error"; cli.md: 8.
        case(
            "CL and TE",
            format!(
                "{OK}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
            ),
            8,
        ),
        // §6.3 rule 4 / cli.md: any transfer coding but chunked is 8.
        case(
            "TE gzip, chunked",
            format!("{OK}Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
            8,
        ),
        // §6.1: chunked MUST NOT be applied more than once.
        case(
            "TE chunked, chunked",
            format!("{OK}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"),
            8,
        ),
        case(
            "TE chunked on two lines",
            format!(
                "{OK}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
            ),
            8,
        ),
        case(
            "TE identity",
            format!("{OK}Transfer-Encoding: identity\r\n\r\nhello"),
            8,
        ),
        case(
            "TE empty",
            format!("{OK}Transfer-Encoding: \r\n\r\nhello"),
            8,
        ),
        case(
            "TE chunked;param",
            format!("{OK}Transfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n"),
            8,
        ),
        // Coding names are case-insensitive (RFC 9110 §7.8 / §8.4.1).
        case(
            "TE CHUNKED",
            format!("{OK}Transfer-Encoding: CHUNKED\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
            0,
        )
        .out("hello"),
        // §6.1 then §6.3: a 1.0 message with chunked is read as chunked (never reused).
        case(
            "HTTP/1.0 chunked",
            "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            0,
        )
        .out("hello"),
        // RFC 9110 §8.6: Content-Length = 1*DIGIT.
        case("CL +5", format!("{OK}Content-Length: +5\r\n\r\nhello"), 8),
        case("CL -1", format!("{OK}Content-Length: -1\r\n\r\nhello"), 8),
        case("CL 0x5", format!("{OK}Content-Length: 0x5\r\n\r\nhello"), 8),
        case("CL 5.0", format!("{OK}Content-Length: 5.0\r\n\r\nhello"), 8),
        case("CL empty", format!("{OK}Content-Length: \r\n\r\nhello"), 8),
        // OWS around a field value is not part of it (RFC 9110 §5.5).
        case(
            "CL with OWS",
            format!("{OK}Content-Length:  5 \r\n\r\nhello"),
            0,
        )
        .out("hello"),
        case(
            "CL leading zeros",
            format!("{OK}Content-Length: 005\r\n\r\nhello"),
            0,
        )
        .out("hello"),
        // RFC 9110 §8.6: a list of identical values MAY be taken as that one value; §6.3
        // rule 5: differing values are unrecoverable.
        case("CL 5,5", format!("{OK}Content-Length: 5,5\r\n\r\nhello"), 0).out("hello"),
        case(
            "CL 5, 5",
            format!("{OK}Content-Length: 5, 5\r\n\r\nhello"),
            0,
        )
        .out("hello"),
        case(
            "CL 5,6",
            format!("{OK}Content-Length: 5,6\r\n\r\nhello!"),
            8,
        ),
        case("CL ,5", format!("{OK}Content-Length: ,5\r\n\r\nhello"), 8),
        case(
            "two equal CL lines",
            format!("{OK}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello"),
            0,
        )
        .out("hello"),
        case(
            "two different CL lines",
            format!("{OK}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
            8,
        ),
        // Overflow is a malformed value, never a wrap-around.
        case(
            "CL overflows u64",
            format!("{OK}Content-Length: 99999999999999999999999\r\n\r\nhello"),
            8,
        ),
        // u64::MAX fits: it is then over the body limit (100 MiB to stdout) before reading.
        case(
            "CL u64::MAX",
            format!("{OK}Content-Length: 18446744073709551615\r\n\r\nhello"),
            63,
        ),
        // §6.3 rule 5: the body is exactly CL bytes; what follows is not body.
        case(
            "CL shorter than the body",
            format!("{OK}Content-Length: 3\r\n\r\nhello"),
            0,
        )
        .out("hel"),
        // §8: a message cut short is incomplete (cli.md 18).
        case(
            "CL longer than the body, then close",
            format!("{OK}Content-Length: 10\r\n\r\nhello"),
            18,
        )
        .out("hello"),
        // §6.3 rule 8: no CL, no TE: the body runs to the close.
        case("close-delimited", format!("{OK}\r\nhello"), 0).out("hello"),
        case("close-delimited, empty", format!("{OK}\r\n"), 0).out(""),
        // §6.3 rule 1: 204 and 304 end at the empty line whatever the fields say.
        case(
            "204 with CL and bytes",
            "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello",
            0,
        )
        .out(""),
        case(
            "304 with CL and bytes",
            "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nhello",
            0,
        )
        .out(""),
        case(
            "204 with TE chunked",
            "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
            0,
        )
        .out(""),
    ]);
}

#[test]
fn interim_responses() {
    let fin = format!("{OK}Content-Length: 5\r\n\r\nhello");
    let n100 = |n: usize| format!("{}{fin}", "HTTP/1.1 100 Continue\r\n\r\n".repeat(n));
    run_table(vec![
        // RFC 9110 §15.2: a client must be able to parse 1xx responses before the final one.
        case("100 then 200", n100(1), 0).out("hello"),
        case("10 interim responses", n100(10), 0).out("hello"),
        // cli.md: too many interim responses is 8 (the limit is 10).
        case("11 interim responses", n100(11), 8),
        // 103 Early Hints with fields (RFC 8297), then the final response.
        case(
            "103 with fields",
            format!("HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n{fin}"),
            0,
        )
        .out("hello"),
        // RFC 9110 §15.2.2: 101 only answers an Upgrade request; none was sent.
        case(
            "101 unasked",
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\nhello",
            8,
        ),
        // Bytes of a response arrived (the 100), then the close: a head cut short, 8.
        case("100 then close", "HTTP/1.1 100 Continue\r\n\r\n", 8),
        // RFC 9110 §15.2: a 1xx has no content: a CL or TE in one is a malformed reply.
        case(
            "100 with Content-Length",
            format!("HTTP/1.1 100 Continue\r\nContent-Length: 2\r\n\r\n{fin}"),
            8,
        ),
    ]);
}

#[test]
fn closes_and_resets() {
    run_table(vec![
        case("close before any byte", "", 52),
        // cli.md: "a head cut short after some bytes is 8 too".
        case("close mid status line", "HTTP/1.", 8),
        case("close mid head", format!("{OK}Content-Len"), 8),
        case(
            "close after the head, before the empty line",
            format!("{OK}Content-Length: 5\r\n"),
            8,
        ),
    ]);
    for (name, bytes) in [
        ("reset before any byte", Vec::new()),
        (
            "reset mid body",
            format!("{OK}Content-Length: 100\r\n\r\npartial").into_bytes(),
        ),
    ] {
        let s = serve(vec![Reply::Reset(bytes)]);
        let o = squall(&["-s", &s.url("/")]);
        assert_eq!(o.status.code(), Some(56), "{name}: {o:?}");
    }
}
