//! From a request to what the engine works from: [`prepare`] checks every rule of an
//! [`HttpRequest`] (defaults already merged in) and resolves its options into a [`Prepared`].
//!
//! This file exists so that the builder (`request.rs`, what a caller may ask for) and the
//! checked, resolved form (here, what a fetch does) are read apart. Every rule is checked
//! first — scheme, method, body, headers, auth mode, source address, the request's own
//! proxy — so a bad request fails with [`ErrorKind::InvalidRequest`] before any DNS lookup
//! or connect (R-25: Tornado only noticed after connecting). Nothing here touches the
//! network. A redirect later rewrites the prepared request (`redirect::apply`), and the
//! proxy of each hop is picked by `proxy::route`.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use super::error::{self, ErrorKind, HttpError};
use super::hops::HopCallback;
use super::proxy::ProxyRules;
use super::request::{
    DEFAULT_MAX_REDIRECTS, DEFAULT_TIMEOUT, DEFAULT_USER_AGENT, DataCallback, HttpRequest,
    LineCallback, ProducerFn, StreamSink,
};
use crate::http::fields::{basic_credentials, http_date};
use crate::http::headers::HttpHeaders;
use crate::http::request::{check_method_and_body, validate_header};
use crate::http::url::Url;
use crate::net::tls::TlsSettings;

/// The body of one hop.
#[derive(Clone)]
pub(crate) enum Body {
    None,
    Bytes(Arc<Vec<u8>>),
    Producer(ProducerFn),
}

/// A request with defaults applied and every rule checked: what a fetch works from, in two
/// halves. [`FetchOptions`] are resolved once and never change while the fetch runs (shared,
/// so a reader of the engine may hold them while the hop changes); [`HopRequest`] is the
/// request of the current hop, the one part that a redirect (`redirect::apply`) or a refused
/// expectation (417) rewrites.
pub(crate) struct Prepared {
    pub opts: Arc<FetchOptions>,
    pub hop: HopRequest,
}

/// What stays the same for every hop and retry of one fetch.
pub(crate) struct FetchOptions {
    /// The URL as given: the origin that credentials belong to (D-13).
    pub original_url: Url,
    pub connect_timeout: Option<Duration>,
    pub request_timeout: Option<Duration>,
    pub idle_timeout: Option<Duration>,
    pub follow_redirects: bool,
    pub max_redirects: u32,
    pub decompress: bool,
    pub bind: Option<IpAddr>,
    pub allow_ipv6: bool,
    pub raise_error: bool,
    pub max_body_size: Option<u64>,
    /// TLS options (part of the pool key: `Hash + Eq`, a user config compared by pointer).
    pub tls: TlsSettings,
    pub streaming_callback: Option<StreamSink>,
    pub header_callback: Option<LineCallback>,
    pub request_head_callback: Option<DataCallback>,
    pub hop_callback: Option<HopCallback>,
    /// The caller asked for `Connection: close`: never pool the connection.
    pub conn_close: bool,
    /// How each hop picks its proxy: the request's own proxy, else its client's rules.
    pub proxy_rules: Option<Arc<ProxyRules>>,
    /// The caller's `Proxy-Authorization` header: taken out of the headers so that it never
    /// reaches an origin; it goes to a proxy that has no credentials of its own.
    pub caller_proxy_auth: Option<String>,
}

/// The request of the current hop: everything a redirect may rewrite, and nothing else.
pub(crate) struct HopRequest {
    pub url: Url,
    pub method: String,
    /// The headers to send, in order, without `Host` (unless the caller gave one),
    /// `Content-Length` or `Transfer-Encoding` (the engine frames the body).
    pub headers: HttpHeaders,
    pub body: Body,
    /// `Content-Length` given by the caller for a body producer.
    pub producer_length: Option<u64>,
    /// Send `Expect: 100-continue` and hold the body back; off for good after a 417.
    pub expect_continue: bool,
    /// Set once a hop left the original origin: credentials are gone for good (D-13).
    pub left_origin: bool,
    /// The HTTP proxy of this hop, if any (chosen by `FetchOptions::proxy_rules`).
    pub proxy: Option<HopProxy>,
    /// The fragment of the URL as given, or of the last `Location` that had one: never
    /// sent, but a redirect whose `Location` has none inherits it (RFC 9110 §10.2.2), for
    /// `effective_url`.
    pub fragment: Option<String>,
}

