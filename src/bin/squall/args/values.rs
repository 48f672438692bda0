//! The checks of single option values: each turns one argument into a typed value or a
//! [`Usage`] error that names the option and says what was expected.
//!
//! They are apart from the option loop because they are the rules (RFC 9110 tokens and field
//! values, curl's size suffixes, `--resolve`'s three parts, curl's guess of a missing scheme),
//! while the loop is only which option sets which field.

use std::net::IpAddr;
use std::time::Duration;

use super::{Resolve, Usage, usage};

/// RFC 9110 `tchar`.
pub fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// RFC 9110 `token`.
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// Check a `-X` method: a token, so no CR/LF/space can reach the wire.
pub fn check_method(m: &str) -> Result<(), Usage> {
    if is_token(m) {
        Ok(())
    } else {
        usage(format!(
            "invalid method {m:?}: a method must be a token (RFC 9110)"
        ))
    }
}

/// Split and check a `-H "Name: value"`.
pub fn parse_header(h: &str) -> Result<(String, String), Usage> {
    // curl's spelling of a header with an empty value: "Name;".
    if !h.contains(':')
        && let Some(name) = h.strip_suffix(';')
        && is_token(name)
    {
        return Ok((name.to_string(), String::new()));
    }
    let Some((name, value)) = h.split_once(':') else {
        return usage(format!("invalid header {h:?}: expected \"Name: value\""));
    };
    if !is_token(name) {
        return usage(format!(
            "invalid header name {name:?}: a field name must be a token"
        ));
    }
    // field-value: VCHAR, obs-text, SP and HTAB; never CR, LF, NUL or other controls.
    if let Some(c) = value
        .chars()
        .find(|&c| (c < ' ' && c != '\t') || c == '\x7f')
    {
        return usage(format!(
            "invalid value for header {name:?}: it holds the control character {c:?}"
        ));
    }
    Ok((
        name.to_string(),
        value.trim_matches([' ', '\t']).to_string(),
    ))
}

/// Parse seconds (fractions allowed): `--connect-timeout`, `-m`, `bench -d`.
pub fn parse_secs(opt: &str, v: &str) -> Result<Duration, Usage> {
    match v.trim().parse::<f64>() {
        Ok(s) if (0.0..1e12).contains(&s) => Ok(Duration::from_secs_f64(s)),
        _ => usage(format!("invalid value {v:?} for {opt}: expected seconds")),
    }
}

/// Parse a byte count with an optional K/M/G suffix (powers of 1024, as curl does).
pub fn parse_size(opt: &str, v: &str) -> Result<u64, Usage> {
    let bad = || {
        Usage(format!(
            "invalid value {v:?} for {opt}: expected a size in bytes"
        ))
    };
    let t = v.trim();
    let (digits, mult) = match t.as_bytes().last() {
        Some(b'k' | b'K') => (&t[..t.len() - 1], 1u64 << 10),
        Some(b'm' | b'M') => (&t[..t.len() - 1], 1 << 20),
        Some(b'g' | b'G') => (&t[..t.len() - 1], 1 << 30),
        Some(b'b' | b'B') => (&t[..t.len() - 1], 1),
        _ => (t, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(bad)
}

/// Parse a count of at least 1: `-P`, `bench -n`, `bench -c`.
pub(super) fn parse_count<T: std::str::FromStr + PartialOrd + From<u8>>(
    opt: &str,
    v: &str,
) -> Result<T, Usage> {
    match v.trim().parse::<T>() {
        Ok(n) if n >= T::from(1) => Ok(n),
        _ => usage(format!(
            "invalid value {v:?} for {opt}: expected a whole number >= 1"
        )),
    }
}

/// Parse `--resolve HOST:PORT:ADDR` (ADDR may be `[v6]` or bare v6).
pub fn parse_resolve(v: &str) -> Result<Resolve, Usage> {
    let bad = |why: &str| {
        Usage(format!(
            "invalid --resolve {v:?}: {why} (expected HOST:PORT:ADDR)"
        ))
    };
    let (host, rest) = v.split_once(':').ok_or_else(|| bad("no port"))?;
    let (port, addr) = rest.split_once(':').ok_or_else(|| bad("no address"))?;
    if host.is_empty() {
        return Err(bad("empty host"));
    }
    let port: u16 = port.parse().map_err(|_| bad("bad port"))?;
    let addr = addr.trim();
    let addr = addr
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .unwrap_or(addr);
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| bad("the address is not an IP address"))?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .to_ascii_lowercase();
    Ok(Resolve { host, port, addr })
}

/// A URL without a scheme is taken as http, as curl does (`squall localhost:8080/x`).
///
/// The text already has a scheme when it starts with `http:` or `https:` (any case), or with
/// an RFC 3986 scheme name followed by `:/` (curl's rule when it guesses). So `http:/x` and
/// `http:x` stay as given and are refused as malformed URLs (no authority, RFC 9110 §4.2.1),
/// `file:/x` is an unsupported scheme, and `localhost:8080/x` or `127.0.0.1:80` get `http://`.
pub fn with_scheme(url: String) -> String {
    let lower = url.get(..6).unwrap_or(&url).to_ascii_lowercase();
    if lower.starts_with("http:") || lower.starts_with("https:") || has_scheme(&url) {
        url
    } else {
        format!("http://{url}")
    }
}

/// `scheme ":/"` at the start, with scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
fn has_scheme(url: &str) -> bool {
    let b = url.as_bytes();
    if !b.first().is_some_and(u8::is_ascii_alphabetic) {
        return false;
    }
    let n = b
        .iter()
        .take_while(|&&c| c.is_ascii_alphanumeric() || b"+-.".contains(&c))
        .count();
    b[n..].starts_with(b":/")
}
