//! The `squall` binary and proxies, end to end: the environment variables (set on the child
//! process only; this test process never changes its own environment), `-x`, `--noproxy`,
//! `-U`, and curl's exit codes for proxy failures (5, 7, 56). Every server and proxy is a
//! real one on a loopback ephemeral port: the forwarding proxy and tunnel of
//! `support::proxy`, origins from `support::server` and rustls with rcgen certificates.

use std::process::Output;
use std::time::Duration;

use crate::support::proxy::{ProxyOptions, TestProxy, TlsOrigin, assert_connect, basic, header};
use crate::support::server::{Server, closed_port, ok};

/// Runs squall with exactly these proxy variables (every other one removed, `HTTP_PROXY`
/// included), bounded in time.
fn squall(vars: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = crate::support::cli::squall_command();
    cmd.env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .envs(vars.iter().copied())
        .args(["-s", "--connect-timeout", "30"])
        .args(args);
    crate::support::cli::run_bounded(cmd, Duration::from_secs(60))
}

#[track_caller]
fn assert_exit(o: &Output, code: i32) -> String {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    err
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The request targets the proxy saw.
fn targets(p: &TestProxy) -> Vec<String> {
    p.heads()
        .iter()
        .map(|h| h.split(' ').nth(1).unwrap_or("").to_string())
        .collect()
}

#[test]
fn http_proxy_is_used_and_upper_case_http_proxy_is_not() {
    let origin = Server::start(|r| ok(format!("via {}", r.target).as_bytes()));
    let proxy = TestProxy::start();
    let url = origin.url("/x");
    // No scheme in the variable: http:// (curl's rule).
    let hp = format!("127.0.0.1:{}", proxy.port());
    let o = squall(&[("http_proxy", &hp)], &[&url]);
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "via /x");
    assert_eq!(targets(&proxy), vec![url.clone()]);
    // HTTP_PROXY alone: ignored (httpoxy), the request goes direct.
    let o = squall(&[("HTTP_PROXY", &proxy.url())], &[&url]);
    assert_exit(&o, 0);
    assert_eq!(proxy.heads().len(), 1);
    assert_eq!(origin.reqs().len(), 2);
}

#[test]
fn all_proxy_no_proxy_and_the_options_that_replace_them() {
    let origin = Server::start(|_| ok(b"ok"));
    let proxy = TestProxy::start();
    let url = origin.url("/");
    let dead = format!("http://127.0.0.1:{}", closed_port());
    // all_proxy is the fallback.
    assert_exit(&squall(&[("ALL_PROXY", &proxy.url())], &[&url]), 0);
    assert_eq!(proxy.heads().len(), 1);
    // no_proxy: direct (a dead all_proxy would fail otherwise).
    assert_exit(
        &squall(&[("all_proxy", &dead), ("no_proxy", "127.0.0.1")], &[&url]),
        0,
    );
    // -x beats the environment's proxies; no_proxy still applies to -x, as in curl...
    let vars = [("http_proxy", dead.as_str()), ("NO_PROXY", "localhost")];
    assert_exit(&squall(&vars, &["-x", &proxy.url(), &url]), 0);
    assert_eq!(proxy.heads().len(), 2);
    let vars = [("no_proxy", "127.0.0.1")];
    assert_exit(&squall(&vars, &["-x", &dead, &url]), 0);
    // ...unless --noproxy replaces it ("" for none).
    let o = squall(&vars, &["-x", &proxy.url(), "--noproxy", "", &url]);
    assert_exit(&o, 0);
    assert_eq!(proxy.heads().len(), 3);
    // --noproxy '*' and -x "" switch proxies off.
    assert_exit(
        &squall(&[("http_proxy", &dead)], &["--noproxy", "*", &url]),
        0,
    );
    assert_exit(&squall(&[("http_proxy", &dead)], &["-x", "", &url]), 0);
    assert_eq!(proxy.heads().len(), 3);
    assert_eq!(origin.reqs().len(), 7);
}

