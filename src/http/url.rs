//! URLs: a small hand-written parser for what an HTTP client meets (RFC 3986).
//!
//! The `url` crate implements the WHATWG standard with IDNA and pulls in Unicode tables; an
//! HTTP client needs much less: `scheme://[userinfo@]host[:port]/path?query`, with the host a
//! registered name, an IPv4 address or a bracketed IPv6 address, and reference resolution
//! (RFC 3986 §5.2) to follow `Location` headers. So this module is RFC 3986 §3 and §5.2, and
//! nothing else: this file parses and prints (§3), `url/resolve.rs` resolves references
//! ([`Url::join`], [`remove_dot_segments`], §5.2), and `url/tests.rs` holds the unit tests.
//!
//! What it refuses, with a message that names the position: spaces and control characters
//! anywhere, an empty host for `http`/`https` (RFC 9110 §4.2.1), a port that is not a number up
//! to 65535, a host with characters a DNS name cannot have, and non-ASCII host names
//! ("internationalised host names are not supported": IDNA needs the Unicode tables we do not
//! carry). Non-ASCII characters in the path, query or userinfo are percent-encoded as UTF-8,
//! as browsers do. The fragment is dropped: it is never sent (RFC 9110 §7.1).
//!
//! `Display` writes the URL back; `Url::parse(&u.to_string()) == Ok(u)` always holds.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

mod resolve;

pub use resolve::remove_dot_segments;

/// Why a URL was refused. `Display` gives the reason and the URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlError {
    message: String,
    /// Where `reason` starts in `message`.
    reason_at: usize,
}

impl UrlError {
    fn new(url: &str, why: impl fmt::Display) -> UrlError {
        let head = format!("malformed URL {url:?}: ");
        UrlError {
            reason_at: head.len(),
            message: format!("{head}{why}"),
        }
    }

    /// The full message (same as `Display`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Only what is wrong, without the URL (for messages that must not quote it, such as
    /// one about a proxy URL holding a password).
    pub fn reason(&self) -> &str {
        &self.message[self.reason_at..]
    }
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UrlError {}

/// What kind of host a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HostKind {
    /// A registered name (lower-cased), or empty for URLs without an authority.
    Name,
    /// A dotted-decimal IPv4 address.
    V4,
    /// An IPv6 address, written between brackets in the URL.
    V6,
}

/// A parsed absolute URL.
///
/// ```
/// use squall::http::url::Url;
/// let u = Url::parse("HTTP://user:p%40ss@Example.COM:8080/a/b?x=1#frag").unwrap();
/// assert_eq!(u.scheme(), "http");
/// assert_eq!(u.host(), "example.com");
/// assert_eq!(u.port(), 8080);
/// assert_eq!(u.password().as_deref(), Some("p@ss"));
/// assert_eq!(u.path_and_query(), "/a/b?x=1");
/// assert_eq!(u.host_header(), "example.com:8080");
/// assert_eq!(u.to_string(), "http://user:p%40ss@example.com:8080/a/b?x=1");
/// assert_eq!(u.join("../c").unwrap().to_string(), "http://user:p%40ss@example.com:8080/c");
/// ```
///
/// `Debug` shows the URL with its password replaced by `<redacted>` (see [`redact_userinfo`]).
#[derive(Clone, PartialEq, Eq)]
pub struct Url {
    scheme: String,
    /// Whether the URL has an authority (`//...`).
    has_authority: bool,
    /// Raw (still percent-encoded) userinfo, without the `@`.
    userinfo: Option<String>,
    host: String,
    kind: HostKind,
    port: Option<u16>,
    /// Raw path, percent-encoding kept.
    path: String,
    /// Raw query without the `?`.
    query: Option<String>,
}

/// The default port of a scheme, when it has one we know.
fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

/// Appends `s`, percent-encoding every non-ASCII character as UTF-8.
fn push_encoding_non_ascii(out: &mut String, s: &str) {
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut b = [0u8; 4];
            for byte in c.encode_utf8(&mut b).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
}

/// Whether `b` may appear as it is in a path (RFC 3986 §3.3: pchar and "/"; "%" is kept so
/// that percent-encoding stays as given) or, with `query`, in a query (§3.4: also "?").
fn is_path_char(b: u8, query: bool) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/%".contains(&b) || (query && b == b'?')
}

