//! Black-box tests of the `squall` binary against hostile servers: every case is raw canned
//! bytes from a std-thread server on 127.0.0.1, and the verdict is the exit code that
//! `docs/cli.md` names (its "How replies are judged" section and exit-code table), plus stdout where the
//! bytes matter. The cases are written from RFC 9112 (framing), RFC 9110 (semantics), RFC 1952
//! (gzip) and RFC 3986 (URLs); where the RFC leaves a choice, the comment beside the case says
//! which section decided it.
//!
//! Each server answers one canned reply per connection, then closes its side (a FIN, never a
//! reset unless the case asks for one). Cases run in a table per topic; a failing table lists
//! every case that failed, not only the first.

use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::canned::{Reply, once, read_request, serve};
use crate::support::cli::squall;
use crate::support::server::{Server, gzip, write};

/// One table row: the server's bytes, extra arguments, the exit code, and (when given) the
/// exact stdout.
struct Case {
    name: &'static str,
    reply: Vec<u8>,
    args: Vec<&'static str>,
    code: i32,
    stdout: Option<Vec<u8>>,
}

fn case(name: &'static str, reply: impl AsRef<[u8]>, code: i32) -> Case {
    Case {
        name,
        reply: reply.as_ref().to_vec(),
        args: Vec::new(),
        code,
        stdout: None,
    }
}

