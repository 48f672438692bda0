//! Rung 7: HTTPS on loopback. At start we make a certificate authority and a server
//! certificate for 127.0.0.1 (rcgen, a dev-dependency: nothing secret is in the repository),
//! run a small rustls server on a std thread, and fetch from it with the CA as `ca_certs`
//! (Tornado's option: it *replaces* the default roots). To the loop, TLS is just more bytes:
//! rustls is sans-IO too, and `src/net/tls.rs` pumps its records through the same
//! `TcpStream` as rung 4. `time_info.tls` shows what the handshake cost.
//!
//! Run it: `cargo run --example 07_tls`.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::thread;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use squall::{AsyncHttpClient, HttpRequest, IoLoop};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A CA, and a leaf for 127.0.0.1 signed by it.
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let leaf_key = KeyPair::generate()?;
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])?
        .signed_by(&leaf_key, &Issuer::from_params(&ca_params, &ca_key))?;
    let ca_file = std::env::temp_dir().join(format!("squall-07-tls-{}.pem", std::process::id()));
    std::fs::write(&ca_file, ca_cert.pem())?;

    // The server: rustls over a blocking std socket, one connection, one reply.
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let chain: Vec<CertificateDer<'static>> = vec![leaf.der().clone()];
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let url = format!("https://{}/secret", listener.local_addr()?);
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let conn = ServerConnection::new(config).unwrap();
        let mut tls = StreamOwned::new(conn, tcp);
        let mut reader = BufReader::new(&mut tls);
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 2 {
            line.clear(); // skip the request head
        }
        let body = "hello over TLS";
        let reply = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        tls.write_all(reply.as_bytes()).unwrap();
        tls.conn.send_close_notify();
        let _ = tls.flush();
    });

    let result = IoLoop::new().run_sync(async {
        let client = AsyncHttpClient::new();
        let request = HttpRequest::new(&url).ca_certs(&ca_file);
        client.fetch(request).await
    });
    let _ = std::fs::remove_file(&ca_file);
    let response = result?;
    server.join().unwrap();
    let t = response.time_info;
    println!("{url} -> {} {:?}", response.code, response.text()?);
    println!(
        "connect {:?}, TLS handshake {:?}, total {:?}",
        t.connect, t.tls, t.total
    );
    assert_eq!(response.body, b"hello over TLS");
    Ok(())
}

// Try this: drop `.ca_certs(&ca_file)`. The default roots (webpki-roots) do not know our CA,
// so the fetch fails before any HTTP byte is sent, with a TLS error that names the problem
// (an unknown issuer); the `squall` binary maps it to exit code 60, as curl does.
