//! An https origin to reach through the test proxy's tunnels: rustls with a certificate for
//! `origin.test` from a test CA made with rcgen. It lives apart from the proxy because it is
//! the only TLS piece of the proxy tests, so a build without TLS can leave this file out.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::support::tls::{Ca, TempDir, server_config, spawn_server};

/// An https origin on loopback for the name `origin.test`, with a certificate from a test CA
/// (`ca_path`): it serves one connection, answering each request with the request line it
/// saw (inside TLS), and records the heads.
pub struct TlsOrigin {
    pub addr: SocketAddr,
    pub ca_path: PathBuf,
    heads: Arc<Mutex<Vec<String>>>,
    _dir: TempDir,
}

impl TlsOrigin {
    pub fn start(tag: &str) -> TlsOrigin {
        let ca = Ca::new(&format!("squall {tag} CA"));
        let leaf = ca.leaf(&["origin.test"]);
        let dir = TempDir::new(tag);
        let ca_path = dir.write("ca.pem", ca.pem());
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        let (addr, _) = spawn_server(server_config(&leaf, None), 1, move |_, s| {
            loop {
                let head = crate::support::tls::read_head(s)?;
                let head = String::from_utf8_lossy(&head).to_string();
                let line = head.split("\r\n").next().unwrap_or("").to_string();
                seen.lock().unwrap().push(head);
                s.write_all(&crate::support::server::resp(200, &[], line.as_bytes()))?;
                s.flush()?;
            }
        });
        TlsOrigin {
            addr,
            ca_path,
            heads,
            _dir: dir,
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `https://origin.test:<port><path>`
    pub fn url(&self, path: &str) -> String {
        format!("https://origin.test:{}{path}", self.port())
    }

    /// The request heads received inside TLS.
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}
