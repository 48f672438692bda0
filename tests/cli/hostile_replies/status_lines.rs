//! Status lines (RFC 9112 §4): versions, codes and reasons squall accepts or refuses.

use super::*;

#[test]
fn status_lines() {
    let body = "Content-Length: 5\r\n\r\nhello";
    let with = |status: &str| format!("{status}\r\n{body}");
    run_table(vec![
        // §2.3: HTTP-version is case-sensitive "HTTP/" DIGIT "." DIGIT; HTTP/1.1 parsing
        // rules do not apply to a 2.0 message: refused.
        case("HTTP/2.0", with("HTTP/2.0 200 OK"), 8),
        case("lower-case http/1.1", with("http/1.1 200 OK"), 8),
        case("HTTP/1.2", with("HTTP/1.2 200 OK"), 8),
        case("HTTP/0.9 (no status line)", "hello world\r\n\r\n", 8),
        // §4: status-code = 3DIGIT.
        case("two-digit code", with("HTTP/1.1 20 OK"), 8),
        case("four-digit code", with("HTTP/1.1 2000 OK"), 8),
        case("signed code", with("HTTP/1.1 +20 OK"), 8),
        // §4: exactly one SP between the parts.
        case("double SP", with("HTTP/1.1  200 OK"), 8),
        case("HTAB after version", with("HTTP/1.1\t200 OK"), 8),
        // §4: the reason phrase may be empty, and the SP before it may be missing.
        case("no reason", with("HTTP/1.1 200"), 0).out("hello"),
        case("empty reason", with("HTTP/1.1 200 "), 0).out("hello"),
        // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ): HTAB and obs-text are fine...
        case("HTAB in reason", with("HTTP/1.1 200 O\tK"), 0).out("hello"),
        case("obs-text in reason", with("HTTP/1.1 200 O\u{e9}K"), 0).out("hello"),
        // ...control characters are not.
        case("CTL in reason", with("HTTP/1.1 200 O\u{1}K"), 8),
        case("DEL in reason", with("HTTP/1.1 200 O\u{7f}K"), 8),
        // §2.2: a bare CR must be treated as invalid (or replaced with SP): refused.
        case("bare CR ends status line", with("HTTP/1.1 200 OK\rX: y"), 8),
        // §2.2: a recipient MAY take LF alone as a line terminator: accepted.
        case(
            "LF-only lines",
            "HTTP/1.1 200 OK\nContent-Length: 5\n\nhello",
            0,
        )
        .out("hello"),
        // §2.2 lets a recipient skip empty lines before the start line; accepted.
        case(
            "leading empty line",
            format!("\r\n{}", with("HTTP/1.1 200 OK")),
            0,
        )
        .out("hello"),
        // Whitespace before the status line is not an empty line: refused.
        case("leading SP", format!(" {}", with("HTTP/1.1 200 OK")), 8),
        // RFC 9110 §15: codes outside 100-599 are invalid but a client processes the response
        // (as a 5xx); the transfer itself completes.
        case("code 600", with("HTTP/1.1 600 Odd"), 0).out("hello"),
        case("HTTP/1.0", with("HTTP/1.0 200 OK"), 0).out("hello"),
    ]);
}

#[test]
fn fail_treats_invalid_status_codes_as_server_errors() {
    // RFC 9110 §15: a client SHOULD process a response with a code outside 100-599 as 5xx.
    // With -f (cli.md: 22 when the status is >= 400) that is 22, like 600 already is.
    for code in ["099", "000", "600"] {
        let s = once(format!("HTTP/1.1 {code} Odd\r\nContent-Length: 2\r\n\r\nno").as_bytes());
        let o = squall(&["-s", "-f", &s.url("/")]);
        assert_eq!(o.status.code(), Some(22), "{code}: {o:?}");
    }
}

#[test]
fn include_prints_the_status_code_as_three_digits() {
    // RFC 9112 §4: status-code = 3DIGIT. A received "099" is printed by -i / -v as "99".
    let s = once(b"HTTP/1.1 099 Odd\r\nContent-Length: 2\r\n\r\nok");
    let o = squall(&["-s", "-i", &s.url("/")]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(
        o.stdout.starts_with(b"HTTP/1.1 099 Odd\r\n"),
        "{:?}",
        String::from_utf8_lossy(&o.stdout)
    );
}
