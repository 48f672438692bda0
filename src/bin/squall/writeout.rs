//! The `-w` / `--write-out` format engine, as curl spells it.
//!
//! A format is parsed once into segments (literal bytes, `%{variable}`, `%header{name}`) and
//! rendered once per URL from a [`Info`] record that the transfer fills in, also after a
//! failure (then `http_code` is `000`). Escapes follow curl: `\n`, `\r`, `\t` become the
//! control character, any other backslash pair is written as is, `%%` is a percent sign, and an
//! unknown variable is reported once on stderr and renders as nothing.

use std::ffi::OsString;
use std::io::Read;
use std::net::SocketAddr;
use std::time::Duration;

use squall::http::url::{Url, remove_dot_segments};

use crate::args::Usage;

/// The variables `-w` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    /// `%{http_code}` / `%{response_code}`: three digits, 000 when there was no response.
    HttpCode,
    /// `%{http_version}`: 1.1, 1.0, or 0.
    HttpVersion,
    /// `%{url_effective}`: the last URL fetched (after redirects).
    UrlEffective,
    /// `%{url}`: the URL as given.
    Url,
    /// `%{num_redirects}`
    NumRedirects,
    /// `%{num_headers}`: fields in the final response head.
    NumHeaders,
    /// `%{size_download}`: body bytes delivered (decoded).
    SizeDownload,
    /// `%{size_header}`: bytes of the response heads.
    SizeHeader,
    /// `%{speed_download}`: bytes per second over the whole transfer.
    SpeedDownload,
    /// `%{content_type}`
    ContentType,
    /// `%{method}`
    Method,
    /// `%{scheme}`
    Scheme,
    /// `%{exitcode}`
    ExitCode,
    /// `%{errormsg}`
    ErrorMsg,
    /// `%{time_namelookup}`
    TimeNamelookup,
    /// `%{time_connect}`
    TimeConnect,
    /// `%{time_appconnect}`
    TimeAppconnect,
    /// `%{time_pretransfer}`
    TimePretransfer,
    /// `%{time_starttransfer}`
    TimeStarttransfer,
    /// `%{time_total}`
    TimeTotal,
    /// `%{remote_ip}`: the address the last request went to (the proxy's through an HTTP
    /// proxy), IPv6 without brackets; empty when no request was written.
    RemoteIp,
    /// `%{remote_port}`: its port; 0 when no request was written.
    RemotePort,
}

