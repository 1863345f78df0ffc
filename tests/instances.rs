//! Several server instances side by side: each has its own name in its client ids, so two
//! running the same specs never take each other's broker sessions; readiness for
//! orchestrators; and the warning a windowed pipeline on a shared subscription gets.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{Server, broker_url, pipeline_spec, publish, stream_spec, unique_topic, wait_until};

async fn start_named(dir: &std::path::Path, id: &str) -> Server {
    let yaml = format!("server:\n  instance_id: {id}\n");
    Server::start_configured(&dir.join("data"), &yaml).await
}

async fn source_reconnects(server: &Server, pipeline: &str) -> Value {
    let status = server.get(&format!("/pipelines/{pipeline}/status")).await.1;
    status["connectors"][0]["reconnects"].clone()
}

#[tokio::test]
async fn two_instances_running_the_same_specs_keep_their_own_sessions() {
    let broker = broker_url();
    let topic = unique_topic("instances");
    let output = unique_topic("instances-out");
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let servers = [
        start_named(dirs[0].path(), "edge-a").await,
        start_named(dirs[1].path(), "edge-b").await,
    ];
    for (server, id) in servers.iter().zip(["edge-a", "edge-b"]) {
        let health = server.get("/healthz").await.1;
        assert_eq!(health["instance_id"], id, "{health}");
        assert_eq!(
            server
                .post("/streams", Some(&stream_spec("s", &broker, &topic, false)))
                .await
                .0,
            201
        );
        let pipeline = pipeline_spec("p", "SELECT user_id FROM s", &broker, &output);
        assert_eq!(server.post("/pipelines", Some(&pipeline)).await.0, 201);
        assert_eq!(server.post("/pipelines/p/start", None).await.0, 200);
        let status = server.get("/pipelines/p/status").await.1;
        assert_eq!(status["instance_id"], id, "{status}");
    }
    for server in &servers {
        wait_until("both instances take messages", async || {
            publish(&broker, &topic, &[r#"{"user_id": 1, "score": 1}"#]).await;
            server.stage("p", "source").await["records_in"].as_u64() > Some(0)
        })
        .await;
    }
    // With one client id for both, each connection would push the other off the broker.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for server in &servers {
        assert_eq!(source_reconnects(server, "p").await, json!(0));
    }
}

#[tokio::test]
async fn readyz_waits_for_every_running_pipelines_connections_and_needs_no_token() {
    let broker = broker_url();
    let dir = tempfile::tempdir().unwrap();
    let yaml = "server:\n  auth_token: secret-token\n";
    let mut server = Server::start_configured(dir.path(), yaml).await;
    server.with_token(None);
    let (status, body) = server.get("/readyz").await;
    assert_eq!((status, &body["ready"]), (200, &json!(true)), "{body}");
    server.with_token(Some("secret-token"));
    let topic = unique_topic("ready");
    assert_eq!(
        server
            .post("/streams", Some(&stream_spec("up", &broker, &topic, false)))
            .await
            .0,
        201
    );
    let unreachable = stream_spec("down", "tcp://127.0.0.1:1", &topic, false);
    assert_eq!(server.post("/streams", Some(&unreachable)).await.0, 201);
    for (id, stream) in [("good", "up"), ("bad", "down")] {
        let sql = format!("SELECT user_id FROM {stream}");
        let pipeline = json!({"id": id, "sql": sql, "sinks": [{"type": "nop"}]});
        assert_eq!(server.post("/pipelines", Some(&pipeline)).await.0, 201);
        assert_eq!(
            server.post(&format!("/pipelines/{id}/start"), None).await.0,
            200
        );
    }
    server.with_token(None);
    wait_until("the unreachable source is reported", async || {
        let (status, body) = server.get("/readyz").await;
        status == 503 && body["reasons"].to_string().contains("pipeline 'bad'")
    })
    .await;
    let body = server.get("/readyz").await.1;
    assert!(
        !body["reasons"].to_string().contains("pipeline 'good'"),
        "{body}"
    );
    server.with_token(Some("secret-token"));
    assert_eq!(server.post("/pipelines/bad/stop", None).await.0, 200);
    server.with_token(None);
    wait_until("ready once only reachable pipelines run", async || {
        server.get("/readyz").await.0 == 200
    })
    .await;
}

#[tokio::test]
async fn a_windowed_pipeline_on_a_shared_subscription_is_warned_about() {
    let broker = broker_url();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    let topic = format!("$share/g/{}", unique_topic("shared-window"));
    assert_eq!(
        server
            .post("/streams", Some(&stream_spec("s", &broker, &topic, false)))
            .await
            .0,
        201
    );
    let windowed = json!({"id": "w", "sinks": [{"type": "nop"}],
        "sql": "SELECT count(*) AS n FROM s GROUP BY TUMBLINGWINDOW(ss, 10)"});
    let plain = json!({"id": "f", "sql": "SELECT user_id FROM s", "sinks": [{"type": "nop"}]});
    for pipeline in [windowed, plain] {
        assert_eq!(server.post("/pipelines", Some(&pipeline)).await.0, 201);
        let id = pipeline["id"].as_str().unwrap();
        assert_eq!(
            server.post(&format!("/pipelines/{id}/start"), None).await.0,
            200
        );
    }
    let warned = server.get("/pipelines/w/status").await.1;
    let warning = warned["warnings"][0].as_str().unwrap_or_default();
    assert!(
        warning.contains("each window aggregates only the messages this instance received"),
        "{warned}"
    );
    let plain = server.get("/pipelines/f/status").await.1;
    assert!(plain.get("warnings").is_none(), "{plain}");
}
