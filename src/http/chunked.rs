//! The chunked transfer coding, decoded by an explicit state machine (RFC 9112 §7.1).
//!
//! ```text
//! chunked-body   = *chunk last-chunk trailer-section CRLF
//! chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//! chunk-size     = 1*HEXDIG
//! last-chunk     = 1*("0") [ chunk-ext ] CRLF
//! chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//! trailer-section = *( field-line CRLF )
//! ```
//!
//! Each state below is one position in that grammar. The decoder is strict where leniency has
//! led to request smuggling: every line ends in CRLF (a bare LF is an error; httparse's
//! `parse_chunk_size` would accept it, which is why it is not used), the size is hex with an
//! overflow check, and the data must be followed by CRLF. Extensions are checked against
//! the grammar (quoted strings included) and then ignored (§7.1.1), within a per-line limit
//! (S-12). Trailer fields are parsed with the same limits as a head (S-14).
//!
//! Body data is handed out as slices of the caller's input: nothing is copied.

use super::error::{ProtoError, ProtoErrorKind, malformed};
use super::fault::{describe, locate_bad_line};
use super::headers::HttpHeaders;

/// Limits that bound the memory and the work of the decoder.
#[derive(Clone, Debug)]
pub struct ChunkedLimits {
    /// Longest chunk-size line, extensions and CRLF included.
    pub max_line: usize,
    /// Most bytes in the trailer section.
    pub max_trailer_bytes: usize,
    /// Most trailer fields.
    pub max_trailer_fields: usize,
    /// Most data bytes in the whole body.
    pub max_body: Option<u64>,
}

impl Default for ChunkedLimits {
    fn default() -> ChunkedLimits {
        ChunkedLimits {
            max_line: 4096,
            max_trailer_bytes: 65536,
            max_trailer_fields: 100,
            max_body: None,
        }
    }
}

/// What the decoder found.
#[derive(Debug, PartialEq, Eq)]
pub enum ChunkedEvent<'a> {
    /// Chunk data: a slice of the input.
    Data(&'a [u8]),
    /// The trailer fields, when the body had any (before `End`).
    Trailers(HttpHeaders),
    /// The last chunk and the trailer section were read; nothing after it is consumed.
    End,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// In the hex digits of a chunk-size.
    Size,
    /// After the digits, in whitespace that must lead to `;` (BWS).
    SizeSpace,
    /// In chunk extensions: checked against the grammar, then ignored (§7.1.1).
    Extension(Ext),
    /// After the CR of a chunk-size line.
    SizeLf,
    /// In chunk data.
    Data,
    /// After chunk data: expecting CR.
    DataCr,
    /// After chunk data and CR: expecting LF.
    DataLf,
    /// In the trailer section (collected in `trailer`).
    Trailer,
    /// Trailers were handed out; `End` comes next.
    EndPending,
    /// Finished.
    Done,
}

/// Where in `chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )` the
/// decoder is (RFC 9112 §7.1.1; `chunk-ext-val = token / quoted-string`, RFC 9110 §5.6.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ext {
    /// After ";" (and BWS): a name must start.
    NameStart,
    /// In a name (token).
    Name,
    /// BWS after a name: "=", ";" or nothing else.
    AfterName,
    /// After "=" (and BWS): a token or a quoted string must start.
    ValueStart,
    /// In a token value.
    Token,
    /// In a quoted-string value.
    Quoted,
    /// After a backslash in a quoted string.
    QuotedPair,
    /// After a complete value: ";", BWS or the CR.
    AfterValue,
    /// BWS after a value: only ";" may follow.
    Space,
}

/// A streaming decoder for one chunked body.
#[derive(Debug)]
pub struct ChunkedDecoder {
    state: State,
    limits: ChunkedLimits,
    /// The chunk size being read, then the data bytes still to come in the chunk.
    size: u64,
    /// Bytes seen on the current chunk-size line.
    line_len: usize,
    /// The trailer section so far.
    trailer: Vec<u8>,
    /// Data bytes so far.
    body: u64,
    /// Absolute offset of the next input byte, for error messages.
    pos: u64,
    /// Absolute offset of the trailer section.
    trailer_start: u64,
}

