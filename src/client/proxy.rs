//! Which proxy a request goes through: curl's rules for the `http_proxy` family of
//! environment variables, and the `no_proxy` list.
//!
//! This module exists so that the rules are pure: the environment comes in as name/value
//! pairs ([`ProxyRules::from_vars`]), and every rule below is unit tested without touching
//! the process environment. Only [`ProxyRules::from_env`] and [`NoProxy::from_env`] read it.
//! An [`AsyncHttpClient`](super::AsyncHttpClient) reads it **once, when it is built**
//! (`ClientBuilder::build`); a variable changed later is seen by the clients built later, not
//! by one that exists.
//!
//! # curl's rules
//!
//! - An `http://` URL goes through `http_proxy`. Upper-case `HTTP_PROXY` is **ignored**, as
//!   curl ignores it: a CGI program gets the request's `Proxy:` header as `HTTP_PROXY`, so a
//!   client that honoured it would let any visitor pick the proxy ("httpoxy", CVE-2016-5385).
//! - An `https://` URL goes through `https_proxy`, else `HTTPS_PROXY`, in a `CONNECT` tunnel
//!   (TLS and the certificate check are still with the origin, end to end).
//! - Either falls back to `all_proxy`, else `ALL_PROXY`.
//! - Lower-case wins over upper-case; a variable set to the empty string counts as unset (so
//!   `https_proxy=` lets `HTTPS_PROXY` or `all_proxy` apply), as curl's `getenv` does.
//! - `no_proxy`, else `NO_PROXY`, lists the hosts reached directly, separated by commas:
//!   `*` for every host; a name matches itself and its subdomains on a label boundary, with
//!   or without a leading dot (`example.com` and `.example.com` both match `example.com` and
//!   `www.example.com`, never `notexample.com`), case-insensitively, trailing dots ignored;
//!   an IP address matches that address, and `10.0.0.0/8` or `fd00::/8` a whole range. The
//!   list is checked first, so a host in it is reached directly even when the proxy variable
//!   for its scheme does not parse.
//! - A proxy is a URL `[http://][user[:password]@]host[:port][/]`. Without a scheme it is
//!   `http://`; without a port it is **1080**, curl's default. Its userinfo is the proxy's
//!   basic auth (`Proxy-Authorization`), percent-decoded. squall speaks plain HTTP to proxies,
//!   so `https://` and `socks*://` proxies are refused.
//! - A variable that does not parse fails the fetches that would use it, with an error that
//!   names the variable (curl's exit 5; 7 for an unsupported proxy scheme). Other fetches are
//!   not affected.
//! - Loopback is not special: like curl, squall sends `http://127.0.0.1/` or
//!   `http://localhost/` through `http_proxy` unless `no_proxy` names them.
//!
//! Where squall goes a little further than curl: a `no_proxy` entry may carry a port
//! (`example.com:8443`, `10.0.0.1:80`, `[::1]:8080`) and then matches only that port; `*`
//! counts anywhere in the list (curl honours it only alone); `*.example.com` reads as
//! `.example.com`; and spaces around the commas are ignored.
//!
//! A request's own proxy (`HttpRequest::proxy_host`) wins over all of this, and a
//! `ClientBuilder` can give explicit [`ProxyRules`] or switch the environment off.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use super::error::{ErrorKind, HttpError};
use super::prepare::{FetchOptions, HopRequest};
use crate::http::fields::basic_credentials;
use crate::http::url::Url;

/// curl's default port for a proxy URL without one.
pub const DEFAULT_PROXY_PORT: u16 = 1080;

/// Every variable [`ProxyRules::from_env`] reads (the upper-case `HTTP_PROXY` is not one).
pub const PROXY_VARIABLES: [&str; 7] = [
    "http_proxy",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

/// Why a proxy could not be used (the CLI maps each to curl's exit code). More kinds may
/// come (with more proxy schemes), so a `match` needs a wildcard arm.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyErrorKind {
    /// The proxy URL does not parse (curl's 5).
    BadUrl,
    /// The proxy URL's scheme is not `http` (curl's 7).
    UnsupportedScheme,
    /// The proxy's host name could not be resolved (curl's 5).
    Resolve,
    /// No connection to the proxy: every address refused or was unreachable (curl's 7).
    Connect,
    /// The `CONNECT` tunnel failed (curl's 56): the proxy answered with `status` (not 2xx),
    /// or, when `status` is `None`, closed or broke the exchange before answering.
    Tunnel {
        /// The proxy's status code, when it sent one.
        status: Option<u16>,
    },
}

