//! Content-Encoding: gzip, x-gzip and deflate bodies decoded as a stream (RFC 9110 §8.4.1).
//!
//! The decoder works on whatever piece of the body has arrived and appends at most
//! [`MAX_OUT_PER_CALL`] bytes per call, so a small compressed body that inflates to gigabytes
//! (a "gzip bomb") never sits in memory: the caller hands each piece on (or fails at the size
//! limit, which counts decoded bytes) before asking for more.
//!
//! gzip (RFC 1952) is a sequence of members, each a header, a raw DEFLATE stream (RFC 1951)
//! and a trailer holding the CRC-32 and length of the data. The member header is parsed here,
//! field by field, as an explicit state machine; flate2's low-level `Decompress` inflates the
//! DEFLATE stream; the trailer is checked here. Concatenated members are decoded in full
//! (C-06); anything after a member that is not another member, a NUL included, is an error
//! (C-07), and so is a stream that stops early.
//!
//! `deflate` means the zlib format (RFC 1950) in HTTP, but some servers send raw DEFLATE; like
//! browsers, the decoder looks at the first two bytes and takes a valid zlib header as zlib,
//! anything else as raw DEFLATE.

use std::fmt;

#[cfg(feature = "gzip")]
use flate2::{Crc, Decompress, FlushDecompress, Status};

use super::headers::{HttpHeaders, list_items};

/// The most bytes one [`ContentDecoder::decode`] call appends.
pub const MAX_OUT_PER_CALL: usize = 64 * 1024;

#[cfg(feature = "gzip")]
/// Longest gzip member header accepted (FEXTRA, FNAME and FCOMMENT together).
const MAX_GZIP_HEADER: usize = 64 * 1024;

/// A content coding this decoder knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    /// No coding we decode: the body passes through unchanged (`br`, `zstd`, lists, ...).
    Identity,
    /// `gzip` or `x-gzip`.
    Gzip,
    /// `deflate` (zlib, or raw DEFLATE as some servers send it).
    Deflate,
}

impl Coding {
    /// The coding of a response from all its `Content-Encoding` lines: decoded only when there
    /// is exactly one coding in total and it is one we know; two lines (`gzip` twice), lists
    /// and unknown codings pass through undecoded with their header (C-02, C-05).
    pub fn from_headers(headers: &HttpHeaders) -> Coding {
        let mut items = headers
            .get_all("content-encoding")
            .flat_map(list_items)
            .filter(|c| !c.eq_ignore_ascii_case("identity"));
        match (items.next(), items.next()) {
            (Some(one), None) => Coding::from_header(Some(one)),
            _ => Coding::Identity,
        }
    }

    /// The coding for a `Content-Encoding` value: gzip, x-gzip and deflate (any case, trimmed);
    /// anything else, lists included, is `Identity` and passes through undecoded (C-05).
    pub fn from_header(v: Option<&str>) -> Coding {
        let Some(v) = v else {
            return Coding::Identity;
        };
        let v = v.trim_matches([' ', '\t']);
        if v.eq_ignore_ascii_case("gzip") || v.eq_ignore_ascii_case("x-gzip") {
            Coding::Gzip
        } else if v.eq_ignore_ascii_case("deflate") {
            Coding::Deflate
        } else {
            Coding::Identity
        }
    }
}

/// A body that cannot be decoded, or decodes to more than the limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    message: String,
    too_large: bool,
}

impl DecodeError {
    #[cfg(feature = "gzip")]
    fn invalid(coding: Coding, why: impl fmt::Display) -> DecodeError {
        let name = match coding {
            Coding::Deflate => "deflate",
            _ => "gzip",
        };
        DecodeError {
            message: format!("invalid {name} data: {why}"),
            too_large: false,
        }
    }

    /// Whether the error is the decoded-size limit (curl exit 63) rather than bad data (61).
    pub fn is_too_large(&self) -> bool {
        self.too_large
    }

