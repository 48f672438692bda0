//! The exit codes of failed transfers, one case each, as curl numbers them.

use super::*;

#[test]
fn unsupported_scheme_is_1_and_malformed_url_is_3() {
    assert_fails(&squall(&["ftp://127.0.0.1/file"]), 1);
    assert_fails(&squall(&["http://[::1/"]), 3);
    assert_fails(&squall(&["http://127.0.0.1:99999/"]), 3);
    // A scheme without an authority is not a host name to guess a scheme for.
    assert_fails(&squall(&["http:/127.0.0.1/x"]), 3);
    assert_fails(&squall(&["file:/etc/hostname"]), 1);
}

#[test]
fn unresolvable_host_is_6() {
    let name = format!("{}.invalid", "a".repeat(64));
    let o = squall(&[&format!("http://{name}/")]);
    assert_fails(&o, 6);
    assert!(stderr(&o).contains(&name), "names the host: {}", stderr(&o));
}

#[test]
fn refused_connection_is_7() {
    let url = format!("http://127.0.0.1:{}/", closed_port());
    let o = squall(&[&url]);
    assert_fails(&o, 7);
    assert!(
        stderr(&o).contains("127.0.0.1"),
        "names the address: {}",
        stderr(&o)
    );
}

#[test]
fn malformed_replies_are_8() {
    for raw in [
        &b"HTTP/1.1 abc Broken\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\nBad Header Line\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Ty",
        b"SSH-2.0-OpenSSH_9.6\r\n",
    ] {
        let raw: &'static [u8] = Box::leak(raw.to_vec().into_boxed_slice());
        let s = raw_server(raw);
        let o = squall(&[&s.url("/")]);
        assert_fails(&o, 8);
    }
}

#[test]
fn body_cut_short_is_18() {
    let s = raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b");
    let o = squall(&[&s.url("/")]);
    assert_fails(&o, 18);
    let s = raw_server(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n");
    assert_fails(&squall(&[&s.url("/")]), 18);
}

#[test]
fn closed_without_reply_is_52() {
    let s = Server::start_writing(|_, _| false);
    let o = squall(&[&s.url("/")]);
    assert_fails(&o, 52);
}

#[test]
fn reset_is_56() {
    let s = Server::start_writing(|_, s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\npartial");
        thread::sleep(Duration::from_millis(50));
        let sock = socket2::SockRef::from(&*s);
        let _ = sock.set_linger(Some(Duration::ZERO));
        false
    });
    let o = squall(&[&s.url("/")]);
    assert_fails(&o, 56);
}

#[test]
fn timeout_is_28() {
    let s = Server::start_writing(|_, _| {
        thread::sleep(Duration::from_secs(5));
        false
    });
    let start = Instant::now();
    let o = squall(&["-m", "0.3", &s.url("/")]);
    assert_fails(&o, 28);
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "the budget bounds the transfer"
    );
    assert!(stderr(&o).contains("Timeout"), "{}", stderr(&o));
}

#[test]
fn body_over_max_body_size_is_63() {
    let s = ok_server(b"0123456789abcdef");
    assert_fails(&squall(&["--max-body-size", "10", &s.url("/")]), 63);
    assert_fails(&squall(&["--max-filesize", "15", &s.url("/")]), 63);
    let o = squall(&["--max-body-size", "16", &s.url("/")]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "0123456789abcdef");
}
