//! Heads and metadata: `-i`, `-I`, `-v`, `-w`, and how redirects show in them.

use super::*;

fn redirect_server() -> Server {
    Server::start_writing(|r, s| {
        match r.target.as_str() {
            "/r1" => respond(s, "302 Found", &[("Location", "/r2")], b"moved 1"),
            "/r2" => respond(
                s,
                "301 Moved Permanently",
                &[("Location", "/end")],
                b"moved 2",
            ),
            "/loop" => respond(s, "302 Found", &[("Location", "/loop")], b""),
            _ => respond(s, "200 OK", &[("Content-Type", "text/x-end")], b"the end"),
        }
        true
    })
}

#[test]
fn include_prints_every_head_of_the_chain() {
    let s = redirect_server();
    let o = squall(&["-i", &s.url("/r1")]);
    assert_code(&o, 0);
    let out = stdout(&o);
    let heads: Vec<&str> = out.split("\r\n\r\n").collect();
    assert_eq!(heads.len(), 4, "{out:?}");
    assert!(heads[0].starts_with("HTTP/1.1 302 Found\r\n"), "{out:?}");
    assert!(heads[0].contains("Location: /r2"), "{out:?}");
    assert!(
        heads[1].starts_with("HTTP/1.1 301 Moved Permanently\r\n"),
        "{out:?}"
    );
    assert!(heads[2].starts_with("HTTP/1.1 200 OK\r\n"), "{out:?}");
    assert!(heads[2].contains("Content-Type: text/x-end"), "{out:?}");
    assert_eq!(heads[3], "the end");
}

#[test]
fn head_sends_head_and_prints_the_head() {
    let s = Server::start_writing(|r, s| {
        let _ = s.write_all(
            format!(
                "HTTP/1.1 200 OK\r\nX-Method: {}\r\nContent-Length: 1000\r\n\r\n",
                r.method
            )
            .as_bytes(),
        );
        true
    });
    let o = squall(&["-I", &s.url("/h")]);
    assert_code(&o, 0);
    assert_eq!(s.reqs()[0].method, "HEAD");
    assert_eq!(
        stdout(&o),
        "HTTP/1.1 200 OK\r\nX-Method: HEAD\r\nContent-Length: 1000\r\n\r\n"
    );
}

#[test]
fn folded_header_lines_are_unfolded_with_a_space() {
    let s = raw_server(b"HTTP/1.1 200 OK\r\nX-Fold: one\r\n  two\r\nContent-Length: 2\r\n\r\nok");
    let o = squall(&["-i", &s.url("/")]);
    assert_code(&o, 0);
    assert!(
        stdout(&o).contains("X-Fold: one two\r\n"),
        "{:?}",
        stdout(&o)
    );
    assert!(stdout(&o).ends_with("\r\n\r\nok"));
}

#[test]
fn follow_by_default_no_follow_and_last_one_wins() {
    let s = redirect_server();
    let o = squall(&["-w", " %{http_code} %{num_redirects}", &s.url("/r1")]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "the end 200 2");
    let o = squall(&[
        "--no-follow",
        "-w",
        " %{http_code} %{num_redirects}",
        &s.url("/r1"),
    ]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "moved 1 302 0");
    let o = squall(&["--no-follow", "-L", &s.url("/r1")]);
    assert_eq!(stdout(&o), "the end");
    let o = squall(&["-L", "--no-follow", &s.url("/r1")]);
    assert_eq!(stdout(&o), "moved 1");
}

