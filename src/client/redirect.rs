//! The redirect policy, as pure functions over a [`Prepared`] request: no I/O here, so every
//! rule is tested directly.
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

use super::error::HttpError;
use super::request::{check_scheme, Body, Prepared};
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
    /// Follow to this URL.
    Follow(Url),
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
    if !req.follow_redirects || !is_redirect_status(code) {
        return Ok(Decision::Answer);
    }
    let location = match location.map(str::trim) {
        Some(l) if !l.is_empty() => l,
        _ => return Ok(Decision::Answer),
    };
    if matches!(code, 307 | 308) && matches!(req.body, Body::Producer(_)) {
        return Ok(Decision::Answer);
    }
    if hops_done >= req.max_redirects {
        return Err(RedirectError::TooMany);
    }
    let target = req.url.join(location).map_err(|e| {
        RedirectError::Target(HttpError::new(
            super::ErrorKind::MalformedUrl,
            format!("Malformed redirect Location {location:?}: {e}"),
        ))
    })?;
    check_scheme(&target, &target.to_string()).map_err(RedirectError::Target)?;
    Ok(Decision::Follow(target))
}

/// Why a redirect was not followed.
#[derive(Debug)]
pub(crate) enum RedirectError {
    /// More than `max_redirects` hops.
    TooMany,
    /// The target is malformed or not http(s).
    Target(HttpError),
}

/// Rewrites `req` for the hop to `target` after a `code` response.
pub(crate) fn apply(req: &mut Prepared, code: u16, target: Url) {
    if let Some(m) = redirected_method(code, &req.method) {
        req.method = m.to_string();
        req.body = Body::None;
        req.producer_length = None;
        for name in ["Content-Length", "Content-Type", "Content-Encoding", "Transfer-Encoding"] {
            req.headers.remove(name);
        }
    }
    req.headers.remove("Host");
    if !req.left_origin && !target.same_origin(&req.original_url) {
        req.left_origin = true;
    }
    if req.left_origin {
        for name in ["Authorization", "Cookie", "Proxy-Authorization"] {
            req.headers.remove(name);
        }
    }
    req.url = if req.left_origin { target.without_userinfo() } else { target };
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
}
