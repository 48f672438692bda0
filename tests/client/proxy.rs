//! HTTP proxies (R-39, [BETTER] than Tornado's simple client, which refuses them): plain http
//! in absolute-form with `Proxy-Authorization`, https through a `CONNECT` tunnel with the
//! origin's certificate still verified (T-10), and a refused tunnel as a clear error.
//!
//! Then the client's proxy rules (curl's, from environment variables given as pairs: the
//! process environment is never touched here) against a real forwarding proxy and tunnel
//! written in `support::proxy`: which requests go through it, where `Proxy-Authorization`
//! goes (the proxy only, never an origin), and the typed errors of each proxy failure.

use crate::support::proxy::{ProxyOptions, TestProxy, TlsOrigin, assert_connect, basic, header};
use crate::support::server::{Server, closed_port, ok, resp, run};
use squall::{AsyncHttpClient, ErrorKind, HttpRequest, NoProxy, Proxy, ProxyErrorKind, ProxyRules};

#[test]
fn r39_http_through_a_proxy_is_absolute_form_with_proxy_auth() {
    let proxy = Server::start(|r| ok(format!("proxied {}", r.target).as_bytes()));
    run(async {
        let c = AsyncHttpClient::new();
        let req = || {
            HttpRequest::new("http://u:p@origin.invalid:8080/path?q=1")
                .proxy_host("127.0.0.1")
                .proxy_port(proxy.port())
                .proxy_auth("pu", "pp")
        };
        let r = c.fetch(req()).await.unwrap();
        assert_eq!(
            r.text().unwrap(),
            "proxied http://origin.invalid:8080/path?q=1"
        );
        let seen = proxy.last();
        assert_eq!(seen.header("Host"), Some("origin.invalid:8080"));
        let want = format!("Basic {}", squall::client::request::base64(b"pu:pp"));
        assert_eq!(seen.header("Proxy-Authorization"), Some(want.as_str()));
        // The origin's credentials still go to the origin.
        let origin = format!("Basic {}", squall::client::request::base64(b"u:p"));
        assert_eq!(seen.header("Authorization"), Some(origin.as_str()));
        // Keep-alive to the proxy.
        c.fetch(req()).await.unwrap();
    });
    assert_eq!(proxy.conns(), 1);
}

#[test]
fn r39_proxy_validation() {
    run(async {
        let e = AsyncHttpClient::new()
            .fetch(
                HttpRequest::new("http://x.invalid/")
                    .proxy_host("127.0.0.1")
                    .proxy_auth("a", "b")
                    .proxy_auth_mode("digest"),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidRequest);
        assert_eq!(e.message(), "unsupported proxy_auth_mode digest");
    });
}

#[test]
fn t10_https_through_a_connect_tunnel_verifies_the_origin() {
    let origin = TlsOrigin::start("client-proxy");
    let proxy = TestProxy::start();
    run(async {
        let r = AsyncHttpClient::new()
            .fetch(
                HttpRequest::new(&origin.url("/secret"))
                    .proxy_host("127.0.0.1")
                    .proxy_port(proxy.port())
                    .proxy_auth("pu", "pp")
                    .ca_certs(&origin.ca_path),
            )
            .await
            .unwrap();
        // Inside the tunnel the request is origin-form.
        assert_eq!(r.text().unwrap(), "GET /secret HTTP/1.1");
    });
    let heads = proxy.heads();
    assert_connect(&heads[0], origin.port(), Some(&basic("pu", "pp")));
}

#[test]
fn refused_tunnel_is_a_connect_error_naming_the_proxy() {
    let proxy = TestProxy::with(ProxyOptions {
        refuse_connect: Some(407),
        ..ProxyOptions::default()
    });
    run(async {
        let e = AsyncHttpClient::new()
            .fetch(
                HttpRequest::new("https://origin.test/")
                    .proxy_host("127.0.0.1")
                    .proxy_port(proxy.port()),
            )
            .await
            .unwrap_err();
        assert_eq!(
            e.kind(),
            &ErrorKind::Proxy(ProxyErrorKind::Tunnel { status: Some(407) }),
            "{e}"
        );
        assert!(e.to_string().contains("407"), "{e}");
        assert!(e.to_string().contains(&proxy.port().to_string()), "{e}");
    });
}

// ------------------------------------------------------------------------------------------
// Proxy rules (curl's, from variables given as pairs) against a real proxy
// ------------------------------------------------------------------------------------------

/// A client whose proxy rules come from these variables (never the process environment).
fn client_with(vars: &[(&str, String)]) -> AsyncHttpClient {
    AsyncHttpClient::builder()
        .proxies(ProxyRules::from_vars(vars.iter().cloned()))
        .build()
}

