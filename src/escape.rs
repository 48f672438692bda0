//! JSON and URL escaping, as Tornado's `tornado.escape` does it.
//!
//! A client needs a few small, exact text transformations: JSON bodies that are safe to embed
//! in HTML (`</` written as `<\/`) and ASCII-only (so no charset question ever arises), and the
//! percent-encoding of query strings and form bodies. They live here, apart from the protocol
//! code, because they are pure functions of their input and are used by callers directly.
//!
//! - [`json_encode`] serialises any `T: Serialize` with serde_json through a [`Formatter`]
//!   of our own that writes Tornado's separators (`", "` and `": "`), escapes every non-ASCII
//!   character as `\uXXXX` (a surrogate pair outside the Basic Multilingual Plane) and writes
//!   `</` as `<\/`.
//! - [`json_decode`] parses text or bytes into a [`serde_json::Value`] or any
//!   `T: DeserializeOwned`. `NaN` and `Infinity` are not JSON and are refused.
//! - [`url_escape`] / [`url_unescape`] percent-encode and decode, in the "plus" (form) style by
//!   default, as Python's `quote_plus` / `unquote_plus`; the `_with` variants choose.
//! - [`url_concat`] appends query arguments to a URL.
//!
//! Everything that takes "text or bytes" takes `impl AsRef<[u8]>`: a `&str` is its UTF-8
//! bytes, a `&[u8]` is used as it is.
//!
//! Key order in [`json_encode`]: struct fields and any map that iterates in insertion order are
//! written in that order. A [`serde_json::Value`] object is a `BTreeMap` in this build (no
//! `preserve_order` feature), so its keys come out sorted; to control the order, encode a struct
//! or a slice of pairs through [`json_encode`] (see [`JsonObject`]).

#[cfg(feature = "json")]
use std::io;

#[cfg(feature = "json")]
use serde::Serialize;
#[cfg(feature = "json")]
use serde::de::DeserializeOwned;
#[cfg(feature = "json")]
use serde_json::ser::{CharEscape, Formatter};

#[cfg(feature = "json")]
/// The error of [`json_encode`] and [`json_decode`]: serde_json's, which says what and where
/// (`line 1 column 5`).
pub type JsonError = serde_json::Error;

#[cfg(feature = "json")]
/// serde_json's compact output with Tornado's separators and escapes (see the module doc).
#[derive(Debug, Default)]
struct TornadoFormatter;

#[cfg(feature = "json")]
impl Formatter for TornadoFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    /// A run of string characters that need no JSON escape. serde_json splits strings only at
    /// `"`, `\` and control characters, so a `</` pair is always inside one fragment.
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let bytes = fragment.as_bytes();
        let mut start = 0; // start of the pending run of bytes written as they are
        for (i, c) in fragment.char_indices() {
            let escape_slash = c == '/' && i > 0 && bytes[i - 1] == b'<';
            if c.is_ascii() && c != '\x7f' && !escape_slash {
                continue;
            }
            w.write_all(&bytes[start..i])?;
            start = i + c.len_utf8();
            if escape_slash {
                w.write_all(b"\\/")?;
                continue;
            }
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(w, "\\u{unit:04x}")?;
            }
        }
        w.write_all(&bytes[start..])
    }

    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        // Same short forms as Python's json module; other controls as lower-case \u00XX.
        let s: &[u8] = match escape {
            CharEscape::Quote => b"\\\"",
            CharEscape::ReverseSolidus => b"\\\\",
            CharEscape::Solidus => b"\\/",
            CharEscape::Backspace => b"\\b",
            CharEscape::FormFeed => b"\\f",
            CharEscape::LineFeed => b"\\n",
            CharEscape::CarriageReturn => b"\\r",
            CharEscape::Tab => b"\\t",
            CharEscape::AsciiControl(b) => return write!(w, "\\u{:04x}", b),
        };
        w.write_all(s)
    }
}

