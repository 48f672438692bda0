//! Field lines (RFC 9112 §5, RFC 9110 §5.5): names, values, folding and limits.

use super::*;

#[test]
fn field_lines() {
    let h = |fields: &str| format!("{OK}{fields}Content-Length: 5\r\n\r\nhello");
    run_table(vec![
        // §5.1: no whitespace between field name and colon; MUST reject.
        case("space before colon", h("X-A : 1\r\n"), 8),
        case(
            "space before colon in CL",
            format!("{OK}Content-Length : 5\r\n\r\nhello"),
            8,
        ),
        // §5.2: obs-fold in a response is replaced with SP (cli.md: unfolded with a space).
        case("obs-fold", h("X-F: a\r\n  b\r\n"), 0)
            .args(&["-i"])
            .out(format!("{OK}X-F: a b\r\nContent-Length: 5\r\n\r\nhello")),
        case(
            "obs-fold, several lines and HTAB",
            h("X-F: a\r\n\tb\r\n   c  \r\n"),
            0,
        )
        .args(&["-i"])
        .out(format!("{OK}X-F: a b c\r\nContent-Length: 5\r\n\r\nhello")),
        case("obs-fold of an empty value", h("X-F:\r\n b\r\n"), 0)
            .args(&["-i"])
            .out(format!("{OK}X-F: b\r\nContent-Length: 5\r\n\r\nhello")),
        // A folded Content-Length is still one valid length once unfolded.
        case(
            "obs-fold in Content-Length",
            format!("{OK}Content-Length:\r\n 5\r\n\r\nhello"),
            0,
        )
        .out("hello"),
        case(
            "obs-fold making CL a list of two",
            format!("{OK}Content-Length: 5\r\n 6\r\n\r\nhello!"),
            8,
        ),
        // A "fold" right after the status line has nothing to continue: refused.
        case("whitespace line after status", h(" X: 1\r\n"), 8),
        // RFC 9110 §5.5: field values never hold NUL, CR, LF or other CTLs (but HTAB).
        case("NUL in value", h("X: a\0b\r\n"), 8),
        case("DEL in value", h("X: a\x7fb\r\n"), 8),
        case("bare CR in value", h("X: a\rb\r\n"), 8),
        case("HTAB in value", h("X: a\tb\r\n"), 0).out("hello"),
        // obs-text (0x80-0xFF) is allowed in values.
        case(
            "8-bit bytes in value",
            cat(&[
                OK.as_bytes(),
                b"X: caf\xe9\r\n",
                b"Content-Length: 5\r\n\r\nhello",
            ]),
            0,
        )
        .out("hello"),
        // field-name = token.
        case("no colon", h("NoColonHere\r\n"), 8),
        case("empty name", h(": v\r\n"), 8),
        case("separator in name", h("X(y): v\r\n"), 8),
        case(
            "8-bit byte in name",
            cat(&[
                OK.as_bytes(),
                b"X\xe9: v\r\n",
                b"Content-Length: 5\r\n\r\nhello",
            ]),
            8,
        ),
    ]);
}

#[test]
fn head_size_and_field_count_limits() {
    // The head limit is 65536 bytes (status line, fields and the empty line) and 100 fields.
    let head_of = |total: usize| {
        let base = format!("{OK}Content-Length: 0\r\nX: ");
        let end = "\r\n\r\n";
        format!("{base}{}{end}", "a".repeat(total - base.len() - end.len()))
    };
    let fields = |n: usize| {
        let mut s = OK.to_string();
        for i in 0..n - 1 {
            s.push_str(&format!("X-{i}: v\r\n"));
        }
        s.push_str("Content-Length: 0\r\n\r\n");
        s
    };
    run_table(vec![
        case("head of exactly 65536 bytes", head_of(65536), 0).out(""),
        case("head of 65537 bytes", head_of(65537), 8),
        case(
            "one 1 MiB field line",
            format!("{OK}X: {}\r\n\r\n", "a".repeat(1 << 20)),
            8,
        ),
        case("100 fields", fields(100), 0).out(""),
        case("101 fields", fields(101), 8),
    ]);
}
