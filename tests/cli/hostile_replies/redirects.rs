//! Redirects (RFC 9110 §15.4, §10.2.2): Location resolved, encoded, limited, and curl's exit
//! codes.

use super::*;

#[test]
fn redirect_locations_resolve_encode_and_fail_with_curls_codes() {
    // Relative reference resolved per RFC 3986 §5.2 against the request URL.
    let s = serve(vec![redirect(302, "../b/c?x=1"), ok_reply("ok")]);
    let o = squall(&[
        "-s",
        "-w",
        " %{num_redirects} %{url_effective}",
        &s.url("/a/d/e"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(
        s.request_lines(),
        ["GET /a/d/e HTTP/1.1", "GET /a/b/c?x=1 HTTP/1.1"]
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("ok 1 {}", s.url("/a/b/c?x=1"))
    );

    // A space in Location is sent percent-encoded, never raw on the request line.
    let s = serve(vec![redirect(302, "/a b"), ok_reply("ok")]);
    let o = squall(&["-s", &s.url("/")]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(s.request_lines()[1], "GET /a%20b HTTP/1.1");

    // The fragment is never sent (RFC 9110 §7.1), before or after the redirect.
    let s = serve(vec![redirect(302, "/b#new"), ok_reply("ok")]);
    let o = squall(&["-s", &s.url("/a#frag")]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(s.request_lines(), ["GET /a HTTP/1.1", "GET /b HTTP/1.1"]);

    // Location to a scheme squall does not speak: 1.
    let s = serve(vec![redirect(302, "ftp://127.0.0.1/x")]);
    let o = squall(&["-s", &s.url("/")]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");

    // A loop: more than --max-redirects (default 5) is 47.
    let s = serve(vec![redirect(302, "/again")]);
    let o = squall(&["-s", &s.url("/")]);
    assert_eq!(o.status.code(), Some(47), "{o:?}");
    assert_eq!(s.requests().len(), 6, "the first request and 5 redirects");
    let o = squall(&["-s", "--max-redirects", "1", &s.url("/")]);
    assert_eq!(o.status.code(), Some(47), "{o:?}");

    // --no-follow: the 3xx is the answer, exit 0; the last of -L / --no-follow wins.
    let s = serve(vec![redirect(302, "/x"), ok_reply("ok")]);
    let o = squall(&[
        "-s",
        "-L",
        "--no-follow",
        "-w",
        "%{http_code} %{num_redirects}",
        &s.url("/"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(o.stdout, b"302 0");
    let s = serve(vec![redirect(302, "/x"), ok_reply("ok")]);
    let o = squall(&["-s", "--no-follow", "-L", &s.url("/")]);
    assert_eq!(o.stdout, b"ok");

    // A 3xx without Location is a final answer (RFC 9110 §15.4: MAY follow only with one).
    let s = serve(vec![Reply::Close(
        b"HTTP/1.1 301 Moved\r\nContent-Length: 0\r\n\r\n".to_vec(),
    )]);
    let o = squall(&["-s", "-w", "%{http_code}", &s.url("/")]);
    assert_eq!(
        (o.status.code(), o.stdout.as_slice()),
        (Some(0), &b"301"[..])
    );

    // A Location that is not a URI reference: 3 (malformed URL).
    let s = serve(vec![redirect(302, "http://[::1")]);
    let o = squall(&["-s", &s.url("/")]);
    assert_eq!(o.status.code(), Some(3), "{o:?}");
}

#[test]
fn redirect_methods() {
    let post = |code: u16| {
        let s = serve(vec![redirect(code, "/x"), ok_reply("ok")]);
        let o = squall(&["-s", "-d", "abc", &s.url("/")]);
        assert_eq!(o.status.code(), Some(0), "{code}: {o:?}");
        let reqs = s.requests();
        assert!(reqs[0].starts_with("POST / "), "{reqs:?}");
        reqs[1].clone()
    };
    // RFC 9110 §15.4.4: 303 -> GET without the body.
    let r = post(303);
    assert!(r.starts_with("GET /x "), "{r}");
    assert!(!r.to_ascii_lowercase().contains("content-length"), "{r}");
    // §15.4.3 (302) and §15.4.2 (301): POST may become GET, as every client does.
    let r = post(302);
    assert!(r.starts_with("GET /x "), "{r}");
    // §15.4.8 / §15.4.9: 307 and 308 keep the method and the body.
    for code in [307, 308] {
        let r = post(code);
        assert!(r.starts_with("POST /x "), "{code}: {r}");
        assert!(r.ends_with("\r\n\r\nabc"), "{code}: {r}");
    }
}

#[test]
fn location_with_raw_utf8_bytes_is_not_double_encoded() {
    // RFC 3986 §2.1: percent-encoding encodes octets. A Location holding the raw UTF-8 bytes
    // of "/é" (C3 A9) is requested as /%C3%A9; today it is decoded as latin-1 and re-encoded
    // as UTF-8: /%C3%83%C2%A9.
    let s = serve(vec![
        Reply::Close(
            b"HTTP/1.1 302 Found\r\nLocation: /\xc3\xa9\r\nContent-Length: 0\r\n\r\n".to_vec(),
        ),
        ok_reply("ok"),
    ]);
    let o = squall(&["-s", &s.url("/")]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(s.request_lines()[1], "GET /%C3%A9 HTTP/1.1");
}

#[test]
fn redirect_inherits_the_fragment() {
    // RFC 9110 §10.2.2: "If the Location value provided in a 3xx response does not have a
    // fragment component, a user agent MUST process the redirection as if the value inherits
    // the fragment component of the URI reference used to generate the target URI".
    let s = serve(vec![redirect(302, "/b"), ok_reply("ok")]);
    let o = squall(&["-s", "-w", "|%{url_effective}", &s.url("/a#frag")]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("ok|{}", s.url("/b#frag"))
    );
    // A fragment in Location wins.
    let s = serve(vec![redirect(302, "/b#new"), ok_reply("ok")]);
    let o = squall(&["-s", "-w", "|%{url_effective}", &s.url("/a#frag")]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("ok|{}", s.url("/b#new"))
    );
}
