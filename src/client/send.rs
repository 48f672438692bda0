//! Sending one hop's request and waiting for its response head.
//!
//! The head is serialised by the sans-IO core (`http::request::write_head`) into the
//! connection's write buffer, in one place ([`write_request_head`]), where the
//! `request_head_callback` sees it; a small body is appended so head and body leave in one
//! write, a larger one follows in a second (vectored) write, a `body_producer` is run by the
//! exchange. Then the heads are read: interim (1xx) ones are kept, the final one ends this
//! step. Two things make this more than "write, then read":
//!
//! - **`expect_100_continue`** (R-34): the body waits for the server's `100`, for a final
//!   answer (which is then the answer: the body is never sent and the connection is not
//!   reused, R-33), or for [`CONTINUE_WAIT`] of silence, as curl does.
//! - **Early answers**: a server that refuses a body (413, 401...) often answers at once and
//!   closes without reading the rest, so our write fails. Its answer may be waiting in the
//!   socket and says more than "connection reset": [`answered_early`] takes it.
//!
//! What comes back is the final head, or a [`Failure`] that says whether the request may be
//! retried on another connection. `fetch` decides what to do with either.

use std::time::{Duration, Instant};

use super::deadline::FetchClock;
use super::error::{self, ErrorKind, HttpError};
use super::exchange::{Exchange, Failure, HeadPhase};
use super::hops::Interim;
use super::prepare::{Body, Prepared};
use crate::http::request::{BodyFraming, write_head};
use crate::http::response::{HeadEvent, ResponseHead};

/// Bodies up to this size are copied behind the head and sent with it in one write.
const COALESCE_BODY: usize = 64 * 1024;

/// How long `expect_100_continue` waits for the server before sending the body anyway.
const CONTINUE_WAIT: Duration = Duration::from_secs(1);

/// One hop's request on `ex`, up to the final response head; interim (1xx) heads on the way
/// are pushed to `interim`.
pub(crate) async fn send_and_read_head(
    ex: &mut Exchange<HeadPhase>,
    req: &Prepared,
    ctx: &FetchClock,
    interim: &mut Vec<ResponseHead>,
) -> Result<ResponseHead, Failure> {
    let has_body = !matches!(req.hop.body, Body::None);
    let expect = req.hop.expect_continue && has_body;
    write_request_head(ex, req, ctx)?;
    let interim = &mut Interim::new(interim, &ctx.hops);
    let sent = match &req.hop.body {
        Body::Bytes(b) if !expect && b.len() <= COALESCE_BODY => {
            ex.append_to_request(b);
            ex.send_request(&[]).await
        }
        Body::Bytes(b) if !expect => ex.send_request(b).await,
        _ => ex.send_request(&[]).await,
    };
    if let Err(f) = sent {
        return answered_early(ex, interim, f).await;
    }
    if expect && let Continue::Final(head) = wait_continue(ex, interim).await? {
        // The server answered without wanting the body: it is the answer, and the
        // connection (which still owes a body by its framing) is not reused.
        ex.close_after();
        return Ok(head);
    }
    let sent = match &req.hop.body {
        Body::Bytes(b) if expect => ex.write(b).await,
        Body::Producer(p) => ex.produce(p, req.hop.producer_length).await,
        _ => Ok(()),
    };
    if let Err(f) = sent {
        return answered_early(ex, interim, f).await;
    }
    ex.request_sent();
    read_final_head(ex, interim).await
}

/// Serialises the request head into the connection's write buffer (not yet sent) and shows
/// it to the hop's record (and so to `request_head_callback`): the one place a hop's head is
/// written.
fn write_request_head(
    ex: &mut Exchange<HeadPhase>,
    req: &Prepared,
    ctx: &FetchClock,
) -> Result<(), HttpError> {
    let framing = match &req.hop.body {
        Body::None => BodyFraming::None,
        Body::Bytes(b) => BodyFraming::Length(b.len() as u64),
        Body::Producer(_) => match req.hop.producer_length {
            Some(n) => BodyFraming::Length(n),
            None => BodyFraming::Chunked,
        },
    };
    let host = req.hop.url.host_header();
    let out = ex.start_request();
    match &req.hop.proxy {
        // Plain http through a proxy: absolute-form, and the proxy's credentials
        // (https goes through a CONNECT tunnel and looks direct from here).
        Some(proxy) if req.hop.url.scheme() == "http" => {
            let target = req.hop.url.absolute_form();
            let mut headers = req.hop.headers.clone();
            if let Some(auth) = &proxy.auth {
                headers.set("Proxy-Authorization", auth);
            }
            write_head(&req.hop.method, &target, &host, &headers, framing, out)
        }
        _ => {
            let target = req.hop.url.path_and_query();
            write_head(
                &req.hop.method,
                &target,
                &host,
                &req.hop.headers,
                framing,
                out,
            )
        }
    }
    .map_err(error::request_error)?;
    // The hop's record, request_head_callback and hop_callback (hops.rs).
    ctx.hops.borrow_mut().sent(req, ex.request())?;
    Ok(())
}

/// Reads heads up to the final one; interim ones go to `interim` (and the hop's record).
async fn read_final_head(
    ex: &mut Exchange<HeadPhase>,
    interim: &mut Interim<'_>,
) -> Result<ResponseHead, Failure> {
    loop {
        match ex.next_head().await? {
            HeadEvent::Interim(h) => interim.push(h)?,
            HeadEvent::Final(h) => return Ok(h),
        }
    }
}

/// What the server said while the body waited for its `100 Continue`.
enum Continue {
    /// `100`, or silence for [`CONTINUE_WAIT`]: send the body.
    Send,
    /// A final answer: the body is not wanted.
    Final(ResponseHead),
}

async fn wait_continue(
    ex: &mut Exchange<HeadPhase>,
    interim: &mut Interim<'_>,
) -> Result<Continue, Failure> {
    let give_up = Instant::now() + CONTINUE_WAIT;
    loop {
        match crate::ioloop::timeout_at(give_up, ex.next_head()).await {
            Err(_) => return Ok(Continue::Send),
            Ok(Err(f)) => return Err(f),
            Ok(Ok(HeadEvent::Interim(h))) => {
                let is_continue = h.code == 100;
                interim.push(h)?;
                if is_continue {
                    return Ok(Continue::Send);
                }
            }
            Ok(Ok(HeadEvent::Final(h))) => return Ok(Continue::Final(h)),
        }
    }
}

/// The request could not be sent whole. A server that refuses a body often answers at once
/// (413, 401...) and closes without reading the rest, and our writes then fail; its answer may
/// still be waiting in the socket, and it says more than "connection reset". Take it if it is
/// there (the connection is not reused); otherwise report the write failure.
async fn answered_early(
    ex: &mut Exchange<HeadPhase>,
    interim: &mut Interim<'_>,
    failure: Failure,
) -> Result<ResponseHead, Failure> {
    if failure.error.kind() != &ErrorKind::Reset || ex.got_bytes() {
        return Err(failure);
    }
    ex.close_after();
    match crate::ioloop::timeout(CONTINUE_WAIT, read_final_head(ex, interim)).await {
        Ok(Ok(head)) => Ok(head),
        _ => Err(failure),
    }
}
