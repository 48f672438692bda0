//! The request a URL is fetched with: what `squall`'s options mean in `HttpRequest` terms.
//!
//! Everything curl decides before the first byte is sent lives here: the body (`-d`, `--json`,
//! read once for all URLs), the method, headers and their defaults (`Content-Type`, `Accept`,
//! `User-Agent`), timeouts, TLS files, proxies (`-x`, `--noproxy`, `-U`), and the hop callback
//! that prints `-v` as the library reports each hop. Keeping it apart from the
//! transfer means one place answers "what does option X send?".

use std::fs::File;
use std::io::{self, Read};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use squall::HttpRequest;
use squall::client::{Hop, HopEvent, NoProxy, ProxyRules};
use squall::http::headers::HttpHeaders;

use super::heads;
use super::progress::Ui;
use super::{RunContext, lock};
use crate::args::{DataSource, FetchArgs};

/// The `-d` / `--json` body: the parts joined (`&` between `-d` parts), files and stdin read
/// now, before anything is sent. An unreadable file is exit 26.
pub(super) fn read_body(args: &FetchArgs) -> Result<Option<Vec<u8>>, String> {
    if args.data.is_empty() {
        return Ok(None);
    }
    let mut body = Vec::new();
    let mut stdin_read = false;
    for (k, part) in args.data.iter().enumerate() {
        if k > 0 {
            body.extend_from_slice(args.data_separator());
        }
        match part {
            DataSource::Literal(b) => body.extend_from_slice(b),
            DataSource::File(p) => {
                let mut f = File::open(p)
                    .map_err(|e| format!("could not read data file '{}': {e}", p.display()))?;
                f.read_to_end(&mut body)
                    .map_err(|e| format!("could not read data file '{}': {e}", p.display()))?;
            }
            DataSource::Stdin => {
                if !stdin_read {
                    io::stdin()
                        .lock()
                        .read_to_end(&mut body)
                        .map_err(|e| format!("could not read the body from stdin: {e}"))?;
                    stdin_read = true;
                }
            }
        }
    }
    Ok(Some(body))
}

/// curl's proxy options: `-x URL` for every URL (`-x ""` for none) instead of the
/// environment's proxies, `--noproxy` instead of `no_proxy`/`NO_PROXY` (which apply to `-x`
/// too, as in curl), and `-U` for any proxy without userinfo of its own.
pub(super) fn proxy_rules(a: &FetchArgs) -> ProxyRules {
    let rules = match a.proxy.as_deref() {
        None => ProxyRules::from_env(),
        Some("") => ProxyRules::none(),
        Some(url) => ProxyRules::all_url(url).no_proxy(NoProxy::from_env()),
    };
    let rules = match &a.noproxy {
        Some(list) => rules.no_proxy(NoProxy::parse(list)),
        None => rules,
    };
    match &a.proxy_user {
        Some((user, pass)) => rules.proxy_auth(user, pass),
        None => rules,
    }
}

/// The request for URL `i`; `peer` is set to the address of each request written.
pub(super) fn build_request(
    ctx: &RunContext,
    i: usize,
    peer: &Arc<Mutex<Option<SocketAddr>>>,
) -> HttpRequest {
    let a = &ctx.args;
    let mut req = HttpRequest::new(&a.urls[i])
        .method(a.effective_method())
        .allow_nonstandard_methods(true)
        .raise_error(false)
        .follow_redirects(a.follow)
        .max_redirects(a.max_redirects)
        .connect_timeout(a.connect_timeout)
        .request_timeout(a.max_time.unwrap_or(Duration::ZERO))
        .decompress_response(!a.raw)
        .max_body_size(a.body_limit_for(i).unwrap_or(u64::MAX));
    let mut headers = HttpHeaders::new();
    for (name, value) in &a.headers {
        headers.add(name, value);
    }
    if ctx.body.is_some() {
        if !a.has_header("content-type") {
            let ct = if a.json {
                "application/json"
            } else {
                "application/x-www-form-urlencoded"
            };
            headers.add("Content-Type", ct);
        }
        if a.json && !a.has_header("accept") {
            headers.add("Accept", "application/json");
        }
    }
    req = req.headers(headers);
    if !a.has_header("user-agent") {
        let ua = a
            .user_agent
            .clone()
            .unwrap_or_else(|| format!("squall/{}", env!("CARGO_PKG_VERSION")));
        req = req.user_agent(&ua);
    }
    if let Some(b) = &ctx.body {
        req = req.body(b.as_slice());
    } else if matches!(a.effective_method(), "POST" | "PUT" | "PATCH") {
        // RFC 9110 §8.6: a user agent sends Content-Length in a POST (and its kin, whose
        // content has a meaning) even when the value is 0, so that no server waits for a body
        // or answers 411.
        req = req.body(&b""[..]);
    }
    if let Some((user, pass)) = &a.user {
        req = req.auth(user, pass);
    }
    if a.insecure {
        req = req.validate_cert(false);
    }
    if let Some(p) = &a.cacert {
        req = req.ca_certs(p);
    }
    if let Some(p) = &a.cert {
        req = req.client_cert(p);
    }
    if let Some(p) = &a.key {
        req = req.client_key(p);
    }
    // As curl: SSLKEYLOGFILE set (and not empty) logs the TLS secrets there. The library
    // itself never reads it unless asked.
    if std::env::var_os("SSLKEYLOGFILE").is_some_and(|v| !v.is_empty()) {
        req = req.tls_key_log(true);
    }
    // Every hop as it crosses the wire: -v prints it then (each request head before its reply
    // and after the response head that caused it), and the transfer keeps the address of the
    // last request written, for -w %{remote_ip} when no response came.
    let ui = Arc::downgrade(&ctx.ui.state);
    let verbose = a.verbose;
    let peer = peer.clone();
    req = req.hop_callback(move |event: HopEvent, hop: &Hop| {
        *lock(&peer) = Some(hop.peer);
        if verbose {
            let text = heads::verbose(event, hop);
            match ui.upgrade() {
                Some(s) => Ui::message_on(&s, &text),
                None => eprint!("{text}"),
            }
        }
    });
    req
}
