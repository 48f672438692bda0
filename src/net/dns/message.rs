//! DNS messages (RFC 1035 §4), sans-IO: build a query, parse a reply.
//!
//! This is the part of the stub resolver that meets bytes from the network, so it owns no
//! socket and no timer: it turns a name into a query datagram and a datagram into a
//! [`Message`], and nothing else. The resolver (`stub.rs`) decides what to send where and
//! whether a reply is believable; the fuzz target `dns` and the unit tests below drive this
//! module alone.
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

// ---------------------------------------------------------------------------------------------
// Parsing

/// A cursor over a message; every read is bounds-checked.
struct Reader<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], MessageError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.msg.len())
            .ok_or(MessageError::Truncated { what })?;
        let s = &self.msg[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, MessageError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, MessageError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Read a (possibly compressed) name at the cursor; the cursor ends after it (after the
    /// first pointer, if any).
    fn name(&mut self) -> Result<String, MessageError> {
        let (name, next) = read_name(self.msg, self.pos)?;
        self.pos = next;
        Ok(name)
    }
}

/// Read the name at `start` in `msg`. Returns it in presentation form and the offset just
/// after it in the original position (compression pointers are followed but not "consumed").
pub fn read_name(msg: &[u8], start: usize) -> Result<(String, usize), MessageError> {
    let mut name = String::new();
    let mut wire_len = 0usize; // expanded length on the wire, for the 255-byte limit
    let mut pos = start;
    let mut after: Option<usize> = None; // where the caller continues, once a pointer is seen
    let mut pointers = 0usize;
    loop {
        let len = *msg
            .get(pos)
            .ok_or(MessageError::Truncated { what: "a name" })?;
        match len & 0xc0 {
            0x00 => {
                let len = len as usize;
                wire_len += len + 1;
                if wire_len > MAX_NAME_LEN {
                    return Err(MessageError::NameTooLong);
                }
                if len == 0 {
                    return Ok((name, after.unwrap_or(pos + 1)));
                }
                let label = msg
                    .get(pos + 1..pos + 1 + len)
                    .ok_or(MessageError::Truncated { what: "a label" })?;
                if !name.is_empty() {
                    name.push('.');
                }
                for &b in label {
                    let b = b.to_ascii_lowercase();
                    if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                        name.push(b as char);
                    } else {
                        name.push_str(&format!("\\{b:03}"));
                    }
                }
                pos += 1 + len;
            }
            0xc0 => {
                let low = *msg.get(pos + 1).ok_or(MessageError::Truncated {
                    what: "a compression pointer",
                })?;
                let target = (((len & 0x3f) as usize) << 8) | low as usize;
                if target >= msg.len() {
                    return Err(MessageError::PointerOutOfRange { at: pos, target });
                }
                pointers += 1;
                if target >= pos || pointers > MAX_POINTERS {
                    return Err(MessageError::PointerLoop { at: pos });
                }
                after.get_or_insert(pos + 2);
                pos = target;
            }
            _ => return Err(MessageError::BadLabelType { at: pos, byte: len }),
        }
    }
}

/// Parse a whole message: header, questions, answers (see the module docs for what is
/// checked). The authority and additional sections are not read.
pub fn parse(msg: &[u8]) -> Result<Message, MessageError> {
    let mut r = Reader { msg, pos: 0 };
    let id = r.u16("the header")?;
    let flags = r.u16("the header")?;
    let qdcount = r.u16("the header")?;
    let ancount = r.u16("the header")?;
    let _nscount = r.u16("the header")?;
    let _arcount = r.u16("the header")?;

    // Nothing is reserved from a count: a question needs at least 5 bytes, a record 11, so
    // the remaining length bounds what can really follow.
    let room = msg.len() - HEADER_LEN;
    let mut questions = Vec::with_capacity((qdcount as usize).min(room / 5));
    for _ in 0..qdcount {
        let name = r.name()?;
        let qtype = r.u16("a question")?;
        let qclass = r.u16("a question")?;
        questions.push(Question {
            name,
            qtype,
            qclass,
        });
    }
    let mut answers = Vec::with_capacity((ancount as usize).min(room / 11));
    for _ in 0..ancount {
        answers.push(record(&mut r)?);
    }
    Ok(Message {
        id,
        response: flags & 0x8000 != 0,
        opcode: ((flags >> 11) & 0x0f) as u8,
        truncated: flags & 0x0200 != 0,
        recursion_available: flags & 0x0080 != 0,
        rcode: Rcode::from_bits((flags & 0x0f) as u8),
        questions,
        answers,
    })
}

