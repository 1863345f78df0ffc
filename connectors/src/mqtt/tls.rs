//! The TLS side of an `ssl://` or `mqtts://` connection: the certificate authorities to trust
//! (`ca_file`, or the system's) and, for brokers that require one, the client's certificate
//! and key (`cert_file`, `key_file`). The files are read and checked when the source or sink
//! is built, so a missing or malformed one is reported naming its prop, not as a failed
//! handshake later.

use std::sync::Arc;

use rumqttc::{TlsConfiguration, Transport};
use rustls::client::WantsClientCert;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, ConfigBuilder, RootCertStore};

use crate::{Error, Result};

/// The PEM files of a client certificate and its private key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ClientIdentity<'a> {
    /// The certificate, and the chain to its authority if the broker needs it.
    pub(super) cert_file: &'a str,
    /// Its private key (PKCS#8, PKCS#1 or SEC1).
    pub(super) key_file: &'a str,
}

/// A TLS transport trusting the authorities of `ca_file` (the system's when `None`) and
/// presenting `identity` when given.
///
/// # Errors
/// A file that cannot be read or holds no certificate or key, a key that does not fit, or no
/// system authorities when there is no `ca_file`, named by prop.
pub(super) fn transport(
    ca_file: Option<&str>,
    identity: Option<ClientIdentity<'_>>,
) -> Result<Transport> {
    crate::tls::install_crypto_provider();
    // The files of the client certificate are checked first: their errors say the most.
    let identity = identity.map(Identity::read).transpose()?;
    let roots = match ca_file {
        Some(ca_file) => ca_roots(ca_file)?,
        None => system_roots()?,
    };
    let builder = ClientConfig::builder().with_root_certificates(roots);
    let config = match identity {
        None => builder.with_no_client_auth(),
        Some(identity) => identity.present(builder)?,
    };
    Ok(Transport::tls_with_config(TlsConfiguration::Rustls(
        Arc::new(config),
    )))
}

/// A client certificate chain and its private key, read from their files.
struct Identity<'a> {
    files: ClientIdentity<'a>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl<'a> Identity<'a> {
    fn read(files: ClientIdentity<'a>) -> Result<Self> {
        Ok(Self {
            chain: certificates("cert_file", files.cert_file)?,
            key: private_key(files.key_file)?,
            files,
        })
    }

    /// The configuration of `builder`, presenting this certificate when the broker asks.
    fn present(
        self,
        builder: ConfigBuilder<ClientConfig, WantsClientCert>,
    ) -> Result<ClientConfig> {
        let ClientIdentity {
            cert_file,
            key_file,
        } = self.files;
        builder
            .with_client_auth_cert(self.chain, self.key)
            .map_err(|error| {
                Error::Config(format!(
                    "props.key_file '{key_file}' with props.cert_file '{cert_file}': {error}"
                ))
            })
    }
}

/// The authorities in the PEM file `path` (prop `ca_file`).
fn ca_roots(path: &str) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    let (_, ignored) = roots.add_parsable_certificates(certificates("ca_file", path)?);
    if roots.is_empty() {
        return Err(Error::Config(format!(
            "props.ca_file '{path}' holds no usable certificate ({ignored} could not be parsed)"
        )));
    }
    Ok(roots)
}

/// The authorities the system trusts.
fn system_roots() -> Result<RootCertStore> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(found.certs);
    if roots.is_empty() {
        let why = found.errors.first().map(ToString::to_string);
        return Err(Error::Config(format!(
            "props.ca_file is needed: no system certificate authorities were found{}",
            why.map(|why| format!(" ({why})")).unwrap_or_default()
        )));
    }
    Ok(roots)
}

/// The certificates in the PEM file `path`, the value of prop `field`: at least one.
fn certificates(field: &str, path: &str) -> Result<Vec<CertificateDer<'static>>> {
    let pem = read(field, path)?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| Error::Config(format!("props.{field} '{path}': {error}")))?;
    if certificates.is_empty() {
        return Err(Error::Config(format!(
            "props.{field} '{path}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
        )));
    }
    Ok(certificates)
}

/// The private key in the PEM file `path` (prop `key_file`).
fn private_key(path: &str) -> Result<PrivateKeyDer<'static>> {
    let pem = read("key_file", path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|error| {
        Error::Config(format!(
            "props.key_file '{path}' holds no PEM private key: {error}"
        ))
    })
}

fn read(field: &str, path: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|error| Error::Config(format!("props.{field} '{path}': {error}")))
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

    use super::*;

    /// A CA and a client certificate it signed, as PEM files in a temporary directory.
    struct Files {
        _dir: tempfile::TempDir,
        ca: PathBuf,
        cert: PathBuf,
        key: PathBuf,
        other_key: PathBuf,
    }

    fn files() -> Files {
        let dir = tempfile::tempdir().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_key = KeyPair::generate().unwrap();
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec!["client".to_owned()])
            .unwrap()
            .signed_by(&key, &issuer)
            .unwrap();
        let write = |name: &str, text: String| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        Files {
            ca: write("ca.pem", ca.pem()),
            cert: write("client.pem", cert.pem()),
            key: write("client.key", key.serialize_pem()),
            other_key: write("other.key", KeyPair::generate().unwrap().serialize_pem()),
            _dir: dir,
        }
    }

    fn text(path: &Path) -> &str {
        path.to_str().unwrap()
    }

    fn build(ca: &Path, cert: &Path, key: &Path) -> Result<Transport> {
        let identity = ClientIdentity {
            cert_file: text(cert),
            key_file: text(key),
        };
        transport(Some(text(ca)), Some(identity))
    }

    #[test]
    fn a_certificate_with_its_key_makes_a_tls_transport() {
        let files = files();
        let transport = build(&files.ca, &files.cert, &files.key).unwrap();
        assert!(matches!(transport, Transport::Tls(_)));
        let without = super::transport(Some(text(&files.ca)), None).unwrap();
        assert!(matches!(without, Transport::Tls(_)));
    }

    #[test]
    fn unusable_files_are_refused_naming_their_prop_and_path() {
        let files = files();
        let missing = files.ca.with_file_name("missing.pem");
        let cases = [
            (
                build(&files.ca, &missing, &files.key),
                "props.cert_file",
                &missing,
            ),
            (
                build(&files.ca, &files.cert, &missing),
                "props.key_file",
                &missing,
            ),
            (
                build(&files.ca, &files.key, &files.key),
                "holds no PEM certificate",
                &files.key,
            ),
            (
                build(&files.ca, &files.cert, &files.cert),
                "holds no PEM private key",
                &files.cert,
            ),
            (
                build(&files.key, &files.cert, &files.key),
                "props.ca_file",
                &files.key,
            ),
            (
                build(&files.ca, &files.cert, &files.other_key),
                "props.key_file",
                &files.other_key,
            ),
        ];
        for (built, expected, path) in cases {
            let error = built.err().unwrap().to_string();
            assert!(error.contains(expected), "{error}");
            assert!(error.contains(text(path)), "{error}");
        }
    }
}
