//! curl's exit-code numbering, as `docs/cli.md` fixes it.
//!
//! Every [`ErrorKind`] the client can return is mapped here in one exhaustive `match` (and the
//! TLS and protocol sub-kinds in exhaustive matches of their own): a new kind in the library
//! does not compile until someone decides its number.
//!
//! This is the one table: the library's own `TlsErrorKind::curl_exit_code` and
//! `ProtoErrorKind::exit_code` are not used here (they are to leave the library).

use squall::ErrorKind;
use squall::client::ProxyErrorKind;
use squall::http::response::ProtoErrorKind;
use squall::net::tls::TlsErrorKind;

/// Complete response, any status (unless `-f`).
pub const OK: u8 = 0;
/// Unsupported scheme (also the catch-all for failures curl has no number for).
pub const UNSUPPORTED: u8 = 1;
/// Usage error.
pub const USAGE: u8 = 2;
/// Malformed URL.
pub const MALFORMED_URL: u8 = 3;
/// Could not resolve the proxy (or its URL does not parse, as curl says "Unsupported proxy
/// syntax" with this code).
pub const RESOLVE_PROXY: u8 = 5;
/// Could not resolve host.
pub const RESOLVE: u8 = 6;
/// Could not connect.
pub const CONNECT: u8 = 7;
/// Malformed or unsupported server reply.
pub const WEIRD_REPLY: u8 = 8;
/// Body incomplete.
pub const PARTIAL: u8 = 18;
/// `-f` and status >= 400.
pub const HTTP_FAIL: u8 = 22;
/// Could not write output.
pub const WRITE: u8 = 23;
/// Could not read the `-d @FILE`.
pub const READ: u8 = 26;
/// Timeout.
pub const TIMEOUT: u8 = 28;
/// TLS handshake failure.
pub const TLS_HANDSHAKE: u8 = 35;
/// Too many redirects.
pub const TOO_MANY_REDIRECTS: u8 = 47;
/// Closed before any response byte.
pub const EMPTY_REPLY: u8 = 52;
/// Connection reset / receive failure.
pub const RECV: u8 = 56;
/// Bad client certificate or key.
pub const CLIENT_CERT: u8 = 58;
/// Certificate verification failed.
pub const PEER_CERT: u8 = 60;
/// Bad content encoding.
pub const BAD_ENCODING: u8 = 61;
/// Body larger than `--max-body-size`.
pub const TOO_LARGE: u8 = 63;
/// Could not read the CA file.
pub const CA_FILE: u8 = 77;

/// Whether `-f` fails on this status: >= 400, and codes below 100, which RFC 9110 §15 says
/// to treat as 5xx (600 and above are already >= 400).
pub fn is_failure_status(code: u16) -> bool {
    !(100..400).contains(&code)
}

/// The exit code for a status: 22 with `-f` at >= 400 (or an invalid code < 100), else 0.
pub fn for_status(code: u16, fail: bool) -> u8 {
    if fail && is_failure_status(code) {
        HTTP_FAIL
    } else {
        OK
    }
}

/// The exit code for a failed fetch.
pub fn for_error(kind: &ErrorKind, fail: bool, code: u16) -> u8 {
    match kind {
        ErrorKind::Http => for_status(code, fail),
        ErrorKind::InvalidRequest => USAGE,
        ErrorKind::MalformedUrl => MALFORMED_URL,
        ErrorKind::UnsupportedScheme => UNSUPPORTED,
        ErrorKind::Timeout(_) => TIMEOUT,
        ErrorKind::Dns => RESOLVE,
        ErrorKind::Connect => CONNECT,
        ErrorKind::Tls(t) => for_tls(t),
        ErrorKind::Protocol(p) => for_proto(p),
        ErrorKind::ClosedBeforeResponse => EMPTY_REPLY,
        ErrorKind::ClosedMidBody => PARTIAL,
        ErrorKind::Reset => RECV,
        ErrorKind::BodyTooLarge => TOO_LARGE,
        ErrorKind::Decompression => BAD_ENCODING,
        ErrorKind::TooManyRedirects => TOO_MANY_REDIRECTS,
        // The CLI installs no callbacks that can fail and sends bodies from memory; if one
        // ever fails it is writing output that failed.
        ErrorKind::Callback => WRITE,
        ErrorKind::ClientClosed => UNSUPPORTED,
        // text()/json(): the CLI never decodes bodies.
        ErrorKind::Decode => BAD_ENCODING,
        ErrorKind::Proxy(p) => for_proxy(p),
        // A kind added to the library later: a failure the CLI cannot name better.
        _ => RECV,
    }
}

