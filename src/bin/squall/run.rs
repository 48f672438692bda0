//! `squall [OPTIONS] URL...`: the transfers, on one IoLoop and one AsyncHttpClient.
//!
//! Every URL is fetched with `fetch_streaming`, so a body is never held whole: each decoded
//! piece goes straight to stdout or to its `-o` file as it arrives. With `-P N`, N URLs are in
//! flight at once on the shared client (keep-alive connections are reused across URLs of the
//! same host), yet stdout shows them in command-line order: the URL at the head of the line
//! streams to stdout, later ones buffer until their turn ([`Output`]). The exit code is that
//! of the first failing URL in command-line order.

use std::cell::{Cell, RefCell};
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::path::Path;
use std::rc::Rc;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use squall::client::{NoProxy, ProxyRules, StreamingResponse, TimeInfo};
use squall::http::headers::HttpHeaders;
use squall::http::response::{ResponseHead, Version};
use squall::http::url::{Url, remove_dot_segments};
use squall::ioloop::LoopTrace;
use squall::{AsyncHttpClient, HttpError, HttpRequest, IoLoop};

use crate::args::{DataSource, FetchArgs};
use crate::exit;
use crate::progress::{Progress, REDRAW_EVERY};
use crate::writeout::Info;

/// Run the transfers; returns the process exit code.
pub fn run(args: FetchArgs) -> u8 {
    let body = match read_body(&args) {
        Ok(b) => b,
        Err(msg) => {
            eprintln!("squall: {msg}");
            return exit::READ;
        }
    };
    if let Some(w) = &args.write_out {
        for name in w.unknown() {
            eprintln!("squall: warning: unknown --write-out variable: '{name}'");
        }
    }
    let to_stdout = (0..args.urls.len()).any(|i| args.output_for(i).is_none());
    let bar =
        !args.silent && io::stderr().is_terminal() && !(to_stdout && io::stdout().is_terminal());
    let n = args.urls.len();
    let io_loop = IoLoop::current();
    if let Some(path) = &args.trace_loop {
        match File::create(path) {
            Ok(f) => drop(io_loop.set_trace(Some(LoopTrace::chrome_json(BufWriter::new(f))))),
            Err(e) => {
                eprintln!(
                    "squall: cannot write the loop trace to {}: {e}",
                    path.display()
                );
                return exit::WRITE;
            }
        }
    }
    let ctx = Rc::new(Ctx {
        out: RefCell::new(Output::new(n)),
        ui: Ui::new(bar, n),
        body: body.map(Rc::new),
        args,
    });
    let code = io_loop.run_sync(fetch_all(ctx));
    // Dropping the trace writes its closing bracket and flushes the file.
    drop(io_loop.set_trace(None));
    code
}

