//! The life of one fetch, hop by hop (the driver behind `AsyncHttpClient::fetch`).
//!
//! 1. The request is merged with the client's defaults and checked (`request::prepare`, in
//!    the prologue `fetch` and `fetch_streaming` share); a bad one fails there, before any I/O.
//! 2. The fetch takes a `max_clients` slot, or waits in the FIFO queue for one (bounded by
//!    `min(connect_timeout, request_timeout)` from `fetch()`: `Timeout in request queue`).
//! 3. Each hop takes a connection from the pool (an idle one, or the right to open one, or a
//!    wait for the host's limit), opens it if needed ([`super::connect`]), sends the request and
//!    reads the response head ([`super::send`], over an [`Exchange`] in its head phase). An idempotent request that fails on a
//!    reused connection before any response byte is retried once on a new connection: the
//!    server may have closed the idle connection just as we sent.
//! 4. A redirect's body is drained (so the connection can be reused), the request is rewritten
//!    ([`super::redirect`]) and the next hop starts — in the same slot.
//! 5. The final body is read (decoded, bounded by `max_body_size`), the connection goes back to
//!    the pool if it may be kept, and the response is built.
//!
//! All of it runs inside the caller's future: no task is spawned, no thread touched (DNS
//! aside). One deadline — `request_timeout` from `fetch()` — covers every step; when it fires,
//! the error names the phase the fetch was in. Dropping the future at any point drops the
//! connection (closing it) and the slot (waking the next fetch in line).

use std::time::Instant;

use super::ClientState;
use super::callback::{call_async_stream, call_data_cb, send_head_lines};
use super::deadline::{FetchClock, Phase, earliest, until};
use super::error::{ErrorKind, HttpError};
use super::exchange::{BodyPhase, Exchange};
use super::open;
use super::pool::{Grant, PoolKey};
use super::prepare::{Body, Prepared};
use super::queue::FetchSlot;
use super::reader::{BodyReader, reserve_for};
use super::redirect::{self, Decision, RedirectError};
use super::request::{HttpRequest, StreamSink};
use super::response::{HttpResponse, ResponseMeta};
use super::send::send_and_read_head;
use crate::http::decode::Coding;
use crate::http::response::{Limits, ResponseHead};

/// Waits for a `max_clients` slot (Q-02..Q-05).
pub(crate) async fn take_slot(
    inner: &ClientState,
    req: &Prepared,
    ctx: &FetchClock,
) -> Result<FetchSlot, HttpError> {
    if let Some(s) = inner.slots.try_acquire() {
        return Ok(s);
    }
    ctx.set_phase(Phase::Queue);
    let queue_deadline = earliest(
        req.opts.connect_timeout.map(|d| ctx.start + d),
        ctx.deadline,
    );
    let slot = until(queue_deadline, inner.slots.acquire(), || {
        Phase::Queue.timeout_error()
    })
    .await?;
    ctx.timing.borrow_mut().queue = Instant::now() - ctx.start;
    Ok(slot)
}

fn pool_key(req: &Prepared) -> PoolKey {
    let https = req.hop.url.scheme() == "https";
    PoolKey {
        https,
        host: req.hop.url.host().to_string(),
        port: req.hop.url.port(),
        tls: if https {
            Some(req.opts.tls.clone())
        } else {
            None
        },
        bind: req.opts.bind,
        proxy: req.hop.proxy.clone(),
    }
}

fn idempotent(method: &str) -> bool {
    matches!(
        method,
        "GET" | "HEAD" | "PUT" | "DELETE" | "OPTIONS" | "TRACE"
    )
}

/// The parser's limits. The parser (which sees wire bytes) gets no body limit: `max_body_size`
/// counts decoded bytes, and only the client knows whether a body will be decoded, answered
/// or drained (a followed redirect's body over the limit is skipped, not an error: D-16, also
/// with decompression off). [`BodyReader`](super::reader::BodyReader) and `check_declared_length` apply it.
pub(crate) fn limits(inner: &ClientState, _req: &Prepared) -> Limits {
    Limits {
        max_head_bytes: inner.config.max_header_size,
        max_body: None,
        ..Limits::default()
    }
}

