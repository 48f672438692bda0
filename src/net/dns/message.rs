//! DNS messages (RFC 1035 §4), sans-IO: build a query, parse a reply.
//!
//! This is the part of the stub resolver that meets bytes from the network, so it owns no
//! socket and no timer: it turns a name into a query datagram and a datagram into a
//! [`Message`], and nothing else. The resolver (`stub.rs`) decides what to send where and
//! whether a reply is believable; the fuzz target `dns` and the unit tests drive this module
//! alone. This file holds the types and the building of messages; reading them, where every
//! check below is made, is the child module `message/parse.rs`.
//!
//! A message is a 12-byte header, then four sections (question, answer, authority,
//! additional), each a count given in the header followed by that many entries. Names are
//! sequences of length-prefixed labels ending in a zero byte, and may end instead in a
//! two-byte *compression pointer* (top two bits set) to a name earlier in the message.
//!
//! Everything a hostile server controls is checked, and each failure is a [`MessageError`],
//! never a panic:
//! - a pointer must point *backwards*, strictly before the pointer itself, so a chain of
//!   pointers always moves towards the start of the message and cannot loop; a pointer to
//!   itself or forwards is [`MessageError::PointerLoop`], past the end
//!   [`MessageError::PointerOutOfRange`];
//! - a name is at most 255 bytes on the wire once expanded (§2.3.4), labels at most 63;
//! - counts are only trusted as far as the bytes go: a count larger than what follows is
//!   [`MessageError::Truncated`], and nothing is allocated from a count up front;
//! - an `A` record holds exactly 4 bytes, an `AAAA` exactly 16, a `CNAME` exactly one name.
//!
//! Only the header, the question and the answer section are decoded; the authority and
//! additional sections are not needed by a stub resolver and are left unread. Names are
//! given in presentation form, lower-cased, without the final dot (`www.example.com`); a
//! label byte other than a letter, digit, `-` or `_` is written `\DDD` (decimal), as `dig`
//! does, so a name is always printable and two names compare with `==`.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

mod parse;

pub use parse::{fuzz_dns, parse, read_name};

/// Record type `A` (an IPv4 address).
pub const TYPE_A: u16 = 1;
/// Record type `CNAME` (an alias).
pub const TYPE_CNAME: u16 = 5;
/// Record type `SOA` (start of authority; negative answers carry one).
pub const TYPE_SOA: u16 = 6;
/// Record type `AAAA` (an IPv6 address).
pub const TYPE_AAAA: u16 = 28;
/// Class `IN` (the Internet).
pub const CLASS_IN: u16 = 1;

/// The length of the fixed header.
pub const HEADER_LEN: usize = 12;
/// The longest name on the wire, length bytes and final zero included (RFC 1035 §2.3.4).
pub const MAX_NAME_LEN: usize = 255;
/// The longest label.
pub const MAX_LABEL_LEN: usize = 63;
/// The most compression pointers followed in one name. Backward-only pointers already rule
/// out loops; this bounds the work a name can cost even in a 64 KiB TCP message.
pub const MAX_POINTERS: usize = 64;

/// A reply code (RCODE, RFC 1035 §4.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rcode {
    /// 0: no error (possibly no data either: an empty answer section).
    NoError,
    /// 1: the server could not interpret the query.
    FormErr,
    /// 2: the server failed (e.g. could not reach the authority): try another server.
    ServFail,
    /// 3: the name does not exist (authoritative).
    NxDomain,
    /// 4: the server does not do this kind of query.
    NotImp,
    /// 5: the server refuses to answer us: try another server.
    Refused,
    /// Any other code.
    Other(u8),
}

impl Rcode {
    fn from_bits(b: u8) -> Rcode {
        match b {
            0 => Rcode::NoError,
            1 => Rcode::FormErr,
            2 => Rcode::ServFail,
            3 => Rcode::NxDomain,
            4 => Rcode::NotImp,
            5 => Rcode::Refused,
            n => Rcode::Other(n),
        }
    }

    /// The 4-bit code.
    pub fn bits(self) -> u8 {
        match self {
            Rcode::NoError => 0,
            Rcode::FormErr => 1,
            Rcode::ServFail => 2,
            Rcode::NxDomain => 3,
            Rcode::NotImp => 4,
            Rcode::Refused => 5,
            Rcode::Other(n) => n & 0x0f,
        }
    }
}

impl fmt::Display for Rcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rcode::NoError => f.write_str("NOERROR"),
            Rcode::FormErr => f.write_str("FORMERR"),
            Rcode::ServFail => f.write_str("SERVFAIL"),
            Rcode::NxDomain => f.write_str("NXDOMAIN"),
            Rcode::NotImp => f.write_str("NOTIMP"),
            Rcode::Refused => f.write_str("REFUSED"),
            Rcode::Other(n) => write!(f, "RCODE{n}"),
        }
    }
}

