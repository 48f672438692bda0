//! Byte-level vocabulary shared by every parser and writer in `http/`: which bytes make a
//! token (RFC 9110 §5.6.2) and how received bytes become text (latin-1, RFC 9110 §5.5).
//!
//! These two rules are used by the header map, the request writer, the chunked decoder and
//! the error wording alike; kept here, at the bottom of the module, none of those files has
//! to import another for them.

/// `tchar` of RFC 9110 §5.6.2.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Appends `bytes` to `s` decoded as latin-1 (every byte is the code point of the same
/// number).
pub(crate) fn push_latin1(s: &mut String, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(ascii) if bytes.is_ascii() => s.push_str(ascii),
        _ => s.extend(bytes.iter().map(|&b| char::from(b))),
    }
}
