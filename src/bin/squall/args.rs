//! Command-line parsing for `squall` and `squall bench`: what the command line can ask for.
//!
//! This is the whole option grammar of `docs/cli.md`, parsed with `lexopt` (which adds no
//! dependencies of its own). Parsing is pure: it never touches the network or the file
//! system, so every rule is unit tested (`args/tests.rs`). Anything wrong with the command
//! line becomes a [`Usage`] error (exit 2) with a one-line reason; reading `-d @FILE` happens
//! later, in `run`, because an unreadable file is its own exit code (26).
//!
//! This file holds what parsing produces ([`Command`], [`FetchArgs`], [`BenchArgs`]) and the
//! `--help` texts, the option table a user reads (`tests/docs/references.rs` reads them here too, to
//! check that `docs/cli.md` names every option). The option loop is in
//! [`parse`](mod@parse), the checks of single values (methods, headers, sizes, `--resolve`,
//! URLs without a scheme) in [`values`].

mod parse;
#[cfg(test)]
mod tests;
mod values;

pub use parse::parse;

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::writeout::WriteOut;

/// A command-line error: exit 2 with `squall: <reason>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage(pub String);

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<lexopt::Error> for Usage {
    fn from(e: lexopt::Error) -> Usage {
        Usage(e.to_string())
    }
}

fn usage<T>(msg: impl Into<String>) -> Result<T, Usage> {
    Err(Usage(msg.into()))
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    /// `-h` / `--help`
    Help,
    /// `-V` / `--version`
    Version,
    /// `squall bench --help`
    BenchHelp,
    /// `squall [OPTIONS] URL...`
    Fetch(Box<FetchArgs>),
    /// `squall bench [OPTIONS] URL`
    Bench(BenchArgs),
}

/// Where one `-d` / `--data-binary` / `--json` part comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSource {
    /// The bytes given on the command line.
    Literal(Vec<u8>),
    /// `@FILE`
    File(PathBuf),
    /// `@-`
    Stdin,
}

/// One `--resolve HOST:PORT:ADDR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolve {
    /// The name as it appears in URLs (lower-case).
    pub host: String,
    /// The port it applies to.
    pub port: u16,
    /// The address to connect to instead.
    pub addr: IpAddr,
}

impl Resolve {
    /// The `(from, to)` pair for `ClientBuilder::hostname_mapping`.
    pub fn mapping(&self) -> (String, String) {
        let to = match self.addr {
            IpAddr::V4(a) => format!("{a}:{}", self.port),
            IpAddr::V6(a) => format!("[{a}]:{}", self.port),
        };
        (format!("{}:{}", self.host, self.port), to)
    }
}

/// Everything `squall [OPTIONS] URL...` was given.
#[derive(Debug)]
pub struct FetchArgs {
    /// The URLs, in command-line order.
    pub urls: Vec<String>,
    /// `-X`
    pub method: Option<String>,
    /// `-H`, in order, as (name, value).
    pub headers: Vec<(String, String)>,
    /// `-d` / `--data-binary` / `--json` parts, in order.
    pub data: Vec<DataSource>,
    /// `--json` was given.
    pub json: bool,
    /// `-u USER:PASS`
    pub user: Option<(String, String)>,
    /// `-A`
    pub user_agent: Option<String>,
    /// `-o`, paired with the URLs in order (as curl pairs them).
    pub outputs: Vec<PathBuf>,
    /// `-i`
    pub include: bool,
    /// `-I`
    pub head: bool,
    /// `-f`
    pub fail: bool,
    /// Follow redirects (`-L` / `--no-follow`, the last one wins).
    pub follow: bool,
    /// `--max-redirects`
    pub max_redirects: u32,
    /// `--connect-timeout`
    pub connect_timeout: Duration,
    /// `-m`
    pub max_time: Option<Duration>,
    /// `--cacert`
    pub cacert: Option<PathBuf>,
    /// `--cert`
    pub cert: Option<PathBuf>,
    /// `--key`
    pub key: Option<PathBuf>,
    /// `-k`
    pub insecure: bool,
    /// `--raw`
    pub raw: bool,
    /// `--max-body-size` / `--max-filesize`
    pub max_body_size: Option<u64>,
    /// `--resolve`
    pub resolve: Vec<Resolve>,
    /// `--dns-servers` (the stub resolver asks these)
    pub dns_servers: Option<Vec<std::net::SocketAddr>>,
    /// `-w`
    pub write_out: Option<WriteOut>,
    /// `-v`
    pub verbose: bool,
    /// `-s`
    pub silent: bool,
    /// `-P`
    pub parallel: usize,
    /// `--trace-loop FILE`: the event loop's turns as Chrome Trace Event JSON.
    pub trace_loop: Option<PathBuf>,
    /// `-x` / `--proxy`: the proxy URL as given (the empty string means no proxy at all).
    pub proxy: Option<String>,
    /// `--noproxy`: replaces `no_proxy` / `NO_PROXY`.
    pub noproxy: Option<String>,
    /// `-U` / `--proxy-user`
    pub proxy_user: Option<(String, String)>,
}

