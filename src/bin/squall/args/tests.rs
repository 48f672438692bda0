//! The option grammar's unit tests: every rule of `docs/cli.md` that parsing alone decides,
//! through [`parse`] as the binary calls it.

use super::values::{parse_resolve, with_scheme};
use super::*;

fn fetch(args: &[&str]) -> FetchArgs {
    match parse(args.iter().copied()) {
        Ok(Command::Fetch(a)) => *a,
        other => panic!("{args:?}: {other:?}"),
    }
}

fn err(args: &[&str]) -> String {
    match parse(args.iter().copied()) {
        Err(Usage(m)) => m,
        other => panic!("{args:?} should fail: {other:?}"),
    }
}

#[test]
fn defaults() {
    let a = fetch(&["http://x/"]);
    assert_eq!(a.urls, ["http://x/"]);
    assert_eq!(fetch(&["u"]).urls, ["http://u"]);
    assert_eq!(a.effective_method(), "GET");
    assert!(a.follow);
    assert_eq!(a.max_redirects, 5);
    assert_eq!(a.connect_timeout, Duration::from_secs(20));
    assert_eq!(a.max_time, None);
    assert_eq!(a.parallel, 1);
    assert_eq!(a.body_limit_for(0), Some(100 << 20));
}

#[test]
fn help_and_version() {
    assert!(matches!(parse(["--help"]), Ok(Command::Help)));
    assert!(matches!(parse(["-h", "http://x"]), Ok(Command::Help)));
    assert!(matches!(parse(["-V"]), Ok(Command::Version)));
    assert!(matches!(parse(["--version"]), Ok(Command::Version)));
    assert!(matches!(parse(["bench", "--help"]), Ok(Command::BenchHelp)));
}

#[test]
fn help_names_every_option() {
    for o in [
        "--request",
        "--header",
        "--data ",
        "--data-binary",
        "--json",
        "--user ",
        "--user-agent",
        "--output",
        "--include",
        "--head ",
        "--fail",
        "--no-follow",
        "--location",
        "--compressed",
        "--max-redirects",
        "--connect-timeout",
        "--max-time",
        "--cacert",
        "--cert ",
        "--key ",
        "--insecure",
        "--raw",
        "--max-body-size",
        "--max-filesize",
        "--resolve",
        "--dns-servers",
        "--proxy ",
        "--noproxy",
        "--proxy-user",
        "--write-out",
        "--verbose",
        "--silent",
        "--parallel",
        "--help",
        "--version",
    ] {
        assert!(HELP.contains(o), "help lacks {o}");
    }
    for o in ["-n,", "-c,", "-d,", "-k,", "--cacert", "--no-keepalive"] {
        assert!(BENCH_HELP.contains(o), "bench help lacks {o}");
    }
}

#[test]
fn missing_url_and_unknown_options_are_usage_errors() {
    assert!(err(&[]).contains("no URL"));
    assert!(err(&["-s"]).contains("no URL"));
    assert!(err(&["--bogus", "http://x"]).contains("--bogus"));
    assert!(err(&["-Z", "http://x"]).contains("-Z"));
    assert!(err(&["http://x", "-H"]).contains("-H"));
    assert!(err(&["--silent=yes", "http://x"]).contains("silent"));
}

#[test]
fn headers_repeat_and_are_checked() {
    let a = fetch(&[
        "-H",
        "A: 1",
        "--header",
        "B:2",
        "-HC:  3 ",
        "--header=D: 4",
        "u",
    ]);
    assert_eq!(
        a.headers,
        [("A", "1"), ("B", "2"), ("C", "3"), ("D", "4")]
            .map(|(n, v)| (n.to_string(), v.to_string()))
    );
    assert!(err(&["-H", "X: a\r\nEvil: 1", "u"]).contains("control"));
    assert!(err(&["-H", "X: a\nb", "u"]).contains("control"));
    assert!(err(&["-H", "X\r\n: a", "u"]).contains("token"));
    assert!(err(&["-H", "Bad Name: a", "u"]).contains("token"));
    assert!(err(&["-H", ": a", "u"]).contains("token"));
    assert!(err(&["-H", "NoColon", "u"]).contains("Name: value"));
    // "Name;" is curl's way to send a header with an empty value.
    assert_eq!(
        fetch(&["-H", "X-Empty;", "u"]).headers,
        [("X-Empty".to_string(), String::new())]
    );
    assert!(err(&["-H", "X Y;", "u"]).contains("Name: value"));
    // HTAB and obs-text are allowed in values; each byte of the argument is one
    // character, written back as that byte (UTF-8 "é" is C3 A9).
    assert_eq!(
        fetch(&["-H", "X: a\tb\u{e9}", "u"]).headers[0].1,
        "a\tb\u{c3}\u{a9}"
    );
    // -A goes through the same check.
    assert!(err(&["-A", "x\r\ny", "u"]).contains("control"));
}

