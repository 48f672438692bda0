//! Command-line parsing for `squall` and `squall bench`.
//!
//! This is the whole option grammar of `docs/cli.md` in one place, parsed with `lexopt` (which
//! adds no dependencies of its own). Parsing is pure: it never touches the network or the
//! file system, so every rule here is unit tested below. Anything wrong with the command line
//! becomes a [`Usage`] error (exit 2) with a one-line reason; reading `-d @FILE` happens later,
//! in `run`, because an unreadable file is its own exit code (26).

use std::ffi::OsString;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use lexopt::prelude::*;

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

/// RFC 9110 `tchar`.
pub fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// RFC 9110 `token`.
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// Check a `-X` method: a token, so no CR/LF/space can reach the wire.
pub fn check_method(m: &str) -> Result<(), Usage> {
    if is_token(m) {
        Ok(())
    } else {
        usage(format!(
            "invalid method {m:?}: a method must be a token (RFC 9110)"
        ))
    }
}

/// Split and check a `-H "Name: value"`.
pub fn parse_header(h: &str) -> Result<(String, String), Usage> {
    // curl's spelling of a header with an empty value: "Name;".
    if !h.contains(':')
        && let Some(name) = h.strip_suffix(';')
        && is_token(name)
    {
        return Ok((name.to_string(), String::new()));
    }
    let Some((name, value)) = h.split_once(':') else {
        return usage(format!("invalid header {h:?}: expected \"Name: value\""));
    };
    if !is_token(name) {
        return usage(format!(
            "invalid header name {name:?}: a field name must be a token"
        ));
    }
    // field-value: VCHAR, obs-text, SP and HTAB; never CR, LF, NUL or other controls.
    if let Some(c) = value
        .chars()
        .find(|&c| (c < ' ' && c != '\t') || c == '\x7f')
    {
        return usage(format!(
            "invalid value for header {name:?}: it holds the control character {c:?}"
        ));
    }
    Ok((
        name.to_string(),
        value.trim_matches([' ', '\t']).to_string(),
    ))
}

/// Parse seconds (fractions allowed): `--connect-timeout`, `-m`, `bench -d`.
pub fn parse_secs(opt: &str, v: &str) -> Result<Duration, Usage> {
    match v.trim().parse::<f64>() {
        Ok(s) if (0.0..1e12).contains(&s) => Ok(Duration::from_secs_f64(s)),
        _ => usage(format!("invalid value {v:?} for {opt}: expected seconds")),
    }
}