/// The proxy of one hop, as `proxy::route` picked it: where it is and what to tell it (the
/// `Proxy-Authorization` value). The public [`Proxy`](super::proxy::Proxy) is the rule it
/// came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct HopProxy {
    pub host: String,
    pub port: u16,
    /// The `Proxy-Authorization` value.
    pub auth: Option<String>,
}

/// Only `basic` is supported: another mode fails, naming its `option`.
fn check_basic(mode: Option<&str>, option: &str) -> Result<(), HttpError> {
    match mode {
        Some(m) if !m.eq_ignore_ascii_case("basic") => {
            Err(HttpError::invalid(format!("unsupported {option} {m}")))
        }
        _ => Ok(()),
    }
}

fn nonzero(d: Duration) -> Option<Duration> {
    if d.is_zero() { None } else { Some(d) }
}

/// Checks every rule of `req` and resolves its options (defaults already merged in); the
/// client gives its `max_body_size` and its proxy rules (`None`: nothing is proxied), which
/// apply where the request sets none of its own.
pub(crate) fn prepare(
    req: &HttpRequest,
    client_max_body: Option<u64>,
    client_rules: Option<&Arc<ProxyRules>>,
) -> Result<Prepared, HttpError> {
    if let Some(why) = &req.deferred_error {
        return Err(HttpError::invalid(why.clone()));
    }
    let url = Url::parse(&req.url).map_err(|e| {
        HttpError::new(
            ErrorKind::MalformedUrl,
            format!("Malformed URL {:?}: {e}", req.url),
        )
    })?;
    check_scheme(&url, &req.url)?;

    if req.body.is_some() && req.body_producer.is_some() {
        return Err(HttpError::invalid(
            "body and body_producer are mutually exclusive: give one",
        ));
    }
    let method = req.get_method().to_string();
    let body_present = req.body.is_some() || req.body_producer.is_some();
    let allow_nonstandard = req.allow_nonstandard_methods.unwrap_or(false);
    check_method_and_body(&method, body_present, allow_nonstandard)
        .map_err(error::request_error)?;

    let mut headers = req.headers.clone().unwrap_or_default();
    for (name, value) in headers.iter() {
        validate_header(name, value).map_err(error::request_error)?;
    }

    // Framing is the engine's job: a body's length replaces any caller value; a
    // producer keeps a caller Content-Length, else it is chunked.
    let mut producer_length = None;
    if req.body_producer.is_some()
        && let Some(cl) = headers.get("Content-Length")
    {
        let cl = cl.trim();
        // Digits only: `parse` alone would take a `+`.
        let n = Some(cl)
            .filter(|cl| cl.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|cl| cl.parse::<u64>().ok());
        let Some(n) = n else {
            return Err(HttpError::invalid(format!("invalid Content-Length {cl:?}")));
        };
        producer_length = Some(n);
    }
    headers.remove("Content-Length");
    headers.remove("Transfer-Encoding");

    // the option, then the caller's header, then squall's default.
    if let Some(ua) = &req.user_agent {
        validate_header("User-Agent", ua).map_err(error::request_error)?;
        headers.set("User-Agent", ua);
    } else if !headers.contains("User-Agent") {
        headers.add("User-Agent", DEFAULT_USER_AGENT);
    }

    // decompression on means exactly `Accept-Encoding: gzip`. Without the `gzip`
    // feature it is always off: nothing is asked for, and a coded body the server sends
    // anyway comes through as sent, its `Content-Encoding` intact (as curl without
    // `--compressed`), never decoded wrongly nor refused.
    let decompress = cfg!(feature = "gzip") && req.decompress_response.unwrap_or(true);
    if decompress {
        headers.set("Accept-Encoding", "gzip");
    }

    // a POST without Content-Type is a form post.
    if method == "POST" && !headers.contains("Content-Type") {
        headers.add("Content-Type", "application/x-www-form-urlencoded");
    }

    if let Some(t) = req.if_modified_since {
        headers.set("If-Modified-Since", &http_date(t));
    }

    // R-12..R-16: basic auth; the URL's (decoded) userinfo wins over the options.
    let (user, pass) = match url.username() {
        Some(u) if !u.is_empty() || url.password().is_some() => (Some(u), url.password()),
        _ => (req.auth_username.clone(), req.auth_password.clone()),
    };
    if let Some(user) = user {
        check_basic(req.auth_mode.as_deref(), "auth_mode")?;
        let pass = pass.unwrap_or_default();
        headers.set("Authorization", &basic_credentials(&user, &pass));
    }

    let bind = match &req.network_interface {
        None => None,
        Some(s) => Some(s.parse::<IpAddr>().map_err(|_| {
            HttpError::invalid(format!(
                "Unrecognized IPv4 or IPv6 address for network_interface, got '{s}'"
            ))
        })?),
    };

    // the body waits for the server's 100 (or about a second).
    let expect_continue = req.expect_100_continue.unwrap_or(false) && body_present;
    if expect_continue {
        headers.set("Expect", "100-continue");
    }

    let conn_close = headers
        .get_list("Connection")
        .iter()
        .any(|v| v.trim().eq_ignore_ascii_case("close"));

    let body = match (&req.body, &req.body_producer) {
        (Some(b), _) => Body::Bytes(b.clone()),
        (None, Some(p)) => Body::Producer(p.clone()),
        (None, None) => Body::None,
    };

    // Proxy-Authorization is for a proxy only (see `proxy::route`).
    let caller_proxy_auth = headers.get("Proxy-Authorization").map(str::to_string);
    headers.remove("Proxy-Authorization");

    let own_rules = own_proxy(req)?;
    let tls = tls_settings(req);

    let opts = FetchOptions {
        original_url: url.clone(),
        connect_timeout: nonzero(req.connect_timeout.unwrap_or(DEFAULT_TIMEOUT)),
        request_timeout: nonzero(req.request_timeout.unwrap_or(DEFAULT_TIMEOUT)),
        idle_timeout: req.idle_timeout.and_then(nonzero),
        follow_redirects: req.follow_redirects.unwrap_or(true),
        max_redirects: req.max_redirects.unwrap_or(DEFAULT_MAX_REDIRECTS),
        decompress,
        bind,
        allow_ipv6: req.allow_ipv6.unwrap_or(true),
        raise_error: req.raise_error.unwrap_or(true),
        max_body_size: req.max_body_size.or(client_max_body),
        tls,
        streaming_callback: req.streaming_callback.clone(),
        header_callback: req.header_callback.clone(),
        request_head_callback: req.request_head_callback.clone(),
        hop_callback: req.hop_callback.clone(),
        conn_close,
        // The request's own proxy wins over its client's rules.
        proxy_rules: own_rules.or_else(|| client_rules.cloned()),
        caller_proxy_auth,
    };
    let hop = HopRequest {
        url,
        method,
        headers,
        body,
        producer_length,
        expect_continue,
        left_origin: false,
        proxy: None,
        fragment: req.url.split_once('#').map(|(_, f)| f.to_string()),
    };
    let mut prepared = Prepared {
        opts: Arc::new(opts),
        hop,
    };
    super::proxy::route(&mut prepared.hop, &prepared.opts)?;
    Ok(prepared)
}