#[cfg(feature = "json")]
/// Encodes `value` as JSON the way Tornado's `json_encode` does: ASCII only (`é` as `\u00e9`,
/// characters beyond U+FFFF as a surrogate pair), `</` as `<\/` (safe inside `<script>`),
/// separators `", "` and `": "`, fields and map entries in the order `value` gives them.
///
/// Errors are serde_json's: a map key that is not a string, or a `Serialize` impl that fails.
/// Non-finite floats are written as `null`, as serde_json always does (JSON has no NaN).
///
/// ```
/// use squall::escape::json_encode;
/// assert_eq!(json_encode("</script>").unwrap(), r#""<\/script>""#);
/// assert_eq!(json_encode(&[1, 2]).unwrap(), "[1, 2]");
/// ```
pub fn json_encode<T: Serialize + ?Sized>(value: &T) -> Result<String, JsonError> {
    let mut out = Vec::with_capacity(128);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, TornadoFormatter);
    value.serialize(&mut ser)?;
    // The formatter writes ASCII only.
    Ok(String::from_utf8(out).expect("json_encode output is ASCII"))
}

#[cfg(feature = "json")]
/// A JSON object written in the order of its entries: `json_encode(&JsonObject(&[("b", 1),
/// ("a", 2)]))` gives `{"b": 1, "a": 2}`. (A `serde_json::Value` object sorts its keys.)
#[derive(Debug, Clone, Copy)]
pub struct JsonObject<'a, K, V>(pub &'a [(K, V)]);

#[cfg(feature = "json")]
impl<K: Serialize, V: Serialize> Serialize for JsonObject<'_, K, V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

