//! Keep-alive: bytes past the end of a response never become the next response; several
//! URLs end with the exit code of the first failure.

use super::*;

/// A keep-alive server: every request on a connection gets `reply`; each request is logged
/// with the connection it came on.
fn keep_alive_server(reply: &'static [u8]) -> Server {
    Server::start(move |_| vec![write(reply.to_vec())])
}

/// The connection number of each request the server received, in order.
fn connections(srv: &Server) -> Vec<usize> {
    srv.reqs().iter().map(|r| r.conn).collect()
}

#[test]
fn extra_bytes_after_a_response_are_not_the_next_response() {
    // RFC 9112 §6.3 rule 5 / §9.3: the body ends after Content-Length bytes; the rest cannot
    // be trusted as the start of the next response, so the connection is not reused.
    let srv = keep_alive_server(
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nhelHTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nevil",
    );
    let o = squall(&[
        "-s",
        "-w",
        "%{http_code}\\n",
        &srv.url("/1"),
        &srv.url("/2"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(String::from_utf8_lossy(&o.stdout), "hel200\nhel200\n");
    let conns = connections(&srv);
    assert_eq!(conns.len(), 2, "{:?}", srv.reqs());
    assert_ne!(
        conns[0],
        conns[1],
        "a new connection for /2: {:?}",
        srv.reqs()
    );
    // A clean response on the same server shape: the connection is reused.
    let srv = keep_alive_server(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nhel");
    let o = squall(&["-s", &srv.url("/1"), &srv.url("/2")]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let conns = connections(&srv);
    assert_eq!(conns.len(), 2);
    assert_eq!(conns[0], conns[1], "reused: {:?}", srv.reqs());
}

#[test]
fn several_urls_exit_with_the_first_failure_in_command_line_order() {
    // cli.md: all URLs are fetched, bodies in command-line order (also with -P), and the
    // exit code is that of the first failing URL in command-line order.
    let ok = once(format!("{OK}Content-Length: 2\r\n\r\nok").as_bytes());
    let short = once(format!("{OK}Content-Length: 9\r\n\r\nab").as_bytes());
    let bad = once(b"HTTP/2.0 200 OK\r\n\r\n");
    let o = squall(&["-s", &ok.url("/"), &short.url("/"), &bad.url("/")]);
    assert_eq!(o.status.code(), Some(18), "{o:?}");
    assert_eq!(o.stdout, b"okab");
    let ok = once(format!("{OK}Content-Length: 2\r\n\r\nok").as_bytes());
    let short = once(format!("{OK}Content-Length: 9\r\n\r\nab").as_bytes());
    let bad = once(b"HTTP/2.0 200 OK\r\n\r\n");
    let o = squall(&[
        "-s",
        "-P",
        "3",
        &ok.url("/"),
        &bad.url("/"),
        &short.url("/"),
    ]);
    assert_eq!(o.status.code(), Some(8), "{o:?}");
    assert_eq!(o.stdout, b"okab");
}