/// The `-d` / `--json` body: the parts joined (`&` between `-d` parts), files and stdin read
/// now, before anything is sent. An unreadable file is exit 26.
fn read_body(args: &FetchArgs) -> Result<Option<Vec<u8>>, String> {
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

struct Ctx {
    args: FetchArgs,
    body: Option<Rc<Vec<u8>>>,
    out: RefCell<Output>,
    ui: Ui,
}

async fn fetch_all(ctx: Rc<Ctx>) -> u8 {
    let args = &ctx.args;
    let n = args.urls.len();
    let p = args.parallel.min(n).max(1);
    let mut builder = AsyncHttpClient::builder()
        .max_clients(p)
        .max_per_host(p.max(6));
    for r in &args.resolve {
        let (from, to) = r.mapping();
        builder = builder.hostname_mapping(&from, &to);
    }
    let say: Option<crate::dnslog::Say> = args.verbose.then(|| {
        let ui = ctx.ui.state.clone();
        Rc::new(move |t: &str| Ui::message_on(&ui, t)) as crate::dnslog::Say
    });
    let resolver = crate::dnslog::resolver(args.dns_servers.as_deref(), say);
    let client = builder
        .resolver(resolver)
        .proxies(proxy_rules(args))
        .build();
    let ticker = ctx.ui.enabled().then(|| {
        let ctx = ctx.clone();
        squall::ioloop::spawn(async move {
            loop {
                squall::ioloop::sleep(REDRAW_EVERY).await;
                ctx.ui.tick();
            }
        })
    });
    // A URL that never completes (its task died) keeps code 1.
    let codes: Rc<RefCell<Vec<u8>>> = Rc::new(RefCell::new(vec![exit::UNSUPPORTED; n]));
    if p == 1 {
        for i in 0..n {
            let c = transfer(&ctx, &client, i).await;
            codes.borrow_mut()[i] = c;
        }
    } else {
        let next = Rc::new(Cell::new(0usize));
        let workers: Vec<_> = (0..p)
            .map(|_| {
                let (ctx, client, next, codes) =
                    (ctx.clone(), client.clone(), next.clone(), codes.clone());
                squall::ioloop::spawn(async move {
                    loop {
                        let i = next.get();
                        if i >= n {
                            break;
                        }
                        next.set(i + 1);
                        let c = transfer(&ctx, &client, i).await;
                        codes.borrow_mut()[i] = c;
                    }
                })
            })
            .collect();
        for w in workers {
            if w.await.is_err() {
                eprintln!("squall: internal error: a transfer task failed");
            }
        }
    }
    if let Some(t) = ticker {
        t.cancel();
    }
    ctx.ui.finish();
    client.close();
    let flushed = ctx.out.borrow_mut().flush();
    let codes = codes.borrow();
    let out = ctx.out.borrow();
    let mut first = exit::OK;
    for (i, &c) in codes.iter().enumerate() {
        let c = if c == exit::OK && out.write_failed(i) {
            exit::WRITE
        } else {
            c
        };
        if c != exit::OK {
            first = c;
            break;
        }
    }
    if first == exit::OK && flushed.is_err() {
        first = exit::WRITE;
    }
    first
}

/// curl's proxy options: `-x URL` for every URL (`-x ""` for none) instead of the
/// environment's proxies, `--noproxy` instead of `no_proxy`/`NO_PROXY` (which apply to `-x`
/// too, as in curl), and `-U` for any proxy without userinfo of its own.
fn proxy_rules(a: &FetchArgs) -> ProxyRules {
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

fn build_request(ctx: &Ctx, i: usize, log: &Arc<Mutex<HeadLog>>) -> HttpRequest {
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
    if a.verbose {
        // The first request head is shown as it is sent; later ones (redirect hops, retries)
        // wait for the answer, so that each shows after the response head that caused it.
        let ui = Arc::downgrade(&ctx.ui.state);
        let log = log.clone();
        req = req.request_head_callback(move |head: &[u8]| {
            let mut l = lock(&log);
            l.sent.push(head.to_vec());
            if l.sent.len() == 1 {
                l.shown = 1;
                let text = prefixed_lines("> ", head);
                match ui.upgrade() {
                    Some(s) => Ui::message_on(&s, &text),
                    None => eprint!("{text}"),
                }
            }
        });
    }
    if a.verbose || a.include || a.head {
        // S-22: the header callback also sees the 1xx heads before the final one, which the
        // response itself does not keep; -i and -v print them as curl does.
        let log = log.clone();
        req = req.header_callback(move |line: &str| lock(&log).line(line));
    }
    req
}

/// What the callbacks of one transfer saw: the request heads sent (-v) and the response
/// heads reported by the header callback (the 1xx heads of the final hop, then the final
/// head).
#[derive(Default)]
struct HeadLog {
    sent: Vec<Vec<u8>>,
    /// How many of `sent` are on stderr already.
    shown: usize,
    received: Vec<Vec<u8>>,
    partial: Vec<u8>,
}

impl HeadLog {
    fn line(&mut self, line: &str) {
        self.partial.extend(latin1_bytes(line));
        if line == "\r\n" {
            self.received.push(std::mem::take(&mut self.partial));
        }
    }

    /// The 1xx heads, as the header callback gave them (the last head it gave is the final
    /// one, printed from the response instead).
    fn interim(&self) -> Vec<u8> {
        let n = self.received.len().saturating_sub(1);
        self.received[..n].concat()
    }

    /// The -v text still owed for a transfer that ended: the request heads not shown yet,
    /// each after the redirect head that caused it, then `last` (the 1xx and final heads).
    fn verbose_rest(&mut self, history: &[Vec<u8>], last: &[u8]) -> String {
        let groups = hops(&self.sent, history.len());
        let mut text = String::new();
        let mut k = 0;
        for (hop, group) in groups.iter().enumerate() {
            if let Some(h) = hop.checked_sub(1).and_then(|k| history.get(k)) {
                text.push_str(&prefixed_lines("< ", h));
            }
            for &j in group {
                if j >= self.shown {
                    text.push_str(&prefixed_lines("> ", &self.sent[j]));
                }
                k = k.max(j + 1);
            }
        }
        for h in history.iter().skip(groups.len().saturating_sub(1)) {
            text.push_str(&prefixed_lines("< ", h));
        }
        self.shown = self.shown.max(k);
        text.push_str(&prefixed_lines("< ", last));
        text
    }
}

/// Splits the request heads sent into hops: `redirects + 1` of them when that fits, a repeat
/// of the same bytes counting as a retry of the same hop (the client retries a request once
/// on a fresh connection when a reused one was found closed). When the count cannot be made
/// to fit, every head is its own hop (order kept, nothing dropped).
fn hops(sent: &[Vec<u8>], redirects: usize) -> Vec<Vec<usize>> {
    let mut extra = sent.len().saturating_sub(redirects + 1);
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (j, head) in sent.iter().enumerate() {
        let retry = extra > 0 && j > 0 && sent[j - 1] == *head;
        match groups.last_mut() {
            Some(g) if retry => {
                g.push(j);
                extra -= 1;
            }
            _ => groups.push(vec![j]),
        }
    }
    groups
}

/// `%{url_effective}` as curl prints it: the URL that was fetched with its scheme in lower
/// case, `/` for an empty path (the origin-form sent, RFC 9112 §3.2.1), the port as a plain
/// number and the dot segments removed (RFC 3986 §6.2.2), the rest (case, percent-encoding,
/// fragment) as given. The library's effective URL is the caller's own string when nothing
/// was followed (Tornado's rule); a URL that does not parse is shown as given.
fn effective_url(url: &str) -> String {
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

/// Received text is latin-1 decoded into chars: back to the bytes that came.
fn latin1_bytes(s: &str) -> impl Iterator<Item = u8> + '_ {
    s.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
}

/// cli.md: an error is one line on stderr, `squall: <message>`. Messages name the URL; any
/// line break or other control character inside one (a multi-address connect failure, text
/// from the server) is shown as a space so the line stays one line.
fn error_line(url: &str, message: &str) -> String {
    let one: String = format!("{url}: {message}")
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("squall: {one}\n")
}

/// `> ` / `< ` before every line of a head (CRLF dropped), as curl -v prints them.
fn prefixed_lines(prefix: &str, head: &[u8]) -> String {
    if head.is_empty() {
        return String::new();
    }
    let text = String::from_utf8_lossy(head);
    let mut s = String::new();
    for line in text.split("\r\n") {
        s.push_str(prefix);
        s.push_str(line);
        s.push('\n');
    }
    // A head ends with an empty line: split gives one more empty piece after it.
    if text.ends_with("\r\n") {
        s.truncate(s.len() - prefix.len() - 1);
    }
    s
}

fn version_text(v: &Version) -> &'static str {
    match v {
        Version::Http10 => "HTTP/1.0",
        _ => "HTTP/1.1",
    }
}

fn version_number(v: &Version) -> &'static str {
    match v {
        Version::Http10 => "1.0",
        _ => "1.1",
    }
}

