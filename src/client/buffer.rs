//! A connection's read buffer: [`ReadBuf`], bytes received and not yet parsed.
//!
//! The exchange reads into it, the parser consumes from its front, and body data is handed
//! out as ranges of it (nothing is copied until the consumer decides). Its size follows what
//! it carries: nothing while a connection waits or idles, `initial` bytes once a response is
//! due, twice as much (up to a bound) each time one head fills it, and more (up to another
//! bound) while a large body fills every read. The index arithmetic that keeps all that right
//! lives here, behind a few methods, so the exchange, the body reader and the pool only say
//! what they want ("what is unparsed", "this much was parsed", "make room") and the rules can
//! be tested with exact bytes.

use std::ops::Range;

/// Bytes received on a connection; `buf[start..end]` is not yet parsed.
#[derive(Debug)]
pub(crate) struct ReadBuf {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The size the buffer is allocated with.
    initial: usize,
}

/// The buffer is at its largest and full of unparsed bytes: one head does not fit.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Full;

impl ReadBuf {
    /// An unallocated buffer that will take `initial` bytes when first needed.
    pub fn new(initial: usize) -> ReadBuf {
        ReadBuf {
            buf: Vec::new(),
            start: 0,
            end: 0,
            initial,
        }
    }

    /// The size the buffer is allocated with.
    pub fn initial_size(&self) -> usize {
        self.initial
    }

    /// Whether the buffer holds memory (it does not while nothing is due).
    pub fn is_allocated(&self) -> bool {
        !self.buf.is_empty()
    }

    /// Frees the memory (a connection going idle); the next read allocates it again, at its
    /// initial size however much it grew.
    pub fn release(&mut self) {
        *self = ReadBuf::new(self.initial);
    }

    /// Received bytes the parser has not consumed.
    pub fn unparsed(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Whether some received bytes are not yet parsed.
    pub fn has_unparsed(&self) -> bool {
        self.start != self.end
    }

    /// The parser consumed `n` bytes from the front of [`unparsed`](Self::unparsed).
    pub fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
    }

    /// Where `piece`, a slice of [`unparsed`](Self::unparsed), lies in the buffer: a range
    /// that stays valid until the next [`make_room`](Self::make_room).
    pub fn range_of(&self, piece: &[u8]) -> Range<usize> {
        let base = self.buf.as_ptr() as usize;
        let at = (piece.as_ptr() as usize).saturating_sub(base);
        debug_assert!(at >= self.start && at + piece.len() <= self.end);
        at..at + piece.len()
    }

    /// The bytes of a range given by [`range_of`](Self::range_of) (empty if it is stale).
    pub fn get(&self, r: Range<usize>) -> &[u8] {
        self.buf.get(r).unwrap_or_default()
    }

    /// Makes room at the end for a read: allocates the buffer if it has none, starts over
    /// when everything was parsed, moves unparsed bytes to the front when they reach the end,
    /// and doubles the buffer (up to `max`) when they fill it. [`Full`] when they fill `max`.
    pub fn make_room(&mut self, max: usize) -> Result<(), Full> {
        if self.buf.is_empty() {
            self.buf = vec![0; self.initial];
            self.start = 0;
            self.end = 0;
        }
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.buf.len() && self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            if self.buf.len() >= max {
                return Err(Full);
            }
            let n = (self.buf.len() * 2).min(max);
            self.buf.resize(n, 0);
        }
        Ok(())
    }

    /// The room a read may fill (after [`make_room`](Self::make_room)).
    pub fn spare_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.end..]
    }

    /// A read put `n` bytes into [`spare_mut`](Self::spare_mut). A read that filled all the
    /// room says more is waiting (a big body): the buffer then grows, up to `grow_to`, so it
    /// takes fewer, larger reads; small responses never fill it and keep the small buffer.
    pub fn filled(&mut self, n: usize, grow_to: usize) {
        let n = n.min(self.buf.len() - self.end);
        let full = n > 0 && self.end + n == self.buf.len();
        self.end += n;
        if full && self.buf.len() < grow_to {
            let grown = (self.buf.len() * 2).min(grow_to);
            self.buf.resize(grown, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `data` into the buffer as a socket read would.
    fn read(b: &mut ReadBuf, data: &[u8], grow_to: usize) -> usize {
        let room = b.spare_mut();
        let n = data.len().min(room.len());
        room[..n].copy_from_slice(&data[..n]);
        b.filled(n, grow_to);
        n
    }

    #[test]
    fn nothing_is_allocated_until_a_read_is_due_and_after_release() {
        let mut b = ReadBuf::new(8);
        assert!(!b.is_allocated());
        assert_eq!(b.unparsed(), b"");
        b.make_room(16).unwrap();
        assert!(b.is_allocated());
        assert_eq!(b.spare_mut().len(), 8);
        b.release();
        assert!(!b.is_allocated());
        assert_eq!(b.initial_size(), 8);
    }

    #[test]
    fn bytes_are_consumed_from_the_front_and_handed_out_as_ranges() {
        let mut b = ReadBuf::new(8);
        b.make_room(16).unwrap();
        assert_eq!(read(&mut b, b"abcde", 8), 5);
        assert_eq!(b.unparsed(), b"abcde");
        let r = b.range_of(&b.unparsed()[1..3]);
        assert_eq!(r, 1..3);
        assert_eq!(b.get(r), b"bc");
        b.consume(3);
        assert_eq!(b.unparsed(), b"de");
        assert!(b.has_unparsed());
        b.consume(100);
        assert!(!b.has_unparsed());
        assert_eq!(b.get(20..30), b"", "a stale range reads as nothing");
    }

    #[test]
    fn unparsed_bytes_move_to_the_front_then_the_buffer_doubles_up_to_its_bound() {
        let mut b = ReadBuf::new(4);
        b.make_room(8).unwrap();
        // A read that fills the room, with growth for bodies off (grow_to = the size).
        assert_eq!(read(&mut b, b"HTTP", 4), 4);
        b.consume(2);
        // The two unparsed bytes move to the front: room for two more, no growth.
        b.make_room(8).unwrap();
        assert_eq!(b.unparsed(), b"TP");
        assert_eq!(b.spare_mut().len(), 2);
        assert_eq!(read(&mut b, b"/1", 4), 2);
        // Full of unparsed bytes: the buffer doubles, to the bound and no further.
        b.make_room(8).unwrap();
        assert_eq!(b.spare_mut().len(), 4);
        assert_eq!(read(&mut b, b".1 2", 4), 4);
        assert_eq!(b.unparsed(), b"TP/1.1 2");
        assert_eq!(b.make_room(8), Err(Full));
        // Everything parsed: it starts over at the front.
        b.consume(8);
        b.make_room(8).unwrap();
        assert_eq!(b.spare_mut().len(), 8);
    }

    #[test]
    fn a_read_that_fills_the_room_grows_the_buffer_for_a_big_body() {
        let mut b = ReadBuf::new(4);
        b.make_room(4).unwrap();
        assert_eq!(read(&mut b, b"0123", 16), 4);
        // It grew (8), and the bytes are intact.
        assert_eq!(b.unparsed(), b"0123");
        assert_eq!(b.spare_mut().len(), 4);
        assert_eq!(read(&mut b, b"4567", 16), 4);
        assert_eq!(b.spare_mut().len(), 8);
        // A short read does not grow it.
        assert_eq!(read(&mut b, b"89", 16), 2);
        assert_eq!(b.spare_mut().len(), 6);
    }
}
