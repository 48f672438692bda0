//! URLs: a small hand-written parser for what an HTTP client meets (RFC 3986).
//!
//! The `url` crate implements the WHATWG standard with IDNA and pulls in Unicode tables; an
//! HTTP client needs much less: `scheme://[userinfo@]host[:port]/path?query`, with the host a
//! registered name, an IPv4 address or a bracketed IPv6 address, and reference resolution
//! (RFC 3986 §5.2) to follow `Location` headers. So this file is RFC 3986 §3 and §5.2, and
//! nothing else.
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

/// RFC 3986 §5.2.4: removes `.` and `..` segments from a path.
pub fn remove_dot_segments(path: &str) -> String {
    let mut input = path;
    let mut out = String::with_capacity(path.len());
    while !input.is_empty() {
        if let Some(r) = input.strip_prefix("../") {
            input = r; // A
        } else if let Some(r) = input.strip_prefix("./") {
            input = r; // A
        } else if input.starts_with("/./") {
            input = &input[2..]; // B: "/./x" -> "/x"
        } else if input == "/." {
            input = "/"; // B
        } else if input.starts_with("/../") || input == "/.." {
            // C: replace the prefix with "/" and drop the last output segment
            input = if input == "/.." { "/" } else { &input[3..] };
            match out.rfind('/') {
                Some(i) => out.truncate(i),
                None => out.clear(),
            }
        } else if input == "." || input == ".." {
            input = ""; // D
        } else {
            // E: move the first segment (with its leading "/", if any) to the output
            let start = usize::from(input.starts_with('/'));
            let end = input[start..].find('/').map_or(input.len(), |i| i + start);
            out.push_str(&input[..end]);
            input = &input[end..];
        }
    }
    out
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

    /// Resolves a reference (such as a `Location` value) against this URL, RFC 3986 §5.2.2
    /// ("strict": a reference with a scheme is taken as absolute). Spaces in the reference are
    /// percent-encoded (servers do send them in `Location`); control characters are refused.
    pub fn join(&self, reference: &str) -> Result<Url, UrlError> {
        let encoded;
        let reference = if reference.contains(' ') {
            encoded = reference.replace(' ', "%20");
            encoded.as_str()
        } else {
            reference
        };
        if let Some((i, c)) = reference.char_indices().find(|(_, c)| c.is_control()) {
            return Err(UrlError::new(
                reference,
                format!("control character {:#04x} at byte {i}", c as u32),
            ));
        }
        let r = split(reference);
        let mut target = String::with_capacity(self.path.len() + reference.len() + 16);
        let (path, query): (String, Option<&str>);
        let scheme = match r.scheme {
            Some(sch) => sch.to_string(),
            None => self.scheme.clone(),
        };
        target.push_str(&scheme);
        target.push(':');
        if r.scheme.is_some() || r.authority.is_some() {
            if let Some(a) = r.authority {
                target.push_str("//");
                target.push_str(a);
            }
            path = remove_dot_segments(r.path);
            query = r.query;
        } else {
            if self.has_authority {
                target.push_str("//");
                if let Some(ui) = &self.userinfo {
                    target.push_str(ui);
                    target.push('@');
                }
                target.push_str(&self.host_header());
            }
            if r.path.is_empty() {
                path = self.path.clone();
                query = r.query.or(self.query.as_deref());
            } else {
                path = if r.path.starts_with('/') {
                    remove_dot_segments(r.path)
                } else {
                    // §5.2.3 merge
                    let merged = if self.has_authority && self.path.is_empty() {
                        format!("/{}", r.path)
                    } else {
                        match self.path.rfind('/') {
                            Some(i) => format!("{}{}", &self.path[..=i], r.path),
                            None => r.path.to_string(),
                        }
                    };
                    remove_dot_segments(&merged)
                };
                query = r.query;
            }
        }
        target.push_str(&path);
        if let Some(q) = query {
            target.push('?');
            target.push_str(q);
        }
        Url::parse(&target).map_err(|e| UrlError {
            message: format!("{} (resolving {reference:?} against {self})", e.message),
            reason_at: e.reason_at,
        })
    }

    /// Resolves a `Location` field value as stored in [`HttpHeaders`](super::headers::HttpHeaders)
    /// (each received byte 0x80-0xFF decoded as the latin-1 character of that value) against
    /// this URL. The bytes of the field are what the server meant, so each byte above 0x7F is
    /// percent-encoded as that one octet (RFC 3986 §2.1): a server's raw UTF-8 `/é`
    /// (bytes C3 A9) becomes `/%C3%A9`, never the double-encoded `/%C3%83%C2%A9` that
    /// [`Url::join`] would make of the latin-1 text. Characters above U+00FF cannot come from
    /// a received field and are encoded as UTF-8, as `join` does.
    pub fn join_location(&self, field_value: &str) -> Result<Url, UrlError> {
        if field_value.is_ascii() {
            return self.join(field_value);
        }
        let mut reference = String::with_capacity(field_value.len() + 8);
        for c in field_value.chars() {
            match u8::try_from(u32::from(c)) {
                Ok(b) if b >= 0x80 => reference.push_str(&format!("%{b:02X}")),
                _ => push_encoding_non_ascii(&mut reference, c.encode_utf8(&mut [0u8; 4])),
            }
        }
        self.join(&reference)
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
mod tests {
    use super::*;

    fn p(s: &str) -> Url {
        Url::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn components() {
        let u = p("http://example.com");
        assert_eq!(
            (u.scheme(), u.host(), u.port(), u.explicit_port()),
            ("http", "example.com", 80, None)
        );
        assert_eq!(u.path_and_query(), "/"); // R-02
        assert_eq!(u.to_string(), "http://example.com");
        let u = p("https://EXAMPLE.com./x/y?a=b&c#top");
        assert_eq!(u.host(), "example.com.");
        assert_eq!(u.port(), 443); // R-09
        assert_eq!(u.path_and_query(), "/x/y?a=b&c");
        assert_eq!(u.to_string(), "https://example.com./x/y?a=b&c");
        let u = p("http://h/p?");
        assert_eq!(u.path_and_query(), "/p?");
        assert_eq!(u.to_string(), "http://h/p?");
        let u = p("http://h?q");
        assert_eq!(u.path_and_query(), "/?q");
    }

    #[test]
    fn hosts() {
        let u = p("http://[::1]:8080/");
        assert_eq!(u.host(), "::1"); // R-09: brackets removed for connecting
        assert!(u.is_ip_host());
        assert_eq!(u.host_header(), "[::1]:8080"); // R-08
        assert_eq!(u.to_string(), "http://[::1]:8080/");
        let u = p("http://[2001:DB8::1]/");
        assert_eq!(u.host(), "2001:db8::1");
        let u = p("http://127.0.0.1:80/");
        assert!(u.is_ip_host());
        assert_eq!(u.host_header(), "127.0.0.1:80");
        assert!(!p("http://a.b/").is_ip_host());
        for bad in [
            "http://127.1/",
            "http://1.2.3.256/",
            "http://0x7f.0.0.1/",
            "http://[::1/",
            "http://[::g]/",
            "http://[::1]x/",
            "http://[fe80::1%25eth0]/",
            "http://a_b%41/",
            "http://a<b/",
            "http://:80/",
            "http:///x",
            "http:x",
            "http://h:99999/",
            "http://h:8a/",
            "http://h:-1/",
        ] {
            assert!(Url::parse(bad).is_err(), "{bad} accepted");
        }
        let e = Url::parse("http://bücher.de/").unwrap_err();
        assert!(
            e.to_string()
                .contains("internationalised host names are not supported"),
            "{e}"
        );
    }

    #[test]
    fn ports() {
        assert_eq!(p("http://h:/").explicit_port(), None);
        assert_eq!(p("http://h:00081/").port(), 81);
        assert_eq!(p("http://h:65535/").port(), 65535);
        assert_eq!(p("https://h:443/").host_header(), "h:443");
    }

    #[test]
    fn userinfo() {
        let u = p("http://u%40x:p%3Aw:d@h/");
        assert_eq!(u.username().as_deref(), Some("u@x")); // R-15
        assert_eq!(u.password().as_deref(), Some("p:w:d"));
        assert_eq!(u.host_header(), "h");
        assert_eq!(u.without_userinfo().to_string(), "http://h/");
        let u = p("http://user@h/");
        assert_eq!(u.username().as_deref(), Some("user"));
        assert_eq!(u.password(), None);
        assert_eq!(p("http://h/").username(), None);
        // R-13: credentials are UTF-8 (percent-encoded on the wire), never normalised.
        let u = p("http://us\u{e9}r:p\u{a3}@h/");
        assert_eq!(u.username().as_deref(), Some("us\u{e9}r"));
        assert_eq!(u.password().as_deref(), Some("p\u{a3}"));
    }

    #[test]
    fn refuses_spaces_and_controls() {
        for bad in [
            "http://h/a b",
            " http://h/",
            "http://h/\t",
            "http://h/\r\nX: y",
            "http://h/\0",
            "http://h/\u{7f}",
            "",
            "//h/",
            "h/x",
        ] {
            let e = Url::parse(bad).unwrap_err();
            assert!(e.to_string().starts_with("malformed URL"), "{e}");
        }
        assert!(
            Url::parse("http://h/a b")
                .unwrap_err()
                .to_string()
                .contains("space at byte 10")
        );
    }

    #[test]
    fn dot_segments_are_removed_from_the_target() {
        // RFC 3986 §5.2.2 (T.path = remove_dot_segments(R.path)) and §5.4.2.
        assert_eq!(p("http://h/a/./b/../c").path_and_query(), "/a/c");
        assert_eq!(p("http://h/../../x?y=/../z").path_and_query(), "/x?y=/../z");
        assert_eq!(p("http://h/a/b/..").path_and_query(), "/a/");
        assert_eq!(p("http://h/.").path_and_query(), "/");
        // Percent-encoded dots are data, not dot segments (§2.3 leaves the choice; kept).
        assert_eq!(p("http://h/a/%2E%2E/b").path_and_query(), "/a/%2E%2E/b");
        assert_eq!(p("http://h/a.b/c..d/.e").path_and_query(), "/a.b/c..d/.e");
        // Without an authority the path is kept: "/..//p" must not turn into "//p", which
        // would read back as an authority (fuzz corpus url/a3703267…).
        let u = p("to:/..//p.");
        assert_eq!(p(&u.to_string()), u);
    }

    #[test]
    fn characters_outside_rfc3986_are_encoded_and_escapes_kept() {
        let u = p("http://h/a\\b|c{d}^`\"<>[]?q=[1]|x?y&%41%zz");
        assert_eq!(
            u.path_and_query(),
            "/a%5Cb%7Cc%7Bd%7D%5E%60%22%3C%3E%5B%5D?q=%5B1%5D%7Cx?y&%41%zz"
        );
        assert_eq!(p(&u.to_string()), u);
        assert_eq!(p("http://h/a%2Fb%41").path_and_query(), "/a%2Fb%41");
    }

    #[test]
    fn non_ascii_path_is_encoded() {
        let u = p("http://h/caf\u{e9}?q=\u{e9}");
        assert_eq!(u.path_and_query(), "/caf%C3%A9?q=%C3%A9");
    }

    #[test]
    fn other_schemes_parse() {
        let u = p("ftp://h/x");
        assert_eq!(u.scheme(), "ftp");
        assert_eq!(u.port(), 0);
        let u = p("mailto:a@b");
        assert_eq!(u.to_string(), "mailto:a@b");
        assert_eq!(u.host(), "");
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "http://h",
            "http://u:p@h:1/a/../b?c=d",
            "https://[::ffff:1.2.3.4]:443/",
            "http://h/%zz",
            "http://h:/",
            "mailto:x",
            "http://@h/",
        ] {
            let u = p(s);
            assert_eq!(p(&u.to_string()), u, "{s}");
        }
    }

    #[test]
    fn rfc3986_section_5_4_examples() {
        let base = p("http://a/b/c/d;p?q");
        let cases = [
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("g/", "http://a/b/c/g/"),
            ("/g", "http://a/g"),
            ("//g", "http://g"),
            ("?y", "http://a/b/c/d;p?y"),
            ("g?y", "http://a/b/c/g?y"),
            ("#s", "http://a/b/c/d;p?q"),
            ("g#s", "http://a/b/c/g"),
            ("g?y#s", "http://a/b/c/g?y"),
            (";x", "http://a/b/c/;x"),
            ("g;x", "http://a/b/c/g;x"),
            ("g;x?y#s", "http://a/b/c/g;x?y"),
            ("", "http://a/b/c/d;p?q"),
            (".", "http://a/b/c/"),
            ("./", "http://a/b/c/"),
            ("..", "http://a/b/"),
            ("../", "http://a/b/"),
            ("../g", "http://a/b/g"),
            ("../..", "http://a/"),
            ("../../", "http://a/"),
            ("../../g", "http://a/g"),
            // abnormal examples, §5.4.2
            ("../../../g", "http://a/g"),
            ("../../../../g", "http://a/g"),
            ("/./g", "http://a/g"),
            ("/../g", "http://a/g"),
            ("g.", "http://a/b/c/g."),
            (".g", "http://a/b/c/.g"),
            ("g..", "http://a/b/c/g.."),
            ("..g", "http://a/b/c/..g"),
            ("./../g", "http://a/b/g"),
            ("./g/.", "http://a/b/c/g/"),
            ("g/./h", "http://a/b/c/g/h"),
            ("g/../h", "http://a/b/c/h"),
            ("g;x=1/./y", "http://a/b/c/g;x=1/y"),
            ("g;x=1/../y", "http://a/b/c/y"),
            ("g?y/./x", "http://a/b/c/g?y/./x"),
            ("g?y/../x", "http://a/b/c/g?y/../x"),
            ("g#s/./x", "http://a/b/c/g"),
            ("g#s/../x", "http://a/b/c/g"),
            ("HTTP://a/x", "http://a/x"),
            ("https://other:8443/z", "https://other:8443/z"),
        ];
        for (r, want) in cases {
            let got = base.join(r).unwrap_or_else(|e| panic!("{r}: {e}"));
            assert_eq!(got.to_string(), want, "reference {r:?}");
        }
        // "g:h" is a URL of scheme g (strict parsers take it as absolute).
        assert_eq!(base.join("g:h").unwrap().to_string(), "g:h");
    }

    #[test]
    fn join_edge_cases() {
        let base = p("http://u:p@h:8080");
        assert_eq!(base.join("x").unwrap().to_string(), "http://u:p@h:8080/x");
        assert_eq!(base.join("/a b").unwrap().path(), "/a%20b");
        assert!(base.join("/a\r\nb").is_err());
        assert!(base.join("http://").is_err());
        assert!(base.join("//bücher.de/").is_err());
    }

    #[test]
    fn join_location_encodes_the_received_octets() {
        let base = p("http://h/a/b");
        // Raw UTF-8 "é" on the wire is C3 A9, stored as the latin-1 text "\u{c3}\u{a9}".
        assert_eq!(
            base.join_location("/\u{c3}\u{a9}").unwrap().path(),
            "/%C3%A9"
        );
        // A latin-1 byte E9 stays one octet.
        assert_eq!(
            base.join_location("x\u{e9}?q=\u{e9}")
                .unwrap()
                .path_and_query(),
            "/a/x%E9?q=%E9"
        );
        assert_eq!(
            base.join_location("/plain?x").unwrap().path_and_query(),
            "/plain?x"
        );
        // A host made of such bytes is still refused (no IDNA).
        assert!(base.join_location("//b\u{fc}cher.de/").is_err());
    }

    #[test]
    fn same_origin_uses_effective_port() {
        let a = p("http://H/");
        assert!(a.same_origin(&p("http://h:80/x")));
        assert!(!a.same_origin(&p("https://h/")));
        assert!(!a.same_origin(&p("http://h:81/")));
        assert!(!a.same_origin(&p("http://g/")));
    }

    #[test]
    fn request_targets() {
        let u = p("http://u:p@[::1]/");
        assert_eq!(u.authority_form(), "[::1]:80");
        assert_eq!(p("http://u:p@h").absolute_form(), "http://h/");
    }
}
