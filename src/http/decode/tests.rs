//! Unit tests of the content decoder (gzip, x-gzip, deflate as zlib or raw), against streams
//! made by flate2's encoders and hand-built edge cases, fed whole and in pieces. A file of
//! their own keeps `decode.rs` to the decoder.

use super::*;
use flate2::Compression;
use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
use std::io::Write;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Decodes `input` fed in pieces of `step` bytes, draining as a client would.
fn decode_in_steps(
    coding: Coding,
    max: Option<u64>,
    input: &[u8],
    step: usize,
) -> Result<Vec<u8>, DecodeError> {
    let mut d = ContentDecoder::new(coding, max);
    let mut out = Vec::new();
    for piece in input.chunks(step.max(1)) {
        let mut rest = piece;
        while !rest.is_empty() {
            let before = out.len();
            let n = d.decode(rest, &mut out)?;
            assert!(out.len() - before <= MAX_OUT_PER_CALL);
            rest = &rest[n..];
        }
    }
    d.finish(&mut out)?;
    Ok(out)
}

/// Decodes `input` whole, in pieces of 1, 2, 3, 7 and 64 bytes, and split in two at every
/// position (for inputs up to 2 KiB); every way must give the same result.
fn all_steps(coding: Coding, input: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let whole = decode_in_steps(coding, None, input, input.len());
    for step in [1, 2, 3, 7, 64] {
        assert_eq!(
            decode_in_steps(coding, None, input, step),
            whole,
            "step {step}"
        );
    }
    if input.len() <= 2048 {
        for at in 0..=input.len() {
            let (a, b) = input.split_at(at);
            let mut d = ContentDecoder::new(coding, None);
            let mut out = Vec::new();
            let r = (|| {
                for mut rest in [a, b] {
                    while !rest.is_empty() {
                        let n = d.decode(rest, &mut out)?;
                        rest = &rest[n..];
                    }
                }
                d.finish(&mut out)?;
                Ok(out)
            })();
            assert_eq!(r, whole, "split at {at}");
        }
    }
    whole
}

#[test]
fn from_header() {
    assert_eq!(Coding::from_header(Some("GZip")), Coding::Gzip);
    assert_eq!(Coding::from_header(Some(" x-gzip ")), Coding::Gzip);
    assert_eq!(Coding::from_header(Some("deflate")), Coding::Deflate);
    // C-05: unknown codings and lists pass through.
    for v in ["br", "zstd", "gzip, br", "identity", ""] {
        assert_eq!(Coding::from_header(Some(v)), Coding::Identity, "{v}");
    }
    assert_eq!(Coding::from_header(None), Coding::Identity);
    let h = |lines: &[&str]| -> HttpHeaders {
        lines.iter().map(|v| ("Content-Encoding", *v)).collect()
    };
    assert_eq!(Coding::from_headers(&h(&["gzip"])), Coding::Gzip);
    assert_eq!(Coding::from_headers(&h(&["identity, gzip"])), Coding::Gzip);
    assert_eq!(
        Coding::from_headers(&h(&["gzip", "gzip"])),
        Coding::Identity
    );
    assert_eq!(Coding::from_headers(&h(&["gzip, br"])), Coding::Identity);
    assert_eq!(Coding::from_headers(&h(&[])), Coding::Identity);
}

#[test]
fn gzip_round_trip() {
    // C-01
    let data = b"asdfqwer".repeat(1000);
    assert_eq!(all_steps(Coding::Gzip, &gzip(&data)).unwrap(), data);
}

#[test]
fn tornado_asdfqwer() {
    // C-04's body: 34 gzip bytes that decode to "asdfqwer".
    let z = gzip(b"asdfqwer");
    assert_eq!(all_steps(Coding::Gzip, &z).unwrap(), b"asdfqwer");
}

#[test]
fn concatenated_members() {
    // C-06
    let mut z = gzip(b"hello ");
    z.extend(gzip(b""));
    z.extend(gzip(b"world"));
    assert_eq!(all_steps(Coding::Gzip, &z).unwrap(), b"hello world");
}

#[test]
fn header_fields() {
    // FEXTRA, FNAME, FCOMMENT, FHCRC, built by hand (RFC 1952 §2.3).
    let body = gzip(b"payload");
    let deflate_and_trailer = &body[10..];
    let mut h = vec![
        0x1f,
        0x8b,
        8,
        FTEXT | FHCRC | FEXTRA | FNAME | FCOMMENT,
        0,
        0,
        0,
        0,
        0,
        255,
    ];
    h.extend_from_slice(&[3, 0, b'a', b'b', b'c']);
    h.extend_from_slice(b"name.txt\0");
    h.extend_from_slice(b"a comment\0");
    let mut crc = Crc::new();
    crc.update(&h);
    let c = (crc.sum() & 0xffff) as u16;
    h.extend_from_slice(&c.to_le_bytes());
    h.extend_from_slice(deflate_and_trailer);
    assert_eq!(all_steps(Coding::Gzip, &h).unwrap(), b"payload");
    // A wrong FHCRC is refused.
    let n = h.len() - deflate_and_trailer.len() - 1;
    h[n] ^= 1;
    let e = all_steps(Coding::Gzip, &h).unwrap_err();
    assert!(e.to_string().contains("header CRC mismatch"), "{e}");
}