impl Case {
    fn out(mut self, s: impl AsRef<[u8]>) -> Case {
        self.stdout = Some(s.as_ref().to_vec());
        self
    }
    fn args(mut self, a: &[&'static str]) -> Case {
        self.args = a.to_vec();
        self
    }
}

/// Runs every case (in parallel, a few at a time) and fails listing each mismatch.
fn run_table(cases: Vec<Case>) {
    let failures = Arc::new(Mutex::new(Vec::new()));
    for group in cases.chunks(8) {
        thread::scope(|sc| {
            for c in group {
                let failures = failures.clone();
                sc.spawn(move || {
                    let s = once(&c.reply);
                    let url = s.url("/");
                    let mut args: Vec<&str> = vec!["-s"];
                    args.extend(c.args.iter().copied());
                    args.push(&url);
                    let o = squall(&args);
                    let err = String::from_utf8_lossy(&o.stderr).into_owned();
                    let mut bad = Vec::new();
                    if o.status.code() != Some(c.code) {
                        bad.push(format!("exit {:?}, expected {}", o.status.code(), c.code));
                    }
                    if let Some(want) = &c.stdout
                        && &o.stdout != want
                    {
                        bad.push(format!(
                            "stdout {:?}, expected {:?}",
                            String::from_utf8_lossy(&o.stdout),
                            String::from_utf8_lossy(want)
                        ));
                    }
                    if c.code != 0 && !(err.starts_with("squall: ") && err.lines().count() == 1) {
                        bad.push("a failure prints one line `squall: ...`".to_string());
                    }
                    if !bad.is_empty() {
                        failures.lock().unwrap().push(format!(
                            "{}: {} (stderr {:?})",
                            c.name,
                            bad.join("; "),
                            err.trim_end()
                        ));
                    }
                });
            }
        });
    }
    let f = failures.lock().unwrap();
    assert!(
        f.is_empty(),
        "{} case(s) failed:\n{}",
        f.len(),
        f.join("\n")
    );
}

const OK: &str = "HTTP/1.1 200 OK\r\n";
const CH: &str = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

// ------------------------------------------------------------------------------------------
// Status lines (RFC 9112 §4)
// ------------------------------------------------------------------------------------------

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

// ------------------------------------------------------------------------------------------
// Field lines (RFC 9112 §5, RFC 9110 §5.5)
// ------------------------------------------------------------------------------------------

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

// ------------------------------------------------------------------------------------------
// Framing (RFC 9112 §6)
// ------------------------------------------------------------------------------------------

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

// ------------------------------------------------------------------------------------------
// Chunked (RFC 9112 §7.1)
// ------------------------------------------------------------------------------------------

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

// ------------------------------------------------------------------------------------------
// Content codings (RFC 9110 §8.4, RFC 1952)
// ------------------------------------------------------------------------------------------

fn with_ce(coding: &str, body: &[u8]) -> Vec<u8> {
    cat(&[
        format!(
            "{OK}Content-Encoding: {coding}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
        body,
    ])
}

/// A gzip member written by hand: header fields per RFC 1952 §2.3, raw DEFLATE, trailer.
fn gzip_member(flags: u8, extra: &[u8], data: &[u8], crc_fix: u32, size_fix: u32) -> Vec<u8> {
    let mut raw = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    raw.write_all(data).unwrap();
    let deflated = raw.finish().unwrap();
    let mut crc = flate2::Crc::new();
    crc.update(data);
    let mut out = vec![0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 0xff];
    out.extend_from_slice(extra);
    if flags & 0x02 != 0 {
        let mut hcrc = flate2::Crc::new();
        hcrc.update(&out);
        out.extend_from_slice(&(hcrc.sum() as u16).to_le_bytes());
    }
    out.extend_from_slice(&deflated);
    out.extend_from_slice(&(crc.sum() ^ crc_fix).to_le_bytes());
    out.extend_from_slice(&((data.len() as u32) ^ size_fix).to_le_bytes());
    out
}

#[test]
fn content_codings() {
    let body = b"hello world ".repeat(100);
    let g = gzip(&body);
    let two = cat(&[&g, &gzip(b"MORE")]);
    let expect_two = cat(&[&body, b"MORE"]);
    let zlib = {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&body).unwrap();
        e.finish().unwrap()
    };
    let raw = {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&body).unwrap();
        e.finish().unwrap()
    };
    let named = gzip_member(
        0x04 | 0x08 | 0x10,
        b"\x04\x00abcdname\0comment\0",
        &body,
        0,
        0,
    );
    let hcrc = gzip_member(0x02, b"", &body, 0, 0);
    let mut bad_hcrc = hcrc.clone();
    bad_hcrc[10] ^= 1;
    let bad_crc = gzip_member(0, b"", &body, 1, 0);
    let bad_isize = gzip_member(0, b"", &body, 0, 1);
    let reserved = gzip_member(0x20, b"", &body, 0, 0);
    let br = b"\x0b\x02\x80hello\x03".to_vec();
    run_table(vec![
        case("gzip", with_ce("gzip", &g), 0).out(&body),
        case("x-gzip", with_ce("x-gzip", &g), 0).out(&body),
        case("GZIP (any case)", with_ce("GZIP", &g), 0).out(&body),
        // RFC 1952 §2.2: a gzip file is a series of members; all are decoded.
        case("two members", with_ce("gzip", &two), 0).out(&expect_two),
        // Anything after the last member is not a member: an error, not ignored (C-07).
        case(
            "trailing garbage",
            with_ce("gzip", &cat(&[&g, b"garbage"])),
            61,
        ),
        case("trailing NUL", with_ce("gzip", &cat(&[&g, b"\0"])), 61),
        case("truncated trailer", with_ce("gzip", &g[..g.len() - 5]), 61),
        case(
            "truncated mid stream",
            with_ce("gzip", &g[..g.len() / 2]),
            61,
        ),
        // §2.3.1: CRC32 and ISIZE are checked.
        case("bad CRC32", with_ce("gzip", &bad_crc), 61),
        case("bad ISIZE", with_ce("gzip", &bad_isize), 61),
        // FEXTRA, FNAME, FCOMMENT are skipped; FHCRC is checked.
        case("FEXTRA FNAME FCOMMENT", with_ce("gzip", &named), 0).out(&body),
        case("FHCRC", with_ce("gzip", &hcrc), 0).out(&body),
        case("bad FHCRC", with_ce("gzip", &bad_hcrc), 61),
        // §2.3.1.2: reserved FLG bits set must be an error.
        case("reserved flag bit", with_ce("gzip", &reserved), 61),
        case("not gzip at all", with_ce("gzip", b"hello"), 61),
        case("empty body", with_ce("gzip", b""), 0).out(""),
        // RFC 9110 §8.4.1.2: deflate is zlib; raw DEFLATE is accepted too, as browsers do.
        case("deflate (zlib)", with_ce("deflate", &zlib), 0).out(&body),
        case("deflate (raw)", with_ce("deflate", &raw), 0).out(&body),
        // cli.md: unknown codings pass through undecoded.
        case("br passes through", with_ce("br", &br), 0).out(&br),
        case("identity", with_ce("identity", &body), 0).out(&body),
        // A list passes through undecoded with its header (C-05), never half-decoded.
        case(
            "gzip, gzip passes through",
            with_ce("gzip, gzip", &gzip(&g)),
            0,
        )
        .out(gzip(&g)),
        // --raw: no decoding, bytes as sent.
        case("--raw keeps the bytes", with_ce("gzip", &g), 0)
            .args(&["--raw"])
            .out(&g),
        // Chunked framing under a content coding.
        case(
            "chunked gzip",
            cat(&[
                format!(
                    "{OK}Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
                    g.len()
                )
                .as_bytes(),
                &g,
                b"\r\n0\r\n\r\n",
            ]),
            0,
        )
        .out(&body),
        // RFC 9110 §8.6 / C-08: 204 with a coding has no content to decode.
        case(
            "204 with gzip",
            "HTTP/1.1 204 No Content\r\nContent-Encoding: gzip\r\n\r\n",
            0,
        )
        .out(""),
    ]);
}

