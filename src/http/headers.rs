//! `HttpHeaders`: the header map every layer passes around.
//!
//! HTTP field names are case-insensitive, a field may occur several times, and the order of
//! field lines matters to some readers (RFC 9110 §5.3), so this is not a hash map but an
//! ordered list of `(name, value)` lines, searched case-insensitively. Looking a name up in a
//! list of a dozen fields is faster than hashing it.
//!
//! All names and values live in one `String` with the lines pointing into it by offsets: a
//! received head of twenty fields costs two allocations, not forty. That keeps the response
//! head parser within a hair of httparse alone (see `benches/http.rs`).
//!
//! Received values are bytes; bytes 0x80-0xFF decode as latin-1 (ISO-8859-1), as RFC 9110
//! §5.5 suggests and as Tornado does, so every received value is representable as `&str`.

use std::fmt;
use std::ops::Range;

use super::error::{ProtoError, ProtoErrorKind};
use super::fault::{describe, locate_bad_line};
use super::syntax::push_latin1;

/// One field line: the name and value as ranges into `HttpHeaders::buf`.
#[derive(Clone, Debug)]
struct Line {
    name: Range<usize>,
    value: Range<usize>,
}

/// A case-insensitive, order-keeping, multi-valued map of header fields.
///
/// ```
/// use squall::http::headers::HttpHeaders;
/// let mut h = HttpHeaders::new();
/// h.add("Set-Cookie", "a=1");
/// h.add("set-cookie", "b=2");
/// h.add("Accept", "text/html, application/json");
/// assert_eq!(h.get("SET-COOKIE"), Some("a=1"));
/// assert_eq!(h.get_all("set-cookie").collect::<Vec<_>>(), ["a=1", "b=2"]);
/// assert_eq!(h.get_list("accept"), ["text/html", "application/json"]);
/// ```
#[derive(Clone, Default)]
pub struct HttpHeaders {
    /// Every name and value, back to back.
    buf: String,
    /// The field lines, in order.
    lines: Vec<Line>,
    /// Bytes of `buf` no longer referenced by any line (after `remove`/`set`).
    garbage: usize,
}

impl HttpHeaders {
    /// An empty map.
    pub fn new() -> HttpHeaders {
        HttpHeaders::default()
    }

    /// An empty map with room for `lines` fields of `bytes` total name and value bytes.
    pub fn with_capacity(lines: usize, bytes: usize) -> HttpHeaders {
        HttpHeaders {
            buf: String::with_capacity(bytes),
            lines: Vec::with_capacity(lines),
            garbage: 0,
        }
    }

    fn name_of(&self, l: &Line) -> &str {
        self.buf.get(l.name.clone()).unwrap_or("")
    }

    fn value_of(&self, l: &Line) -> &str {
        self.buf.get(l.value.clone()).unwrap_or("")
    }

    /// The value of the `i`-th field line (for the response parser, which knows where a field
    /// is from its own pass over the head).
    pub(crate) fn value_at(&self, i: usize) -> Option<&str> {
        self.lines.get(i).map(|l| self.value_of(l))
    }

