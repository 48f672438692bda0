//! Why a response head is malformed: the words for httparse's refusals.
//!
//! httparse reports a bare kind (`Status`, `HeaderName`, ...). A user needs the byte and the
//! rule it broke: "invalid status code in status line at byte 9: \"HTTP/1.1 2x\"". This file
//! checks the status line against `HTTP/1.x SP 3DIGIT [SP reason] CRLF` by hand, and for
//! field lines asks `fault.rs` where the first bad byte is. It only runs after httparse has
//! refused a head, so nothing here is on the fast path.

use super::super::error::{ProtoError, malformed};
use super::super::fault::{describe, locate_bad_line, snippet};

/// Finds the first byte of a status line (`buf` starting at the line) that breaks
/// `HTTP/1.x SP 3DIGIT [SP reason] CRLF`, with what it breaks. Used to word httparse's errors;
/// it only looks at bytes up to the bad one, so the message does not depend on how much of
/// the line had arrived.
fn status_line_fault(buf: &[u8]) -> Option<(usize, &'static str)> {
    const VERSION: &[u8] = b"HTTP/1.";
    for (i, &b) in buf.iter().enumerate() {
        let fault = match i {
            0..=6 => VERSION.get(i) != Some(&b),
            7 => b != b'0' && b != b'1',
            8 => b != b' ',
            _ => false,
        };
        if fault {
            return Some((i, "Unexpected HTTP version"));
        }
        match i {
            9..=11 if !b.is_ascii_digit() => return Some((i, "invalid status code")),
            12 if !matches!(b, b' ' | b'\r' | b'\n') => return Some((i, "invalid status code")),
            _ if i >= 12 => {
                if b == b'\n' {
                    return None;
                }
                if b == b'\r' {
                    return match buf.get(i + 1) {
                        Some(b'\n') | None => None,
                        Some(_) => Some((i, "CR without LF")),
                    };
                }
                if (b < 0x20 && b != b'\t') || b == 0x7f {
                    return Some((i, "control character in the reason phrase"));
                }
            }
            _ => {}
        }
    }
    None
}

/// Words an httparse error with what and where. Only bytes up to the fault are quoted, so
/// the message is the same however the input was split.
pub(super) fn head_error(e: httparse::Error, buf: &[u8], offset: u64) -> ProtoError {
    // Leading empty lines (CRLF or LF) are skipped, as httparse does.
    let mut leading = 0;
    loop {
        match (buf.get(leading), buf.get(leading + 1)) {
            (Some(b'\n'), _) => leading += 1,
            (Some(b'\r'), Some(b'\n')) => leading += 2,
            (Some(b'\r'), _) => {
                return malformed(format!(
                    "malformed status line: stray CR at byte {}",
                    offset.saturating_add(leading as u64)
                ));
            }
            _ => break,
        }
    }
    let head = buf.get(leading..).unwrap_or_default();
    let at = |i: usize| offset.saturating_add(leading.saturating_add(i) as u64);
    if let Some((i, what)) = status_line_fault(head) {
        let upto = head.get(..=i).unwrap_or(head);
        return malformed(format!(
            "{what} in status line at byte {}: {}",
            at(i),
            snippet(upto)
        ));
    }
    if matches!(
        e,
        httparse::Error::Version | httparse::Error::Status | httparse::Error::Token
    ) {
        return malformed(format!("malformed status line at byte {}", at(0)));
    }
    let (lineno, pos) = locate_bad_line(head, 1);
    let line_start = head
        .get(..pos)
        .unwrap_or_default()
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let bad = head.get(line_start..=pos).unwrap_or_default();
    if lineno == 2 && matches!(bad.first(), Some(b' ' | b'\t')) {
        return malformed(format!(
            "header line cannot start with whitespace right after the status line (at byte {})",
            at(pos)
        ));
    }
    malformed(format!(
        "{} in response head line {lineno} at byte {}: {}",
        describe(e),
        at(pos),
        snippet(bad)
    ))
}