/// A head as `-i` prints it: status line, fields, empty line, CRLF endings.
fn head_bytes(version: &Version, code: u16, reason: &str, headers: &HttpHeaders) -> Vec<u8> {
    // RFC 9112 §4: status-code = 3DIGIT, so a received 099 prints as 099.
    let mut s = format!("{} {code:03} {reason}\r\n", version_text(version));
    for (name, value) in headers.iter() {
        s.push_str(name);
        s.push_str(": ");
        s.push_str(value);
        s.push_str("\r\n");
    }
    s.push_str("\r\n");
    // Received values are latin-1 decoded into chars; write them back as bytes.
    latin1_bytes(&s).collect()
}

/// The final head's fields as the server sent them. When the client decodes a body it
/// moves `Content-Encoding` to `X-Consumed-Content-Encoding` (Tornado's API); what `-i`, `-v`
/// and `-w %header{...}` show is the wire's name (as curl --compressed shows it), at the end
/// of the head since the library keeps no position for it.
fn received_headers(headers: &HttpHeaders, decoding: bool) -> HttpHeaders {
    const CONSUMED: &str = "X-Consumed-Content-Encoding";
    if !decoding || !headers.contains(CONSUMED) || headers.contains("Content-Encoding") {
        return headers.clone();
    }
    let mut out = HttpHeaders::new();
    for (name, value) in headers.iter() {
        if name.eq_ignore_ascii_case(CONSUMED) {
            out.add("Content-Encoding", value);
        } else {
            out.add(name, value);
        }
    }
    out
}