    /// The first value of `name` (case-insensitive), if the field is present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.lines
            .iter()
            .find(|l| self.name_of(l).eq_ignore_ascii_case(name))
            .map(|l| self.value_of(l))
    }

    /// Every value of `name`, one per field line, in arrival order.
    pub fn get_all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> + 's {
        self.lines
            .iter()
            .filter(move |l| self.name_of(l).eq_ignore_ascii_case(name))
            .map(move |l| self.value_of(l))
    }

    /// The elements of a list-valued field (RFC 9110 §5.6.1): every line of `name` split at
    /// commas outside double quotes, each element trimmed of SP/HTAB, empty elements dropped.
    ///
    /// `Set-Cookie` is the known exception (RFC 9110 §5.3): its values hold commas in dates, so
    /// each line is returned whole and never split.
    pub fn get_list(&self, name: &str) -> Vec<String> {
        let mut out = Vec::new();
        let whole = name.eq_ignore_ascii_case("set-cookie");
        for v in self.get_all(name) {
            if whole {
                out.push(v.to_string());
            } else {
                out.extend(list_items(v).map(str::to_string));
            }
        }
        out
    }

    /// Whether `name` contains `token` as one of its list elements (case-insensitive), e.g.
    /// `has_token("Connection", "close")`.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.get_all(name)
            .any(|v| list_items(v).any(|i| i.eq_ignore_ascii_case(token)))
    }

    /// Appends a field line, keeping any earlier lines of the same name.
    ///
    /// No validation happens here: a map may hold anything, and
    /// [`request::write_head`](super::request::write_head) refuses what may not be sent.
    pub fn add(&mut self, name: &str, value: &str) {
        let n0 = self.buf.len();
        self.buf.push_str(name);
        let n1 = self.buf.len();
        self.buf.push_str(value);
        let v1 = self.buf.len();
        self.lines.push(Line {
            name: n0..n1,
            value: n1..v1,
        });
    }

    /// Appends a received field line: name bytes (ASCII, a token) and value bytes decoded as
    /// latin-1.
    pub(crate) fn add_raw(&mut self, name: &str, value: &[u8]) {
        let n0 = self.buf.len();
        self.buf.push_str(name);
        let n1 = self.buf.len();
        push_latin1(&mut self.buf, value);
        let v1 = self.buf.len();
        self.lines.push(Line {
            name: n0..n1,
            value: n1..v1,
        });
    }

    /// Builds a map from httparse's fields without copying them one by one: the whole head
    /// block is copied once and the lines point into it. Returns `None` (use `add_raw`) when
    /// the block is not ASCII (latin-1 needs decoding) or a value holds an obs-fold.
    pub(crate) fn from_block(block: &[u8], fields: &[httparse::Header<'_>]) -> Option<HttpHeaders> {
        // One pass, a word (8 bytes) at a time: the OR of all bytes (non-ASCII shows in the
        // top bit) and the number of LFs. A head without obs-fold has one LF per field line
        // plus the status line and the empty line; more mean a fold (or leading empty lines):
        // take the slow path. (Word arithmetic rather than a byte loop: the release profile
        // is `opt-level = "s"`, which does not auto-vectorise, and a byte loop here cost more
        // than httparse itself.)
        let (newlines, high) = scan_block(block);
        if high || newlines != fields.len() + 2 {
            return None;
        }
        let text = std::str::from_utf8(block).ok()?;
        let base = block.as_ptr() as usize;
        let offset = |s: &[u8]| -> Option<std::ops::Range<usize>> {
            let start = (s.as_ptr() as usize).checked_sub(base)?;
            let end = start.checked_add(s.len())?;
            (end <= block.len()).then_some(start..end)
        };
        let mut lines = Vec::with_capacity(fields.len());
        for f in fields {
            lines.push(Line {
                name: offset(f.name.as_bytes())?,
                value: offset(f.value)?,
            });
        }
        Some(HttpHeaders {
            buf: text.to_string(),
            lines,
            garbage: 0,
        })
    }

    /// Replaces every line of `name` with one line holding `value`, at the position of the
    /// first one (or at the end when there was none).
    pub fn set(&mut self, name: &str, value: &str) {
        let first = self
            .lines
            .iter()
            .position(|l| self.name_of(l).eq_ignore_ascii_case(name));
        match first {
            None => self.add(name, value),
            Some(i) => {
                self.remove_after(name, i + 1);
                let n0 = self.buf.len();
                self.buf.push_str(name);
                let n1 = self.buf.len();
                self.buf.push_str(value);
                let v1 = self.buf.len();
                if let Some(l) = self.lines.get_mut(i) {
                    self.garbage += l.value.end.saturating_sub(l.name.start);
                    *l = Line {
                        name: n0..n1,
                        value: n1..v1,
                    };
                }
                self.maybe_compact();
            }
        }
    }

    fn remove_after(&mut self, name: &str, from: usize) {
        let mut idx = 0;
        let mut freed = 0;
        let buf = &self.buf;
        self.lines.retain(|l| {
            let keep = idx < from
                || !buf
                    .get(l.name.clone())
                    .unwrap_or("")
                    .eq_ignore_ascii_case(name);
            if !keep {
                freed += l.value.end.saturating_sub(l.name.start);
            }
            idx += 1;
            keep
        });
        self.garbage += freed;
    }

    /// Removes every line of `name`; true if there was one.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.lines.len();
        self.remove_after(name, 0);
        let removed = self.lines.len() != before;
        if removed {
            self.maybe_compact();
        }
        removed
    }

    /// Rewrites `buf` when most of it is garbage, so that a map edited in a loop stays small.
    fn maybe_compact(&mut self) {
        if self.garbage < 1024 || self.garbage * 2 < self.buf.len() {
            return;
        }
        let mut fresh = HttpHeaders::with_capacity(self.lines.len(), self.buf.len() - self.garbage);
        for (n, v) in self.iter() {
            fresh.add(n, v);
        }
        *self = fresh;
    }

    /// Whether a line of `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The number of field lines (a repeated name counts once per line).
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether there are no field lines.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Every `(name, value)` line, with the name in its original case, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.lines
            .iter()
            .map(move |l| (self.name_of(l), self.value_of(l)))
    }

    /// Parses a header block: field lines, each ending in CRLF (or LF), optionally followed by
    /// the empty line that ends a head. Names must be tokens; values may hold no control
    /// character but HTAB; values are trimmed of SP/HTAB; obs-fold is refused here (the
    /// response parser is where folding is unfolded).
    pub fn parse(block: &[u8]) -> Result<HttpHeaders, ProtoError> {
        let owned;
        let terminated: &[u8] = if block.is_empty() {
            b"\r\n"
        } else if block.ends_with(b"\n\r\n") || block.ends_with(b"\n\n") || block == b"\r\n" {
            block
        } else {
            let mut v = block.to_vec();
            if !v.ends_with(b"\n") {
                v.extend_from_slice(b"\r\n");
            }
            v.extend_from_slice(b"\r\n");
            owned = v;
            &owned
        };
        let mut storage = vec![httparse::EMPTY_HEADER; 16];
        loop {
            let cap = storage.len();
            match httparse::parse_headers(terminated, &mut storage) {
                Ok(httparse::Status::Complete((n, parsed))) => {
                    if n != terminated.len() {
                        return Err(ProtoError::new(
                            ProtoErrorKind::Malformed,
                            format!("data after the end of the header block at byte {n}"),
                        ));
                    }
                    let mut h = HttpHeaders::with_capacity(parsed.len(), terminated.len());
                    for f in parsed {
                        h.add_raw(f.name, f.value);
                    }
                    return Ok(h);
                }
                Ok(httparse::Status::Partial) => {
                    return Err(ProtoError::new(
                        ProtoErrorKind::Malformed,
                        "incomplete header block".to_string(),
                    ));
                }
                Err(httparse::Error::TooManyHeaders) if cap < 1 << 20 => {
                    let n = cap * 4;
                    storage = vec![httparse::EMPTY_HEADER; n];
                }
                Err(e) => {
                    let (line, at) = locate_bad_line(terminated, 0);
                    let at = at.min(block.len());
                    return Err(ProtoError::new(
                        ProtoErrorKind::Malformed,
                        format!(
                            "{} in header block (line {line}, at byte {at})",
                            describe(e)
                        ),
                    ));
                }
            }
        }
    }
}

