//! The certificate verifier rustls is given, and the few DER bytes they must read.
//!
//! Verification itself is webpki's; this file holds the two places where squall decides
//! otherwise, in one [`CertVerifier`]: any chain for `validate_cert(false)` (signatures still
//! checked), or webpki plus OpenSSL's acceptance of a trusted self-signed CA certificate
//! served as the server's own. That second case needs the certificate's validity period,
//! which webpki does not expose, hence a minimal DER reader ([`validity`]).

use std::sync::Arc;

use rustls::{
    CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme,
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature},
    pki_types::{CertificateDer, ServerName, UnixTime},
};

use super::error::{TlsError, TlsErrorKind};

/// The verifier squall gives rustls: one [`Policy`] for the certificate chain, and one
/// signature check for both policies (the handshake's signatures must be made by the key of
/// the certificate the server sent, whatever was decided about that certificate).
#[derive(Debug)]
pub(super) struct CertVerifier {
    provider: Arc<CryptoProvider>,
    policy: Policy,
}

/// How the server's certificate chain is judged.
#[derive(Debug)]
enum Policy {
    /// `validate_cert(false)`: any chain is accepted (the signatures are still checked, so
    /// the handshake itself is sound).
    AnyCert,
    /// webpki's verification against `roots` (what `with_root_certificates` installs), plus
    /// one case OpenSSL, and so curl, accepts and webpki refuses: the server's certificate is
    /// itself one of the trusted ones and says `CA:TRUE`. That is what `openssl req -x509`
    /// makes by default (and Go's `httptest` serves): trusting that file with `--cacert` must
    /// work. webpki refuses any CA certificate in the end-entity place (`CaUsedAsEndEntity`);
    /// here, when the certificate's subject and key are those of a trust anchor, the names and
    /// the validity period are checked instead, and the handshake's signature (checked with
    /// the certificate's key) proves the server holds that anchor's key.
    TrustedRoots {
        webpki: Arc<rustls::client::WebPkiServerVerifier>,
        anchors: Vec<rustls::pki_types::TrustAnchor<'static>>,
    },
}

impl CertVerifier {
    /// The signature algorithms of the crypto provider (ring's), for both policies.
    fn algorithms(&self) -> &rustls::crypto::WebPkiSupportedAlgorithms {
        &self.provider.signature_verification_algorithms
    }

    /// Accepts any chain (`validate_cert(false)`).
    pub(super) fn any_cert(provider: Arc<CryptoProvider>) -> Arc<CertVerifier> {
        Arc::new(CertVerifier {
            provider,
            policy: Policy::AnyCert,
        })
    }

    /// Verifies against `roots`, accepting a trusted self-signed CA served as its own leaf.
    pub(super) fn trusted_roots(
        roots: RootCertStore,
        provider: Arc<CryptoProvider>,
    ) -> Result<Arc<CertVerifier>, TlsError> {
        let anchors = roots.roots.clone();
        let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()
        .map_err(|e| TlsError::new(TlsErrorKind::Handshake, format!("TLS setup failed: {e}")))?;
        Ok(Arc::new(CertVerifier {
            provider,
            policy: Policy::TrustedRoots { webpki, anchors },
        }))
    }
}