/// S-18: a declared length over the limit is refused before any body byte is read.
fn check_declared_length(ex: &Exchange<BodyPhase>, max: Option<u64>) -> Result<(), HttpError> {
    if let (Some(max), Some(len)) = (max, ex.declared_length())
        && len > max
        && ex.expects_body()
    {
        return Err(HttpError::new(
            ErrorKind::BodyTooLarge,
            format!("Content-Length too long ({len} bytes; max_body_size is {max})"),
        ));
    }
    Ok(())
}

/// One hop up to the final response head: a connection, the request, the head.
/// Returns the exchange (in its body phase), the head and any 1xx heads.
async fn run_hop(
    inner: &ClientState,
    req: &Prepared,
    ctx: &FetchClock,
) -> Result<(Exchange<BodyPhase>, ResponseHead, Vec<ResponseHead>), HttpError> {
    let key = pool_key(req);
    let mut allow_idle = true;
    let replayable = !matches!(req.hop.body, Body::Producer(_));
    let retry_safe = replayable && idempotent(&req.hop.method);
    loop {
        // A request that must not be replayed takes a pooled connection only once a close
        // that followed its last response would have arrived, and after a non-blocking read
        // of its socket said "nothing here" (no EOF, no stray bytes).
        if !retry_safe
            && allow_idle
            && let Some(at) = inner.pool.settle_at(&key)
        {
            crate::ioloop::sleep_until(at).await;
        }
        let checkout = inner.pool.checkout(key.clone(), allow_idle, !retry_safe);
        ctx.set_phase(Phase::Queue);
        let grant = checkout.await;
        let (conn, reused) = match grant {
            Grant::Conn(c) => (c, true),
            Grant::Open(permit) => {
                // Boxed: opening a connection is the rare path with the largest future
                // (DNS, happy eyeballs, TLS); keeping it out of line keeps every fetch's
                // state machine small.
                (
                    Box::pin(open::connection(inner, req, ctx, permit)).await?,
                    false,
                )
            }
        };
        ctx.set_phase(Phase::Request);
        ctx.hops.borrow_mut().connected(conn.peer, reused);
        let mut ex = Exchange::new(
            conn,
            &req.hop.method,
            limits(inner, req),
            req.opts.idle_timeout,
            inner.config.max_read,
        );
        let mut interim = Vec::new();
        match send_and_read_head(&mut ex, req, ctx, &mut interim).await {
            Ok(head) => {
                ctx.hops.borrow_mut().answered(&head)?;
                return Ok((ex.into_body(), head, interim));
            }
            Err(f) => {
                ctx.hops.borrow_mut().failed(&f.error);
                if reused && allow_idle && f.before_response && retry_safe {
                    allow_idle = false;
                    continue;
                }
                return Err(f.error);
            }
        }
    }
}

/// Reads and drops a body nobody will see (a followed redirect's, D-16) so the connection can
/// be reused. It is read only within `max_body_size`: a longer one (declared or counted), or
/// one that breaks off, is not worth the wait — the connection is closed instead and the
/// redirect is followed all the same, since its head is all that matters.
async fn drain(inner: &ClientState, ex: Exchange<BodyPhase>, prep: &Prepared) {
    if check_declared_length(&ex, prep.opts.max_body_size).is_err() {
        return; // dropping the exchange closes the connection
    }
    let mut reader = BodyReader::new(
        ex,
        Coding::Identity,
        prep.opts.max_body_size,
        prep.opts.conn_close,
    );
    let mut sink = Vec::new();
    while let Ok(true) = reader.read_into(inner, &mut sink).await {
        sink.clear();
    }
}

/// A final response head with its body still to read.
pub(crate) struct Answer {
    pub head: ResponseHead,
    pub reader: BodyReader,
    pub history: Vec<ResponseHead>,
    pub url: String,
}

