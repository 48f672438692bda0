//! Writing several buffers in full with vectored writes: the one loop both stream kinds use.
//!
//! A request head and its body go out together (`writev` on plain TCP, records packed by
//! rustls on TLS), and a vectored write may take only part of what it was given, ending in
//! the middle of a buffer. Resuming from there without copying is fiddly enough to exist
//! once: [`write_all_vectored`] keeps the position (which buffer, how far into it) and hands
//! the rest to the stream's own `poll_write_vectored` until nothing is left.

use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::task::{Context, Poll};

/// Writes all of `bufs`, in order, through `poll_write_vectored` (a stream's method of that
/// name), calling it again after a partial write with what remains. Empty buffers are
/// skipped; a write that takes nothing from a non-empty remainder is a `WriteZero` error.
/// Flushing (for TLS, sending the queued records) is the caller's business.
pub(crate) async fn write_all_vectored<W>(
    bufs: &[&[u8]],
    mut poll_write_vectored: W,
) -> io::Result<()>
where
    W: FnMut(&mut Context<'_>, &[IoSlice<'_>]) -> Poll<io::Result<usize>>,
{
    let mut idx = 0; // first buffer not fully written
    let mut off = 0; // bytes of bufs[idx] already written
    while idx < bufs.len() {
        if off == bufs[idx].len() {
            idx += 1;
            off = 0;
            continue;
        }
        let slices: Vec<IoSlice<'_>> = std::iter::once(IoSlice::new(&bufs[idx][off..]))
            .chain(bufs[idx + 1..].iter().map(|b| IoSlice::new(b)))
            .collect();
        let mut n = poll_fn(|cx| poll_write_vectored(cx, &slices)).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        while n > 0 && idx < bufs.len() {
            let left = bufs[idx].len() - off;
            if n >= left {
                n -= left;
                idx += 1;
                off = 0;
            } else {
                off += n;
                n = 0;
            }
        }
    }
    Ok(())
}
