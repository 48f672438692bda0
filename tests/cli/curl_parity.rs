//! More black-box tests of the `squall` binary: the second pass over `docs/cli.md`, for
//! rules where squall and curl (which the contract names as the model) disagreed. Kept apart
//! from `hostile_replies.rs` so that each file stays one review's worth of cases.
//!
//! Each server here is a std thread on 127.0.0.1 that answers one canned reply per
//! connection and records the request it read, so a test can check both what squall printed
//! and what it sent.

use std::io::Write;
use std::sync::Arc;

use crate::support::canned::Canned;
use crate::support::cli::{squall, stdout};
use crate::support::tls::{TempDir, self_signed_leaf_with, serve_every_request, server_config};

#[test]
fn url_effective_is_the_normalised_url_as_curl_prints_it() {
    // cli.md: %{url_effective} as in curl, which prints the URL it fetched: the scheme in
    // lower case, "/" for an empty path (RFC 9112 §3.2.1 sends it so), the port without
    // leading zeros and the dot segments removed (RFC 3986 §5.2.4, §6.2.2.3), also when no
    // redirect was followed and also for a URL given without a scheme.
    let s = Canned::ok("ok");
    let p = s.port;
    let cases = [
        (
            format!("http://127.0.0.1:{p}"),
            format!("http://127.0.0.1:{p}/"),
        ),
        (format!("127.0.0.1:{p}"), format!("http://127.0.0.1:{p}/")),
        (
            format!("http://127.0.0.1:{p}?q=1"),
            format!("http://127.0.0.1:{p}/?q=1"),
        ),
        (
            format!("HTTP://127.0.0.1:{p}/a/./b/../c#f"),
            format!("http://127.0.0.1:{p}/a/c#f"),
        ),
        (
            format!("http://127.0.0.1:00{p}/x"),
            format!("http://127.0.0.1:{p}/x"),
        ),
        (
            format!("http://u:pw@127.0.0.1:{p}"),
            format!("http://u:pw@127.0.0.1:{p}/"),
        ),
    ];
    let mut bad = Vec::new();
    for (url, want) in &cases {
        let o = squall(&["-s", "-o", "/dev/null", "-w", "%{url_effective}", url]);
        if o.status.code() != Some(0) || stdout(&o) != *want {
            bad.push(format!(
                "{url}: exit {:?}, {:?} (expected {want:?})",
                o.status.code(),
                stdout(&o)
            ));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    // A failure before any response: the URL as squall would have fetched it.
    let o = squall(&["-s", "-w", "%{url_effective}", "http://127.0.0.1:1"]);
    assert_eq!(o.status.code(), Some(7), "{o:?}");
    assert_eq!(stdout(&o), "http://127.0.0.1:1/");
    // A redirect to a Location without a path.
    let target = Canned::ok("ok");
    let r = Canned::new(
        format!(
            "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{}\r\nContent-Length: 0\r\n\r\n",
            target.port
        )
        .as_bytes(),
    );
    let o = squall(&[
        "-s",
        "-w",
        "|%{url_effective}",
        &format!("http://127.0.0.1:{}/", r.port),
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(stdout(&o), format!("ok|http://127.0.0.1:{}/", target.port));
}

#[test]
fn write_out_variable_names_ignore_case_as_in_curl() {
    let s = Canned::ok("ok");
    let o = squall(&[
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{HTTP_CODE} %{Size_Download}",
        &format!("http://127.0.0.1:{}/", s.port),
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(stdout(&o), "200 2");
    assert!(o.stderr.is_empty(), "{o:?}");
}

#[test]
fn show_error_is_accepted_for_curl_habits() {
    // `curl -sS` / `-fsSL` are the most common curl spellings; squall always shows errors,
    // so -S / --show-error change nothing, and are no usage error.
    let s = Canned::ok("ok");
    let url = format!("http://127.0.0.1:{}/", s.port);
    for args in [
        vec!["-sS", url.as_str()],
        vec!["-fsSL", url.as_str()],
        vec!["-s", "--show-error", url.as_str()],
    ] {
        let o = squall(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {o:?}");
        assert_eq!(stdout(&o), "ok", "{args:?}");
    }
    // The error line still shows with -sS.
    let o = squall(&["-sS", "http://127.0.0.1:1/"]);
    assert_eq!(o.status.code(), Some(7), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("squall: ") && err.lines().count() == 1,
        "{err}"
    );
}

#[test]
fn a_bodiless_post_put_or_patch_says_content_length_0() {
    // RFC 9110 §8.6: "a user agent normally sends Content-Length in a POST request even when
    // the value is 0" (a method that defines a meaning for content); -X any token is sent as
    // given (cli.md). GET and DELETE without a body send no Content-Length.
    let mut bad = Vec::new();
    for (method, want) in [
        ("POST", Some("0")),
        ("PUT", Some("0")),
        ("PATCH", Some("0")),
        ("GET", None),
        ("DELETE", None),
        ("PURGE", None),
    ] {
        let s = Canned::ok("ok");
        let o = squall(&["-s", "-X", method, &format!("http://127.0.0.1:{}/", s.port)]);
        let req = s.requests().concat();
        let cl = req.split("\r\n").find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_string())
        });
        if o.status.code() != Some(0)
            || !req.starts_with(&format!("{method} / HTTP/1.1\r\n"))
            || cl.as_deref() != want
        {
            bad.push(format!(
                "{method}: exit {:?}, request {req:?}",
                o.status.code()
            ));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

// ------------------------------------------------------------------------------------------
// TLS: a self-signed CA certificate used as the server's own
// ------------------------------------------------------------------------------------------

/// A self-signed certificate with `CA:TRUE` for `names` (what `openssl req -x509` makes by
/// default, and Go's httptest certificate is), valid until `not_after_year`: its PEM file (in
/// `dir`) and a server config that presents it.
fn self_signed_ca_cert(
    dir: &TempDir,
    tag: &str,
    names: &[&str],
    not_after_year: i32,
) -> (std::path::PathBuf, Arc<rustls::ServerConfig>) {
    let cert = self_signed_leaf_with(names, |p| {
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        p.not_before = rcgen::date_time_ymd(1999, 1, 1);
        p.not_after = rcgen::date_time_ymd(not_after_year, 1, 1);
    });
    let path = dir.write(&format!("{tag}.pem"), &cert.chain_pem);
    (path, server_config(&cert, None))
}

/// A TLS server answering every request with "secure".
fn tls_server(config: Arc<rustls::ServerConfig>) -> u16 {
    serve_every_request(config, "secure").0.port()
}

#[test]
fn a_trusted_self_signed_ca_certificate_may_be_the_servers_own() {
    // cli.md: --cacert trusts the PEM certificates in FILE. A server whose certificate is
    // itself one of them is trusted, as curl (OpenSSL) trusts it, even when that certificate
    // says CA:TRUE; its names and dates are still checked (60 otherwise).
    let dir = TempDir::new("self-signed-ca");
    let (pem, config) = self_signed_ca_cert(&dir, "good", &["127.0.0.1", "localhost"], 2200);
    let port = tls_server(config);
    let pem = pem.to_str().unwrap();
    for host in ["127.0.0.1", "localhost"] {
        let o = squall(&["-s", "--cacert", pem, &format!("https://{host}:{port}/")]);
        assert_eq!(o.status.code(), Some(0), "{host}: {o:?}");
        assert_eq!(stdout(&o), "secure");
    }
    // Another self-signed CA is no substitute: 60.
    let (other, _) = self_signed_ca_cert(&dir, "other", &["127.0.0.1"], 2200);
    let o = squall(&[
        "-s",
        "--cacert",
        other.to_str().unwrap(),
        &format!("https://127.0.0.1:{port}/"),
    ]);
    assert_eq!(o.status.code(), Some(60), "{o:?}");
    // Trusted, but for other names: 60.
    let (pem, config) = self_signed_ca_cert(&dir, "names", &["other.example"], 2200);
    let port = tls_server(config);
    let o = squall(&[
        "-s",
        "--cacert",
        pem.to_str().unwrap(),
        &format!("https://127.0.0.1:{port}/"),
    ]);
    assert_eq!(o.status.code(), Some(60), "{o:?}");
    // Trusted, but expired: 60.
    let (pem, config) = self_signed_ca_cert(&dir, "expired", &["127.0.0.1"], 2001);
    let port = tls_server(config);
    let o = squall(&[
        "-s",
        "--cacert",
        pem.to_str().unwrap(),
        &format!("https://127.0.0.1:{port}/"),
    ]);
    assert_eq!(o.status.code(), Some(60), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("expired"),
        "{o:?}"
    );
    for tag in ["good", "other", "names", "expired"] {
        let _ = std::fs::remove_file(
            std::env::temp_dir().join(format!("squall-blackbox2-{}-{tag}.pem", std::process::id())),
        );
    }
}

#[test]
fn header_and_user_agent_bytes_go_out_as_given() {
    // RFC 9110 §5.5: a field value may hold obs-text (bytes 0x80-0xFF). curl sends the bytes of
    // a -H or -A argument as they are; so does squall: UTF-8 text arrives as UTF-8, not
    // re-encoded to latin-1 (`é` as E9) nor refused (`€` is E2 82 AC, two bytes of it in
    // 0x80-0x9F).
    let s = Canned::ok("ok");
    let o = squall(&[
        "-s",
        "-H",
        "X-A: café €",
        "-A",
        "agent/ü",
        &format!("http://127.0.0.1:{}/", s.port),
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let req = s.requests().concat();
    assert!(req.contains("\r\nX-A: café €\r\n"), "{req:?}");
    assert!(req.contains("\r\nUser-Agent: agent/ü\r\n"), "{req:?}");
    // Control characters stay refused before anything is sent (cli.md: 2).
    let o = squall(&[
        "-s",
        "-H",
        "X-A: a\u{1}b",
        &format!("http://127.0.0.1:{}/", s.port),
    ]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert_eq!(s.requests().len(), 1);
}

#[test]
fn bench_takes_a_url_without_a_scheme_as_http_too() {
    // docs/cli.md: "A URL without a scheme gets http://", for `squall bench` as for a fetch.
    let s = Canned::ok("ok");
    let o = squall(&["bench", "-n", "3", &format!("127.0.0.1:{}/", s.port)]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let out = stdout(&o);
    assert!(out.contains("errors: 0\n"), "{out}");
    assert!(out.lines().last().unwrap().starts_with("req/s: "), "{out}");
    assert_eq!(s.requests().len(), 3);
}

#[test]
fn include_and_verbose_show_the_content_encoding_received() {
    // cli.md: -i prints the status line and headers, -v the response heads: the head the
    // server sent. Decoding the body (the default) does not rename its Content-Encoding in
    // what is shown (the library's X-Consumed-Content-Encoding is Tornado's API, not the
    // wire), and %header{content-encoding} finds it, as in curl --compressed.
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b"hello world\n").unwrap();
    let g = e.finish().unwrap();
    let mut reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        g.len()
    )
    .into_bytes();
    reply.extend_from_slice(&g);
    let s = Canned::new(&reply);
    let url = format!("http://127.0.0.1:{}/", s.port);
    let o = squall(&["-s", "-i", &url]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let out = stdout(&o);
    assert!(out.contains("\r\nContent-Encoding: gzip\r\n"), "{out:?}");
    assert!(!out.contains("X-Consumed"), "{out:?}");
    assert!(out.ends_with("\r\n\r\nhello world\n"), "{out:?}");
    let o = squall(&["-s", "-v", "-o", "/dev/null", &url]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("< Content-Encoding: gzip\n"), "{err}");
    assert!(!err.contains("X-Consumed"), "{err}");
    let o = squall(&[
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%header{content-encoding} %{size_download}",
        &url,
    ]);
    assert_eq!(stdout(&o), "gzip 12");
}

#[test]
fn fail_still_prints_the_head_asked_for() {
    // -f: exit 22 and no body for a status >= 400; -i and -I still print the head, as
    // curl -f -i does (to stdout, or to the -o file).
    let s = Canned::new(b"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope");
    let url = format!("http://127.0.0.1:{}/", s.port);
    let head = "HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\n";
    for flag in ["-i", "-I"] {
        let o = squall(&["-s", "-f", flag, &url]);
        assert_eq!(o.status.code(), Some(22), "{flag}: {o:?}");
        assert_eq!(stdout(&o), head, "{flag}");
    }
    let path = std::env::temp_dir().join(format!("squall-blackbox2-{}-fail", std::process::id()));
    let o = squall(&["-s", "-f", "-i", "-o", path.to_str().unwrap(), &url]);
    assert_eq!(o.status.code(), Some(22), "{o:?}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), head);
    let _ = std::fs::remove_file(&path);
    // Without -i nothing is written, and no -o file is made.
    let o = squall(&["-s", "-f", "-o", path.to_str().unwrap(), &url]);
    assert_eq!(o.status.code(), Some(22), "{o:?}");
    assert!(o.stdout.is_empty() && !path.exists(), "{o:?}");
}

#[test]
fn a_header_with_an_empty_value_is_spelled_with_a_semicolon() {
    // curl: -H "Name;" sends "Name:" with an empty value (a colon form with nothing after it
    // is how curl removes a header, so the semicolon is the spelling of an empty one).
    let s = Canned::ok("ok");
    let o = squall(&[
        "-s",
        "-H",
        "X-Empty;",
        &format!("http://127.0.0.1:{}/", s.port),
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let req = s.requests().concat();
    assert!(req.contains("\r\nX-Empty: \r\n"), "{req:?}");
}

/// `> ` / `< ` before each line of a head, as -v prints it.
fn prefixed(prefix: &str, head: &str) -> String {
    head.strip_suffix("\r\n")
        .unwrap_or(head)
        .split("\r\n")
        .map(|l| format!("{prefix}{l}\n"))
        .collect()
}

#[test]
fn verbose_include_and_write_out_follow_each_hop_across_a_redirect_and_a_100() {
    // -v -i -L as curl prints them: on stderr each request head as written, then the heads
    // read back (the 100 before the 200); on stdout every head in order; -w the final peer.
    let end =
        Canned::new(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    let redirect = format!(
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:{}/b\r\n\
         Content-Length: 0\r\n\r\n",
        end.port
    );
    let start = Canned::new(redirect.as_bytes());
    let url = format!("http://127.0.0.1:{}/a", start.port);
    let w = "|%{remote_ip} %{remote_port} %{size_header}";
    let o = squall(&["-s", "-v", "-i", "-L", "-d", "x", "-w", w, &url]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let head_of = |req: &str| req[..req.find("\r\n\r\n").unwrap() + 4].to_string();
    let (a, b) = (head_of(&start.requests()[0]), head_of(&end.requests()[0]));
    let heads = format!(
        "{redirect}HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
    );
    assert_eq!(
        stdout(&o),
        format!("{heads}ok|127.0.0.1 {} {}", end.port, heads.len())
    );
    let verbose = [
        prefixed("> ", &a),
        prefixed("< ", &redirect),
        prefixed("> ", &b),
        prefixed("< ", "HTTP/1.1 100 Continue\r\n\r\n"),
        prefixed("< ", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"),
    ]
    .concat();
    assert_eq!(String::from_utf8_lossy(&o.stderr), verbose);
    // No request written: no address.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let o = squall(&[
        "-s",
        "-w",
        "[%{remote_ip}] %{remote_port}",
        &format!("http://{closed}/"),
    ]);
    assert_eq!(o.status.code(), Some(7), "{o:?}");
    assert_eq!(stdout(&o), "[] 0");
}
