//! The control plane's security end to end: the bearer token on every endpoint, credentials
//! never returned, over real HTTP to the real binary.

#![expect(clippy::expect_used, reason = "a test: a failure is a failed test")]

mod support;

use serde_json::json;
use support::{Server, broker_url, free_addr};

const TOKEN: &str = "s3cret-t0ken";

/// Every route of the API, with a path that names something that may not exist: a request
/// that passes authentication gets 2xx or 4xx, never 401.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/streams"),
    ("POST", "/streams"),
    ("GET", "/streams/s"),
    ("DELETE", "/streams/s"),
    ("GET", "/streams/describe/s"),
    ("GET", "/pipelines"),
    ("POST", "/pipelines"),
    ("GET", "/pipelines/p"),
    ("PUT", "/pipelines/p"),
    ("DELETE", "/pipelines/p"),
    ("POST", "/pipelines/p/start"),
    ("POST", "/pipelines/p/stop"),
    ("GET", "/pipelines/p/explain"),
    ("POST", "/pipelines/p/explain"),
    ("GET", "/pipelines/p/status"),
    ("GET", "/pipelines/p/stats"),
    ("GET", "/pipelines/p/debug"),
    ("POST", "/pipelines/p/debug"),
    ("GET", "/pipelines/p/debug/batches"),
    ("GET", "/pipelines/p/debug/tail"),
    ("GET", "/export"),
    ("POST", "/import"),
    ("GET", "/metrics"),
    ("GET", "/debug/pprof/profile?seconds=0"),
    ("GET", "/no/such/endpoint"),
];

/// A server whose configuration file holds `config`.
async fn configured(config: &str) -> (Server, tempfile::TempDir) {
    let data = tempfile::tempdir().expect("a temporary directory");
    let path = data.path().join("config.yaml");
    std::fs::write(&path, config).expect("the configuration file is written");
    let path = path.to_string_lossy().into_owned();
    let server = Server::start(data.path(), &["--config", &path]).await;
    (server, data)
}

#[tokio::test]
async fn with_a_token_set_every_endpoint_but_healthz_answers_401_without_it() {
    let (mut server, _data) = configured(&format!("server:\n  auth_token: {TOKEN}\n")).await;
    for token in [None, Some("wrong"), Some("s3cret-t0ke")] {
        server.with_token(token);
        for (method, path) in ROUTES {
            let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let (status, body) = server.send(method.clone(), path, Some(&json!({}))).await;
            assert_eq!(status, 401, "{method} {path} with {token:?}: {body}");
            assert_eq!(body["error"]["code"], "unauthorized", "{body}");
        }
    }
    assert_eq!(server.get("/healthz").await.0, 200);
    server.with_token(Some(TOKEN));
    for (method, path) in ROUTES {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let (status, body) = server.send(method.clone(), path, Some(&json!({}))).await;
        assert!(
            status != 401 && status < 500,
            "{method} {path}: {status} {body}"
        );
    }
}

#[tokio::test]
async fn metrics_can_be_left_open_while_the_rest_stays_closed() {
    let config = format!("server:\n  auth_token: {TOKEN}\n  metrics_public: true\n");
    let (server, _data) = configured(&config).await;
    assert_eq!(server.get("/metrics").await.0, 200);
    assert_eq!(server.get("/streams").await.0, 401);
}

#[tokio::test]
async fn credentials_never_come_back() {
    let broker = broker_url();
    let (server, _data) = configured("{}").await;
    let stream = json!({
        "name": "guarded", "type": "mqtt",
        "schema": {"type": "json", "props": {"columns": [{"name": "a", "data_type": "int64"}]}},
        "props": {"broker_url": broker, "topic": "guarded", "username": "u", "password": "hunter2"}
    });
    let (status, created) = server.post("/streams", Some(&stream)).await;
    assert_eq!(status, 201, "{created}");
    let pipeline = json!({
        "id": "guarded_p", "sql": "SELECT a FROM guarded",
        "sinks": [{"type": "mqtt", "props": {"broker_url": broker, "topic": "out",
                   "username": "u", "password": "hunter2"}}]
    });
    assert_eq!(server.post("/pipelines", Some(&pipeline)).await.0, 201);
    let (_, described) = server.get("/streams/guarded").await;
    let (_, listed) = server.get("/streams").await;
    let (_, pipeline) = server.get("/pipelines/guarded_p").await;
    let (_, export) = server.get("/export").await;
    for answer in [&created, &described, &listed, &pipeline, &export] {
        let text = answer.to_string();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
    }
}

#[cfg(feature = "flight")]
#[tokio::test]
async fn the_flight_endpoint_needs_the_token_too() {
    use arrow_flight::{FlightClient, Ticket};

    let flight = free_addr();
    let config = format!("server:\n  auth_token: {TOKEN}\ndebug:\n  flight_addr: \"{flight}\"\n");
    let (_server, _data) = configured(&config).await;
    let channel = tonic::transport::Channel::from_shared(format!("http://{flight}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = FlightClient::new(channel);
    let refused = client.do_get(Ticket::new("p/sink")).await.unwrap_err();
    assert!(refused.to_string().contains("token"), "{refused}");
    client
        .add_header("authorization", &format!("Bearer {TOKEN}"))
        .unwrap();
    let missing = client.do_get(Ticket::new("p/sink")).await.unwrap_err();
    assert!(missing.to_string().contains("'p'"), "{missing}");
}
