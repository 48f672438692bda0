#!/usr/bin/env python3
"""Write the hand-made seed inputs of each fuzz target into fuzz/corpus/<target>/.

The seeds give libFuzzer a start inside every rule of the protocol (framing by
Content-Length, chunked, close; 1xx sequences; trailers; obs-fold; smuggling
shapes; gzip members) instead of making it rediscover "HTTP/1.1 " from nothing.
Run from anywhere: `python3 fuzz/make_seeds.py`. It only adds files (named
`seed-<name>`); the corpus that `cargo fuzz cmin` keeps is what gets committed.
"""
import gzip
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def gz(data, **kw):
    return gzip.compress(data, mtime=0, **kw)


def gz_member(data, name=None, comment=None, extra=None, hcrc=False):
    """A gzip member built by hand, so the optional header fields (RFC 1952 2.3) appear."""
    flg = 0
    hdr_tail = b""
    if extra is not None:
        flg |= 4
        hdr_tail += struct.pack("<H", len(extra)) + extra
    if name is not None:
        flg |= 8
        hdr_tail += name + b"\0"
    if comment is not None:
        flg |= 16
        hdr_tail += comment + b"\0"
    head = bytes([0x1F, 0x8B, 8, 0]) + struct.pack("<I", 0) + bytes([0, 255])
    head = head[:3] + bytes([flg | (2 if hcrc else 0)]) + head[4:] + hdr_tail
    if hcrc:
        head += struct.pack("<H", zlib.crc32(head) & 0xFFFF)
    co = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = co.compress(data) + co.flush()
    return head + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def zlib_(data):
    return zlib.compress(data)


def raw_deflate(data):
    co = zlib.compressobj(6, zlib.DEFLATED, -15)
    return co.compress(data) + co.flush()


def chunk(data, ext=b""):
    return b"%x%s\r\n%s\r\n" % (len(data), ext, data)


TEXT = b"The quick brown fox jumps over the lazy dog.\n" * 4
GZ = gz(TEXT)