fn history_heads(history: &[ResponseHead]) -> Vec<Vec<u8>> {
    history
        .iter()
        .map(|h| head_bytes(&h.version, h.code, &h.reason, &h.headers))
        .collect()
}

fn fill_times(info: &mut Info, t: &TimeInfo) {
    info.time_namelookup = t.queue + t.dns;
    info.time_connect = t.queue + t.dns + t.connect;
    info.time_appconnect = if t.tls.is_zero() {
        Duration::ZERO
    } else {
        info.time_connect + t.tls
    };
    info.time_starttransfer = t.first_byte;
}

/// Where one URL's body goes.
enum Sink {
    Stdout,
    File(BufWriter<File>),
}

/// A failure of one transfer: exit code and message.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn from_http(e: &HttpError, fail: bool) -> Failure {
        Failure {
            code: exit::for_error(e.kind(), fail, e.code()),
            message: e.to_string(),
        }
    }

    fn write(what: &str, e: &io::Error) -> Failure {
        Failure {
            code: exit::WRITE,
            message: format!("could not write {what}: {e}"),
        }
    }
}

/// One URL, start to end: returns its exit code. Its output (heads, body, -w) goes through
/// `ctx.out` in the URL's slot; its error line goes to stderr at once.
async fn transfer(ctx: &Ctx, client: &AsyncHttpClient, i: usize) -> u8 {
    let a = &ctx.args;
    let started = Instant::now();
    let mut info = Info {
        url: a.urls[i].clone(),
        url_effective: effective_url(&a.urls[i]),
        method: a.effective_method().to_string(),
        ..Info::default()
    };
    let log = Arc::new(Mutex::new(HeadLog::default()));
    let result = match client.fetch_streaming(build_request(ctx, i, &log)).await {
        Ok(mut resp) => receive(ctx, i, &mut resp, &mut info, &log).await,
        Err(e) => {
            if a.verbose {
                // Whatever was sent is shown, with the heads of the failed answer if any
                // (too many redirects: the chain and its last 3xx).
                let text = match e.response() {
                    Some(r) => lock(&log).verbose_rest(
                        &history_heads(&r.history),
                        &head_bytes(&r.version, r.code, &r.reason, &r.headers),
                    ),
                    None => lock(&log).verbose_rest(&[], &[]),
                };
                ctx.ui.message(&text);
            }
            let mut failure = Failure::from_http(&e, a.fail);
            if let Some(r) = e.response() {
                info.http_code = r.code;
                info.http_version = Some(version_number(&r.version));
                info.url_effective = effective_url(&r.effective_url);
                info.num_redirects = r.history.len();
                info.headers = r
                    .headers
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect();
                fill_times(&mut info, &r.time_info);
                // Too many redirects: curl -i -L has printed the heads it got by then.
                let mut heads = history_heads(&r.history).concat();
                heads.extend(head_bytes(&r.version, r.code, &r.reason, &r.headers));
                info.size_header = heads.len() as u64;
                if (a.include || a.head)
                    && let Err(f) = write_heads(ctx, i, &heads)
                {
                    failure.message = format!("{}; {}", failure.message, f.message);
                }
            }
            Err(failure)
        }
    };
    info.time_total = started.elapsed();
    let code = match result {
        Ok(()) => exit::OK,
        Err(f) => {
            info.error = f.message.clone();
            if f.code != exit::OK {
                ctx.ui.message(&error_line(&a.urls[i], &f.message));
            }
            f.code
        }
    };
    info.exit_code = i32::from(code);
    let mut out = ctx.out.borrow_mut();
    if let Some(w) = &a.write_out {
        out.write_stdout(i, &w.render(&info));
    }
    out.finish(i);
    ctx.ui.done(i);
    code
}