/// Proxy failures: 5 name or URL, 7 connection or unsupported scheme, 56 the tunnel.
pub fn for_proxy(kind: &ProxyErrorKind) -> u8 {
    match kind {
        ProxyErrorKind::BadUrl | ProxyErrorKind::Resolve => RESOLVE_PROXY,
        ProxyErrorKind::UnsupportedScheme | ProxyErrorKind::Connect => CONNECT,
        ProxyErrorKind::Tunnel { .. } => RECV,
        // A kind added later: the proxy could not be used, which curl numbers 7.
        _ => CONNECT,
    }
}

/// TLS failures: 35 handshake, 60 verification, 58 client certificate, 77 CA file.
pub fn for_tls(kind: &TlsErrorKind) -> u8 {
    match kind {
        TlsErrorKind::Handshake | TlsErrorKind::NotTls | TlsErrorKind::Io => TLS_HANDSHAKE,
        TlsErrorKind::CertExpired
        | TlsErrorKind::CertNotYetValid
        | TlsErrorKind::CertWrongHost
        | TlsErrorKind::UnknownIssuer
        | TlsErrorKind::BadCertificate => PEER_CERT,
        TlsErrorKind::BadCaFile { .. } => CA_FILE,
        TlsErrorKind::BadClientCert { .. } => CLIENT_CERT,
        TlsErrorKind::Truncated => PARTIAL,
        TlsErrorKind::Protocol => RECV,
        _ => TLS_HANDSHAKE,
    }
}