/// Appends a path or query: non-ASCII characters are percent-encoded as UTF-8, and so are the
/// ASCII characters RFC 3986 does not allow there (`"`, `<`, `>`, `\`, `^`, `` ` ``, `{`, `|`,
/// `}`, `[`, `]`), so the request target is always a valid origin-form (RFC 9112 §3.2.1).
fn push_encoding(out: &mut String, s: &str, query: bool) {
    for c in s.chars() {
        if c.is_ascii() && !is_path_char(c as u8, query) {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            push_encoding_non_ascii(out, c.encode_utf8(&mut [0u8; 4]));
        }
    }
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits stays as it is.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hi = b.get(i + 1).and_then(|&h| (h as char).to_digit(16));
            let lo = b.get(i + 2).and_then(|&l| (l as char).to_digit(16));
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Characters allowed in a registered name: unreserved and sub-delims of RFC 3986 §3.2.2
/// (percent-encoded names are refused: DNS has no use for them).
fn is_reg_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=".contains(&b)
}

/// The pieces of a URI reference (RFC 3986 Appendix B), as slices of the input.
#[derive(Debug, Default)]
struct Parts<'a> {
    scheme: Option<&'a str>,
    authority: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
}

/// Splits a reference without validating anything but the scheme's characters.
fn split(s: &str) -> Parts<'_> {
    let mut rest = s;
    let mut parts = Parts::default();
    // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), followed by ":"
    if let Some(colon) = rest.find(':') {
        let cand = &rest[..colon];
        let mut bytes = cand.bytes();
        let starts_alpha = bytes.next().is_some_and(|b| b.is_ascii_alphabetic());
        if starts_alpha
            && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
        {
            parts.scheme = Some(cand);
            rest = &rest[colon + 1..];
        }
    }
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        parts.authority = Some(&after[..end]);
        rest = &after[end..];
    }
    let rest = match rest.find('#') {
        Some(h) => &rest[..h],
        None => rest,
    };
    match rest.find('?') {
        Some(q) => {
            parts.path = &rest[..q];
            parts.query = Some(&rest[q + 1..]);
        }
        None => parts.path = rest,
    }
    parts
}

impl Url {
    /// Parses an absolute URL of any scheme. Only `http` and `https` are fetched; the client
    /// refuses others with `Unsupported url scheme: <url>` (R-01), so that the message can
    /// name the scheme, which needs the URL parsed first.
    pub fn parse(s: &str) -> Result<Url, UrlError> {
        if s.is_empty() {
            return Err(UrlError::new(s, "empty URL"));
        }
        // Spaces and control characters are refused anywhere: they would break the request
        // line, and silently trimming or encoding them hides a caller's mistake.
        for (i, c) in s.char_indices() {
            if c == ' ' {
                return Err(UrlError::new(s, format!("space at byte {i}")));
            }
            if c.is_control() {
                return Err(UrlError::new(
                    s,
                    format!("control character {:#04x} at byte {i}", c as u32),
                ));
            }
        }
        let parts = split(s);
        let Some(scheme) = parts.scheme else {
            return Err(UrlError::new(s, "no scheme (expected e.g. \"http://\")"));
        };
        let scheme = scheme.to_ascii_lowercase();
        let web = scheme == "http" || scheme == "https";
        let mut url = Url {
            scheme,
            has_authority: false,
            userinfo: None,
            host: String::new(),
            kind: HostKind::Name,
            port: None,
            path: String::new(),
            query: None,
        };
        match parts.authority {
            Some(auth) => {
                url.has_authority = true;
                url.parse_authority(s, auth)?;
                if web && url.host.is_empty() {
                    return Err(UrlError::new(s, "empty host"));
                }
            }
            None if web => return Err(UrlError::new(s, "no host (expected \"//\" and a host)")),
            None => {}
        }
        if url.has_authority && !parts.path.is_empty() && !parts.path.starts_with('/') {
            return Err(UrlError::new(s, "path must start with \"/\""));
        }
        if !url.has_authority && parts.path.starts_with("//") {
            return Err(UrlError::new(s, "path cannot start with \"//\""));
        }
        // RFC 3986 §5.2.2: the target of a reference with a scheme has its dot segments
        // removed (`/a/./b/../c` is `/a/c`), as curl and browsers send it.
        // Only under an authority: without one, "/..//x" would become "//x", which reads back
        // as an authority (§5.3), and the schemes squall fetches always have one.
        let path = if url.has_authority && parts.path.contains('.') {
            remove_dot_segments(parts.path)
        } else {
            parts.path.to_string()
        };
        push_encoding(&mut url.path, &path, false);
        if let Some(q) = parts.query {
            let mut query = String::with_capacity(q.len());
            push_encoding(&mut query, q, true);
            url.query = Some(query);
        }
        Ok(url)
    }