async fn receive(
    ctx: &Ctx,
    i: usize,
    resp: &mut StreamingResponse,
    info: &mut Info,
    log: &Mutex<HeadLog>,
) -> Result<(), Failure> {
    let a = &ctx.args;
    let shown = received_headers(&resp.headers, !a.raw);
    info.http_code = resp.code;
    info.http_version = Some(version_number(&resp.version));
    info.url_effective = effective_url(&resp.effective_url);
    info.num_redirects = resp.history.len();
    info.headers = shown
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    fill_times(info, &resp.time_info());
    // Every head, in the order received: the followed redirects, the 1xx heads of the final
    // hop (the client reports no 1xx heads of redirect hops), the final head.
    let history = history_heads(&resp.history);
    let mut last = lock(log).interim();
    last.extend(head_bytes(&resp.version, resp.code, &resp.reason, &shown));
    let mut heads = history.concat();
    heads.extend_from_slice(&last);
    info.size_header = heads.len() as u64;
    if a.verbose {
        let text = lock(log).verbose_rest(&history, &last);
        ctx.ui.message(&text);
    }
    // -f: the body of a failure status is never written; its head still is with -i / -I
    // (as curl -f -i prints it), so the output file only opens for that.
    let show_heads = a.include || a.head;
    let failed = (a.fail && exit::is_failure_status(resp.code)).then(|| Failure {
        code: exit::HTTP_FAIL,
        message: format!("HTTP {:03}: {}", resp.code, resp.reason),
    });
    if !show_heads && let Some(f) = failed {
        return Err(f);
    }
    let mut sink = match a.output_for(i) {
        None => Sink::Stdout,
        Some(path) => match open_output(path) {
            Ok(f) => Sink::File(f),
            Err(e) => {
                return Err(Failure::write(
                    &format!("output file '{}'", path.display()),
                    &e,
                ));
            }
        },
    };
    let file_name = a.output_for(i).map(|p| p.display().to_string());
    let write = |sink: &mut Sink, data: &[u8]| -> Result<(), Failure> {
        match sink {
            Sink::Stdout => ctx.out.borrow_mut().write_stdout(i, data),
            Sink::File(f) => f.write_all(data).map_err(|e| {
                Failure::write(
                    &format!("output file '{}'", file_name.as_deref().unwrap_or("")),
                    &e,
                )
            })?,
        }
        if matches!(sink, Sink::Stdout) && ctx.out.borrow().write_failed(i) {
            return Err(Failure {
                code: exit::WRITE,
                message: "could not write to stdout".to_string(),
            });
        }
        Ok(())
    };
    if show_heads {
        write(&mut sink, &heads)?;
    }
    if let Some(f) = failed {
        if let Sink::File(mut file) = sink {
            file.flush().map_err(|e| {
                Failure::write(
                    &format!("output file '{}'", file_name.as_deref().unwrap_or("")),
                    &e,
                )
            })?;
        }
        return Err(f);
    }
    ctx.ui.started(i, expected_size(resp, a.effective_method()));
    loop {
        match resp.chunk().await {
            Ok(Some(data)) => {
                info.size_download += data.len() as u64;
                ctx.ui.bytes(data.len() as u64);
                write(&mut sink, &data)?;
            }
            Ok(None) => break,
            Err(e) => {
                fill_times(info, &resp.time_info());
                if let Sink::File(f) = &mut sink {
                    let _ = f.flush();
                }
                return Err(Failure::from_http(&e, a.fail));
            }
        }
    }
    fill_times(info, &resp.time_info());
    if let Sink::File(mut f) = sink {
        f.flush().map_err(|e| {
            Failure::write(
                &format!("output file '{}'", file_name.as_deref().unwrap_or("")),
                &e,
            )
        })?;
    }
    Ok(())
}

