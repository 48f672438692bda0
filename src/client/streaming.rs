//! Pull-style bodies: [`StreamingResponse`], what `fetch_streaming` returns.
//!
//! The head is in; the body is still on the socket. Each `chunk().await` reads just enough to
//! return the next decoded piece, so a consumer that stops asking stops the transfer (TCP flow
//! control pushes back on the server) and memory stays flat however large the body. The
//! fetch's slot and connection are held until the body ends (the connection then goes back to
//! the pool) or the response is dropped (the connection is closed). `request_timeout` still
//! bounds the whole fetch, body included.
//!
//! What the response says about itself (status, headers, effective URL, redirects, hops) is
//! the [`ResponseMeta`] it shares with [`HttpResponse`](super::HttpResponse), reached as
//! `response.code` through `Deref` as there (the [`response`](super::response) module says
//! why).

use std::rc::Rc;
use std::time::{Duration, Instant};

use super::ClientState;
use super::deadline::{FetchClock, until};
use super::error::HttpError;
use super::fetch::Answer;
use super::queue::FetchSlot;
use super::reader::BodyReader;
use super::response::{ResponseMeta, TimeInfo};

/// A response whose body is read piece by piece with [`chunk`](StreamingResponse::chunk).
///
/// The status, headers, URL, redirects and hops are in [`meta`](StreamingResponse::meta) and
/// read through it as fields of the response: `response.code`, `response.headers` (see
/// [`ResponseMeta`]).
pub struct StreamingResponse {
    /// Status, reason, version, headers, effective URL, history, hops: also reachable as
    /// `response.code` and so on.
    pub meta: ResponseMeta,
    inner: Rc<ClientState>,
    reader: BodyReader,
    slot: Option<FetchSlot>,
    ctx: FetchClock,
    received: u64,
    ended_at: Option<Instant>,
}

impl std::fmt::Debug for StreamingResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamingResponse")
            .field("code", &self.code)
            .field("reason", &self.reason)
            .field(
                "effective_url",
                &crate::http::url::redact_userinfo(&self.effective_url),
            )
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for StreamingResponse {
    type Target = ResponseMeta;
    fn deref(&self) -> &ResponseMeta {
        &self.meta
    }
}

impl std::ops::DerefMut for StreamingResponse {
    fn deref_mut(&mut self) -> &mut ResponseMeta {
        &mut self.meta
    }
}

impl StreamingResponse {
    pub(crate) fn new(
        inner: Rc<ClientState>,
        a: Answer,
        slot: FetchSlot,
        ctx: FetchClock,
    ) -> StreamingResponse {
        let hops = ctx.hops.borrow_mut().take();
        StreamingResponse {
            meta: ResponseMeta::new(a.head, a.url, a.history, hops),
            inner,
            reader: a.reader,
            slot: Some(slot),
            ctx,
            received: 0,
            ended_at: None,
        }
    }

    /// The next piece of the (decoded) body, `Ok(None)` at its end. Nothing is read from the
    /// socket until this is called.
    pub async fn chunk(&mut self) -> Result<Option<Vec<u8>>, HttpError> {
        let mut out = Vec::new();
        loop {
            if self.reader.is_done() {
                self.end();
                return Ok(None);
            }
            if self.inner.closed.get() {
                self.reader.abort();
                self.end();
                return Err(HttpError::closed());
            }
            let ctx = &self.ctx;
            let step = self.reader.read_into(&self.inner, &mut out);
            let more = match until(ctx.deadline, step, || ctx.timeout_error())
                .await
                .and_then(|r| r)
            {
                Ok(more) => more,
                Err(mut e) => {
                    self.reader.abort();
                    self.end();
                    e.set_request_time(self.ctx.start.elapsed());
                    e.set_time_info(self.time_info());
                    return Err(e);
                }
            };
            if !more {
                self.end();
            }
            if !out.is_empty() {
                self.received += out.len() as u64;
                return Ok(Some(out));
            }
            if !more {
                return Ok(None);
            }
        }
    }

    fn end(&mut self) {
        self.slot = None;
        if self.ended_at.is_none() {
            self.ended_at = Some(Instant::now());
        }
    }

    /// Reads the rest of the body into one buffer.
    pub async fn read_to_end(&mut self) -> Result<Vec<u8>, HttpError> {
        let mut all = Vec::new();
        while let Some(c) = self.chunk().await? {
            all.extend_from_slice(&c);
        }
        Ok(all)
    }

    /// Decoded body bytes returned so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Where the time went so far (`total` runs to now, or to the end of the body).
    pub fn time_info(&self) -> TimeInfo {
        let mut t = *self.ctx.timing.borrow();
        t.first_byte = self
            .reader
            .first_byte_at()
            .map(|f| f.saturating_duration_since(self.ctx.start))
            .unwrap_or_default();
        t.total = self.ended_at.unwrap_or_else(Instant::now) - self.ctx.start;
        t
    }

    /// From `fetch_streaming()` to now.
    pub fn request_time(&self) -> Duration {
        self.ctx.start.elapsed()
    }
}
