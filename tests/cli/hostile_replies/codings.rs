//! Content codings (RFC 9110 §8.4, RFC 1952): gzip and deflate decoded, the rest passed through.

use super::*;

/// A gzip member written by hand: header fields per RFC 1952 §2.3, raw DEFLATE, trailer.
fn gzip_member(flags: u8, extra: &[u8], data: &[u8], crc_fix: u32, size_fix: u32) -> Vec<u8> {
    let mut raw = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    raw.write_all(data).unwrap();
    let deflated = raw.finish().unwrap();
    let mut crc = flate2::Crc::new();
    crc.update(data);
    let mut out = vec![0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 0xff];
    out.extend_from_slice(extra);
    if flags & 0x02 != 0 {
        let mut hcrc = flate2::Crc::new();
        hcrc.update(&out);
        out.extend_from_slice(&(hcrc.sum() as u16).to_le_bytes());
    }
    out.extend_from_slice(&deflated);
    out.extend_from_slice(&(crc.sum() ^ crc_fix).to_le_bytes());
    out.extend_from_slice(&((data.len() as u32) ^ size_fix).to_le_bytes());
    out
}

#[test]
fn content_codings() {
    let body = b"hello world ".repeat(100);
    let g = gzip(&body);
    let two = cat(&[&g, &gzip(b"MORE")]);
    let expect_two = cat(&[&body, b"MORE"]);
    let zlib = {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&body).unwrap();
        e.finish().unwrap()
    };
    let raw = {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&body).unwrap();
        e.finish().unwrap()
    };
    let named = gzip_member(
        0x04 | 0x08 | 0x10,
        b"\x04\x00abcdname\0comment\0",
        &body,
        0,
        0,
    );
    let hcrc = gzip_member(0x02, b"", &body, 0, 0);
    let mut bad_hcrc = hcrc.clone();
    bad_hcrc[10] ^= 1;
    let bad_crc = gzip_member(0, b"", &body, 1, 0);
    let bad_isize = gzip_member(0, b"", &body, 0, 1);
    let reserved = gzip_member(0x20, b"", &body, 0, 0);
    let br = b"\x0b\x02\x80hello\x03".to_vec();
    run_table(vec![
        case("gzip", with_ce("gzip", &g), 0).out(&body),
        case("x-gzip", with_ce("x-gzip", &g), 0).out(&body),
        case("GZIP (any case)", with_ce("GZIP", &g), 0).out(&body),
        // RFC 1952 §2.2: a gzip file is a series of members; all are decoded.
        case("two members", with_ce("gzip", &two), 0).out(&expect_two),
        // Anything after the last member is not a member: an error, not ignored (C-07).
        case(
            "trailing garbage",
            with_ce("gzip", &cat(&[&g, b"garbage"])),
            61,
        ),
        case("trailing NUL", with_ce("gzip", &cat(&[&g, b"\0"])), 61),
        case("truncated trailer", with_ce("gzip", &g[..g.len() - 5]), 61),
        case(
            "truncated mid stream",
            with_ce("gzip", &g[..g.len() / 2]),
            61,
        ),
        // §2.3.1: CRC32 and ISIZE are checked.
        case("bad CRC32", with_ce("gzip", &bad_crc), 61),
        case("bad ISIZE", with_ce("gzip", &bad_isize), 61),
        // FEXTRA, FNAME, FCOMMENT are skipped; FHCRC is checked.
        case("FEXTRA FNAME FCOMMENT", with_ce("gzip", &named), 0).out(&body),
        case("FHCRC", with_ce("gzip", &hcrc), 0).out(&body),
        case("bad FHCRC", with_ce("gzip", &bad_hcrc), 61),
        // §2.3.1.2: reserved FLG bits set must be an error.
        case("reserved flag bit", with_ce("gzip", &reserved), 61),
        case("not gzip at all", with_ce("gzip", b"hello"), 61),
        case("empty body", with_ce("gzip", b""), 0).out(""),
        // RFC 9110 §8.4.1.2: deflate is zlib; raw DEFLATE is accepted too, as browsers do.
        case("deflate (zlib)", with_ce("deflate", &zlib), 0).out(&body),
        case("deflate (raw)", with_ce("deflate", &raw), 0).out(&body),
        // cli.md: unknown codings pass through undecoded.
        case("br passes through", with_ce("br", &br), 0).out(&br),
        case("identity", with_ce("identity", &body), 0).out(&body),
        // A list passes through undecoded with its header (C-05), never half-decoded.
        case(
            "gzip, gzip passes through",
            with_ce("gzip, gzip", &gzip(&g)),
            0,
        )
        .out(gzip(&g)),
        // --raw: no decoding, bytes as sent.
        case("--raw keeps the bytes", with_ce("gzip", &g), 0)
            .args(&["--raw"])
            .out(&g),
        // Chunked framing under a content coding.
        case(
            "chunked gzip",
            cat(&[
                format!(
                    "{OK}Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
                    g.len()
                )
                .as_bytes(),
                &g,
                b"\r\n0\r\n\r\n",
            ]),
            0,
        )
        .out(&body),
        // RFC 9110 §8.6 / C-08: 204 with a coding has no content to decode.
        case(
            "204 with gzip",
            "HTTP/1.1 204 No Content\r\nContent-Encoding: gzip\r\n\r\n",
            0,
        )
        .out(""),
    ]);
}