fn record(r: &mut Reader<'_>) -> Result<Record, MessageError> {
    let name = r.name()?;
    let rtype = r.u16("a record")?;
    let class = r.u16("a record")?;
    let ttl = r.u32("a record")?;
    let rdlen = r.u16("a record")? as usize;
    let rdata_at = r.pos;
    let rdata = r.take(rdlen, "a record's data")?;
    let bad = || MessageError::BadRecord { rtype, len: rdlen };
    let data = match rtype {
        TYPE_A => RData::A(Ipv4Addr::from(
            <[u8; 4]>::try_from(rdata).map_err(|_| bad())?,
        )),
        TYPE_AAAA => RData::Aaaa(Ipv6Addr::from(
            <[u8; 16]>::try_from(rdata).map_err(|_| bad())?,
        )),
        TYPE_CNAME => {
            // The target may be compressed, pointing anywhere before it in the message.
            let (target, end) = read_name(r.msg, rdata_at)?;
            if end != rdata_at + rdlen {
                return Err(bad());
            }
            RData::Cname(target)
        }
        _ => RData::Other,
    };
    Ok(Record {
        name,
        rtype,
        class,
        ttl,
        data,
    })
}

/// The fuzz target `dns` (fuzz/fuzz_targets/dns.rs; replayed by tests/fuzz_corpus.rs): parse
/// arbitrary bytes as a reply, and as much of a prefix of them, never panicking. What parses
/// must make sense: no more records than the counts say, names within 255 bytes, and a
/// reply rebuilt from the parsed question and records parses back to the same ones; the stub
/// resolver's CNAME walk runs over every parsed answer.
pub fn fuzz_dns(data: &[u8]) {
    let split = data
        .first()
        .map_or(0, |&b| (b as usize * 7919) % (data.len() + 1));
    let _ = parse(&data[..split]);
    for start in 0..data.len().min(64) {
        if let Ok((name, end)) = read_name(data, start) {
            assert!(end > start && end <= data.len());
            assert!(name.len() <= 4 * MAX_NAME_LEN, "{name}");
        }
    }
    let Ok(msg) = parse(data) else { return };
    let count = |at: usize| u16::from_be_bytes([data[at], data[at + 1]]) as usize;
    assert_eq!(msg.questions.len(), count(4));
    assert_eq!(msg.answers.len(), count(6));
    for q in &msg.questions {
        for qtype in [TYPE_A, TYPE_AAAA] {
            let _ = super::stub::addresses(&msg, &q.name, qtype);
        }
    }
    // Round trip, where every name can be written back (escaped bytes cannot).
    let [q] = msg.questions.as_slice() else {
        return;
    };
    let mut b = match ReplyBuilder::new(msg.id, &q.name, q.qtype, msg.rcode) {
        Ok(b) => b,
        Err(_) => return,
    };
    let mut kept = Vec::new();
    for r in &msg.answers {
        let added = match &r.data {
            RData::A(ip) => b.clone().a(&r.name, r.ttl, *ip),
            RData::Aaaa(ip) => b.clone().aaaa(&r.name, r.ttl, *ip),
            RData::Cname(t) => b.clone().cname(&r.name, r.ttl, t),
            RData::Other => continue,
        };
        if let Ok(next) = added {
            b = next;
            kept.push(r.clone());
        }
    }
    let again = parse(&b.finish()).expect("a built reply parses");
    assert_eq!(again.id, msg.id);
    assert_eq!(again.rcode, msg.rcode);
    assert_eq!(again.questions[0].name, q.name);
    let kept: Vec<Record> = kept
        .into_iter()
        .map(|r| Record {
            class: CLASS_IN,
            ..r
        })
        .collect();
    assert_eq!(again.answers, kept);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reply to ID 0xbeef for `www.example.com` A: a CNAME to `web.example.com` (compressed
    /// against the question), then its A record, its owner a pointer into the CNAME's data.
    const REPLY: &[u8] = b"\xbe\xef\x81\x80\x00\x01\x00\x02\x00\x00\x00\x00\
        \x03www\x07example\x03com\x00\x00\x01\x00\x01\
        \xc0\x0c\x00\x05\x00\x01\x00\x00\x01\x2c\x00\x06\x03web\xc0\x10\
        \xc0\x2d\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x5d\xb8\xd8\x22";

    fn expected() -> Message {
        Message {
            id: 0xbeef,
            response: true,
            opcode: 0,
            truncated: false,
            recursion_available: true,
            rcode: Rcode::NoError,
            questions: vec![Question {
                name: "www.example.com".into(),
                qtype: TYPE_A,
                qclass: CLASS_IN,
            }],
            answers: vec![
                Record {
                    name: "www.example.com".into(),
                    rtype: TYPE_CNAME,
                    class: CLASS_IN,
                    ttl: 300,
                    data: RData::Cname("web.example.com".into()),
                },
                Record {
                    name: "web.example.com".into(),
                    rtype: TYPE_A,
                    class: CLASS_IN,
                    ttl: 60,
                    data: RData::A(Ipv4Addr::new(93, 184, 216, 34)),
                },
            ],
        }
    }

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

    #[test]
    fn parses_cname_chain_with_compression() {
        assert_eq!(parse(REPLY).unwrap(), expected());
    }

    #[test]
    fn every_prefix_is_a_clean_truncation_error() {
        // One byte at a time: each strict prefix fails with a typed error, never a panic.
        for n in 0..REPLY.len() {
            match parse(&REPLY[..n]) {
                Err(MessageError::Truncated { .. })
                | Err(MessageError::PointerOutOfRange { .. }) => {}
                other => panic!("prefix of {n} bytes: {other:?}"),
            }
        }
    }

    #[test]
    fn builder_round_trips() {
        let built = ReplyBuilder::new(0xbeef, "www.example.com", TYPE_A, Rcode::NoError)
            .unwrap()
            .cname("www.example.com", 300, "web.example.com")
            .unwrap()
            .a("web.example.com", 60, Ipv4Addr::new(93, 184, 216, 34))
            .unwrap()
            .finish();
        assert_eq!(parse(&built).unwrap(), expected());
        let tc = ReplyBuilder::new(7, "x.test", TYPE_AAAA, Rcode::ServFail)
            .unwrap()
            .truncated()
            .finish();
        let m = parse(&tc).unwrap();
        assert!(m.truncated && m.response);
        assert_eq!(m.rcode, Rcode::ServFail);
        assert_eq!(m.rcode.to_string(), "SERVFAIL");
    }

    fn header(ancount: u16) -> Vec<u8> {
        let mut m = vec![0, 1, 0x81, 0x80, 0, 0];
        m.extend_from_slice(&ancount.to_be_bytes());
        m.extend_from_slice(&[0, 0, 0, 0]);
        m
    }

    #[test]
    fn pointer_to_itself_is_a_loop() {
        let mut m = header(1);
        m.extend_from_slice(&[0xc0, 12]); // owner name: a pointer to itself
        m.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4]);
        assert_eq!(parse(&m), Err(MessageError::PointerLoop { at: 12 }));
    }

    #[test]
    fn two_pointers_at_each_other_are_a_loop() {
        // A forward pointer is refused even when the target points back (A -> B -> A).
        let mut m = header(1);
        m.extend_from_slice(&[0xc0, 14, 0xc0, 12]);
        assert_eq!(parse(&m), Err(MessageError::PointerLoop { at: 12 }));
    }

    #[test]
    fn pointer_past_the_end() {
        let mut m = header(1);
        m.extend_from_slice(&[0xc1, 0x00]);
        assert_eq!(
            parse(&m),
            Err(MessageError::PointerOutOfRange {
                at: 12,
                target: 256
            })
        );
    }

    #[test]
    fn reserved_label_types() {
        for byte in [0x40u8, 0x80] {
            let mut m = header(1);
            m.extend_from_slice(&[byte, 0]);
            assert_eq!(parse(&m), Err(MessageError::BadLabelType { at: 12, byte }));
        }
    }

    #[test]
    fn oversize_counts_are_truncation() {
        let mut m = header(u16::MAX);
        m.extend_from_slice(&[0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 10, 0, 0, 1]);
        assert_eq!(parse(&m), Err(MessageError::Truncated { what: "a name" }));
        let mut q = query(1, "a.b", TYPE_A).unwrap();
        q[5] = 200; // 200 questions, one present
        assert!(matches!(parse(&q), Err(MessageError::Truncated { .. })));
    }

    #[test]
    fn name_over_255_bytes_via_pointers() {
        // Five 63-byte labels, each name ending in a pointer to the one before: every
        // pointer is backwards, but the last name expands to 5 x 64 + 1 bytes.
        let mut m = header(0);
        let mut prev = m.len();
        m.push(63);
        m.extend_from_slice(&[b'x'; 63]);
        m.push(0);
        for _ in 0..4 {
            let at = m.len();
            m.push(63);
            m.extend_from_slice(&[b'x'; 63]);
            m.extend_from_slice(&[0xc0 | (prev >> 8) as u8, prev as u8]);
            prev = at;
        }
        assert_eq!(read_name(&m, prev), Err(MessageError::NameTooLong));
        // The second name (two labels, one pointer) is fine.
        let (name, end) = read_name(&m, 12 + 65).unwrap();
        assert_eq!(name.len(), 63 * 2 + 1);
        assert_eq!(end, 12 + 65 + 66);
    }

    #[test]
    fn record_data_must_fit_its_type() {
        let mut m = header(1);
        m.extend_from_slice(&[1, b'a', 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 3, 1, 2, 3]);
        assert_eq!(parse(&m), Err(MessageError::BadRecord { rtype: 1, len: 3 }));
        let mut m = header(1);
        m.extend_from_slice(&[1, b'a', 0, 0, 28, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4]);
        assert_eq!(
            parse(&m),
            Err(MessageError::BadRecord { rtype: 28, len: 4 })
        );
        // A CNAME whose name runs past its rdlength.
        let mut m = header(1);
        m.extend_from_slice(&[1, b'a', 0, 0, 5, 0, 1, 0, 0, 0, 0, 0, 2, 1, b'b', 0]);
        assert_eq!(parse(&m), Err(MessageError::BadRecord { rtype: 5, len: 2 }));
    }

    #[test]
    fn odd_label_bytes_are_escaped_and_lowercased() {
        let mut m = header(1);
        m.extend_from_slice(&[4, b'A', b'.', b' ', 0xff, 0, 0, 99, 0, 1, 0, 0, 0, 5, 0, 0]);
        let msg = parse(&m).unwrap();
        assert_eq!(msg.answers[0].name, "a\\046\\032\\255");
        assert_eq!(msg.answers[0].data, RData::Other);
        assert_eq!(msg.answers[0].ttl, 5);
    }
}