#[test]
fn decoded_size_limit() {
    // cli.md: --max-body-size counts decoded bytes: a bomb stops at the limit with 63.
    let bomb = gzip(&vec![0u8; 8 << 20]);
    let body = b"hello world ".repeat(100);
    let g = gzip(&body);
    let n = body.len().to_string().leak() as &'static str;
    let n1 = (body.len() - 1).to_string().leak() as &'static str;
    run_table(vec![
        case("gzip bomb over the limit", with_ce("gzip", &bomb), 63)
            .args(&["--max-body-size", "1000000"]),
        case("decoded size exactly at the limit", with_ce("gzip", &g), 0)
            .args(&["--max-body-size", n])
            .out(&body),
        case("decoded size one over the limit", with_ce("gzip", &g), 63)
            .args(&["--max-body-size", n1]),
        case(
            "CL over the limit",
            format!("{OK}Content-Length: 10\r\n\r\n0123456789"),
            63,
        )
        .args(&["--max-body-size", "9"]),
        case(
            "close-delimited over the limit",
            format!("{OK}\r\n0123456789"),
            63,
        )
        .args(&["--max-body-size", "9"]),
        case(
            "chunked over the limit",
            format!("{CH}a\r\n0123456789\r\n0\r\n\r\n"),
            63,
        )
        .args(&["--max-body-size", "9"]),
        case(
            "CL at the limit",
            format!("{OK}Content-Length: 10\r\n\r\n0123456789"),
            0,
        )
        .args(&["--max-body-size", "10"])
        .out("0123456789"),
    ]);
}

// ------------------------------------------------------------------------------------------
// Hangs: a response whose framing says it is complete ends the transfer even though the
// server keeps the connection open.
// ------------------------------------------------------------------------------------------

#[test]
fn complete_responses_do_not_wait_for_the_close() {
    let cases: Vec<(&str, Vec<&str>, String, &str)> = vec![
        (
            "Content-Length",
            vec![],
            format!("{OK}Content-Length: 5\r\n\r\nhello"),
            "hello",
        ),
        (
            "chunked",
            vec![],
            format!("{CH}5\r\nhello\r\n0\r\n\r\n"),
            "hello",
        ),
        ("204", vec![], "HTTP/1.1 204 No Content\r\n\r\n".into(), ""),
        (
            "304 with CL",
            vec![],
            "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n".into(),
            "",
        ),
        // RFC 9110 §9.3.2: the response to HEAD has no content, whatever CL says.
        (
            "HEAD with CL",
            vec!["-I"],
            format!("{OK}Content-Length: 100\r\n\r\n"),
            "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
        ),
        (
            "HEAD with chunked",
            vec!["-I"],
            format!("{OK}Transfer-Encoding: chunked\r\n\r\n"),
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        ),
    ];
    thread::scope(|sc| {
        for (name, args, reply, out) in &cases {
            sc.spawn(move || {
                let s = serve(vec![Reply::Hold(reply.clone().into_bytes())]);
                let url = s.url("/");
                let mut a = vec!["-s"];
                a.extend(args.iter().copied());
                a.push(&url);
                let start = Instant::now();
                let o = squall(&a);
                assert!(
                    start.elapsed() < Duration::from_secs(10),
                    "{name}: waited for the close"
                );
                assert_eq!(o.status.code(), Some(0), "{name}: {o:?}");
                assert_eq!(String::from_utf8_lossy(&o.stdout), *out, "{name}");
                if *name == "HEAD with CL" {
                    assert!(s.request_lines()[0].starts_with("HEAD / "), "{name}");
                }
            });
        }
    });
}

