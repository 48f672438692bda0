//! HTTP proxies (R-39, [BETTER] than Tornado's simple client, which refuses them): plain http
//! in absolute-form with `Proxy-Authorization`, https through a `CONNECT` tunnel with the
//! origin's certificate still verified (T-10), and a refused tunnel as a clear error.
// The https cases need the `tls` feature; without it their helpers go unused.
#![cfg_attr(not(feature = "tls"), allow(dead_code, unused_imports))]

mod client_util;
#[cfg(feature = "tls")]
#[path = "tls_support/mod.rs"]
mod tls_support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};

use client_util::{Server, ok, raw_server, read_head, resp, run};
use squall::{AsyncHttpClient, ErrorKind, HttpRequest};

#[test]
fn r39_http_through_a_proxy_is_absolute_form_with_proxy_auth() {
    let proxy = Server::start(|r| ok(format!("proxied {}", r.target).as_bytes()));
    run(async {
        let c = AsyncHttpClient::new();
        let req = || {
            HttpRequest::new("http://u:p@origin.invalid:8080/path?q=1")
                .proxy_host("127.0.0.1")
                .proxy_port(proxy.port())
                .proxy_auth("pu", "pp")
        };
        let r = c.fetch(req()).await.unwrap();
        assert_eq!(
            r.text().unwrap(),
            "proxied http://origin.invalid:8080/path?q=1"
        );
        let seen = proxy.last();
        assert_eq!(seen.header("Host"), Some("origin.invalid:8080"));
        let want = format!("Basic {}", squall::client::request::base64(b"pu:pp"));
        assert_eq!(seen.header("Proxy-Authorization"), Some(want.as_str()));
        // The origin's credentials still go to the origin.
        let origin = format!("Basic {}", squall::client::request::base64(b"u:p"));
        assert_eq!(seen.header("Authorization"), Some(origin.as_str()));
        // Keep-alive to the proxy.
        c.fetch(req()).await.unwrap();
    });
    assert_eq!(proxy.conns(), 1);
}

#[test]
fn r39_proxy_validation() {
    run(async {
        let e = AsyncHttpClient::new()
            .fetch(
                HttpRequest::new("http://x.invalid/")
                    .proxy_host("127.0.0.1")
                    .proxy_auth("a", "b")
                    .proxy_auth_mode("digest"),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidRequest);
        assert_eq!(e.message(), "unsupported proxy_auth_mode digest");
    });
}

/// A CONNECT proxy: answers `status` to the CONNECT, then (on 2xx) pipes bytes both ways
/// between the client and `origin`.
fn connect_proxy(
    origin: std::net::SocketAddr,
    status: u16,
) -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    let heads = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let h2 = heads.clone();
    let (addr, _) = raw_server(move |mut client, _| {
        let Some(head) = read_head(&mut client) else {
            return;
        };
        h2.lock()
            .unwrap()
            .push(String::from_utf8_lossy(&head).to_string());
        if status != 200 {
            let _ = client.write_all(&resp(status, &[], b""));
            return;
        }
        client
            .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            .unwrap();
        let server = TcpStream::connect(origin).unwrap();
        let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
        let up = std::thread::spawn(move || {
            let _ = std::io::copy(&mut c2, &mut s2);
            let _ = s2.shutdown(Shutdown::Write);
        });
        let (mut s3, mut c3) = (server, client);
        let _ = std::io::copy(&mut s3, &mut c3);
        let _ = c3.shutdown(Shutdown::Write);
        let _ = up.join();
    });
    (addr, heads)
}

#[test]
#[cfg(feature = "tls")]
fn t10_https_through_a_connect_tunnel_verifies_the_origin() {
    use tls_support::*;
    let ca = Ca::new("squall proxy test CA");
    let leaf = ca.leaf(&["origin.test"]);
    let dir = TempDir::new("client-proxy");
    let ca_path = dir.write("ca.pem", ca.pem());
    let (origin, _) = spawn_server(server_config(&leaf, None), 1, |_, s| {
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if s.read(&mut b)? == 0 {
                return Ok(());
            }
            head.push(b[0]);
        }
        let text = String::from_utf8_lossy(&head).to_string();
        let body = text.lines().next().unwrap_or("").to_string();
        s.write_all(&resp(200, &[], body.as_bytes()))?;
        s.flush()
    });
    let (proxy, heads) = connect_proxy(origin, 200);
    run(async {
        let r = AsyncHttpClient::new()
            .fetch(
                HttpRequest::new(&format!("https://origin.test:{}/secret", origin.port()))
                    .proxy_host("127.0.0.1")
                    .proxy_port(proxy.port())
                    .proxy_auth("pu", "pp")
                    .ca_certs(&ca_path),
            )
            .await
            .unwrap();
        // Inside the tunnel the request is origin-form.
        assert_eq!(r.text().unwrap(), "GET /secret HTTP/1.1");
    });
    let heads = heads.lock().unwrap();
    assert!(
        heads[0].starts_with(&format!(
            "CONNECT origin.test:{} HTTP/1.1\r\n",
            origin.port()
        )),
        "{}",
        heads[0]
    );
    assert!(
        heads[0].contains("Proxy-Authorization: Basic "),
        "{}",
        heads[0]
    );
}

#[test]
#[cfg(feature = "tls")]
fn refused_tunnel_is_a_connect_error_naming_the_proxy() {
    let (proxy, _) = connect_proxy("127.0.0.1:9".parse().unwrap(), 407);
    run(async {
        let e = AsyncHttpClient::new()
            .fetch(
                HttpRequest::new("https://origin.test/")
                    .proxy_host("127.0.0.1")
                    .proxy_port(proxy.port()),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Connect, "{e}");
        assert!(e.to_string().contains("407"), "{e}");
        assert!(e.to_string().contains(&proxy.port().to_string()), "{e}");
    });
}