/// A request's own proxy (`proxy_host`, R-39), as rules that send every hop through it,
/// whatever the client's rules say.
fn own_proxy(req: &HttpRequest) -> Result<Option<Arc<ProxyRules>>, HttpError> {
    let Some(host) = &req.proxy_host else {
        return Ok(None);
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty()
        || host
            .chars()
            .any(|c| c.is_ascii_control() || c == ' ' || c == '/')
    {
        return Err(HttpError::invalid(format!("invalid proxy_host {host:?}")));
    }
    let mut proxy = super::proxy::Proxy::new(host, req.proxy_port.unwrap_or(80));
    if let Some(user) = &req.proxy_username {
        check_basic(req.proxy_auth_mode.as_deref(), "proxy_auth_mode")?;
        proxy = proxy.with_auth(user, req.proxy_password.as_deref().unwrap_or(""));
    }
    Ok(Some(Arc::new(ProxyRules::all(proxy))))
}

/// The request's TLS options with their defaults: verify certificates against webpki-roots.
fn tls_settings(req: &HttpRequest) -> TlsSettings {
    TlsSettings {
        validate_cert: req.validate_cert.unwrap_or(true),
        ca_certs: req.ca_certs.clone(),
        client_cert: req.client_cert.clone(),
        client_key: req.client_key.clone(),
        extra_ca_certs: req.extra_ca_certs.clone(),
        system_roots: req.system_ca_certs.unwrap_or(false),
        key_log: req.tls_key_log.unwrap_or(false),
        #[cfg(feature = "tls")]
        config: req.tls_config.clone(),
    }
}

/// Why an `https` URL fails in a build without the `tls` feature.
pub(crate) const NO_TLS: &str =
    "https is not supported: squall was built without its `tls` feature";

/// only http and https (https only with the `tls` feature: without it, an https URL,
/// given or as a redirect's target, is an `UnsupportedScheme` error before any I/O).
pub(crate) fn check_scheme(url: &Url, as_given: &str) -> Result<(), HttpError> {
    match url.scheme() {
        "http" => Ok(()),
        "https" if cfg!(feature = "tls") => Ok(()),
        "https" => Err(HttpError::new(
            ErrorKind::UnsupportedScheme,
            format!("{NO_TLS}: {as_given}"),
        )),
        _ => Err(HttpError::new(
            ErrorKind::UnsupportedScheme,
            format!("Unsupported url scheme: {as_given}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::fields::base64;

    fn prep(r: HttpRequest) -> Result<Prepared, HttpError> {
        prepare(&r, None, None)
    }

    #[test]
    fn section1_defaults() {
        let p = prep(HttpRequest::new("http://h/")).unwrap();
        assert_eq!(p.hop.method, "GET");
        assert_eq!(p.opts.connect_timeout, Some(Duration::from_secs(20)));
        assert_eq!(p.opts.request_timeout, Some(Duration::from_secs(20)));
        assert_eq!(p.opts.idle_timeout, None);
        assert!(p.opts.follow_redirects);
        assert_eq!(p.opts.max_redirects, 5);
        assert_eq!(p.opts.decompress, cfg!(feature = "gzip"));
        assert!(p.opts.allow_ipv6);
        assert!(p.opts.raise_error);
        assert!(!p.hop.expect_continue);
        assert!(p.opts.tls.validate_cert);
        let accept = if cfg!(feature = "gzip") {
            Some("gzip")
        } else {
            None
        };
        assert_eq!(p.hop.headers.get("Accept-Encoding"), accept);
        assert_eq!(p.hop.headers.get("User-Agent"), Some(DEFAULT_USER_AGENT));
        assert_eq!(p.hop.headers.get("Connection"), None);
        let p = prep(HttpRequest::new("http://h/").connect_timeout(Duration::ZERO)).unwrap();
        assert_eq!(p.opts.connect_timeout, None);
    }

    #[test]
    fn validation_errors_are_invalid_request() {
        let kind = |r: HttpRequest| prep(r).err().map(|e| e.kind().clone());
        assert_eq!(
            kind(HttpRequest::new("http://h/").method("POST")),
            Some(ErrorKind::InvalidRequest)
        );
        assert_eq!(
            kind(HttpRequest::new("http://h/").method("get")),
            Some(ErrorKind::InvalidRequest)
        );
        assert_eq!(
            kind(HttpRequest::new("http://h/").header("A", "b\r\nc")),
            Some(ErrorKind::InvalidRequest)
        );
        assert_eq!(
            kind(HttpRequest::new("http://h/").user_agent("x\ny")),
            Some(ErrorKind::InvalidRequest)
        );
        assert_eq!(
            kind(HttpRequest::new("ftp://h/")),
            Some(ErrorKind::UnsupportedScheme)
        );
        assert_eq!(
            kind(HttpRequest::new("http://h:99999/")),
            Some(ErrorKind::MalformedUrl)
        );
        assert_eq!(
            kind(
                HttpRequest::new("http://h/")
                    .method("POST")
                    .header("Content-Length", "x")
                    .body_producer(|_w| async { Ok(()) })
            ),
            Some(ErrorKind::InvalidRequest)
        );
        // auth_mode is only checked when there are credentials (as Tornado).
        assert!(prep(HttpRequest::new("http://h/").auth_mode("digest")).is_ok());
    }

    #[test]
    fn r14_userinfo_beats_auth_options() {
        let p = prep(HttpRequest::new("http://a%3Ab:c@h/").auth("x", "y")).unwrap();
        assert_eq!(
            p.hop.headers.get("Authorization"),
            Some(format!("Basic {}", base64(b"a:b:c")).as_str())
        );
        let p = prep(HttpRequest::new("http://h/").auth("x", "")).unwrap();
        assert_eq!(
            p.hop.headers.get("Authorization"),
            Some(format!("Basic {}", base64(b"x:")).as_str())
        );
    }
}
