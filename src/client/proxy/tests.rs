//! Unit tests of proxy selection and `NO_PROXY` matching, in a file of their own so that
//! `proxy.rs` holds the rules alone and stays short enough to read through.

use super::*;
use crate::client::prepare::Prepared;
use crate::client::redirect::{self, Target};
use crate::http::fields::base64;

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

/// The proxy `rules` pick for `u`, as `host:port`, or "direct".
fn via(rules: &ProxyRules, u: &str) -> String {
    match rules.proxy_for(&url(u)) {
        Ok(Some(p)) => format!("{}:{}", p.host(), p.port()),
        Ok(None) => "direct".to_string(),
        Err(e) => format!("error: {e}"),
    }
}

#[test]
fn http_uses_lower_case_http_proxy_only() {
    let r = ProxyRules::from_vars([("http_proxy", "http://hp:1")]);
    assert_eq!(via(&r, "http://example.com/"), "hp:1");
    assert_eq!(via(&r, "https://example.com/"), "direct");
    // httpoxy: upper-case HTTP_PROXY is never read.
    let r = ProxyRules::from_vars([("HTTP_PROXY", "http://evil:1")]);
    assert_eq!(via(&r, "http://example.com/"), "direct");
    assert!(r.is_empty());
}

#[test]
fn https_uses_either_case_lower_first() {
    let r = ProxyRules::from_vars([("HTTPS_PROXY", "http://up:2")]);
    assert_eq!(via(&r, "https://example.com/"), "up:2");
    assert_eq!(via(&r, "http://example.com/"), "direct");
    let r = ProxyRules::from_vars([("HTTPS_PROXY", "http://up:2"), ("https_proxy", "lo:3")]);
    assert_eq!(via(&r, "https://example.com/"), "lo:3");
}

#[test]
fn all_proxy_is_the_fallback_lower_first() {
    let r = ProxyRules::from_vars([("ALL_PROXY", "http://a:4")]);
    assert_eq!(via(&r, "http://example.com/"), "a:4");
    assert_eq!(via(&r, "https://example.com/"), "a:4");
    let r = ProxyRules::from_vars([
        ("ALL_PROXY", "http://up:4"),
        ("all_proxy", "http://lo:5"),
        ("https_proxy", "http://s:6"),
    ]);
    assert_eq!(via(&r, "http://example.com/"), "lo:5");
    assert_eq!(via(&r, "https://example.com/"), "s:6");
    // HTTP_PROXY does not shadow all_proxy either.
    let r = ProxyRules::from_vars([("HTTP_PROXY", "http://evil:1"), ("all_proxy", "a:7")]);
    assert_eq!(via(&r, "http://example.com/"), "a:7");
}

#[test]
fn empty_counts_as_unset() {
    let r = ProxyRules::from_vars([("https_proxy", ""), ("HTTPS_PROXY", "http://up:2")]);
    assert_eq!(via(&r, "https://example.com/"), "up:2");
    let r = ProxyRules::from_vars([("http_proxy", ""), ("ALL_PROXY", "a:1")]);
    assert_eq!(via(&r, "http://example.com/"), "a:1");
    let r = ProxyRules::from_vars([("no_proxy", ""), ("NO_PROXY", "*"), ("all_proxy", "a:1")]);
    assert_eq!(via(&r, "http://example.com/"), "direct");
    assert!(ProxyRules::from_vars([("http_proxy", "")]).is_empty());
    assert!(ProxyRules::from_vars(Vec::<(&str, &str)>::new()).is_empty());
}

#[test]
fn lower_case_no_proxy_wins() {
    let r = ProxyRules::from_vars([
        ("all_proxy", "p:1"),
        ("no_proxy", "a.example"),
        ("NO_PROXY", "b.example"),
    ]);
    assert_eq!(via(&r, "http://a.example/"), "direct");
    assert_eq!(via(&r, "http://b.example/"), "p:1");
}