/// Protocol errors: 8, except a too-large body (63), a cut body (18), no reply at all (52).
pub fn for_proto(kind: &ProtoErrorKind) -> u8 {
    match kind {
        ProtoErrorKind::Malformed
        | ProtoErrorKind::HeadTooLarge
        | ProtoErrorKind::TooManyHeaders
        | ProtoErrorKind::TooManyInterim
        | ProtoErrorKind::IncompleteHead => WEIRD_REPLY,
        ProtoErrorKind::BodyTooLarge => TOO_LARGE,
        ProtoErrorKind::Incomplete => PARTIAL,
        ProtoErrorKind::NoResponse => EMPTY_REPLY,
        _ => WEIRD_REPLY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use squall::client::TimeoutPhase;
    use std::path::PathBuf;

    #[test]
    fn the_contract_table() {
        let e = |k: ErrorKind| for_error(&k, false, 599);
        assert_eq!(for_error(&ErrorKind::Http, false, 404), 0);
        assert_eq!(for_error(&ErrorKind::Http, true, 404), 22);
        assert_eq!(for_error(&ErrorKind::Http, true, 302), 0);
        assert_eq!(for_status(500, true), 22);
        assert_eq!(for_status(399, true), 0);
        assert_eq!(for_status(500, false), 0);
        // RFC 9110 §15: invalid codes are handled as 5xx.
        for code in [0, 99, 600, 999] {
            assert_eq!(for_status(code, true), 22, "{code}");
            assert_eq!(for_status(code, false), 0, "{code}");
        }
        assert_eq!(for_status(100, true), 0);
        assert_eq!(e(ErrorKind::UnsupportedScheme), 1);
        assert_eq!(e(ErrorKind::InvalidRequest), 2);
        assert_eq!(e(ErrorKind::MalformedUrl), 3);
        assert_eq!(e(ErrorKind::Dns), 6);
        assert_eq!(e(ErrorKind::Connect), 7);
        assert_eq!(e(ErrorKind::Protocol(ProtoErrorKind::Malformed)), 8);
        assert_eq!(e(ErrorKind::Protocol(ProtoErrorKind::IncompleteHead)), 8);
        assert_eq!(e(ErrorKind::Protocol(ProtoErrorKind::TooManyInterim)), 8);
        assert_eq!(e(ErrorKind::Protocol(ProtoErrorKind::Incomplete)), 18);
        assert_eq!(e(ErrorKind::Protocol(ProtoErrorKind::BodyTooLarge)), 63);
        assert_eq!(e(ErrorKind::Protocol(ProtoErrorKind::NoResponse)), 52);
        assert_eq!(e(ErrorKind::ClosedMidBody), 18);
        for p in [
            TimeoutPhase::Queue,
            TimeoutPhase::Resolve,
            TimeoutPhase::Connect,
            TimeoutPhase::TlsHandshake,
            TimeoutPhase::Request,
            TimeoutPhase::Idle,
        ] {
            assert_eq!(e(ErrorKind::Timeout(p)), 28);
        }
        assert_eq!(e(ErrorKind::Tls(TlsErrorKind::Handshake)), 35);
        assert_eq!(e(ErrorKind::Tls(TlsErrorKind::NotTls)), 35);
        assert_eq!(e(ErrorKind::TooManyRedirects), 47);
        assert_eq!(e(ErrorKind::ClosedBeforeResponse), 52);
        assert_eq!(e(ErrorKind::Reset), 56);
        let path = PathBuf::from("x.pem");
        assert_eq!(
            e(ErrorKind::Tls(TlsErrorKind::BadClientCert {
                path: path.clone()
            })),
            58
        );
        assert_eq!(e(ErrorKind::Tls(TlsErrorKind::UnknownIssuer)), 60);
        assert_eq!(e(ErrorKind::Tls(TlsErrorKind::CertExpired)), 60);
        assert_eq!(e(ErrorKind::Tls(TlsErrorKind::CertWrongHost)), 60);
        assert_eq!(e(ErrorKind::Tls(TlsErrorKind::Truncated)), 18);
        assert_eq!(e(ErrorKind::Decompression), 61);
        assert_eq!(e(ErrorKind::BodyTooLarge), 63);
        assert_eq!(e(ErrorKind::Tls(TlsErrorKind::BadCaFile { path })), 77);
        let p = |k: ProxyErrorKind| e(ErrorKind::Proxy(k));
        assert_eq!(p(ProxyErrorKind::BadUrl), 5);
        assert_eq!(p(ProxyErrorKind::Resolve), 5);
        assert_eq!(p(ProxyErrorKind::UnsupportedScheme), 7);
        assert_eq!(p(ProxyErrorKind::Connect), 7);
        assert_eq!(p(ProxyErrorKind::Tunnel { status: Some(407) }), 56);
        assert_eq!(p(ProxyErrorKind::Tunnel { status: None }), 56);
    }

    /// Every TLS and protocol sub-kind by name: the numbers the library's own helpers
    /// (`TlsErrorKind::curl_exit_code`, `ProtoErrorKind::exit_code`) give today, so the table
    /// here is the whole contract when they are gone.
    #[test]
    fn every_tls_and_protocol_kind_has_its_number() {
        use TlsErrorKind as K;
        for k in [
            K::CertExpired,
            K::CertNotYetValid,
            K::CertWrongHost,
            K::UnknownIssuer,
            K::BadCertificate,
        ] {
            assert_eq!(for_tls(&k), PEER_CERT, "{k:?}");
        }
        for k in [K::Handshake, K::NotTls, K::Io] {
            assert_eq!(for_tls(&k), TLS_HANDSHAKE, "{k:?}");
        }
        let path = PathBuf::from("x.pem");
        assert_eq!(for_tls(&K::BadClientCert { path: path.clone() }), 58);
        assert_eq!(for_tls(&K::BadCaFile { path }), 77);
        assert_eq!(for_tls(&K::Truncated), 18);
        assert_eq!(for_tls(&K::Protocol), 56);
        use ProtoErrorKind as P;
        for k in [
            P::Malformed,
            P::HeadTooLarge,
            P::TooManyHeaders,
            P::TooManyInterim,
            P::IncompleteHead,
        ] {
            assert_eq!(for_proto(&k), 8, "{k:?}");
        }
        assert_eq!(for_proto(&P::BodyTooLarge), 63);
        assert_eq!(for_proto(&P::Incomplete), 18);
        assert_eq!(for_proto(&P::NoResponse), 52);
    }
}
