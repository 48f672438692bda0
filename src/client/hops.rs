//! Each hop of a fetch, as it crossed the wire: [`Hop`], [`HopKind`], [`HopEvent`].
//!
//! One fetch may write several requests: a followed redirect is a new request, a `417` to
//! `Expect: 100-continue` repeats the request without the expectation, and an idempotent
//! request that finds its pooled connection closed is sent once more on a new connection.
//! Whoever shows the exchange (the `squall` binary's `-v`, `-i` and `-w`, a log, a test)
//! needs to know where one request ends and the next begins, what exactly was written, what
//! came back and from which address. This file keeps that record, one [`Hop`] per request
//! head written, and reports it twice:
//!
//! - live, through [`HttpRequest::hop_callback`]: [`HopEvent::Sent`] just before the head is
//!   written (so a `-v` reader sees it before any reply), then [`HopEvent::Interim`] as each
//!   1xx head is read (a `100 Continue` before the body goes) and [`HopEvent::Answered`] when
//!   the final head is;
//! - whole, on the response: [`ResponseMeta::hops`](super::response::ResponseMeta::hops),
//!   shared by [`HttpResponse`](super::HttpResponse) and
//!   [`StreamingResponse`](super::StreamingResponse) (and so also on the response a
//!   too-many-redirects error carries).
//!
//! The two older callbacks relate to it as follows. `request_head_callback` is the `Sent`
//! event reduced to the head's bytes: both are called from `HopLog::sent`, the old one
//! first. `header_callback` stays apart on purpose: it is Tornado's, and sees only the final
//! response (with its 1xx heads) line by line, with the headers as delivered
//! (`Content-Encoding` renamed when the body is decoded), once the answer is decided; a hop
//! records the heads as they were read.
//!
//! The engine calls one line at each step: `HopLog::connected` when a hop has its connection
//! (`fetch.rs`), `HopLog::sent` where the head is serialised (`send.rs`), `Interim::push`
//! where a 1xx head is read (`send.rs`), `HopLog::answered` when the hop's final head is in and
//! `HopLog::failed` when the hop breaks (`fetch.rs`). The log lives in the fetch's `FetchClock`
//! (`deadline.rs`) beside its timing, and the response takes it whole at the end.

use std::cell::RefCell;
use std::fmt::{self, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use super::callback::{call_data_cb, call_hop_cb};
use super::error::HttpError;
use super::prepare::Prepared;
use super::request::HttpRequest;
use crate::http::response::ResponseHead;

/// Why a hop's request was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HopKind {
    /// The request as the caller gave it (the first hop).
    Request,
    /// A followed redirect: the previous hop's response is the 3xx that caused it.
    Redirect,
    /// The previous hop's request, sent again on a new connection: the pooled connection it
    /// went out on was found closed before any byte of a response (only a request that is safe
    /// to send twice is retried; the previous hop's `error` says what happened).
    Retry,
    /// The previous hop's request, sent again without `Expect: 100-continue` after the server
    /// answered `417 Expectation Failed` (RFC 9110 §10.1.1).
    ExpectationFailed,
}

/// One request written and what came back to it.
///
/// `Debug` is safe to log: the URL's password is `<redacted>` and the request head (which may
/// hold credentials) is shown by its length only.
#[derive(Clone)]
#[non_exhaustive]
pub struct Hop {
    /// Why this request was written.
    pub kind: HopKind,
    /// The URL requested (after any redirect; without a fragment, which is never sent).
    pub url: String,
    /// The method sent.
    pub method: String,
    /// The address the request was written to: the server's, or the HTTP proxy's when the
    /// request went through one (as curl's `%{remote_ip}` and `%{remote_port}`).
    pub peer: SocketAddr,
    /// Whether the connection had carried a response before (it came from the pool).
    pub reused: bool,
    /// The request head exactly as written: request line, fields, empty line (no body).
    pub request_head: Vec<u8>,
    /// The interim (1xx) heads read before the final one, in order.
    pub interim: Vec<ResponseHead>,
    /// The final head as read (before any `Content-Encoding` is renamed for decoding); `None`
    /// when the hop broke before one arrived.
    pub response: Option<ResponseHead>,
    /// What broke the hop, when it did (a retried hop says why it was retried).
    pub error: Option<Box<HttpError>>,
}

