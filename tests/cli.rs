//! End-to-end tests of the `squall` binary (cli.md is the contract): each option, each exit
//! code that loopback can produce, streaming, ordering, against std-thread servers on
//! 127.0.0.1 started by the tests themselves.

use std::process::{Command, Output, Stdio};

fn squall(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_squall"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run squall")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A usage error: exit 2, exactly one line `squall: <reason>` on stderr, nothing on stdout.
fn assert_usage(args: &[&str], needle: &str) {
    let o = squall(args);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    let e = stderr(&o);
    assert!(e.starts_with("squall: "), "{args:?}: {e:?}");
    assert_eq!(e.lines().count(), 1, "{args:?}: {e:?}");
    assert!(e.contains(needle), "{args:?}: {e:?} lacks {needle:?}");
    assert!(o.stdout.is_empty());
}

#[test]
fn help_lists_every_option_one_line_each() {
    let o = squall(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
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
        "-h, --help",
        "-V, --version",
    ] {
        assert!(h.contains(opt), "--help lacks {opt}");
    }
    assert_eq!(squall(&["-h"]).stdout, o.stdout);
    let b = squall(&["bench", "--help"]);
    assert_eq!(b.status.code(), Some(0));
    assert!(stdout(&b).contains("--no-keepalive"));
}

#[test]
fn version() {
    for v in ["-V", "--version"] {
        let o = squall(&[v]);
        assert_eq!(o.status.code(), Some(0));
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
    assert_usage(&["-P", "0", "http://127.0.0.1:9/"], "parallel");
    assert_usage(&["-H", "NoColon", "http://127.0.0.1:9/"], "Name: value");
    assert_usage(&["-X", "GET /x", "http://127.0.0.1:9/"], "token");
    assert_usage(&["--resolve", "bad", "http://127.0.0.1:9/"], "--resolve");
    assert_usage(&["http://127.0.0.1:9/", "--max-redirects"], "max-redirects");
    assert_usage(&["bench"], "no URL");
    assert_usage(&["bench", "-c", "zero", "http://127.0.0.1:9/"], "-c");
}
