//! Where the caller's code runs inside a fetch: `header_callback`, `streaming_callback` (plain
//! or async), `request_head_callback`, `hop_callback` and a `body_producer`.
//!
//! User code may panic, and an async callback may fail. Either way that is the failure of the
//! one fetch that called it ([`ErrorKind::Callback`]), never an unwinding through the fetch
//! into the loop that runs every other fetch. Every call into user code goes through this file
//! so that rule is kept in one place, with the words of its messages (`callback panicked:`,
//! `header_callback panicked:`, `streaming_callback failed:` ...).

use std::any::Any;
use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::Poll;

use super::error::{ErrorKind, HttpError};
use super::hops::{Hop, HopCallback, HopEvent};
use super::request::{AsyncDataCallback, DataCallback, LineCallback, lock};
use crate::http::response::{ResponseHead, Version};

/// Calls a data callback (`streaming_callback`, `request_head_callback`) with `data`.
pub(crate) fn call_data_cb(cb: &DataCallback, data: &[u8]) -> Result<(), HttpError> {
    catch_unwind(AssertUnwindSafe(|| (lock(cb))(data))).map_err(|p| {
        HttpError::new(
            ErrorKind::Callback,
            format!("callback panicked: {}", panic_text(&p)),
        )
    })
}

/// Calls `hop_callback` with an event and the hop's record so far.
pub(crate) fn call_hop_cb(cb: &HopCallback, event: HopEvent, hop: &Hop) -> Result<(), HttpError> {
    catch_unwind(AssertUnwindSafe(|| (lock(cb))(event, hop))).map_err(|p| {
        HttpError::new(
            ErrorKind::Callback,
            format!("hop_callback panicked: {}", panic_text(&p)),
        )
    })
}

fn call_line_cb(cb: &LineCallback, line: &str) -> Result<(), HttpError> {
    catch_unwind(AssertUnwindSafe(|| (lock(cb))(line))).map_err(|p| {
        HttpError::new(
            ErrorKind::Callback,
            format!("header_callback panicked: {}", panic_text(&p)),
        )
    })
}

/// Gives `header_callback` a head line by line: the status line, each field, the empty line.
pub(crate) fn send_head_lines(cb: &LineCallback, h: &ResponseHead) -> Result<(), HttpError> {
    call_line_cb(cb, &status_line(h))?;
    for (name, value) in h.headers.iter() {
        call_line_cb(cb, &format!("{name}: {value}\r\n"))?;
    }
    call_line_cb(cb, "\r\n")
}

/// The status line of a head, as sent to `header_callback`.
fn status_line(h: &ResponseHead) -> String {
    let v = match h.version {
        Version::Http10 => "HTTP/1.0",
        _ => "HTTP/1.1",
    };
    format!("{v} {:03} {}\r\n", h.code, h.reason)
}

/// Hands `piece` to an async `streaming_callback` and waits for the future it returns. A
/// panic in the call or in the future, or an error the future returns, is the fetch's
/// Callback error (as for the plain callbacks).
pub(crate) async fn call_async_stream(
    cb: &AsyncDataCallback,
    piece: Vec<u8>,
) -> Result<(), HttpError> {
    let call = catch_unwind(AssertUnwindSafe(|| (lock(cb))(piece)));
    let outcome = match call {
        Ok(done) => match catch_panic(done).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("streaming_callback failed: {e}")),
            Err(p) => Err(format!("streaming_callback panicked: {p}")),
        },
        Err(p) => Err(format!("streaming_callback panicked: {}", panic_text(&p))),
    };
    outcome.map_err(|msg| HttpError::new(ErrorKind::Callback, msg))
}

/// Runs `fut` to its end, or to the panic of one of its polls (its text): user code such as an
/// async streaming callback or a body producer fails its fetch, not the loop it runs on.
pub(crate) async fn catch_panic<F: Future>(fut: F) -> Result<F::Output, String> {
    let mut fut = std::pin::pin!(fut);
    poll_fn(
        |cx| match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(p) => Poll::Ready(Err(panic_text(&p))),
        },
    )
    .await
}

/// The text of a panic's payload (`panic!("...")` gives a `&str` or a `String`).
pub(crate) fn panic_text(p: &Box<dyn Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}