/// An HTTP proxy: where it is, and the basic-auth credentials to give it.
///
/// `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Proxy {
    host: String,
    port: u16,
    username: Option<String>,
    password: Option<String>,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A proxy URL that could not be used: the kind and the whole message.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ProxyUrlError {
    kind: ProxyErrorKind,
    message: String,
}

impl ProxyUrlError {
    fn to_http(&self) -> HttpError {
        HttpError::new(ErrorKind::Proxy(self.kind.clone()), self.message.clone())
    }
}

impl Proxy {
    /// A proxy at `host` (a name or an IP address, IPv6 with or without brackets) and `port`,
    /// without credentials.
    pub fn new(host: &str, port: u16) -> Proxy {
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        Proxy {
            host: host.to_ascii_lowercase(),
            port,
            username: None,
            password: None,
        }
    }

    /// Parses a proxy URL by curl's rules: `[http://][user[:password]@]host[:port][/]`,
    /// `http://` when no scheme is given, port 1080 when none is given, userinfo
    /// percent-decoded into basic-auth credentials. Errors have the kind
    /// [`ErrorKind::Proxy`] and quote the URL (with any userinfo hidden).
    pub fn parse(url: &str) -> Result<Proxy, HttpError> {
        parse_proxy(url, None).map_err(|e| e.to_http())
    }

    /// The same proxy with these basic-auth credentials.
    pub fn with_auth(mut self, username: &str, password: &str) -> Proxy {
        self.username = Some(username.to_string());
        self.password = Some(password.to_string());
        self
    }

    /// The host (lower-case; IPv6 without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The user name of the credentials, if any.
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    /// What a hop through this proxy needs: its address and the `Proxy-Authorization`
    /// value (its own credentials, else `fallback`, the caller's header).
    pub(crate) fn hop(&self, fallback: Option<&str>) -> super::prepare::HopProxy {
        let auth = match &self.username {
            Some(user) => Some(basic_credentials(
                user,
                self.password.as_deref().unwrap_or(""),
            )),
            None => fallback.map(str::to_string),
        };
        super::prepare::HopProxy {
            host: self.host.clone(),
            port: self.port,
            auth,
        }
    }
}

/// `text` with the userinfo of its authority (if any) hidden, for error messages.
fn redact(text: &str) -> Cow<'_, str> {
    let start = text.find("://").map_or(0, |i| i + 3);
    let end = text[start..].find('/').map_or(text.len(), |i| start + i);
    match text[start..end].rfind('@') {
        Some(at) => Cow::Owned(format!(
            "{}<redacted>{}",
            &text[..start],
            &text[start + at..]
        )),
        None => Cow::Borrowed(text),
    }
}

/// Parses a proxy URL; `var` names the variable it came from, for the message.
fn parse_proxy(text: &str, var: Option<&str>) -> Result<Proxy, ProxyUrlError> {
    let text = text.trim();
    let fail = |kind: ProxyErrorKind, why: &str| {
        let shown = redact(text);
        let message = match var {
            Some(v) => format!("invalid proxy URL {shown:?} in {v}: {why}"),
            None => format!("invalid proxy URL {shown:?}: {why}"),
        };
        ProxyUrlError { kind, message }
    };
    let with_scheme: Cow<'_, str> = if text.contains("://") {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(format!("http://{text}"))
    };
    let url = Url::parse(&with_scheme).map_err(|e| fail(ProxyErrorKind::BadUrl, e.reason()))?;
    if url.scheme() != "http" {
        return Err(fail(
            ProxyErrorKind::UnsupportedScheme,
            &format!(
                "unsupported proxy scheme {:?} (squall speaks plain http:// to proxies)",
                url.scheme()
            ),
        ));
    }
    let host = url.host();
    if host.is_empty() {
        return Err(fail(ProxyErrorKind::BadUrl, "no host"));
    }
    if !host.is_ascii() {
        return Err(fail(ProxyErrorKind::BadUrl, "the host is not ASCII"));
    }
    let mut proxy = Proxy::new(host, url.explicit_port().unwrap_or(DEFAULT_PROXY_PORT));
    if let Some(user) = url.username()
        && (!user.is_empty() || url.password().is_some())
    {
        proxy.username = Some(user);
        proxy.password = Some(url.password().unwrap_or_default());
    }
    Ok(proxy)
}