/// Steps 2 to 4 of the module docs: slot, hops, redirects. The slot comes back with the
/// answer so a streaming response keeps it until its body is read.
pub(crate) async fn run_to_answer(
    inner: &ClientState,
    prep: &mut Prepared,
    ctx: &FetchClock,
    original: &HttpRequest,
) -> Result<(Answer, FetchSlot), HttpError> {
    let slot = take_slot(inner, prep, ctx).await?;
    let mut history: Vec<ResponseHead> = Vec::new();
    let mut hops = 0u32;
    loop {
        let (ex, mut head, interim) = run_hop(inner, prep, ctx).await?;
        if head.code == 417 && prep.hop.expect_continue {
            // RFC 9110 §10.1.1: a server that refuses the expectation gets the request again
            // without it (the body was never sent). Not a redirect: no hop is counted.
            drain(inner, ex, prep).await;
            prep.hop.expect_continue = false;
            prep.hop.headers.remove("Expect");
            continue;
        }
        let location = redirect::location(prep, head.code, &head.headers)?;
        match redirect::decide(prep, head.code, location, hops) {
            Ok(Decision::Follow(target)) => {
                // D-16: the redirect's body is drained (within max_body_size) so the
                // connection can be reused; it is never decoded or streamed.
                drain(inner, ex, prep).await;
                redirect::apply(prep, head.code, target)?;
                history.push(head);
                hops += 1;
            }
            Ok(Decision::Answer) => {
                // Every Content-Encoding line counts: two lines are a list, which passes
                // through undecoded like the one-line form (C-05, RFC 9110 §8.4). A response
                // without content (HEAD, 204, 304) has nothing to decode and keeps its head
                // as received.
                let coding = if prep.opts.decompress && ex.expects_body() {
                    Coding::from_headers(&head.headers)
                } else {
                    Coding::Identity
                };
                if coding != Coding::Identity {
                    // Every line moves (`identity` + `gzip` on two lines is decoded too).
                    let lines: Vec<String> = head
                        .headers
                        .get_all("Content-Encoding")
                        .map(str::to_string)
                        .collect();
                    head.headers.remove("Content-Encoding");
                    for v in &lines {
                        head.headers.add("X-Consumed-Content-Encoding", v);
                    }
                }
                if let Some(cb) = &prep.opts.header_callback {
                    for h in &interim {
                        send_head_lines(cb, h)?;
                    }
                    send_head_lines(cb, &head)?;
                }
                if coding == Coding::Identity {
                    check_declared_length(&ex, prep.opts.max_body_size)?;
                }
                let reader =
                    BodyReader::new(ex, coding, prep.opts.max_body_size, prep.opts.conn_close);
                let url = effective_url(original, prep, &history);
                return Ok((
                    Answer {
                        head,
                        reader,
                        history,
                        url,
                    },
                    slot,
                ));
            }
            Err(RedirectError::Target(e)) => return Err(e),
            Err(RedirectError::TooMany) => {
                let max = prep.opts.max_redirects;
                let reader = BodyReader::new(
                    ex,
                    Coding::Identity,
                    prep.opts.max_body_size,
                    prep.opts.conn_close,
                );
                let url = effective_url(original, prep, &history);
                let answer = Answer {
                    head,
                    reader,
                    history,
                    url,
                };
                let resp = Box::pin(read_whole(inner, answer, ctx, None, None)).await?;
                let err = HttpError::new(
                    ErrorKind::TooManyRedirects,
                    format!("Maximum ({max}) redirects followed"),
                );
                return Err(err.with_response(resp));
            }
        }
    }
}

/// S-42: the request's URL as given when nothing was followed, else the last hop's.
fn effective_url(original: &HttpRequest, prep: &Prepared, history: &[ResponseHead]) -> String {
    if history.is_empty() {
        original.url.clone()
    } else {
        let mut url = prep.hop.url.to_string();
        if let Some(f) = &prep.hop.fragment {
            url.push('#');
            url.push_str(f);
        }
        url
    }
}