impl fmt::Debug for Hop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hop")
            .field("kind", &self.kind)
            .field("url", &crate::http::url::redact_userinfo(&self.url))
            .field("method", &self.method)
            .field("peer", &self.peer)
            .field("reused", &self.reused)
            .field("request_head_len", &self.request_head.len())
            .field("interim", &self.interim)
            .field("response", &self.response)
            .field("error", &self.error)
            .finish()
    }
}

/// What just happened on a hop, for [`HttpRequest::hop_callback`]; the hop passed along is
/// the record so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HopEvent {
    /// The request head is about to be written: `hop.request_head` is set, nothing read yet.
    Sent,
    /// An interim (1xx) head was read: the last of `hop.interim`.
    Interim,
    /// The final head was read: `hop.response`.
    Answered,
}

/// Bytes reserved for a hop's URL, so that writing it takes one allocation.
const URL_ROOM: usize = 96;

/// The hop callback, shared and `Send` like the request's other callbacks.
pub(crate) type HopCallback = Arc<Mutex<dyn FnMut(HopEvent, &Hop) + Send>>;

impl HttpRequest {
    /// Called as each hop of the fetch crosses the wire (see [`HopEvent`]): when a request
    /// head is written (every hop: redirects, retries), and when its response heads are in.
    /// The same record is on the response afterwards
    /// ([`ResponseMeta::hops`](super::response::ResponseMeta::hops)); this is for what must
    /// be seen while the fetch runs. A panic in it fails the fetch with a callback error.
    ///
    /// ```no_run
    /// use squall::HttpRequest;
    /// use squall::client::hops::HopEvent;
    /// let req = HttpRequest::new("http://example.com/").hop_callback(|event, hop| {
    ///     if event == HopEvent::Sent {
    ///         eprint!("to {}:\n{}", hop.peer, String::from_utf8_lossy(&hop.request_head));
    ///     }
    /// });
    /// ```
    pub fn hop_callback(mut self, f: impl FnMut(HopEvent, &Hop) + Send + 'static) -> Self {
        self.hop_callback = Some(Arc::new(Mutex::new(f)));
        self
    }
}

/// The hops of one fetch so far (the engine's side of the record).
#[derive(Default)]
pub(crate) struct HopLog {
    hops: Vec<Hop>,
    /// The connection the next request head goes out on: its peer, and whether it came from
    /// the pool.
    conn: Option<(SocketAddr, bool)>,
    /// The request's `hop_callback`, taken when its first head is written.
    callback: Option<HopCallback>,
}

impl HopLog {
    /// The next request goes out on a connection to `peer`, `reused` from the pool or new.
    pub fn connected(&mut self, peer: SocketAddr, reused: bool) {
        self.conn = Some((peer, reused));
    }

    /// A request head was serialised and is about to be written (on the connection last
    /// given to [`connected`](HopLog::connected)): a new hop, whose kind follows from how the
    /// previous one ended.
    pub fn sent(&mut self, req: &Prepared, head: &[u8]) -> Result<(), HttpError> {
        // The engine says `connected` before every hop; were it not so, the hop would show
        // the unspecified address rather than fail the fetch.
        let (peer, reused) = self
            .conn
            .unwrap_or((SocketAddr::from(([0, 0, 0, 0], 0)), false));
        // Most fetches are one hop: room for one, then for a redirect or two.
        if self.hops.capacity() == 0 {
            self.hops.reserve_exact(1);
        }
        let mut url = String::with_capacity(URL_ROOM);
        let _ = write!(url, "{}", req.hop.url);
        self.hops.push(Hop {
            kind: kind_after(self.hops.last()),
            url,
            method: req.hop.method.clone(),
            peer,
            reused,
            request_head: head.to_vec(),
            interim: Vec::new(),
            response: None,
            error: None,
        });
        if let Some(cb) = &req.opts.request_head_callback {
            call_data_cb(cb, head)?;
        }
        if self.callback.is_none() {
            self.callback.clone_from(&req.opts.hop_callback);
        }
        self.report(HopEvent::Sent)
    }

    /// An interim (1xx) head of the current hop was read.
    pub fn interim(&mut self, head: &ResponseHead) -> Result<(), HttpError> {
        if let Some(hop) = self.hops.last_mut() {
            hop.interim.push(head.clone());
        }
        self.report(HopEvent::Interim)
    }