/// The heads of a failed transfer, to its stdout slot or its `-o` file.
fn write_heads(ctx: &Ctx, i: usize, heads: &[u8]) -> Result<(), Failure> {
    match ctx.args.output_for(i) {
        None => {
            ctx.out.borrow_mut().write_stdout(i, heads);
            Ok(())
        }
        Some(path) => open_output(path)
            .and_then(|mut f| {
                f.write_all(heads)?;
                f.flush()
            })
            .map_err(|e| Failure::write(&format!("output file '{}'", path.display()), &e)),
    }
}

fn open_output(path: &Path) -> io::Result<BufWriter<File>> {
    Ok(BufWriter::with_capacity(16 * 1024, File::create(path)?))
}

/// The body size to expect, for the progress bar: Content-Length when the body is not decoded.
fn expected_size(resp: &StreamingResponse, method: &str) -> Option<u64> {
    if method.eq_ignore_ascii_case("HEAD")
        || matches!(resp.code, 204 | 304)
        || resp.headers.contains("X-Consumed-Content-Encoding")
    {
        return None;
    }
    resp.headers.get("Content-Length")?.trim().parse().ok()
}

/// stdout in command-line order. The URL at the head of the line writes straight through;
/// the others buffer until every URL before them has finished.
struct Output {
    stdout: io::Stdout,
    head: usize,
    slots: Vec<Slot>,
    broken: bool,
}

#[derive(Default)]
struct Slot {
    buf: Vec<u8>,
    done: bool,
    write_failed: bool,
}

impl Output {
    fn new(n: usize) -> Output {
        Output {
            stdout: io::stdout(),
            head: 0,
            slots: (0..n).map(|_| Slot::default()).collect(),
            broken: false,
        }
    }

    fn put(&mut self, i: usize, data: &[u8]) {
        if self.broken {
            self.slots[i].write_failed = true;
            return;
        }
        if self.stdout.write_all(data).is_err() {
            self.broken = true;
            self.slots[i].write_failed = true;
        }
    }

    /// URL `i` writes `data` to stdout (now, or when its turn comes).
    fn write_stdout(&mut self, i: usize, data: &[u8]) {
        if i == self.head {
            self.put(i, data);
        } else {
            self.slots[i].buf.extend_from_slice(data);
        }
    }

    fn write_failed(&self, i: usize) -> bool {
        self.slots[i].write_failed
    }