/// The `no_proxy` list: the hosts reached directly, never through a proxy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoProxy {
    all: bool,
    entries: Vec<Entry>,
}

/// One entry of a `no_proxy` list.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Entry {
    /// A domain: lower-case, without leading or trailing dots.
    Name { domain: String, port: Option<u16> },
    /// An address range: the first `bits` bits of `net`.
    Net {
        net: IpAddr,
        bits: u8,
        port: Option<u16>,
    },
}

impl NoProxy {
    /// Parses a `no_proxy` list (see the module docs). Entries that mean nothing, such as
    /// `10.0.0.0/99`, are skipped, as curl skips them.
    pub fn parse(list: &str) -> NoProxy {
        let mut out = NoProxy::default();
        for token in list.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            if token == "*" {
                out.all = true;
            } else if let Some(e) = parse_entry(token) {
                out.entries.push(e);
            }
        }
        out
    }

    /// The process's `no_proxy`, else `NO_PROXY` (empty counts as unset).
    pub fn from_env() -> NoProxy {
        let vars = read_env();
        NoProxy::parse(pick(&vars, &["no_proxy", "NO_PROXY"]).map_or("", |(_, v)| v))
    }

    /// Whether the list is empty (it then matches nothing).
    pub fn is_empty(&self) -> bool {
        !self.all && self.entries.is_empty()
    }

    /// Whether `host` (a name, or an IP address, IPv6 with or without brackets) on `port` is
    /// to be reached directly.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        if self.all {
            return true;
        }
        if self.entries.is_empty() {
            return false;
        }
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let port_ok = |p: &Option<u16>| p.is_none_or(|p| p == port);
        match host.parse::<IpAddr>() {
            Ok(ip) => self.entries.iter().any(|e| match e {
                Entry::Net { net, bits, port } => port_ok(port) && in_net(ip, *net, *bits),
                Entry::Name { .. } => false,
            }),
            Err(_) => {
                let name = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
                self.entries.iter().any(|e| match e {
                    Entry::Name { domain, port } => {
                        port_ok(port)
                            && (name == *domain
                                || name
                                    .strip_suffix(domain.as_str())
                                    .is_some_and(|head| head.ends_with('.')))
                    }
                    Entry::Net { .. } => false,
                })
            }
        }
    }
}

/// An address with an optional `/bits`: `10.0.0.0/8`, `::1`, `fd00::/8`.
fn parse_net(s: &str) -> Option<(IpAddr, u8)> {
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let ip: IpAddr = addr.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = match bits {
        None => max,
        Some(b) => b.parse::<u8>().ok().filter(|&b| b <= max)?,
    };
    Some((ip, bits))
}