/// The trailer section with every obs-fold (CRLF followed by SP/HTAB, after the first line)
/// replaced by one SP, trailing whitespace before it dropped: RFC 9112 §5.2 asks a user agent
/// to unfold field lines of a response, and trailer fields are field lines (§7.1.2). A first
/// line that starts with whitespace is left for httparse to refuse.
fn unfold_trailer(t: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let folded = t
        .windows(3)
        .any(|w| w[0] == b'\r' && w[1] == b'\n' && (w[2] == b' ' || w[2] == b'\t'));
    if !folded {
        return std::borrow::Cow::Borrowed(t);
    }
    let mut out = Vec::with_capacity(t.len());
    let mut i = 0;
    while let Some(&b) = t.get(i) {
        let fold = b == b'\r'
            && t.get(i + 1) == Some(&b'\n')
            && matches!(t.get(i + 2), Some(b' ' | b'\t'));
        if fold {
            while out.last().is_some_and(|&c| c == b' ' || c == b'\t') {
                out.pop();
            }
            i += 2;
            while matches!(t.get(i), Some(b' ' | b'\t')) {
                i += 1;
            }
            out.push(b' ');
        } else {
            out.push(b);
            i += 1;
        }
    }
    std::borrow::Cow::Owned(out)
}

fn hex_value(b: u8) -> Option<u64> {
    (b as char).to_digit(16).map(u64::from)
}

impl ChunkedDecoder {
    /// A decoder whose error messages count bytes from 0.
    pub fn new(limits: ChunkedLimits) -> ChunkedDecoder {
        ChunkedDecoder::with_offset(limits, 0)
    }

    /// A decoder whose first input byte is byte `offset` of the message (so that errors name
    /// the position in the whole response).
    pub fn with_offset(limits: ChunkedLimits, offset: u64) -> ChunkedDecoder {
        ChunkedDecoder {
            state: State::Size,
            limits,
            size: 0,
            line_len: 0,
            trailer: Vec::new(),
            body: 0,
            pos: offset,
            trailer_start: 0,
        }
    }

    /// Data bytes decoded so far.
    pub fn body_bytes(&self) -> u64 {
        self.body
    }

    /// Whether `End` was returned.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Whether the last chunk was read and the decoder is in the trailer section (so a close
    /// now cut the message short after all of its data).
    pub fn in_trailer(&self) -> bool {
        self.state == State::Trailer
    }