#[test]
fn proxy_url_forms() {
    let p = Proxy::parse("proxy.example").unwrap();
    assert_eq!(
        (p.host(), p.port(), p.username()),
        ("proxy.example", 1080, None)
    );
    let p = Proxy::parse("  HTTP://Proxy.Example:3128/  ").unwrap();
    assert_eq!((p.host(), p.port()), ("proxy.example", 3128));
    let p = Proxy::parse("127.0.0.1:8080").unwrap();
    assert_eq!((p.host(), p.port()), ("127.0.0.1", 8080));
    let p = Proxy::parse("http://[::1]:3128").unwrap();
    assert_eq!((p.host(), p.port()), ("::1", 3128));
    let p = Proxy::parse("http://us%40er:p%3Ass@h:1").unwrap();
    assert_eq!(p.username(), Some("us@er"));
    assert_eq!(p.password.as_deref(), Some("p:ss"));
    let hop = p.hop(Some("ignored"));
    assert_eq!(
        hop.auth.as_deref(),
        Some(format!("Basic {}", base64(b"us@er:p:ss")).as_str())
    );
    // A user without a password has an empty one; no userinfo leaves room for a fallback.
    let p = Proxy::parse("u@h:1").unwrap();
    assert_eq!(p.password.as_deref(), Some(""));
    let hop = Proxy::parse("h:1").unwrap().hop(Some("Basic x"));
    assert_eq!(hop.auth.as_deref(), Some("Basic x"));
}

#[test]
fn bad_proxy_urls_name_the_variable_and_hide_the_password() {
    let r = ProxyRules::from_vars([("https_proxy", "http://user:hunter2@[zz:1")]);
    let e = r.proxy_for(&url("https://example.com/")).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Proxy(ProxyErrorKind::BadUrl));
    let msg = e.to_string();
    assert!(msg.contains("in https_proxy"), "{msg}");
    assert!(!msg.contains("hunter2"), "{msg}");
    assert!(msg.contains("http://<redacted>@[zz:1"), "{msg}");
    // Only the fetches that use the variable fail.
    assert_eq!(via(&r, "http://example.com/"), "direct");

    let r = ProxyRules::from_vars([("all_proxy", "socks5://h:1")]);
    let e = r.proxy_for(&url("http://example.com/")).unwrap_err();
    assert_eq!(
        e.kind(),
        &ErrorKind::Proxy(ProxyErrorKind::UnsupportedScheme)
    );
    assert!(e.to_string().contains("in all_proxy"), "{e}");
    assert!(e.to_string().contains("socks5"), "{e}");
    let e = Proxy::parse("https://h:1").unwrap_err();
    assert_eq!(
        e.kind(),
        &ErrorKind::Proxy(ProxyErrorKind::UnsupportedScheme)
    );

    for bad in [
        "http://",
        "http://h:99999",
        "h h",
        "http://h:x",
        "http://caf\u{e9}:1",
    ] {
        let e = Proxy::parse(bad).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Proxy(ProxyErrorKind::BadUrl), "{bad}");
        assert!(e.to_string().starts_with("invalid proxy URL"), "{e}");
    }
}

#[test]
fn no_proxy_is_checked_before_the_proxy_parses() {
    let r = ProxyRules::from_vars([("http_proxy", "http://[bad"), ("no_proxy", "example.com")]);
    assert_eq!(via(&r, "http://example.com/"), "direct");
    assert!(via(&r, "http://other.com/").starts_with("error: invalid proxy URL"));
}

#[test]
fn no_proxy_star() {
    assert!(NoProxy::parse("*").matches("anything", 1));
    assert!(NoProxy::parse("a.example, *").matches("10.0.0.1", 1));
    assert!(!NoProxy::parse("").matches("anything", 1));
    assert!(NoProxy::parse(" , ,").is_empty());
}

#[test]
fn no_proxy_names_match_on_label_boundaries() {
    for list in [
        "example.com",
        ".example.com",
        "example.com.",
        "*.example.com",
        "EXAMPLE.com",
    ] {
        let n = NoProxy::parse(list);
        assert!(n.matches("example.com", 80), "{list}");
        assert!(n.matches("www.example.com", 80), "{list}");
        assert!(n.matches("a.b.Example.COM.", 443), "{list}");
        assert!(!n.matches("notexample.com", 80), "{list}");
        assert!(!n.matches("example.com.evil", 80), "{list}");
        assert!(!n.matches("com", 80), "{list}");
    }
    let n = NoProxy::parse("localhost , foo.test,bar.test");
    assert!(n.matches("localhost", 8000));
    assert!(n.matches("bar.test", 1));
    assert!(
        !n.matches("127.0.0.1", 8000),
        "a name never matches an address"
    );
}