impl Default for FetchArgs {
    fn default() -> FetchArgs {
        FetchArgs {
            urls: Vec::new(),
            method: None,
            headers: Vec::new(),
            data: Vec::new(),
            json: false,
            user: None,
            user_agent: None,
            outputs: Vec::new(),
            include: false,
            head: false,
            fail: false,
            follow: true,
            max_redirects: 5,
            connect_timeout: Duration::from_secs(20),
            max_time: None,
            cacert: None,
            cert: None,
            key: None,
            insecure: false,
            raw: false,
            max_body_size: None,
            resolve: Vec::new(),
            dns_servers: None,
            write_out: None,
            verbose: false,
            silent: false,
            parallel: 1,
            trace_loop: None,
            proxy: None,
            noproxy: None,
            proxy_user: None,
        }
    }
}

/// The body cap when the body goes to stdout and `--max-body-size` is not given.
pub const DEFAULT_STDOUT_MAX_BODY: u64 = 100 * 1024 * 1024;

impl FetchArgs {
    /// The method to send: `-X`, else HEAD for `-I`, POST with a body, GET.
    pub fn effective_method(&self) -> &str {
        if let Some(m) = &self.method {
            m
        } else if self.head {
            "HEAD"
        } else if !self.data.is_empty() {
            "POST"
        } else {
            "GET"
        }
    }

    /// Whether `-H` set a header of this name (case-insensitively).
    pub fn has_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// The `-o` path for the URL at `index`, if any (`-o -` means stdout).
    pub fn output_for(&self, index: usize) -> Option<&PathBuf> {
        self.outputs.get(index).filter(|p| p.as_os_str() != "-")
    }

    /// The body cap for the URL at `index` (`None` = unlimited).
    pub fn body_limit_for(&self, index: usize) -> Option<u64> {
        match (self.max_body_size, self.output_for(index)) {
            (Some(n), _) => Some(n),
            (None, Some(_)) => None,
            (None, None) => Some(DEFAULT_STDOUT_MAX_BODY),
        }
    }

    /// The separator between several data parts: `&` for `-d`, nothing for `--json`.
    pub fn data_separator(&self) -> &'static [u8] {
        if self.json { b"" } else { b"&" }
    }
}

/// Everything `squall bench` was given.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchArgs {
    /// The URL to load.
    pub url: String,
    /// `-n`: total requests (None with `-d` alone: until the time is up).
    pub requests: Option<u64>,
    /// `-c`: concurrent loops.
    pub concurrency: usize,
    /// `-d`: time budget.
    pub duration: Option<Duration>,
    /// `-k`
    pub insecure: bool,
    /// `--cacert`
    pub cacert: Option<PathBuf>,
    /// `--no-keepalive`
    pub no_keepalive: bool,
}

/// `-n` when neither `-n` nor `-d` is given.
pub const DEFAULT_BENCH_REQUESTS: u64 = 10_000;

/// `squall --help`: one line per option.
pub const HELP: &str = "\
squall - an HTTP/1.1 client on its own event loop