#[test]
fn decoded_size_limit() {
    // cli.md: --max-body-size counts decoded bytes: a bomb stops at the limit with 63.
    let bomb = gzip(&vec![0u8; 8 << 20]);
    let body = b"hello world ".repeat(100);
    let g = gzip(&body);
    let n = body.len().to_string().leak() as &'static str;
    let n1 = (body.len() - 1).to_string().leak() as &'static str;
    run_table(vec![
        case("gzip bomb over the limit", with_ce("gzip", &bomb), 63)
            .args(&["--max-body-size", "1000000"]),
        case("decoded size exactly at the limit", with_ce("gzip", &g), 0)
            .args(&["--max-body-size", n])
            .out(&body),
        case("decoded size one over the limit", with_ce("gzip", &g), 63)
            .args(&["--max-body-size", n1]),
        case(
            "CL over the limit",
            format!("{OK}Content-Length: 10\r\n\r\n0123456789"),
            63,
        )
        .args(&["--max-body-size", "9"]),
        case(
            "close-delimited over the limit",
            format!("{OK}\r\n0123456789"),
            63,
        )
        .args(&["--max-body-size", "9"]),
        case(
            "chunked over the limit",
            format!("{CH}a\r\n0123456789\r\n0\r\n\r\n"),
            63,
        )
        .args(&["--max-body-size", "9"]),
        case(
            "CL at the limit",
            format!("{OK}Content-Length: 10\r\n\r\n0123456789"),
            0,
        )
        .args(&["--max-body-size", "10"])
        .out("0123456789"),
    ]);
}

#[test]
fn content_encoding_on_two_lines_is_not_half_decoded() {
    // RFC 9110 §5.3: two Content-Encoding lines are the list "gzip, gzip" (applied twice).
    // That list passes through undecoded like the one-line form (cli.md: unknown codings
    // pass through; C-05), or is decoded twice; never decoded once and labelled done.
    let inner = gzip(b"hello");
    let outer = gzip(&inner);
    let reply = cat(&[
        format!(
            "{OK}Content-Encoding: gzip\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
            outer.len()
        )
        .as_bytes(),
        &outer,
    ]);
    let s = once(&reply);
    let o = squall(&["-s", &s.url("/")]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(
        o.stdout == outer || o.stdout == b"hello",
        "half-decoded body: {:?}",
        o.stdout
    );
}

#[test]
fn head_prints_content_encoding_as_received() {
    // cli.md: -I prints the response head. A HEAD response has no content (RFC 9110 §9.3.2),
    // so nothing is decoded and the Content-Encoding field is the server's, as sent.
    let s = serve(vec![Reply::Close(
        format!("{OK}Content-Encoding: gzip\r\nContent-Length: 100\r\n\r\n").into_bytes(),
    )]);
    let o = squall(&["-s", "-I", &s.url("/")]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("{OK}Content-Encoding: gzip\r\nContent-Length: 100\r\n\r\n")
    );
}
