//! Chunked bodies (RFC 9112 §7.1): sizes, extensions, trailers and cut streams.

use super::*;

#[test]
fn chunked_bodies() {
    let c = |rest: &str| format!("{CH}{rest}");
    run_table(vec![
        case("valid", c("5\r\nhello\r\n0\r\n\r\n"), 0).out("hello"),
        case("upper-case hex", c("A\r\nhellohello\r\n0\r\n\r\n"), 0).out("hellohello"),
        case(
            "leading zeros",
            c("0000000000000000000005\r\nhello\r\n000\r\n\r\n"),
            0,
        )
        .out("hello"),
        // chunk-size = 1*HEXDIG: nothing else.
        case("SP before size", c(" 5\r\nhello\r\n0\r\n\r\n"), 8),
        // Whitespace after the size may only lead to an extension (BWS ";").
        case("SP after size", c("5 \r\nhello\r\n0\r\n\r\n"), 8),
        case("HTAB after size", c("5\t\r\nhello\r\n0\r\n\r\n"), 8),
        case("0x prefix", c("0x5\r\nhello\r\n0\r\n\r\n"), 8),
        case("negative size", c("-5\r\nhello\r\n0\r\n\r\n"), 8),
        case("empty size line", c("\r\nhello\r\n0\r\n\r\n"), 8),
        // More than 16 hex digits cannot fit in 64 bits: refused, never wrapped.
        case(
            "17 hex digits",
            c("10000000000000005\r\nhello\r\n0\r\n\r\n"),
            8,
        ),
        // chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ), value may be quoted.
        case("extension", c("5;a=b\r\nhello\r\n0;x=y\r\n\r\n"), 0).out("hello"),
        case(
            "quoted extension",
            c("5;a=\"x;y\\\"z\"\r\nhello\r\n0\r\n\r\n"),
            0,
        )
        .out("hello"),
        case(
            "extension with BWS",
            c("5 ; a = b\r\nhello\r\n0\r\n\r\n"),
            0,
        )
        .out("hello"),
        case("CTL in extension", c("5;a\u{1}b\r\nhello\r\n0\r\n\r\n"), 8),
        // Unknown extensions are ignored (§7.1.1) but must still match the grammar.
        case(
            "extension without a name",
            c("5;=x\r\nhello\r\n0\r\n\r\n"),
            8,
        ),
        case(
            "two tokens in an extension",
            c("5;a b\r\nhello\r\n0\r\n\r\n"),
            8,
        ),
        case(
            "unterminated quoted extension",
            c("5;a=\"x\r\nhello\r\n0\r\n\r\n"),
            8,
        ),
        case("empty extension", c("5;\r\nhello\r\n0\r\n\r\n"), 8),
        case(
            "4 KiB+ extension",
            format!("{CH}5;{}\r\nhello\r\n0\r\n\r\n", "a".repeat(5000)),
            8,
        ),
        // Lines end in CRLF; the decoder refuses a bare LF (smuggling, RFC 9112 §11.2).
        case("bare LF after size", c("5\nhello\r\n0\r\n\r\n"), 8),
        case("CR CR LF after size", c("5\r\r\nhello\r\n0\r\n\r\n"), 8),
        // The data is followed by CRLF, exactly.
        case("bare LF after data", c("5\r\nhello\n0\r\n\r\n"), 8),
        case("no CRLF after data", c("5\r\nhello0\r\n\r\n"), 8),
        case(
            "data longer than the size",
            c("5\r\nhelloXX\r\n0\r\n\r\n"),
            8,
        ),
        // §7.1.2: trailer fields.
        case("valid trailer", c("5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"), 0).out("hello"),
        case(
            "trailer obs-fold unfolded",
            c("5\r\nhello\r\n0\r\nX-T: 1\r\n 2\r\n\r\n"),
            0,
        )
        .out("hello"),
        case(
            "malformed trailer",
            c("5\r\nhello\r\n0\r\nX-T 1\r\n\r\n"),
            8,
        ),
        case(
            "trailer over 64 KiB",
            format!("{CH}5\r\nhello\r\n0\r\nX-T: {}\r\n\r\n", "a".repeat(70000)),
            8,
        ),
        // §7.1: the body ends with the CRLF after the trailers; cut before it: 18.
        case(
            "last chunk without final CRLF",
            c("5\r\nhello\r\n0\r\n"),
            18,
        ),
        case(
            "trailer without final CRLF",
            c("5\r\nhello\r\n0\r\nX: y\r\n"),
            18,
        ),
        case("cut mid data", c("5\r\nhel"), 18),
        case("cut after a chunk", c("5\r\nhello\r\n"), 18),
        case("cut before any chunk", c(""), 18),
    ]);
}