/// Reads the whole body of `a` and builds the response (status not judged here).
async fn read_whole(
    inner: &ClientState,
    mut a: Answer,
    ctx: &FetchClock,
    streaming: Option<&StreamSink>,
    max_body: Option<u64>,
) -> Result<Box<HttpResponse>, HttpError> {
    let mut body = Vec::new();
    if streaming.is_none()
        && let Some(n) = a
            .head
            .headers
            .get("Content-Length")
            .and_then(|v| v.trim().parse::<u64>().ok())
    {
        // A hint, not a promise: if even this is refused, the body grows as it arrives.
        let _ = body.try_reserve(reserve_for(n, max_body));
    }
    loop {
        let more = a.reader.read_into(inner, &mut body).await?;
        if !body.is_empty() {
            match streaming {
                None => {}
                Some(StreamSink::Sync(cb)) => {
                    call_data_cb(cb, &body)?;
                    body.clear();
                }
                Some(StreamSink::Async(cb)) => {
                    let piece = std::mem::take(&mut body);
                    if let Err(e) = call_async_stream(cb, piece).await {
                        a.reader.abort();
                        return Err(e);
                    }
                }
            }
        }
        if !more {
            break;
        }
    }
    let time_info = ctx.time_info(a.reader.first_byte_at());
    // Boxed from here on: the response travels up through several layers of `Result`.
    let hops = ctx.hops.borrow_mut().take();
    Ok(Box::new(HttpResponse {
        meta: ResponseMeta::new(a.head, a.url, a.history, hops),
        body,
        // Filled in by `fetch` once the work is done: the caller's request is moved in,
        // not cloned.
        request: HttpRequest::default(),
        request_time: time_info.total,
        start_time: ctx.start_time,
        time_info,
        error: None,
    }))
}

/// Attaches the status error of a non-2xx response (S-40); fails with it under `raise_error`.
pub(crate) fn judge(
    mut resp: Box<HttpResponse>,
    raise_error: bool,
) -> Result<Box<HttpResponse>, HttpError> {
    if (200..300).contains(&resp.code) {
        return Ok(resp);
    }
    if raise_error {
        return Err(status_error(resp));
    }
    resp.error = Some(Box::new(HttpError::http(resp.code, &resp.reason, None)));
    Ok(resp)
}

/// The status error of a non-2xx response (`HTTP 404: Not Found`), carrying the response,
/// which carries the error too.
fn status_error(mut resp: Box<HttpResponse>) -> HttpError {
    let err = HttpError::http(resp.code, &resp.reason, None);
    resp.error = Some(Box::new(err.clone()));
    err.with_response(resp)
}

/// The whole buffered fetch (inside the deadline and close guards).
pub(crate) async fn fetch_buffered(
    inner: &ClientState,
    prep: &mut Prepared,
    ctx: &FetchClock,
    original: &HttpRequest,
) -> Result<Box<HttpResponse>, HttpError> {
    let (answer, _slot) = run_to_answer(inner, prep, ctx, original).await?;
    let cb = prep.opts.streaming_callback.as_ref();
    let resp = read_whole(inner, answer, ctx, cb, prep.opts.max_body_size).await?;
    judge(resp, prep.opts.raise_error)
}

/// A streaming fetch up to its answer (inside the deadline and close guards). A non-2xx
/// answer under `raise_error` is read whole and becomes the status error carrying it.
pub(crate) async fn fetch_streamed(
    inner: &ClientState,
    prep: &mut Prepared,
    ctx: &FetchClock,
    original: &HttpRequest,
) -> Result<(Answer, FetchSlot), HttpError> {
    let (answer, slot) = run_to_answer(inner, prep, ctx, original).await?;
    if prep.opts.raise_error && !(200..300).contains(&answer.head.code) {
        let resp = read_whole(inner, answer, ctx, None, None).await?;
        return Err(status_error(resp));
    }
    Ok((answer, slot))
}