#[test]
fn silent_server_times_out_with_28() {
    // The server accepts, reads the request and never answers: -m bounds the transfer.
    let s = serve(vec![Reply::Hold(Vec::new())]);
    let start = Instant::now();
    let o = squall(&["-s", "-m", "1", "-w", "%{http_code}", &s.url("/")]);
    assert_eq!(o.status.code(), Some(28), "{o:?}");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "the budget bounds it"
    );
    assert_eq!(o.stdout, b"000", "no response: http_code 000");
    // Silent after the head: same budget, same code.
    let s = serve(vec![Reply::Hold(
        format!("{OK}Content-Length: 10\r\n\r\nhel").into_bytes(),
    )]);
    let o = squall(&["-s", "-m", "1", &s.url("/")]);
    assert_eq!(o.status.code(), Some(28), "{o:?}");
    assert_eq!(o.stdout, b"hel");
}

// ------------------------------------------------------------------------------------------
// Keep-alive: bytes past the end of a response never become the next response
// ------------------------------------------------------------------------------------------

/// A keep-alive server: every request on a connection gets `reply`; each request is logged
/// with the connection it came on.
fn keep_alive_server(reply: &'static [u8]) -> Server {
    Server::start(move |_| vec![write(reply.to_vec())])
}

/// The connection number of each request the server received, in order.
fn connections(srv: &Server) -> Vec<usize> {
    srv.reqs().iter().map(|r| r.conn).collect()
}

