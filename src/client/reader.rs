//! Reading a response body off an exchange: [`BodyReader`].
//!
//! The body is the one part of a fetch that is read piece by piece, in a loop the caller
//! drives: the buffered fetch reads it whole, `fetch_streaming` hands each piece out, a
//! followed redirect's body is drained and dropped. All three share this reader, which turns
//! the exchange's events into body bytes — decoded (gzip, deflate), counted against
//! `max_body_size`, merged into large deliveries, with memory a failed allocation cannot
//! abort — and gives the connection back to the pool at the end. It lives apart from
//! `fetch` (which decides what happens with the body) so that the rules for the bytes
//! themselves can be read, and tested, in one place.

use std::ops::Range;
use std::time::Instant;

use super::Inner;
#[cfg(feature = "gzip")]
use super::error::decode_error;
use super::error::{ErrorKind, HttpError};
use super::exchange::{BodyEv, BodyPhase, Exchange};
use crate::http::decode::Coding;
#[cfg(feature = "gzip")]
use crate::http::decode::ContentDecoder;

/// Reads a response body from an exchange: decodes it, enforces the limits, gives the
/// connection back at the end.
pub(crate) struct BodyReader {
    ex: Option<Exchange<BodyPhase>>,
    coding: Coding,
    #[cfg(feature = "gzip")]
    decoder: Option<ContentDecoder>,
    max_decoded: Option<u64>,
    pending: Range<usize>,
    /// The decoder has consumed `pending` and holds no output back.
    drained: bool,
    /// Body bytes seen (identity coding), against `max_decoded`.
    raw: u64,
    /// The end of the body was parsed ahead (while merging); its keep-alive verdict.
    ended: Option<bool>,
    done: bool,
    keep_alive: bool,
    conn_close: bool,
    first_byte_at: Option<Instant>,
}

impl BodyReader {
    pub fn new(
        ex: Exchange<BodyPhase>,
        coding: Coding,
        max_decoded: Option<u64>,
        conn_close: bool,
    ) -> BodyReader {
        // Without the `gzip` feature nothing is decoded: a body passes through as sent.
        let coding = if cfg!(feature = "gzip") {
            coding
        } else {
            Coding::Identity
        };
        let first_byte_at = ex.first_byte_at();
        BodyReader {
            ex: Some(ex),
            coding,
            #[cfg(feature = "gzip")]
            decoder: None,
            max_decoded,
            pending: 0..0,
            drained: true,
            raw: 0,
            ended: None,
            done: false,
            keep_alive: false,
            conn_close,
            first_byte_at,
        }
    }