RESPONSE = {
    # Content-Length framing
    "cl": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
    "cl-zero": b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    "cl-short": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhel",
    "cl-extra-bytes": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhello",
    "cl-dup-equal": b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
    "cl-dup-list": b"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc",
    "cl-dup-differ": b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    "cl-negative": b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
    "cl-plus": b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
    "cl-overflow": b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n",
    "cl-max": b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\nxx",
    "cl-hex": b"HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n",
    "cl-space": b"HTTP/1.1 200 OK\r\nContent-Length:  7 \r\n\r\nhello!!",
    # chunked framing
    "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    + chunk(b"hello") + chunk(b" world") + b"0\r\n\r\n",
    "chunked-case": b"HTTP/1.1 200 OK\r\ntransfer-encoding: ChUnKeD\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "chunked-ext": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5;name=value;q=\"quoted\"\r\nhello\r\n0;last\r\n\r\n",
    "chunked-trailers": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: Expires\r\n\r\n"
    b"A\r\n0123456789\r\n0\r\nExpires: Wed, 21 Oct 2015 07:28:00 GMT\r\nX-Sum: abc\r\n\r\n",
    "chunked-bare-lf": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n",
    "chunked-overflow": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"10000000000000000\r\nx\r\n0\r\n\r\n",
    "chunked-truncated": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
    "chunked-upper-hex": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"1F\r\n" + b"x" * 31 + b"\r\n0000\r\n\r\n",
    "chunked-keepalive-then-more": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"3\r\nabc\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    # smuggling shapes
    "te-cl": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
    b"5\r\nhello\r\n0\r\n\r\n",
    "cl-te": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello",
    "te-gzip-chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    "te-identity": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nhello",
    "te-twice": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "te-http10": b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    # close-delimited and keep-alive decisions
    "close-delimited": b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the peer closes",
    "http10": b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "http10-keepalive": b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
    "http11-close": b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
    "connection-list": b"HTTP/1.1 200 OK\r\nConnection: Upgrade, close, x-foo\r\nContent-Length: 0\r\n\r\n",
    # status lines
    "no-reason": b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
    "empty-reason": b"HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n",
    "odd-reason": b"HTTP/1.1 599 Some\tReason \xe9\xff\r\nContent-Length: 0\r\n\r\n",
    "http2-version": b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
    "http09": b"<html>hello</html>",
    "code-short": b"HTTP/1.1 20 OK\r\n\r\n",
    "code-1000": b"HTTP/1.1 1000 OK\r\n\r\n",
    "lf-only-head": b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
    "status-then-ws-line": b"HTTP/1.1 200 OK\r\n X-Bad: 1\r\nContent-Length: 0\r\n\r\n",
    # obs-fold and header oddities
    "obs-fold": b"HTTP/1.1 200 OK\r\nX-Folded: first\r\n  second\r\n\tthird\r\nContent-Length: 0\r\n\r\n",
    "obs-fold-cl": b"HTTP/1.1 200 OK\r\nContent-Length:\r\n 4\r\n\r\nabcd",
    "header-latin1": b"HTTP/1.1 200 OK\r\nX-Name: caf\xe9 \xff\r\nContent-Length: 0\r\n\r\n",
    "header-no-colon": b"HTTP/1.1 200 OK\r\nNoColonHere\r\nContent-Length: 0\r\n\r\n",
    "header-space-before-colon": b"HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello",
    "header-empty-value": b"HTTP/1.1 200 OK\r\nX-Empty:\r\nContent-Length: 0\r\n\r\n",
    "header-nul": b"HTTP/1.1 200 OK\r\nX-Nul: a\x00b\r\nContent-Length: 0\r\n\r\n",
    "set-cookie-multi": b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Path=/\r\nSet-Cookie: b=2, c=3\r\n"
    b"Content-Length: 0\r\n\r\n",
    "many-headers": b"HTTP/1.1 200 OK\r\n"
    + b"".join(b"X-H%d: v\r\n" % i for i in range(120)) + b"Content-Length: 0\r\n\r\n",
    # bodiless codes
    "204-with-cl": b"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n",
    "304-with-te": b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
    "205": b"HTTP/1.1 205 Reset Content\r\nContent-Length: 0\r\n\r\n",
    # interim responses
    "100-then-200": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "103-then-200": b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "1xx-chain": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"
    b"HTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "1xx-too-many": b"HTTP/1.1 102 Processing\r\n\r\n" * 12 + b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    "101-unasked": b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    "100-with-cl": b"HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
    # content encodings
    "gzip-cl": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(GZ) + GZ,
    "gzip-chunked": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
    + chunk(GZ[:10]) + chunk(GZ[10:]) + b"0\r\n\r\n",
    "x-gzip-close": b"HTTP/1.1 200 OK\r\nContent-Encoding: x-gzip\r\n\r\n" + GZ,
    "deflate": b"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: %d\r\n\r\n"
    % len(zlib_(TEXT)) + zlib_(TEXT),
    "gzip-two-members": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + gz(b"one") + gz(b"two"),
    "gzip-trailing-junk": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + gz(b"one") + b"junk",
    "gzip-corrupt": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 12\r\n\r\n"
    b"\x1f\x8b\x08\x00garbage!",
    "br-passthrough": b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 3\r\n\r\nxyz",
    "gzip-bomb": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + gz(b"\0" * (4 << 20)),
}

CHUNKED = {
    "simple": chunk(b"hello") + b"0\r\n\r\n",
    "two": chunk(b"hello") + chunk(b", world") + b"0\r\n\r\n",
    "upper-hex": b"A\r\n0123456789\r\nFF\r\n" + b"y" * 255 + b"\r\n0\r\n\r\n",
    "leading-zeros": b"0005\r\nhello\r\n000\r\n\r\n",
    "ext": b"5;a=b;c\r\nhello\r\n0;z=\"q \\\" x\"\r\n\r\n",
    "ext-ws": b"5 ;a=b\r\nhello\r\n0\t; x\r\n\r\n",
    "trailers": chunk(b"x") + b"0\r\nX-Trailer: 1\r\nX-Other: two words\r\n\r\n",
    "trailer-fold": chunk(b"x") + b"0\r\nX-T: a\r\n b\r\n\r\n",
    "trailer-bad": chunk(b"x") + b"0\r\nno colon\r\n\r\n",
    "bare-lf-size": b"5\nhello\r\n0\r\n\r\n",
    "bare-lf-data": b"5\r\nhello\n0\r\n\r\n",
    "bare-cr": b"5\rhello\r\n0\r\n\r\n",
    "missing-crlf-after-data": b"5\r\nhelloX0\r\n\r\n",
    "overflow": b"FFFFFFFFFFFFFFFFF\r\n",
    "max-u64": b"FFFFFFFFFFFFFFFF\r\nabc",
    "empty-size": b"\r\nhello\r\n0\r\n\r\n",
    "neg": b"-5\r\nhello\r\n0\r\n\r\n",
    "0x-prefix": b"0x5\r\nhello\r\n0\r\n\r\n",
    "long-ext": b"1;" + b"e" * 5000 + b"\r\nx\r\n0\r\n\r\n",
    "truncated-size": b"5",
    "truncated-data": b"5\r\nhe",
    "truncated-last": b"5\r\nhello\r\n0\r\n",
    "after-end": b"0\r\n\r\nHTTP/1.1 200 OK\r\n",
    "many-small": b"".join(chunk(bytes([65 + i % 26])) for i in range(200)) + b"0\r\n\r\n",
    "gzip-in-chunks": chunk(GZ[:7]) + chunk(GZ[7:]) + b"0\r\n\r\n",
}