#[test]
fn errors() {
    // C-07
    let good = gzip(b"some data here");
    let mut nul = good.clone();
    nul.push(0);
    let mut garbage = good.clone();
    garbage.extend_from_slice(b"xyz");
    let truncated = &good[..good.len() - 3];
    let mut bad_crc = good.clone();
    let k = bad_crc.len() - 8;
    bad_crc[k] ^= 0xff;
    let mut bad_len = good.clone();
    let k = bad_len.len() - 4;
    bad_len[k] ^= 0xff;
    let cases: Vec<(&[u8], &str)> = vec![
        (&nul, "invalid gzip data: NUL padding after gzip member 1"),
        (&garbage, "invalid gzip data: garbage after gzip member 1"),
        (truncated, "invalid gzip data: truncated stream"),
        (&good[..5], "invalid gzip data: truncated stream"),
        (&bad_crc, "invalid gzip data: CRC-32 mismatch"),
        (&bad_len, "invalid gzip data: length mismatch"),
        (b"not gzip at all", "invalid gzip data: not a gzip stream"),
        (
            &[0x1f, 0x8b, 7],
            "invalid gzip data: unknown compression method 7",
        ),
        (
            &[0x1f, 0x8b, 8, 0x20],
            "invalid gzip data: reserved header flags",
        ),
        (
            &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff],
            "invalid gzip data",
        ),
    ];
    for (input, want) in cases {
        let e = all_steps(Coding::Gzip, input).unwrap_err();
        assert!(e.to_string().starts_with(want), "{e} (wanted {want})");
        assert!(!e.is_too_large());
    }
}

#[test]
fn empty_body_is_empty() {
    // C-08
    assert_eq!(all_steps(Coding::Gzip, b"").unwrap(), b"");
    assert_eq!(all_steps(Coding::Deflate, b"").unwrap(), b"");
}

#[test]
fn deflate_zlib_and_raw() {
    let data = b"deflated ".repeat(500);
    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    z.write_all(&data).unwrap();
    let zlib = z.finish().unwrap();
    assert_eq!(all_steps(Coding::Deflate, &zlib).unwrap(), data);
    let mut r = DeflateEncoder::new(Vec::new(), Compression::default());
    r.write_all(&data).unwrap();
    let raw = r.finish().unwrap();
    assert_eq!(all_steps(Coding::Deflate, &raw).unwrap(), data);
    let mut trailing = zlib.clone();
    trailing.push(0);
    assert!(all_steps(Coding::Deflate, &trailing).is_err());
    assert!(all_steps(Coding::Deflate, &zlib[..zlib.len() - 2]).is_err());
    // A zlib stream with a bad Adler-32.
    let mut bad = zlib.clone();
    let k = bad.len() - 1;
    bad[k] ^= 1;
    assert!(all_steps(Coding::Deflate, &bad).is_err());
}

#[test]
fn identity_passes_through() {
    assert_eq!(
        all_steps(Coding::Identity, b"raw bytes").unwrap(),
        b"raw bytes"
    );
}

#[test]
fn size_limit_counts_decoded_bytes() {
    // C-09, C-11: exactly the limit is fine, one more byte is not.
    let data = vec![b'a'; 100_000];
    let z = gzip(&data);
    assert_eq!(
        decode_in_steps(Coding::Gzip, Some(100_000), &z, 1000)
            .unwrap()
            .len(),
        100_000
    );
    let e = decode_in_steps(Coding::Gzip, Some(99_999), &z, 1000).unwrap_err();
    assert!(e.is_too_large());
    assert_eq!(
        e.to_string(),
        "decompressed body too large (more than 99999 bytes)"
    );
    let e = decode_in_steps(Coding::Identity, Some(3), b"four", 4).unwrap_err();
    assert!(e.is_too_large());
}

#[test]
fn bomb_output_is_bounded_per_call() {
    // C-10: 64 MiB of zeros compress to ~64 KiB; each call hands out at most 64 KiB, and
    // the decoder itself holds little.
    let data = vec![0u8; 64 << 20];
    let z = gzip(&data);
    let mut d = ContentDecoder::new(Coding::Gzip, None);
    let mut total = 0u64;
    let mut rest = &z[..];
    let mut out = Vec::new();
    while !rest.is_empty() {
        out.clear();
        let n = d.decode(rest, &mut out).unwrap();
        assert!(out.len() <= MAX_OUT_PER_CALL);
        total += out.len() as u64;
        rest = &rest[n..];
    }
    out.clear();
    d.finish(&mut out).unwrap();
    total += out.len() as u64;
    assert_eq!(total, 64 << 20);
}
