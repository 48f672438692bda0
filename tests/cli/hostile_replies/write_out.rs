//! `-w`, `-i` and `-I` on hostile replies.

use super::*;

#[test]
fn write_out_fields() {
    let s = once(
        format!("{OK}Content-Type: text/html; charset=utf-8\r\nContent-Length: 5\r\n\r\nhello")
            .as_bytes(),
    );
    let o = squall(&[
        "-s",
        "-w",
        "\\n%{http_code}|%{url_effective}|%{num_redirects}|%{size_download}|%{content_type}|%%|\\t",
        &s.url("/p"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!(
            "hello\n200|{}|0|5|text/html; charset=utf-8|%|\t",
            s.url("/p")
        )
    );
    // size_download counts decoded bytes.
    let g = gzip(b"0123456789");
    let s = once(&with_ce("gzip", &g));
    let o = squall(&[
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{size_download}",
        &s.url("/"),
    ]);
    assert_eq!(o.stdout, b"10", "{o:?}");
    // After a failure, once, with 000 when no response came.
    let s = once(b"");
    let o = squall(&["-s", "-w", "%{http_code}", &s.url("/")]);
    assert_eq!(
        (o.status.code(), o.stdout.as_slice()),
        (Some(52), &b"000"[..])
    );
    // Times are numbers of seconds.
    let s = once(format!("{OK}Content-Length: 0\r\n\r\n").as_bytes());
    let o = squall(&[
        "-s",
        "-w",
        "%{time_connect} %{time_starttransfer} %{time_total}",
        &s.url("/"),
    ]);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let times: Vec<f64> = text.split(' ').map(|t| t.parse().expect(&text)).collect();
    assert_eq!(times.len(), 3, "{text}");
    assert!(times.iter().all(|t| (0.0..30.0).contains(t)), "{text}");
    assert!(times[2] >= times[0], "{text}");
}

#[test]
fn include_prints_every_head_of_a_redirect_chain() {
    let s = serve(vec![redirect(302, "/b"), ok_reply("ok")]);
    let o = squall(&["-s", "-i", &s.url("/a")]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.starts_with("HTTP/1.1 302 Moved\r\nLocation: /b\r\n"),
        "{out}"
    );
    assert!(out.contains("\r\n\r\nHTTP/1.1 200 OK\r\n"), "{out}");
    assert!(out.ends_with("\r\n\r\nok"), "{out}");
}