    fn parse_authority(&mut self, s: &str, auth: &str) -> Result<(), UrlError> {
        let hostport = match auth.rfind('@') {
            Some(at) => {
                let mut ui = String::new();
                push_encoding_non_ascii(&mut ui, &auth[..at]);
                self.userinfo = Some(ui);
                &auth[at + 1..]
            }
            None => auth,
        };
        let port_str;
        if let Some(rest) = hostport.strip_prefix('[') {
            let Some(close) = rest.find(']') else {
                return Err(UrlError::new(s, "unclosed \"[\" in host"));
            };
            let lit = &rest[..close];
            let after = &rest[close + 1..];
            if lit.starts_with(['v', 'V']) {
                return Err(UrlError::new(s, "IPvFuture addresses are not supported"));
            }
            if lit.contains('%') {
                return Err(UrlError::new(s, "IPv6 zone identifiers are not supported"));
            }
            let addr: Ipv6Addr = lit
                .parse()
                .map_err(|_| UrlError::new(s, format!("invalid IPv6 address {lit:?}")))?;
            self.host = addr.to_string();
            self.kind = HostKind::V6;
            port_str = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => {
                    return Err(UrlError::new(
                        s,
                        format!("unexpected {after:?} after \"]\""),
                    ));
                }
            };
        } else {
            let (host, p) = match hostport.find(':') {
                Some(c) => (&hostport[..c], Some(&hostport[c + 1..])),
                None => (hostport, None),
            };
            port_str = p;
            if !host.is_ascii() {
                return Err(UrlError::new(
                    s,
                    format!("internationalised host names are not supported: {host:?}"),
                ));
            }
            if let Some(i) = host.bytes().position(|b| !is_reg_name_char(b)) {
                let c = host[i..].chars().next().unwrap_or('?');
                return Err(UrlError::new(
                    s,
                    format!("invalid character {c:?} in host {host:?}"),
                ));
            }
            let host = host.to_ascii_lowercase();
            // A name whose last label is numeric is meant as an IPv4 address (WHATWG URL's
            // rule); it must then be a plain dotted quad, never "127.1" or "0x7f.0.0.1".
            let last_label = host.strip_suffix('.').unwrap_or(&host).rsplit('.').next();
            let numeric = last_label.is_some_and(|l| {
                !l.is_empty()
                    && (l.bytes().all(|b| b.is_ascii_digit())
                        || (l.starts_with("0x") && l[2..].bytes().all(|b| b.is_ascii_hexdigit())))
            });
            if numeric {
                let addr: Ipv4Addr = host
                    .parse()
                    .map_err(|_| UrlError::new(s, format!("invalid IPv4 address {host:?}")))?;
                self.host = addr.to_string();
                self.kind = HostKind::V4;
            } else {
                self.host = host;
                self.kind = HostKind::Name;
            }
        }
        if let Some(p) = port_str
            && !p.is_empty()
        {
            if !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(UrlError::new(s, format!("invalid port {p:?}")));
            }
            let digits = p.trim_start_matches('0');
            let n: u16 = if digits.is_empty() {
                0
            } else {
                digits
                    .parse()
                    .map_err(|_| UrlError::new(s, format!("port {p} out of range (0-65535)")))?
            };
            self.port = Some(n);
        }
        Ok(())
    }

    /// The scheme, lower-case.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The host: lower-case for names, without brackets for IPv6 (ready for DNS or parsing).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether the host is an IP address literal.
    pub fn is_ip_host(&self) -> bool {
        self.kind != HostKind::Name
    }

    /// The port to connect to: the explicit one, else 80 for http and 443 for https (R-09),
    /// else 0 for schemes without a known default.
    pub fn port(&self) -> u16 {
        self.port
            .or_else(|| default_port(&self.scheme))
            .unwrap_or(0)
    }

    /// The port written in the URL, if any.
    pub fn explicit_port(&self) -> Option<u16> {
        self.port
    }

    /// The user name of the userinfo, percent-decoded (R-15).
    pub fn username(&self) -> Option<String> {
        let ui = self.userinfo.as_deref()?;
        Some(percent_decode(ui.split(':').next().unwrap_or("")))
    }

    /// The password of the userinfo, percent-decoded, when there is a `:` in it.
    pub fn password(&self) -> Option<String> {
        let ui = self.userinfo.as_deref()?;
        ui.split_once(':').map(|(_, p)| percent_decode(p))
    }

    /// The path, still percent-encoded (empty when the URL had none).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The query without `?`, still percent-encoded.
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// The origin-form request target: path and query, `/` when the path is empty (R-02).
    pub fn path_and_query(&self) -> String {
        let mut s = String::with_capacity(self.path.len() + 1);
        if self.path.is_empty() {
            s.push('/');
        } else {
            s.push_str(&self.path);
        }
        if let Some(q) = &self.query {
            s.push('?');
            s.push_str(q);
        }
        s
    }

    fn push_host(&self, s: &mut String) {
        if self.kind == HostKind::V6 {
            s.push('[');
            s.push_str(&self.host);
            s.push(']');
        } else {
            s.push_str(&self.host);
        }
    }

    /// The `Host` header value: the authority without userinfo, the port only if the URL had
    /// one, IPv6 in brackets (R-08).
    pub fn host_header(&self) -> String {
        let mut s = String::with_capacity(self.host.len() + 8);
        self.push_host(&mut s);
        if let Some(p) = self.port {
            s.push_str(&format!(":{p}"));
        }
        s
    }

    /// The authority-form target for `CONNECT`: host and effective port, always with the port.
    pub fn authority_form(&self) -> String {
        let mut s = String::with_capacity(self.host.len() + 8);
        self.push_host(&mut s);
        s.push_str(&format!(":{}", self.port()));
        s
    }

    /// The absolute-form target for a request through a proxy: the URL without userinfo, with
    /// `/` for an empty path.
    pub fn absolute_form(&self) -> String {
        let mut u = self.without_userinfo();
        if u.has_authority && u.path.is_empty() {
            u.path.push('/');
        }
        u.to_string()
    }

    /// This URL without user name and password (e.g. for a redirect's effective URL or a log).
    pub fn without_userinfo(&self) -> Url {
        Url {
            userinfo: None,
            ..self.clone()
        }
    }

    /// Same origin: scheme, host (case-insensitive) and effective port (D-13).
    pub fn same_origin(&self, other: &Url) -> bool {
        self.scheme == other.scheme
            && self.host.eq_ignore_ascii_case(&other.host)
            && self.port() == other.port()
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.scheme)?;
        f.write_str(":")?;
        if self.has_authority {
            f.write_str("//")?;
            if let Some(ui) = &self.userinfo {
                f.write_str(ui)?;
                f.write_str("@")?;
            }
            f.write_str(&self.host_header())?;
        }
        f.write_str(&self.path)?;
        if let Some(q) = &self.query {
            f.write_str("?")?;
            f.write_str(q)?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Url {
    type Err = UrlError;
    fn from_str(s: &str) -> Result<Url, UrlError> {
        Url::parse(s)
    }
}

impl fmt::Debug for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Url")
            .field(&redact_userinfo(&self.to_string()))
            .finish()
    }
}

/// What a secret is replaced with wherever squall prints a request, a response or an error.
pub const REDACTED: &str = "<redacted>";

/// `text` with the password of every `scheme://user:password@host` in it replaced by
/// `<redacted>` (the user name stays). Works on any text, not only a URL that parses, so an
/// error message quoting a malformed URL is safe to log too.
///
/// ```
/// use squall::http::url::redact_userinfo;
/// assert_eq!(redact_userinfo("http://u:pw@h/p?q"), "http://u:<redacted>@h/p?q");
/// assert_eq!(redact_userinfo("bad URL \"http://u:p@h:99999/\""), "bad URL \"http://u:<redacted>@h:99999/\"");
/// assert_eq!(redact_userinfo("http://h/a@b"), "http://h/a@b");
/// ```
pub fn redact_userinfo(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("://") {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let start = i + 3;
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        // The authority ends at the path, query or fragment, or at what cannot be in a URL.
        let end = after
            .find(|c: char| {
                matches!(c, '/' | '?' | '#' | '"' | '\'' | ' ' | '<' | '>') || c.is_control()
            })
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.split_once(':') {
                    Some((user, _)) => {
                        out.push_str(user);
                        out.push(':');
                        out.push_str(REDACTED);
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests;
