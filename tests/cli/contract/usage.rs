//! `--help`, `--version` and usage errors: what squall says before it sends anything.

use super::*;

#[test]
fn help_lists_every_option_one_line_each() {
    let o = squall(&["--help"]);
    assert_code(&o, 0);
    let h = stdout(&o);
    for opt in [
        "-X, --request",
        "-H, --header",
        "-d, --data",
        "--data-binary",
        "--json",
        "-u, --user",
        "-A, --user-agent",
        "-o, --output",
        "-i, --include",
        "-I, --head",
        "-f, --fail",
        "--no-follow",
        "-L, --location",
        "--compressed",
        "--max-redirects",
        "--connect-timeout",
        "-m, --max-time",
        "--cacert",
        "--cert",
        "--key",
        "-k, --insecure",
        "--raw",
        "--max-body-size",
        "--max-filesize",
        "--resolve",
        "-w, --write-out",
        "-v, --verbose",
        "-s, --silent",
        "-P, --parallel",
        "--trace-loop",
        "-h, --help",
        "-V, --version",
    ] {
        let lines = h.lines().filter(|l| l.contains(opt)).count();
        assert!(lines >= 1, "--help lacks {opt}");
    }
    assert_eq!(squall(&["-h"]).stdout, o.stdout);
    let b = squall(&["bench", "--help"]);
    assert_code(&b, 0);
    for opt in ["-n", "-c", "-d", "--insecure", "--cacert", "--no-keepalive"] {
        assert!(stdout(&b).contains(opt), "bench --help lacks {opt}");
    }
}

#[test]
fn version_prints_the_package_version_on_stdout() {
    for v in ["-V", "--version"] {
        let o = squall(&[v]);
        assert_code(&o, 0);
        assert_eq!(
            stdout(&o),
            format!("squall {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    assert_usage(&[], "no URL");
    assert_usage(&["-s"], "no URL");
    assert_usage(&["--frobnicate", "http://127.0.0.1:9/"], "--frobnicate");
    assert_usage(&["-m", "soon", "http://127.0.0.1:9/"], "max-time");
    assert_usage(
        &["--connect-timeout", "-3", "http://127.0.0.1:9/"],
        "connect-timeout",
    );
    assert_usage(&["-P", "0", "http://127.0.0.1:9/"], "parallel");
    assert_usage(
        &["--max-body-size", "big", "http://127.0.0.1:9/"],
        "max-body-size",
    );
    assert_usage(&["-H", "NoColon", "http://127.0.0.1:9/"], "Name: value");
    assert_usage(&["-X", "GET /x", "http://127.0.0.1:9/"], "token");
    assert_usage(&["--resolve", "bad", "http://127.0.0.1:9/"], "--resolve");
    assert_usage(&["http://127.0.0.1:9/", "--max-redirects"], "max-redirects");
    assert_usage(&["bench"], "no URL");
    assert_usage(&["bench", "-c", "zero", "http://127.0.0.1:9/"], "-c");
    assert_usage(&["bench", "--bogus", "http://127.0.0.1:9/"], "--bogus");
}

#[test]
fn crlf_in_header_or_method_is_refused_before_anything_is_sent() {
    let s = ok_server(b"x");
    let url = s.url("/");
    for args in [
        &["-H", "X-Evil: a\r\nInjected: 1", url.as_str()][..],
        &["-H", "X-Evil: a\nInjected: 1", url.as_str()],
        &["-H", "X-Evil\r\nInjected: 1", url.as_str()],
        &["-H", "Bad Name: 1", url.as_str()],
        &["-X", "GET / HTTP/1.1\r\nX: y", url.as_str()],
        &["-X", "GE(T", url.as_str()],
        &["-A", "ua\r\nX: y", url.as_str()],
    ] {
        let o = squall(args);
        assert_fails(&o, 2);
    }
    assert_no_connection(&s);
}