    /// The current hop's final head was read.
    pub fn answered(&mut self, head: &ResponseHead) -> Result<(), HttpError> {
        if let Some(hop) = self.hops.last_mut() {
            hop.response = Some(head.clone());
        }
        self.report(HopEvent::Answered)
    }

    /// The current hop broke (before its final head).
    pub fn failed(&mut self, error: &HttpError) {
        if let Some(hop) = self.hops.last_mut()
            && hop.response.is_none()
        {
            hop.error = Some(Box::new(error.clone()));
        }
    }

    /// The record, for the response.
    pub fn take(&mut self) -> Vec<Hop> {
        std::mem::take(&mut self.hops)
    }

    fn report(&self, event: HopEvent) -> Result<(), HttpError> {
        match (&self.callback, self.hops.last()) {
            (Some(cb), Some(hop)) => call_hop_cb(cb, event, hop),
            _ => Ok(()),
        }
    }
}

/// The interim heads of one hop as `send.rs` reads them: kept for `header_callback` (the
/// fetch's list) and recorded on the hop as each arrives (the log).
pub(crate) struct Interim<'a> {
    heads: &'a mut Vec<ResponseHead>,
    log: &'a RefCell<HopLog>,
}

impl<'a> Interim<'a> {
    pub fn new(heads: &'a mut Vec<ResponseHead>, log: &'a RefCell<HopLog>) -> Interim<'a> {
        Interim { heads, log }
    }

    /// A 1xx head was read: reported at once, then kept.
    pub fn push(&mut self, head: ResponseHead) -> Result<(), HttpError> {
        self.log.borrow_mut().interim(&head)?;
        self.heads.push(head);
        Ok(())
    }
}

/// Why a request follows `previous`: a hop that broke before its head is retried, one
/// answered `417` is repeated without the expectation, any other answer was a redirect.
fn kind_after(previous: Option<&Hop>) -> HopKind {
    match previous.map(|h| h.response.as_ref().map(|r| r.code)) {
        None => HopKind::Request,
        Some(None) => HopKind::Retry,
        Some(Some(417)) => HopKind::ExpectationFailed,
        Some(Some(_)) => HopKind::Redirect,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::error::ErrorKind;
    use crate::http::headers::HttpHeaders;
    use crate::http::response::Version;

    fn head(code: u16) -> ResponseHead {
        ResponseHead {
            version: Version::Http11,
            code,
            reason: String::new(),
            headers: HttpHeaders::new(),
        }
    }

    fn hop(response: Option<u16>) -> Hop {
        Hop {
            kind: HopKind::Request,
            url: "http://u:secret@h/".into(),
            method: "GET".into(),
            peer: "127.0.0.1:80".parse().unwrap(),
            reused: false,
            request_head: b"GET / HTTP/1.1\r\nAuthorization: Basic c2VjcmV0\r\n\r\n".to_vec(),
            interim: Vec::new(),
            response: response.map(head),
            error: None,
        }
    }

    #[test]
    fn a_hop_kind_follows_from_how_the_previous_hop_ended() {
        assert_eq!(kind_after(None), HopKind::Request);
        assert_eq!(kind_after(Some(&hop(None))), HopKind::Retry);
        assert_eq!(kind_after(Some(&hop(Some(302)))), HopKind::Redirect);
        assert_eq!(
            kind_after(Some(&hop(Some(417)))),
            HopKind::ExpectationFailed
        );
    }

    #[test]
    fn failed_marks_only_a_hop_without_its_head() {
        let mut log = HopLog {
            hops: vec![hop(None)],
            ..HopLog::default()
        };
        log.failed(&HttpError::new(
            ErrorKind::ClosedBeforeResponse,
            "Stream closed",
        ));
        assert!(log.hops[0].error.is_some());
        let mut log = HopLog {
            hops: vec![hop(Some(200))],
            ..HopLog::default()
        };
        log.failed(&HttpError::new(
            ErrorKind::ClosedMidBody,
            "Connection closed",
        ));
        assert!(log.hops[0].error.is_none());
        assert_eq!(log.take().len(), 1);
        assert!(log.take().is_empty());
    }

    #[test]
    fn debug_hides_credentials() {
        let text = format!("{:?}", hop(Some(200)));
        assert!(!text.contains("secret"), "{text}");
        assert!(!text.contains("c2VjcmV0"), "{text}");
        assert!(text.contains("request_head_len"), "{text}");
    }
}
