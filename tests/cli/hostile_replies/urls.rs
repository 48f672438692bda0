//! URLs (RFC 3986): what squall sends for the URL it was given, and the URLs it refuses.

use super::*;

#[test]
fn request_targets_from_urls() {
    let s = serve(vec![ok_reply("ok")]);
    let base = format!("127.0.0.1:{}", s.port);
    let cases: Vec<(String, &str)> = vec![
        // §3.1 / §6.2.2.1: the scheme and the host are case-insensitive.
        (format!("HTTP://{base}/a"), "GET /a HTTP/1.1"),
        // §5.2.2: T.path = remove_dot_segments(R.path).
        (format!("http://{base}/a/./b/../c"), "GET /a/c HTTP/1.1"),
        (format!("http://{base}/../../x"), "GET /x HTTP/1.1"),
        // §2.1 / §6.2.2.2: percent-encoding is kept as given (case included).
        (
            format!("http://{base}/a%2Fb%41%2e?q=%20"),
            "GET /a%2Fb%41%2e?q=%20 HTTP/1.1",
        ),
        // §3.4: "?" and "/" are data in a query.
        (
            format!("http://{base}/p?a=1?b=/2&c"),
            "GET /p?a=1?b=/2&c HTTP/1.1",
        ),
        // §3.5: the fragment is not part of the request target.
        (format!("http://{base}/p?q#frag"), "GET /p?q HTTP/1.1"),
        // §6.2.3: an empty path is "/" in the origin-form (RFC 9112 §3.2.1).
        (format!("http://{base}"), "GET / HTTP/1.1"),
        (format!("http://{base}?x=1"), "GET /?x=1 HTTP/1.1"),
        // Characters RFC 3986 does not allow are sent percent-encoded (RFC 9112 §3.2: the
        // request-target is a URI), non-ASCII as UTF-8.
        (format!("http://{base}/a\\b|c"), "GET /a%5Cb%7Cc HTTP/1.1"),
        (
            format!("http://{base}/caf\u{e9}"),
            "GET /caf%C3%A9 HTTP/1.1",
        ),
    ];
    for (url, line) in &cases {
        let s = serve(vec![ok_reply("ok")]);
        let url = url.replace(&base, &format!("127.0.0.1:{}", s.port));
        let o = squall(&["-s", &url]);
        assert_eq!(o.status.code(), Some(0), "{url}: {o:?}");
        assert_eq!(s.request_lines(), [line.to_string()], "{url}");
    }
    drop(s);
    // Userinfo: %-decoded into basic auth, never sent in the target or Host.
    let s = serve(vec![ok_reply("ok")]);
    let url = format!("http://us%40er:p%3Ass@127.0.0.1:{}/", s.port);
    let o = squall(&["-s", &url]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let req = s.requests()[0].clone();
    // base64("us@er:p:ss")
    assert!(
        req.contains("\r\nAuthorization: Basic dXNAZXI6cDpzcw==\r\n"),
        "{req}"
    );
    assert!(
        req.contains(&format!("\r\nHost: 127.0.0.1:{}\r\n", s.port)),
        "{req}"
    );
}

#[test]
fn malformed_urls() {
    let cases = [
        // Spaces and control characters are not URI characters (§2): 3.
        ("http://127.0.0.1:1/a b", 3),
        ("http://127.0 .0.1:1/", 3),
        ("http://127.0.0.1:1/a\tb", 3),
        // §3.2.3: port = *DIGIT, and TCP ports stop at 65535.
        ("http://127.0.0.1:65536/", 3),
        ("http://127.0.0.1:99999999999/", 3),
        ("http://127.0.0.1:+80/", 3),
        ("http://127.0.0.1:8a/", 3),
        // RFC 9110 §4.2.1: an http URI with an empty host is invalid.
        ("http://", 3),
        ("http:///x", 3),
        ("http://:80/", 3),
        // §3.2.2: IPv6 literals in brackets; an unbracketed one is a bad port.
        ("http://::1:80/", 3),
        ("http://[::1/", 3),
        ("http://[::g]/", 3),
        ("http://a<b/", 3),
        // Schemes squall does not fetch: 1.
        ("ftp://127.0.0.1:1/", 1),
        ("file:///etc/passwd", 1),
    ];
    let mut bad = Vec::new();
    for (url, code) in cases {
        let o = squall(&["-s", url]);
        if o.status.code() != Some(code) {
            bad.push(format!(
                "{url:?}: exit {:?}, expected {code}: {}",
                o.status.code(),
                String::from_utf8_lossy(&o.stderr).trim_end()
            ));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn empty_port_is_the_default_port() {
    // RFC 3986 §3.2.3: "http://h:/" has an empty port: the scheme's default (80). Nothing
    // listens on 127.0.0.1:80 in the test environment, or if something does it answered:
    // either way the URL is accepted (not 3).
    let o = squall(&["-s", "-m", "5", "http://127.0.0.1:/x"]);
    assert_ne!(o.status.code(), Some(3), "{o:?}");
}

#[test]
fn ipv6_zone_identifier_is_refused_clearly() {
    // RFC 6874 zone identifiers ("%25eth0") are not supported: a malformed-URL error (3) that
    // says so, never an attempt with a mangled address.
    let o = squall(&["-s", "http://[fe80::1%25eth0]:1/"]);
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("zone"), "{o:?}");
}

#[test]
fn http_scheme_without_authority_is_a_malformed_url() {
    // RFC 3986 §3: "http:/x" has scheme "http" and no authority; RFC 9110 §4.2.1: an http
    // URI without a host is invalid -> 3. squall prepends "http://" and resolves "http" (6).
    for url in ["http:/x", "http:x", "https:/x", "HTTP:/x"] {
        let o = squall(&["-s", url]);
        assert_eq!(o.status.code(), Some(3), "{url}: {o:?}");
    }
}

#[test]
fn ipv6_literal_host_header_keeps_brackets() {
    // RFC 3986 §3.2.2 / RFC 9110 §7.2: Host for an IPv6 literal is "[addr]:port".
    let Ok(l) = TcpListener::bind("[::1]:0") else {
        return; // no IPv6 loopback here
    };
    let port = l.local_addr().unwrap().port();
    let h = thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let req = read_request(&mut s).unwrap();
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            .unwrap();
        String::from_utf8_lossy(&req).into_owned()
    });
    let url = format!("http://[::1]:{port}/x");
    let o = squall(&["-s", "-w", "|%{url_effective}", &url]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(String::from_utf8_lossy(&o.stdout), format!("ok|{url}"));
    let req = h.join().unwrap();
    assert!(req.starts_with("GET /x HTTP/1.1\r\n"), "{req}");
    assert!(
        req.contains(&format!("\r\nHost: [::1]:{port}\r\n")),
        "{req}"
    );
}

#[test]
fn raw_at_sign_in_the_password_splits_at_the_last_at() {
    // Decision: RFC 3986 §3.2.1 forbids a raw "@" in userinfo, so "u:p@ss@host" is not a
    // valid URI; squall, like curl and WHATWG parsers, splits the authority at the LAST "@"
    // (password "p@ss") rather than refusing it, since the host that follows is well formed
    // and no other reading connects anywhere sensible.
    let s = serve(vec![ok_reply("ok")]);
    let url = format!("http://u:p@ss@127.0.0.1:{}/", s.port);
    let o = squall(&["-s", &url]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let req = s.requests()[0].clone();
    // base64("u:p@ss")
    assert!(
        req.contains("\r\nAuthorization: Basic dTpwQHNz\r\n"),
        "{req}"
    );
}

#[test]
fn port_zero_is_syntactically_valid_and_fails_to_connect() {
    // Decision: RFC 3986 §3.2.3 port = *DIGIT, so ":0" parses; nothing can be reached on
    // port 0, so this is a connect failure (7), not a malformed URL (3).
    let o = squall(&["-s", "http://127.0.0.1:0/"]);
    assert_eq!(o.status.code(), Some(7), "{o:?}");
}