/// The elements of one list-valued field value (RFC 9110 §5.6.1): split at commas outside
/// quoted strings (§5.6.4), trimmed of SP/HTAB, empty elements dropped. Allocates nothing.
pub fn list_items(v: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(v);
    std::iter::from_fn(move || {
        loop {
            let s = rest?;
            let mut in_quotes = false;
            let mut escaped = false;
            let mut cut = None;
            for (i, c) in s.char_indices() {
                if in_quotes {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        in_quotes = false;
                    }
                } else if c == '"' {
                    in_quotes = true;
                } else if c == ',' {
                    cut = Some(i);
                    break;
                }
            }
            let item = match cut {
                Some(i) => {
                    rest = s.get(i + 1..);
                    s.get(..i).unwrap_or("")
                }
                None => {
                    rest = None;
                    s
                }
            };
            let t = item.trim_matches([' ', '\t']);
            if !t.is_empty() {
                return Some(t);
            }
        }
    })
}

/// The number of LF bytes in `block` and whether any byte is not ASCII, eight bytes at a time.
fn scan_block(block: &[u8]) -> (usize, bool) {
    const LO: u64 = u64::from_ne_bytes([0x7f; 8]);
    const HI: u64 = u64::from_ne_bytes([0x80; 8]);
    const LF: u64 = u64::from_ne_bytes([b'\n'; 8]);
    // Per-byte LF counters, summed across the lanes only every 255 words: `count_ones` is a
    // software popcount (a multiply) without the `popcnt` target feature.
    let lanes = |acc: u64| -> usize {
        const M: u64 = 0x00ff_00ff_00ff_00ff;
        let pairs = (acc & M) + ((acc >> 8) & M);
        (pairs.wrapping_mul(0x0001_0001_0001_0001) >> 48) as usize
    };
    let mut newlines = 0usize;
    let mut or = 0u64;
    // Blocks of 255 words, so that no byte lane of `others` overflows.
    let mut blocks = block.chunks_exact(8 * 255);
    let mut scan = |piece: &[u8]| {
        let mut others = 0u64;
        let mut words = piece.chunks_exact(8);
        for w in &mut words {
            let mut a = [0u8; 8];
            a.copy_from_slice(w);
            let x = u64::from_ne_bytes(a);
            or |= x;
            // A byte of `y` is zero exactly where `x` holds an LF. The classic zero-byte test
            // without borrows between bytes: the top bit of each byte of `t` is set for every
            // non-zero byte of `y` (not an LF), and clear for every zero byte (an LF).
            let y = x ^ LF;
            let t = ((y & LO).wrapping_add(LO)) | y;
            others += (t & HI) >> 7;
        }
        newlines += piece.len() - words.remainder().len() - lanes(others);
        for &b in words.remainder() {
            or |= u64::from(b) << 56;
            newlines += usize::from(b == b'\n');
        }
    };
    for piece in &mut blocks {
        scan(piece);
    }
    scan(blocks.remainder());
    let high = or & HI != 0;
    (newlines, high)
}