    /// Decodes from `input`. Returns how many bytes were consumed and at most one event;
    /// `(n, None)` means all of `input` was consumed and more is needed (or, after `End`,
    /// that nothing more is read).
    pub fn decode<'a>(
        &mut self,
        input: &'a [u8],
    ) -> Result<(usize, Option<ChunkedEvent<'a>>), ProtoError> {
        let r = self.decode_inner(input);
        if let Ok((n, _)) = &r {
            self.pos = self.pos.saturating_add(*n as u64);
        }
        r
    }

    fn at(&self, i: usize) -> u64 {
        self.pos.saturating_add(i as u64)
    }

    fn decode_inner<'a>(
        &mut self,
        input: &'a [u8],
    ) -> Result<(usize, Option<ChunkedEvent<'a>>), ProtoError> {
        let mut i = 0;
        loop {
            match self.state {
                State::Done => return Ok((i, None)),
                State::EndPending => {
                    self.state = State::Done;
                    return Ok((i, Some(ChunkedEvent::End)));
                }
                State::Data => {
                    let rest = input.get(i..).unwrap_or_default();
                    if rest.is_empty() {
                        return Ok((i, None));
                    }
                    let take = usize::try_from(self.size)
                        .unwrap_or(usize::MAX)
                        .min(rest.len());
                    let data = rest.get(..take).unwrap_or_default();
                    self.size -= take as u64;
                    self.body = self.body.saturating_add(take as u64);
                    if self.size == 0 {
                        self.state = State::DataCr;
                    }
                    return Ok((i + take, Some(ChunkedEvent::Data(data))));
                }
                State::Trailer => {
                    let rest = input.get(i..).unwrap_or_default();
                    let (n, ev) = self.trailer_bytes(rest, i)?;
                    return Ok((i + n, ev));
                }
                _ => {}
            }
            let Some(&b) = input.get(i) else {
                return Ok((i, None));
            };
            match self.state {
                State::Size | State::SizeSpace | State::Extension(_) => {
                    self.line_len += 1;
                    if self.line_len > self.limits.max_line {
                        return Err(malformed(format!(
                            "chunk size line too long (over {} bytes) at byte {}",
                            self.limits.max_line,
                            self.at(i)
                        )));
                    }
                }
                _ => {}
            }
            match self.state {
                State::Size => match hex_value(b) {
                    Some(d) => {
                        self.size = self
                            .size
                            .checked_mul(16)
                            .and_then(|s| s.checked_add(d))
                            .ok_or_else(|| {
                                malformed(format!(
                                    "invalid chunk size at byte {}: too large",
                                    self.at(i)
                                ))
                            })?;
                    }
                    None if self.line_len == 1 => {
                        return Err(malformed(format!(
                            "invalid chunk size at byte {}: expected a hex digit, got {:?}",
                            self.at(i),
                            b as char
                        )));
                    }
                    None => match b {
                        b'\r' => self.state = State::SizeLf,
                        b';' => self.state = State::Extension(Ext::NameStart),
                        b' ' | b'\t' => self.state = State::SizeSpace,
                        _ => {
                            return Err(malformed(format!(
                                "invalid chunk size at byte {}: unexpected {:?}",
                                self.at(i),
                                b as char
                            )));
                        }
                    },
                },
                State::SizeSpace => match b {
                    b' ' | b'\t' => {}
                    b';' => self.state = State::Extension(Ext::NameStart),
                    _ => {
                        return Err(malformed(format!(
                            "invalid chunk size at byte {}: whitespace after the size must lead \
                             to an extension",
                            self.at(i)
                        )));
                    }
                },
                State::Extension(ext) => self.state = self.extension_byte(ext, b, i)?,
                State::SizeLf => {
                    if b != b'\n' {
                        return Err(malformed(format!(
                            "invalid chunk size line at byte {}: CR not followed by LF",
                            self.at(i)
                        )));
                    }
                    self.line_len = 0;
                    if self.size == 0 {
                        self.trailer_start = self.at(i + 1);
                        self.state = State::Trailer;
                    } else {
                        if let Some(max) = self.limits.max_body
                            && self.body.saturating_add(self.size) > max
                        {
                            return Err(ProtoError::new(
                                ProtoErrorKind::BodyTooLarge,
                                format!(
                                    "chunked body too large: a chunk of {} bytes at byte {} \
                                     goes past the limit of {max} bytes",
                                    self.size,
                                    self.at(i)
                                ),
                            ));
                        }
                        self.state = State::Data;
                    }
                }
                State::DataCr | State::DataLf => {
                    let want = if self.state == State::DataCr {
                        b'\r'
                    } else {
                        b'\n'
                    };
                    if b != want {
                        return Err(malformed(format!(
                            "improperly terminated chunk at byte {}: expected CRLF after the data",
                            self.at(i)
                        )));
                    }
                    self.state = if self.state == State::DataCr {
                        State::DataLf
                    } else {
                        self.size = 0;
                        State::Size
                    };
                }
                State::Data | State::Trailer | State::EndPending | State::Done => {}
            }
            i += 1;
        }
    }

    /// Collects the trailer section up to its empty line, then parses it.
    /// One byte of a chunk extension: the next state, or an error naming the byte.
    fn extension_byte(&self, ext: Ext, b: u8, i: usize) -> Result<State, ProtoError> {
        use super::syntax::is_tchar;
        let ws = b == b' ' || b == b'\t';
        let next = match (ext, b) {
            (Ext::NameStart, _) if ws => Some(Ext::NameStart),
            (Ext::NameStart, _) if is_tchar(b) => Some(Ext::Name),
            (Ext::Name, _) if is_tchar(b) => Some(Ext::Name),
            (Ext::Name | Ext::AfterName, _) if ws => Some(Ext::AfterName),
            (Ext::Name | Ext::AfterName, b'=') => Some(Ext::ValueStart),
            (Ext::ValueStart, _) if ws => Some(Ext::ValueStart),
            (Ext::ValueStart, b'"') => Some(Ext::Quoted),
            (Ext::ValueStart | Ext::Token, _) if is_tchar(b) => Some(Ext::Token),
            (Ext::Quoted, b'"') => Some(Ext::AfterValue),
            (Ext::Quoted, b'\\') => Some(Ext::QuotedPair),
            // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
            (Ext::Quoted, _) if b == b'\t' || (b >= 0x20 && b != 0x7f) => Some(Ext::Quoted),
            // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
            (Ext::QuotedPair, _) if b == b'\t' || (b >= 0x20 && b != 0x7f) => Some(Ext::Quoted),
            (Ext::Token | Ext::AfterValue | Ext::Space, _) if ws => Some(Ext::Space),
            (Ext::Name | Ext::AfterName | Ext::Token | Ext::AfterValue | Ext::Space, b';') => {
                Some(Ext::NameStart)
            }
            _ => None,
        };
        if let Some(e) = next {
            return Ok(State::Extension(e));
        }
        if b == b'\r' && matches!(ext, Ext::Name | Ext::Token | Ext::AfterValue) {
            return Ok(State::SizeLf);
        }
        let what = if b < 0x20 || b == 0x7f {
            format!("control character {b:#04x}")
        } else {
            let expected = match ext {
                Ext::NameStart => "an extension name",
                Ext::ValueStart => "an extension value",
                Ext::Quoted | Ext::QuotedPair => "the end of the quoted string",
                Ext::AfterName => "'=' or ';'",
                Ext::Space => "';' after whitespace",
                Ext::Name | Ext::Token | Ext::AfterValue => "';' or the end of the line",
            };
            format!("unexpected {:?}, expected {expected}", b as char)
        };
        Err(malformed(format!(
            "invalid chunk extension at byte {}: {what}",
            self.at(i)
        )))
    }

    fn trailer_bytes<'a>(
        &mut self,
        rest: &[u8],
        base: usize,
    ) -> Result<(usize, Option<ChunkedEvent<'a>>), ProtoError> {
        for (k, &b) in rest.iter().enumerate() {
            let prev = self.trailer.last().copied();
            if b == b'\n' && prev != Some(b'\r') {
                return Err(malformed(format!(
                    "bare LF in chunked trailer section at byte {}",
                    self.at(base + k)
                )));
            }
            if prev == Some(b'\r') && b != b'\n' {
                return Err(malformed(format!(
                    "bare CR in chunked trailer section at byte {}",
                    self.at(base + k)
                )));
            }
            if self.trailer.len() >= self.limits.max_trailer_bytes {
                return Err(ProtoError::new(
                    ProtoErrorKind::HeadTooLarge,
                    format!(
                        "chunked trailer section larger than {} bytes",
                        self.limits.max_trailer_bytes
                    ),
                ));
            }
            self.trailer.push(b);
            let t = &self.trailer;
            let complete = t.as_slice() == b"\r\n" || t.ends_with(b"\r\n\r\n");
            if complete {
                let consumed = k + 1;
                if t.len() == 2 {
                    self.state = State::Done;
                    self.trailer = Vec::new();
                    return Ok((consumed, Some(ChunkedEvent::End)));
                }
                let fields = self.parse_trailers()?;
                self.trailer = Vec::new();
                self.state = State::EndPending;
                return Ok((consumed, Some(ChunkedEvent::Trailers(fields))));
            }
        }
        Ok((rest.len(), None))
    }

    fn parse_trailers(&self) -> Result<HttpHeaders, ProtoError> {
        let max = self.limits.max_trailer_fields;
        let mut storage = vec![httparse::EMPTY_HEADER; max.min(16)];
        let block = unfold_trailer(&self.trailer);
        loop {
            let cap = storage.len();
            match httparse::parse_headers(&block, &mut storage) {
                Ok(httparse::Status::Complete((_, fields))) => {
                    let mut h = HttpHeaders::with_capacity(fields.len(), self.trailer.len());
                    for f in fields {
                        h.add_raw(f.name, f.value);
                    }
                    return Ok(h);
                }
                Ok(httparse::Status::Partial) => {
                    return Err(malformed("incomplete chunked trailer section".to_string()));
                }
                Err(httparse::Error::TooManyHeaders) if cap < max => {
                    storage = vec![httparse::EMPTY_HEADER; max];
                }
                Err(httparse::Error::TooManyHeaders) => {
                    return Err(ProtoError::new(
                        ProtoErrorKind::TooManyHeaders,
                        format!("too many trailer fields (more than {max})"),
                    ));
                }
                Err(e) => {
                    let (line, at) = locate_bad_line(&self.trailer, 0);
                    return Err(malformed(format!(
                        "{} in chunked trailer line {line} at byte {}",
                        describe(e),
                        self.trailer_start.saturating_add(at as u64)
                    )));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
