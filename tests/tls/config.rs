//! `net::tls` configuration: settings as a pool key, the config cache, CA and client
//! certificate files (T-03, T-04, T-05) and the errors that name the file at fault.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use crate::support::tls::{Ca, TempDir};
use squall::net::tls::{TlsErrorKind, TlsSettings, build_client_config, client_config};

#[test]
// TlsSettings hashes a user config by pointer, so the config's interior mutability (its
// session cache) never changes a key.
#[allow(clippy::mutable_key_type)]
fn settings_are_a_pool_key() {
    let a = TlsSettings::new();
    assert!(a.validate_cert, "verification is on by default");
    let b = TlsSettings::default().validate_cert(false);
    let c = TlsSettings::new().ca_certs("/x/ca.pem");
    let set: HashSet<TlsSettings> = [a.clone(), b.clone(), c.clone(), TlsSettings::new()]
        .into_iter()
        .collect();
    assert_eq!(set.len(), 3);
    assert!(set.contains(&TlsSettings::new().validate_cert(false)));
    assert_ne!(a, b);

    let user = Arc::new(build_client_config(&TlsSettings::new()).unwrap());
    let u1 = TlsSettings::new().config(user.clone());
    let u2 = TlsSettings::new().config(user.clone());
    let u3 = TlsSettings::new().config(Arc::new((*user).clone()));
    assert_eq!(u1, u2);
    assert_ne!(u1, u3, "user configs compare by identity");
    assert_ne!(u1, a);
}

#[test]
fn configs_are_built_once_per_distinct_setting() {
    let dir = TempDir::new("cfg-cache");
    let ca = Ca::new("cache CA");
    let ca_path = dir.write("ca.pem", ca.pem());

    let s = TlsSettings::new().ca_certs(&ca_path);
    let c1 = client_config(&s).unwrap();
    let c2 = client_config(&s.clone()).unwrap();
    assert!(Arc::ptr_eq(&c1, &c2));

    let insecure = client_config(&TlsSettings::new().validate_cert(false)).unwrap();
    assert!(!Arc::ptr_eq(&c1, &insecure));
    assert!(Arc::ptr_eq(
        &insecure,
        &client_config(&TlsSettings::new().validate_cert(false)).unwrap()
    ));

    assert_eq!(c1.alpn_protocols, vec![b"http/1.1".to_vec()]);
    assert!(c1.enable_sni);
}

// T-05: a caller's own config rules over the four options.
#[test]
fn user_config_rules() {
    let user = Arc::new(build_client_config(&TlsSettings::new()).unwrap());
    let s = TlsSettings::new()
        .validate_cert(false)
        .ca_certs("/nonexistent/ca.pem")
        .client_cert("/nonexistent/cert.pem")
        .config(user.clone());
    let got = client_config(&s).unwrap();
    assert!(Arc::ptr_eq(&got, &user));
}

#[test]
fn bad_ca_files_name_the_file() {
    let dir = TempDir::new("cfg-badca");
    let missing = dir.path().join("missing.pem");
    let garbage = dir.write("garbage.pem", "this is not PEM\n");
    let broken = dir.write(
        "broken.pem",
        "-----BEGIN CERTIFICATE-----\nMIIB\n", // no END line
    );
    let bad_der = dir.write(
        "baddr.pem",
        "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
    );
    for path in [missing, garbage, broken, bad_der] {
        let err = client_config(&TlsSettings::new().ca_certs(&path)).unwrap_err();
        assert_eq!(
            err.kind,
            TlsErrorKind::BadCaFile { path: path.clone() },
            "{err}"
        );
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
        assert!(!err.is_verification_failure());
    }
}

#[test]
fn ca_file_is_not_read_without_verification() {
    // As curl -k --cacert: the CA file only matters when verifying.
    let s = TlsSettings::new()
        .validate_cert(false)
        .ca_certs("/nonexistent/squall-ca.pem");
    assert!(client_config(&s).is_ok());
}