#[test]
fn no_proxy_addresses_and_ranges() {
    let n = NoProxy::parse("127.0.0.1, 10.0.0.0/8, 192.168.1.0/24, ::1, fd00::/8");
    assert!(n.matches("127.0.0.1", 80));
    assert!(!n.matches("127.0.0.2", 80));
    assert!(n.matches("10.255.1.2", 80));
    assert!(!n.matches("11.0.0.1", 80));
    assert!(n.matches("192.168.1.77", 80));
    assert!(!n.matches("192.168.2.1", 80));
    assert!(n.matches("::1", 80));
    assert!(n.matches("[::1]", 80));
    assert!(n.matches("fdab::1", 80));
    assert!(!n.matches("fe80::1", 80));
    assert!(
        !n.matches("10.example", 80),
        "an address never matches a name"
    );
    // Families never mix; an IPv4 range does not match an IPv6 host.
    assert!(!NoProxy::parse("0.0.0.0/0").matches("::1", 80));
    assert!(NoProxy::parse("0.0.0.0/0").matches("8.8.8.8", 80));
    assert!(NoProxy::parse("::/0").matches("2001:db8::1", 80));
    assert!(NoProxy::parse("[2001:db8::/32]").matches("2001:db8:1::1", 80));
    assert!(NoProxy::parse("10.1.2.3/31").matches("10.1.2.2", 80));
    assert!(!NoProxy::parse("10.1.2.3/31").matches("10.1.2.4", 80));
    // Nonsense prefixes are skipped, as curl does.
    assert!(NoProxy::parse("10.0.0.0/33, ::/129, 1.2.3.4/x").is_empty());
}

#[test]
fn no_proxy_ports() {
    let n = NoProxy::parse("example.com:8443, 10.0.0.1:80, [::1]:8080, [fd00::/8]:1");
    assert!(n.matches("example.com", 8443));
    assert!(n.matches("www.example.com", 8443));
    assert!(!n.matches("example.com", 443));
    assert!(n.matches("10.0.0.1", 80));
    assert!(!n.matches("10.0.0.1", 81));
    assert!(n.matches("::1", 8080));
    assert!(!n.matches("::1", 80));
    assert!(n.matches("fd00::2", 1));
    // End to end: the URL's effective port counts.
    let r = ProxyRules::from_vars([("all_proxy", "p:1"), ("no_proxy", "example.com:443")]);
    assert_eq!(via(&r, "https://example.com/"), "direct");
    assert_eq!(via(&r, "http://example.com/"), "p:1");
    assert_eq!(via(&r, "https://example.com:8443/"), "p:1");
    assert!(NoProxy::parse("h:x, h:99999, a:b:c").is_empty());
}

#[test]
fn explicit_rules_and_credentials() {
    let r = ProxyRules::all(Proxy::new("[::1]", 3128)).no_proxy(NoProxy::parse("direct.test"));
    assert_eq!(via(&r, "http://x.test/"), "::1:3128");
    assert_eq!(via(&r, "https://x.test/"), "::1:3128");
    assert_eq!(via(&r, "https://direct.test/"), "direct");
    assert_eq!(via(&ProxyRules::none(), "https://x.test/"), "direct");

    // --proxy-user fills in; userinfo in the URL wins.
    let r = ProxyRules::from_vars([("http_proxy", "a:1"), ("https_proxy", "u:p@b:2")])
        .proxy_auth("cli", "pw");
    let http = r.proxy_for(&url("http://x/")).unwrap().unwrap();
    assert_eq!(http.username(), Some("cli"));
    let https = r.proxy_for(&url("https://x/")).unwrap().unwrap();
    assert_eq!(https.username(), Some("u"));
}