/// The server's own certificate is a trust anchor: same subject, same key.
fn is_anchor(
    anchors: &[rustls::pki_types::TrustAnchor<'static>],
    cert: &CertificateDer<'_>,
) -> bool {
    let mut one = RootCertStore::empty();
    one.add(cert.clone().into_owned()).is_ok()
        && one.roots.first().is_some_and(|a| anchors.contains(a))
}

/// A trusted anchor served as the leaf: its names and validity period, as webpki would check
/// them for an end-entity certificate.
fn check_anchor_as_leaf(
    end_entity: &CertificateDer<'_>,
    server_name: &ServerName<'_>,
    now: UnixTime,
) -> Result<ServerCertVerified, rustls::Error> {
    let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
    rustls::client::verify_server_name(&parsed, server_name)?;
    let (not_before, not_after) = validity(end_entity).ok_or(rustls::Error::InvalidCertificate(
        CertificateError::BadEncoding,
    ))?;
    if now.as_secs() < not_before {
        return Err(CertificateError::NotValidYet.into());
    }
    if now.as_secs() > not_after {
        return Err(CertificateError::Expired.into());
    }
    Ok(ServerCertVerified::assertion())
}

impl ServerCertVerifier for CertVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Policy::TrustedRoots { webpki, anchors } = &self.policy else {
            return Ok(ServerCertVerified::assertion());
        };
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(e)))
                if e.to_string().contains("CaUsedAsEndEntity")
                    && is_anchor(anchors, end_entity) =>
            {
                check_anchor_as_leaf(end_entity, server_name, now)
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, self.algorithms())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, self.algorithms())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// One DER element: (tag, contents, the bytes after it). Definite lengths only, as DER has.
fn der_element(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = b.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &d| (acc << 8) | usize::from(d));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// A certificate's validity period (RFC 5280 §4.1.2.5) in Unix seconds: (notBefore,
/// notAfter). `None` when the DER does not have that shape.
fn validity(cert: &[u8]) -> Option<(u64, u64)> {
    let (0x30, cert, _) = der_element(cert)? else {
        return None;
    };
    let (0x30, mut tbs, _) = der_element(cert)? else {
        return None;
    };
    // [0] version (optional), serialNumber, signature, issuer, then validity.
    let (tag, _, rest) = der_element(tbs)?;
    if tag == 0xa0 {
        tbs = rest;
    }
    for _ in 0..3 {
        tbs = der_element(tbs)?.2;
    }
    let (0x30, validity, _) = der_element(tbs)? else {
        return None;
    };
    let (t1, before, rest) = der_element(validity)?;
    let (t2, after, _) = der_element(rest)?;
    Some((der_time(t1, before)?, der_time(t2, after)?))
}

/// UTCTime (`YYMMDDHHMMSSZ`, years 1950-2049) or GeneralizedTime (`YYYYMMDDHHMMSSZ`) as
/// RFC 5280 §4.1.2.5.1-2 allows them in certificates, in Unix seconds.
fn der_time(tag: u8, t: &[u8]) -> Option<u64> {
    let digits = |s: &[u8]| -> Option<u64> {
        s.iter().try_fold(0u64, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + u64::from(d - b'0'))
        })
    };
    let (year, rest) = match (tag, t.len()) {
        (0x17, 13) => {
            let yy = digits(&t[..2])?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &t[2..])
        }
        (0x18, 15) => (digits(&t[..4])?, &t[4..]),
        _ => return None,
    };
    if rest[10] != b'Z' || year < 1970 {
        return None;
    }
    let (month, day) = (digits(&rest[0..2])?, digits(&rest[2..4])?);
    let (h, m, s) = (
        digits(&rest[4..6])?,
        digits(&rest[6..8])?,
        digits(&rest[8..10])?,
    );
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    // Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    let (y, mo) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + m * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_times_are_read_as_rfc_5280_writes_them() {
        assert_eq!(der_time(0x17, b"700101000000Z"), Some(0));
        assert_eq!(der_time(0x17, b"000229120000Z"), Some(951_825_600));
        assert_eq!(der_time(0x17, b"491231235959Z"), Some(2_524_607_999));
        assert_eq!(der_time(0x18, b"21000301000000Z"), Some(4_107_542_400));
        // Not Z, wrong length, wrong tag, impossible fields: no time at all.
        for (tag, t) in [
            (0x17, &b"700101000000+"[..]),
            (0x17, b"7001010000Z"),
            (0x18, b"700101000000Z"),
            (0x04, b"700101000000Z"),
            (0x17, b"701301000000Z"),
            (0x17, b"7001010a0000Z"),
        ] {
            assert_eq!(der_time(tag, t), None, "{t:?}");
        }
    }

    #[test]
    fn a_certificates_validity_period_is_found() {
        let mut params = rcgen::CertificateParams::new(vec!["h".to_string()]).unwrap();
        params.not_before = rcgen::date_time_ymd(2001, 2, 3);
        params.not_after = rcgen::date_time_ymd(2061, 4, 5);
        let cert = params
            .self_signed(&rcgen::KeyPair::generate().unwrap())
            .unwrap();
        assert_eq!(validity(cert.der()), Some((981_158_400, 2_879_884_800)));
        assert_eq!(validity(&cert.der()[..40]), None);
        assert_eq!(validity(b"\x30\x00"), None);
    }
}
