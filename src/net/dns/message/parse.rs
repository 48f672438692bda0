//! Parsing DNS messages: the half of [`message`](super) that reads bytes a server controls.
//!
//! A bounds-checked cursor ([`Reader`]), names with their compression pointers
//! ([`read_name`]), the message ([`parse`]) and the fuzz target ([`fuzz_dns`]). Every check the
//! parent module's docs list is made here, each failure a [`MessageError`]; the tests feed
//! exact bytes (and every prefix of them) and expect exact messages or errors.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{
    CLASS_IN, HEADER_LEN, MAX_NAME_LEN, MAX_POINTERS, Message, MessageError, Question, RData,
    Rcode, Record, ReplyBuilder, TYPE_A, TYPE_AAAA, TYPE_CNAME,
};

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

/// The fuzz target `dns` (fuzz/fuzz_targets/dns.rs; replayed by tests/http/fuzz_corpus.rs): parse
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
            let _ = crate::net::dns::stub::addresses(&msg, &q.name, qtype);
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
    use crate::net::dns::message::query;

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
