//! The heads as `squall` prints them: `-i` on stdout, `-v` on stderr (`> ` sent, `< ` received).
//!
//! The library hands the transfer parsed heads (the final one, the followed redirects in
//! `history`) and, through two callbacks, the request heads it wrote and the header lines it
//! read. This file turns those back into the bytes curl shows, in the order they crossed the
//! wire: each request head after the response head that caused it, the 1xx heads before the
//! final one. It is apart from the transfer because the order is a puzzle of its own: the
//! library does not say where one hop ends and the next begins, so [`HeadLog::verbose_rest`]
//! rebuilds the hops from the request heads' bytes ([`hops`]).

use squall::http::headers::HttpHeaders;
use squall::http::response::{ResponseHead, Version};

/// What the callbacks of one transfer saw: the request heads sent (-v) and the response
/// heads reported by the header callback (the 1xx heads of the final hop, then the final
/// head).
#[derive(Default)]
pub(super) struct HeadLog {
    sent: Vec<Vec<u8>>,
    /// How many of `sent` are on stderr already.
    shown: usize,
    received: Vec<Vec<u8>>,
    partial: Vec<u8>,
}

impl HeadLog {
    /// A request head as the client writes it. The first is shown at once: its `-v` text is
    /// returned. Later ones (redirect hops, retries) wait for the answer, so that each shows
    /// after the response head that caused it: `None`.
    pub(super) fn sent(&mut self, head: &[u8]) -> Option<String> {
        self.sent.push(head.to_vec());
        if self.sent.len() != 1 {
            return None;
        }
        self.shown = 1;
        Some(prefixed_lines("> ", head))
    }

    /// One line from the header callback; an empty line ends a head.
    pub(super) fn line(&mut self, line: &str) {
        self.partial.extend(latin1_bytes(line));
        if line == "\r\n" {
            self.received.push(std::mem::take(&mut self.partial));
        }
    }

    /// The 1xx heads, as the header callback gave them (the last head it gave is the final
    /// one, printed from the response instead).
    pub(super) fn interim(&self) -> Vec<u8> {
        let n = self.received.len().saturating_sub(1);
        self.received[..n].concat()
    }

    /// The -v text still owed for a transfer that ended: the request heads not shown yet,
    /// each after the redirect head that caused it, then `last` (the 1xx and final heads).
    pub(super) fn verbose_rest(&mut self, history: &[Vec<u8>], last: &[u8]) -> String {
        let groups = hops(&self.sent, history.len());
        let mut text = String::new();
        let mut k = 0;
        for (hop, group) in groups.iter().enumerate() {
            if let Some(h) = hop.checked_sub(1).and_then(|k| history.get(k)) {
                text.push_str(&prefixed_lines("< ", h));
            }
            for &j in group {
                if j >= self.shown {
                    text.push_str(&prefixed_lines("> ", &self.sent[j]));
                }
                k = k.max(j + 1);
            }
        }
        for h in history.iter().skip(groups.len().saturating_sub(1)) {
            text.push_str(&prefixed_lines("< ", h));
        }
        self.shown = self.shown.max(k);
        text.push_str(&prefixed_lines("< ", last));
        text
    }
}

/// Splits the request heads sent into hops: `redirects + 1` of them when that fits, a repeat
/// of the same bytes counting as a retry of the same hop (the client retries a request once
/// on a fresh connection when a reused one was found closed). When the count cannot be made
/// to fit, every head is its own hop (order kept, nothing dropped).
fn hops(sent: &[Vec<u8>], redirects: usize) -> Vec<Vec<usize>> {
    let mut extra = sent.len().saturating_sub(redirects + 1);
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (j, head) in sent.iter().enumerate() {
        let retry = extra > 0 && j > 0 && sent[j - 1] == *head;
        match groups.last_mut() {
            Some(g) if retry => {
                g.push(j);
                extra -= 1;
            }
            _ => groups.push(vec![j]),
        }
    }
    groups
}

/// Received text is latin-1 decoded into chars: back to the bytes that came.
fn latin1_bytes(s: &str) -> impl Iterator<Item = u8> + '_ {
    s.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
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
pub(super) fn head_bytes(
    version: &Version,
    code: u16,
    reason: &str,
    headers: &HttpHeaders,
) -> Vec<u8> {
    // RFC 9112 §4: status-code = 3DIGIT, so a received 099 prints as 099.
    let mut s = format!("{} {code:03} {reason}\r\n", version_text(version));
    for (name, value) in headers.iter() {
        s.push_str(name);
        s.push_str(": ");
        s.push_str(value);
        s.push_str("\r\n");
    }
    s.push_str("\r\n");
    // Received values are latin-1 decoded into chars; write them back as bytes.
    latin1_bytes(&s).collect()
}