#[test]
fn http_proxy_variable_sends_http_through_the_forwarding_proxy() {
    let origin = Server::start(|r| ok(format!("origin saw {}", r.target).as_bytes()));
    let proxy = TestProxy::start();
    let c = client_with(&[(
        "http_proxy",
        format!("http://p%40user:p%3Ass@127.0.0.1:{}", proxy.port()),
    )]);
    let url = format!("http://origin.test:{}/a?b=1", origin.port());
    run(async {
        let r = c.fetch(&url).await.unwrap();
        assert_eq!(r.text().unwrap(), "origin saw /a?b=1");
        // Kept alive: the second request reuses the connection to the proxy.
        c.fetch(&url).await.unwrap();
    });
    assert_eq!(proxy.conns(), 1);
    let heads = proxy.heads();
    assert!(
        heads[0].starts_with(&format!("GET {url} HTTP/1.1\r\n")),
        "{}",
        heads[0]
    );
    // Userinfo of the proxy URL, percent-decoded, is the proxy's basic auth.
    assert_eq!(
        header(&heads[0], "Proxy-Authorization"),
        Some(basic("p@user", "p:ss").as_str())
    );
    let seen = origin.last();
    assert_eq!(
        seen.header("Host"),
        Some(&*format!("origin.test:{}", origin.port()))
    );
    assert_eq!(seen.header("Proxy-Authorization"), None);
}

#[test]
fn https_proxy_variable_tunnels_and_credentials_stay_in_the_connect() {
    let origin = TlsOrigin::start("client-proxy-rules");
    let proxy = TestProxy::with(ProxyOptions {
        require_auth: Some(basic("pu", "pp")),
        ..ProxyOptions::default()
    });
    // Lower-case https_proxy wins over HTTPS_PROXY (a closed port would fail the test).
    let c = client_with(&[
        ("HTTPS_PROXY", format!("http://127.0.0.1:{}", closed_port())),
        ("https_proxy", format!("pu:pp@127.0.0.1:{}", proxy.port())),
    ]);
    run(async {
        let r = c
            .fetch(
                HttpRequest::new(&origin.url("/page"))
                    .header("Proxy-Authorization", "Basic Y2FsbGVyOnNlY3JldA==")
                    .ca_certs(&origin.ca_path),
            )
            .await
            .unwrap();
        assert_eq!(r.text().unwrap(), "GET /page HTTP/1.1");
    });
    let heads = proxy.heads();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert_connect(&heads[0], origin.port(), Some(&basic("pu", "pp")));
    // Inside the tunnel: origin-form, and no Proxy-Authorization at all (neither the
    // proxy's credentials nor the caller's header).
    let inside = origin.heads()[0].clone();
    assert!(inside.starts_with("GET /page HTTP/1.1\r\n"), "{inside}");
    assert_eq!(header(&inside, "Proxy-Authorization"), None, "{inside}");
}

#[test]
fn no_proxy_hosts_and_other_schemes_go_direct() {
    let origin = Server::start(|_| ok(b"direct"));
    let proxy = TestProxy::start();
    run(async {
        // 127.0.0.1 is proxied like any host (as curl does) unless no_proxy names it.
        let c = client_with(&[
            ("all_proxy", proxy.url()),
            ("no_proxy", "example.invalid, 127.0.0.0/8".into()),
        ]);
        assert_eq!(
            c.fetch(origin.url("/")).await.unwrap().text().unwrap(),
            "direct"
        );
        // Only https_proxy: http goes direct.
        let c = client_with(&[("https_proxy", proxy.url())]);
        c.fetch(origin.url("/")).await.unwrap();
        // Upper-case HTTP_PROXY is ignored (httpoxy).
        let c = client_with(&[("HTTP_PROXY", proxy.url())]);
        c.fetch(origin.url("/")).await.unwrap();
        // A port in no_proxy must match.
        let c = client_with(&[
            ("http_proxy", proxy.url()),
            ("NO_PROXY", format!("127.0.0.1:{}", origin.port())),
        ]);
        c.fetch(origin.url("/")).await.unwrap();
    });
    assert_eq!(proxy.conns(), 0, "{:?}", proxy.heads());
    assert_eq!(origin.reqs().len(), 4);
    // Without no_proxy, loopback goes through the proxy.
    run(async {
        let c = client_with(&[("http_proxy", proxy.url())]);
        c.fetch(origin.url("/")).await.unwrap();
    });
    assert_eq!(proxy.heads().len(), 1);
}

#[test]
fn a_redirect_to_a_direct_host_carries_no_proxy_credentials() {
    let direct = Server::start(|_| ok(b"landed"));
    let to = direct.url("/landed");
    let first = Server::start(move |_| {
        vec![crate::support::server::write(resp(
            302,
            &[("Location", &to)],
            b"",
        ))]
    });
    let proxy = TestProxy::start();
    let c = client_with(&[
        (
            "http_proxy",
            format!("http://pu:pp@127.0.0.1:{}", proxy.port()),
        ),
        ("no_proxy", "127.0.0.1".into()),
    ]);
    run(async {
        let r = c
            .fetch(
                HttpRequest::new(&format!("http://first.test:{}/go", first.port()))
                    .header("Proxy-Authorization", "Basic bWluZTptaW5l"),
            )
            .await
            .unwrap();
        assert_eq!(r.text().unwrap(), "landed");
    });
    // The first hop went through the proxy with the proxy's own credentials...
    let heads = proxy.heads();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert_eq!(
        header(&heads[0], "Proxy-Authorization"),
        Some(basic("pu", "pp").as_str())
    );
    assert_eq!(first.last().header("Proxy-Authorization"), None);
    // ...and the hop to the no_proxy host went direct, without any.
    let landed = direct.last();
    assert_eq!(landed.target, "/landed");
    assert_eq!(landed.header("Proxy-Authorization"), None);
    assert_eq!(landed.header("Authorization"), None);
}