#[test]
fn too_many_redirects_is_47() {
    let s = redirect_server();
    let o = squall(&["--max-redirects", "1", "-w", "%{http_code}", &s.url("/r1")]);
    assert_fails(&o, 47);
    assert_eq!(stdout(&o), "301", "-w shows the last 3xx: {}", stdout(&o));
    let o = squall(&[&s.url("/loop")]);
    assert_fails(&o, 47);
    assert_eq!(
        s.reqs().iter().filter(|r| r.target == "/loop").count(),
        6,
        "default 5"
    );
    // -i shows the heads received before giving up, as curl -i -L does; no body.
    let o = squall(&["-i", "--max-redirects", "1", &s.url("/r1")]);
    assert_fails(&o, 47);
    let out = stdout(&o);
    assert!(out.starts_with("HTTP/1.1 302 Found\r\n"), "{out:?}");
    assert!(
        out.contains("\r\n\r\nHTTP/1.1 301 Moved Permanently\r\n"),
        "{out:?}"
    );
    assert!(out.ends_with("\r\n\r\n"), "{out:?}");
}

#[test]
fn write_out_variables() {
    let s = redirect_server();
    let fmt = "%{http_code}|%{url_effective}|%{num_redirects}|%{size_download}|\
               %{content_type}|%{time_connect}|%{time_starttransfer}|%{time_total}\\n%%\\t.";
    let o = squall(&["-w", fmt, &s.url("/r1")]);
    assert_code(&o, 0);
    let out = stdout(&o);
    let rest = out.strip_prefix("the end").expect(&out);
    let (line, tail) = rest.split_once('\n').unwrap();
    assert_eq!(tail, "%\t.");
    let f: Vec<&str> = line.split('|').collect();
    let end = s.url("/end");
    assert_eq!(f[..5], ["200", end.as_str(), "2", "7", "text/x-end"]);
    let times: Vec<f64> = f[5..].iter().map(|t| t.parse().unwrap()).collect();
    for t in &times {
        assert!(*t >= 0.0 && *t < 30.0, "{line}");
    }
    assert!(times[0] <= times[2] && times[1] <= times[2], "{line}");
    // After a failure with no response: 000.
    let dead = format!("http://127.0.0.1:{}/", closed_port());
    let o = squall(&["-w", "%{http_code} %{size_download}\\n", &dead]);
    assert_fails(&o, 7);
    assert_eq!(stdout(&o), "000 0\n");
}

#[test]
fn write_out_from_a_file_and_dash_output_is_stdout() {
    let s = ok_server(b"body");
    let fmt = temp_path("fmt.txt");
    std::fs::write(&fmt, "[%{http_code} %{method}]").unwrap();
    let arg = format!("@{}", fmt.display());
    let o = squall(&["-o", "-", "-w", &arg, &s.url("/")]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "body[200 GET]");
    // An unknown variable is a warning, not a failure; it prints nothing.
    let o = squall(&["-w", "<%{no_such_thing}>", &s.url("/")]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "body<>");
    assert!(stderr(&o).contains("no_such_thing"));
}

#[test]
fn verbose_shows_both_heads_on_stderr() {
    let s = ok_server(b"body");
    let o = squall(&["-v", "-H", "X-Probe: 1", &s.url("/v")]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "body");
    let e = stderr(&o);
    assert!(e.contains("> GET /v HTTP/1.1"), "{e}");
    assert!(e.contains("> X-Probe: 1"), "{e}");
    assert!(e.contains("< HTTP/1.1 200 OK"), "{e}");
    assert!(e.contains("< Content-Type: text/plain"), "{e}");
}

#[test]
fn verbose_interleaves_request_and_response_heads_per_hop() {
    // As curl -v -L: each request head, then the response head it got, hop by hop.
    let s = redirect_server();
    let o = squall(&["-v", "-s", &s.url("/r1")]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "the end");
    let e = stderr(&o);
    let order: Vec<&str> = e
        .lines()
        .filter(|l| l.starts_with("> GET") || l.starts_with("< HTTP/"))
        .collect();
    assert_eq!(
        order,
        [
            "> GET /r1 HTTP/1.1",
            "< HTTP/1.1 302 Found",
            "> GET /r2 HTTP/1.1",
            "< HTTP/1.1 301 Moved Permanently",
            "> GET /end HTTP/1.1",
            "< HTTP/1.1 200 OK",
        ],
        "{e}"
    );
    // Too many redirects (47): the heads are still shown, in order.
    let o = squall(&["-v", "-s", "--max-redirects", "1", &s.url("/loop")]);
    assert_code(&o, 47);
    let e = stderr(&o);
    let order: Vec<&str> = e
        .lines()
        .filter(|l| l.starts_with("> GET") || l.starts_with("< HTTP/"))
        .collect();
    assert_eq!(
        order,
        [
            "> GET /loop HTTP/1.1",
            "< HTTP/1.1 302 Found",
            "> GET /loop HTTP/1.1",
            "< HTTP/1.1 302 Found",
        ],
        "{e}"
    );
}

