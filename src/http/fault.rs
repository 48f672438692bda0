//! Finding and quoting the fault in received field lines, for error messages.
//!
//! httparse says *that* a head or a trailer section is malformed, not where or why. These
//! helpers find the first offending byte and word it, for the response head
//! (`response/head_error.rs`), the chunked trailer section (`chunked.rs`) and header blocks
//! (`HttpHeaders::parse`). They only run after httparse has refused the bytes, so they are
//! written for clarity, not speed, and read no byte past the fault: a message never depends
//! on how much input had arrived.

use super::syntax::{is_tchar, push_latin1};

/// A latin-1 rendering of `bytes`, shortened, for error messages.
pub(crate) fn snippet(bytes: &[u8]) -> String {
    let mut s = String::new();
    let cut = bytes.len() > 60;
    push_latin1(&mut s, bytes.get(..60).unwrap_or(bytes));
    let mut q = format!("{s:?}");
    if cut {
        q.push('…');
    }
    q
}

/// Words for an httparse error.
pub(crate) fn describe(e: httparse::Error) -> &'static str {
    match e {
        httparse::Error::HeaderName => "invalid header name",
        httparse::Error::HeaderValue => "invalid header value",
        httparse::Error::NewLine => "invalid line ending",
        httparse::Error::Status => "invalid status line",
        httparse::Error::Token => "invalid token",
        httparse::Error::TooManyHeaders => "too many header fields",
        httparse::Error::Version => "invalid HTTP version",
    }
}

/// Finds the first byte of a head that breaks the field-line grammar: a name that is not a
/// token, a missing colon, a control character in a value, a bare CR, or whitespace opening
/// the first field line (obs-fold lines later on are continuations). Returns the 1-based line
/// number (the start line counts when `skip_lines` is 1) and the byte's index. Only used to
/// word an error after httparse found one; it reads bytes up to the fault and no further.
pub(crate) fn locate_bad_line(head: &[u8], skip_lines: usize) -> (usize, usize) {
    let mut lineno = 1;
    let mut i = 0;
    while lineno <= skip_lines {
        match head
            .get(i..)
            .and_then(|r| r.iter().position(|&b| b == b'\n'))
        {
            Some(nl) => i += nl + 1,
            None => return (lineno, head.len()),
        }
        lineno += 1;
    }
    loop {
        let Some(&first) = head.get(i) else {
            return (lineno, i);
        };
        match first {
            b'\r' | b'\n' => return (lineno, i),
            b' ' | b'\t' if lineno == skip_lines + 1 => return (lineno, i),
            b' ' | b'\t' => {}
            _ => {
                // field-name ":"
                loop {
                    match head.get(i) {
                        None => return (lineno, i),
                        Some(b':') => break,
                        Some(&b) if is_tchar(b) => i += 1,
                        Some(_) => return (lineno, i),
                    }
                }
                if head.get(i.wrapping_sub(1)).is_none_or(|&b| b == b'\n') {
                    return (lineno, i); // empty name
                }
                i += 1;
            }
        }
        // field-value up to the line end
        loop {
            match head.get(i) {
                None => return (lineno, i),
                Some(b'\n') => break,
                Some(b'\r') => {
                    if head.get(i + 1) != Some(&b'\n') {
                        return (lineno, i);
                    }
                    i += 1;
                    break;
                }
                Some(&b) if (b < 0x20 && b != b'\t') || b == 0x7f => return (lineno, i),
                Some(_) => i += 1,
            }
        }
        i += 1;
        lineno += 1;
    }
}