/// Fields whose values are credentials: `Debug` shows them as `<redacted>`.
pub const SENSITIVE: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// Whether `name`'s values are credentials, never printed by `Debug` ([`SENSITIVE`]).
pub fn is_sensitive(name: &str) -> bool {
    SENSITIVE.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// The lines in order; the values of [`SENSITIVE`] fields (credentials) are `<redacted>`, so a
/// request or response can be logged with `{:?}`.
impl fmt::Debug for HttpHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|(name, value)| {
                let shown = if is_sensitive(name) {
                    crate::http::url::REDACTED
                } else {
                    value
                };
                (name, shown)
            }))
            .finish()
    }
}

/// Two maps are equal when they hold the same lines in the same order (names compared
/// case-insensitively, values exactly).
impl PartialEq for HttpHeaders {
    fn eq(&self, other: &HttpHeaders) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .zip(other.iter())
                .all(|((n1, v1), (n2, v2))| n1.eq_ignore_ascii_case(n2) && v1 == v2)
    }
}

impl Eq for HttpHeaders {}

impl<'a> FromIterator<(&'a str, &'a str)> for HttpHeaders {
    fn from_iter<I: IntoIterator<Item = (&'a str, &'a str)>>(iter: I) -> HttpHeaders {
        let mut h = HttpHeaders::new();
        for (n, v) in iter {
            h.add(n, v);
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_block_counts_lf_and_finds_non_ascii_at_every_position() {
        let mut long = vec![b'\n'; 8 * 600 + 5];
        long[17] = b'x';
        assert_eq!(scan_block(&long), (long.len() - 1, false));
        for len in 0..40 {
            for at in 0..len {
                for (b, lf, high) in [(b'\n', 1, false), (0x80, 0, true), (0xff, 0, true)] {
                    let mut v = vec![b'a'; len];
                    v[at] = b;
                    assert_eq!(scan_block(&v), (lf, high), "len {len} at {at} byte {b}");
                }
            }
            let all = vec![b'\n'; len];
            assert_eq!(scan_block(&all), (len, false));
            // Bytes next to LF in value (0x0b, 0x09, 0x8a) must not count.
            let near: Vec<u8> = (0..len).map(|i| [0x0b, 0x09, 0x8a, 0x0a][i % 4]).collect();
            let want = near.iter().filter(|&&b| b == b'\n').count();
            assert_eq!(scan_block(&near), (want, len > 2));
        }
    }

    #[test]
    fn case_insensitive_ordered_multi_valued() {
        // S-26
        let mut h = HttpHeaders::new();
        h.add("Content-Type", "text/plain");
        h.add("X-Multi", "a");
        h.add("x-multi", "b");
        assert_eq!(h.get("content-type"), Some("text/plain"));
        assert_eq!(h.get("X-MULTI"), Some("a"));
        assert_eq!(h.get_all("x-Multi").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(
            h.iter().collect::<Vec<_>>(),
            [
                ("Content-Type", "text/plain"),
                ("X-Multi", "a"),
                ("x-multi", "b")
            ]
        );
        assert_eq!(h.len(), 3);
        assert!(h.contains("CONTENT-type"));
        assert!(!h.contains("nope"));
        assert_eq!(h.get("nope"), None);
    }

    #[test]
    fn set_replaces_in_place_and_remove() {
        let mut h = HttpHeaders::new();
        h.add("A", "1");
        h.add("B", "2");
        h.add("a", "3");
        h.set("A", "x");
        assert_eq!(h.iter().collect::<Vec<_>>(), [("A", "x"), ("B", "2")]);
        h.set("C", "y");
        assert_eq!(h.get("c"), Some("y"));
        assert!(h.remove("b"));
        assert!(!h.remove("b"));
        assert_eq!(h.iter().collect::<Vec<_>>(), [("A", "x"), ("C", "y")]);
    }

    #[test]
    fn set_in_a_loop_stays_small() {
        let mut h = HttpHeaders::new();
        h.add("Keep", "me");
        for i in 0..100_000 {
            h.set("Counter", &i.to_string());
        }
        assert_eq!(h.get("counter"), Some("99999"));
        assert_eq!(h.get("keep"), Some("me"));
        assert!(h.buf.len() < 4096, "buffer grew to {}", h.buf.len());
    }

    #[test]
    fn get_list_splits_outside_quotes_but_never_set_cookie() {
        // S-26: values are never comma-joined, Set-Cookie never split.
        let mut h = HttpHeaders::new();
        h.add("Accept", "a, b,,c ");
        h.add("accept", "\"x,y\", z");
        h.add("Set-Cookie", "a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT");
        h.add("Set-Cookie", "b=2");
        assert_eq!(h.get_list("ACCEPT"), ["a", "b", "c", "\"x,y\"", "z"]);
        assert_eq!(
            h.get_list("set-cookie"),
            ["a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT", "b=2"]
        );
        assert!(h.has_token("accept", "C"));
        assert!(!h.has_token("accept", "x"));
    }

    #[test]
    fn parse_block() {
        let h = HttpHeaders::parse(b"Foo: bar\r\nBaz:  qux \r\nfoo: 2\r\n\r\n").unwrap();
        assert_eq!(h.get_all("foo").collect::<Vec<_>>(), ["bar", "2"]);
        assert_eq!(h.get("baz"), Some("qux"));
        // Without the empty line, and with bare LF (S-28).
        let h = HttpHeaders::parse(b"A: 1\nB: 2").unwrap();
        assert_eq!(h.get("b"), Some("2"));
        assert!(HttpHeaders::parse(b"").unwrap().is_empty());
    }

    #[test]
    fn parse_block_latin1() {
        // S-30: bytes 0x80-0xFF decode as latin-1.
        let h = HttpHeaders::parse(b"X: caf\xe9\r\n").unwrap();
        assert_eq!(h.get("x"), Some("café"));
    }

    #[test]
    fn parse_block_errors() {
        // S-29: control characters and non-token names; S-28: bare CR.
        for bad in [
            &b"X: a\x00b\r\n"[..],
            b"X: a\x7fb\r\n",
            b"Bad Name: v\r\n",
            b"X : v\r\n",
            b"X: a\rb\r\n",
            b"NoColon\r\n",
            b" folded: x\r\n",
        ] {
            let e = HttpHeaders::parse(bad).unwrap_err();
            assert_eq!(e.kind, ProtoErrorKind::Malformed, "{bad:?}");
        }
        let e = HttpHeaders::parse(b"A: 1\r\nB: x\x01\r\n").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
    }
}
