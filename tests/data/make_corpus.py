#!/usr/bin/env python3
"""Writes the raw-response corpus replayed by tests/http_corpus.rs (run from anywhere).

File names say the expectation: `<expect>.[<METHOD>.]<case>.http`, where <expect> is
keep-alive / close (complete; the connection may / may not be reused), or the error kind:
malformed, head-too-large, too-many-headers, too-many-interim, body-too-large, incomplete,
incomplete-head, no-response, decode-error. <METHOD> (upper case) is the request method,
GET when absent. `<same stem>.body` holds the expected body after chunked and content
decoding. The replay calls eof() after the last byte, as a peer closing would. Limits in the
replay: defaults, with max_body = 64 KiB (wire and decoded).
"""
import gzip, os, zlib

HERE = os.path.dirname(os.path.abspath(__file__))
for f in os.listdir(HERE):
    if f.endswith(('.http', '.body')):
        os.remove(os.path.join(HERE, f))

def w(name, data, body=None):
    if isinstance(data, str):
        data = data.encode('latin-1')
    with open(os.path.join(HERE, name + '.http'), 'wb') as f:
        f.write(data)
    if body is not None:
        if isinstance(body, str):
            body = body.encode('latin-1')
        with open(os.path.join(HERE, name + '.body'), 'wb') as f:
            f.write(body)

def gz(data):
    return gzip.compress(data, mtime=0)

OK = 'HTTP/1.1 200 OK\r\n'
CH = OK + 'Transfer-Encoding: chunked\r\n\r\n'

# --- complete responses ------------------------------------------------------------------
w('keep-alive.content-length-body', OK + 'Content-Length: 11\r\n\r\nhello world', 'hello world')  # S-07
w('keep-alive.chunked-body', CH + '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n', 'hello world')  # S-08
w('keep-alive.chunked-any-case', OK + 'Transfer-Encoding: CHUNKED\r\n\r\n2\r\nok\r\n0\r\n\r\n', 'ok')  # S-09
w('keep-alive.chunked-hex-digits', CH + '0000a\r\n0123456789\r\nA\r\nabcdefghij\r\n000\r\n\r\n',
  '0123456789abcdefghij')
w('keep-alive.chunked-extensions-ignored', CH + '2;name=value\r\nok\r\n1 ;a=b;c\r\n!\r\n0;last\r\n\r\n', 'ok!')  # S-12
w('keep-alive.chunked-trailers', CH + '2\r\nok\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n', 'ok')  # S-14
w('keep-alive.chunked-many-tiny-chunks', CH + ''.join('1\r\n%s\r\n' % c for c in 'tiny chunks') + '0\r\n\r\n',
  'tiny chunks')  # S-15
w('keep-alive.duplicate-equal-content-lengths',
  OK + 'Content-Length: 2, 2,2\r\nContent-Length: 2\r\n\r\nok', 'ok')  # S-16