/// Parse a byte count with an optional K/M/G suffix (powers of 1024, as curl does).
pub fn parse_size(opt: &str, v: &str) -> Result<u64, Usage> {
    let bad = || {
        Usage(format!(
            "invalid value {v:?} for {opt}: expected a size in bytes"
        ))
    };
    let t = v.trim();
    let (digits, mult) = match t.as_bytes().last() {
        Some(b'k' | b'K') => (&t[..t.len() - 1], 1u64 << 10),
        Some(b'm' | b'M') => (&t[..t.len() - 1], 1 << 20),
        Some(b'g' | b'G') => (&t[..t.len() - 1], 1 << 30),
        Some(b'b' | b'B') => (&t[..t.len() - 1], 1),
        _ => (t, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(bad)
}

fn parse_count<T: std::str::FromStr + PartialOrd + From<u8>>(
    opt: &str,
    v: &str,
) -> Result<T, Usage> {
    match v.trim().parse::<T>() {
        Ok(n) if n >= T::from(1) => Ok(n),
        _ => usage(format!(
            "invalid value {v:?} for {opt}: expected a whole number >= 1"
        )),
    }
}

/// Parse `--resolve HOST:PORT:ADDR` (ADDR may be `[v6]` or bare v6).
pub fn parse_resolve(v: &str) -> Result<Resolve, Usage> {
    let bad = |why: &str| {
        Usage(format!(
            "invalid --resolve {v:?}: {why} (expected HOST:PORT:ADDR)"
        ))
    };
    let (host, rest) = v.split_once(':').ok_or_else(|| bad("no port"))?;
    let (port, addr) = rest.split_once(':').ok_or_else(|| bad("no address"))?;
    if host.is_empty() {
        return Err(bad("empty host"));
    }
    let port: u16 = port.parse().map_err(|_| bad("bad port"))?;
    let addr = addr.trim();
    let addr = addr
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .unwrap_or(addr);
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| bad("the address is not an IP address"))?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .to_ascii_lowercase();
    Ok(Resolve { host, port, addr })
}

/// A URL without a scheme is taken as http, as curl does (`squall localhost:8080/x`).
///
/// The text already has a scheme when it starts with `http:` or `https:` (any case), or with
/// an RFC 3986 scheme name followed by `:/` (curl's rule when it guesses). So `http:/x` and
/// `http:x` stay as given and are refused as malformed URLs (no authority, RFC 9110 §4.2.1),
/// `file:/x` is an unsupported scheme, and `localhost:8080/x` or `127.0.0.1:80` get `http://`.
pub fn with_scheme(url: String) -> String {
    let lower = url.get(..6).unwrap_or(&url).to_ascii_lowercase();
    if lower.starts_with("http:") || lower.starts_with("https:") || has_scheme(&url) {
        url
    } else {
        format!("http://{url}")
    }
}

/// `scheme ":/"` at the start, with scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
fn has_scheme(url: &str) -> bool {
    let b = url.as_bytes();
    if !b.first().is_some_and(u8::is_ascii_alphabetic) {
        return false;
    }
    let n = b
        .iter()
        .take_while(|&&c| c.is_ascii_alphanumeric() || b"+-.".contains(&c))
        .count();
    b[n..].starts_with(b":/")
}

fn data_source(v: OsString) -> DataSource {
    let bytes = os_bytes(v);
    match bytes.strip_prefix(b"@") {
        Some(b"-") => DataSource::Stdin,
        Some(path) => DataSource::File(PathBuf::from(bytes_os(path.to_vec()))),
        None => DataSource::Literal(bytes),
    }
}

#[cfg(unix)]
fn os_bytes(v: OsString) -> Vec<u8> {
    use std::os::unix::ffi::OsStringExt;
    v.into_vec()
}

#[cfg(unix)]
fn bytes_os(v: Vec<u8>) -> OsString {
    use std::os::unix::ffi::OsStringExt;
    OsString::from_vec(v)
}

#[cfg(not(unix))]
fn os_bytes(v: OsString) -> Vec<u8> {
    v.to_string_lossy().into_owned().into_bytes()
}

#[cfg(not(unix))]
fn bytes_os(v: Vec<u8>) -> OsString {
    OsString::from(String::from_utf8_lossy(&v).into_owned())
}

/// A `-H` or `-A` argument as the library's header text: each byte of the argument is the
/// character of the same code point, which the library writes back as that one byte
/// (latin-1, R-22). So the bytes given go out as given, as curl sends them: UTF-8 stays
/// UTF-8 (obs-text, RFC 9110 §5.5), and nothing but valid field bytes passes
/// [`parse_header`].
fn field_text(v: OsString) -> String {
    os_bytes(v).into_iter().map(char::from).collect()
}

#[inline(never)]
fn path(p: &mut lexopt::Parser) -> Result<PathBuf, Usage> {
    Ok(PathBuf::from(p.value()?))
}

/// The next value, as UTF-8 (one shared copy of this code for every option).
#[inline(never)]
fn text(p: &mut lexopt::Parser, opt: &str) -> Result<String, Usage> {
    string(opt, p.value()?)
}

#[inline(never)]
fn string(opt: &str, v: OsString) -> Result<String, Usage> {
    v.into_string()
        .or_else(|_| usage(format!("the value of {opt} is not valid UTF-8")))
}

/// Parse the whole command line (without argv[0]).
pub fn parse<I>(args: I) -> Result<Command, Usage>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    if args.first().is_some_and(|a| a == "bench") {
        return parse_bench(args.into_iter().skip(1));
    }
    let mut p = lexopt::Parser::from_args(args);
    let mut a = FetchArgs::default();
    while let Some(arg) = p.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Command::Help),
            Short('V') | Long("version") => return Ok(Command::Version),
            Short('X') | Long("request") => {
                let m = text(&mut p, "-X")?;
                check_method(&m)?;
                a.method = Some(m);
            }
            Short('H') | Long("header") => {
                let h = field_text(p.value()?);
                a.headers.push(parse_header(&h)?);
            }
            Short('d') | Long("data") | Long("data-binary") => {
                a.data.push(data_source(p.value()?));
            }
            // curl's --data-raw: like -d, but a leading @ is data, never a file name.
            Long("data-raw") => a.data.push(DataSource::Literal(os_bytes(p.value()?))),
            Long("json") => {
                a.data.push(data_source(p.value()?));
                a.json = true;
            }
            Short('u') | Long("user") => {
                let u = text(&mut p, "-u")?;
                let (user, pass) = u.split_once(':').unwrap_or((&u, ""));
                a.user = Some((user.to_string(), pass.to_string()));
            }
            Short('x') | Long("proxy") => a.proxy = Some(text(&mut p, "-x")?),
            Long("noproxy") => a.noproxy = Some(text(&mut p, "--noproxy")?),
            Short('U') | Long("proxy-user") => {
                let u = text(&mut p, "-U")?;
                let (user, pass) = u.split_once(':').unwrap_or((&u, ""));
                a.proxy_user = Some((user.to_string(), pass.to_string()));
            }
            Short('A') | Long("user-agent") => {
                let ua = field_text(p.value()?);
                parse_header(&format!("User-Agent: {ua}"))?;
                a.user_agent = Some(ua);
            }
            Short('o') | Long("output") => a.outputs.push(path(&mut p)?),
            Short('i') | Long("include") => a.include = true,
            Short('I') | Long("head") => a.head = true,
            Short('f') | Long("fail") => a.fail = true,
            Short('L') | Long("location") => a.follow = true,
            Long("no-follow") => a.follow = false,
            Long("compressed") => {}
            Long("max-redirects") | Long("max-redirs") => {
                let v = text(&mut p, "--max-redirects")?;
                a.max_redirects = v.trim().parse().or_else(|_| {
                    usage(format!(
                        "invalid value {v:?} for --max-redirects: expected a whole number"
                    ))
                })?;
            }
            Long("connect-timeout") => {
                let v = text(&mut p, "--connect-timeout")?;
                a.connect_timeout = parse_secs("--connect-timeout", &v)?;
            }
            Short('m') | Long("max-time") => {
                let v = text(&mut p, "-m")?;
                a.max_time = Some(parse_secs("--max-time", &v)?);
            }
            Long("cacert") => a.cacert = Some(path(&mut p)?),
            Long("cert") => a.cert = Some(path(&mut p)?),
            Long("key") => a.key = Some(path(&mut p)?),
            Short('k') | Long("insecure") => a.insecure = true,
            Long("raw") => a.raw = true,
            Long("max-body-size") | Long("max-filesize") => {
                let v = text(&mut p, "--max-body-size")?;
                a.max_body_size = Some(parse_size("--max-body-size", &v)?);
            }
            Long("resolve") => {
                let v = text(&mut p, "--resolve")?;
                a.resolve.push(parse_resolve(&v)?);
            }
            Long("dns-servers") => {
                let v = text(&mut p, "--dns-servers")?;
                let servers = squall::net::dns::parse_dns_servers(&v)
                    .map_err(|e| Usage(format!("--dns-servers: {e}")))?;
                a.dns_servers = Some(servers);
            }
            Short('w') | Long("write-out") => {
                let v = p.value()?;
                a.write_out = Some(WriteOut::from_arg(v)?);
            }
            Short('v') | Long("verbose") => a.verbose = true,
            Short('s') | Long("silent") => a.silent = true,
            // curl's -S brings errors back under -s; squall's error line always shows.
            Short('S') | Long("show-error") => {}
            Short('P') | Long("parallel") | Long("parallel-max") => {
                let v = text(&mut p, "-P")?;
                a.parallel = parse_count("--parallel", &v)?;
            }
            Long("trace-loop") => a.trace_loop = Some(path(&mut p)?),
            Value(v) => a.urls.push(with_scheme(string("URL", v)?)),
            _ => return Err(arg.unexpected().into()),
        }
    }
    if a.urls.is_empty() {
        return usage("no URL specified (try 'squall --help')");
    }
    if a.head && !a.data.is_empty() {
        return usage("-I (HEAD) cannot be combined with a request body (-d/--json)");
    }
    if a.outputs.len() > a.urls.len() {
        return usage("more -o options than URLs");
    }
    if a.key.is_some() && a.cert.is_none() {
        return usage("--key needs --cert");
    }
    Ok(Command::Fetch(Box::new(a)))
}