#[cfg(feature = "json")]
/// Decodes JSON text or UTF-8 bytes into a [`serde_json::Value`] or any `T: DeserializeOwned`.
/// Strings come back as Rust `String`s (so `json_decode(json_encode(s)) == s`). Input that is
/// not strict JSON (trailing data, `NaN`, `Infinity`, invalid UTF-8, a lone surrogate escape)
/// is an error.
///
/// ```
/// use squall::escape::json_decode;
/// let v: serde_json::Value = json_decode(r#"{"a": "\u00e9"}"#).unwrap();
/// assert_eq!(v["a"], "é");
/// let n: Vec<u32> = json_decode(b"[1, 2]").unwrap();
/// assert_eq!(n, [1, 2]);
/// ```
pub fn json_decode<T: DeserializeOwned>(input: impl AsRef<[u8]>) -> Result<T, JsonError> {
    serde_json::from_slice(input.as_ref())
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Percent-encodes `value` in the form style (Python's `quote_plus`): space becomes `+`;
/// letters, digits and `_.-~` stay; every other byte (of the UTF-8 text, or of the bytes as
/// given) becomes `%XX` with upper-case hex. `"+ #%"` gives `"%2B+%23%25"`.
pub fn url_escape(value: impl AsRef<[u8]>) -> String {
    url_escape_with(value, true)
}

/// Percent-encodes `value`. With `plus` it is [`url_escape`]; without (Python's `quote`),
/// space becomes `%20` and `/` stays as it is: `"+ #%"` gives `"%2B%20%23%25"`.
pub fn url_escape_with(value: impl AsRef<[u8]>, plus: bool) -> String {
    let bytes = value.as_ref();
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 2);
    for &b in bytes {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(b as char)
            }
            b' ' if plus => out.push('+'),
            b'/' if !plus => out.push('/'),
            _ => {
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
    out
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes (and, with `plus`, `+` as a space) into raw bytes. An invalid escape
/// (`%zz`, a lone `%` at the end) stays literally, as in Python's `unquote_to_bytes`.
/// This is Tornado's `url_unescape(value, encoding=None)`.
pub fn url_unescape_to_bytes(value: impl AsRef<[u8]>, plus: bool) -> Vec<u8> {
    let bytes = value.as_ref();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex_val);
                let lo = bytes.get(i + 2).copied().and_then(hex_val);
                if let (Some(h), Some(l)) = (hi, lo) {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' if plus => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// The character set [`url_unescape_as`] decodes the unescaped bytes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// UTF-8; invalid sequences become U+FFFD.
    Utf8,
    /// ISO-8859-1: each byte is the code point of the same value.
    Latin1,
}

/// Decodes a percent-encoded form value (plus style: `+` is a space) as UTF-8 text, invalid
/// UTF-8 becoming U+FFFD. `"%C3%A9"` gives `"é"`, `"%zz%4a%"` gives `"%zzJ%"`.
pub fn url_unescape(value: impl AsRef<[u8]>) -> String {
    url_unescape_as(value, Charset::Utf8, true)
}

/// [`url_unescape`] choosing whether `+` means a space (`plus`).
pub fn url_unescape_with(value: impl AsRef<[u8]>, plus: bool) -> String {
    url_unescape_as(value, Charset::Utf8, plus)
}

/// Decodes `%XX` escapes and decodes the bytes they give with `charset`. Characters of the
/// input that are not ASCII are taken as UTF-8 text and kept as they are (as Python's
/// `unquote` does), so `url_unescape_as("%C3%A9", Charset::Latin1, true)` gives `"Ã©"`.
pub fn url_unescape_as(value: impl AsRef<[u8]>, charset: Charset, plus: bool) -> String {
    let bytes = value.as_ref();
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes;
    while !rest.is_empty() {
        let ascii = rest[0].is_ascii();
        let n = rest
            .iter()
            .position(|b| b.is_ascii() != ascii)
            .unwrap_or(rest.len());
        let (run, tail) = rest.split_at(n);
        if ascii {
            let raw = url_unescape_to_bytes(run, plus);
            match charset {
                Charset::Utf8 => out.push_str(&String::from_utf8_lossy(&raw)),
                Charset::Latin1 => out.extend(raw.iter().map(|&b| b as char)),
            }
        } else {
            out.push_str(&String::from_utf8_lossy(run));
        }
        rest = tail;
    }
    out
}

/// Appends query arguments to `url`, as Tornado's `url_concat`: the existing query is parsed
/// (blank values kept, `x` becomes `x=`) and written again with the new pairs after it, each
/// name and value form-encoded; a fragment stays at the end.
///
/// ```
/// use squall::escape::url_concat;
/// assert_eq!(url_concat("http://h/p?x#f", &[("y", "a b")]), "http://h/p?x=&y=a+b#f");
/// ```
pub fn url_concat<K: AsRef<str>, V: AsRef<str>>(url: &str, args: &[(K, V)]) -> String {
    let (before_frag, fragment) = match url.find('#') {
        Some(i) => (&url[..i], Some(&url[i + 1..])),
        None => (url, None),
    };
    let (base, query) = match before_frag.find('?') {
        Some(i) => (&before_frag[..i], &before_frag[i + 1..]),
        None => (before_frag, ""),
    };
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (url_unescape(k), url_unescape(v))
        })
        .collect();
    pairs.extend(
        args.iter()
            .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned())),
    );
    let mut out = String::with_capacity(url.len() + 16 * pairs.len());
    out.push_str(base);
    if !pairs.is_empty() {
        out.push('?');
        out.push_str(&form_encode(&pairs));
    }
    if let Some(f) = fragment.filter(|f| !f.is_empty()) {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// `a=1&b=x+y`: name/value pairs form-encoded and joined with `&` (Python's `urlencode`),
/// for [`url_concat`], `HttpRequest::form` and `HttpRequest::query`.
pub(crate) fn form_encode<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&url_escape(k.as_ref()));
        out.push('=');
        out.push_str(&url_escape(v.as_ref()));
    }
    out
}

/// Text as UTF-8 bytes; bytes pass through (Tornado's `utf8`).
pub fn utf8(value: impl AsRef<[u8]>) -> Vec<u8> {
    value.as_ref().to_vec()
}

/// Bytes decoded as strict UTF-8 (Tornado's `to_unicode`); invalid input is an error.
pub fn to_unicode(value: impl AsRef<[u8]>) -> Result<String, std::str::Utf8Error> {
    std::str::from_utf8(value.as_ref()).map(str::to_owned)
}
