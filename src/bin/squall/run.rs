//! `squall [OPTIONS] URL...`: the transfers, on one IoLoop and one AsyncHttpClient.
//!
//! Every URL is fetched with `fetch_streaming`, so a body is never held whole: each decoded
//! piece goes straight to stdout or to its `-o` file as it arrives. With `-P N`, N URLs are in
//! flight at once on the shared client (keep-alive connections are reused across URLs of the
//! same host), yet stdout shows them in command-line order: the URL at the head of the line
//! streams to stdout, later ones buffer until their turn ([`Output`]). The exit code is that
//! of the first failing URL in command-line order.
//!
//! This file is one transfer's course ([`transfer`], [`receive`]) and the scheduling of them
//! all; the pieces it drives live beside it: [`request`] turns the options into an
//! `HttpRequest`, [`heads`] prints the heads (`-i`, `-v`), [`output`] keeps stdout in
//! command-line order, and [`progress`] owns stderr (the bar and the lines that interrupt it).

mod heads;
mod output;
mod progress;
mod request;

use std::cell::{Cell, RefCell};
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::Path;
use std::rc::Rc;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use squall::client::{ResponseMeta, StreamingResponse, TimeInfo};
use squall::ioloop::LoopTrace;
use squall::{AsyncHttpClient, HttpError, IoLoop};

use crate::args::FetchArgs;
use crate::exit;
use crate::writeout::{Info, effective_url};
use heads::{final_head, received, version_number};
use output::Output;
use progress::{REDRAW_EVERY, Ui};
use request::{build_request, proxy_rules, read_body};

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
    let ctx = Rc::new(RunContext {
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

/// What every transfer shares: the options, the body read once, stdout and stderr.
struct RunContext {
    args: FetchArgs,
    /// The `-d` / `--json` body, sent to every URL.
    body: Option<Rc<Vec<u8>>>,
    out: RefCell<Output>,
    ui: Ui,
}

async fn fetch_all(ctx: Rc<RunContext>) -> u8 {
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

/// What `-w` takes from a response's metadata: the final status, URL, redirects, the address
/// it came from, and the final head's fields as read (a decoded body's `Content-Encoding`
/// included, as curl --compressed shows it).
fn fill_meta(info: &mut Info, meta: &ResponseMeta) {
    info.http_code = meta.code;
    info.http_version = Some(version_number(&meta.version));
    info.url_effective = effective_url(&meta.effective_url);
    info.num_redirects = meta.history.len();
    info.remote = meta.peer();
    let headers = final_head(&meta.hops).map_or(&meta.headers, |h| &h.headers);
    info.headers = headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
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
async fn transfer(ctx: &RunContext, client: &AsyncHttpClient, i: usize) -> u8 {
    let a = &ctx.args;
    let started = Instant::now();
    let mut info = Info {
        url: a.urls[i].clone(),
        url_effective: effective_url(&a.urls[i]),
        method: a.effective_method().to_string(),
        ..Info::default()
    };
    let peer = Arc::new(Mutex::new(None));
    let result = match client.fetch_streaming(build_request(ctx, i, &peer)).await {
        Ok(mut resp) => receive(ctx, i, &mut resp, &mut info).await,
        Err(e) => {
            // -v has shown the hops as they went (too many redirects: the chain and its
            // last 3xx); the address is that of the last request written, if any.
            info.remote = *lock(&peer);
            let mut failure = Failure::from_http(&e, a.fail);
            if let Some(r) = e.response() {
                fill_meta(&mut info, r);
                fill_times(&mut info, &r.time_info);
                // Too many redirects: curl -i -L has printed the heads it got by then.
                let heads = received(&r.hops);
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
    ctx: &RunContext,
    i: usize,
    resp: &mut StreamingResponse,
    info: &mut Info,
) -> Result<(), Failure> {
    let a = &ctx.args;
    fill_meta(info, resp);
    fill_times(info, &resp.time_info());
    // Every head, in the order received: each hop's 1xx heads, then its final head.
    let heads = received(&resp.hops);
    info.size_header = heads.len() as u64;
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
fn write_heads(ctx: &RunContext, i: usize, heads: &[u8]) -> Result<(), Failure> {
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

/// Takes a lock shared with a request callback (callbacks must be `Send`, so what they share
/// with the transfer sits in an `Arc<Mutex<_>>`; everything runs on the loop's thread).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