    /// URL `i` is complete: when it is the head, pass the turn on, flushing what later URLs
    /// buffered meanwhile.
    fn finish(&mut self, i: usize) {
        self.slots[i].done = true;
        if i != self.head {
            return;
        }
        let _ = self.stdout.flush();
        while self.head < self.slots.len() && self.slots[self.head].done {
            self.head += 1;
            if self.head < self.slots.len() {
                let buf = std::mem::take(&mut self.slots[self.head].buf);
                let h = self.head;
                self.put(h, &buf);
            }
        }
    }

    /// The end: anything still buffered (behind a URL whose task died) goes out in order.
    fn flush(&mut self) -> io::Result<()> {
        while self.head < self.slots.len() {
            let buf = std::mem::take(&mut self.slots[self.head].buf);
            let h = self.head;
            self.put(h, &buf);
            self.head += 1;
        }
        if self.broken {
            return Err(io::Error::other("stdout is closed"));
        }
        self.stdout.flush()
    }
}

/// Takes a lock shared with a request callback (callbacks must be `Send`, so what they share
/// with the transfer sits in an `Arc<Mutex<_>>`; everything runs on the loop's thread).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The progress bar and every stderr line written while it may be on screen.
struct Ui {
    state: Arc<Mutex<UiState>>,
}

struct UiState {
    enabled: bool,
    bar: Progress,
    drawn: bool,
    bytes: u64,
    totals: Vec<Option<u64>>,
    started: Vec<bool>,
    done: usize,
}

impl Ui {
    fn new(enabled: bool, n: usize) -> Ui {
        Ui {
            state: Arc::new(Mutex::new(UiState {
                enabled,
                bar: Progress::new(Instant::now(), ""),
                drawn: false,
                bytes: 0,
                totals: vec![None; n],
                started: vec![false; n],
                done: 0,
            })),
        }
    }

    fn enabled(&self) -> bool {
        lock(&self.state).enabled
    }

    fn message(&self, text: &str) {
        Ui::message_on(&self.state, text);
    }

    /// A line (or lines) on stderr: the bar is wiped first and redrawn at the next tick.
    fn message_on(state: &Mutex<UiState>, text: &str) {
        let mut s = lock(state);
        let mut err = io::stderr().lock();
        if s.drawn {
            let _ = err.write_all(b"\r\x1b[K");
            s.drawn = false;
        }
        let _ = err.write_all(text.as_bytes());
    }

    fn started(&self, i: usize, total: Option<u64>) {
        let mut s = lock(&self.state);
        s.started[i] = true;
        s.totals[i] = total;
        drop(s);
        self.tick();
    }

    fn bytes(&self, n: u64) {
        let mut s = lock(&self.state);
        s.bytes += n;
        if s.enabled {
            drop(s);
            self.tick();
        }
    }

    fn done(&self, i: usize) {
        let mut s = lock(&self.state);
        s.done += 1;
        if !s.started[i] {
            s.started[i] = true;
            s.totals[i] = Some(0);
        }
    }

    fn total(s: &UiState) -> Option<u64> {
        if s.started.iter().all(|&b| b) {
            s.totals.iter().try_fold(0u64, |acc, t| t.map(|t| acc + t))
        } else {
            None
        }
    }

    fn label(s: &UiState) -> String {
        if s.totals.len() > 1 {
            format!("[{}/{}]", s.done, s.totals.len())
        } else {
            String::new()
        }
    }

    fn tick(&self) {
        let mut s = lock(&self.state);
        if !s.enabled {
            return;
        }
        let (bytes, total, label) = (s.bytes, Ui::total(&s), Ui::label(&s));
        s.bar.set_label(label);
        if let Some(line) = s.bar.update(Instant::now(), bytes, total) {
            s.drawn = true;
            let _ = io::stderr().lock().write_all(line.as_bytes());
        }
    }

