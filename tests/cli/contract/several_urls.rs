//! Several URLs on one command line: output in command-line order, one keep-alive connection, the exit code of the first failure.

use super::*;

#[test]
fn parallel_output_is_in_command_line_order() {
    // /slow answers only once /b and /c have both been requested: that proves they ran at
    // the same time, and the output must still start with /slow.
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let s2 = seen.clone();
    let s = Server::start_writing(move |r, s| {
        s2.lock().unwrap().push(r.target.clone());
        if r.target == "/slow" {
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) {
                let got = s2.lock().unwrap().clone();
                if got.contains(&"/b".to_string()) && got.contains(&"/c".to_string()) {
                    break;
                }
                thread::sleep(Duration::from_millis(5));
            }
        }
        let body = format!("<{}>", r.target);
        respond(s, "200 OK", &[], body.as_bytes());
        true
    });
    let o = squall(&[
        "-P",
        "3",
        "-w",
        "[%{url_effective}]",
        &s.url("/slow"),
        &s.url("/b"),
        &s.url("/c"),
    ]);
    assert_code(&o, 0);
    assert_eq!(
        stdout(&o),
        format!(
            "</slow>[{}]</b>[{}]</c>[{}]",
            s.url("/slow"),
            s.url("/b"),
            s.url("/c")
        )
    );
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 3);
}

#[test]
fn sequential_urls_share_a_keep_alive_connection() {
    let s = ok_server(b"k");
    let o = squall(&[&s.url("/1"), &s.url("/2"), &s.url("/3")]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "kkk");
    assert_eq!(s.conns(), 1, "one pooled connection for three URLs");
}

#[test]
fn exit_code_is_the_first_failing_url_in_order() {
    let s = Server::start_writing(|r, s| {
        let status = if r.target == "/missing" {
            "404 Not Found"
        } else {
            "200 OK"
        };
        respond(s, status, &[], b"x");
        true
    });
    let dead = format!("http://127.0.0.1:{}/", closed_port());
    let o = squall(&[
        "-f",
        "-w",
        "%{http_code}\\n",
        &s.url("/ok"),
        &dead,
        &s.url("/missing"),
        &s.url("/ok2"),
    ]);
    assert_code(&o, 7);
    // -w runs once per URL, also after failures (000 when no response came).
    assert_eq!(stdout(&o), "x200\n000\n404\nx200\n");
    assert_eq!(stderr(&o).lines().count(), 2, "{}", stderr(&o));
    let o = squall(&["-P", "4", "-f", &s.url("/missing"), &dead]);
    assert_code(&o, 22);
}