fn parse_entry(token: &str) -> Option<Entry> {
    // `[v6]`, `[v6/bits]` or `[v6]:port`.
    if let Some(rest) = token.strip_prefix('[') {
        let (inner, tail) = rest.split_once(']')?;
        let port = match tail {
            "" => None,
            t => Some(t.strip_prefix(':')?.parse().ok()?),
        };
        let (net, bits) = parse_net(inner)?;
        return Some(Entry::Net { net, bits, port });
    }
    // A bare address or range (IPv6 has colons that are not a port).
    if let Some((net, bits)) = parse_net(token) {
        return Some(Entry::Net {
            net,
            bits,
            port: None,
        });
    }
    // `host:port` or `1.2.3.4:port`.
    let (host, port) = match token.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h, Some(p.parse::<u16>().ok()?)),
        Some(_) => return None,
        None => (token, None),
    };
    if let Some((net, bits)) = parse_net(host) {
        return Some(Entry::Net { net, bits, port });
    }
    let domain = host.strip_prefix('*').unwrap_or(host);
    let domain = domain.trim_matches('.').to_ascii_lowercase();
    if domain.is_empty() || domain.contains(['/', '*', '[', ']', '@']) {
        return None;
    }
    Some(Entry::Name { domain, port })
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let (a, b, len) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (
            u128::from(u32::from(a)) << 96,
            u128::from(u32::from(b)) << 96,
            32,
        ),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return false,
    };
    let bits = u32::from(bits).min(len);
    if bits == 0 {
        return true;
    }
    let mask = u128::MAX << (128 - bits);
    (a ^ b) & mask == 0
}

/// Where a scheme's proxy came from, and what it parsed into.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Source {
    proxy: Result<Proxy, ProxyUrlError>,
}

/// Which requests go through which proxy: a proxy for `http://` URLs, one for `https://`
/// URLs, and the [`NoProxy`] list. Built from the environment by curl's rules
/// ([`from_env`](ProxyRules::from_env), [`from_vars`](ProxyRules::from_vars)) or by hand.
///
/// ```
/// use squall::client::proxy::{NoProxy, Proxy, ProxyRules};
/// use squall::Url;
/// let rules = ProxyRules::from_vars([
///     ("https_proxy", "http://user:secret@proxy.internal:3128"),
///     ("no_proxy", "localhost,.corp.example,10.0.0.0/8"),
/// ]);
/// let url = Url::parse("https://example.com/").unwrap();
/// assert_eq!(rules.proxy_for(&url).unwrap().map(|p| p.port()), Some(3128));
/// let url = Url::parse("https://wiki.corp.example/").unwrap();
/// assert!(rules.proxy_for(&url).unwrap().is_none());
/// // No http_proxy: plain http goes direct.
/// let url = Url::parse("http://example.com/").unwrap();
/// assert!(rules.proxy_for(&url).unwrap().is_none());
///
/// let everything = ProxyRules::all(Proxy::new("10.1.1.1", 8080))
///     .no_proxy(NoProxy::parse("*.internal"));
/// # let _ = everything;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyRules {
    http: Option<Source>,
    https: Option<Source>,
    no_proxy: NoProxy,
}

/// The first variable of `names` that is set and not empty.
fn pick<'a>(vars: &'a HashMap<String, String>, names: &[&'a str]) -> Option<(&'a str, &'a str)> {
    names.iter().find_map(|&n| {
        vars.get(n)
            .filter(|v| !v.is_empty())
            .map(|v| (n, v.as_str()))
    })
}

/// The proxy variables of this process. A value that is not UTF-8 is kept lossily: it then
/// fails to parse, with an error naming its variable.
fn read_env() -> HashMap<String, String> {
    PROXY_VARIABLES
        .iter()
        .filter_map(|&name| {
            let v = std::env::var_os(name)?;
            Some((name.to_string(), v.to_string_lossy().into_owned()))
        })
        .collect()
}

impl ProxyRules {
    /// No proxy for anything.
    pub fn none() -> ProxyRules {
        ProxyRules::default()
    }

    /// Every `http://` and `https://` URL through `proxy` (then narrowed by
    /// [`no_proxy`](ProxyRules::no_proxy), if given).
    pub fn all(proxy: Proxy) -> ProxyRules {
        let source = Source { proxy: Ok(proxy) };
        ProxyRules {
            http: Some(source.clone()),
            https: Some(source),
            no_proxy: NoProxy::default(),
        }
    }

    /// Every `http://` and `https://` URL through the proxy at `url` (parsed by
    /// [`Proxy::parse`]); when `url` does not parse, every fetch that would use it fails with
    /// that error (curl's `-x` does the same).
    pub fn all_url(url: &str) -> ProxyRules {
        let source = Source {
            proxy: parse_proxy(url, None),
        };
        ProxyRules {
            http: Some(source.clone()),
            https: Some(source),
            no_proxy: NoProxy::default(),
        }
    }

