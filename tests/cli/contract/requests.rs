//! What squall sends: `-d`/`--json` bodies, methods, headers, User-Agent, credentials, `--resolve`, coding requests and their decoding.

use super::*;

#[test]
fn data_posts_a_form_unless_told_otherwise() {
    let s = ok_server(b"ok");
    let o = squall(&["-d", "a=1&b=2", &s.url("/form")]);
    assert_code(&o, 0);
    let r = &s.reqs()[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.body, b"a=1&b=2");
    assert_eq!(
        r.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    // -H wins over the form type; -X over POST; several -d join with &.
    let o = squall(&[
        "-X",
        "PUT",
        "-H",
        "Content-Type: text/plain",
        "-d",
        "one",
        "--data-binary",
        "two",
        &s.url("/put"),
    ]);
    assert_code(&o, 0);
    let r = &s.reqs()[1];
    assert_eq!(r.method, "PUT");
    assert_eq!(r.body, b"one&two");
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert_eq!(
        r.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            .count(),
        1
    );
}

#[test]
fn json_sets_content_type_and_accept() {
    let s = ok_server(b"{}");
    let o = squall(&["--json", r#"{"a":1}"#, &s.url("/j")]);
    assert_code(&o, 0);
    let r = &s.reqs()[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.body, br#"{"a":1}"#);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("accept"), Some("application/json"));
}

#[test]
fn data_from_a_file_and_from_stdin() {
    let s = ok_server(b"ok");
    let path = temp_path("body.bin");
    let body: Vec<u8> = (0..=255u8).chain(b"\r\n\0tail".iter().copied()).collect();
    std::fs::write(&path, &body).unwrap();
    let arg = format!("@{}", path.display());
    let o = squall(&["--data-binary", &arg, &s.url("/f")]);
    assert_code(&o, 0);
    assert_eq!(s.reqs()[0].body, body, "the file, byte for byte");
    let o = squall_stdin(&["-d", "@-", &s.url("/stdin")], b"from\nstdin\0!");
    assert_code(&o, 0);
    assert_eq!(s.reqs()[1].body, b"from\nstdin\0!");
}

#[test]
fn unreadable_data_file_is_26_before_anything_is_sent() {
    let s = ok_server(b"ok");
    let o = squall(&["-d", "@/nonexistent/squall-body", &s.url("/")]);
    assert_fails(&o, 26);
    assert!(
        stderr(&o).contains("/nonexistent/squall-body"),
        "{}",
        stderr(&o)
    );
    assert_no_connection(&s);
}

#[test]
fn methods_headers_user_agent_and_auth() {
    let s = ok_server(b"ok");
    let o = squall(&[
        "-X",
        "PURGE",
        "-H",
        "X-One: 1",
        "-H",
        "X-Two:  two words ",
        "-A",
        "agent/9",
        "-u",
        "me:p:w",
        &s.url("/m"),
    ]);
    assert_code(&o, 0);
    let r = &s.reqs()[0];
    assert_eq!(r.method, "PURGE");
    assert!(r.body.is_empty());
    assert_eq!(r.header("x-one"), Some("1"));
    assert_eq!(r.header("x-two"), Some("two words"));
    assert_eq!(r.header("user-agent"), Some("agent/9"));
    // base64("me:p:w")
    assert_eq!(r.header("authorization"), Some("Basic bWU6cDp3"));
    // -H User-Agent replaces the default instead of adding a second one.
    let o = squall(&["-H", "User-Agent: mine", &s.url("/ua")]);
    assert_code(&o, 0);
    let r = &s.reqs()[1];
    assert_eq!(r.header("user-agent"), Some("mine"));
    assert_eq!(
        r.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("user-agent"))
            .count(),
        1
    );
}

#[test]
fn url_userinfo_wins_default_user_agent_and_any_method_with_a_body() {
    let s = ok_server(b"ok");
    // Userinfo in the URL wins over -u (as in Tornado).
    let url = format!("http://url:pw@{}/u", s.addr);
    let o = squall(&["-u", "flag:x", &url]);
    assert_code(&o, 0);
    let r = &s.reqs()[0];
    assert_eq!(r.header("authorization"), Some("Basic dXJsOnB3")); // base64("url:pw")
    assert_eq!(
        r.header("user-agent").map(str::to_string),
        Some(format!("squall/{}", env!("CARGO_PKG_VERSION")))
    );
    // -X is sent as given, with a body too (GET with -d, as curl does).
    let o = squall(&["-X", "GET", "-d", "q=1", &s.url("/g")]);
    assert_code(&o, 0);
    let r = &s.reqs()[1];
    assert_eq!(r.method, "GET");
    assert_eq!(r.body, b"q=1");
}

#[test]
fn resolve_maps_a_name_to_the_local_server() {
    let s = ok_server(b"resolved");
    let map = format!("squall-test.example:{}:127.0.0.1", s.port());
    let url = format!("http://squall-test.example:{}/r", s.port());
    let o = squall(&["--resolve", &map, &url]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "resolved");
    let host = format!("squall-test.example:{}", s.port());
    assert_eq!(s.reqs()[0].header("host"), Some(host.as_str()));
}

#[test]
fn raw_sends_no_accept_encoding() {
    let s = ok_server(b"ok");
    assert_code(&squall(&[&s.url("/")]), 0);
    assert_code(&squall(&["--raw", &s.url("/")]), 0);
    assert_code(&squall(&["--compressed", &s.url("/")]), 0);
    let r = s.reqs();
    assert_eq!(r[0].header("accept-encoding"), Some("gzip"));
    assert_eq!(r[1].header("accept-encoding"), None);
    assert_eq!(r[2].header("accept-encoding"), Some("gzip"));
}

#[test]
fn gzip_is_decoded_unless_raw_and_broken_gzip_is_61() {
    let z = gzip(b"inflated text");
    let z2 = z.clone();
    let s = Server::start_writing(move |r, s| {
        if r.target == "/broken" {
            respond(
                s,
                "200 OK",
                &[("Content-Encoding", "gzip")],
                b"\x1f\x8b\x08\x00garbage!",
            );
        } else {
            respond(s, "200 OK", &[("Content-Encoding", "gzip")], &z2);
        }
        true
    });
    let o = squall(&["-w", "%{size_download}", &s.url("/z")]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "inflated text13");
    let o = squall(&["--raw", &s.url("/z")]);
    assert_code(&o, 0);
    assert_eq!(o.stdout, z);
    let o = squall(&[&s.url("/broken")]);
    assert_fails(&o, 61);
}

#[test]
fn unknown_content_encoding_passes_through() {
    let s = Server::start_writing(|_, s| {
        respond(
            s,
            "200 OK",
            &[("Content-Encoding", "br")],
            b"\x0bnot-really-br",
        );
        true
    });
    let o = squall(&[&s.url("/")]);
    assert_code(&o, 0);
    assert_eq!(o.stdout, b"\x0bnot-really-br");
}

#[test]
fn a_url_without_scheme_is_http() {
    let s = ok_server(b"bare");
    let o = squall(&[&format!("127.0.0.1:{}/x", s.port())]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "bare");
    assert_eq!(s.reqs()[0].target, "/x");
}
