//! Reference resolution (RFC 3986 §5.2): where a `Location` value or a relative link points,
//! seen from the URL it came from.
//!
//! Parsing (`url.rs`) answers "what is this URL"; this file answers "what does this reference
//! mean here": the reference is split, merged with the base's path (§5.2.3), its dot segments
//! removed (§5.2.4), and the result parsed again, so a resolved URL obeys every rule a parsed
//! one does.

use super::{Url, UrlError, push_encoding_non_ascii, split};

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

    /// Resolves a `Location` field value as stored in [`HttpHeaders`](crate::http::headers::HttpHeaders)
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
}
