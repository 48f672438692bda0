//! The heads as `squall` prints them: `-i` on stdout, `-v` on stderr (`> ` sent, `< ` received).
//!
//! The library records every hop of a transfer (each request head it wrote, redirects and
//! retries included, and the 1xx and final heads it read back, see `squall::client::hops`)
//! and reports it twice: live through the request's hop callback, whole on the response. This
//! file only turns that record into the bytes curl shows. [`verbose`] is one hop event as `-v`
//! prints it, when it happens, so each request head shows before its reply and after the
//! response head that caused it; [`received`] is every head of a transfer as `-i` prints it, in
//! the order they came. Heads are printed as read: a body squall decodes still shows the
//! `Content-Encoding` line where the server sent it.

use squall::client::{Hop, HopEvent};
use squall::http::response::{ResponseHead, Version};

/// The `-v` text of one hop event: the request head about to be written (`> `), or a response
/// head just read (`< `).
pub(super) fn verbose(event: HopEvent, hop: &Hop) -> String {
    match event {
        HopEvent::Sent => prefixed_lines("> ", &hop.request_head),
        HopEvent::Interim => hop
            .interim
            .last()
            .map(|h| prefixed_lines("< ", &head_bytes(h)))
            .unwrap_or_default(),
        HopEvent::Answered => hop
            .response
            .as_ref()
            .map(|h| prefixed_lines("< ", &head_bytes(h)))
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// Every response head of the transfer, as `-i` prints them: hop by hop, the 1xx heads and
/// then the final head (a retried hop that broke has none).
pub(super) fn received(hops: &[Hop]) -> Vec<u8> {
    let mut out = Vec::new();
    for hop in hops {
        for h in hop.interim.iter().chain(&hop.response) {
            out.extend(head_bytes(h));
        }
    }
    out
}

/// The final head as read (for `-w %header{...}`): the last hop's.
pub(super) fn final_head(hops: &[Hop]) -> Option<&ResponseHead> {
    hops.last()?.response.as_ref()
}

/// `> ` / `< ` before every line of a head (CRLF dropped), as curl -v prints them.
fn prefixed_lines(prefix: &str, head: &[u8]) -> String {
    if head.is_empty() {
        return String::new();
    }
    let text = String::from_utf8_lossy(head);
    let mut s = String::new();
    for line in text.split("\r\n") {
        s.push_str(prefix);
        s.push_str(line);
        s.push('\n');
    }
    // A head ends with an empty line: split gives one more empty piece after it.
    if text.ends_with("\r\n") {
        s.truncate(s.len() - prefix.len() - 1);
    }
    s
}

fn version_text(v: &Version) -> &'static str {
    match v {
        Version::Http10 => "HTTP/1.0",
        _ => "HTTP/1.1",
    }
}

/// The version as `%{http_version}` shows it.
pub(super) fn version_number(v: &Version) -> &'static str {
    match v {
        Version::Http10 => "1.0",
        _ => "1.1",
    }
}

/// A head as `-i` prints it: status line, fields, empty line, CRLF endings.
fn head_bytes(head: &ResponseHead) -> Vec<u8> {
    // RFC 9112 §4: status-code = 3DIGIT, so a received 099 prints as 099.
    let mut s = format!(
        "{} {:03} {}\r\n",
        version_text(&head.version),
        head.code,
        head.reason
    );
    for (name, value) in head.headers.iter() {
        s.push_str(name);
        s.push_str(": ");
        s.push_str(value);
        s.push_str("\r\n");
    }
    s.push_str("\r\n");
    // Received values are latin-1 decoded into chars: write them back as the bytes that came.
    s.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use squall::http::headers::HttpHeaders;

    fn head(version: Version, code: u16, reason: &str, fields: &[(&str, &str)]) -> ResponseHead {
        let mut headers = HttpHeaders::new();
        for (n, v) in fields {
            headers.add(n, v);
        }
        ResponseHead {
            version,
            code,
            reason: reason.to_string(),
            headers,
        }
    }

    #[test]
    fn verbose_prefixes() {
        assert_eq!(
            prefixed_lines("> ", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            "> GET / HTTP/1.1\n> Host: x\n> \n"
        );
        assert_eq!(prefixed_lines("< ", b""), "");
    }

    #[test]
    fn heads_print_as_on_the_wire() {
        let h = head(
            Version::Http11,
            200,
            "OK",
            &[("Content-Type", "text/plain"), ("X-Latin", "caf\u{e9}")],
        );
        assert_eq!(
            head_bytes(&h),
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Latin: caf\xe9\r\n\r\n"
        );
        assert_eq!(
            head_bytes(&head(Version::Http10, 404, "Not Found", &[])),
            b"HTTP/1.0 404 Not Found\r\n\r\n"
        );
        assert_eq!(
            head_bytes(&head(Version::Http11, 99, "Odd", &[])),
            b"HTTP/1.1 099 Odd\r\n\r\n"
        );
    }
}