/// Why a message could not be built or parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MessageError {
    /// The message ended inside `what` (the header, a name, a record...).
    Truncated {
        /// The part being read.
        what: &'static str,
    },
    /// A compression pointer at offset `at` points to `target`, past the end of the message.
    PointerOutOfRange {
        /// Offset of the pointer.
        at: usize,
        /// Where it points.
        target: usize,
    },
    /// A compression pointer at offset `at` does not point strictly backwards (it could loop),
    /// or a name follows more than [`MAX_POINTERS`] pointers.
    PointerLoop {
        /// Offset of the pointer.
        at: usize,
    },
    /// A label length byte with the reserved top bits `01` or `10`.
    BadLabelType {
        /// Offset of the byte.
        at: usize,
        /// The byte.
        byte: u8,
    },
    /// A name longer than 255 bytes once expanded.
    NameTooLong,
    /// A record's data does not fit its type (an `A` record that is not 4 bytes...).
    BadRecord {
        /// The record type.
        rtype: u16,
        /// Its data length.
        len: usize,
    },
    /// A name given to build a query is not a valid host name (empty label, label over 63
    /// bytes, a non-ASCII or control character...).
    InvalidName {
        /// The name.
        name: String,
        /// Why.
        why: &'static str,
    },
}

impl fmt::Display for MessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageError::Truncated { what } => write!(f, "DNS message truncated in {what}"),
            MessageError::PointerOutOfRange { at, target } => write!(
                f,
                "DNS name compression pointer at offset {at} points past the end ({target})"
            ),
            MessageError::PointerLoop { at } => write!(
                f,
                "DNS name compression pointer at offset {at} does not point backwards (loop)"
            ),
            MessageError::BadLabelType { at, byte } => {
                write!(f, "DNS label type {byte:#04x} at offset {at} is reserved")
            }
            MessageError::NameTooLong => f.write_str("DNS name longer than 255 bytes"),
            MessageError::BadRecord { rtype, len } => {
                write!(f, "DNS record of type {rtype} has {len} bytes of data")
            }
            MessageError::InvalidName { name, why } => {
                write!(f, "invalid DNS name {name:?}: {why}")
            }
        }
    }
}

impl std::error::Error for MessageError {}

/// A question: which name and record type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    /// The name, presentation form, lower case, no final dot.
    pub name: String,
    /// The record type asked for.
    pub qtype: u16,
    /// The class (always [`CLASS_IN`] from us).
    pub qclass: u16,
}

/// The data of a record, for the types a stub resolver reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RData {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// The canonical name this name is an alias of.
    Cname(String),
    /// Any other type, left undecoded (only its type is kept).
    Other,
}

/// A resource record of the answer section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The owner name.
    pub name: String,
    /// The record type.
    pub rtype: u16,
    /// The class.
    pub class: u16,
    /// Time to live, in seconds.
    pub ttl: u32,
    /// The decoded data.
    pub data: RData,
}

/// A parsed DNS message: the header fields a resolver checks, the questions and the answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The ID, copied from the query by the server.
    pub id: u16,
    /// QR: this is a response.
    pub response: bool,
    /// The opcode (0 = standard query).
    pub opcode: u8,
    /// TC: the reply was truncated to fit a datagram; ask again over TCP.
    pub truncated: bool,
    /// RA: the server does recursion.
    pub recursion_available: bool,
    /// The reply code.
    pub rcode: Rcode,
    /// The question section.
    pub questions: Vec<Question>,
    /// The answer section.
    pub answers: Vec<Record>,
}

// ---------------------------------------------------------------------------------------------
// Building

/// Encode `name` as wire labels into `out`. Accepts a final dot; refuses the empty name, empty
/// labels, labels over 63 bytes, names over 255 bytes, and anything but printable ASCII
/// (internationalised names must arrive already in their `xn--` form).
pub fn encode_name(name: &str, out: &mut Vec<u8>) -> Result<(), MessageError> {
    let invalid = |why| MessageError::InvalidName {
        name: name.to_owned(),
        why,
    };
    let bare = name.strip_suffix('.').unwrap_or(name);
    if bare.is_empty() {
        return Err(invalid("empty name"));
    }
    let start = out.len();
    for label in bare.split('.') {
        if label.is_empty() {
            return Err(invalid("empty label"));
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(invalid("label longer than 63 bytes"));
        }
        if !label.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') {
            return Err(invalid("not a printable ASCII name"));
        }
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    if out.len() - start > MAX_NAME_LEN {
        out.truncate(start);
        return Err(invalid("longer than 255 bytes"));
    }
    Ok(())
}