#[test]
fn proxy_user_goes_to_the_proxy_only() {
    let origin = Server::start(|_| ok(b"ok"));
    let proxy = TestProxy::with(ProxyOptions {
        require_auth: Some(basic("pu", "p:w")),
        ..ProxyOptions::default()
    });
    let url = origin.url("/");
    let o = squall(
        &[],
        &["-x", &proxy.url(), "-U", "pu:p:w", "-u", "ou:op", &url],
    );
    assert_exit(&o, 0);
    let seen = origin.last();
    assert_eq!(seen.header("Proxy-Authorization"), None);
    assert_eq!(
        seen.header("Authorization"),
        Some(basic("ou", "op").as_str())
    );
    // Without credentials the proxy says 407, which is the answer (exit 0, 22 with -f).
    let o = squall(&[("http_proxy", &proxy.url())], &["-f", &url]);
    assert_exit(&o, 22);
    // Userinfo of the variable, percent-decoded.
    let hp = format!("http://pu:p%3Aw@127.0.0.1:{}", proxy.port());
    assert_exit(&squall(&[("http_proxy", &hp)], &["-f", &url]), 0);
}

#[test]
fn https_through_the_tunnel_from_https_proxy() {
    let origin = TlsOrigin::start("cli-proxy");
    let proxy = TestProxy::with(ProxyOptions {
        require_auth: Some(basic("pu", "pp")),
        ..ProxyOptions::default()
    });
    let url = origin.url("/s");
    let hp = format!("http://127.0.0.1:{}", proxy.port());
    let o = squall(
        &[("HTTPS_PROXY", &hp)],
        &[
            "-U",
            "pu:pp",
            "-H",
            "Proxy-Authorization: Basic c2VjcmV0",
            "--cacert",
            origin.ca_path.to_str().unwrap(),
            &url,
        ],
    );
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "GET /s HTTP/1.1");
    assert_connect(&proxy.heads()[0], origin.port(), Some(&basic("pu", "pp")));
    let inside = origin.heads()[0].clone();
    assert!(inside.starts_with("GET /s HTTP/1.1\r\n"), "{inside}");
    assert_eq!(header(&inside, "Proxy-Authorization"), None, "{inside}");
}

#[test]
fn curls_exit_codes_for_proxy_failures() {
    let url = "http://origin.test/";
    // 5: the proxy name does not resolve (a 64-octet label: refused without a query).
    let long = format!("{}.invalid", "a".repeat(64));
    let err = assert_exit(&squall(&[], &["-x", &long, url]), 5);
    assert!(err.contains("Could not resolve proxy"), "{err}");
    // 5: a proxy URL that does not parse, naming the variable.
    let err = assert_exit(&squall(&[("http_proxy", "http://[::1")], &[url]), 5);
    assert!(err.contains("in http_proxy"), "{err}");
    assert!(err.starts_with("squall: "), "{err}");
    // 7: refused; and an unsupported proxy scheme.
    let dead = format!("127.0.0.1:{}", closed_port());
    let err = assert_exit(&squall(&[("all_proxy", &dead)], &[url]), 7);
    assert!(err.contains(&format!("proxy {dead}")), "{err}");
    let err = assert_exit(
        &squall(&[("https_proxy", "socks5://h:1")], &["https://x.test/"]),
        7,
    );
    assert!(
        err.contains("in https_proxy") && err.contains("socks5"),
        "{err}"
    );
    // 56: CONNECT answered 403; the message names the proxy and its status.
    let proxy = TestProxy::with(ProxyOptions {
        refuse_connect: Some(403),
        ..ProxyOptions::default()
    });
    let err = assert_exit(&squall(&[], &["-x", &proxy.url(), "https://x.test/"]), 56);
    assert!(err.contains("403"), "{err}");
    assert!(err.contains(&proxy.addr.to_string()), "{err}");
}
