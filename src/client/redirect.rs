//! The redirect policy, as pure functions over a `Prepared` request: no I/O here, so every
//! rule is tested directly. [`decide`] reads the fetch's fixed options and the current hop;
//! [`apply`] rewrites the hop (`Prepared::hop`) and nothing else: the options cannot change.
//!
//! - Followed: 301, 302, 303, 307, 308, and only with a non-empty `Location` (D-01, D-03,
//!   D-04). The `Location` is resolved against the current hop's URL (RFC 3986 §5.2, D-06).
//! - 301 and 302 turn POST into GET; 303 turns every method but HEAD into GET; 307 and 308
//!   keep method and body (D-07..D-10). A request whose method changes loses its body (or
//!   body producer, D-20) and `Content-Length`, `Content-Type`, `Content-Encoding`,
//!   `Transfer-Encoding`.
//! - A 307/308 of a request with a body producer is not followed: a one-shot stream cannot be
//!   replayed, so that 3xx is the answer (D-20).
//! - Once a hop leaves the original origin (scheme, lower-case host, effective port; so
//!   https → http on the same host too), `Authorization`, `Cookie`, `Proxy-Authorization`
//!   are dropped for the rest of the chain, even if it comes back (D-13..D-15).
//! - `Host` is recomputed for each hop (D-12); a caller's `Host` does not follow a redirect.
//! - Two `Location` fields with different values: not followed, a malformed reply (the
//!   target is ambiguous, RFC 9110 §10.2.2); identical repeats are fine.
//! - The proxy is chosen again for each hop by the same rules (`no_proxy` may name the new
//!   host; an https target uses `https_proxy`). The proxy's own credentials go to the proxy
//!   only, so a hop that goes direct carries none.

use super::error::{ErrorKind, HttpError};
use super::prepare::{Body, Prepared, check_scheme};
use crate::http::headers::HttpHeaders;
use crate::http::response::ProtoErrorKind;
use crate::http::url::Url;

/// Whether this status is one squall follows.
pub fn is_redirect_status(code: u16) -> bool {
    matches!(code, 301 | 302 | 303 | 307 | 308)
}

/// The method after a redirect with `code`, or `None` when it stays the same.
pub fn redirected_method(code: u16, method: &str) -> Option<&'static str> {
    match code {
        301 | 302 if method == "POST" => Some("GET"),
        303 if method != "HEAD" && method != "GET" => Some("GET"),
        _ => None,
    }
}

/// What to do with a response head.
#[derive(Debug)]
pub(crate) enum Decision {
    /// Not a redirect to follow: this response is the answer.
    Answer,
    /// Follow to this target.
    Follow(Target),
}

/// Where a followed redirect goes.
#[derive(Debug)]
pub(crate) struct Target {
    /// The `Location` resolved against the hop's URL.
    pub url: Url,
    /// The `Location`'s fragment, if it has one (a target without one inherits the last).
    pub fragment: Option<String>,
}

/// The `Location` of a response to `req`. A redirect that would be followed and carries two
/// `Location` fields with different values has an ambiguous target (RFC 9110 §10.2.2 allows
/// one): it is a malformed reply naming both values, not a guess. Identical repeats are the
/// same target and fine; a response that is not followed is not examined.
pub(crate) fn location<'h>(
    req: &Prepared,
    code: u16,
    headers: &'h HttpHeaders,
) -> Result<Option<&'h str>, HttpError> {
    let mut values = headers.get_all("Location");
    let first = values.next();
    if let Some(a) = first
        && req.opts.follow_redirects
        && is_redirect_status(code)
        && let Some(b) = values.find(|b| b.trim() != a.trim())
    {
        return Err(HttpError::new(
            ErrorKind::Protocol(ProtoErrorKind::Malformed),
            format!(
                "{code} redirect with two different Location fields, {:?} and {:?}: \
                 ambiguous target, not followed",
                a.trim(),
                b.trim()
            ),
        ));
    }
    Ok(first)
}

/// Decides whether the response (`code`, `location`) to `req` is followed. `hops_done` is how
/// many redirects were already followed. Errors: a target that does not parse or has an
/// unsupported scheme (D-19), a chain longer than `max_redirects` (the caller attaches the
/// 3xx response to the error).
pub(crate) fn decide(
    req: &Prepared,
    code: u16,
    location: Option<&str>,
    hops_done: u32,
) -> Result<Decision, RedirectError> {
    if !req.opts.follow_redirects || !is_redirect_status(code) {
        return Ok(Decision::Answer);
    }
    let fragment = location
        .and_then(|l| l.split_once('#'))
        .map(|(_, f)| f.to_string());
    let location = match location.map(str::trim) {
        Some(l) if !l.is_empty() => l,
        _ => return Ok(Decision::Answer),
    };
    if matches!(code, 307 | 308) && matches!(req.hop.body, Body::Producer(_)) {
        return Ok(Decision::Answer);
    }
    if hops_done >= req.opts.max_redirects {
        return Err(RedirectError::TooMany);
    }
    // `join_location`: a received value's bytes 0x80-0xFF are octets to percent-encode one
    // by one (RFC 3986 §2.1), not latin-1 characters to encode as UTF-8.
    let url = req.hop.url.join_location(location).map_err(|e| {
        RedirectError::Target(HttpError::new(
            super::ErrorKind::MalformedUrl,
            format!("Malformed redirect Location {location:?}: {e}"),
        ))
    })?;
    check_scheme(&url, &url.to_string()).map_err(RedirectError::Target)?;
    Ok(Decision::Follow(Target { url, fragment }))
}

