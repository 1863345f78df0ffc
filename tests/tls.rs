//! TLS on the server's own listeners, end to end: a self-signed certificate made here (rcgen),
//! the REST API and the metrics port over HTTPS and not over plain HTTP, Arrow Flight over TLS,
//! and the refusal to start with a token on every interface without TLS.

#![expect(clippy::unwrap_used, reason = "a test: a failure is a failed test")]

mod support;

use std::path::{Path, PathBuf};

use support::{Server, free_addr, options};
use veloflux_testkit::ServerOptions;

const TOKEN: &str = "s3cret-t0ken";

/// A self-signed certificate for 127.0.0.1, and its key, as PEM files.
struct SelfSigned {
    cert: PathBuf,
    key: PathBuf,
    /// The certificate itself: what clients trust.
    pem: String,
}

impl SelfSigned {
    /// Generates one into `dir`.
    fn generate(dir: &Path) -> Self {
        let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
        let generated = rcgen::generate_simple_self_signed(names).unwrap();
        let pem = generated.cert.pem();
        let cert = dir.join("server.pem");
        let key = dir.join("server.key");
        std::fs::write(&cert, &pem).unwrap();
        std::fs::write(&key, generated.signing_key.serialize_pem()).unwrap();
        Self { cert, key, pem }
    }

    /// The `server:` settings serving it, with the token.
    fn server_section(&self) -> String {
        format!(
            "server:\n  auth_token: {TOKEN}\n  tls_cert: \"{}\"\n  tls_key: \"{}\"\n",
            self.cert.display(),
            self.key.display()
        )
    }
}

/// `yaml` written as a configuration file into `dir`, and the launch options reading it.
fn configured(dir: &Path, yaml: &str) -> ServerOptions {
    let path = dir.join("config.yaml");
    std::fs::write(&path, yaml).unwrap();
    options(&["--config", path.to_str().unwrap()])
}

/// An HTTPS client trusting only `certificate`.
fn trusting(certificate: &SelfSigned) -> reqwest::Client {
    veloflux_connectors::tls::install_crypto_provider();
    let root = reqwest::Certificate::from_pem(certificate.pem.as_bytes()).unwrap();
    reqwest::Client::builder()
        .tls_certs_only([root])
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_api_answers_over_https_and_not_over_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    let certificate = SelfSigned::generate(dir.path());
    let metrics = free_addr();
    let yaml = format!(
        "{}  metrics_public: true\nmetrics:\n  addr: \"{metrics}\"\n",
        certificate.server_section()
    );
    // On every interface with a token: allowed, since TLS is on.
    let options = configured(dir.path(), &yaml)
        .on_all_interfaces()
        .with_tls_root(certificate.pem.clone());
    let mut server = Server::start_with(&dir.path().join("data"), &options).await;
    server.with_token(Some(TOKEN));
    let (status, body) = server.get("/streams").await;
    assert_eq!(status, 200, "{body}");

    let plain = reqwest::Client::new()
        .get(format!("http://{}/healthz", server.addr))
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP was answered: {plain:?}");

    let https = trusting(&certificate);
    let scraped = https
        .get(format!("https://{metrics}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(scraped.status(), 200);
    assert!(
        scraped
            .text()
            .await
            .unwrap()
            .contains("veloflux_pipeline_count")
    );
    let plain = reqwest::get(format!("http://{metrics}/metrics")).await;
    assert!(plain.is_err(), "plain HTTP was answered: {plain:?}");
}

#[tokio::test]
async fn a_token_on_every_interface_without_tls_stops_the_server_naming_the_keys() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!("server:\n  auth_token: {TOKEN}\n");
    let options = configured(dir.path(), &yaml).on_all_interfaces();
    let exited = veloflux_testkit::Server::run_to_exit(&options, &dir.path().join("data")).unwrap();
    assert!(!exited.status.success(), "{}", exited.stderr);
    for key in [
        "server.auth_token",
        "server.manager_addr (0.0.0.0:",
        "server.tls_cert",
        "server.allow_insecure_token",
    ] {
        assert!(exited.stderr.contains(key), "{key} in {}", exited.stderr);
    }

    let waived = format!("{yaml}  allow_insecure_token: true\n");
    let options = configured(dir.path(), &waived).on_all_interfaces();
    let mut server = Server::start_with(&dir.path().join("data"), &options).await;
    server.with_token(Some(TOKEN));
    assert_eq!(server.get("/streams").await.0, 200);
}

#[tokio::test]
async fn an_unusable_key_file_stops_the_server_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let certificate = SelfSigned::generate(dir.path());
    // The certificate where the key should be: no private key in it.
    let yaml = format!(
        "server:\n  tls_cert: \"{cert}\"\n  tls_key: \"{cert}\"\n",
        cert = certificate.cert.display()
    );
    let options = configured(dir.path(), &yaml);
    let exited = veloflux_testkit::Server::run_to_exit(&options, &dir.path().join("data")).unwrap();
    assert!(!exited.status.success(), "{}", exited.stderr);
    let expected = format!(
        "server.tls_key: {} holds no usable PEM private key",
        certificate.cert.display()
    );
    assert!(exited.stderr.contains(&expected), "{}", exited.stderr);
}

#[cfg(feature = "flight")]
#[tokio::test]
async fn arrow_flight_answers_over_tls() {
    use arrow_flight::FlightClient;
    use futures_util::StreamExt;
    use tonic::transport::{Certificate, Channel, ClientTlsConfig};

    let dir = tempfile::tempdir().unwrap();
    let certificate = SelfSigned::generate(dir.path());
    let flight = free_addr();
    let yaml = format!(
        "{}debug:\n  flight_addr: \"{flight}\"\n",
        certificate.server_section()
    );
    let options = configured(dir.path(), &yaml).with_tls_root(certificate.pem.clone());
    let _server = Server::start_with(&dir.path().join("data"), &options).await;

    let tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&certificate.pem));
    let channel = Channel::from_shared(format!("https://{flight}"))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = FlightClient::new(channel);
    client
        .add_header("authorization", &format!("Bearer {TOKEN}"))
        .unwrap();
    let flights: Vec<_> = client.list_flights("").await.unwrap().collect().await;
    assert!(flights.is_empty(), "{flights:?}");

    let plain = Channel::from_shared(format!("http://{flight}")).unwrap();
    let refused = match plain.connect().await {
        Ok(channel) => FlightClient::new(channel).list_flights("").await.is_err(),
        Err(_) => true,
    };
    assert!(refused, "Flight answered over plain HTTP/2");
}