#[test]
fn methods_are_tokens() {
    assert_eq!(fetch(&["-X", "PURGE", "u"]).effective_method(), "PURGE");
    assert_eq!(fetch(&["-XDELETE", "u"]).effective_method(), "DELETE");
    assert_eq!(fetch(&["--request=PATCH", "u"]).effective_method(), "PATCH");
    assert!(err(&["-X", "GET /evil HTTP/1.1\r\n", "u"]).contains("token"));
    assert!(err(&["-X", "GE T", "u"]).contains("token"));
    assert!(err(&["-X", "", "u"]).contains("token"));
}

#[test]
fn bodies_and_default_method() {
    let a = fetch(&["-d", "a=1", "u"]);
    assert_eq!(a.effective_method(), "POST");
    assert_eq!(a.data, [DataSource::Literal(b"a=1".to_vec())]);
    let a = fetch(&["--data-binary", "@/tmp/f", "-d", "@-", "-X", "PUT", "u"]);
    assert_eq!(a.effective_method(), "PUT");
    assert_eq!(
        a.data,
        [DataSource::File("/tmp/f".into()), DataSource::Stdin]
    );
    assert_eq!(a.data_separator(), b"&");
    assert_eq!(
        fetch(&["--data-raw", "@not-a-file", "u"]).data,
        [DataSource::Literal(b"@not-a-file".to_vec())]
    );
    let a = fetch(&["--json", "{}", "u"]);
    assert!(a.json);
    assert_eq!(a.effective_method(), "POST");
    assert_eq!(a.data_separator(), b"");
    // A lone "-" or a value starting with a dash is data, not an option.
    assert_eq!(
        fetch(&["-d", "-x", "u"]).data,
        [DataSource::Literal(b"-x".to_vec())]
    );
}

#[test]
fn head_and_include() {
    let a = fetch(&["-I", "u"]);
    assert!(a.head);
    assert_eq!(a.effective_method(), "HEAD");
    assert!(fetch(&["-i", "u"]).include);
    assert!(err(&["-I", "-d", "x", "u"]).contains("-I"));
}

#[test]
fn short_options_bundle() {
    let a = fetch(&["-sfiLkv", "u"]);
    assert!(a.silent && a.fail && a.include && a.follow && a.insecure && a.verbose);
    let a = fetch(&["-sXPOST", "u"]);
    assert!(a.silent);
    assert_eq!(a.method.as_deref(), Some("POST"));
    let a = fetch(&["-so", "/tmp/out", "u"]);
    assert_eq!(a.outputs, [PathBuf::from("/tmp/out")]);
}

#[test]
fn follow_last_wins() {
    assert!(!fetch(&["--no-follow", "u"]).follow);
    assert!(fetch(&["--no-follow", "-L", "u"]).follow);
    assert!(!fetch(&["-L", "--no-follow", "u"]).follow);
    assert!(fetch(&["--location", "u"]).follow);
}