/// A standard query for `name` and `qtype`, recursion desired, with ID `id`.
///
/// ```
/// use squall::net::dns::message::{query, TYPE_A};
/// let q = query(0x1234, "a.io", TYPE_A).unwrap();
/// assert_eq!(q, b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01a\x02io\x00\x00\x01\x00\x01");
/// ```
pub fn query(id: u16, name: &str, qtype: u16) -> Result<Vec<u8>, MessageError> {
    let mut out = Vec::with_capacity(HEADER_LEN + name.len() + 6);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&[0x01, 0x00]); // RD
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // 1 question, no records
    encode_name(name, &mut out)?;
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    Ok(out)
}

/// Builds replies: for test servers, benchmarks and the fuzz round trip. Owner names equal to
/// the question's name are written as a pointer to it (offset 12), as servers do.
#[derive(Clone, Debug)]
pub struct ReplyBuilder {
    out: Vec<u8>,
    qname: String,
    answers: u16,
}

impl ReplyBuilder {
    /// A reply to a query with `id` asking `qname`/`qtype`, with code `rcode`.
    pub fn new(id: u16, qname: &str, qtype: u16, rcode: Rcode) -> Result<Self, MessageError> {
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(&id.to_be_bytes());
        out.push(0x81); // QR, RD
        out.push(0x80 | rcode.bits()); // RA
        out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
        encode_name(qname, &mut out)?;
        out.extend_from_slice(&qtype.to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
        Ok(ReplyBuilder {
            out,
            qname: normalise(qname),
            answers: 0,
        })
    }

    /// Set the TC (truncated) bit.
    pub fn truncated(mut self) -> Self {
        self.out[2] |= 0x02;
        self
    }

    fn owner(&mut self, name: &str) -> Result<(), MessageError> {
        if normalise(name) == self.qname {
            self.out.extend_from_slice(&[0xc0, HEADER_LEN as u8]);
            Ok(())
        } else {
            encode_name(name, &mut self.out)
        }
    }

    fn record(
        &mut self,
        name: &str,
        rtype: u16,
        ttl: u32,
        data: &[u8],
    ) -> Result<(), MessageError> {
        self.owner(name)?;
        self.out.extend_from_slice(&rtype.to_be_bytes());
        self.out.extend_from_slice(&CLASS_IN.to_be_bytes());
        self.out.extend_from_slice(&ttl.to_be_bytes());
        self.out
            .extend_from_slice(&(data.len() as u16).to_be_bytes());
        self.out.extend_from_slice(data);
        self.answers += 1;
        self.out[6..8].copy_from_slice(&self.answers.to_be_bytes());
        Ok(())
    }

    /// Add an `A` record.
    pub fn a(mut self, name: &str, ttl: u32, ip: Ipv4Addr) -> Result<Self, MessageError> {
        self.record(name, TYPE_A, ttl, &ip.octets())?;
        Ok(self)
    }

    /// Add an `AAAA` record.
    pub fn aaaa(mut self, name: &str, ttl: u32, ip: Ipv6Addr) -> Result<Self, MessageError> {
        self.record(name, TYPE_AAAA, ttl, &ip.octets())?;
        Ok(self)
    }

    /// Add a `CNAME` record: `name` is an alias of `target`.
    pub fn cname(mut self, name: &str, ttl: u32, target: &str) -> Result<Self, MessageError> {
        let mut data = Vec::new();
        encode_name(target, &mut data)?;
        self.record(name, TYPE_CNAME, ttl, &data)?;
        Ok(self)
    }

    /// The encoded message.
    pub fn finish(self) -> Vec<u8> {
        self.out
    }
}

/// A name as [`parse`] gives it: lower case, no final dot.
pub fn normalise(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_exact_bytes() {
        let q = query(0xbeef, "WWW.Example.com.", TYPE_AAAA).unwrap();
        assert_eq!(
            q,
            b"\xbe\xef\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\
              \x03WWW\x07Example\x03com\x00\x00\x1c\x00\x01"
        );
    }

    #[test]
    fn query_refuses_bad_names() {
        let long_label = "a".repeat(64);
        let long_name = vec!["a".repeat(63); 4].join(".");
        for (name, why) in [
            ("", "empty name"),
            (".", "empty name"),
            ("a..b", "empty label"),
            (long_label.as_str(), "label longer than 63 bytes"),
            (long_name.as_str(), "longer than 255 bytes"),
            ("a b", "not a printable ASCII name"),
            ("bad\0name", "not a printable ASCII name"),
            ("café.fr", "not a printable ASCII name"),
        ] {
            let err = query(1, name, TYPE_A).unwrap_err();
            assert_eq!(
                err,
                MessageError::InvalidName {
                    name: name.into(),
                    why
                },
                "{name:?}"
            );
        }
        // 253 characters in presentation form is the longest that fits.
        let max = format!("{}.{}", vec!["a".repeat(63); 3].join("."), "a".repeat(61));
        assert_eq!(max.len(), 253);
        assert!(query(1, &max, TYPE_A).is_ok());
    }
}