Usage: squall [OPTIONS] <URL>...
       squall bench [-n N] [-c C] [-d SECS] [-k] [--cacert FILE] [--no-keepalive] <URL>

Options:
  -X, --request METHOD        method (default GET, or POST with a body); any token, as given
  -H, --header \"Name: value\"  extra request header (repeatable)
  -d, --data DATA             request body, byte for byte; @FILE reads a file, @- stdin
      --data-binary DATA      the same as -d
      --json DATA             body, with Content-Type and Accept: application/json
  -u, --user USER:PASS        basic auth (userinfo in the URL wins)
  -A, --user-agent UA         User-Agent (default squall/VERSION)
  -o, --output FILE           write the body to FILE, streamed (one -o per URL, in order)
  -i, --include               print the response head(s) before the body
  -I, --head                  send HEAD and print the response head(s)
  -f, --fail                  exit 22 when the final status is >= 400
      --no-follow             do not follow redirects (default: follow)
  -L, --location              follow redirects (the default; last of -L/--no-follow wins)
      --compressed            accepted for curl habits (decompression is the default)
      --max-redirects N       most redirects to follow (default 5)
      --connect-timeout SECS  limit for connecting (default 20)
  -m, --max-time SECS         one budget for the whole transfer, redirects included
      --cacert FILE           trust the PEM roots in FILE (else SSL_CERT_FILE/SSL_CERT_DIR)
      --cert FILE             client certificate chain (PEM)
      --key FILE              client private key (PEM)
  -k, --insecure              skip certificate verification
      --raw                   no Accept-Encoding: gzip, no decompression
      --max-body-size BYTES   refuse larger (decoded) bodies (alias --max-filesize; K/M/G ok)
      --resolve HOST:PORT:ADDR  connect to ADDR for HOST:PORT
      --dns-servers LIST      resolve with these DNS servers (ADDR[:PORT],...), on the loop
  -x, --proxy URL             HTTP proxy ([http://][USER:PASS@]HOST[:PORT], port 1080 by
                              default; \"\" for none); https goes through CONNECT
      --noproxy LIST          hosts to reach directly (replaces no_proxy; * for all)
  -U, --proxy-user USER:PASS  basic auth for the proxy (userinfo in the proxy URL wins)
  -w, --write-out FORMAT      print FORMAT after each URL (%{http_code}, ...; @FILE reads it)
  -v, --verbose               request and response heads on stderr
  -s, --silent                no progress bar
  -S, --show-error            accepted for curl habits (the error line always shows)
  -P, --parallel N            fetch N URLs at once (default 1); output stays in URL order
      --trace-loop FILE       record every turn of the event loop in FILE (Chrome Trace
                              Event JSON: open it in ui.perfetto.dev or chrome://tracing)
  -h, --help                  this help
  -V, --version               print the version

Without -x, proxies come from http_proxy (never HTTP_PROXY), https_proxy/HTTPS_PROXY,
all_proxy/ALL_PROXY and no_proxy/NO_PROXY, by curl's rules.

-w variables: http_code url_effective num_redirects size_download content_type time_connect
time_starttransfer time_total (also response_code http_version size_header method scheme
exitcode errormsg time_namelookup time_appconnect num_headers url speed_download remote_ip
remote_port, header{NAME})
";

/// `squall bench --help`.
pub const BENCH_HELP: &str = "\
squall bench - a load generator on one AsyncHttpClient

Usage: squall bench [OPTIONS] <URL>

Options:
  -n, --requests N       total requests (default 10000, or unlimited when only -d is given)
  -c, --concurrency C    concurrent keep-alive loops (default 1)
  -d, --duration SECS    stop after SECS (with -n: whichever comes first)
  -k, --insecure         skip certificate verification
      --cacert FILE      trust the PEM roots in FILE
      --no-keepalive     a new connection (and TLS handshake) for every request
  -h, --help             this help

Prints requests, errors, req/s and p50/p99/max latency; the last line is `req/s: <number>`.
";