#[test]
fn numbers() {
    let a = fetch(&[
        "--max-redirects",
        "0",
        "--connect-timeout",
        "1.5",
        "-m",
        "2",
        "-P",
        "4",
        "--max-body-size",
        "10K",
        "u",
    ]);
    assert_eq!(a.max_redirects, 0);
    assert_eq!(a.connect_timeout, Duration::from_millis(1500));
    assert_eq!(a.max_time, Some(Duration::from_secs(2)));
    assert_eq!(a.parallel, 4);
    assert_eq!(a.max_body_size, Some(10240));
    assert_eq!(fetch(&["--max-filesize", "7", "u"]).max_body_size, Some(7));
    assert_eq!(
        fetch(&["--max-filesize", "2M", "u"]).max_body_size,
        Some(2 << 20)
    );
    assert!(err(&["-m", "soon", "u"]).contains("-time"));
    assert!(err(&["-m", "-1", "u"]).contains("-time"));
    assert!(err(&["-m", "NaN", "u"]).contains("-time"));
    assert!(err(&["--connect-timeout", "inf", "u"]).contains("connect-timeout"));
    assert!(err(&["-P", "0", "u"]).contains("parallel"));
    assert!(err(&["-P", "x", "u"]).contains("parallel"));
    assert!(err(&["--max-redirects", "-1", "u"]).contains("max-redirects"));
    assert!(err(&["--max-body-size", "lots", "u"]).contains("max-body-size"));
    assert!(err(&["--max-body-size", "99999999999999999999", "u"]).contains("size"));
    assert!(err(&["--max-body-size", "", "u"]).contains("size"));
}

#[test]
fn output_pairs_with_urls() {
    let a = fetch(&["-o", "a", "u1", "u2"]);
    assert_eq!(a.output_for(0), Some(&PathBuf::from("a")));
    assert_eq!(a.output_for(1), None);
    assert_eq!(a.body_limit_for(0), None);
    assert_eq!(a.body_limit_for(1), Some(100 << 20));
    let a = fetch(&["-o", "-", "u1"]);
    assert_eq!(a.output_for(0), None);
    let a = fetch(&["-o", "a", "--max-body-size", "5", "u1"]);
    assert_eq!(a.body_limit_for(0), Some(5));
    assert!(err(&["-o", "a", "-o", "b", "u1"]).contains("-o"));
}

#[test]
fn user_and_tls_options() {
    let a = fetch(&[
        "-u", "me:s:e", "--cacert", "ca.pem", "--cert", "c", "--key", "k", "u",
    ]);
    assert_eq!(a.user, Some(("me".into(), "s:e".into())));
    assert_eq!(a.cacert, Some("ca.pem".into()));
    assert_eq!(a.cert, Some("c".into()));
    assert_eq!(a.key, Some("k".into()));
    assert_eq!(
        fetch(&["-u", "solo", "u"]).user,
        Some(("solo".into(), "".into()))
    );
    assert!(err(&["--key", "k", "u"]).contains("--cert"));
}

#[test]
fn proxy_options() {
    let a = fetch(&["u"]);
    assert_eq!((a.proxy, a.noproxy, a.proxy_user), (None, None, None));
    let a = fetch(&["-x", "p:3128", "--noproxy", "a,b", "-U", "pu:p:w", "u"]);
    assert_eq!(a.proxy.as_deref(), Some("p:3128"));
    assert_eq!(a.noproxy.as_deref(), Some("a,b"));
    assert_eq!(a.proxy_user, Some(("pu".into(), "p:w".into())));
    let a = fetch(&["--proxy", "", "--proxy-user", "solo", "u"]);
    assert_eq!(a.proxy.as_deref(), Some(""));
    assert_eq!(a.proxy_user, Some(("solo".into(), "".into())));
    assert!(err(&["u", "-x"]).contains("-x"));
    assert!(err(&["u", "--noproxy"]).contains("--noproxy"));
}