fn parse_bench(args: impl Iterator<Item = OsString>) -> Result<Command, Usage> {
    let mut p = lexopt::Parser::from_args(args);
    let mut url = None;
    let mut requests = None;
    let mut concurrency = 1;
    let mut duration = None;
    let mut insecure = false;
    let mut cacert = None;
    let mut no_keepalive = false;
    while let Some(arg) = p.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Command::BenchHelp),
            Short('n') | Long("requests") => {
                let v = text(&mut p, "-n")?;
                requests = Some(parse_count::<u64>("-n", &v)?);
            }
            Short('c') | Long("concurrency") => {
                let v = text(&mut p, "-c")?;
                concurrency = parse_count::<usize>("-c", &v)?;
                if concurrency > 100_000 {
                    return usage("-c is limited to 100000");
                }
            }
            Short('d') | Long("duration") => {
                let v = text(&mut p, "-d")?;
                let d = parse_secs("bench -d", &v)?;
                if d.is_zero() {
                    return usage("bench -d must be more than 0 seconds");
                }
                duration = Some(d);
            }
            Short('k') | Long("insecure") => insecure = true,
            Long("cacert") => cacert = Some(path(&mut p)?),
            Long("no-keepalive") => no_keepalive = true,
            Value(v) if url.is_none() => url = Some(with_scheme(string("URL", v)?)),
            Value(v) => {
                return usage(format!(
                    "bench takes one URL; unexpected argument {:?}",
                    v.to_string_lossy()
                ));
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    let Some(url) = url else {
        return usage("bench: no URL specified (try 'squall bench --help')");
    };
    if requests.is_none() && duration.is_none() {
        requests = Some(DEFAULT_BENCH_REQUESTS);
    }
    Ok(Command::Bench(BenchArgs {
        url,
        requests,
        concurrency,
        duration,
        insecure,
        cacert,
        no_keepalive,
    }))
}

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
exitcode errormsg time_namelookup time_appconnect num_headers url speed_download, header{NAME})
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fetch(args: &[&str]) -> FetchArgs {
        match parse(args.iter().copied()) {
            Ok(Command::Fetch(a)) => *a,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    fn err(args: &[&str]) -> String {
        match parse(args.iter().copied()) {
            Err(Usage(m)) => m,
            other => panic!("{args:?} should fail: {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let a = fetch(&["http://x/"]);
        assert_eq!(a.urls, ["http://x/"]);
        assert_eq!(fetch(&["u"]).urls, ["http://u"]);
        assert_eq!(a.effective_method(), "GET");
        assert!(a.follow);
        assert_eq!(a.max_redirects, 5);
        assert_eq!(a.connect_timeout, Duration::from_secs(20));
        assert_eq!(a.max_time, None);
        assert_eq!(a.parallel, 1);
        assert_eq!(a.body_limit_for(0), Some(100 << 20));
    }

    #[test]
    fn help_and_version() {
        assert!(matches!(parse(["--help"]), Ok(Command::Help)));
        assert!(matches!(parse(["-h", "http://x"]), Ok(Command::Help)));
        assert!(matches!(parse(["-V"]), Ok(Command::Version)));
        assert!(matches!(parse(["--version"]), Ok(Command::Version)));
        assert!(matches!(parse(["bench", "--help"]), Ok(Command::BenchHelp)));
    }

    #[test]
    fn help_names_every_option() {
        for o in [
            "--request",
            "--header",
            "--data ",
            "--data-binary",
            "--json",
            "--user ",
            "--user-agent",
            "--output",
            "--include",
            "--head ",
            "--fail",
            "--no-follow",
            "--location",
            "--compressed",
            "--max-redirects",
            "--connect-timeout",
            "--max-time",
            "--cacert",
            "--cert ",
            "--key ",
            "--insecure",
            "--raw",
            "--max-body-size",
            "--max-filesize",
            "--resolve",
            "--dns-servers",
            "--proxy ",
            "--noproxy",
            "--proxy-user",
            "--write-out",
            "--verbose",
            "--silent",
            "--parallel",
            "--help",
            "--version",
        ] {
            assert!(HELP.contains(o), "help lacks {o}");
        }
        for o in ["-n,", "-c,", "-d,", "-k,", "--cacert", "--no-keepalive"] {
            assert!(BENCH_HELP.contains(o), "bench help lacks {o}");
        }
    }

    #[test]
    fn missing_url_and_unknown_options_are_usage_errors() {
        assert!(err(&[]).contains("no URL"));
        assert!(err(&["-s"]).contains("no URL"));
        assert!(err(&["--bogus", "http://x"]).contains("--bogus"));
        assert!(err(&["-Z", "http://x"]).contains("-Z"));
        assert!(err(&["http://x", "-H"]).contains("-H"));
        assert!(err(&["--silent=yes", "http://x"]).contains("silent"));
    }

    #[test]
    fn headers_repeat_and_are_checked() {
        let a = fetch(&[
            "-H",
            "A: 1",
            "--header",
            "B:2",
            "-HC:  3 ",
            "--header=D: 4",
            "u",
        ]);
        assert_eq!(
            a.headers,
            [("A", "1"), ("B", "2"), ("C", "3"), ("D", "4")]
                .map(|(n, v)| (n.to_string(), v.to_string()))
        );
        assert!(err(&["-H", "X: a\r\nEvil: 1", "u"]).contains("control"));
        assert!(err(&["-H", "X: a\nb", "u"]).contains("control"));
        assert!(err(&["-H", "X\r\n: a", "u"]).contains("token"));
        assert!(err(&["-H", "Bad Name: a", "u"]).contains("token"));
        assert!(err(&["-H", ": a", "u"]).contains("token"));
        assert!(err(&["-H", "NoColon", "u"]).contains("Name: value"));
        // "Name;" is curl's way to send a header with an empty value.
        assert_eq!(
            fetch(&["-H", "X-Empty;", "u"]).headers,
            [("X-Empty".to_string(), String::new())]
        );
        assert!(err(&["-H", "X Y;", "u"]).contains("Name: value"));
        // HTAB and obs-text are allowed in values; each byte of the argument is one
        // character, written back as that byte (UTF-8 "é" is C3 A9).
        assert_eq!(
            fetch(&["-H", "X: a\tb\u{e9}", "u"]).headers[0].1,
            "a\tb\u{c3}\u{a9}"
        );
        // -A goes through the same check.
        assert!(err(&["-A", "x\r\ny", "u"]).contains("control"));
    }

    #[test]
    fn methods_are_tokens() {
        assert_eq!(fetch(&["-X", "PURGE", "u"]).effective_method(), "PURGE");
        assert_eq!(fetch(&["-XDELETE", "u"]).effective_method(), "DELETE");
        assert_eq!(fetch(&["--request=PATCH", "u"]).effective_method(), "PATCH");
        assert!(err(&["-X", "GET /evil HTTP/1.1\r\n", "u"]).contains("token"));
        assert!(err(&["-X", "GE T", "u"]).contains("token"));
        assert!(err(&["-X", "", "u"]).contains("token"));
    }

    #[test]
    fn bodies_and_default_method() {
        let a = fetch(&["-d", "a=1", "u"]);
        assert_eq!(a.effective_method(), "POST");
        assert_eq!(a.data, [DataSource::Literal(b"a=1".to_vec())]);
        let a = fetch(&["--data-binary", "@/tmp/f", "-d", "@-", "-X", "PUT", "u"]);
        assert_eq!(a.effective_method(), "PUT");
        assert_eq!(
            a.data,
            [DataSource::File("/tmp/f".into()), DataSource::Stdin]
        );
        assert_eq!(a.data_separator(), b"&");
        assert_eq!(
            fetch(&["--data-raw", "@not-a-file", "u"]).data,
            [DataSource::Literal(b"@not-a-file".to_vec())]
        );
        let a = fetch(&["--json", "{}", "u"]);
        assert!(a.json);
        assert_eq!(a.effective_method(), "POST");
        assert_eq!(a.data_separator(), b"");
        // A lone "-" or a value starting with a dash is data, not an option.
        assert_eq!(
            fetch(&["-d", "-x", "u"]).data,
            [DataSource::Literal(b"-x".to_vec())]
        );
    }

    #[test]
    fn head_and_include() {
        let a = fetch(&["-I", "u"]);
        assert!(a.head);
        assert_eq!(a.effective_method(), "HEAD");
        assert!(fetch(&["-i", "u"]).include);
        assert!(err(&["-I", "-d", "x", "u"]).contains("-I"));
    }

    #[test]
    fn short_options_bundle() {
        let a = fetch(&["-sfiLkv", "u"]);
        assert!(a.silent && a.fail && a.include && a.follow && a.insecure && a.verbose);
        let a = fetch(&["-sXPOST", "u"]);
        assert!(a.silent);
        assert_eq!(a.method.as_deref(), Some("POST"));
        let a = fetch(&["-so", "/tmp/out", "u"]);
        assert_eq!(a.outputs, [PathBuf::from("/tmp/out")]);
    }

    #[test]
    fn follow_last_wins() {
        assert!(!fetch(&["--no-follow", "u"]).follow);
        assert!(fetch(&["--no-follow", "-L", "u"]).follow);
        assert!(!fetch(&["-L", "--no-follow", "u"]).follow);
        assert!(fetch(&["--location", "u"]).follow);
    }

    #[test]
    fn numbers() {
        let a = fetch(&[
            "--max-redirects",
            "0",
            "--connect-timeout",
            "1.5",
            "-m",
            "2",
            "-P",
            "4",
            "--max-body-size",
            "10K",
            "u",
        ]);
        assert_eq!(a.max_redirects, 0);
        assert_eq!(a.connect_timeout, Duration::from_millis(1500));
        assert_eq!(a.max_time, Some(Duration::from_secs(2)));
        assert_eq!(a.parallel, 4);
        assert_eq!(a.max_body_size, Some(10240));
        assert_eq!(fetch(&["--max-filesize", "7", "u"]).max_body_size, Some(7));
        assert_eq!(
            fetch(&["--max-filesize", "2M", "u"]).max_body_size,
            Some(2 << 20)
        );
        assert!(err(&["-m", "soon", "u"]).contains("-time"));
        assert!(err(&["-m", "-1", "u"]).contains("-time"));
        assert!(err(&["-m", "NaN", "u"]).contains("-time"));
        assert!(err(&["--connect-timeout", "inf", "u"]).contains("connect-timeout"));
        assert!(err(&["-P", "0", "u"]).contains("parallel"));
        assert!(err(&["-P", "x", "u"]).contains("parallel"));
        assert!(err(&["--max-redirects", "-1", "u"]).contains("max-redirects"));
        assert!(err(&["--max-body-size", "lots", "u"]).contains("max-body-size"));
        assert!(err(&["--max-body-size", "99999999999999999999", "u"]).contains("size"));
        assert!(err(&["--max-body-size", "", "u"]).contains("size"));
    }

    #[test]
    fn output_pairs_with_urls() {
        let a = fetch(&["-o", "a", "u1", "u2"]);
        assert_eq!(a.output_for(0), Some(&PathBuf::from("a")));
        assert_eq!(a.output_for(1), None);
        assert_eq!(a.body_limit_for(0), None);
        assert_eq!(a.body_limit_for(1), Some(100 << 20));
        let a = fetch(&["-o", "-", "u1"]);
        assert_eq!(a.output_for(0), None);
        let a = fetch(&["-o", "a", "--max-body-size", "5", "u1"]);
        assert_eq!(a.body_limit_for(0), Some(5));
        assert!(err(&["-o", "a", "-o", "b", "u1"]).contains("-o"));
    }

    #[test]
    fn user_and_tls_options() {
        let a = fetch(&[
            "-u", "me:s:e", "--cacert", "ca.pem", "--cert", "c", "--key", "k", "u",
        ]);
        assert_eq!(a.user, Some(("me".into(), "s:e".into())));
        assert_eq!(a.cacert, Some("ca.pem".into()));
        assert_eq!(a.cert, Some("c".into()));
        assert_eq!(a.key, Some("k".into()));
        assert_eq!(
            fetch(&["-u", "solo", "u"]).user,
            Some(("solo".into(), "".into()))
        );
        assert!(err(&["--key", "k", "u"]).contains("--cert"));
    }

    #[test]
    fn proxy_options() {
        let a = fetch(&["u"]);
        assert_eq!((a.proxy, a.noproxy, a.proxy_user), (None, None, None));
        let a = fetch(&["-x", "p:3128", "--noproxy", "a,b", "-U", "pu:p:w", "u"]);
        assert_eq!(a.proxy.as_deref(), Some("p:3128"));
        assert_eq!(a.noproxy.as_deref(), Some("a,b"));
        assert_eq!(a.proxy_user, Some(("pu".into(), "p:w".into())));
        let a = fetch(&["--proxy", "", "--proxy-user", "solo", "u"]);
        assert_eq!(a.proxy.as_deref(), Some(""));
        assert_eq!(a.proxy_user, Some(("solo".into(), "".into())));
        assert!(err(&["u", "-x"]).contains("-x"));
        assert!(err(&["u", "--noproxy"]).contains("--noproxy"));
    }

    #[test]
    fn resolve() {
        let r = parse_resolve("Example.com:443:127.0.0.1").unwrap();
        assert_eq!(r.host, "example.com");
        assert_eq!(r.port, 443);
        assert_eq!(
            r.mapping(),
            ("example.com:443".into(), "127.0.0.1:443".into())
        );
        let r = parse_resolve("h:80:[::1]").unwrap();
        assert_eq!(r.mapping(), ("h:80".into(), "[::1]:80".into()));
        assert_eq!(
            parse_resolve("h:80:::1").unwrap().addr,
            "::1".parse::<IpAddr>().unwrap()
        );
        for bad in [
            "h",
            "h:80",
            "h:x:1.2.3.4",
            ":80:1.2.3.4",
            "h:80:not-an-ip",
            "h:70000:1.1.1.1",
        ] {
            assert!(parse_resolve(bad).is_err(), "{bad}");
        }
        assert_eq!(fetch(&["--resolve", "a:1:1.2.3.4", "u"]).resolve.len(), 1);
        assert_eq!(
            fetch(&["--dns-servers", "10.0.0.1,[::1]:5353", "u"]).dns_servers,
            Some(vec![
                "10.0.0.1:53".parse().unwrap(),
                "[::1]:5353".parse().unwrap()
            ])
        );
        assert!(err(&["--dns-servers", "dns.example", "u"]).contains("--dns-servers"));
        assert!(err(&["--resolve", "nonsense", "u"]).contains("--resolve"));
    }

    #[test]
    fn misc_flags() {
        let a = fetch(&["--raw", "--compressed", "-v", "-s", "-f", "-A", "me/1", "u"]);
        assert!(a.raw && a.verbose && a.silent && a.fail);
        assert_eq!(a.user_agent.as_deref(), Some("me/1"));
        let a = fetch(&["--", "-weird-url"]);
        assert_eq!(a.urls, ["http://-weird-url"]);
        let a = fetch(&["localhost:8080/x", "https://h/"]);
        assert_eq!(a.urls, ["http://localhost:8080/x", "https://h/"]);
    }

    #[test]
    fn a_scheme_is_prepended_only_when_there_is_none() {
        for (given, taken) in [
            ("localhost:8080/x", "http://localhost:8080/x"),
            ("127.0.0.1:80", "http://127.0.0.1:80"),
            ("example.com", "http://example.com"),
            ("h/p?u=http://x", "http://h/p?u=http://x"),
            ("[::1]:8080/", "http://[::1]:8080/"),
            // A scheme squall knows, with or without an authority: left for the URL parser
            // (no host -> malformed URL, exit 3), never read as a host named "http".
            ("http:/x", "http:/x"),
            ("http:x", "http:x"),
            ("HTTP:/x", "HTTP:/x"),
            ("https:/x", "https:/x"),
            ("Https://h/", "Https://h/"),
            ("http:", "http:"),
            // Another scheme followed by ":/" stays (unsupported scheme, exit 1).
            ("file:/etc/passwd", "file:/etc/passwd"),
            ("ftp://h/", "ftp://h/"),
        ] {
            assert_eq!(with_scheme(given.to_string()), taken, "{given}");
        }
        let a = fetch(&["-w", "%{http_code}\\n", "u"]);
        assert!(a.write_out.is_some());
    }

    #[test]
    fn bench() {
        let b = match parse(["bench", "http://x/"]).unwrap() {
            Command::Bench(b) => b,
            c => panic!("{c:?}"),
        };
        assert_eq!(b.requests, Some(DEFAULT_BENCH_REQUESTS));
        assert_eq!(b.concurrency, 1);
        assert_eq!(b.duration, None);
        assert!(!b.no_keepalive && !b.insecure);
        let b = match parse([
            "bench",
            "-n",
            "5",
            "-c",
            "64",
            "-k",
            "--cacert",
            "ca",
            "--no-keepalive",
            "u",
        ])
        .unwrap()
        {
            Command::Bench(b) => b,
            c => panic!("{c:?}"),
        };
        assert_eq!(b.requests, Some(5));
        assert_eq!(b.concurrency, 64);
        assert!(b.insecure && b.no_keepalive);
        assert_eq!(b.cacert, Some("ca".into()));
        let b = match parse(["bench", "-d", "0.5", "u"]).unwrap() {
            Command::Bench(b) => b,
            c => panic!("{c:?}"),
        };
        assert_eq!(b.requests, None);
        assert_eq!(b.duration, Some(Duration::from_millis(500)));
        for bad in [
            &["bench"][..],
            &["bench", "-n", "0", "u"],
            &["bench", "-c", "0", "u"],
            &["bench", "-d", "0", "u"],
            &["bench", "-d", "x", "u"],
            &["bench", "u", "v"],
            &["bench", "-X", "u"],
        ] {
            assert!(parse(bad.iter().copied()).is_err(), "{bad:?}");
        }
    }
}