#[test]
fn extra_bytes_after_a_response_are_not_the_next_response() {
    // RFC 9112 §6.3 rule 5 / §9.3: the body ends after Content-Length bytes; the rest cannot
    // be trusted as the start of the next response, so the connection is not reused.
    let srv = keep_alive_server(
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nhelHTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nevil",
    );
    let o = squall(&[
        "-s",
        "-w",
        "%{http_code}\\n",
        &srv.url("/1"),
        &srv.url("/2"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(String::from_utf8_lossy(&o.stdout), "hel200\nhel200\n");
    let conns = connections(&srv);
    assert_eq!(conns.len(), 2, "{:?}", srv.reqs());
    assert_ne!(
        conns[0],
        conns[1],
        "a new connection for /2: {:?}",
        srv.reqs()
    );
    // A clean response on the same server shape: the connection is reused.
    let srv = keep_alive_server(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nhel");
    let o = squall(&["-s", &srv.url("/1"), &srv.url("/2")]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let conns = connections(&srv);
    assert_eq!(conns.len(), 2);
    assert_eq!(conns[0], conns[1], "reused: {:?}", srv.reqs());
}

// ------------------------------------------------------------------------------------------
// Redirects (RFC 9110 §15.4, §10.2.2)
// ------------------------------------------------------------------------------------------

fn redirect(code: u16, location: &str) -> Reply {
    Reply::Close(
        format!("HTTP/1.1 {code} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n")
            .into_bytes(),
    )
}

fn ok_reply(body: &str) -> Reply {
    Reply::Close(format!("{OK}Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes())
}

#[test]
fn redirect_locations_resolve_encode_and_fail_with_curls_codes() {
    // Relative reference resolved per RFC 3986 §5.2 against the request URL.
    let s = serve(vec![redirect(302, "../b/c?x=1"), ok_reply("ok")]);
    let o = squall(&[
        "-s",
        "-w",
        " %{num_redirects} %{url_effective}",
        &s.url("/a/d/e"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(
        s.request_lines(),
        ["GET /a/d/e HTTP/1.1", "GET /a/b/c?x=1 HTTP/1.1"]
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("ok 1 {}", s.url("/a/b/c?x=1"))
    );

    // A space in Location is sent percent-encoded, never raw on the request line.
    let s = serve(vec![redirect(302, "/a b"), ok_reply("ok")]);
    let o = squall(&["-s", &s.url("/")]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(s.request_lines()[1], "GET /a%20b HTTP/1.1");

    // The fragment is never sent (RFC 9110 §7.1), before or after the redirect.
    let s = serve(vec![redirect(302, "/b#new"), ok_reply("ok")]);
    let o = squall(&["-s", &s.url("/a#frag")]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(s.request_lines(), ["GET /a HTTP/1.1", "GET /b HTTP/1.1"]);

    // Location to a scheme squall does not speak: 1.
    let s = serve(vec![redirect(302, "ftp://127.0.0.1/x")]);
    let o = squall(&["-s", &s.url("/")]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");

    // A loop: more than --max-redirects (default 5) is 47.
    let s = serve(vec![redirect(302, "/again")]);
    let o = squall(&["-s", &s.url("/")]);
    assert_eq!(o.status.code(), Some(47), "{o:?}");
    assert_eq!(s.requests().len(), 6, "the first request and 5 redirects");
    let o = squall(&["-s", "--max-redirects", "1", &s.url("/")]);
    assert_eq!(o.status.code(), Some(47), "{o:?}");

    // --no-follow: the 3xx is the answer, exit 0; the last of -L / --no-follow wins.
    let s = serve(vec![redirect(302, "/x"), ok_reply("ok")]);
    let o = squall(&[
        "-s",
        "-L",
        "--no-follow",
        "-w",
        "%{http_code} %{num_redirects}",
        &s.url("/"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(o.stdout, b"302 0");
    let s = serve(vec![redirect(302, "/x"), ok_reply("ok")]);
    let o = squall(&["-s", "--no-follow", "-L", &s.url("/")]);
    assert_eq!(o.stdout, b"ok");

    // A 3xx without Location is a final answer (RFC 9110 §15.4: MAY follow only with one).
    let s = serve(vec![Reply::Close(
        b"HTTP/1.1 301 Moved\r\nContent-Length: 0\r\n\r\n".to_vec(),
    )]);
    let o = squall(&["-s", "-w", "%{http_code}", &s.url("/")]);
    assert_eq!(
        (o.status.code(), o.stdout.as_slice()),
        (Some(0), &b"301"[..])
    );

    // A Location that is not a URI reference: 3 (malformed URL).
    let s = serve(vec![redirect(302, "http://[::1")]);
    let o = squall(&["-s", &s.url("/")]);
    assert_eq!(o.status.code(), Some(3), "{o:?}");
}

#[test]
fn redirect_methods() {
    let post = |code: u16| {
        let s = serve(vec![redirect(code, "/x"), ok_reply("ok")]);
        let o = squall(&["-s", "-d", "abc", &s.url("/")]);
        assert_eq!(o.status.code(), Some(0), "{code}: {o:?}");
        let reqs = s.requests();
        assert!(reqs[0].starts_with("POST / "), "{reqs:?}");
        reqs[1].clone()
    };
    // RFC 9110 §15.4.4: 303 -> GET without the body.
    let r = post(303);
    assert!(r.starts_with("GET /x "), "{r}");
    assert!(!r.to_ascii_lowercase().contains("content-length"), "{r}");
    // §15.4.3 (302) and §15.4.2 (301): POST may become GET, as every client does.
    let r = post(302);
    assert!(r.starts_with("GET /x "), "{r}");
    // §15.4.8 / §15.4.9: 307 and 308 keep the method and the body.
    for code in [307, 308] {
        let r = post(code);
        assert!(r.starts_with("POST /x "), "{code}: {r}");
        assert!(r.ends_with("\r\n\r\nabc"), "{code}: {r}");
    }
}

// ------------------------------------------------------------------------------------------
// URLs (RFC 3986)
// ------------------------------------------------------------------------------------------

#[test]
fn request_targets_from_urls() {
    let s = serve(vec![ok_reply("ok")]);
    let base = format!("127.0.0.1:{}", s.port);
    let cases: Vec<(String, &str)> = vec![
        // §3.1 / §6.2.2.1: the scheme and the host are case-insensitive.
        (format!("HTTP://{base}/a"), "GET /a HTTP/1.1"),
        // §5.2.2: T.path = remove_dot_segments(R.path).
        (format!("http://{base}/a/./b/../c"), "GET /a/c HTTP/1.1"),
        (format!("http://{base}/../../x"), "GET /x HTTP/1.1"),
        // §2.1 / §6.2.2.2: percent-encoding is kept as given (case included).
        (
            format!("http://{base}/a%2Fb%41%2e?q=%20"),
            "GET /a%2Fb%41%2e?q=%20 HTTP/1.1",
        ),
        // §3.4: "?" and "/" are data in a query.
        (
            format!("http://{base}/p?a=1?b=/2&c"),
            "GET /p?a=1?b=/2&c HTTP/1.1",
        ),
        // §3.5: the fragment is not part of the request target.
        (format!("http://{base}/p?q#frag"), "GET /p?q HTTP/1.1"),
        // §6.2.3: an empty path is "/" in the origin-form (RFC 9112 §3.2.1).
        (format!("http://{base}"), "GET / HTTP/1.1"),
        (format!("http://{base}?x=1"), "GET /?x=1 HTTP/1.1"),
        // Characters RFC 3986 does not allow are sent percent-encoded (RFC 9112 §3.2: the
        // request-target is a URI), non-ASCII as UTF-8.
        (format!("http://{base}/a\\b|c"), "GET /a%5Cb%7Cc HTTP/1.1"),
        (
            format!("http://{base}/caf\u{e9}"),
            "GET /caf%C3%A9 HTTP/1.1",
        ),
    ];
    for (url, line) in &cases {
        let s = serve(vec![ok_reply("ok")]);
        let url = url.replace(&base, &format!("127.0.0.1:{}", s.port));
        let o = squall(&["-s", &url]);
        assert_eq!(o.status.code(), Some(0), "{url}: {o:?}");
        assert_eq!(s.request_lines(), [line.to_string()], "{url}");
    }
    drop(s);
    // Userinfo: %-decoded into basic auth, never sent in the target or Host.
    let s = serve(vec![ok_reply("ok")]);
    let url = format!("http://us%40er:p%3Ass@127.0.0.1:{}/", s.port);
    let o = squall(&["-s", &url]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let req = s.requests()[0].clone();
    // base64("us@er:p:ss")
    assert!(
        req.contains("\r\nAuthorization: Basic dXNAZXI6cDpzcw==\r\n"),
        "{req}"
    );
    assert!(
        req.contains(&format!("\r\nHost: 127.0.0.1:{}\r\n", s.port)),
        "{req}"
    );
}

#[test]
fn malformed_urls() {
    let cases = [
        // Spaces and control characters are not URI characters (§2): 3.
        ("http://127.0.0.1:1/a b", 3),
        ("http://127.0 .0.1:1/", 3),
        ("http://127.0.0.1:1/a\tb", 3),
        // §3.2.3: port = *DIGIT, and TCP ports stop at 65535.
        ("http://127.0.0.1:65536/", 3),
        ("http://127.0.0.1:99999999999/", 3),
        ("http://127.0.0.1:+80/", 3),
        ("http://127.0.0.1:8a/", 3),
        // RFC 9110 §4.2.1: an http URI with an empty host is invalid.
        ("http://", 3),
        ("http:///x", 3),
        ("http://:80/", 3),
        // §3.2.2: IPv6 literals in brackets; an unbracketed one is a bad port.
        ("http://::1:80/", 3),
        ("http://[::1/", 3),
        ("http://[::g]/", 3),
        ("http://a<b/", 3),
        // Schemes squall does not fetch: 1.
        ("ftp://127.0.0.1:1/", 1),
        ("file:///etc/passwd", 1),
    ];
    let mut bad = Vec::new();
    for (url, code) in cases {
        let o = squall(&["-s", url]);
        if o.status.code() != Some(code) {
            bad.push(format!(
                "{url:?}: exit {:?}, expected {code}: {}",
                o.status.code(),
                String::from_utf8_lossy(&o.stderr).trim_end()
            ));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn empty_port_is_the_default_port() {
    // RFC 3986 §3.2.3: "http://h:/" has an empty port: the scheme's default (80). Nothing
    // listens on 127.0.0.1:80 in the test environment, or if something does it answered:
    // either way the URL is accepted (not 3).
    let o = squall(&["-s", "-m", "5", "http://127.0.0.1:/x"]);
    assert_ne!(o.status.code(), Some(3), "{o:?}");
}

#[test]
fn ipv6_zone_identifier_is_refused_clearly() {
    // RFC 6874 zone identifiers ("%25eth0") are not supported: a malformed-URL error (3) that
    // says so, never an attempt with a mangled address.
    let o = squall(&["-s", "http://[fe80::1%25eth0]:1/"]);
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("zone"), "{o:?}");
}

// ------------------------------------------------------------------------------------------
// -w, -i and -I
// ------------------------------------------------------------------------------------------

#[test]
fn write_out_fields() {
    let s = once(
        format!("{OK}Content-Type: text/html; charset=utf-8\r\nContent-Length: 5\r\n\r\nhello")
            .as_bytes(),
    );
    let o = squall(&[
        "-s",
        "-w",
        "\\n%{http_code}|%{url_effective}|%{num_redirects}|%{size_download}|%{content_type}|%%|\\t",
        &s.url("/p"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!(
            "hello\n200|{}|0|5|text/html; charset=utf-8|%|\t",
            s.url("/p")
        )
    );
    // size_download counts decoded bytes.
    let g = gzip(b"0123456789");
    let s = once(&with_ce("gzip", &g));
    let o = squall(&[
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{size_download}",
        &s.url("/"),
    ]);
    assert_eq!(o.stdout, b"10", "{o:?}");
    // After a failure, once, with 000 when no response came.
    let s = once(b"");
    let o = squall(&["-s", "-w", "%{http_code}", &s.url("/")]);
    assert_eq!(
        (o.status.code(), o.stdout.as_slice()),
        (Some(52), &b"000"[..])
    );
    // Times are numbers of seconds.
    let s = once(format!("{OK}Content-Length: 0\r\n\r\n").as_bytes());
    let o = squall(&[
        "-s",
        "-w",
        "%{time_connect} %{time_starttransfer} %{time_total}",
        &s.url("/"),
    ]);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let times: Vec<f64> = text.split(' ').map(|t| t.parse().expect(&text)).collect();
    assert_eq!(times.len(), 3, "{text}");
    assert!(times.iter().all(|t| (0.0..30.0).contains(t)), "{text}");
    assert!(times[2] >= times[0], "{text}");
}

#[test]
fn include_prints_every_head_of_a_redirect_chain() {
    let s = serve(vec![redirect(302, "/b"), ok_reply("ok")]);
    let o = squall(&["-s", "-i", &s.url("/a")]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.starts_with("HTTP/1.1 302 Moved\r\nLocation: /b\r\n"),
        "{out}"
    );
    assert!(out.contains("\r\n\r\nHTTP/1.1 200 OK\r\n"), "{out}");
    assert!(out.ends_with("\r\n\r\nok"), "{out}");
}

// ------------------------------------------------------------------------------------------
// Once found wrong here and fixed in the library: coding lists, bare schemes, odd statuses
// ------------------------------------------------------------------------------------------

#[test]
fn content_encoding_on_two_lines_is_not_half_decoded() {
    // RFC 9110 §5.3: two Content-Encoding lines are the list "gzip, gzip" (applied twice).
    // That list passes through undecoded like the one-line form (cli.md: unknown codings
    // pass through; C-05), or is decoded twice; never decoded once and labelled done.
    let inner = gzip(b"hello");
    let outer = gzip(&inner);
    let reply = cat(&[
        format!(
            "{OK}Content-Encoding: gzip\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
            outer.len()
        )
        .as_bytes(),
        &outer,
    ]);
    let s = once(&reply);
    let o = squall(&["-s", &s.url("/")]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(
        o.stdout == outer || o.stdout == b"hello",
        "half-decoded body: {:?}",
        o.stdout
    );
}

#[test]
fn http_scheme_without_authority_is_a_malformed_url() {
    // RFC 3986 §3: "http:/x" has scheme "http" and no authority; RFC 9110 §4.2.1: an http
    // URI without a host is invalid -> 3. squall prepends "http://" and resolves "http" (6).
    for url in ["http:/x", "http:x", "https:/x", "HTTP:/x"] {
        let o = squall(&["-s", url]);
        assert_eq!(o.status.code(), Some(3), "{url}: {o:?}");
    }
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
fn head_prints_content_encoding_as_received() {
    // cli.md: -I prints the response head. A HEAD response has no content (RFC 9110 §9.3.2),
    // so nothing is decoded and the Content-Encoding field is the server's, as sent.
    let s = serve(vec![Reply::Close(
        format!("{OK}Content-Encoding: gzip\r\nContent-Length: 100\r\n\r\n").into_bytes(),
    )]);
    let o = squall(&["-s", "-I", &s.url("/")]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("{OK}Content-Encoding: gzip\r\nContent-Length: 100\r\n\r\n")
    );
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

#[test]
fn ipv6_literal_host_header_keeps_brackets() {
    // RFC 3986 §3.2.2 / RFC 9110 §7.2: Host for an IPv6 literal is "[addr]:port".
    let Ok(l) = TcpListener::bind("[::1]:0") else {
        return; // no IPv6 loopback here
    };
    let port = l.local_addr().unwrap().port();
    let h = thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let req = read_request(&mut s).unwrap();
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            .unwrap();
        String::from_utf8_lossy(&req).into_owned()
    });
    let url = format!("http://[::1]:{port}/x");
    let o = squall(&["-s", "-w", "|%{url_effective}", &url]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(String::from_utf8_lossy(&o.stdout), format!("ok|{url}"));
    let req = h.join().unwrap();
    assert!(req.starts_with("GET /x HTTP/1.1\r\n"), "{req}");
    assert!(
        req.contains(&format!("\r\nHost: [::1]:{port}\r\n")),
        "{req}"
    );
}

#[test]
fn location_with_raw_utf8_bytes_is_not_double_encoded() {
    // RFC 3986 §2.1: percent-encoding encodes octets. A Location holding the raw UTF-8 bytes
    // of "/é" (C3 A9) is requested as /%C3%A9; today it is decoded as latin-1 and re-encoded
    // as UTF-8: /%C3%83%C2%A9.
    let s = serve(vec![
        Reply::Close(
            b"HTTP/1.1 302 Found\r\nLocation: /\xc3\xa9\r\nContent-Length: 0\r\n\r\n".to_vec(),
        ),
        ok_reply("ok"),
    ]);
    let o = squall(&["-s", &s.url("/")]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(s.request_lines()[1], "GET /%C3%A9 HTTP/1.1");
}

#[test]
fn a_trickling_server_is_bounded_by_max_time() {
    // -m is one budget for the whole transfer (cli.md), not an idle timeout: a server that
    // sends a byte every 100 ms forever still ends in 28.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let _ = read_request(&mut s);
        let _ = s.write_all(format!("{OK}Content-Length: 1000\r\n\r\n").as_bytes());
        for _ in 0..200 {
            if s.write_all(b"x").is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(100));
        }
    });
    let start = Instant::now();
    let o = squall(&["-s", "-m", "1", &format!("http://127.0.0.1:{port}/")]);
    assert_eq!(o.status.code(), Some(28), "{o:?}");
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(!o.stdout.is_empty() && o.stdout.len() < 1000);
}

#[test]
fn several_urls_exit_with_the_first_failure_in_command_line_order() {
    // cli.md: all URLs are fetched, bodies in command-line order (also with -P), and the
    // exit code is that of the first failing URL in command-line order.
    let ok = once(format!("{OK}Content-Length: 2\r\n\r\nok").as_bytes());
    let short = once(format!("{OK}Content-Length: 9\r\n\r\nab").as_bytes());
    let bad = once(b"HTTP/2.0 200 OK\r\n\r\n");
    let o = squall(&["-s", &ok.url("/"), &short.url("/"), &bad.url("/")]);
    assert_eq!(o.status.code(), Some(18), "{o:?}");
    assert_eq!(o.stdout, b"okab");
    let ok = once(format!("{OK}Content-Length: 2\r\n\r\nok").as_bytes());
    let short = once(format!("{OK}Content-Length: 9\r\n\r\nab").as_bytes());
    let bad = once(b"HTTP/2.0 200 OK\r\n\r\n");
    let o = squall(&[
        "-s",
        "-P",
        "3",
        &ok.url("/"),
        &bad.url("/"),
        &short.url("/"),
    ]);
    assert_eq!(o.status.code(), Some(8), "{o:?}");
    assert_eq!(o.stdout, b"okab");
}

#[test]
fn redirect_inherits_the_fragment() {
    // RFC 9110 §10.2.2: "If the Location value provided in a 3xx response does not have a
    // fragment component, a user agent MUST process the redirection as if the value inherits
    // the fragment component of the URI reference used to generate the target URI".
    let s = serve(vec![redirect(302, "/b"), ok_reply("ok")]);
    let o = squall(&["-s", "-w", "|%{url_effective}", &s.url("/a#frag")]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("ok|{}", s.url("/b#frag"))
    );
    // A fragment in Location wins.
    let s = serve(vec![redirect(302, "/b#new"), ok_reply("ok")]);
    let o = squall(&["-s", "-w", "|%{url_effective}", &s.url("/a#frag")]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("ok|{}", s.url("/b#new"))
    );
}

#[test]
fn raw_at_sign_in_the_password_splits_at_the_last_at() {
    // Decision: RFC 3986 §3.2.1 forbids a raw "@" in userinfo, so "u:p@ss@host" is not a
    // valid URI; squall, like curl and WHATWG parsers, splits the authority at the LAST "@"
    // (password "p@ss") rather than refusing it, since the host that follows is well formed
    // and no other reading connects anywhere sensible.
    let s = serve(vec![ok_reply("ok")]);
    let url = format!("http://u:p@ss@127.0.0.1:{}/", s.port);
    let o = squall(&["-s", &url]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let req = s.requests()[0].clone();
    // base64("u:p@ss")
    assert!(
        req.contains("\r\nAuthorization: Basic dTpwQHNz\r\n"),
        "{req}"
    );
}

#[test]
fn port_zero_is_syntactically_valid_and_fails_to_connect() {
    // Decision: RFC 3986 §3.2.3 port = *DIGIT, so ":0" parses; nothing can be reached on
    // port 0, so this is a connect failure (7), not a malformed URL (3).
    let o = squall(&["-s", "http://127.0.0.1:0/"]);
    assert_eq!(o.status.code(), Some(7), "{o:?}");
}