    /// The rules of this process's environment (see the module docs for curl's rules).
    pub fn from_env() -> ProxyRules {
        ProxyRules::from_map(&read_env())
    }

    /// The rules of an environment given as name/value pairs: only the variables of
    /// [`PROXY_VARIABLES`] are looked at, by curl's rules. Pure: nothing is read from the
    /// process.
    pub fn from_vars<I, K, V>(vars: I) -> ProxyRules
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let map: HashMap<String, String> = vars
            .into_iter()
            .map(|(k, v)| (k.as_ref().to_string(), v.as_ref().to_string()))
            .collect();
        ProxyRules::from_map(&map)
    }

    fn from_map(vars: &HashMap<String, String>) -> ProxyRules {
        let source = |names: &[&str]| {
            pick(vars, names).map(|(name, value)| Source {
                proxy: parse_proxy(value, Some(name)),
            })
        };
        ProxyRules {
            // Not HTTP_PROXY: see the module docs (httpoxy).
            http: source(&["http_proxy", "all_proxy", "ALL_PROXY"]),
            https: source(&["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]),
            no_proxy: NoProxy::parse(pick(vars, &["no_proxy", "NO_PROXY"]).map_or("", |(_, v)| v)),
        }
    }

    /// The same rules with this `no_proxy` list instead of theirs (curl's `--noproxy`).
    pub fn no_proxy(mut self, list: NoProxy) -> ProxyRules {
        self.no_proxy = list;
        self
    }

    /// The same rules with these basic-auth credentials for every proxy that has none in its
    /// URL (curl's `--proxy-user`; userinfo in the proxy URL wins).
    pub fn proxy_auth(mut self, username: &str, password: &str) -> ProxyRules {
        for source in [&mut self.http, &mut self.https].into_iter().flatten() {
            if let Ok(p) = &mut source.proxy
                && p.username.is_none()
            {
                *p = p.clone().with_auth(username, password);
            }
        }
        self
    }

    /// Whether no URL goes through a proxy by these rules.
    pub fn is_empty(&self) -> bool {
        self.http.is_none() && self.https.is_none()
    }

    /// The proxy for `url`, or `None` to go direct. An error when the variable that would
    /// apply does not parse (it names the variable).
    pub fn proxy_for(&self, url: &Url) -> Result<Option<&Proxy>, HttpError> {
        let source = match url.scheme() {
            "http" => &self.http,
            "https" => &self.https,
            _ => &None,
        };
        let Some(source) = source else {
            return Ok(None);
        };
        if self.no_proxy.matches(url.host(), url.port()) {
            return Ok(None);
        }
        match &source.proxy {
            Ok(p) => Ok(Some(p)),
            Err(e) => Err(e.to_http()),
        }
    }
}

/// Sets the proxy of `hop` by the fetch's rules (a request's own proxy, or its client's).
/// The caller's own `Proxy-Authorization` header stands in for credentials a proxy lacks,
/// until the chain leaves the original origin (D-13).
pub(crate) fn route(hop: &mut HopRequest, opts: &FetchOptions) -> Result<(), HttpError> {
    let Some(rules) = &opts.proxy_rules else {
        hop.proxy = None;
        return Ok(());
    };
    let fallback = if hop.left_origin {
        None
    } else {
        opts.caller_proxy_auth.as_deref()
    };
    hop.proxy = rules.proxy_for(&hop.url)?.map(|p| p.hop(fallback));
    Ok(())
}

/// The rules a client uses: those given to its builder, else the environment's, read now.
/// `None` when no URL would go through a proxy (nothing to check per fetch).
pub(crate) fn client_rules(given: Option<ProxyRules>) -> Option<Arc<ProxyRules>> {
    let rules = given.unwrap_or_else(ProxyRules::from_env);
    if rules.is_empty() {
        None
    } else {
        Some(Arc::new(rules))
    }
}

#[cfg(test)]
mod tests;