#[test]
fn include_and_verbose_show_interim_1xx_heads() {
    // curl -i prints every head received, 1xx ones included (RFC 9110 §15.2).
    let s = raw_server(
        b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n\
          HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    );
    let o = squall(&["-s", "-i", "-v", "-w", "|%{size_header}", &s.url("/")]);
    assert_code(&o, 0);
    let head = "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n\
                HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
    assert_eq!(stdout(&o), format!("{head}ok|{}", head.len()));
    let e = stderr(&o);
    let early = e.find("< HTTP/1.1 103 Early Hints").expect(&e);
    let ok = e.find("< HTTP/1.1 200 OK").expect(&e);
    assert!(early < ok, "{e}");
}

#[test]
fn include_prints_the_reason_phrase_the_library_reports() {
    // A reason phrase that came is printed as it came. One that did not come (RFC 9112 §4
    // allows an empty one) cannot be: the library fills in the standard phrase (S-02) and the
    // header callback rebuilds its lines from the same filled-in head, so the wire bytes are
    // not reachable through the public API. squall prints the library's phrase rather than
    // guess (only an API that handed over the head as received could print the empty one).
    let s = raw_server(b"HTTP/1.1 200 Fine Thanks\r\nContent-Length: 0\r\n\r\n");
    let o = squall(&["-s", "-i", &s.url("/")]);
    assert_code(&o, 0);
    assert_eq!(
        stdout(&o),
        "HTTP/1.1 200 Fine Thanks\r\nContent-Length: 0\r\n\r\n"
    );
    let s = raw_server(b"HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n");
    let o = squall(&["-s", "-i", &s.url("/")]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
}

#[test]
fn silent_and_piped_stderr_show_no_progress() {
    let s = ok_server(b"quiet");
    for args in [&[][..], &["-s"][..]] {
        let mut a = args.to_vec();
        let url = s.url("/");
        a.push(url.as_str());
        let o = squall(&a);
        assert_code(&o, 0);
        assert!(o.stderr.is_empty(), "{:?}", stderr(&o));
    }
}

/// RFC 9110 §10.2.2: two different Location fields make the target ambiguous. Where the
/// redirect would be followed (the default, or -L) it is not: exit 8 (a malformed reply), and
/// the message names both values. Identical repeats are one target and are followed.
#[test]
fn two_different_locations_are_exit_8_naming_both() {
    let s = Server::start_writing(|req, s| {
        match req.target.as_str() {
            "/two" => respond(
                s,
                "302 Found",
                &[("Location", "/left"), ("Location", "/right")],
                b"",
            ),
            "/same" => respond(
                s,
                "302 Found",
                &[("Location", "/left"), ("Location", "/left")],
                b"",
            ),
            _ => respond(s, "200 OK", &[], b"landed"),
        }
        true
    });
    let o = squall(&["-L", &s.url("/two")]);
    assert_fails(&o, 8);
    let e = stderr(&o);
    assert!(e.contains("\"/left\"") && e.contains("\"/right\""), "{e}");
    assert_eq!(s.reqs().len(), 1, "not followed");
    let o = squall(&["-L", &s.url("/same")]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "landed");
    // Not following (--no-follow), the 3xx is just the answer.
    assert_code(&squall(&["--no-follow", &s.url("/two")]), 0);
}