w('keep-alive.content-length-whitespace-trimmed', OK + 'Content-Length: \t 2 \t\r\n\r\nok', 'ok')  # S-17
w('keep-alive.content-length-zero', OK + 'Content-Length: 0\r\n\r\n', '')
w('keep-alive.HEAD.no-body-despite-content-length', OK + 'Content-Length: 1000\r\n\r\n', '')  # S-25
w('keep-alive.HEAD.no-body-despite-chunked', OK + 'Transfer-Encoding: chunked\r\n\r\n', '')  # S-25
w('keep-alive.204-with-content-length-has-no-body', 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n', '')  # S-23
w('keep-alive.204-with-chunked-has-no-body', 'HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n', '')  # S-23
w('keep-alive.304-with-content-length-has-no-body', 'HTTP/1.1 304 Not Modified\r\nContent-Length: 42\r\n\r\n', '')  # S-24
w('keep-alive.OPTIONS.body-read-normally', OK + 'Content-Length: 4\r\n\r\nopts', 'opts')  # S-25
w('keep-alive.100-continue-then-final', 'HTTP/1.1 100 Continue\r\n\r\n' + OK + 'Content-Length: 2\r\n\r\nok', 'ok')  # S-21
w('keep-alive.ten-interim-then-final', 'HTTP/1.1 102 Processing\r\n\r\n' * 9 +
  'HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n' + OK + 'Content-Length: 2\r\n\r\nok', 'ok')  # S-21
w('keep-alive.obs-fold-unfolded', OK + 'X-Folded: a\r\n  b\r\n\tc\r\nContent-Length: 2\r\n\r\nok', 'ok')  # S-27
w('keep-alive.status-without-reason', 'HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok', 'ok')  # S-03
w('keep-alive.status-with-empty-reason', 'HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok', 'ok')  # S-02
w('keep-alive.status-unknown-code', 'HTTP/1.1 599 \r\nContent-Length: 2\r\n\r\nok', 'ok')  # S-45
w('keep-alive.bare-lf-line-endings', 'HTTP/1.1 200 OK\nContent-Length: 2\nX: y\n\nok', 'ok')  # S-28
w('keep-alive.latin1-header-value', OK + 'X-Name: caf\xe9\r\nContent-Length: 2\r\n\r\nok', 'ok')  # S-30
w('keep-alive.leading-empty-lines-skipped', '\r\n\r\n' + OK + 'Content-Length: 2\r\n\r\nok', 'ok')
w('keep-alive.http10-keep-alive', 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok', 'ok')
w('close.http10-read-until-close', 'HTTP/1.0 200 OK\r\n\r\nall the rest', 'all the rest')  # S-06
w('close.http11-read-until-close', OK + 'Connection: keep-alive\r\n\r\nall the rest', 'all the rest')  # S-06
w('close.connection-close', OK + 'Connection: close\r\nContent-Length: 2\r\n\r\nok', 'ok')
w('close.http10-content-length', 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok', 'ok')
w('close.http10-chunked-never-reused', 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n'
  '2\r\nok\r\n0\r\n\r\n', 'ok')
w('close.CONNECT.tunnel-established', 'HTTP/1.1 200 Connection Established\r\n\r\n', '')
w('keep-alive.CONNECT.refused-is-ordinary', 'HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 2\r\n\r\nno', 'no')

body = b'asdfqwer' * 64
g = gz(body)
w('keep-alive.gzip-body', OK.encode() + b'Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n' % len(g) + g, body)  # C-01
w('keep-alive.x-gzip-body', OK.encode() + b'Content-Encoding: x-gzip\r\nContent-Length: %d\r\n\r\n' % len(g) + g, body)
cat = gz(b'first member, ') + gz(b'') + gz(b'third member')
w('keep-alive.gzip-concatenated-members', OK.encode() + b'Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n' % len(cat)
  + cat, b'first member, third member')  # C-06
w('keep-alive.gzip-empty-body', OK + 'Content-Encoding: gzip\r\nContent-Length: 0\r\n\r\n', '')  # C-08
w('keep-alive.HEAD.gzip-head', OK + 'Content-Encoding: gzip\r\nContent-Length: 34\r\n\r\n', '')  # C-08
chunked_gz = b''.join(b'%x\r\n%s\r\n' % (len(g[i:i + 7]), g[i:i + 7]) for i in range(0, len(g), 7)) + b'0\r\n\r\n'
w('keep-alive.gzip-inside-chunked', OK.encode() + b'Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n'
  + chunked_gz, body)
z = zlib.compress(body)
w('keep-alive.deflate-zlib-body', OK.encode() + b'Content-Encoding: deflate\r\nContent-Length: %d\r\n\r\n' % len(z) + z, body)
raw = zlib.compressobj(wbits=-15)
raw = raw.compress(body) + raw.flush()
w('keep-alive.deflate-raw-body', OK.encode() + b'Content-Encoding: deflate\r\nContent-Length: %d\r\n\r\n' % len(raw)
  + raw, body)
w('keep-alive.br-passes-through', OK + 'Content-Encoding: br\r\nContent-Length: 4\r\n\r\n\x0b\x01\x80\x03', '\x0b\x01\x80\x03')  # C-05
w('keep-alive.gzip-twice-passes-through', OK.encode() + b'Content-Encoding: gzip\r\nContent-Encoding: gzip\r\n'
  b'Content-Length: %d\r\n\r\n' % len(g) + g, g)  # C-05: two codings are a list
w('keep-alive.coding-list-passes-through', OK + 'Content-Encoding: gzip, br\r\nContent-Length: 3\r\n\r\nabc', 'abc')  # C-05

# --- limits ---------------------------------------------------------------------------------
w('body-too-large.content-length-over-limit', OK + 'Content-Length: 65537\r\n\r\n')  # S-18
w('body-too-large.chunked-over-limit', CH + '10001\r\n')  # S-19
w('body-too-large.until-close-over-limit', OK.encode() + b'\r\n' + b'x' * 65537)  # S-19
bomb = gz(b'\0' * (2 << 20))
w('body-too-large.gzip-bomb', OK.encode() + b'Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n' % len(bomb) + bomb)  # C-09
w('too-many-interim.eleven-interim-responses', 'HTTP/1.1 100 Continue\r\n\r\n' * 11 + OK + 'Content-Length: 0\r\n\r\n')  # S-21
w('too-many-headers.one-hundred-and-one-fields', OK + ''.join('X-F%d: v\r\n' % i for i in range(101)) + '\r\n')
w('keep-alive.one-hundred-fields', OK + ''.join('X-F%d: v\r\n' % i for i in range(99)) + 'Content-Length: 0\r\n\r\n', '')
w('head-too-large.head-over-64k', OK + 'X-Big: ' + 'a' * 65536 + '\r\n\r\n')  # S-31

# --- malformed ----------------------------------------------------------------------------------
w('malformed.version-http2', 'HTTP/2.0 200 OK\r\n\r\n')  # S-04
w('malformed.version-1.2', 'HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n')
w('malformed.version-lower-case', 'http/1.1 200 OK\r\n\r\n')  # S-04
w('malformed.status-two-digit-code', 'HTTP/1.1 20 OK\r\n\r\n')  # S-04
w('malformed.status-four-digit-code', 'HTTP/1.1 2000 OK\r\n\r\n')
w('malformed.status-double-space', 'HTTP/1.1  200 OK\r\n\r\n')  # S-04
w('malformed.status-control-in-reason', 'HTTP/1.1 200 O\x01K\r\n\r\n')  # S-04
w('malformed.not-http-at-all', 'SSH-2.0-OpenSSH_9.6\r\n')
w('malformed.te-list-gzip-chunked', OK + 'Transfer-Encoding: gzip, chunked\r\n\r\n')  # S-09
w('malformed.te-identity', OK + 'Transfer-Encoding: identity\r\n\r\nabc')  # S-09
w('malformed.te-twice', OK + 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')
w('malformed.te-with-content-length', OK + 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')  # S-10
w('malformed.chunk-size-bare-lf', CH + '5\nhello\r\n0\r\n\r\n')  # S-11
w('malformed.chunk-size-not-hex', CH + 'g\r\n')  # S-11
w('malformed.chunk-size-0x-prefix', CH + '0x5\r\nhello\r\n0\r\n\r\n')
w('malformed.chunk-size-overflow', CH + 'fffffffffffffffff\r\n')
w('malformed.chunk-size-trailing-space', CH + '5 \r\nhello\r\n0\r\n\r\n')
w('malformed.chunk-extension-line-too-long', CH + '5;' + 'x' * 5000 + '\r\nhello\r\n0\r\n\r\n')  # S-12
w('malformed.chunk-data-not-followed-by-crlf', CH + '5\r\nhelloXX0\r\n\r\n')  # S-13
w('malformed.chunk-data-followed-by-bare-lf', CH + '5\r\nhello\n0\r\n\r\n')  # S-13
w('malformed.last-chunk-bare-lf', CH + '0\n\n')
w('malformed.trailer-bare-lf', CH + '0\r\nX: y\n\r\n')
w('malformed.trailer-bad-name', CH + '0\r\nBad Name: y\r\n\r\n')
w('malformed.content-lengths-unequal', OK + 'Content-Length: 2\r\nContent-Length: 3\r\n\r\nabc')  # S-16
w('malformed.content-length-list-unequal', OK + 'Content-Length: 3, 2\r\n\r\nabc')  # S-16
w('malformed.content-length-plus-sign', OK + 'Content-Length: +2\r\n\r\nok')  # S-17
w('malformed.content-length-negative', OK + 'Content-Length: -1\r\n\r\n')  # S-17
w('malformed.content-length-empty', OK + 'Content-Length: \r\n\r\n')
w('malformed.content-length-overflow', OK + 'Content-Length: 99999999999999999999\r\n\r\n')
w('malformed.interim-with-content-length', 'HTTP/1.1 100 Continue\r\nContent-Length: 2\r\n\r\n' + OK + 'Content-Length: 0\r\n\r\n')  # S-21
w('malformed.interim-with-transfer-encoding', 'HTTP/1.1 103 Early Hints\r\nTransfer-Encoding: chunked\r\n\r\n')  # S-21
w('malformed.101-without-upgrade', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n')
w('malformed.whitespace-line-after-status', OK + ' X-Folded: a\r\nContent-Length: 0\r\n\r\n')  # S-27
w('malformed.header-nul-in-value', OK + 'X: a\x00b\r\nContent-Length: 0\r\n\r\n')  # S-29
w('malformed.header-del-in-value', OK + 'X: a\x7fb\r\nContent-Length: 0\r\n\r\n')  # S-29
w('malformed.header-space-before-colon', OK + 'Content-Length : 0\r\n\r\n')  # S-29
w('malformed.header-bare-cr', OK + 'X: a\rb\r\nContent-Length: 0\r\n\r\n')  # S-28
w('malformed.header-no-colon', OK + 'NoColonHere\r\nContent-Length: 0\r\n\r\n')

# --- cut short -----------------------------------------------------------------------------------
w('incomplete.content-length-body-cut-short', OK + 'Content-Length: 10\r\n\r\nhello')  # S-07
w('incomplete.chunked-cut-in-data', CH + '5\r\nhel')
w('incomplete.chunked-cut-before-last-chunk', CH + '5\r\nhello\r\n')
w('incomplete.chunked-cut-in-trailers', CH + '0\r\nX: y\r\n')
w('incomplete-head.head-cut-short', OK + 'Content-Len')
w('incomplete-head.only-interim', 'HTTP/1.1 100 Continue\r\n\r\n')
w('no-response.empty', '')

# --- bad content coding ------------------------------------------------------------------------
def ce(name, data):
    w(name, OK.encode() + b'Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n' % len(data) + data)
ce('decode-error.gzip-trailing-nul', g + b'\0')  # C-07
ce('decode-error.gzip-trailing-garbage', g + b'garbage')  # C-07
ce('decode-error.gzip-truncated', g[:-4])  # C-07
bad = bytearray(g); bad[-8] ^= 0xff
ce('decode-error.gzip-bad-crc', bytes(bad))
ce('decode-error.gzip-not-gzip', b'plain text, not gzip')
w('decode-error.deflate-corrupt', OK.encode() + b'Content-Encoding: deflate\r\nContent-Length: 6\r\n\r\n\x78\x9c\xff\xff\xff\xff')

# --- black-box review (tests/blackbox_*.rs) -----------------------------------------------------
# RFC 9112 §5.2: obs-fold in a trailer field is unfolded like one in the head (§7.1.2).
w('keep-alive.chunked-trailer-obs-fold', CH + '2\r\nok\r\n0\r\nX-T: a\r\n b\r\n\r\n', 'ok')
# RFC 9112 §7.1: the last chunk arrived but not the CRLF that ends the trailer section.
w('incomplete.chunked-closed-after-last-chunk', CH + '2\r\nok\r\n0\r\n')
# RFC 9112 §6.3 rule 5: one value repeated in a list is one length; different ones refused.
w('keep-alive.content-length-list-equal', OK + 'Content-Length: 2, 2\r\n\r\nok', 'ok')
w('malformed.content-length-plus-sign', OK + 'Content-Length: +2\r\n\r\nok')
w('malformed.transfer-encoding-chunked-twice', OK + 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n')
w('malformed.chunk-size-17-hex-digits', CH + '10000000000000002\r\nok\r\n0\r\n\r\n')
w('malformed.status-http-2', 'HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n')
w('malformed.status-lower-case-version', 'http/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')
# RFC 9112 §7.1.1: extensions follow the grammar even though they are ignored.
w('keep-alive.chunk-ext-quoted-pair', CH + '2;a="x\\"y;z" ; b=c\r\nok\r\n0\r\n\r\n', 'ok')
w('malformed.chunk-ext-without-name', CH + '2;=x\r\nok\r\n0\r\n\r\n')