URL = {
    "plain": b"http://example.com/",
    "no-path": b"http://example.com",
    "https-port": b"https://Example.COM:8443/a/b?x=1&y=2#frag",
    "userinfo": b"http://user:p%40ss@example.com:8080/path",
    "userinfo-nopass": b"http://user@example.com/",
    "userinfo-empty": b"http://:@example.com/",
    "userinfo-at-in-pass": b"http://u:a@b@example.com/",
    "ipv4": b"http://127.0.0.1:80/",
    "ipv4-odd": b"http://0x7f.1/",
    "ipv6": b"http://[::1]:8080/index.html",
    "ipv6-full": b"https://[2001:db8:85a3:0:0:8a2e:370:7334]/",
    "ipv6-v4": b"http://[::ffff:192.0.2.128]/",
    "ipv6-zone": b"http://[fe80::1%25eth0]/",
    "ipv6-unclosed": b"http://[::1/",
    "ipvfuture": b"http://[v1.fe80::a+en1]/",
    "dot-segments": b"http://example.com/a/b/c/./../../g;x?y#s",
    "dot-only": b"http://example.com/../../..",
    "pct": b"http://example.com/%7Euser/%E2%82%AC?q=%20%zz",
    "port-empty": b"http://example.com:/",
    "port-big": b"http://example.com:65536/",
    "port-letters": b"http://example.com:8o/",
    "space": b"http://exa mple.com/a b",
    "ctl": b"http://example.com/\x01\x7f",
    "idn": "http://b\u00fccher.example/".encode(),
    "scheme-case": b"HtTp://EXAMPLE.com/",
    "ftp": b"ftp://ftp.example.com/file.txt",
    "mailto": b"mailto:someone@example.com",
    "no-scheme": b"//example.com/path",
    "relative": b"../a/b?c",
    "empty": b"",
    "query-only": b"http://example.com?x",
    "backslash": b"http:\\\\example.com\\a",
}

# Reference resolution: fuzz_url splits its input in two at a point derived from the first
# byte ((b * 7919) % (len + 1), see squall::http::fuzzing) and joins the second part onto the
# first. These seeds pad the base with a fragment (dropped by the parser) so that the split
# falls exactly between base and reference. RFC 3986 5.4 examples, plus a few of our own.
JOINS = {
    "join-normal": (b"http://a/b/c/d;p?q", b"g;x?y#s"),
    "join-abnormal": (b"http://a/b/c/d;p?q", b"../../../../g"),
    "join-dots": (b"http://a/b/c/d;p?q", b"./g/."),
    "join-dotdot": (b"http://a/b/c/d;p?q", b"g/../.."),
    "join-authority": (b"http://a/b/c/d;p?q", b"//g"),
    "join-query": (b"http://a/b/c/d;p?q", b"?y"),
    "join-empty": (b"http://a/b/c/d;p?q", b""),
    "join-absolute": (b"http://a/b", b"https://[::1]:99/x"),
    "join-scheme-only": (b"http://a/b/c/d;p?q", b"http:g"),
    "join-userinfo-base": (b"http://u:p@h:81/x/y", b"../z?q"),
    "join-ipv6-base": (b"https://[2001:db8::1]:8443/a/", b"b/./c/../d"),
    "join-absolute-path": (b"http://a/b/c", b"/../x/./y"),
}


def split_point(data):
    return (data[0] * 7919) % (len(data) + 1) if data else 0


def join_seed(base, ref):
    """base + ref, padded (base fragment, or ref fragment, or an upper-case scheme, which the
    parser lower-cases) so that fuzz_url splits exactly between the two."""
    for upper in (False, True):
        b0 = base[:4].upper() + base[4:] if upper else base
        for pad in range(0, 4096):
            for b, r in ((b0 + b"#" + b"f" * pad, ref), (b0, ref + (b"" if b"#" in ref else b"#") + b"f" * pad)):
                if split_point(b + r) == len(b):
                    return b + r
    raise SystemExit(f"no padding puts the split between {base!r} and {ref!r}")


for _name, (_base, _ref) in JOINS.items():
    URL[_name] = join_seed(_base, _ref)