#[test]
fn debug_hides_the_password() {
    let p = Proxy::parse("http://user:hunter2@h:1").unwrap();
    let d = format!("{p:?}");
    assert!(!d.contains("hunter2"), "{d}");
    assert!(d.contains("<redacted>"), "{d}");
    let r = ProxyRules::from_vars([("all_proxy", "http://user:hunter2@h:1")]);
    assert!(!format!("{r:?}").contains("hunter2"));
    let r = ProxyRules::from_vars([("all_proxy", "http://user:hunter2@[h:1")]);
    assert!(!format!("{r:?}").contains("hunter2"));
}

/// A request prepared as a client with `rules` prepares it.
fn prepared(req: crate::HttpRequest, rules: ProxyRules) -> Prepared {
    super::super::prepare::prepare(&req, None, Some(&Arc::new(rules))).unwrap()
}

fn hop_of(p: &Prepared) -> Option<(String, Option<String>)> {
    p.hop
        .proxy
        .as_ref()
        .map(|h| (format!("{}:{}", h.host, h.port), h.auth.clone()))
}

fn redirect(p: &mut Prepared, to: &str) {
    let target = Target {
        url: url(to),
        fragment: None,
    };
    redirect::apply(p, 302, target).unwrap();
}

#[test]
fn each_redirect_hop_picks_its_proxy() {
    let rules = ProxyRules::from_vars([
        ("http_proxy", "http://pu:pp@hp:1"),
        ("no_proxy", "direct.test"),
    ]);
    let own = Some(format!("Basic {}", base64(b"pu:pp")));
    let mut p = prepared(crate::HttpRequest::new("http://a.test/"), rules);
    assert_eq!(hop_of(&p), Some(("hp:1".into(), own.clone())));
    // No https_proxy: the https hop goes direct, with no proxy credentials anywhere.
    redirect(&mut p, "https://a.test/x");
    assert_eq!(hop_of(&p), None);
    assert!(!p.hop.headers.contains("Proxy-Authorization"));
    // A no_proxy host goes direct too.
    redirect(&mut p, "http://direct.test/");
    assert_eq!(hop_of(&p), None);
    // Another host through the proxy: the proxy's own credentials go to the proxy.
    redirect(&mut p, "http://b.test/");
    assert_eq!(hop_of(&p), Some(("hp:1".into(), own)));
}

#[test]
fn a_callers_proxy_authorization_goes_to_proxies_only() {
    let req =
        || crate::HttpRequest::new("http://a.test/").header("Proxy-Authorization", "Basic mine");
    // Never in the request's own headers, so never to an origin (direct or tunnelled).
    let p = prepared(req(), ProxyRules::none());
    assert!(!p.hop.headers.contains("Proxy-Authorization"));
    assert_eq!(hop_of(&p), None);
    // To a proxy without credentials of its own, until the chain leaves the origin.
    let mut p = prepared(req(), ProxyRules::all(Proxy::new("hp", 1)));
    assert!(!p.hop.headers.contains("Proxy-Authorization"));
    assert_eq!(hop_of(&p), Some(("hp:1".into(), Some("Basic mine".into()))));
    redirect(&mut p, "http://a.test/next");
    assert_eq!(hop_of(&p), Some(("hp:1".into(), Some("Basic mine".into()))));
    redirect(&mut p, "http://b.test/");
    assert_eq!(hop_of(&p), Some(("hp:1".into(), None)));
    redirect(&mut p, "http://a.test/back");
    assert_eq!(hop_of(&p), Some(("hp:1".into(), None)));
    // A request's own proxy wins over the client's rules and keeps its credentials.
    let own = crate::HttpRequest::new("http://a.test/")
        .proxy_host("own")
        .proxy_port(9)
        .proxy_auth("o", "p");
    let client = Arc::new(ProxyRules::all(Proxy::new("hp", 1)));
    let p = super::super::prepare::prepare(&own, None, Some(&client)).unwrap();
    let want = Some(format!("Basic {}", base64(b"o:p")));
    assert_eq!(hop_of(&p), Some(("own:9".into(), want)));
}

#[test]
fn rules_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<ProxyRules>();
    check::<Proxy>();
    check::<NoProxy>();
}