#[test]
fn resolve() {
    let r = parse_resolve("Example.com:443:127.0.0.1").unwrap();
    assert_eq!(r.host, "example.com");
    assert_eq!(r.port, 443);
    assert_eq!(
        r.mapping(),
        ("example.com:443".into(), "127.0.0.1:443".into())
    );
    let r = parse_resolve("h:80:[::1]").unwrap();
    assert_eq!(r.mapping(), ("h:80".into(), "[::1]:80".into()));
    assert_eq!(
        parse_resolve("h:80:::1").unwrap().addr,
        "::1".parse::<IpAddr>().unwrap()
    );
    for bad in [
        "h",
        "h:80",
        "h:x:1.2.3.4",
        ":80:1.2.3.4",
        "h:80:not-an-ip",
        "h:70000:1.1.1.1",
    ] {
        assert!(parse_resolve(bad).is_err(), "{bad}");
    }
    assert_eq!(fetch(&["--resolve", "a:1:1.2.3.4", "u"]).resolve.len(), 1);
    assert_eq!(
        fetch(&["--dns-servers", "10.0.0.1,[::1]:5353", "u"]).dns_servers,
        Some(vec![
            "10.0.0.1:53".parse().unwrap(),
            "[::1]:5353".parse().unwrap()
        ])
    );
    assert!(err(&["--dns-servers", "dns.example", "u"]).contains("--dns-servers"));
    assert!(err(&["--resolve", "nonsense", "u"]).contains("--resolve"));
}

#[test]
fn misc_flags() {
    let a = fetch(&["--raw", "--compressed", "-v", "-s", "-f", "-A", "me/1", "u"]);
    assert!(a.raw && a.verbose && a.silent && a.fail);
    assert_eq!(a.user_agent.as_deref(), Some("me/1"));
    let a = fetch(&["--", "-weird-url"]);
    assert_eq!(a.urls, ["http://-weird-url"]);
    let a = fetch(&["localhost:8080/x", "https://h/"]);
    assert_eq!(a.urls, ["http://localhost:8080/x", "https://h/"]);
}

#[test]
fn a_scheme_is_prepended_only_when_there_is_none() {
    for (given, taken) in [
        ("localhost:8080/x", "http://localhost:8080/x"),
        ("127.0.0.1:80", "http://127.0.0.1:80"),
        ("example.com", "http://example.com"),
        ("h/p?u=http://x", "http://h/p?u=http://x"),
        ("[::1]:8080/", "http://[::1]:8080/"),
        // A scheme squall knows, with or without an authority: left for the URL parser
        // (no host -> malformed URL, exit 3), never read as a host named "http".
        ("http:/x", "http:/x"),
        ("http:x", "http:x"),
        ("HTTP:/x", "HTTP:/x"),
        ("https:/x", "https:/x"),
        ("Https://h/", "Https://h/"),
        ("http:", "http:"),
        // Another scheme followed by ":/" stays (unsupported scheme, exit 1).
        ("file:/etc/passwd", "file:/etc/passwd"),
        ("ftp://h/", "ftp://h/"),
    ] {
        assert_eq!(with_scheme(given.to_string()), taken, "{given}");
    }
    let a = fetch(&["-w", "%{http_code}\\n", "u"]);
    assert!(a.write_out.is_some());
}

#[test]
fn bench() {
    let b = match parse(["bench", "http://x/"]).unwrap() {
        Command::Bench(b) => b,
        c => panic!("{c:?}"),
    };
    assert_eq!(b.requests, Some(DEFAULT_BENCH_REQUESTS));
    assert_eq!(b.concurrency, 1);
    assert_eq!(b.duration, None);
    assert!(!b.no_keepalive && !b.insecure);
    let b = match parse([
        "bench",
        "-n",
        "5",
        "-c",
        "64",
        "-k",
        "--cacert",
        "ca",
        "--no-keepalive",
        "u",
    ])
    .unwrap()
    {
        Command::Bench(b) => b,
        c => panic!("{c:?}"),
    };
    assert_eq!(b.requests, Some(5));
    assert_eq!(b.concurrency, 64);
    assert!(b.insecure && b.no_keepalive);
    assert_eq!(b.cacert, Some("ca".into()));
    let b = match parse(["bench", "-d", "0.5", "u"]).unwrap() {
        Command::Bench(b) => b,
        c => panic!("{c:?}"),
    };
    assert_eq!(b.requests, None);
    assert_eq!(b.duration, Some(Duration::from_millis(500)));
    for bad in [
        &["bench"][..],
        &["bench", "-n", "0", "u"],
        &["bench", "-c", "0", "u"],
        &["bench", "-d", "0", "u"],
        &["bench", "-d", "x", "u"],
        &["bench", "u", "v"],
        &["bench", "-X", "u"],
    ] {
        assert!(parse(bad.iter().copied()).is_err(), "{bad:?}");
    }
}