    fn finish(&self) {
        let mut s = lock(&self.state);
        if !s.enabled || (s.bytes == 0 && !s.drawn) {
            return;
        }
        let (bytes, total, label) = (s.bytes, Ui::total(&s), Ui::label(&s));
        s.bar.set_label(label);
        let line = s.bar.finish(Instant::now(), bytes, total);
        s.drawn = false;
        let _ = io::stderr().lock().write_all(line.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn verbose_prefixes() {
        assert_eq!(
            prefixed_lines("> ", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            "> GET / HTTP/1.1\n> Host: x\n> \n"
        );
    }

    #[test]
    fn an_error_is_one_line() {
        assert_eq!(
            error_line("http://h/", "Timeout during request"),
            "squall: http://h/: Timeout during request\n"
        );
        assert_eq!(
            error_line("http://h/", "a:\n b\r\n\tc"),
            "squall: http://h/: a:  b   c\n"
        );
    }

    #[test]
    fn request_heads_group_into_hops() {
        let h = |s: &str| s.as_bytes().to_vec();
        let (a, b, c) = (
            h("GET /a\r\n\r\n"),
            h("GET /b\r\n\r\n"),
            h("GET /c\r\n\r\n"),
        );
        assert_eq!(hops(&[], 0), Vec::<Vec<usize>>::new());
        assert_eq!(hops(std::slice::from_ref(&a), 0), [vec![0]]);
        assert_eq!(
            hops(&[a.clone(), b.clone(), c.clone()], 2),
            [vec![0], vec![1], vec![2]]
        );
        // A retry repeats the same bytes: same hop.
        assert_eq!(
            hops(&[a.clone(), a.clone(), b.clone()], 1),
            [vec![0, 1], vec![2]]
        );
        // A redirect to the same URL repeats them too: a hop of its own when the count says so.
        assert_eq!(hops(&[a.clone(), a.clone()], 1), [vec![0], vec![1]]);
        // A failure after a redirect: nothing to fit, nothing merged unless equal.
        assert_eq!(hops(&[a.clone(), b.clone()], 0), [vec![0], vec![1]]);
    }

    #[test]
    fn verbose_interleaves_requests_and_responses_per_hop() {
        let mut log = HeadLog {
            sent: vec![
                b"GET /a HTTP/1.1\r\n\r\n".to_vec(),
                b"GET /b HTTP/1.1\r\n\r\n".to_vec(),
            ],
            shown: 1, // the first one went out as it was sent
            ..HeadLog::default()
        };
        for l in [
            "HTTP/1.1 100 Continue\r\n",
            "\r\n",
            "HTTP/1.1 200 OK\r\n",
            "\r\n",
        ] {
            log.line(l);
        }
        let mut last = log.interim();
        assert_eq!(last, b"HTTP/1.1 100 Continue\r\n\r\n");
        last.extend_from_slice(b"HTTP/1.1 200 OK\r\nX: y\r\n\r\n");
        let history = [b"HTTP/1.1 302 Found\r\nLocation: /b\r\n\r\n".to_vec()];
        assert_eq!(
            log.verbose_rest(&history, &last),
            "< HTTP/1.1 302 Found\n< Location: /b\n< \n\
             > GET /b HTTP/1.1\n> \n\
             < HTTP/1.1 100 Continue\n< \n\
             < HTTP/1.1 200 OK\n< X: y\n< \n"
        );
        // Nothing is shown twice.
        assert_eq!(log.verbose_rest(&[], &[]), "");
    }

    #[test]
    fn heads_print_as_on_the_wire() {
        let mut h = HttpHeaders::new();
        h.add("Content-Type", "text/plain");
        h.add("X-Latin", "caf\u{e9}");
        assert_eq!(
            head_bytes(&Version::Http11, 200, "OK", &h),
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Latin: caf\xe9\r\n\r\n"
        );
        assert_eq!(
            head_bytes(&Version::Http10, 404, "Not Found", &HttpHeaders::new()),
            b"HTTP/1.0 404 Not Found\r\n\r\n"
        );
        assert_eq!(
            head_bytes(&Version::Http11, 99, "Odd", &HttpHeaders::new()),
            b"HTTP/1.1 099 Odd\r\n\r\n"
        );
    }
}