    pub fn first_byte_at(&self) -> Option<Instant> {
        self.first_byte_at
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Appends the next piece of the decoded body to `out`. `Ok(false)`: the body is
    /// complete (a last piece may have been appended) and the connection was given back.
    pub async fn read_into(&mut self, inner: &Inner, out: &mut Vec<u8>) -> Result<bool, HttpError> {
        if self.done {
            return Ok(false);
        }
        match self.step(out).await {
            Ok(true) => Ok(true),
            Ok(false) => {
                self.done = true;
                if let Some(ex) = self.ex.take() {
                    let keep = ex.reusable(self.keep_alive) && !self.conn_close;
                    inner.pool.checkin(ex.into_conn(), keep);
                }
                Ok(false)
            }
            Err(e) => {
                self.done = true;
                self.ex = None; // closes the connection
                Err(e)
            }
        }
    }

    /// Drops the connection (closing it) without reading further.
    pub fn abort(&mut self) {
        self.done = true;
        self.ex = None;
    }

    async fn step(&mut self, out: &mut Vec<u8>) -> Result<bool, HttpError> {
        if let Some(keep_alive) = self.ended {
            // The end was already parsed while merging buffered pieces.
            self.keep_alive = keep_alive;
            return Ok(false);
        }
        let Some(ex) = self.ex.as_mut() else {
            return Ok(false);
        };
        #[cfg(feature = "gzip")]
        let start = out.len();
        loop {
            #[cfg(feature = "gzip")]
            if let Some(dec) = &mut self.decoder
                && !self.drained
            {
                // Decode what is pending; an empty input still hands out output the
                // decoder holds back (it appends at most 64 KiB per call).
                let before = out.len();
                let input = ex.data(self.pending.clone());
                let n = dec.decode(input, out).map_err(decode_error)?;
                self.pending.start += n;
                if out.len() > before && !self.pending.is_empty() {
                    return Ok(true);
                }
                if self.pending.is_empty() && out.len() < MERGE_UP_TO {
                    // S-15 for a coded body: the next piece already buffered is decoded
                    // into the same delivery (tiny gzip chunks make one, not one each).
                    match ex.buffered_body().map_err(|f| f.error)? {
                        Some(BodyEv::Data(r)) => {
                            self.pending = r;
                            continue;
                        }
                        Some(BodyEv::Trailers) => continue,
                        Some(BodyEv::End { keep_alive }) => {
                            self.keep_alive = keep_alive;
                            dec.finish(out).map_err(decode_error)?;
                            return Ok(false);
                        }
                        None => {}
                    }
                }
                if out.len() > start {
                    return Ok(true);
                }
                if self.pending.is_empty() {
                    self.drained = true;
                } else if n == 0 {
                    return Err(HttpError::new(
                        ErrorKind::Decompression,
                        "encountered unconsumed gzip data without making progress",
                    ));
                }
                continue;
            }
            match ex.next_body().await.map_err(|f| f.error)? {
                BodyEv::Data(r) => {
                    if self.first_byte_at.is_none() {
                        self.first_byte_at = ex.first_byte_at();
                    }
                    if self.coding == Coding::Identity {
                        take_raw(&mut self.raw, self.max_decoded, r.len() as u64)?;
                        append(out, ex.data(r))?;
                        // S-15: what is already buffered goes out with it (many tiny chunks
                        // make one delivery, not one each), up to a read's worth.
                        while out.len() < MERGE_UP_TO {
                            match ex.buffered_body().map_err(|f| f.error)? {
                                Some(BodyEv::Data(r)) => {
                                    take_raw(&mut self.raw, self.max_decoded, r.len() as u64)?;
                                    append(out, ex.data(r))?;
                                }
                                Some(BodyEv::Trailers) => {}
                                Some(BodyEv::End { keep_alive }) => {
                                    self.ended = Some(keep_alive);
                                    break;
                                }
                                None => break,
                            }
                        }
                        return Ok(true);
                    }
                    #[cfg(feature = "gzip")]
                    if self.decoder.is_none() {
                        self.decoder = Some(ContentDecoder::new(self.coding, self.max_decoded));
                    }
                    self.pending = r;
                    self.drained = false;
                }
                BodyEv::Trailers => {}
                BodyEv::End { keep_alive } => {
                    self.keep_alive = keep_alive;
                    #[cfg(feature = "gzip")]
                    if let Some(dec) = &mut self.decoder {
                        dec.finish(out).map_err(decode_error)?;
                    }
                    return Ok(false);
                }
            }
        }
    }
}

/// Buffered body pieces are merged into one delivery up to this size (S-15).
const MERGE_UP_TO: usize = 64 * 1024;

/// The most a declared `Content-Length` reserves before its bytes arrive. A server may
/// declare 64 MiB and send ten bytes (or nothing): the buffer then grows with what arrives,
/// as any `Vec` does, instead of claiming the whole length up front.
pub(crate) const RESERVE_AHEAD: usize = 256 * 1024;

/// What a body buffer reserves for a declared length of `declared` bytes.
pub(crate) fn reserve_for(declared: u64, max_body: Option<u64>) -> usize {
    let n = max_body.map_or(declared, |m| declared.min(m));
    n.min(RESERVE_AHEAD as u64) as usize
}

/// Appends body bytes. Growth within `max_body_size` can still ask for more than the process
/// may have (`ulimit -v`, a small container): that is an error of this fetch, not an abort of
/// the process.
fn append(out: &mut Vec<u8>, data: &[u8]) -> Result<(), HttpError> {
    reserve_more(out, data.len())?;
    out.extend_from_slice(data);
    Ok(())
}

/// Room for `n` more bytes in `out` (amortised growth, as `Vec` does), or the error.
fn reserve_more(out: &mut Vec<u8>, n: usize) -> Result<(), HttpError> {
    out.try_reserve(n).map_err(|_| {
        HttpError::new(
            ErrorKind::BodyTooLarge,
            format!(
                "Body too large for memory: no room for {n} more bytes after {}",
                out.len()
            ),
        )
    })
}

/// Counts identity body bytes against the limit.
fn take_raw(raw: &mut u64, max: Option<u64>, n: u64) -> Result<(), HttpError> {
    *raw += n;
    match max {
        Some(max) if *raw > max => Err(HttpError::new(
            ErrorKind::BodyTooLarge,
            format!("Body too long (more than max_body_size, {max} bytes)"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declared_length_reserves_at_most_a_little_ahead() {
        // Small bodies get their exact size.
        assert_eq!(reserve_for(0, None), 0);
        assert_eq!(reserve_for(12, None), 12);
        assert_eq!(reserve_for(12, Some(100)), 12);
        // The limit caps it too.
        assert_eq!(reserve_for(1000, Some(100)), 100);
        // A large declaration reserves no more than RESERVE_AHEAD, whatever the limit.
        assert_eq!(reserve_for(64 << 20, None), RESERVE_AHEAD);
        assert_eq!(reserve_for(64 << 20, Some(100 << 20)), RESERVE_AHEAD);
        assert_eq!(reserve_for(u64::MAX, Some(u64::MAX)), RESERVE_AHEAD);
    }

    #[test]
    fn an_allocation_memory_refuses_is_an_error() {
        let mut out = vec![1u8; 4];
        append(&mut out, b"abc").unwrap();
        assert_eq!(out, b"\x01\x01\x01\x01abc");
        // Capacity overflow stands in for an allocator that says no: an error, no abort.
        let huge = vec![0u8; 8];
        let mut out: Vec<u8> = Vec::new();
        out.extend_from_slice(&huge);
        let e = reserve_more(&mut out, usize::MAX).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::BodyTooLarge);
        assert!(e.to_string().contains("Body too large for memory"), "{e}");
        assert_eq!(out.len(), 8, "the body so far is intact");
    }
}
