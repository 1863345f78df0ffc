//! Certificate files the server refuses, each error naming the key and the file.

use super::*;

/// A self-signed certificate for 127.0.0.1 and its key, written as PEM into `dir`.
fn pair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let cert_path = dir.join(format!("{name}.pem"));
    let key_path = dir.join(format!("{name}.key"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert_path, key_path)
}

fn load_error(cert: &Path, key: &Path) -> String {
    ServerTls::load(cert, key).unwrap_err().to_string()
}

#[test]
fn a_certificate_and_its_key_load() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = pair(dir.path(), "server");
    ServerTls::load(&cert, &key).unwrap();
}

#[test]
fn a_missing_file_is_named_with_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = pair(dir.path(), "server");
    let missing = dir.path().join("missing.pem");
    let error = load_error(&missing, &key);
    assert!(
        error.starts_with(&format!(
            "server.tls_cert: cannot read {}",
            missing.display()
        )),
        "{error}"
    );
    let error = load_error(&cert, &missing);
    assert!(error.starts_with("server.tls_key: cannot read"), "{error}");
}

#[test]
fn a_file_without_the_expected_pem_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = pair(dir.path(), "server");
    // Each file holds the other's kind of item: nothing of what is expected.
    let error = load_error(&key, &key);
    assert!(
        error.starts_with(&format!(
            "server.tls_cert: {} holds no usable PEM certificate",
            key.display()
        )),
        "{error}"
    );
    let error = load_error(&cert, &cert);
    assert!(
        error.starts_with(&format!(
            "server.tls_key: {} holds no usable PEM private key",
            cert.display()
        )),
        "{error}"
    );
}

#[test]
fn a_key_of_another_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, _) = pair(dir.path(), "server");
    let (_, other_key) = pair(dir.path(), "other");
    let error = load_error(&cert, &other_key);
    assert!(
        error.starts_with("server.tls_cert and server.tls_key:"),
        "{error}"
    );
    assert!(error.contains(&other_key.display().to_string()), "{error}");
    assert!(
        error.ends_with("the private key is not the certificate's"),
        "{error}"
    );
}
