//! Command-line parsing for `squall` and `squall bench`: what the command line can ask for.
//!
//! This is the whole option grammar of `docs/cli.md`, parsed with `lexopt` (which adds no
//! dependencies of its own). Parsing is pure: it never touches the network or the file
//! system, so every rule is unit tested (`args/tests.rs`). Anything wrong with the command
//! line becomes a [`Usage`] error (exit 2) with a one-line reason; reading `-d @FILE` happens
//! later, in `run`, because an unreadable file is its own exit code (26).
//!
//! This file holds what parsing produces ([`Command`], [`FetchArgs`], [`BenchArgs`]); the
//! option loop is in [`parse`](mod@parse), the checks of single values (methods, headers, sizes,
//! `--resolve`, URLs without a scheme) in [`values`], and the `--help` texts in [`help`].

mod help;
mod parse;
#[cfg(test)]
mod tests;
mod values;

pub use help::{BENCH_HELP, HELP};
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