GZIP = {
    "empty-member": gz(b""),
    "text": GZ,
    "fields": gz_member(b"hello", name=b"hello.txt", comment=b"a comment", extra=b"AB\x02\x00xy", hcrc=True),
    "two-members": gz(b"one") + gz(b"two"),
    "trailing-junk": gz(b"one") + b"junk",
    "trailing-zeros": gz(b"one") + b"\0\0\0\0",
    "truncated": GZ[: len(GZ) // 2],
    "truncated-trailer": GZ[:-3],
    "bad-crc": GZ[:-8] + b"\0\0\0\0" + GZ[-4:],
    "bad-isize": GZ[:-4] + b"\xff\xff\xff\xff",
    "bad-magic": b"\x1f\x8c" + GZ[2:],
    "bad-method": GZ[:2] + b"\x07" + GZ[3:],
    "reserved-flags": GZ[:3] + b"\xe0" + GZ[4:],
    "zlib": zlib_(TEXT),
    "zlib-bad-adler": zlib_(TEXT)[:-4] + b"\0\0\0\0",
    "raw-deflate": raw_deflate(TEXT),
    "stored-block": gzip.compress(b"stored", compresslevel=0, mtime=0),
    # 2 MiB of zeros in 2 KiB: past the 1 MiB mark fuzz_gzip once mishandled (F1), yet
    # cheap enough for the debug-build replay in tests/http/fuzz_corpus.rs.
    "bomb": gz(b"\0" * (2 << 20)),
    "header-only": GZ[:10],
}


def dns_name(name):
    out = b""
    for label in name.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def dns_msg(id_, flags, questions, answers, ns=0, ar=0, tail=b""):
    """A DNS message: header, questions (name, type), then raw answer records."""
    head = struct.pack(">HHHHHH", id_, flags, len(questions), len(answers), ns, ar)
    body = b"".join(dns_name(n) + struct.pack(">HH", t, 1) for n, t in questions)
    return head + body + b"".join(answers) + tail


def rr(owner, rtype, ttl, rdata):
    return owner + struct.pack(">HHIH", rtype, 1, ttl, len(rdata)) + rdata


Q12 = b"\xc0\x0c"  # a pointer to the question's name
DNS = {
    "query-a": dns_msg(0x1234, 0x0100, [("www.example.com", 1)], []),
    "reply-a": dns_msg(1, 0x8180, [("a.test", 1)], [rr(Q12, 1, 60, bytes([10, 0, 0, 1]))]),
    "reply-aaaa": dns_msg(2, 0x8180, [("a.test", 28)], [rr(Q12, 28, 60, bytes(range(16)))]),
    # www.example.com CNAME web.example.com (compressed), then its A (owner a pointer into
    # the CNAME's data): the unit test's vector in src/net/dns/message.rs.
    "reply-cname": dns_msg(
        0xBEEF, 0x8180, [("www.example.com", 1)],
        [rr(Q12, 5, 300, b"\x03web\xc0\x10"), rr(b"\xc0\x2d", 1, 60, bytes([93, 184, 216, 34]))],
    ),
    "reply-tc": dns_msg(3, 0x8380, [("big.test", 1)], []),
    "reply-nxdomain": dns_msg(4, 0x8183, [("no.test", 28)], [], ns=1,
                              tail=rr(dns_name("test"), 6, 300, dns_name("ns.test") + dns_name("root.test") + bytes(20))),
    "reply-servfail": dns_msg(5, 0x8182, [("x.test", 1)], []),
    "pointer-loop": dns_msg(6, 0x8180, [], [rr(Q12, 1, 1, bytes(4))]),
    "pointer-forward": struct.pack(">HHHHHH", 7, 0x8180, 0, 1, 0, 0) + b"\xc0\x0e\xc0\x0c",
    "pointer-past-end": struct.pack(">HHHHHH", 8, 0x8180, 0, 1, 0, 0) + b"\xff\xff",
    "count-oversize": struct.pack(">HHHHHH", 9, 0x8180, 0xFFFF, 0xFFFF, 0, 0) + dns_name("a") + b"\0\1\0\1",
    "rdata-short-a": dns_msg(10, 0x8180, [("a.test", 1)], [rr(Q12, 1, 60, bytes(3))]),
    "odd-labels": dns_msg(11, 0x8180, [], [rr(b"\x04A. \xff\x00", 99, 5, b"")]),
    "header-only": struct.pack(">HHHHHH", 12, 0x8180, 0, 0, 0, 0),
}


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, "seed-" + name), "wb") as f:
            f.write(data)
    print(f"{target}: {len(seeds)} seeds in {os.path.relpath(d)}")


write("response", RESPONSE)
write("chunked", CHUNKED)
write("url", URL)
write("gzip", GZIP)
write("dns", DNS)