#[test]
fn ca_file_with_several_roots_loads() {
    let dir = TempDir::new("cfg-multi");
    let (a, b) = (Ca::new("A"), Ca::new("B"));
    let path = dir.write("roots.pem", format!("# comment\n{}\n{}", a.pem(), b.pem()));
    assert!(client_config(&TlsSettings::new().ca_certs(path)).is_ok());
}

// T-04: client certificate plus key, key from the certificate file when no key file.
#[test]
fn client_cert_and_key_files() {
    let dir = TempDir::new("cfg-client");
    let ca = Ca::new("client CA");
    let leaf = ca.leaf(&["client.example"]);
    let cert = dir.write("cert.pem", &leaf.chain_pem);
    let key = dir.write("key.pem", leaf.key_pem());
    let both = dir.write("both.pem", format!("{}{}", leaf.chain_pem, leaf.key_pem()));

    let ok = TlsSettings::new().client_cert(&cert).client_key(&key);
    let config = client_config(&ok).unwrap();
    assert!(config.client_auth_cert_resolver.has_certs());
    let ok = TlsSettings::new().client_cert(&both);
    assert!(
        client_config(&ok)
            .unwrap()
            .client_auth_cert_resolver
            .has_certs()
    );
    let without = client_config(&TlsSettings::new()).unwrap();
    assert!(!without.client_auth_cert_resolver.has_certs());
}

#[test]
fn bad_client_cert_files_name_the_file() {
    let dir = TempDir::new("cfg-badclient");
    let ca = Ca::new("client CA");
    let leaf = ca.leaf(&["client.example"]);
    let other = ca.leaf(&["other.example"]);
    let cert = dir.write("cert.pem", &leaf.chain_pem);
    let key = dir.write("key.pem", leaf.key_pem());
    let other_key = dir.write("other-key.pem", other.key_pem());
    let missing = dir.path().join("nope.pem");
    let not_pem = dir.write("not.pem", "hello");

    let cases: Vec<(TlsSettings, PathBuf, &str)> = vec![
        (
            TlsSettings::new().client_cert(&missing),
            missing.clone(),
            "cannot read",
        ),
        (
            TlsSettings::new().client_cert(&not_pem),
            not_pem.clone(),
            "no certificates",
        ),
        // No key file, and no key in the certificate file.
        (
            TlsSettings::new().client_cert(&cert),
            cert.clone(),
            "no private key",
        ),
        (
            TlsSettings::new().client_cert(&cert).client_key(&missing),
            missing.clone(),
            "cannot read",
        ),
        (
            TlsSettings::new().client_cert(&cert).client_key(&not_pem),
            not_pem.clone(),
            "no private key",
        ),
        // A key file holding a certificate only.
        (
            TlsSettings::new().client_cert(&cert).client_key(&cert),
            cert.clone(),
            "no private key",
        ),
        // The key does not belong to the certificate.
        (
            TlsSettings::new().client_cert(&cert).client_key(&other_key),
            cert.clone(),
            "",
        ),
    ];
    for (settings, path, words) in cases {
        let err = client_config(&settings).unwrap_err();
        assert_eq!(
            err.kind,
            TlsErrorKind::BadClientCert { path: path.clone() },
            "{err}"
        );
        let text = err.to_string();
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(text.contains(words), "{text}");
    }
    // The key file is checked against its certificate: a matching pair works.
    assert!(client_config(&TlsSettings::new().client_cert(&cert).client_key(&key)).is_ok());
}

#[test]
fn verification_failures_are_the_certificate_kinds() {
    use TlsErrorKind as K;
    for k in [
        K::CertExpired,
        K::CertNotYetValid,
        K::CertWrongHost,
        K::UnknownIssuer,
        K::BadCertificate,
    ] {
        assert!(k.is_verification_failure());
    }
    for k in [K::Handshake, K::NotTls, K::Io] {
        assert!(!k.is_verification_failure());
    }
}