#[test]
fn builder_choices_and_the_request_proxy_wins() {
    let origin = Server::start(|_| ok(b"ok"));
    let proxy = TestProxy::start();
    let dead = Proxy::new("127.0.0.1", closed_port());
    run(async {
        // Explicit rules: everything through the proxy, minus a no_proxy list.
        let c = AsyncHttpClient::builder()
            .proxies(ProxyRules::all(Proxy::parse(&proxy.url()).unwrap()))
            .build();
        c.fetch(origin.url("/1")).await.unwrap();
        let c = AsyncHttpClient::builder()
            .proxies(ProxyRules::all(dead.clone()).no_proxy(NoProxy::parse("127.0.0.1")))
            .build();
        c.fetch(origin.url("/2")).await.unwrap();
        // The request's own proxy beats the client's (dead) one.
        let c = AsyncHttpClient::builder().proxy(dead.clone()).build();
        c.fetch(
            HttpRequest::new(&origin.url("/3"))
                .proxy_host("127.0.0.1")
                .proxy_port(proxy.port()),
        )
        .await
        .unwrap();
        // Switched off: direct.
        let c = AsyncHttpClient::builder()
            .proxy(dead.clone())
            .proxy_from_env(false)
            .build();
        c.fetch(origin.url("/4")).await.unwrap();
    });
    let targets: Vec<String> = proxy
        .heads()
        .iter()
        .map(|h| h.split(' ').nth(1).unwrap().to_string())
        .collect();
    assert_eq!(targets, [origin.url("/1"), origin.url("/3")]);
    let direct: Vec<String> = origin.reqs().iter().map(|r| r.target.clone()).collect();
    assert_eq!(direct, ["/1", "/2", "/3", "/4"]);
}

#[test]
fn each_proxy_failure_has_its_kind() {
    run(async {
        let fetch = |rules: ProxyRules, url: String| async move {
            AsyncHttpClient::builder()
                .proxies(rules)
                .build()
                .fetch(HttpRequest::new(&url).connect_timeout(std::time::Duration::from_secs(30)))
                .await
                .unwrap_err()
        };
        // A name that cannot resolve: a 64-octet label (RFC 1035 caps labels at 63), refused
        // by the resolver without a query leaving the machine.
        let long = "a".repeat(64);
        let e = fetch(
            ProxyRules::from_vars([("http_proxy", format!("{long}.invalid:3128"))]),
            "http://origin.test/".into(),
        )
        .await;
        assert_eq!(e.kind(), &ErrorKind::Proxy(ProxyErrorKind::Resolve), "{e}");
        assert!(e.to_string().starts_with("Could not resolve proxy "), "{e}");
        // Refused.
        let port = closed_port();
        let e = fetch(
            ProxyRules::from_vars([("https_proxy", format!("127.0.0.1:{port}"))]),
            "https://origin.test/".into(),
        )
        .await;
        assert_eq!(e.kind(), &ErrorKind::Proxy(ProxyErrorKind::Connect), "{e}");
        assert!(
            e.to_string().contains(&format!("proxy 127.0.0.1:{port}")),
            "{e}"
        );
        // The tunnel refused, with the proxy's status.
        let proxy = TestProxy::with(ProxyOptions {
            refuse_connect: Some(403),
            ..ProxyOptions::default()
        });
        let e = fetch(
            ProxyRules::from_vars([("ALL_PROXY", proxy.url())]),
            "https://origin.test/".into(),
        )
        .await;
        assert_eq!(
            e.kind(),
            &ErrorKind::Proxy(ProxyErrorKind::Tunnel { status: Some(403) }),
            "{e}"
        );
        assert!(e.to_string().contains("HTTP 403 Forbidden"), "{e}");
        // A variable that does not parse: named, and only for the URLs that use it.
        let e = fetch(
            ProxyRules::from_vars([("https_proxy", "http://[::1")]),
            "https://origin.test/".into(),
        )
        .await;
        assert_eq!(e.kind(), &ErrorKind::Proxy(ProxyErrorKind::BadUrl), "{e}");
        assert!(e.to_string().contains("in https_proxy"), "{e}");
    });
}

#[test]
fn proxy_types_cross_threads() {
    fn check<T: Send + Sync + 'static>() {}
    check::<Proxy>();
    check::<ProxyRules>();
    check::<NoProxy>();
    check::<ProxyErrorKind>();
}
