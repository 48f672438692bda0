//! TLS behaviour items across redirects (T-09): a hop keeps the original request's TLS
//! settings, http → https included. Certificates are made at test time (rcgen).

use std::io::Write;

use crate::support::server::{Server, Step, resp, run};
use crate::support::tls::{Ca, ServerStream, TempDir, server_config, spawn_server};
use squall::{AsyncHttpClient, ErrorKind, HttpRequest};

fn answer(s: &mut ServerStream, body: &str) -> std::io::Result<()> {
    crate::support::tls::read_head(s)?;
    let r = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(r.as_bytes())?;
    s.flush()
}

#[test]
fn t09_http_to_https_redirect_keeps_the_requests_tls_settings() {
    let ca = Ca::new("squall behaviours CA");
    let leaf = ca.leaf(&["localhost", "127.0.0.1"]);
    let dir = TempDir::new("behaviours-t09");
    let ca_path = dir.write("ca.pem", ca.pem());
    // Three TLS connections: ca_certs (trusted), validate_cert(false) (trusted), defaults
    // (refused in the handshake).
    let (tls_addr, tls) = spawn_server(server_config(&leaf, None), 3, |_, s| answer(s, "secure"));
    let target = format!("https://127.0.0.1:{}/end", tls_addr.port());
    let t2 = target.clone();
    let plain =
        Server::start(move |_| vec![Step::Write(resp(302, &[("Location", t2.as_str())], b""))]);
    run(async {
        let c = AsyncHttpClient::new();
        // The CA given on the original http request verifies the https hop.
        let r = c
            .fetch(HttpRequest::new(&plain.url("/start")).ca_certs(&ca_path))
            .await
            .unwrap();
        assert_eq!(r.text().unwrap(), "secure");
        assert_eq!(r.effective_url, target);
        assert_eq!(r.num_redirects(), 1);
        // validate_cert(false) carries over too.
        let r = c
            .fetch(HttpRequest::new(&plain.url("/start")).validate_cert(false))
            .await
            .unwrap();
        assert_eq!(r.text().unwrap(), "secure");
        // Without either, the hop is checked against the default roots and fails.
        let e = c.fetch(plain.url("/start")).await.unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Tls(_)), "{e:?}");
    });
    assert_eq!(tls.join().unwrap(), 3);
}