    /// The reason (same as `Display`).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DecodeError {}

#[cfg(feature = "gzip")]
/// Where in a gzip member header the parser is (RFC 1952 §2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Header {
    /// The 10 fixed bytes: ID1 ID2 CM FLG MTIME(4) XFL OS.
    Fixed,
    /// The 2-byte length of the FEXTRA field.
    ExtraLen,
    /// Bytes of FEXTRA still to skip.
    Extra(usize),
    /// The zero-terminated FNAME.
    Name,
    /// The zero-terminated FCOMMENT.
    Comment,
    /// The 2-byte FHCRC.
    Hcrc,
}

#[cfg(feature = "gzip")]
const FTEXT: u8 = 1;
#[cfg(feature = "gzip")]
const FHCRC: u8 = 2;
#[cfg(feature = "gzip")]
const FEXTRA: u8 = 4;
#[cfg(feature = "gzip")]
const FNAME: u8 = 8;
#[cfg(feature = "gzip")]
const FCOMMENT: u8 = 16;

#[cfg(feature = "gzip")]
#[derive(Debug)]
enum State {
    /// Passing bytes through.
    Identity,
    /// In a gzip member header.
    GzipHeader(Header),
    /// Inflating a member's (or the deflate body's) DEFLATE data.
    Inflate,
    /// In a gzip member trailer (CRC32, ISIZE).
    GzipTrailer,
    /// After a gzip member: another member or the end.
    GzipBetween,
    /// Deflate: waiting for the first two bytes to tell zlib from raw DEFLATE.
    DeflateStart,
    /// Deflate: the stream ended; nothing may follow.
    DeflateEnd,
}

#[cfg(feature = "gzip")]
/// A streaming Content-Encoding decoder with a limit on decoded bytes.
pub struct ContentDecoder {
    coding: Coding,
    max_out: Option<u64>,
    state: State,
    inflate: Decompress,
    /// gzip: CRC-32 and size of the current member's data (and of the header, for FHCRC).
    crc: Crc,
    header_crc: Crc,
    /// Small bytes collected across calls (fixed header, lengths, trailer, first bytes).
    scratch: Vec<u8>,
    /// FLG of the current member.
    flags: u8,
    /// Bytes of header seen in the current member.
    header_len: usize,
    /// Decoded bytes so far.
    produced: u64,
    /// Encoded bytes consumed so far.
    consumed: u64,
    /// Whether a whole gzip member (or deflate stream) ended.
    members: u64,
}

#[cfg(feature = "gzip")]
impl fmt::Debug for ContentDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContentDecoder")
            .field("coding", &self.coding)
            .field("state", &self.state)
            .field("produced", &self.produced)
            .finish()
    }
}

#[cfg(feature = "gzip")]
impl ContentDecoder {
    /// A decoder for `coding` that fails once more than `max_out` decoded bytes come out.
    pub fn new(coding: Coding, max_out: Option<u64>) -> ContentDecoder {
        ContentDecoder {
            coding,
            max_out,
            state: match coding {
                Coding::Identity => State::Identity,
                Coding::Gzip => State::GzipHeader(Header::Fixed),
                Coding::Deflate => State::DeflateStart,
            },
            inflate: Decompress::new(false),
            crc: Crc::new(),
            header_crc: Crc::new(),
            scratch: Vec::with_capacity(10),
            flags: 0,
            header_len: 0,
            produced: 0,
            consumed: 0,
            members: 0,
        }
    }

    /// The coding being decoded.
    pub fn coding(&self) -> Coding {
        self.coding
    }

    /// Decoded bytes so far.
    pub fn decoded_bytes(&self) -> u64 {
        self.produced
    }

    fn err(&self, why: impl fmt::Display) -> DecodeError {
        DecodeError::invalid(self.coding, why)
    }

    fn too_large(&self) -> DecodeError {
        DecodeError {
            message: format!(
                "decompressed body too large (more than {} bytes)",
                self.max_out.unwrap_or(0)
            ),
            too_large: true,
        }
    }

