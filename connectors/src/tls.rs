//! The process-wide rustls crypto provider. The MQTT client and the HTTP client need one
//! before their first TLS connection; it is ring, because the default (aws-lc) needs a C and
//! assembler toolchain to build.

/// Installs ring as the process's rustls crypto provider, once; a provider installed before
/// serves as well. Every HTTP client (reqwest) of a process that links this crate needs it
/// before it is built.
pub fn install_crypto_provider() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        // Fails only when another provider was installed first, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
