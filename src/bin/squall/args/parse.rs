//! The option loop: which option sets which field of [`FetchArgs`] or [`BenchArgs`], and the
//! checks that need the whole command line (a URL given, `-I` without a body, no more `-o`
//! than URLs, `--key` with `--cert`).
//!
//! Values are checked by [`values`](super::values) as they are read; the argument bytes are
//! kept as given where curl keeps them (`-d`, `-H`, `-A` are bytes, not UTF-8).

use std::ffi::OsString;
use std::path::PathBuf;

use lexopt::prelude::*;

use super::values::{
    check_method, parse_count, parse_header, parse_resolve, parse_secs, parse_size, with_scheme,
};
use super::{BenchArgs, Command, DEFAULT_BENCH_REQUESTS, DataSource, FetchArgs, Usage, usage};
use crate::writeout::WriteOut;

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