    /// How many more bytes this call may append: the per-call bound, and one byte past the
    /// size limit (so that going over it is seen without decoding further).
    fn budget(&self, appended: usize) -> usize {
        let left = MAX_OUT_PER_CALL.saturating_sub(appended);
        match self.max_out {
            Some(max) => {
                let allowed = max.saturating_sub(self.produced).saturating_add(1);
                left.min(usize::try_from(allowed).unwrap_or(usize::MAX))
            }
            None => left,
        }
    }

    fn count_out(&mut self, n: usize) -> Result<(), DecodeError> {
        self.produced = self.produced.saturating_add(n as u64);
        match self.max_out {
            Some(max) if self.produced > max => Err(self.too_large()),
            _ => Ok(()),
        }
    }

    /// Decodes some of `input`, appending at most [`MAX_OUT_PER_CALL`] bytes to `out`, and
    /// returns how many input bytes were consumed. Call again with the rest: a call that can
    /// neither consume nor produce is an error (C-12), never a spin. With empty `input` it
    /// hands out output the decoder still holds.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, DecodeError> {
        let start = out.len();
        let n = self.decode_inner(input, out, start)?;
        self.consumed = self.consumed.saturating_add(n as u64);
        if n == 0 && out.len() == start && !input.is_empty() {
            return Err(self.err("encountered unconsumed gzip data without making progress"));
        }
        Ok(n)
    }

    fn decode_inner(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        start: usize,
    ) -> Result<usize, DecodeError> {
        let mut i = 0;
        loop {
            let rest = input.get(i..).unwrap_or_default();
            match self.state {
                State::Identity => {
                    let take = rest.len().min(self.budget(out.len() - start));
                    out.extend_from_slice(rest.get(..take).unwrap_or_default());
                    self.count_out(take)?;
                    return Ok(i + take);
                }
                State::Inflate => {
                    let room = self.budget(out.len() - start);
                    if room == 0 {
                        return Ok(i);
                    }
                    // Output space is zeroed before inflating into it; size it to what this
                    // input may plausibly give, and loop for more, rather than zeroing 64 KiB
                    // for a few bytes of input.
                    let step = room.min(rest.len().saturating_mul(8).max(8192));
                    let (used, made, end) = self.inflate_some(rest, out, step)?;
                    i += used;
                    if end {
                        self.members += 1;
                        if self.coding == Coding::Gzip {
                            self.scratch.clear();
                            self.state = State::GzipTrailer;
                        } else {
                            self.state = State::DeflateEnd;
                        }
                        continue;
                    }
                    if used == 0 && made == 0 {
                        return Ok(i);
                    }
                }
                State::DeflateStart => {
                    // Look at the first two bytes without consuming them, holding back the
                    // first one only when it arrived alone.
                    let first_two = match (self.scratch.first(), rest.first(), rest.get(1)) {
                        (Some(&a), Some(&b), _) => Some((a, b)),
                        (None, Some(&a), Some(&b)) => Some((a, b)),
                        _ => None,
                    };
                    let Some((cmf, flg)) = first_two else {
                        if let Some(&a) = rest.first() {
                            self.scratch.push(a);
                            return Ok(i + 1);
                        }
                        return Ok(i);
                    };
                    // A zlib header: CM 8, a window of at most 32 KiB, FCHECK making the pair a
                    // multiple of 31 (RFC 1950 §2.2).
                    let zlib = cmf & 0x0f == 8
                        && cmf >> 4 <= 7
                        && (u16::from(cmf) * 256 + u16::from(flg)) % 31 == 0;
                    self.inflate = Decompress::new(zlib);
                    self.state = State::Inflate;
                    let held = std::mem::take(&mut self.scratch);
                    if !held.is_empty() {
                        let room = self.budget(out.len() - start).max(1);
                        let (used, _, end) = self.inflate_some(&held, out, room)?;
                        if used != held.len() {
                            return Err(self.err("the decoder did not take the first byte"));
                        }
                        if end {
                            self.members += 1;
                            self.state = State::DeflateEnd;
                        }
                    }
                }
                State::DeflateEnd => {
                    if rest.is_empty() {
                        return Ok(i);
                    }
                    return Err(self.err(format!(
                        "{} bytes of trailing data after the end of the stream",
                        rest.len()
                    )));
                }
                State::GzipHeader(h) => {
                    let Some(&b) = rest.first() else {
                        return Ok(i);
                    };
                    i += 1;
                    self.header_byte(h, b)?;
                }
                State::GzipTrailer => {
                    let take = (8 - self.scratch.len().min(8)).min(rest.len());
                    self.scratch
                        .extend_from_slice(rest.get(..take).unwrap_or_default());
                    i += take;
                    if self.scratch.len() < 8 {
                        return Ok(i);
                    }
                    let word = |k: usize| {
                        self.scratch
                            .get(k..k + 4)
                            .and_then(|b| <[u8; 4]>::try_from(b).ok())
                            .map_or(0, u32::from_le_bytes)
                    };
                    let (crc, isize) = (word(0), word(4));
                    if crc != self.crc.sum() {
                        return Err(self.err(format!(
                            "CRC-32 mismatch in member {} (trailer says {crc:08x}, data is {:08x})",
                            self.members,
                            self.crc.sum()
                        )));
                    }
                    if isize != self.crc.amount() {
                        return Err(self.err(format!(
                            "length mismatch in member {} (trailer says {isize}, data is {})",
                            self.members,
                            self.crc.amount()
                        )));
                    }
                    self.scratch.clear();
                    self.state = State::GzipBetween;
                }
                State::GzipBetween => {
                    let Some(&b) = rest.first() else {
                        return Ok(i);
                    };
                    if b != 0x1f {
                        let what = if rest.iter().all(|&c| c == 0) {
                            "NUL padding"
                        } else {
                            "garbage"
                        };
                        return Err(self.err(format!(
                            "{what} after gzip member {} at byte {}",
                            self.members,
                            self.consumed.saturating_add(i as u64)
                        )));
                    }
                    self.state = State::GzipHeader(Header::Fixed);
                }
            }
        }
    }

    /// Inflates from `input` into at most `room` new bytes of `out`.
    /// Returns (input used, output made, stream ended).
    fn inflate_some(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        room: usize,
    ) -> Result<(usize, usize, bool), DecodeError> {
        let at = out.len();
        // Growth the limits allow may still be more than memory does: an error, not an abort.
        out.try_reserve(room).map_err(|_| DecodeError {
            message: format!("out of memory for the decoded body ({at} bytes so far)"),
            too_large: true,
        })?;
        out.resize(at + room, 0);
        let before_in = self.inflate.total_in();
        let before_out = self.inflate.total_out();
        let target = out.get_mut(at..).unwrap_or_default();
        let status = self
            .inflate
            .decompress(input, target, FlushDecompress::None)
            .map_err(|e| {
                DecodeError::invalid(self.coding, e.message().unwrap_or("corrupt DEFLATE stream"))
            });
        let used = usize::try_from(self.inflate.total_in().saturating_sub(before_in)).unwrap_or(0);
        let made =
            usize::try_from(self.inflate.total_out().saturating_sub(before_out)).unwrap_or(0);
        out.truncate(at + made.min(room));
        let status = status?;
        if self.coding == Coding::Gzip {
            self.crc.update(out.get(at..).unwrap_or_default());
        }
        self.count_out(made)?;
        Ok((used, made, status == Status::StreamEnd))
    }

    /// One byte of a gzip member header (RFC 1952 §2.3.1).
    fn header_byte(&mut self, h: Header, b: u8) -> Result<(), DecodeError> {
        self.header_len += 1;
        if self.header_len > MAX_GZIP_HEADER {
            return Err(self.err(format!("member header longer than {MAX_GZIP_HEADER} bytes")));
        }
        if h != Header::Hcrc {
            self.header_crc.update(&[b]);
        }
        match h {
            Header::Fixed => {
                self.scratch.push(b);
                match self.scratch.len() {
                    1 if b != 0x1f => return Err(self.err("not a gzip stream (bad magic bytes)")),
                    2 if b != 0x8b => return Err(self.err("not a gzip stream (bad magic bytes)")),
                    3 if b != 8 => {
                        return Err(self.err(format!("unknown compression method {b}")));
                    }
                    4 if b & 0xe0 != 0 => {
                        return Err(self.err(format!("reserved header flags set ({b:#04x})")));
                    }
                    4 => self.flags = b & !FTEXT,
                    10 => {
                        self.scratch.clear();
                        self.next_header_field(Header::Fixed);
                    }
                    _ => {}
                }
            }
            Header::ExtraLen => {
                self.scratch.push(b);
                if let [lo, hi] = self.scratch.as_slice() {
                    let n = usize::from(u16::from_le_bytes([*lo, *hi]));
                    self.scratch.clear();
                    if n == 0 {
                        self.next_header_field(Header::Extra(0));
                    } else {
                        self.state = State::GzipHeader(Header::Extra(n));
                    }
                }
            }
            Header::Extra(n) => {
                if n <= 1 {
                    self.next_header_field(Header::Extra(0));
                } else {
                    self.state = State::GzipHeader(Header::Extra(n - 1));
                }
            }
            Header::Name | Header::Comment => {
                if b == 0 {
                    self.next_header_field(h);
                }
            }
            Header::Hcrc => {
                self.scratch.push(b);
                if let [lo, hi] = self.scratch.as_slice() {
                    let want = u16::from_le_bytes([*lo, *hi]);
                    let got = (self.header_crc.sum() & 0xffff) as u16;
                    self.scratch.clear();
                    if want != got {
                        return Err(self.err(format!(
                            "header CRC mismatch (FHCRC {want:04x}, header is {got:04x})"
                        )));
                    }
                    self.start_member_data();
                }
            }
        }
        Ok(())
    }

    /// Moves to the header field after `done`, per the flags, or to the member's data.
    fn next_header_field(&mut self, done: Header) {
        let order = [
            (Header::ExtraLen, FEXTRA),
            (Header::Name, FNAME),
            (Header::Comment, FCOMMENT),
            (Header::Hcrc, FHCRC),
        ];
        let after = match done {
            Header::Fixed => 0,
            Header::ExtraLen | Header::Extra(_) => 1,
            Header::Name => 2,
            Header::Comment => 3,
            Header::Hcrc => 4,
        };
        for (field, flag) in order.iter().skip(after) {
            if self.flags & flag != 0 {
                self.state = State::GzipHeader(*field);
                return;
            }
        }
        self.start_member_data();
    }

    fn start_member_data(&mut self) {
        self.inflate.reset(false);
        self.crc.reset();
        self.header_crc.reset();
        self.header_len = 0;
        self.scratch.clear();
        self.state = State::Inflate;
    }

    /// The body ended. Appends what the decoder still holds (at most the DEFLATE window,
    /// 32 KiB) and checks that the stream ended where it should: a truncated stream is an
    /// error (C-07); an empty body is fine (C-08).
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), DecodeError> {
        // Drain output held back by the per-call bound.
        for _ in 0..64 {
            let before = out.len();
            self.decode(&[], out)?;
            if out.len() == before {
                break;
            }
        }
        match self.state {
            State::Identity | State::DeflateEnd | State::GzipBetween => Ok(()),
            State::GzipHeader(Header::Fixed) if self.members == 0 && self.scratch.is_empty() => {
                Ok(())
            }
            State::DeflateStart if self.scratch.is_empty() => Ok(()),
            _ => Err(self.err("truncated stream (the body ended inside it)")),
        }
    }
}

#[cfg(feature = "gzip")]
#[cfg(test)]
mod tests;