/// The final head's fields as the server sent them. When the client decodes a body it
/// moves `Content-Encoding` to `X-Consumed-Content-Encoding` (Tornado's API); what `-i`, `-v`
/// and `-w %header{...}` show is the wire's name (as curl --compressed shows it), at the end
/// of the head since the library keeps no position for it.
pub(super) fn received_headers(headers: &HttpHeaders, decoding: bool) -> HttpHeaders {
    const CONSUMED: &str = "X-Consumed-Content-Encoding";
    if !decoding || !headers.contains(CONSUMED) || headers.contains("Content-Encoding") {
        return headers.clone();
    }
    let mut out = HttpHeaders::new();
    for (name, value) in headers.iter() {
        if name.eq_ignore_ascii_case(CONSUMED) {
            out.add("Content-Encoding", value);
        } else {
            out.add(name, value);
        }
    }
    out
}

/// The followed redirects' heads, as `-i` prints them.
pub(super) fn history_heads(history: &[ResponseHead]) -> Vec<Vec<u8>> {
    history
        .iter()
        .map(|h| head_bytes(&h.version, h.code, &h.reason, &h.headers))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbose_prefixes() {
        assert_eq!(
            prefixed_lines("> ", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            "> GET / HTTP/1.1\n> Host: x\n> \n"
        );
    }

    #[test]
    fn request_heads_group_into_hops() {
        let h = |s: &str| s.as_bytes().to_vec();
        let (a, b, c) = (
            h("GET /a\r\n\r\n"),
            h("GET /b\r\n\r\n"),
            h("GET /c\r\n\r\n"),
        );
        assert_eq!(hops(&[], 0), Vec::<Vec<usize>>::new());
        assert_eq!(hops(std::slice::from_ref(&a), 0), [vec![0]]);
        assert_eq!(
            hops(&[a.clone(), b.clone(), c.clone()], 2),
            [vec![0], vec![1], vec![2]]
        );
        // A retry repeats the same bytes: same hop.
        assert_eq!(
            hops(&[a.clone(), a.clone(), b.clone()], 1),
            [vec![0, 1], vec![2]]
        );
        // A redirect to the same URL repeats them too: a hop of its own when the count says so.
        assert_eq!(hops(&[a.clone(), a.clone()], 1), [vec![0], vec![1]]);
        // A failure after a redirect: nothing to fit, nothing merged unless equal.
        assert_eq!(hops(&[a.clone(), b.clone()], 0), [vec![0], vec![1]]);
    }

    #[test]
    fn verbose_interleaves_requests_and_responses_per_hop() {
        let mut log = HeadLog {
            sent: vec![
                b"GET /a HTTP/1.1\r\n\r\n".to_vec(),
                b"GET /b HTTP/1.1\r\n\r\n".to_vec(),
            ],
            shown: 1, // the first one went out as it was sent
            ..HeadLog::default()
        };
        for l in [
            "HTTP/1.1 100 Continue\r\n",
            "\r\n",
            "HTTP/1.1 200 OK\r\n",
            "\r\n",
        ] {
            log.line(l);
        }
        let mut last = log.interim();
        assert_eq!(last, b"HTTP/1.1 100 Continue\r\n\r\n");
        last.extend_from_slice(b"HTTP/1.1 200 OK\r\nX: y\r\n\r\n");
        let history = [b"HTTP/1.1 302 Found\r\nLocation: /b\r\n\r\n".to_vec()];
        assert_eq!(
            log.verbose_rest(&history, &last),
            "< HTTP/1.1 302 Found\n< Location: /b\n< \n\
             > GET /b HTTP/1.1\n> \n\
             < HTTP/1.1 100 Continue\n< \n\
             < HTTP/1.1 200 OK\n< X: y\n< \n"
        );
        // Nothing is shown twice.
        assert_eq!(log.verbose_rest(&[], &[]), "");
    }

    #[test]
    fn heads_print_as_on_the_wire() {
        let mut h = HttpHeaders::new();
        h.add("Content-Type", "text/plain");
        h.add("X-Latin", "caf\u{e9}");
        assert_eq!(
            head_bytes(&Version::Http11, 200, "OK", &h),
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Latin: caf\xe9\r\n\r\n"
        );
        assert_eq!(
            head_bytes(&Version::Http10, 404, "Not Found", &HttpHeaders::new()),
            b"HTTP/1.0 404 Not Found\r\n\r\n"
        );
        assert_eq!(
            head_bytes(&Version::Http11, 99, "Odd", &HttpHeaders::new()),
            b"HTTP/1.1 099 Odd\r\n\r\n"
        );
    }
}
