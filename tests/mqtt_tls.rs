//! MQTT over TLS with client certificates (mutual TLS): a Mosquitto of the test's own whose
//! TLS listener requires a certificate signed by the test's CA, all generated here (rcgen).
//! Test clients use the broker's plain listener; the pipeline's stream and sink the TLS one.

#![expect(clippy::unwrap_used, reason = "a test: a failure is a failed test")]

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair,
};
use serde_json::{Value, json};
use support::{
    Server, Subscriber, free_addr, mosquitto_or_skip, publish, unique_topic, wait_until,
};

/// A CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files.
struct Certificates {
    ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

impl Certificates {
    /// Generates them into `dir`.
    fn generate(dir: &Path) -> Self {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        // Each certificate needs a name of its own: OpenSSL takes one whose subject is its
        // issuer's for self-signed.
        ca_params.distinguished_name = named("veloflux test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_key = KeyPair::generate().unwrap();
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf = |names: &[&str], usage| {
            let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
            let mut params = CertificateParams::new(names.clone()).unwrap();
            params.distinguished_name = named(&names[0]);
            params.extended_key_usages.push(usage);
            let key = KeyPair::generate().unwrap();
            let cert = params.signed_by(&key, &issuer).unwrap();
            (cert.pem(), key.serialize_pem())
        };
        let (server_cert, server_key) = leaf(
            &["127.0.0.1", "localhost"],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let (client_cert, client_key) =
            leaf(&["veloflux-client"], ExtendedKeyUsagePurpose::ClientAuth);
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        Self {
            ca: write("ca.pem", &ca.pem()),
            server_cert: write("server.pem", &server_cert),
            server_key: write("server.key", &server_key),
            client_cert: write("client.pem", &client_cert),
            client_key: write("client.key", &client_key),
        }
    }

    /// Mosquitto's configuration of a TLS listener on `addr` requiring a client certificate
    /// signed by the CA.
    fn listener(&self, addr: SocketAddr) -> String {
        format!(
            "listener {port} 127.0.0.1\ncafile {ca}\ncertfile {cert}\nkeyfile {key}\n\
             require_certificate true\n",
            port = addr.port(),
            ca = self.ca.display(),
            cert = self.server_cert.display(),
            key = self.server_key.display(),
        )
    }

    /// The TLS props of a stream or sink on `url`: the CA, and the client certificate when
    /// `with_certificate`.
    fn props(&self, url: &str, topic: &str, with_certificate: bool) -> Value {
        let mut props = json!({
            "broker_url": url,
            "topic": topic,
            "qos": 1,
            "ca_file": self.ca,
        });
        if with_certificate {
            props["cert_file"] = json!(self.client_cert);
            props["key_file"] = json!(self.client_key);
        }
        props
    }
}

/// The body of stream `name` reading `props` (JSON rows with a `temp`).
fn stream(name: &str, props: Value) -> Value {
    json!({
        "name": name,
        "type": "mqtt",
        "schema": {"type": "json", "props": {"columns": [{"name": "temp", "data_type": "float64"}]}},
        "props": props,
    })
}

/// A distinguished name of just a common name.
fn named(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    name
}

/// Creates stream `name` reading `props`.
async fn create_stream(server: &Server, name: &str, props: Value) {
    let (status, answer) = server.post("/streams", Some(&stream(name, props))).await;
    assert_eq!(status, 201, "{answer}");
}

/// Creates and starts pipeline `id` running `sql` into an MQTT sink of `props`.
async fn start_pipeline(server: &Server, id: &str, sql: &str, props: Value) {
    let pipeline = json!({"id": id, "sql": sql, "sinks": [{"type": "mqtt", "props": props}]});
    let (status, answer) = server.post("/pipelines", Some(&pipeline)).await;
    assert_eq!(status, 201, "{answer}");
    let (status, answer) = server.post(&format!("/pipelines/{id}/start"), None).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn a_broker_requiring_client_certificates_serves_the_configured_one_only() {
    let dir = tempfile::tempdir().unwrap();
    let certificates = Certificates::generate(dir.path());
    let tls_addr = free_addr();
    let Some(broker) = mosquitto_or_skip(dir.path(), &certificates.listener(tls_addr)).await else {
        return;
    };
    let (plain, tls) = (broker.url(), format!("ssl://{tls_addr}"));
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    let (input, output) = (unique_topic("mtls-in"), unique_topic("mtls-out"));

    // With the client certificate: the stream receives and the sink (MQTT 5) publishes.
    create_stream(&server, "mtls_in", certificates.props(&tls, &input, true)).await;
    let mut sink = certificates.props(&tls, &output, true);
    sink["protocol_version"] = json!(5);
    start_pipeline(&server, "mtls", "SELECT temp FROM mtls_in", sink).await;
    wait_until("both TLS connections are up", async || {
        server.all_connected("mtls").await
    })
    .await;
    let subscriber = Subscriber::start(&plain, &output).await;
    publish(&plain, &input, &[r#"{"temp": 21.5}"#]).await;
    assert_eq!(subscriber.wait_for(1).await, [r#"{"temp":21.5}"#]);

    // Without it the broker refuses the connection, and the status says so.
    create_stream(
        &server,
        "mtls_anonymous",
        certificates.props(&tls, &input, false),
    )
    .await;
    let sink = json!({"broker_url": plain, "topic": output});
    start_pipeline(
        &server,
        "mtls_refused",
        "SELECT temp FROM mtls_anonymous",
        sink,
    )
    .await;
    let mut status = Value::Null;
    wait_until(
        "the connection without a certificate is refused",
        async || {
            status = server.get("/pipelines/mtls_refused/status").await.1;
            status["state"] == "failed"
        },
    )
    .await;
    let error = status["last_error"].as_str().unwrap_or_default();
    eprintln!("refused without a client certificate: {error}");
    assert!(!error.is_empty(), "{status}");
    assert_eq!(status["connectors"][0]["connected"], false, "{status}");
}

#[tokio::test]
async fn half_a_client_certificate_or_an_unreadable_one_is_refused_naming_the_prop() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    let url = "ssl://127.0.0.1:8883";
    let half = json!({"broker_url": url, "topic": "t", "cert_file": "/nonexistent/client.pem"});
    let (status, answer) = server
        .post("/streams", Some(&stream("mtls_half", half)))
        .await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.to_string().contains("props.key_file"), "{answer}");

    let missing = json!({"broker_url": url, "topic": "t",
        "cert_file": "/nonexistent/client.pem", "key_file": "/nonexistent/client.key"});
    create_stream(&server, "mtls_missing", missing).await;
    let pipeline = json!({"id": "mtls_missing", "sql": "SELECT temp FROM mtls_missing",
        "sinks": [{"type": "nop"}]});
    assert_eq!(server.post("/pipelines", Some(&pipeline)).await.0, 201);
    let (status, answer) = server.post("/pipelines/mtls_missing/start", None).await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer
            .to_string()
            .contains("props.cert_file '/nonexistent/client.pem'"),
        "{answer}"
    );
}