impl Var {
    /// A variable by name; names match in any case, as in curl (`%{HTTP_CODE}`).
    fn from_name(name: &str) -> Option<Var> {
        Some(match name.to_ascii_lowercase().as_str() {
            "http_code" | "response_code" => Var::HttpCode,
            "http_version" => Var::HttpVersion,
            "url_effective" => Var::UrlEffective,
            "url" => Var::Url,
            "num_redirects" => Var::NumRedirects,
            "num_headers" => Var::NumHeaders,
            "size_download" => Var::SizeDownload,
            "size_header" => Var::SizeHeader,
            "speed_download" => Var::SpeedDownload,
            "content_type" => Var::ContentType,
            "method" => Var::Method,
            "scheme" => Var::Scheme,
            "exitcode" => Var::ExitCode,
            "errormsg" => Var::ErrorMsg,
            "time_namelookup" => Var::TimeNamelookup,
            "time_connect" => Var::TimeConnect,
            "time_appconnect" => Var::TimeAppconnect,
            "time_pretransfer" => Var::TimePretransfer,
            "time_starttransfer" => Var::TimeStarttransfer,
            "time_total" => Var::TimeTotal,
            "remote_ip" => Var::RemoteIp,
            "remote_port" => Var::RemotePort,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Bytes(Vec<u8>),
    Var(Var),
    Header(String),
}

/// A parsed `-w` format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOut {
    segments: Vec<Segment>,
    unknown: Vec<String>,
}

/// What one URL's transfer produced, for `-w`.
#[derive(Debug, Clone, Default)]
pub struct Info {
    /// The final status code, 0 when no response arrived.
    pub http_code: u16,
    /// "1.1" / "1.0" of the final response, None without one.
    pub http_version: Option<&'static str>,
    /// The URL as given on the command line.
    pub url: String,
    /// The URL of the last request (after redirects).
    pub url_effective: String,
    /// Redirects followed.
    pub num_redirects: usize,
    /// The final head's fields, in order.
    pub headers: Vec<(String, String)>,
    /// Body bytes delivered (after decoding).
    pub size_download: u64,
    /// Bytes of all response heads (as `-i` prints them).
    pub size_header: u64,
    /// The request method.
    pub method: String,
    /// The exit code this URL ends with.
    pub exit_code: i32,
    /// The error message, empty on success.
    pub error: String,
    /// From the start to the end of name resolution.
    pub time_namelookup: Duration,
    /// From the start until the TCP connection was up.
    pub time_connect: Duration,
    /// From the start until TLS was up (0 for plain http).
    pub time_appconnect: Duration,
    /// From the start to the first response byte.
    pub time_starttransfer: Duration,
    /// The whole transfer.
    pub time_total: Duration,
    /// The address the last request was written to, None when none was.
    pub remote: Option<SocketAddr>,
}

impl Info {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn secs(d: Duration) -> String {
    format!("{:.6}", d.as_secs_f64())
}

impl WriteOut {
    /// Parse a format given on the command line: `@FILE` and `@-` read it from a file / stdin.
    pub fn from_arg(v: OsString) -> Result<WriteOut, Usage> {
        let s = v.to_string_lossy();
        let text = if s == "@-" {
            let mut t = String::new();
            std::io::stdin()
                .read_to_string(&mut t)
                .map_err(|e| Usage(format!("cannot read the -w format from stdin: {e}")))?;
            t
        } else if let Some(path) = s.strip_prefix('@') {
            std::fs::read_to_string(path)
                .map_err(|e| Usage(format!("cannot read the -w format file {path:?}: {e}")))?
        } else {
            s.into_owned()
        };
        Ok(WriteOut::parse(&text))
    }

    /// Parse a format string.
    pub fn parse(fmt: &str) -> WriteOut {
        let b = fmt.as_bytes();
        let mut segments = Vec::new();
        let mut unknown = Vec::new();
        let mut lit = Vec::new();
        let mut i = 0;
        let flush = |lit: &mut Vec<u8>, segments: &mut Vec<Segment>| {
            if !lit.is_empty() {
                segments.push(Segment::Bytes(std::mem::take(lit)));
            }
        };
        while i < b.len() {
            match b[i] {
                b'\\' if i + 1 < b.len() => {
                    match b[i + 1] {
                        b'n' => lit.push(b'\n'),
                        b'r' => lit.push(b'\r'),
                        b't' => lit.push(b'\t'),
                        other => lit.extend_from_slice(&[b'\\', other]),
                    }
                    i += 2;
                }
                b'%' if b.get(i + 1) == Some(&b'%') => {
                    lit.push(b'%');
                    i += 2;
                }
                b'%' if b.get(i + 1) == Some(&b'{') => match fmt[i + 2..].find('}') {
                    Some(end) => {
                        let name = &fmt[i + 2..i + 2 + end];
                        flush(&mut lit, &mut segments);
                        match Var::from_name(name) {
                            Some(v) => segments.push(Segment::Var(v)),
                            None => unknown.push(name.to_string()),
                        }
                        i += 2 + end + 1;
                    }
                    None => {
                        lit.extend_from_slice(&b[i..]);
                        i = b.len();
                    }
                },
                b'%' if fmt[i + 1..].starts_with("header{") => {
                    let start = i + 1 + "header{".len();
                    match fmt[start..].find('}') {
                        Some(end) => {
                            flush(&mut lit, &mut segments);
                            segments.push(Segment::Header(fmt[start..start + end].to_string()));
                            i = start + end + 1;
                        }
                        None => {
                            lit.extend_from_slice(&b[i..]);
                            i = b.len();
                        }
                    }
                }
                c => {
                    lit.push(c);
                    i += 1;
                }
            }
        }
        flush(&mut lit, &mut segments);
        WriteOut { segments, unknown }
    }

    /// Variables the format names that `-w` does not know (warned about once).
    pub fn unknown(&self) -> &[String] {
        &self.unknown
    }

    /// Render the format for one URL.
    pub fn render(&self, info: &Info) -> Vec<u8> {
        let mut out = Vec::new();
        for seg in &self.segments {
            match seg {
                Segment::Bytes(b) => out.extend_from_slice(b),
                Segment::Header(name) => {
                    if let Some(v) = info.header(name) {
                        out.extend_from_slice(v.as_bytes());
                    }
                }
                Segment::Var(v) => {
                    let s = match v {
                        Var::HttpCode => format!("{:03}", info.http_code),
                        Var::HttpVersion => info.http_version.unwrap_or("0").to_string(),
                        Var::UrlEffective => info.url_effective.clone(),
                        Var::Url => info.url.clone(),
                        Var::NumRedirects => info.num_redirects.to_string(),
                        Var::NumHeaders => info.headers.len().to_string(),
                        Var::SizeDownload => info.size_download.to_string(),
                        Var::SizeHeader => info.size_header.to_string(),
                        Var::SpeedDownload => {
                            let t = info.time_total.as_secs_f64();
                            let speed = if t > 0.0 {
                                (info.size_download as f64 / t) as u64
                            } else {
                                0
                            };
                            speed.to_string()
                        }
                        Var::ContentType => info.header("content-type").unwrap_or("").to_string(),
                        Var::Method => info.method.clone(),
                        Var::Scheme => {
                            let u = if info.url_effective.is_empty() {
                                &info.url
                            } else {
                                &info.url_effective
                            };
                            match u.split_once("://") {
                                Some((s, _)) => s.to_ascii_lowercase(),
                                None => String::new(),
                            }
                        }
                        Var::ExitCode => info.exit_code.to_string(),
                        Var::ErrorMsg => info.error.clone(),
                        Var::TimeNamelookup => secs(info.time_namelookup),
                        Var::TimeConnect => secs(info.time_connect),
                        Var::TimeAppconnect => secs(info.time_appconnect),
                        Var::TimePretransfer => secs(info.time_appconnect.max(info.time_connect)),
                        Var::TimeStarttransfer => secs(info.time_starttransfer),
                        Var::TimeTotal => secs(info.time_total),
                        Var::RemoteIp => {
                            info.remote.map(|a| a.ip().to_string()).unwrap_or_default()
                        }
                        Var::RemotePort => info.remote.map_or(0, |a| a.port()).to_string(),
                    };
                    out.extend_from_slice(s.as_bytes());
                }
            }
        }
        out
    }
}

/// `%{url_effective}` as curl prints it: the URL that was fetched with its scheme in lower
/// case, `/` for an empty path (the origin-form sent, RFC 9112 §3.2.1), the port as a plain
/// number and the dot segments removed (RFC 3986 §6.2.2), the rest (case, percent-encoding,
/// fragment) as given. The library's effective URL is the caller's own string when nothing
/// was followed (Tornado's rule); a URL that does not parse is shown as given.
pub fn effective_url(url: &str) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let Some((scheme, rest)) = base.split_once("://") else {
        return url.to_string();
    };
    if Url::parse(base).is_err() {
        return url.to_string();
    }
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (path, query) = match tail.find('?') {
        Some(q) => tail.split_at(q),
        None => (tail, ""),
    };
    // The port: after the last ':' of the host part (past any userinfo "@"), not inside an
    // IPv6 literal's brackets.
    let host_start = authority.rfind('@').map_or(0, |at| at + 1);
    let host_end = host_start + authority[host_start..].rfind(']').unwrap_or(0);
    let authority = match authority[host_end..].rfind(':').map(|c| host_end + c) {
        Some(colon) => {
            let digits = authority[colon + 1..].trim_start_matches('0');
            match (&authority[colon + 1..], digits) {
                ("", _) => authority[..colon].to_string(),
                (_, "") => format!("{}:0", &authority[..colon]),
                (_, d) => format!("{}:{d}", &authority[..colon]),
            }
        }
        None => authority.to_string(),
    };
    let path = if path.is_empty() {
        "/".to_string()
    } else {
        remove_dot_segments(path)
    };
    let mut s = format!("{}://{authority}{path}{query}", scheme.to_ascii_lowercase());
    if let Some(f) = fragment {
        s.push('#');
        s.push_str(f);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> Info {
        Info {
            http_code: 200,
            http_version: Some("1.1"),
            url: "http://h/a".into(),
            url_effective: "http://h/b".into(),
            num_redirects: 1,
            headers: vec![
                ("Content-Type".into(), "text/plain".into()),
                ("X-Thing".into(), "yes".into()),
            ],
            size_download: 1234,
            size_header: 77,
            method: "GET".into(),
            exit_code: 0,
            error: String::new(),
            time_namelookup: Duration::from_micros(10),
            time_connect: Duration::from_micros(1500),
            time_appconnect: Duration::ZERO,
            time_starttransfer: Duration::from_millis(20),
            time_total: Duration::from_secs(2),
            remote: Some("[::1]:8080".parse().unwrap()),
        }
    }

    fn render(fmt: &str, i: &Info) -> String {
        String::from_utf8(WriteOut::parse(fmt).render(i)).unwrap()
    }

    #[test]
    fn contract_variables() {
        let i = info();
        assert_eq!(render("%{http_code}", &i), "200");
        assert_eq!(render("%{url_effective}", &i), "http://h/b");
        assert_eq!(render("%{num_redirects}", &i), "1");
        assert_eq!(render("%{size_download}", &i), "1234");
        assert_eq!(render("%{content_type}", &i), "text/plain");
        assert_eq!(render("%{time_connect}", &i), "0.001500");
        assert_eq!(render("%{time_starttransfer}", &i), "0.020000");
        assert_eq!(render("%{time_total}", &i), "2.000000");
    }

    #[test]
    fn more_variables() {
        let i = info();
        assert_eq!(render("%{response_code} %{http_version}", &i), "200 1.1");
        assert_eq!(
            render("%{url} %{method} %{scheme}", &i),
            "http://h/a GET http"
        );
        assert_eq!(render("%{num_headers} %{size_header}", &i), "2 77");
        assert_eq!(render("%{speed_download}", &i), "617");
        assert_eq!(render("%{exitcode}[%{errormsg}]", &i), "0[]");
        assert_eq!(render("%header{x-thing}|%header{missing}|", &i), "yes||");
        assert_eq!(render("%{remote_ip} %{remote_port}", &i), "::1 8080");
        let v4 = Info {
            remote: Some("127.0.0.1:80".parse().unwrap()),
            ..info()
        };
        assert_eq!(render("%{remote_ip}:%{remote_port}", &v4), "127.0.0.1:80");
    }

    #[test]
    fn no_response_is_000() {
        let i = Info {
            url: "http://h/".into(),
            exit_code: 7,
            error: "refused".into(),
            ..Info::default()
        };
        assert_eq!(
            render(
                "%{http_code} %{content_type}|%{size_download} %{exitcode}",
                &i
            ),
            "000 |0 7"
        );
        assert_eq!(render("%{http_version}", &i), "0");
        assert_eq!(render("[%{remote_ip}] %{remote_port}", &i), "[] 0");
    }

    #[test]
    fn escapes_as_curl() {
        let i = info();
        assert_eq!(render("a\\nb\\tc\\rd", &i), "a\nb\tc\rd");
        assert_eq!(render("100%%", &i), "100%");
        assert_eq!(render("\\x \\\\", &i), "\\x \\\\");
        assert_eq!(render("trailing\\", &i), "trailing\\");
        assert_eq!(render("50% off %", &i), "50% off %");
        assert_eq!(render("%{http_code", &i), "%{http_code");
        assert_eq!(render("%{http_code}\\n", &i), "200\n");
        assert_eq!(render("é%{http_code}é", &i), "é200é");
    }

    #[test]
    fn unknown_variables_render_nothing() {
        let w = WriteOut::parse("a%{nope}b%{http_code}");
        assert_eq!(w.unknown(), ["nope"]);
        assert_eq!(String::from_utf8(w.render(&info())).unwrap(), "ab200");
    }

    #[test]
    fn effective_urls_are_normalised() {
        for (given, shown) in [
            ("http://h:8080", "http://h:8080/"),
            ("http://h?x=1#f", "http://h/?x=1#f"),
            ("HTTP://H/a/../b", "http://H/b"),
            ("http://u:p@h:08", "http://u:p@h:8/"),
            ("http://h/ok", "http://h/ok"),
            ("http://h/a b", "http://h/a b"),
            // Case and percent-encoding stay as given, as curl shows them.
            (
                "http://LocalHost/caf\u{e9}|x?Q=%41",
                "http://LocalHost/caf\u{e9}|x?Q=%41",
            ),
            ("http://[::1]:0080", "http://[::1]:80/"),
            ("http://h:/x", "http://h/x"),
            ("http://h:000/x", "http://h:0/x"),
            ("http://u:p@h/a/./b/../c?x/../y", "http://u:p@h/a/c?x/../y"),
            ("http://u:00p@h:01", "http://u:00p@h:1/"),
            ("http://u:00@h", "http://u:00@h/"),
        ] {
            assert_eq!(effective_url(given), shown, "{given}");
        }
    }
}