/// Why a redirect was not followed.
#[derive(Debug)]
pub(crate) enum RedirectError {
    /// More than `max_redirects` hops.
    TooMany,
    /// The target is malformed or not http(s).
    Target(HttpError),
}

/// Rewrites the hop of `req` for `target` after a `code` response: method and body (D-07..
/// D-10, D-20), `Host` (D-12), credentials once the origin is left (D-13..D-15), the URL and
/// its fragment, and the hop's proxy, picked again (the target's scheme and host may call
/// for another one, or none). An error when the proxy variable for the target's scheme does
/// not parse. The fetch's options are read, never written.
pub(crate) fn apply(req: &mut Prepared, code: u16, target: Target) -> Result<(), HttpError> {
    let (hop, opts) = (&mut req.hop, &*req.opts);
    if let Some(m) = redirected_method(code, &hop.method) {
        hop.method = m.to_string();
        hop.body = Body::None;
        hop.producer_length = None;
        for name in [
            "Content-Length",
            "Content-Type",
            "Content-Encoding",
            "Transfer-Encoding",
        ] {
            hop.headers.remove(name);
        }
    }
    hop.headers.remove("Host");
    if !hop.left_origin && !target.url.same_origin(&opts.original_url) {
        hop.left_origin = true;
    }
    if hop.left_origin {
        for name in ["Authorization", "Cookie", "Proxy-Authorization"] {
            hop.headers.remove(name);
        }
    }
    hop.url = if hop.left_origin {
        target.url.without_userinfo()
    } else {
        target.url
    };
    // RFC 9110 §10.2.2: a Location with a fragment sets it; one without inherits it.
    if target.fragment.is_some() {
        hop.fragment = target.fragment;
    }
    super::proxy::route(hop, opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn d01_d04_followed_statuses() {
        for c in [301, 302, 303, 307, 308] {
            assert!(is_redirect_status(c), "{c}");
        }
        for c in [300, 304, 305, 306, 200, 399] {
            assert!(!is_redirect_status(c), "{c}");
        }
    }

    #[test]
    fn d07_d10_method_changes() {
        assert_eq!(redirected_method(301, "POST"), Some("GET"));
        assert_eq!(redirected_method(302, "POST"), Some("GET"));
        assert_eq!(redirected_method(301, "PUT"), None);
        assert_eq!(redirected_method(302, "DELETE"), None);
        assert_eq!(redirected_method(303, "POST"), Some("GET"));
        assert_eq!(redirected_method(303, "PUT"), Some("GET"));
        assert_eq!(redirected_method(303, "DELETE"), Some("GET"));
        assert_eq!(redirected_method(303, "HEAD"), None);
        assert_eq!(redirected_method(303, "GET"), None);
        assert_eq!(redirected_method(307, "POST"), None);
        assert_eq!(redirected_method(308, "PUT"), None);
        assert_eq!(redirected_method(301, "HEAD"), None);
    }

    use crate::client::prepare::prepare;
    use crate::client::request::HttpRequest;

    fn prep(r: HttpRequest) -> Prepared {
        prepare(&r, None, None).unwrap()
    }

    fn follow(p: &Prepared, code: u16, loc: &str, hops: u32) -> Target {
        match decide(p, code, Some(loc), hops) {
            Ok(Decision::Follow(u)) => u,
            other => panic!("expected a follow, got {other:?}"),
        }
    }

    #[test]
    fn d06_relative_location_resolved() {
        let p = prep(HttpRequest::new("http://h/a/b?q"));
        assert_eq!(follow(&p, 302, "c", 0).url.to_string(), "http://h/a/c");
        assert_eq!(follow(&p, 302, "/x?y", 0).url.to_string(), "http://h/x?y");
        assert_eq!(
            follow(&p, 302, "//other:81/z", 0).url.to_string(),
            "http://other:81/z"
        );
    }

    #[test]
    fn d03_d05_d19_decisions() {
        let p = prep(HttpRequest::new("http://h/"));
        assert!(matches!(decide(&p, 302, None, 0), Ok(Decision::Answer)));
        assert!(matches!(
            decide(&p, 302, Some("  "), 0),
            Ok(Decision::Answer)
        ));
        assert!(matches!(
            decide(&p, 300, Some("/x"), 0),
            Ok(Decision::Answer)
        ));
        assert!(matches!(
            decide(&p, 302, Some("/x"), 5),
            Err(RedirectError::TooMany)
        ));
        match decide(&p, 302, Some("ftp://h/x"), 0) {
            Err(RedirectError::Target(e)) => {
                assert_eq!(e.kind(), &crate::client::ErrorKind::UnsupportedScheme);
                assert_eq!(e.to_string(), "Unsupported url scheme: ftp://h/x");
            }
            other => panic!("{other:?}"),
        }
        let p = prep(HttpRequest::new("http://h/").follow_redirects(false));
        assert!(matches!(
            decide(&p, 302, Some("/x"), 0),
            Ok(Decision::Answer)
        ));
        let p = prep(HttpRequest::new("http://h/").max_redirects(0));
        assert!(matches!(
            decide(&p, 302, Some("/x"), 0),
            Err(RedirectError::TooMany)
        ));
    }

    #[test]
    #[cfg(feature = "tls")] // prepares https URLs
    fn d13_d14_d15_credentials_stripped_once_origin_left() {
        let base = || {
            HttpRequest::new("https://u:p@h/")
                .header("Cookie", "c")
                .header("Proxy-Authorization", "x")
                .header("X-Other", "kept")
        };
        // Same origin, spelled with the default port: kept (D-14).
        let mut p = prep(base());
        let t = follow(&p, 302, "https://H:443/next", 0);
        apply(&mut p, 302, t).unwrap();
        assert!(p.hop.headers.contains("Authorization"));
        assert!(p.hop.headers.contains("Cookie"));
        // https -> http on the same host leaves the origin (D-15).
        let t = follow(&p, 302, "http://h/plain", 1);
        apply(&mut p, 302, t).unwrap();
        for h in ["Authorization", "Cookie", "Proxy-Authorization"] {
            assert!(!p.hop.headers.contains(h), "{h} survived");
        }
        assert_eq!(p.hop.headers.get("X-Other"), Some("kept"));
        assert!(p.hop.url.username().is_none());
        // Coming back does not bring them back.
        let t = follow(&p, 302, "https://h/back", 2);
        apply(&mut p, 302, t).unwrap();
        assert!(!p.hop.headers.contains("Authorization"));
    }

    #[test]
    fn d07_d20_method_change_drops_body_and_producer() {
        let mut p = prep(
            HttpRequest::new("http://h/")
                .method("POST")
                .header("Content-Type", "text/plain")
                .body_producer(|_w| async { Ok(()) }),
        );
        // 307 with a producer: the 3xx is the answer.
        assert!(matches!(
            decide(&p, 307, Some("/x"), 0),
            Ok(Decision::Answer)
        ));
        let t = follow(&p, 303, "/x", 0);
        apply(&mut p, 303, t).unwrap();
        assert_eq!(p.hop.method, "GET");
        assert!(matches!(p.hop.body, Body::None));
        assert!(!p.hop.headers.contains("Content-Type"));
        assert!(p.hop.headers.contains("User-Agent"));
        // D-12: a caller's Host does not follow.
        let mut p = prep(HttpRequest::new("http://h/").header("Host", "custom"));
        let t = follow(&p, 301, "/y", 0);
        apply(&mut p, 301, t).unwrap();
        assert!(!p.hop.headers.contains("Host"));
    }

    #[test]
    fn a_location_fragment_is_kept_one_without_inherits() {
        let mut p = prep(HttpRequest::new("http://h/a#top"));
        assert_eq!(p.hop.fragment.as_deref(), Some("top"));
        let t = follow(&p, 302, "/b", 0);
        assert_eq!(t.fragment, None);
        apply(&mut p, 302, t).unwrap();
        assert_eq!(p.hop.fragment.as_deref(), Some("top"));
        let t = follow(&p, 302, "/c#new", 1);
        assert_eq!(t.url.to_string(), "http://h/c");
        apply(&mut p, 302, t).unwrap();
        assert_eq!(p.hop.fragment.as_deref(), Some("new"));
    }

    #[test]
    fn two_different_locations_are_malformed_identical_ones_fine() {
        let p = prep(HttpRequest::new("http://h/"));
        let mut h = HttpHeaders::new();
        h.add("Location", "/a");
        h.add("Location", " /a ");
        assert_eq!(location(&p, 302, &h).unwrap(), Some("/a"));
        h.add("Location", "/b");
        let e = location(&p, 302, &h).unwrap_err();
        assert_eq!(
            e.kind(),
            &ErrorKind::Protocol(ProtoErrorKind::Malformed),
            "{e}"
        );
        assert!(
            e.to_string().contains("\"/a\"") && e.to_string().contains("\"/b\""),
            "{e}"
        );
        // Not a redirect that is followed: nothing to decide between.
        assert_eq!(location(&p, 200, &h).unwrap(), Some("/a"));
        let no_follow = prep(HttpRequest::new("http://h/").follow_redirects(false));
        assert_eq!(location(&no_follow, 302, &h).unwrap(), Some("/a"));
    }
}
