//! Hangs: a response whose framing says it is complete ends the transfer even though the
//! server keeps the connection open; a server that trickles is bounded by `-m`.

use super::*;

#[test]
fn complete_responses_do_not_wait_for_the_close() {
    let cases: Vec<(&str, Vec<&str>, String, &str)> = vec![
        (
            "Content-Length",
            vec![],
            format!("{OK}Content-Length: 5\r\n\r\nhello"),
            "hello",
        ),
        (
            "chunked",
            vec![],
            format!("{CH}5\r\nhello\r\n0\r\n\r\n"),
            "hello",
        ),
        ("204", vec![], "HTTP/1.1 204 No Content\r\n\r\n".into(), ""),
        (
            "304 with CL",
            vec![],
            "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n".into(),
            "",
        ),
        // RFC 9110 §9.3.2: the response to HEAD has no content, whatever CL says.
        (
            "HEAD with CL",
            vec!["-I"],
            format!("{OK}Content-Length: 100\r\n\r\n"),
            "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
        ),
        (
            "HEAD with chunked",
            vec!["-I"],
            format!("{OK}Transfer-Encoding: chunked\r\n\r\n"),
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        ),
    ];
    thread::scope(|sc| {
        for (name, args, reply, out) in &cases {
            sc.spawn(move || {
                let s = serve(vec![Reply::Hold(reply.clone().into_bytes())]);
                let url = s.url("/");
                let mut a = vec!["-s"];
                a.extend(args.iter().copied());
                a.push(&url);
                let start = Instant::now();
                let o = squall(&a);
                assert!(
                    start.elapsed() < Duration::from_secs(10),
                    "{name}: waited for the close"
                );
                assert_eq!(o.status.code(), Some(0), "{name}: {o:?}");
                assert_eq!(String::from_utf8_lossy(&o.stdout), *out, "{name}");
                if *name == "HEAD with CL" {
                    assert!(s.request_lines()[0].starts_with("HEAD / "), "{name}");
                }
            });
        }
    });
}

#[test]
fn silent_server_times_out_with_28() {
    // The server accepts, reads the request and never answers: -m bounds the transfer.
    let s = serve(vec![Reply::Hold(Vec::new())]);
    let start = Instant::now();
    let o = squall(&["-s", "-m", "1", "-w", "%{http_code}", &s.url("/")]);
    assert_eq!(o.status.code(), Some(28), "{o:?}");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "the budget bounds it"
    );
    assert_eq!(o.stdout, b"000", "no response: http_code 000");
    // Silent after the head: same budget, same code.
    let s = serve(vec![Reply::Hold(
        format!("{OK}Content-Length: 10\r\n\r\nhel").into_bytes(),
    )]);
    let o = squall(&["-s", "-m", "1", &s.url("/")]);
    assert_eq!(o.status.code(), Some(28), "{o:?}");
    assert_eq!(o.stdout, b"hel");
}

#[test]
fn a_trickling_server_is_bounded_by_max_time() {
    // -m is one budget for the whole transfer (cli.md), not an idle timeout: a server that
    // sends a byte every 100 ms forever still ends in 28.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let _ = read_request(&mut s);
        let _ = s.write_all(format!("{OK}Content-Length: 1000\r\n\r\n").as_bytes());
        for _ in 0..200 {
            if s.write_all(b"x").is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(100));
        }
    });
    let start = Instant::now();
    let o = squall(&["-s", "-m", "1", &format!("http://127.0.0.1:{port}/")]);
    assert_eq!(o.status.code(), Some(28), "{o:?}");
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(!o.stdout.is_empty() && o.stdout.len() < 1000);
}
